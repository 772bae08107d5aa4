# cython: boundscheck=False, wraparound=False
"""Streaming polyphase FIR resampler over the C core (see _resample.pyi for the API docs)."""

import math
from cpython.buffer cimport (PyBUF_RECORDS, PyBUF_RECORDS_RO, Py_buffer, PyBuffer_Release,
                             PyObject_GetBuffer)
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from libc.stdint cimport int16_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy

from voicedsp._cdefs cimport (VDSP_ERR_NO_MEMORY, VDSP_RESAMPLE_ALIAS_FREE,
                              VDSP_RESAMPLE_PRECISION_FULL, VDSP_RESAMPLE_PRECISION_Q15,
                              vdsp_resample_design, vdsp_resample_design_create,
                              vdsp_resample_design_destroy, vdsp_resampler_create_from_design,
                              VDSP_RESAMPLE_MAX_CALL, VDSP_RESAMPLE_MAX_CHANNELS,
                              VDSP_RESAMPLE_TELEPHONY, vdsp_resampler, vdsp_resampler_create,
                              vdsp_resampler_destroy, vdsp_resampler_flush_f32,
                              vdsp_resampler_flush_i16, vdsp_resampler_flush_output,
                              vdsp_resampler_latency, vdsp_resampler_max_output,
                              vdsp_resampler_process_f32, vdsp_resampler_process_i16,
                              vdsp_resampler_rate_supported, vdsp_resampler_reset,
                              vdsp_resampler_taps)
from voicedsp._common cimport acquire_f32, acquire_out, acquire_pcm16, check, is_native

from voicedsp.errors import (BufferTooSmallError, InvalidArgumentError, InvalidTypeError,
                             StateError, UnsupportedRateError)

SUPPORTED_RATES_HZ = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)
QUALITIES = ("telephony", "alias_free")

# Below this many input frames, releasing and re-taking the GIL costs more than the work.
DEF GIL_RELEASE_FRAMES = 4096

cdef object _numpy = None


cdef object _np_empty = None
cdef object _np_int16 = None
cdef object _np_float32 = None


cdef int _load_numpy() except -1:
    global _numpy, _np_empty, _np_int16, _np_float32
    try:
        import numpy
    except ImportError:
        raise ImportError("numpy output needs numpy: pip install voicedsp[numpy]") from None
    _numpy = numpy
    _np_empty = numpy.empty
    _np_int16 = numpy.dtype(numpy.int16)
    _np_float32 = numpy.dtype(numpy.float32)
    return 0


cdef int _check_rate(int rate, str name) except -1:
    if not vdsp_resampler_rate_supported(rate):
        raise UnsupportedRateError(
            f"{name}={rate} Hz is not supported; supported rates (Hz): "
            + ", ".join(str(r) for r in SUPPORTED_RATES_HZ))
    return 0


cdef int _quality_code(object quality) except -1:
    if quality == "telephony":
        return VDSP_RESAMPLE_TELEPHONY
    if quality == "alias_free":
        return VDSP_RESAMPLE_ALIAS_FREE
    raise InvalidArgumentError(f"quality must be 'telephony' or 'alias_free', got {quality!r}")


cdef bint _dtype_is_f32(object dtype) except -1:
    name = dtype if isinstance(dtype, str) else getattr(dtype, "name",
                                                         getattr(dtype, "__name__", None))
    if name == "int16":
        return False
    if name == "float32":
        return True
    raise InvalidArgumentError(f"dtype must be 'int16' or 'float32', got {dtype!r}")


cdef object _aligned_copy(Py_buffer *view, Py_ssize_t align):
    """None if view's data is aligned for its samples, else an aligned bytes copy of it (a
    memoryview sliced at an odd byte offset is not; C requires aligned int16/float access)."""
    if (<size_t>view.buf) % <size_t>align == 0:
        return None
    return PyBytes_FromStringAndSize(<const char *>view.buf, view.len)


cdef int _check_out_aligned(Py_buffer *view, Py_ssize_t align) except -1:
    if (<size_t>view.buf) % <size_t>align:
        PyBuffer_Release(view)
        raise InvalidArgumentError(f"out: buffer is not {align}-byte aligned for its samples")
    return 0


