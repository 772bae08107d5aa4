# cython: boundscheck=False, wraparound=False
"""ITU-T G.711 mu-law / A-law codecs over the C core (see _g711.pyi for the API docs)."""

from cpython.buffer cimport Py_buffer, PyBuffer_Release
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


cdef inline int _no_both(object out, bint as_numpy) except -1:
    if out is not None and as_numpy:
        raise InvalidArgumentError("pass either out= or as_numpy=True, not both")
    return 0


cdef object _encode(encode_fn fn, object pcm, object out, bint as_numpy):
    cdef Py_buffer src, dst
    cdef char *data
    _no_both(out, as_numpy)
    acquire_pcm16(pcm, &src, "pcm")
    cdef Py_ssize_t n = src.len >> 1
    try:
        if out is None:
            result = new_output(n, 1, as_numpy, &data)
        else:
            acquire_out(out, &dst, n, 1, "out")
            data = <char *>dst.buf
            result = n
        if n >= GIL_RELEASE_SAMPLES:
            with nogil:
                fn(<const int16_t *>src.buf, n, <uint8_t *>data)
        else:
            fn(<const int16_t *>src.buf, n, <uint8_t *>data)
        if out is not None:
            PyBuffer_Release(&dst)
    finally:
        PyBuffer_Release(&src)
    return result


cdef object _decode(decode_fn fn, object codes, object out, bint as_numpy):
    cdef Py_buffer src, dst
    cdef char *data
    _no_both(out, as_numpy)
    acquire_bytes(codes, &src, "codes")
    cdef Py_ssize_t n = src.len
    try:
        if out is None:
            result = new_output(n, 2, as_numpy, &data)
        else:
            acquire_out(out, &dst, n, 2, "out")
            data = <char *>dst.buf
            result = n
        if n >= GIL_RELEASE_SAMPLES:
            with nogil:
                fn(<const uint8_t *>src.buf, n, <int16_t *>data)
        else:
            fn(<const uint8_t *>src.buf, n, <int16_t *>data)
        if out is not None:
            PyBuffer_Release(&dst)
    finally:
        PyBuffer_Release(&src)
    return result


cdef object _convert(convert_fn fn, object codes, object out, bint as_numpy):
    cdef Py_buffer src, dst
    cdef char *data
    _no_both(out, as_numpy)
    acquire_bytes(codes, &src, "codes")
    cdef Py_ssize_t n = src.len
    try:
        if out is None:
            result = new_output(n, 1, as_numpy, &data)
        else:
            acquire_out(out, &dst, n, 1, "out")
            data = <char *>dst.buf
            result = n
        if n >= GIL_RELEASE_SAMPLES:
            with nogil:
                fn(<const uint8_t *>src.buf, n, <uint8_t *>data)
        else:
            fn(<const uint8_t *>src.buf, n, <uint8_t *>data)
        if out is not None:
            PyBuffer_Release(&dst)
    finally:
        PyBuffer_Release(&src)
    return result


def ulaw_encode(pcm, out=None, *, bint as_numpy=False, bint audioop_compatible=False):
    return _encode(vdsp_g711_ulaw_encode_audioop if audioop_compatible
                   else vdsp_g711_ulaw_encode, pcm, out, as_numpy)


def alaw_encode(pcm, out=None, *, bint as_numpy=False):
    return _encode(vdsp_g711_alaw_encode, pcm, out, as_numpy)


def ulaw_decode(codes, out=None, *, bint as_numpy=False):
    return _decode(vdsp_g711_ulaw_decode, codes, out, as_numpy)


def alaw_decode(codes, out=None, *, bint as_numpy=False):
    return _decode(vdsp_g711_alaw_decode, codes, out, as_numpy)


def ulaw_to_alaw(codes, out=None, *, bint as_numpy=False):
    return _convert(vdsp_g711_ulaw_to_alaw, codes, out, as_numpy)


def alaw_to_ulaw(codes, out=None, *, bint as_numpy=False):
    return _convert(vdsp_g711_alaw_to_ulaw, codes, out, as_numpy)
