# cython: boundscheck=False, wraparound=False, cdivision=True
"""Opus encoder and decoder over libopus (see _opus.pyi for the API docs).

The per-frame paths are written for the cost floor: a ``bytes`` argument is read in place (no
buffer-protocol acquisition), the output is allocated once at its exact size (the packet
header says how many samples it holds), and libopus runs with the GIL released.
"""

from collections import namedtuple
from operator import index

from cpython.buffer cimport Py_buffer, PyBuffer_Release
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from libc.stdint cimport int16_t, uint8_t, uintptr_t
from libc.string cimport memcpy

from voicedsp._cdefs cimport (VDSP_OPUS_APP_AUDIO, VDSP_OPUS_APP_RESTRICTED_LOWDELAY,
                              VDSP_OPUS_APP_VOIP, VDSP_OPUS_AUTO, VDSP_OPUS_BITRATE,
                              VDSP_OPUS_BITRATE_MAX, VDSP_OPUS_COMPLEXITY, VDSP_OPUS_DTX,
                              VDSP_OPUS_INBAND_FEC, VDSP_OPUS_MAX_PACKET_BYTES,
                              VDSP_OPUS_PACKET_LOSS_PERC, VDSP_OPUS_VBR, vdsp_opus_decoder,
                              vdsp_opus_decoder_conceal, vdsp_opus_decoder_create,
                              vdsp_opus_decoder_decode, vdsp_opus_decoder_decode_fec,
                              vdsp_opus_decoder_destroy, vdsp_opus_decoder_last_packet_samples,
                              vdsp_opus_decoder_packet_samples, vdsp_opus_decoder_reset,
                              vdsp_opus_encoder, vdsp_opus_encoder_create,
                              vdsp_opus_encoder_destroy, vdsp_opus_encoder_encode,
                              vdsp_opus_encoder_get, vdsp_opus_encoder_latency,
                              vdsp_opus_encoder_reset, vdsp_opus_encoder_set,
                              vdsp_opus_frame_samples_ok, vdsp_opus_packet_info,
                              vdsp_opus_packet_inspect, vdsp_opus_rate_ok, vdsp_opus_version)
from voicedsp._common cimport acquire_bytes, acquire_out, acquire_pcm16, check, new_output

from voicedsp.errors import (FrameSizeError, InvalidArgumentError, InvalidTypeError,
                             StateError, UnsupportedRateError)

RATES = (8000, 12000, 16000, 24000, 48000)
APPLICATIONS = {"voip": VDSP_OPUS_APP_VOIP, "audio": VDSP_OPUS_APP_AUDIO,
                "restricted_lowdelay": VDSP_OPUS_APP_RESTRICTED_LOWDELAY}
_APP_NAMES = {v: k for k, v in APPLICATIONS.items()}
_FRAME_MS = (2.5, 5, 10, 20, 40, 60, 80, 100, 120)
_BANDWIDTHS = {4000: "narrowband", 6000: "mediumband", 8000: "wideband",
               12000: "superwideband", 20000: "fullband"}
_MODES = {0: "silk", 1: "hybrid", 2: "celt"}

OpusPacketInfo = namedtuple(
    "OpusPacketInfo",
    "n_frames samples_per_frame n_samples duration_ms channels bandwidth bandwidth_hz mode "
    "has_fec")
OpusPacketInfo.__doc__ = """What an Opus packet's header says (see :func:`opus_packet_info`)."""


def opus_version():
    """The linked libopus's version string, e.g. ``"libopus 1.3.1"``."""
    return vdsp_opus_version().decode()


# ---- argument checks with messages that name the legal values --------------------------------

cdef int _check_rate(int sample_rate_hz) except -1:
    if not vdsp_opus_rate_ok(sample_rate_hz):
        raise UnsupportedRateError(
            f"sample_rate_hz: {sample_rate_hz} Hz is not an Opus rate; legal: "
            + ", ".join(map(str, RATES)))
    return 0


cdef int _check_channels(int channels) except -1:
    if channels != 1 and channels != 2:
        raise InvalidArgumentError(f"channels: {channels} is not supported; Opus takes 1 or 2")
    return 0


cdef str _legal_frames(int rate):
    return ", ".join(f"{int(rate * ms) // 1000} ({ms:g} ms)" for ms in _FRAME_MS)