cdef object _new_array(Py_ssize_t n_items, bint f32, char **data):
    """A new numpy int16 / float32 array of n_items; *data gets its storage. (numpy.empty with
    a cached dtype, positional: ~90 ns less per call than a keyword and attribute lookups.)"""
    cdef Py_buffer view
    if _np_empty is None:
        _load_numpy()
    result = _np_empty(n_items, _np_float32 if f32 else _np_int16)
    PyObject_GetBuffer(result, &view, PyBUF_RECORDS)
    data[0] = <char *>view.buf
    PyBuffer_Release(&view)
    return result


cdef inline object _new_out(Py_ssize_t n_items, bint f32, bint numpy_out, char **data):
    if f32 or numpy_out:
        return _new_array(n_items, f32, data)
    result = PyBytes_FromStringAndSize(NULL, n_items * 2)
    data[0] = PyBytes_AS_STRING(result)
    return result


cdef int _acquire_out_samples(object out, Py_buffer *dst, Py_ssize_t n, bint f32) except -1:
    """A caller's `out=` buffer for n samples (float32 or int16), aligned for them."""
    if f32:
        acquire_f32(out, dst, "out", True)
        if dst.len < n * 4:
            have = dst.len // 4
            PyBuffer_Release(dst)
            raise BufferTooSmallError(f"out: needs {n} samples, has {have}")
    else:
        acquire_out(out, dst, n, 2, "out")
    _check_out_aligned(dst, 4 if f32 else 2)
    return 0


cdef int _precision_code(object precision) except -1:
    if precision == "full":
        return VDSP_RESAMPLE_PRECISION_FULL
    if precision == "q15":
        return VDSP_RESAMPLE_PRECISION_Q15
    raise InvalidArgumentError(f"precision must be 'full' or 'q15', got {precision!r}")


