# cython: boundscheck=False, wraparound=False
"""ITU-T G.711 mu-law / A-law codecs over the C core (see _g711.pyi for the API docs)."""

from cpython.buffer cimport Py_buffer, PyBuffer_Release
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from libc.stdint cimport int16_t, uint8_t

from voicedsp._cdefs cimport (vdsp_g711_alaw_decode, vdsp_g711_alaw_encode,
                              vdsp_g711_alaw_to_ulaw, vdsp_g711_ulaw_decode,
                              vdsp_g711_ulaw_encode, vdsp_g711_ulaw_encode_audioop,
                              vdsp_g711_ulaw_to_alaw)
from voicedsp._common cimport acquire_bytes, acquire_out, acquire_pcm16, new_output

from voicedsp.errors import InvalidArgumentError

ctypedef void (*encode_fn)(const int16_t *, size_t, uint8_t *) noexcept nogil
ctypedef void (*decode_fn)(const uint8_t *, size_t, int16_t *) noexcept nogil
ctypedef void (*convert_fn)(const uint8_t *, size_t, uint8_t *) noexcept nogil

# Below this many samples, releasing and re-taking the GIL costs more than the work.
DEF GIL_RELEASE_SAMPLES = 4096


cdef enum Kind:
    ENCODE      # int16 PCM -> 1-byte codes
    DECODE      # codes -> int16 PCM
    CONVERT     # codes -> codes


cdef inline void _call(Kind kind, void *fn, const char *src, size_t n, char *dst) noexcept nogil:
    if kind == ENCODE:
        (<encode_fn>fn)(<const int16_t *>src, n, <uint8_t *>dst)
    elif kind == DECODE:
        (<decode_fn>fn)(<const uint8_t *>src, n, <int16_t *>dst)
    else:
        (<convert_fn>fn)(<const uint8_t *>src, n, <uint8_t *>dst)


cdef object _run(Kind kind, void *fn, object src_obj, object out, bint as_numpy):
    """Apply one kernel: acquire and check the input, allocate or check the output, run (without
    the GIL for large inputs). Returns the new output, or the item count written to `out`."""
    cdef Py_buffer src, dst
    cdef char *data
    cdef Py_ssize_t n, nbytes
    cdef int out_size = 2 if kind == DECODE else 1
    if type(src_obj) is bytes and out is None and not as_numpy:
        # the per-frame case (bytes in, bytes out) skips the buffer protocol
        nbytes = PyBytes_GET_SIZE(src_obj)
        n = nbytes >> 1 if kind == ENCODE else nbytes
        if n < GIL_RELEASE_SAMPLES and not (kind == ENCODE and nbytes & 1):
            result = PyBytes_FromStringAndSize(NULL, n * out_size)
            _call(kind, fn, PyBytes_AS_STRING(src_obj), n, PyBytes_AS_STRING(result))
            return result
    if out is not None and as_numpy:
        raise InvalidArgumentError("pass either out= or as_numpy=True, not both")
    if kind == ENCODE:
        acquire_pcm16(src_obj, &src, "pcm")
        n = src.len >> 1
    else:
        acquire_bytes(src_obj, &src, "codes")
        n = src.len
    try:
        if out is None:
            result = new_output(n, out_size, as_numpy, &data)
        else:
            acquire_out(out, &dst, n, out_size, "out")
            data = <char *>dst.buf
            result = n
        if n >= GIL_RELEASE_SAMPLES:
            with nogil:
                _call(kind, fn, <const char *>src.buf, n, data)
        else:
            _call(kind, fn, <const char *>src.buf, n, data)
        if out is not None:
            PyBuffer_Release(&dst)
    finally:
        PyBuffer_Release(&src)
    return result


_PCM_IN = """pcm : bytes-like or numpy.ndarray
        16-bit signed PCM, native byte order: bytes, bytearray, memoryview (format ``B`` of
        even length, or ``h``) or a C-contiguous ``numpy.int16`` array of any shape. Any sample
        rate (the codec is per sample; the phone network uses 8000 Hz)."""

_CODES_IN = """codes : bytes-like
        G.711 codes, one byte per sample (bytes, bytearray, memoryview, numpy uint8...)."""

_OUT = """out : writable buffer, optional
        Write the result here instead of allocating: {what}. It must be C-contiguous and at
        least as large as the result; only the first ``len(result)`` items are written.
    as_numpy : bool, default False
        Return a new numpy array ({dtype}) instead of bytes. Needs numpy."""

_RETURNS = """Returns
    -------
    bytes or numpy.ndarray or int
        The {what} ({size}), or the number of items written when ``out`` is given. Empty
        input gives empty output."""

_RAISES = """Raises
    ------
    InvalidTypeError (TypeError)
        {types}
    InvalidArgumentError (ValueError)
        {values}
    BufferTooSmallError (ValueError)
        ``out`` is smaller than the result.

    Notes
    -----
    Thread-safe; releases the GIL for inputs of 4096 samples or more."""


