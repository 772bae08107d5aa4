# cython: boundscheck=False, wraparound=False
"""Status checking and buffer acquisition shared by the voicedsp extensions."""

import sys

from cpython.buffer cimport (PyBUF_RECORDS, PyBUF_RECORDS_RO, PyBuffer_IsContiguous,
                             PyBuffer_Release, PyObject_GetBuffer)
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize

from voicedsp._cdefs cimport vdsp_status_message, vdsp_status_name

from voicedsp.errors import (BufferTooSmallError, InvalidArgumentError, InvalidTypeError,
                             error_for_status)

cdef bint LITTLE = sys.byteorder == "little"
cdef object _numpy = None

# struct-module format codes for the dtypes people most often pass by mistake
_FORMAT_NAMES = {
    "b": "int8", "B": "uint8", "h": "int16", "H": "uint16", "i": "int32", "I": "uint32",
    "l": "int64" if sys.maxsize > 2**32 else "int32", "q": "int64", "L": "uint64",
    "Q": "uint64", "e": "float16", "f": "float32", "d": "float64", "?": "bool",
}


cdef int raise_status(int status, str context) except -1:
    cls = error_for_status(status)
    msg = vdsp_status_message(status).decode()
    name = vdsp_status_name(status).decode()
    text = f"{context}: {msg} ({name})" if context else f"{msg} ({name})"
    raise cls(text, status)


cdef str _describe(Py_buffer *view):
    fmt = (<bytes>view.format).decode() if view.format != NULL else "B"
    base = fmt.lstrip("@=<>!")
    dtype = _FORMAT_NAMES.get(base, f"format {fmt!r}")
    if view.itemsize > 1 and (fmt[:1] in "<>!") and ((fmt[0] == "<") != LITTLE):
        dtype = ("little" if fmt[0] == "<" else "big") + "-endian " + dtype
    return f"{dtype} (itemsize {view.itemsize})"


cdef int _get(object obj, Py_buffer *view, int flags, str name, str expected) except -1:
    try:
        PyObject_GetBuffer(obj, view, flags)
    except BufferError:
        raise InvalidTypeError(f"{name}: expected {expected}, got a read-only "
                               f"{type(obj).__name__}") from None
    except TypeError:
        raise InvalidTypeError(f"{name}: expected {expected}, got "
                               f"{type(obj).__name__}") from None
    if not PyBuffer_IsContiguous(view, b'C'):
        PyBuffer_Release(view)
        raise InvalidArgumentError(f"{name}: buffer must be C-contiguous; pass "
                                   "numpy.ascontiguousarray(...) or a copy")
    return 0


cdef bint is_native(Py_buffer *view, char code, Py_ssize_t itemsize):
    """Whether the buffer holds native-endian items of struct format `code` and `itemsize`."""
    if view.itemsize != itemsize or view.format == NULL:
        return False
    cdef const char *f = view.format
    if f[0] == code:
        return f[1] == 0
    if f[0] == b'@' or f[0] == b'=' or (f[0] == b'<' and LITTLE) or \
            ((f[0] == b'>' or f[0] == b'!') and not LITTLE):
        return f[1] == code and f[2] == 0
    return False


cdef int acquire_pcm16(object obj, Py_buffer *view, str name) except -1:
    _get(obj, view, PyBUF_RECORDS_RO, name, "int16 PCM (bytes-like or numpy int16)")
    if view.itemsize == 1:
        if view.len & 1:
            PyBuffer_Release(view)
            raise InvalidArgumentError(f"{name}: {view.len} bytes is an odd byte count; "
                                       "16-bit PCM needs 2 bytes per sample")
        return 0
    if is_native(view, b'h', 2):
        return 0
    actual = _describe(view)
    PyBuffer_Release(view)
    raise InvalidTypeError(f"{name}: expected native-endian int16 PCM or raw bytes, got "
                           f"{actual}; convert explicitly (e.g. .astype(numpy.int16))")


cdef int acquire_f32(object obj, Py_buffer *view, str name, bint writable) except -1:
    what = "a writable float32 array" if writable else "a float32 array"
    _get(obj, view, PyBUF_RECORDS if writable else PyBUF_RECORDS_RO, name, what)
    if is_native(view, b'f', 4):
        return 0
    actual = _describe(view)
    PyBuffer_Release(view)
    raise InvalidTypeError(f"{name}: expected native-endian float32 samples, got {actual}; "
                           "convert explicitly (e.g. .astype(numpy.float32))")


cdef int acquire_bytes(object obj, Py_buffer *view, str name) except -1:
    _get(obj, view, PyBUF_RECORDS_RO, name, "a bytes-like object")
    if view.itemsize != 1:
        actual = _describe(view)
        PyBuffer_Release(view)
        raise InvalidTypeError(f"{name}: expected bytes (itemsize 1), got {actual}")
    return 0


cdef int acquire_out(object out, Py_buffer *view, Py_ssize_t n_items, int itemsize,
                     str name) except -1:
    what = "a writable int16 or bytes-like buffer" if itemsize == 2 else \
        "a writable bytes-like buffer"
    _get(out, view, PyBUF_RECORDS, name, what)
    if view.itemsize != 1 and not (itemsize == 2 and is_native(view, b'h', 2)):
        actual = _describe(view)
        PyBuffer_Release(view)
        raise InvalidTypeError(f"{name}: expected {what}, got {actual}")
    cdef Py_ssize_t need = n_items * itemsize
    if view.len < need:
        have = view.len
        PyBuffer_Release(view)
        raise BufferTooSmallError(f"{name}: needs {need} bytes ({n_items} items), "
                                  f"has {have}")
    return 0


cdef object new_output(Py_ssize_t n_items, int itemsize, bint as_numpy, char **data):
    global _numpy
    cdef Py_buffer view
    if not as_numpy:
        result = PyBytes_FromStringAndSize(NULL, n_items * itemsize)
        data[0] = PyBytes_AS_STRING(result)
        return result
    if _numpy is None:
        try:
            import numpy
        except ImportError:
            raise ImportError("as_numpy=True needs numpy: pip install voicedsp[numpy]") from None
        _numpy = numpy
    result = _numpy.empty(n_items, dtype=_numpy.int16 if itemsize == 2 else _numpy.uint8)
    PyObject_GetBuffer(result, &view, PyBUF_RECORDS)
    data[0] = <char *>view.buf    # the array owns its storage; the view is not needed after
    PyBuffer_Release(&view)
    return result


def exception_for_status(int status, str context=None):
    """The exception the bindings raise for a C status code (returned, not raised).

    Used by the tests to check every status maps to its class and the C core's message.
    """
    try:
        raise_status(status, context)
    except Exception as exc:
        return exc