cdef class Resampler:
    """Resampler(in_rate_hz, out_rate_hz, *, quality='alias_free', dtype='int16', channels=1, precision='full')

    Streaming sample-rate converter for one audio stream (polyphase FIR, C core).

    Parameters
    ----------
    in_rate_hz, out_rate_hz : int
        Sample rates in Hz, each one of ``SUPPORTED_RATES_HZ``; others raise
        UnsupportedRateError.
    quality : {'telephony', 'alias_free'}
        Both: +-0.1 dB to 0.85 x the lower Nyquist frequency, images/aliases <= -90 dB.
        'alias_free' (default) stops from Nyquist (nothing aliases); minimum phase, so its
        group delay is ``latency`` at 1/8 of the lower rate and rises towards the pass-band
        edge (<= 1.8 ms for 8 kHz conversions). 'telephony' stops from 1.15 x Nyquist,
        linear phase (delay exactly ``latency``, <= 1.875 ms), half the taps.
    dtype : {'int16', 'float32'}
        int16: bytes-like or int16 arrays in, same kind out; float32: float32 arrays.
    channels : int
        1..16 interleaved channels.
    precision : {'full', 'q15'}
        Coefficients of the integer path (int16 calls of integer ratios such as 8<->16,
        24->8 kHz on x86-64 with AVX2). 'full' (default): two int16 per tap, the float
        filter within 0.02 LSB. 'q15': one int16 per tap, half the multiplies; images and
        aliases rise to about -76 dBc and outputs move by up to a few LSB (3 on speech, an
        error 78 dB under the signal). Meant for G.711 legs, whose own quantization noise is
        about -37 dB relative to the signal (the MediaBridge uses it on G.711 calls). Float
        calls are unaffected.

    Notes
    -----
    After N input frames, exactly floor(N * out / in) frames have come out (a 10/20 ms chunk
    never returns nothing); output frame j is the input at time j - latency (see quality); output does not
    depend on how the input is split. One object must not be used from two threads at once.
    """

    cdef vdsp_resampler *_r
    cdef vdsp_resample_design *_d   # the design _r reads (precision='q15'), destroyed after it
    cdef readonly str precision
    cdef readonly int in_rate_hz
    cdef readonly int out_rate_hz
    cdef readonly int channels
    cdef readonly str quality
    cdef bint _f32
    cdef bint _busy
    cdef bint _last_numpy
    cdef bint _last_2d

    def __cinit__(self, int in_rate_hz, int out_rate_hz, *, quality="alias_free",
                  dtype="int16", int channels=1, precision="full"):
        _check_rate(in_rate_hz, "in_rate_hz")
        _check_rate(out_rate_hz, "out_rate_hz")
        cdef int q = _quality_code(quality)
        self._f32 = _dtype_is_f32(dtype)
        if channels < 1 or channels > VDSP_RESAMPLE_MAX_CHANNELS:
            raise InvalidArgumentError(f"channels must be 1..{VDSP_RESAMPLE_MAX_CHANNELS}, "
                                       f"got {channels}")
        cdef int prec = _precision_code(precision)
        if prec == VDSP_RESAMPLE_PRECISION_FULL:
            check(vdsp_resampler_create(&self._r, in_rate_hz, out_rate_hz, q, channels),
                  "Resampler")
        else:
            check(vdsp_resample_design_create(&self._d, in_rate_hz, out_rate_hz, q, prec),
                  "Resampler")
            check(vdsp_resampler_create_from_design(&self._r, self._d, channels, 0),
                  "Resampler")
        self.precision = precision
        self.in_rate_hz = in_rate_hz
        self.out_rate_hz = out_rate_hz
        self.channels = channels
        self.quality = quality
        self._last_numpy = self._f32

    def __dealloc__(self):
        vdsp_resampler_destroy(self._r)
        vdsp_resample_design_destroy(self._d)

    @property
    def dtype(self):
        """``'int16'`` or ``'float32'``: the sample type of input and output."""
        return "float32" if self._f32 else "int16"

    @property
    def latency(self):
        """Delay of the output behind the input, in output frames (the filter's group delay)."""
        return vdsp_resampler_latency(self._r)

    @property
    def latency_ms(self):
        """The same delay in milliseconds."""
        return 1000.0 * vdsp_resampler_latency(self._r) / self.out_rate_hz

    @property
    def taps(self):
        """Filter taps per output frame and channel (the cost of one output sample)."""
        return vdsp_resampler_taps(self._r)

    def max_output(self, Py_ssize_t n_in):
        """Exact number of frames the next ``process`` call with ``n_in`` frames returns."""
        if n_in < 0:
            raise InvalidArgumentError(f"n_in must be >= 0, got {n_in}")
        return vdsp_resampler_max_output(self._r, <size_t>n_in)

    @property
    def pending(self):
        """Exact number of frames the next ``flush`` returns."""
        return vdsp_resampler_flush_output(self._r)

    def __repr__(self):
        return (f"Resampler({self.in_rate_hz}, {self.out_rate_hz}, quality={self.quality!r}, "
                f"dtype={self.dtype!r}, channels={self.channels})")

    cdef int _enter(self) except -1:
        if self._busy:
            raise StateError("Resampler: used from two threads at once; give each thread "
                             "its own Resampler")
        self._busy = True
        return 0

    def process(self, pcm, out=None):
        """Resample one chunk of whole frames (0 allowed).

        Parameters
        ----------
        pcm : bytes-like or numpy array
            int16 PCM (bytes-like or int16 array) or, for dtype='float32', a float32 array.
        out : writable buffer, optional
            Room for ``max_output(frames)`` frames; the call then returns the frame count.

        Returns
        -------
        bytes or numpy.ndarray
            The frames this input completes: floor((N + n) * out / in) - floor(N * out / in).
            bytes-like in gives bytes, an array gives an array.
        """
        cdef Py_buffer src, dst
        cdef char *data = NULL
        cdef size_t n_out = 0, cap
        cdef int st
        cdef Py_ssize_t n_samples, n, C = self.channels
        cdef bint numpy_out, two_d
        cdef const char *inp
        cdef object keep = None
        self._enter()
        try:
            if self._f32:
                acquire_f32(pcm, &src, "pcm", False)
                n_samples = src.len >> 2
            else:
                acquire_pcm16(pcm, &src, "pcm")
                n_samples = src.len >> 1
            try:
                if n_samples % C:
                    raise InvalidArgumentError(
                        f"pcm: {n_samples} samples is not a whole number of "
                        f"{C}-channel frames")
                n = n_samples // C
                if <size_t>n > VDSP_RESAMPLE_MAX_CALL:
                    raise InvalidArgumentError(f"pcm: {n} frames is more than one call takes")
                keep = _aligned_copy(&src, 4 if self._f32 else 2)
                inp = <const char *>src.buf if keep is None else PyBytes_AS_STRING(keep)
                cap = vdsp_resampler_max_output(self._r, <size_t>n)
                numpy_out = self._f32 or src.itemsize != 1
                two_d = src.ndim == 2
                if out is None:
                    result = _new_out(<Py_ssize_t>cap * C, self._f32, numpy_out, &data)
                else:
                    _acquire_out_samples(out, &dst, <Py_ssize_t>cap * C, self._f32)
                    data = <char *>dst.buf
                    result = cap
                try:
                    if self._f32:
                        if n >= GIL_RELEASE_FRAMES:
                            with nogil:
                                st = vdsp_resampler_process_f32(
                                    self._r, <const float *>inp, n, <float *>data, cap,
                                    &n_out)
                        else:
                            st = vdsp_resampler_process_f32(
                                self._r, <const float *>inp, n, <float *>data, cap, &n_out)
                    else:
                        if n >= GIL_RELEASE_FRAMES:
                            with nogil:
                                st = vdsp_resampler_process_i16(
                                    self._r, <const int16_t *>inp, n, <int16_t *>data, cap,
                                    &n_out)
                        else:
                            st = vdsp_resampler_process_i16(
                                self._r, <const int16_t *>inp, n, <int16_t *>data, cap,
                                &n_out)
                finally:
                    if out is not None:
                        PyBuffer_Release(&dst)
                check(st, "Resampler.process")
            finally:
                PyBuffer_Release(&src)
        finally:
            self._busy = False
        if out is None:
            self._last_numpy = numpy_out
            self._last_2d = two_d and numpy_out
            if self._last_2d:
                result = result.reshape(-1, C)
        return result

    def flush(self, out=None, *, as_numpy=None):
        """End the stream: return the ``pending`` frames still in the filter (as if silence
        followed), then reset. Same output kind as the last ``process`` input unless
        ``as_numpy`` is given.

        Returns
        -------
        bytes or numpy.ndarray
            ``latency`` frames, plus one if the input ended between two output samples.
        """
        cdef Py_buffer dst
        cdef char *data = NULL
        cdef size_t n_out = 0, cap
        cdef int st
        cdef Py_ssize_t C = self.channels
        cdef bint numpy_out = self._last_numpy if as_numpy is None else bool(as_numpy)
        if self._f32 and as_numpy is not None and not as_numpy:
            raise InvalidArgumentError("a float32 Resampler returns numpy arrays only")
        self._enter()
        try:
            cap = vdsp_resampler_flush_output(self._r)
            if out is None:
                result = _new_out(<Py_ssize_t>cap * C, self._f32, numpy_out, &data)
            else:
                _acquire_out_samples(out, &dst, <Py_ssize_t>cap * C, self._f32)
                data = <char *>dst.buf
                result = cap
            try:
                if self._f32:
                    st = vdsp_resampler_flush_f32(self._r, <float *>data, cap, &n_out)
                else:
                    st = vdsp_resampler_flush_i16(self._r, <int16_t *>data, cap, &n_out)
            finally:
                if out is not None:
                    PyBuffer_Release(&dst)
            check(st, "Resampler.flush")
        finally:
            self._busy = False
        if out is None and numpy_out and self._last_2d:
            result = result.reshape(-1, C)
        return result

    def reset(self):
        """Forget all input, without output: back to the state right after construction."""
        self._enter()
        vdsp_resampler_reset(self._r)
        self._busy = False