cdef int _bad_pcm_length(Py_ssize_t n_values, int channels, int rate) except -1:
    if n_values % channels:
        raise FrameSizeError(f"pcm: {n_values} int16 values is not a whole number of "
                             f"{channels}-channel samples")
    n = n_values // channels
    raise FrameSizeError(f"pcm: {n} samples per channel is not an Opus frame at {rate} Hz; "
                         f"legal (samples per channel): {_legal_frames(rate)}")


cdef int _check_conceal_samples(int n_samples, int rate) except -1:
    cdef int unit = rate // 400
    if n_samples <= 0 or n_samples % unit or n_samples > 48 * unit:
        raise FrameSizeError(
            f"n_samples: {n_samples} is not a multiple of 2.5 ms ({unit} samples at {rate} Hz) "
            f"between {unit} and {48 * unit} (120 ms)")
    return 0


cdef int _raise_packet(int status, Py_ssize_t size, str context) except -1:
    if size == 0:
        where = f"{context}: empty packet (0 bytes); for a lost packet call decode(None)"
    else:
        where = f"{context}: {size}-byte packet"
    check(status, where)
    return 0


cdef inline bint _aligned(const void *p) noexcept nogil:
    return (<uintptr_t>p & 1) == 0


# ---- encoder ----------------------------------------------------------------------------------