def _doc(summary, inp, out_what, dtype, ret_what, size, types, values, extra=""):
    return (f"{summary}\n\n    Parameters\n    ----------\n    {inp}\n    "
            + _OUT.format(what=out_what, dtype=dtype) + extra + "\n\n    "
            + _RETURNS.format(what=ret_what, size=size) + "\n\n    "
            + _RAISES.format(types=types, values=values))


_ENC_TYPES = "``pcm`` is not a buffer, or is an array of another dtype (float32, int32, " \
    "big-endian int16...): convert explicitly."
_ENC_VALUES = "``pcm`` has an odd byte count or is not C-contiguous."
_DEC_TYPES = "``codes`` is not a bytes-like buffer of 1-byte items."


def ulaw_encode(pcm, out=None, *, bint as_numpy=False, bint audioop_compatible=False):
    return _run(ENCODE, <void *>(vdsp_g711_ulaw_encode_audioop if audioop_compatible
                                 else vdsp_g711_ulaw_encode), pcm, out, as_numpy)


ulaw_encode.__doc__ = _doc(
    "Encode 16-bit PCM to G.711 mu-law, bit-exact with ITU-T G.711 / G.191.",
    _PCM_IN, "a writable bytes-like buffer", "uint8", "mu-law codes", "one byte per sample",
    _ENC_TYPES, _ENC_VALUES,
    "\n    audioop_compatible : bool, default False\n        Reproduce CPython's "
    "``audioop.lin2ulaw`` instead, which differs from G.711 on\n        508 negative inputs "
    "(it negates where G.711 takes the one's complement). For\n        migrations that must "
    "match old recordings byte for byte.")


def alaw_encode(pcm, out=None, *, bint as_numpy=False):
    return _run(ENCODE, <void *>vdsp_g711_alaw_encode, pcm, out, as_numpy)


alaw_encode.__doc__ = _doc(
    "Encode 16-bit PCM to G.711 A-law (even bits inverted, as transmitted), bit-exact with "
    "ITU-T G.711 / G.191.",
    _PCM_IN, "a writable bytes-like buffer", "uint8", "A-law codes", "one byte per sample",
    _ENC_TYPES, _ENC_VALUES)


def ulaw_decode(codes, out=None, *, bint as_numpy=False):
    return _run(DECODE, <void *>vdsp_g711_ulaw_decode, codes, out, as_numpy)


ulaw_decode.__doc__ = _doc(
    "Decode G.711 mu-law codes to 16-bit PCM (the standard's decoder output values).",
    _CODES_IN, "a writable numpy int16 array or bytes-like buffer of 2 bytes per sample",
    "int16", "PCM samples", "2 bytes per code, native byte order", _DEC_TYPES,
    "``codes`` is not C-contiguous.")


def alaw_decode(codes, out=None, *, bint as_numpy=False):
    return _run(DECODE, <void *>vdsp_g711_alaw_decode, codes, out, as_numpy)


alaw_decode.__doc__ = _doc(
    "Decode G.711 A-law codes to 16-bit PCM (the standard's decoder output values).",
    _CODES_IN, "a writable numpy int16 array or bytes-like buffer of 2 bytes per sample",
    "int16", "PCM samples", "2 bytes per code, native byte order", _DEC_TYPES,
    "``codes`` is not C-contiguous.")


def ulaw_to_alaw(codes, out=None, *, bint as_numpy=False):
    return _run(CONVERT, <void *>vdsp_g711_ulaw_to_alaw, codes, out, as_numpy)


ulaw_to_alaw.__doc__ = _doc(
    "Convert mu-law codes to A-law codes by G.711 Table 3, as trunks between the two laws "
    "do.\n\n    The table differs from ``alaw_encode(ulaw_decode(codes))`` on 44 of the 256 "
    "codes, by one\n    A-law level each time; ``out`` may be ``codes`` itself (in place).",
    _CODES_IN, "a writable bytes-like buffer", "uint8", "A-law codes", "one byte per code",
    _DEC_TYPES, "``codes`` is not C-contiguous.")


def alaw_to_ulaw(codes, out=None, *, bint as_numpy=False):
    return _run(CONVERT, <void *>vdsp_g711_alaw_to_ulaw, codes, out, as_numpy)


alaw_to_ulaw.__doc__ = _doc(
    "Convert A-law codes to mu-law codes by G.711 Table 4, as trunks between the two laws "
    "do.\n\n    The table differs from ``ulaw_encode(alaw_decode(codes))`` on 32 of the 256 "
    "codes, by one\n    mu-law level each time; ``out`` may be ``codes`` itself (in place).",
    _CODES_IN, "a writable bytes-like buffer", "uint8", "mu-law codes", "one byte per code",
    _DEC_TYPES, "``codes`` is not C-contiguous.")