cdef int _proc(vdsp_resampler *r, bint f32, const char *inp, size_t n, char *out, size_t cap,
               size_t *got) noexcept nogil:
    if f32:
        return vdsp_resampler_process_f32(r, <const float *>inp, n, <float *>out, cap, got)
    return vdsp_resampler_process_i16(r, <const int16_t *>inp, n, <int16_t *>out, cap, got)


cdef int _flush(vdsp_resampler *r, bint f32, char *out, size_t cap, size_t *got) noexcept nogil:
    if f32:
        return vdsp_resampler_flush_f32(r, <float *>out, cap, got)
    return vdsp_resampler_flush_i16(r, <int16_t *>out, cap, got)


def resample(pcm, int in_rate_hz, int out_rate_hz, *, quality="alias_free", int channels=1):
    """Resample a whole signal at once, filter delay removed.

    Parameters
    ----------
    pcm : bytes-like, int16 array or float32 array
        The signal; its sample type sets the output's.
    in_rate_hz, out_rate_hz, quality, channels
        As for Resampler.

    Returns
    -------
    bytes or numpy.ndarray
        ceil(n * out / in) frames aligned with the input, same kind as ``pcm``.
    """
    cdef Py_buffer src
    cdef vdsp_resampler *r = NULL
    cdef bint f32
    cdef Py_ssize_t n_samples, n, C = channels, D
    cdef size_t got1 = 0, got2 = 0, got3 = 0, pos = 0, final, n1, tmp_cap, fb, L, M
    cdef int st = 0, q
    cdef char *tmp = NULL
    cdef char *data = NULL
    cdef const char *inp
    cdef object keep = None
    cdef size_t es
    _check_rate(in_rate_hz, "in_rate_hz")
    _check_rate(out_rate_hz, "out_rate_hz")
    q = _quality_code(quality)
    if channels < 1 or channels > VDSP_RESAMPLE_MAX_CHANNELS:
        raise InvalidArgumentError(f"channels must be 1..{VDSP_RESAMPLE_MAX_CHANNELS}, "
                                   f"got {channels}")
    # the dtype comes from the input: float32 arrays stay float32, the rest must be int16 PCM
    try:
        PyObject_GetBuffer(pcm, &src, PyBUF_RECORDS_RO)
        f32 = is_native(&src, b'f', 4)
        PyBuffer_Release(&src)
    except (TypeError, BufferError):
        f32 = False
    if f32:
        acquire_f32(pcm, &src, "pcm", False)
        es = 4
    else:
        acquire_pcm16(pcm, &src, "pcm")
        es = 2
    try:
        n_samples = src.len // es
        if n_samples % C:
            raise InvalidArgumentError(f"pcm: {n_samples} samples is not a whole number of "
                                       f"{C}-channel frames")
        n = n_samples // C
        if <size_t>n > VDSP_RESAMPLE_MAX_CALL:
            raise InvalidArgumentError(f"pcm: {n} frames is too long")
        keep = _aligned_copy(&src, es)
        inp = <const char *>src.buf if keep is None else PyBytes_AS_STRING(keep)
        check(vdsp_resampler_create(&r, in_rate_hz, out_rate_hz, q, channels), "resample")
        D = vdsp_resampler_latency(r)
        g = math.gcd(in_rate_hz, out_rate_hz)
        L = out_rate_hz // g
        M = in_rate_hz // g
        final = (<size_t>n * L + M - 1) // M
        fb = <size_t>C * es
        # The first D output frames are the filter filling up. Feed just enough input to pass
        # them into a small buffer, then let everything after go straight into the result.
        n1 = min(<size_t>n, (<size_t>D * M + L - 1) // L)
        tmp_cap = 2 * <size_t>D + L + 4
        tmp = <char *>malloc(tmp_cap * fb)
        if tmp == NULL:
            vdsp_resampler_destroy(r)
            raise MemoryError("resample: cannot allocate a buffer")
        try:
            result = _new_out(<Py_ssize_t>(final * C), f32, src.itemsize != 1, &data)
            with nogil:
                st = _proc(r, f32, inp, n1, tmp, tmp_cap, &got1)
                if st == 0:
                    if got1 >= <size_t>D:
                        pos = got1 - D
                        memcpy(data, tmp + D * fb, pos * fb)
                        st = _proc(r, f32, inp + n1 * fb, n - n1,
                                   data + pos * fb, final - pos, &got2)
                        if st == 0:
                            pos += got2
                            st = _flush(r, f32, data + pos * fb, final - pos, &got3)
                            pos += got3
                    else:
                        st = _flush(r, f32, tmp + got1 * fb, tmp_cap - got1, &got3)
                        pos = got1 + got3 - D
                        memcpy(data, tmp + D * fb, pos * fb)
        finally:
            free(tmp)
            vdsp_resampler_destroy(r)
        check(st, "resample")
        if pos != final:
            raise StateError(f"resample: {pos} frames out, {final} expected (internal error)")
        if src.ndim == 2 and (f32 or src.itemsize != 1):
            result = result.reshape(-1, C)
    finally:
        PyBuffer_Release(&src)
    return result