cdef class OpusEncoder:
    """Opus encoder: int16 PCM frames in, one packet per frame out.

    Parameters
    ----------
    sample_rate_hz : int
        8000, 12000, 16000, 24000 or 48000.
    channels : int
        1 or 2 (stereo PCM is interleaved).
    application : {"voip", "audio", "restricted_lowdelay"}
        What libopus optimises for: speech, general audio, or CELT-only lowest delay.
    bitrate, complexity, vbr, inband_fec, packet_loss_perc, dtx
        Initial controls (see the properties); None keeps libopus's default.

    Raises
    ------
    UnsupportedRateError, InvalidArgumentError
        With the legal values in the message.

    Notes
    -----
    One encoder per stream; distinct encoders may run on distinct threads at once (encode
    releases the GIL). Using one encoder from two threads at the same time raises
    ``StateError`` instead of corrupting it.
    """

    cdef vdsp_opus_encoder *_enc
    cdef readonly int sample_rate_hz
    cdef readonly int channels
    cdef int _application
    cdef bint _busy
    cdef uint8_t _packet[VDSP_OPUS_MAX_PACKET_BYTES]

    def __cinit__(self, int sample_rate_hz, int channels=1, *, str application="voip",
                  bitrate=None, complexity=None, vbr=None, inband_fec=None,
                  packet_loss_perc=None, dtx=None):
        _check_rate(sample_rate_hz)
        _check_channels(channels)
        if application not in APPLICATIONS:
            raise InvalidArgumentError(f"application: {application!r} is not one of "
                                       + ", ".join(map(repr, APPLICATIONS)))
        self._application = APPLICATIONS[application]
        check(vdsp_opus_encoder_create(sample_rate_hz, channels, self._application, &self._enc),
              "OpusEncoder")
        self.sample_rate_hz = sample_rate_hz
        self.channels = channels
        if bitrate is not None:
            self.bitrate = bitrate
        if complexity is not None:
            self.complexity = complexity
        if vbr is not None:
            self.vbr = vbr
        if inband_fec is not None:
            self.inband_fec = inband_fec
        if packet_loss_perc is not None:
            self.packet_loss_perc = packet_loss_perc
        if dtx is not None:
            self.dtx = dtx

    def __dealloc__(self):
        vdsp_opus_encoder_destroy(self._enc)

    def __repr__(self):
        return (f"OpusEncoder({self.sample_rate_hz}, {self.channels}, "
                f"application={self.application!r}, bitrate={self.bitrate}, "
                f"complexity={self.complexity})")

    cdef int _enter(self) except -1:
        if self._busy:
            raise StateError("OpusEncoder is in use by another thread; use one encoder per "
                             "thread (each is independent)")
        self._busy = True
        return 0

    def encode(self, pcm, *, max_packet_bytes=None):
        """Encode one frame.

        Parameters
        ----------
        pcm : bytes-like or numpy.ndarray of int16
            ``n * channels`` samples, interleaved, where n (samples per channel) is a legal
            Opus frame: 2.5, 5, 10, 20, 40, 60, 80, 100 or 120 ms at ``sample_rate_hz``.
        max_packet_bytes : int, optional
            Cap on the packet size, 3..7656 (default 7656: no cap in practice).

        Returns
        -------
        bytes
            The packet (1-2 bytes with DTX on means "nothing to send").

        Raises
        ------
        FrameSizeError
            pcm is not a legal frame (the message lists the legal sample counts).
        InvalidTypeError, InvalidArgumentError
            Wrong dtype, non-contiguous array, bad max_packet_bytes.
        """
        cdef Py_buffer view
        cdef const char *data
        cdef Py_ssize_t size
        if type(pcm) is bytes:
            data = PyBytes_AS_STRING(pcm)
            size = PyBytes_GET_SIZE(pcm)
            if size & 1:
                raise FrameSizeError(f"pcm: {size} bytes is an odd byte count; 16-bit PCM "
                                     "needs 2 bytes per sample")
            return self._encode(data, size, max_packet_bytes)
        acquire_pcm16(pcm, &view, "pcm")
        try:
            return self._encode(<const char *>view.buf, view.len, max_packet_bytes)
        finally:
            PyBuffer_Release(&view)

    cdef object _encode(self, const char *data, Py_ssize_t size, object max_packet_bytes):
        cdef Py_ssize_t n_values = size >> 1
        cdef int n = <int>(n_values // self.channels)
        cdef int capacity = VDSP_OPUS_MAX_PACKET_BYTES
        cdef int written = 0, status
        cdef void *tmp = NULL
        if n_values % self.channels or n_values > 6 * self.sample_rate_hz or \
                not vdsp_opus_frame_samples_ok(self.sample_rate_hz, n):
            _bad_pcm_length(n_values, self.channels, self.sample_rate_hz)
        if max_packet_bytes is not None:
            if not 3 <= max_packet_bytes <= VDSP_OPUS_MAX_PACKET_BYTES:
                raise InvalidArgumentError(f"max_packet_bytes: {max_packet_bytes} is outside "
                                           f"3..{VDSP_OPUS_MAX_PACKET_BYTES}")
            capacity = max_packet_bytes
        if not _aligned(data):  # a bytes-like slice at an odd offset: int16 needs alignment
            tmp = PyMem_Malloc(size)
            if tmp == NULL:
                raise MemoryError()
            memcpy(tmp, data, size)
            data = <const char *>tmp
        self._enter()
        with nogil:
            status = vdsp_opus_encoder_encode(self._enc, <const int16_t *>data, n,
                                              self._packet, capacity, &written)
        self._busy = False
        PyMem_Free(tmp)
        if status < 0:
            check(status, f"OpusEncoder.encode ({n} samples, max_packet_bytes {capacity})")
        return PyBytes_FromStringAndSize(<char *>self._packet, written)

    def reset(self):
        """Return to the freshly created state (a new stream), keeping the controls."""
        self._enter()
        status = vdsp_opus_encoder_reset(self._enc)
        self._busy = False
        check(status, "OpusEncoder.reset")

    @property
    def application(self):
        """``"voip"``, ``"audio"`` or ``"restricted_lowdelay"`` (fixed at creation)."""
        return _APP_NAMES[self._application]

    @property
    def latency(self):
        """Algorithmic delay in samples per channel: 6.5 ms (2.5 ms for restricted_lowdelay).

        The decoded signal lags the encoder's input by this much; the decoder adds none.
        """
        return vdsp_opus_encoder_latency(self._enc)

    cdef int _get(self, int control):
        cdef int value = 0
        check(vdsp_opus_encoder_get(self._enc, control, &value), "OpusEncoder")
        return value

    cdef int _set(self, int control, object value, str name, str legal) except -1:
        try:
            value = index(value)
        except TypeError:
            raise InvalidTypeError(f"{name}: expected an int ({legal}), got "
                                   f"{type(value).__name__}") from None
        if value < -2**31 or value >= 2**31 or \
                vdsp_opus_encoder_set(self._enc, control, value) < 0:
            raise InvalidArgumentError(f"{name}: {value!r} is outside {legal}")
        return 0

    @property
    def bitrate(self):
        """Target bitrate in bit/s. Set an int 500..512000, ``"auto"`` or ``"max"``; reads
        back the value in effect (libopus caps it at 300000 per channel)."""
        return self._get(VDSP_OPUS_BITRATE)

    @bitrate.setter
    def bitrate(self, value):
        if value == "auto":
            value = VDSP_OPUS_AUTO
        elif value == "max":
            value = VDSP_OPUS_BITRATE_MAX
        elif isinstance(value, int) and value < 0:
            value = 0    # a negative number is an error here, not one of libopus's magic values
        self._set(VDSP_OPUS_BITRATE, value, "bitrate",
                  "500..512000 bit/s, 'auto' or 'max'")

    @property
    def complexity(self):
        """CPU/quality trade-off, 0..10 (libopus's default: 9 in 1.3, 10 before)."""
        return self._get(VDSP_OPUS_COMPLEXITY)

    @complexity.setter
    def complexity(self, value):
        self._set(VDSP_OPUS_COMPLEXITY, value, "complexity", "0..10")

    @property
    def vbr(self):
        """True for variable bitrate (the default), False for constant bitrate."""
        return bool(self._get(VDSP_OPUS_VBR))

    @vbr.setter
    def vbr(self, value):
        self._set(VDSP_OPUS_VBR, _flag(value, "vbr"), "vbr", "True or False")

    @property
    def inband_fec(self):
        """Carry a low-rate copy of the previous frame (SILK and hybrid modes) so that a
        decoder can recover one lost packet from the next: ``decode(next, fec=True)``.
        Takes effect only with ``packet_loss_perc`` > 0."""
        return bool(self._get(VDSP_OPUS_INBAND_FEC))

    @inband_fec.setter
    def inband_fec(self, value):
        self._set(VDSP_OPUS_INBAND_FEC, _flag(value, "inband_fec"), "inband_fec",
                  "True or False")

    @property
    def packet_loss_perc(self):
        """Expected packet loss in percent, 0..100: how much bitrate FEC may spend."""
        return self._get(VDSP_OPUS_PACKET_LOSS_PERC)

    @packet_loss_perc.setter
    def packet_loss_perc(self, value):
        self._set(VDSP_OPUS_PACKET_LOSS_PERC, value, "packet_loss_perc", "0..100")

    @property
    def dtx(self):
        """Discontinuous transmission: in silence, emit 1-2 byte packets (not to be sent)."""
        return bool(self._get(VDSP_OPUS_DTX))

    @dtx.setter
    def dtx(self, value):
        self._set(VDSP_OPUS_DTX, _flag(value, "dtx"), "dtx", "True or False")


cdef int _flag(object value, str name) except -1:
    if value is True or value is False or (isinstance(value, int) and value in (0, 1)):
        return 1 if value else 0
    raise InvalidTypeError(f"{name}: expected True or False, got {value!r}")


# ---- decoder ----------------------------------------------------------------------------------

cdef class OpusDecoder:
    """Opus decoder: packets in, int16 PCM out, with loss concealment and in-band FEC.

    Parameters
    ----------
    sample_rate_hz : int
        Output rate, 8000, 12000, 16000, 24000 or 48000 (any packet decodes at any rate).
    channels : int
        Output channels, 1 or 2 (any packet decodes to either).

    Notes
    -----
    Output size follows the packet: a 20 ms packet gives ``sample_rate_hz // 50`` samples
    per channel, a 60 ms one three times that; ``packet_samples`` tells before decoding.
    A refused packet (``CorruptPacketError``) leaves the decoder exactly as it was. Opus
    carries no checksum, so garbage with valid framing decodes to noise without an error.
    Thread-safety as for :class:`OpusEncoder`.
    """

    cdef vdsp_opus_decoder *_dec
    cdef readonly int sample_rate_hz
    cdef readonly int channels
    cdef bint _busy

    def __cinit__(self, int sample_rate_hz, int channels=1):
        _check_rate(sample_rate_hz)
        _check_channels(channels)
        check(vdsp_opus_decoder_create(sample_rate_hz, channels, &self._dec), "OpusDecoder")
        self.sample_rate_hz = sample_rate_hz
        self.channels = channels

    def __dealloc__(self):
        vdsp_opus_decoder_destroy(self._dec)

    def __repr__(self):
        return f"OpusDecoder({self.sample_rate_hz}, {self.channels})"

    cdef int _enter(self) except -1:
        if self._busy:
            raise StateError("OpusDecoder is in use by another thread; use one decoder per "
                             "thread (each is independent)")
        self._busy = True
        return 0

    def decode(self, packet, out=None, *, bint fec=False, n_samples=None,
               bint as_numpy=False):
        """Decode one packet, conceal a lost one, or recover a lost one from FEC.

        Parameters
        ----------
        packet : bytes-like or None
            An Opus packet; ``None`` for a lost packet (same as :meth:`conceal`).
        out : writable buffer, optional
            Receives the PCM (int16 array or bytes-like with room for it); the call then
            returns the number of samples per channel written.
        fec : bool
            Do not decode ``packet`` itself: recover the packet lost just BEFORE it from the
            FEC data it carries (falls back to concealment if it has none). Decode
            ``packet`` normally afterwards.
        n_samples : int, optional
            With ``fec`` or ``packet=None``: the lost packet's duration in samples per
            channel (a multiple of 2.5 ms); default the packet's / the last packet's.
        as_numpy : bool
            Return a numpy int16 array instead of bytes.

        Returns
        -------
        bytes or numpy.ndarray or int
            Interleaved native-endian int16 PCM, ``n * channels`` values; or, with
            ``out``, n, the samples per channel written.

        Raises
        ------
        CorruptPacketError
            Empty, truncated or malformed packet (also a ValueError); nothing is consumed.
        BufferTooSmallError
            ``out`` is too small; nothing is consumed.
        """
        cdef Py_buffer view
        if type(packet) is bytes:
            return self._decode(<const uint8_t *>PyBytes_AS_STRING(packet),
                                PyBytes_GET_SIZE(packet), out, fec, n_samples, as_numpy)
        if packet is None:
            if fec:
                raise InvalidArgumentError("decode(None, fec=True): FEC needs the packet "
                                           "that followed the lost one")
            return self.conceal(n_samples, out, as_numpy=as_numpy)
        acquire_bytes(packet, &view, "packet")
        try:
            return self._decode(<const uint8_t *>view.buf, view.len, out, fec, n_samples,
                                as_numpy)
        finally:
            PyBuffer_Release(&view)

    cdef object _decode(self, const uint8_t *data, Py_ssize_t size, object out, bint fec,
                        object n_samples, bint as_numpy):
        cdef int need = 0, got = 0, status
        cdef char *buf
        cdef Py_buffer dst
        status = vdsp_opus_decoder_packet_samples(self._dec, data, size, &need)
        if status < 0:
            _raise_packet(status, size, "OpusDecoder.decode")
        if fec:
            if n_samples is not None:
                need = n_samples
                _check_conceal_samples(need, self.sample_rate_hz)
        elif n_samples is not None and n_samples != need:
            raise InvalidArgumentError(f"n_samples: {n_samples} given, but the packet holds "
                                       f"{need}; n_samples is for fec=True or a lost packet")
        if out is None:
            result = new_output(need * self.channels, 2, as_numpy, &buf)
        else:
            if as_numpy:
                raise InvalidArgumentError("pass either out= or as_numpy=True, not both")
            acquire_out(out, &dst, need * self.channels, 2, "out")
            buf = <char *>dst.buf
            result = need
        try:
            if not _aligned(buf):
                return self._decode_unaligned(data, size, fec, need, buf)
            self._enter()
            with nogil:
                if fec:
                    status = vdsp_opus_decoder_decode_fec(self._dec, data, size, need,
                                                          <int16_t *>buf)
                    got = need
                else:
                    status = vdsp_opus_decoder_decode(self._dec, data, size, <int16_t *>buf,
                                                      need, &got)
            self._busy = False
        finally:
            if out is not None:
                PyBuffer_Release(&dst)
        if status < 0:
            _raise_packet(status, size, "OpusDecoder.decode")
        return result

    cdef object _decode_unaligned(self, const uint8_t *data, Py_ssize_t size, bint fec,
                                  int need, char *buf):
        # an out= buffer at an odd address: decode into aligned memory, then copy
        cdef int got = 0, status
        cdef Py_ssize_t nbytes = <Py_ssize_t>need * self.channels * 2
        cdef int16_t *tmp = <int16_t *>PyMem_Malloc(nbytes)
        if tmp == NULL:
            raise MemoryError()
        self._enter()
        if fec:
            status = vdsp_opus_decoder_decode_fec(self._dec, data, size, need, tmp)
        else:
            status = vdsp_opus_decoder_decode(self._dec, data, size, tmp, need, &got)
        self._busy = False
        if status >= 0:
            memcpy(buf, tmp, nbytes)
        PyMem_Free(tmp)
        if status < 0:
            _raise_packet(status, size, "OpusDecoder.decode")
        return need

    def conceal(self, n_samples=None, out=None, *, bint as_numpy=False):
        """Synthesise audio for one lost packet (packet loss concealment).

        Parameters
        ----------
        n_samples : int, optional
            Samples per channel to produce: the lost packet's duration, a multiple of
            2.5 ms up to 120 ms. Default: the last packet's duration (20 ms before any).
        out, as_numpy
            As for :meth:`decode`.

        Returns
        -------
        bytes or numpy.ndarray or int
            As for :meth:`decode`.
        """
        cdef int n, status
        cdef char *buf
        cdef Py_buffer dst
        cdef int16_t *tmp = NULL
        if n_samples is None:
            n = vdsp_opus_decoder_last_packet_samples(self._dec)
            if n <= 0:
                n = self.sample_rate_hz // 50
        else:
            n = n_samples
        _check_conceal_samples(n, self.sample_rate_hz)
        if out is None:
            result = new_output(n * self.channels, 2, as_numpy, &buf)
        else:
            if as_numpy:
                raise InvalidArgumentError("pass either out= or as_numpy=True, not both")
            acquire_out(out, &dst, n * self.channels, 2, "out")
            buf = <char *>dst.buf
            result = n
        try:
            if not _aligned(buf):
                tmp = <int16_t *>PyMem_Malloc(n * self.channels * 2)
                if tmp == NULL:
                    raise MemoryError()
            self._enter()
            with nogil:
                status = vdsp_opus_decoder_conceal(self._dec, n,
                                                   tmp if tmp != NULL else <int16_t *>buf)
            self._busy = False
            if tmp != NULL and status >= 0:
                memcpy(buf, tmp, n * self.channels * 2)
        finally:
            PyMem_Free(tmp)
            if out is not None:
                PyBuffer_Release(&dst)
        check(status, "OpusDecoder.conceal")
        return result

    def packet_samples(self, packet):
        """Samples per channel that decoding ``packet`` gives, from its header alone.

        Raises ``CorruptPacketError`` for an empty packet or an impossible header.
        """
        cdef Py_buffer view
        cdef int n = 0, status
        acquire_bytes(packet, &view, "packet")
        try:
            status = vdsp_opus_decoder_packet_samples(self._dec, <const uint8_t *>view.buf,
                                                      view.len, &n)
        finally:
            PyBuffer_Release(&view)
        if status < 0:
            _raise_packet(status, view.len, "OpusDecoder.packet_samples")
        return n

    @property
    def last_packet_samples(self):
        """Duration of the last packet decoded or concealed, in samples per channel."""
        return vdsp_opus_decoder_last_packet_samples(self._dec)

    @property
    def latency(self):
        """0: the decoder adds no delay (the codec's delay is the encoder's latency)."""
        return 0

    def reset(self):
        """Return to the freshly created state (a new stream)."""
        self._enter()
        status = vdsp_opus_decoder_reset(self._dec)
        self._busy = False
        check(status, "OpusDecoder.reset")


def opus_packet_info(packet, int sample_rate_hz=48000):
    """Read a packet's header and framing without decoding it.

    Parameters
    ----------
    packet : bytes-like
    sample_rate_hz : int
        The rate at which ``samples_per_frame`` and ``n_samples`` are counted.

    Returns
    -------
    OpusPacketInfo
        ``n_frames`` (1..48), ``samples_per_frame`` and ``n_samples`` (per channel),
        ``duration_ms``, ``channels`` coded in the packet (1 or 2), ``bandwidth``
        ("narrowband", "mediumband", "wideband", "superwideband", "fullband") and
        ``bandwidth_hz`` (4000..20000, the audio band's upper edge), ``mode``
        ("silk", "hybrid" or "celt"), ``has_fec``: whether the packet carries in-band FEC
        for the packet before it (so ``decode(packet, fec=True)`` can recover that one).

    Raises
    ------
    CorruptPacketError
        The framing is invalid (the whole framing is checked: a packet this accepts is one
        :meth:`OpusDecoder.decode` accepts).
    """
    cdef Py_buffer view
    cdef vdsp_opus_packet_info info
    cdef int status
    _check_rate(sample_rate_hz)
    acquire_bytes(packet, &view, "packet")
    try:
        status = vdsp_opus_packet_inspect(<const uint8_t *>view.buf, view.len, sample_rate_hz,
                                          &info)
    finally:
        PyBuffer_Release(&view)
    if status < 0:
        _raise_packet(status, view.len, "opus_packet_info")
    return OpusPacketInfo(info.n_frames, info.samples_per_frame, info.n_samples,
                          info.n_samples * 1000.0 / sample_rate_hz, info.channels,
                          _BANDWIDTHS[info.bandwidth_hz], info.bandwidth_hz,
                          _MODES[info.mode], bool(info.has_fec))
