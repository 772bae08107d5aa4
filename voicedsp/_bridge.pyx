# cython: boundscheck=False, wraparound=False
"""MediaBridge: one call's full-duplex media path in the C core (see _bridge.pyi)."""

import wave

from cpython.buffer cimport Py_buffer, PyBuffer_Release
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from libc.stdint cimport int16_t, uint8_t, uint32_t, uint64_t
from libc.stdlib cimport free, malloc

from voicedsp._cdefs cimport *
from voicedsp._common cimport acquire_bytes, acquire_out, check
from voicedsp._turn cimport fill_turn_config

from voicedsp._resample import SUPPORTED_RATES_HZ
from voicedsp._turn import EVENT_NAMES, TurnEvent
from voicedsp.errors import InvalidArgumentError, InvalidTypeError

CODECS = {"pcm16": VDSP_CODEC_PCM16, "g711_ulaw": VDSP_CODEC_G711_ULAW,
          "g711_alaw": VDSP_CODEC_G711_ALAW, "opus": VDSP_CODEC_OPUS}
cdef tuple NO_EVENTS = ()


cdef int codec_id(str name, str what) except -1:
    try:
        return CODECS[name]
    except KeyError:
        raise InvalidArgumentError(f"{what}: unknown codec {name!r}; expected one of "
                                   f"{', '.join(CODECS)}") from None


cdef class _ResampleDesign:
    """An immutable resampler filter design shared by every bridge of one rate pair."""

    cdef vdsp_resample_design *d

    def __dealloc__(self):
        vdsp_resample_design_destroy(self.d)


# (in rate, out rate, precision) -> _ResampleDesign of the telephony quality the bridge uses. One per
# process: every MediaBridge of a rate pair reads the same tables (in memory and in the caches
# once, not once per call); each bridge keeps a reference to the designs it reads, so a
# design outlives its bridges. Designs are never written after create, so bridges on
# different threads share them safely.
cdef dict _DESIGNS = {}


cdef _ResampleDesign shared_design(int in_rate_hz, int out_rate_hz, int precision):
    """The cached design, or None if the rates are not supported (the bridge then reports)."""
    key = (in_rate_hz, out_rate_hz, precision)
    cdef _ResampleDesign d = _DESIGNS.get(key)
    if d is None:
        d = _ResampleDesign.__new__(_ResampleDesign)
        if vdsp_resample_design_create(&d.d, in_rate_hz, out_rate_hz,
                                       VDSP_RESAMPLE_TELEPHONY, precision) != 0:
            return None
        _DESIGNS[key] = d
    return d


cdef class MediaBridge:
    """One call's media path: caller codec <-> model codec, turn-taking, playout clock."""

    cdef vdsp_bridge *b
    cdef readonly str caller_codec, model_codec
    cdef readonly int caller_rate_hz, model_input_rate_hz, model_output_rate_hz, frame_ms
    cdef readonly bint hold_and_resume
    cdef readonly object turn_detection
    cdef size_t up_cap, down_cap, frame_bytes, frame_samples
    cdef bint fixed_up          # model codec output has a fixed size (not Opus)
    cdef dict _item_ids         # str -> int
    cdef dict _item_names       # int -> str
    cdef dict _marks
    cdef list _taps_up, _taps_down
    cdef object _rec_up, _rec_down
    cdef vdsp_bridge_event ev[VDSP_BRIDGE_MAX_EVENTS]
    cdef _ResampleDesign _up_design, _down_design   # read by the C bridge: kept alive here

    def __cinit__(self, str caller_codec="g711_ulaw", int caller_rate_hz=8000,
                  str model_codec="pcm16", int model_input_rate_hz=16000,
                  int model_output_rate_hz=24000, *, int frame_ms=20, turn_detection=None,
                  bint hold_and_resume=False, int max_queue_ms=120000, int opus_bitrate=-1000,
                  int opus_complexity=5):
        cdef vdsp_bridge_config cfg
        vdsp_bridge_config_default(&cfg)
        cfg.caller_codec = codec_id(caller_codec, "caller_codec")
        cfg.model_codec = codec_id(model_codec, "model_codec")
        cfg.caller_rate_hz = caller_rate_hz
        cfg.model_input_rate_hz = model_input_rate_hz
        cfg.model_output_rate_hz = model_output_rate_hz
        cfg.frame_ms = frame_ms
        self.turn_detection = fill_turn_config(&cfg.turn, turn_detection)
        cfg.hold_and_resume = hold_and_resume
        cfg.max_queue_ms = max_queue_ms
        cfg.opus_bitrate = opus_bitrate
        cfg.opus_complexity = opus_complexity
        cdef int precision = vdsp_bridge_resample_precision(&cfg)
        self._up_design = shared_design(caller_rate_hz, model_input_rate_hz, precision)
        self._down_design = shared_design(model_output_rate_hz, caller_rate_hz, precision)
        if self._up_design is not None and self._down_design is not None:
            cfg.up_design = self._up_design.d
            cfg.down_design = self._down_design.d
        if caller_codec.startswith("g711") and caller_rate_hz != 8000:
            raise InvalidArgumentError(f"caller_rate_hz: G.711 callers are 8000 Hz, got "
                                       f"{caller_rate_hz}")
        check(vdsp_bridge_create(&cfg, &self.b),
              f"MediaBridge({caller_codec} {caller_rate_hz} Hz -> {model_codec} "
              f"{model_input_rate_hz}/{model_output_rate_hz} Hz, frame_ms={frame_ms}); caller "
              "rates 8000/16000/24000/48000, model rates "
              f"{', '.join(map(str, SUPPORTED_RATES_HZ))}, frame_ms 10 or 20 (30 without Opus)")
        self.caller_codec, self.model_codec = caller_codec, model_codec
        self.caller_rate_hz = caller_rate_hz
        self.model_input_rate_hz = model_input_rate_hz
        self.model_output_rate_hz = model_output_rate_hz
        self.frame_ms = frame_ms
        self.hold_and_resume = hold_and_resume
        self.up_cap = vdsp_bridge_uplink_max_bytes(self.b)
        self.down_cap = vdsp_bridge_downlink_max_bytes(self.b)
        self.frame_bytes = vdsp_bridge_caller_frame_bytes(self.b)
        self.frame_samples = vdsp_bridge_caller_frame_samples(self.b)
        self.fixed_up = model_codec != "opus"
        self._item_ids = {}
        self._item_names = {}
        self._marks = {}
        self._taps_up = []
        self._taps_down = []

    def __dealloc__(self):
        vdsp_bridge_destroy(self.b)

    # --- uplink ----------------------------------------------------------------------------

    def uplink(self, frame, out=None):
        """One caller frame in; model audio and turn events out.

        Parameters
        ----------
        frame : bytes-like or None
            Exactly one frame of the caller codec (G.711: ``frame_ms * 8`` bytes; PCM16: 2
            bytes per sample at ``caller_rate_hz``; Opus: one packet of ``frame_ms``). ``None``
            (Opus) marks a lost packet, which is concealed.
        out : writable buffer, optional
            Write the model audio here instead of allocating (at least
            ``uplink_max_bytes``); the first element of the result is then its length.

        Returns
        -------
        (bytes or int, tuple of TurnEvent)
            The frame's audio in the model codec at ``model_input_rate_hz`` (PCM16: exactly
            ``frame_ms`` of samples), and the events that fired (usually none). On
            ``barge_in`` the bridge has already dropped its queued agent audio.

        Raises
        ------
        FrameSizeError (an InvalidArgumentError, a ValueError)
            The frame has the wrong size; it is counted in ``stats['bad_frames']`` and the
            bridge is unchanged. Corrupt Opus packets are concealed and counted instead.
        """
        cdef Py_buffer src, dst
        cdef const uint8_t *p = NULL
        cdef size_t n = 0, got = 0, n_ev = 0
        cdef int st
        cdef uint8_t stack[8192]
        cdef bint have_src = False, have_dst = False
        cdef uint8_t *o
        if frame is None:
            pass
        elif type(frame) is bytes:
            p = <const uint8_t *>PyBytes_AS_STRING(frame)
            n = PyBytes_GET_SIZE(frame)
        else:
            acquire_bytes(frame, &src, "frame")
            have_src = True
            p = <const uint8_t *>src.buf
            n = src.len
        try:
            if out is not None:
                acquire_out(out, &dst, self.up_cap, 1, "out")
                have_dst = True
                o = <uint8_t *>dst.buf
                result = None
            elif self.fixed_up:
                result = PyBytes_FromStringAndSize(NULL, self.up_cap)
                o = <uint8_t *>PyBytes_AS_STRING(result)
            else:
                o = stack
            with nogil:
                st = vdsp_bridge_uplink(self.b, p, n, o, self.up_cap, &got, self.ev,
                                        VDSP_BRIDGE_MAX_EVENTS, &n_ev)
            if st < 0:
                check(st, f"uplink: frame of {n} bytes (expected "
                          f"{self.frame_bytes or 'one Opus packet'} "
                          f"of {self.frame_ms} ms)")
            if have_dst:
                result = got
            elif not self.fixed_up:
                result = PyBytes_FromStringAndSize(<char *>stack, got)
        finally:
            if have_src:
                PyBuffer_Release(&src)
            if have_dst:
                PyBuffer_Release(&dst)
        if self._taps_up or self._rec_up is not None:
            self._run_taps(True)
        if n_ev == 0:
            return result, NO_EVENTS
        return result, self._events(n_ev)

    cdef tuple _events(self, size_t n_ev):
        """The TurnEvents of self.ev[:n_ev] (responses named by their item ids)."""
        out = []
        for i in range(n_ev):
            out.append(TurnEvent(EVENT_NAMES[self.ev[i].type], self.ev[i].t_ms, self.ev[i].ref_ms,
                                 self.ev[i].start_ms, self._name(self.ev[i].item),
                                 self.ev[i].heard_ms))
        return tuple(out)

    # --- downlink --------------------------------------------------------------------------

    cdef uint32_t _item(self, object item_id) except? 0:
        """The id of response ``item_id`` (given one on first use); None: 0, which the core
        reads as the previous push's response, or a new one after a barge-in, clear or
        pre-roll (the core keeps this, so a group push need not touch the bridge)."""
        if item_id is None:
            return 0
        cdef uint32_t item = self._item_ids.get(item_id, 0)
        if item == 0:
            item = vdsp_bridge_new_item(self.b)
            self._item_ids[item_id] = item
            self._item_names[item] = item_id
        return item

    cdef object _name(self, uint32_t item):
        """The name of response id ``item``: the caller's, or ``item-<id>`` for one the core
        started (a push without an id)."""
        if item == 0:
            return None
        name = self._item_names.get(item)
        return name if name is not None else f"item-{item}"

    cdef uint32_t _lookup(self, object item_id):
        """The id of response ``item_id`` (0: unknown), ``item-<id>`` names included."""
        cdef uint32_t item = self._item_ids.get(item_id, 0)
        if item or not isinstance(item_id, str) or not item_id.startswith("item-"):
            return item
        digits = item_id[5:]
        if digits.isdigit() and len(digits) < 10 and int(digits) not in self._item_names:
            return int(digits)
        return 0

    def push_model_audio(self, chunk, item_id=None):
        """Queue model audio for the caller.

        Parameters
        ----------
        chunk : bytes-like
            Model-codec audio at ``model_output_rate_hz``: PCM16 of any even byte count,
            G.711 of any size, or one Opus packet. Bursty and faster than real time is fine.
        item_id : str, optional
            The model's response item this audio belongs to (for ``heard_ms`` and barge-in
            truncation). ``None`` continues the previous push's item, or starts a new one
            named ``item-<n>`` when that one ended (barge-in, ``clear()``, pre-roll).

        Returns
        -------
        float
            Milliseconds of agent audio now queued.

        Raises
        ------
        InvalidArgumentError
            An odd PCM16 byte count. CorruptPacketError: an undecodable Opus packet.
            BufferTooSmallError: the queue (``max_queue_ms``) cannot take the chunk.
            Nothing is queued on error and the bridge stays usable.
        """
        cdef Py_buffer src
        cdef uint32_t item = self._item(item_id)
        cdef int st
        cdef const uint8_t *p
        cdef size_t n
        if type(chunk) is bytes:
            # the common case (a decoded model delta) skips the buffer protocol
            p = <const uint8_t *>PyBytes_AS_STRING(chunk)
            n = PyBytes_GET_SIZE(chunk)
            with nogil:
                st = vdsp_bridge_push_model(self.b, p, n, item)
            if st < 0:
                check(st, f"push_model_audio: {n} bytes of {self.model_codec}")
            return vdsp_bridge_queued_ms(self.b)
        acquire_bytes(chunk, &src, "chunk")
        try:
            with nogil:
                st = vdsp_bridge_push_model(self.b, <const uint8_t *>src.buf, src.len, item)
            check(st, f"push_model_audio: {src.len} bytes of {self.model_codec}")
        finally:
            PyBuffer_Release(&src)
        return vdsp_bridge_queued_ms(self.b)

    def push_preroll(self, clip, str codec="pcm16", int rate_hz=8000, item_id="preroll"):
        """Queue a clip to play to the caller as agent audio (e.g. before the first turn).

        ``clip`` is PCM16 (any supported rate) or G.711 (8000 Hz); the turn detector treats it
        as agent audio, so barge-in and echo gating apply to it.
        """
        cdef Py_buffer src
        cdef uint32_t item = self._item(item_id) or vdsp_bridge_new_item(self.b)
        cdef int st
        if codec == "g711_ulaw" or codec == "g711_alaw":
            from voicedsp import alaw_decode, ulaw_decode
            clip = (ulaw_decode if codec == "g711_ulaw" else alaw_decode)(clip)
        elif codec != "pcm16":
            raise InvalidArgumentError(f"push_preroll: codec must be pcm16, g711_ulaw or "
                                       f"g711_alaw, got {codec!r}")
        acquire_bytes(clip, &src, "clip")
        try:
            if src.len & 1:
                raise InvalidArgumentError(f"push_preroll: {src.len} bytes is an odd byte "
                                           "count for PCM16")
            st = vdsp_bridge_push_clip(self.b, <const int16_t *>src.buf, src.len // 2,
                                       rate_hz, item)
            check(st, f"push_preroll: {src.len // 2} samples at {rate_hz} Hz")
        finally:
            PyBuffer_Release(&src)
        return vdsp_bridge_queued_ms(self.b)

    def downlink(self, out=None):
        """One tick: the next caller-codec frame (comfort silence when nothing is queued).

        Call once per ``frame_ms``; what it returns counts as handed to the caller now and
        becomes the turn detector's far-end reference once it plays.
        """
        cdef Py_buffer dst
        cdef size_t got = 0
        cdef int st
        cdef uint8_t stack[8192]
        cdef uint8_t *o
        if out is not None:
            acquire_out(out, &dst, self.down_cap, 1, "out")
            try:
                with nogil:
                    st = vdsp_bridge_downlink(self.b, <uint8_t *>dst.buf, dst.len, &got)
                check(st, "downlink")
            finally:
                PyBuffer_Release(&dst)
            result = got
        elif self.frame_bytes:
            result = PyBytes_FromStringAndSize(NULL, self.frame_bytes)
            o = <uint8_t *>PyBytes_AS_STRING(result)
            with nogil:
                st = vdsp_bridge_downlink(self.b, o, self.frame_bytes, &got)
            check(st, "downlink")
        else:
            with nogil:
                st = vdsp_bridge_downlink(self.b, stack, 8192, &got)
            check(st, "downlink")
            result = PyBytes_FromStringAndSize(<char *>stack, got)
        if self._taps_down or self._rec_down is not None:
            self._run_taps(False)
        return result

    # --- playout clock ---------------------------------------------------------------------

    def mark(self, name):
        """Tie playout mark ``name`` to the frames handed out so far (send the transport's
        mark, e.g. a Twilio ``mark`` message, right after them)."""
        self._marks[name] = vdsp_bridge_mark(self.b)

    def ack_mark(self, name):
        """The transport reports mark ``name`` played. Returns False for an unknown mark."""
        token = self._marks.pop(name, None)
        if token is None:
            return False
        vdsp_bridge_ack(self.b, token)
        return True

    def clear(self):
        """Drop all queued agent audio; returns the milliseconds dropped."""
        return vdsp_bridge_clear(self.b)

    def heard_ms(self, item_id=None):
        """Milliseconds of response ``item_id`` (default: the one playing) the caller heard."""
        cdef uint32_t item
        if item_id is None:
            item = vdsp_bridge_current_item(self.b)
        else:
            item = self._lookup(item_id)
        return vdsp_bridge_heard_ms(self.b, item) if item else 0.0

    @property
    def current_item_id(self):
        """The response playing now (or last played), or None."""
        return self._name(vdsp_bridge_current_item(self.b))

    @property
    def queued_ms(self):
        return vdsp_bridge_queued_ms(self.b)

    @property
    def paused(self):
        """True while playout is held by a barge candidate (hold_and_resume)."""
        return bool(vdsp_bridge_paused(self.b))

    @property
    def uplink_latency_ms(self):
        """Delay the uplink adds (the resampler's group delay), in ms."""
        return vdsp_bridge_uplink_latency_ms(self.b)

    @property
    def caller_frame_bytes(self):
        """Bytes of one caller frame (0 for Opus, whose packets vary)."""
        return self.frame_bytes

    @property
    def caller_frame_samples(self):
        return self.frame_samples

    @property
    def uplink_max_bytes(self):
        return self.up_cap

    @property
    def stats(self):
        """Counters: frames in/out, bad and concealed frames, pushes, barge-ins, commits..."""
        cdef vdsp_bridge_stats s
        vdsp_bridge_get_stats(self.b, &s)
        return {"frames_in": s.frames_in, "frames_out": s.frames_out,
                "silent_frames": s.silent_frames, "bad_frames": s.bad_frames,
                "concealed": s.concealed, "model_chunks": s.model_chunks,
                "model_rejected": s.model_rejected, "barge_ins": s.barge_ins,
                "commits": s.commits, "backchannels": s.backchannels,
                "rejected_candidates": s.rejected_candidates,
                "dropped_ms": s.dropped_samples * 1000.0 / self.caller_rate_hz}

    def reset(self):
        """Back to a fresh bridge (queue, clocks, detector, items, marks); taps stay."""
        vdsp_bridge_reset(self.b)
        self._item_ids.clear()
        self._item_names.clear()
        self._marks.clear()

    # --- taps ------------------------------------------------------------------------------

    def add_tap(self, callback, direction="uplink"):
        """Call ``callback(pcm16_bytes, rate_hz)`` with each frame of the caller's rate PCM:
        ``direction="uplink"`` (what the caller said) or ``"downlink"`` (what was played)."""
        self._tap_list(direction).append(callback)

    def remove_tap(self, callback, direction="uplink"):
        self._tap_list(direction).remove(callback)

    cdef list _tap_list(self, str direction):
        if direction == "uplink":
            return self._taps_up
        if direction == "downlink":
            return self._taps_down
        raise InvalidArgumentError(f"direction must be 'uplink' or 'downlink', got {direction!r}")

    def record(self, uplink_wav=None, downlink_wav=None):
        """Record the legs to mono 16-bit WAV files at the caller's rate (None stops)."""
        for rec in (self._rec_up, self._rec_down):
            if rec is not None:
                rec.close()
        self._rec_up = self._open_wav(uplink_wav)
        self._rec_down = self._open_wav(downlink_wav)

    cdef object _open_wav(self, path):
        if path is None:
            return None
        w = wave.open(str(path), "wb")
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(self.caller_rate_hz)
        return w

    def close(self):
        """Stop recordings (flushing their files). The bridge itself is freed with the object."""
        self.record(None, None)

    cdef _run_taps(self, bint up):
        cdef size_t n = 0
        cdef const int16_t *pcm = (vdsp_bridge_last_uplink_pcm(self.b, &n) if up
                                   else vdsp_bridge_last_downlink_pcm(self.b, &n))
        data = PyBytes_FromStringAndSize(<const char *>pcm, 2 * n)
        rec = self._rec_up if up else self._rec_down
        if rec is not None:
            rec.writeframesraw(data)
        for cb in (self._taps_up if up else self._taps_down):
            cb(data, self.caller_rate_hz)


cdef class BridgeGroup:
    """Advance many bridges by one frame in one C call (servers that tick all calls together).

    All bridges must share the caller codec and frame size (G.711 or PCM16 callers) and the
    model codec (not Opus), so that every frame has a fixed stride. Taps and recordings are
    not run by group ticks.
    """
    cdef vdsp_bridge **arr
    cdef readonly list bridges
    cdef size_t k, in_stride, model_stride, caller_stride
    cdef size_t *model_bytes
    cdef size_t *caller_bytes
    cdef int *status
    cdef vdsp_bridge_event *events
    cdef uint32_t *event_bridge
    cdef const uint8_t **chunk_ptr
    cdef size_t *chunk_len
    cdef uint32_t *chunk_item
    cdef readonly list errors

    def __cinit__(self, bridges):
        cdef MediaBridge m
        self.bridges = list(bridges)
        self.k = len(self.bridges)
        self.errors = []
        if self.k == 0:
            raise InvalidArgumentError("BridgeGroup needs at least one bridge")
        for obj in self.bridges:
            if not isinstance(obj, MediaBridge):
                raise InvalidTypeError(f"BridgeGroup takes MediaBridge objects, got "
                                       f"{type(obj).__name__}")
        m = self.bridges[0]
        if m.caller_codec == "opus" or m.model_codec == "opus":
            raise InvalidArgumentError("BridgeGroup needs fixed-size frames: no Opus side")
        self.in_stride, self.model_stride = m.frame_bytes, m.up_cap
        self.caller_stride = m.down_cap
        for obj in self.bridges:
            m = obj
            if (m.frame_bytes, m.up_cap, m.down_cap) != (self.in_stride, self.model_stride,
                                                         self.caller_stride):
                raise InvalidArgumentError("BridgeGroup: every bridge must use the same codecs, "
                                           "rates and frame size")
        self.arr = <vdsp_bridge **>malloc(self.k * sizeof(vdsp_bridge *))
        self.model_bytes = <size_t *>malloc(self.k * sizeof(size_t))
        self.caller_bytes = <size_t *>malloc(self.k * sizeof(size_t))
        self.status = <int *>malloc(self.k * sizeof(int))
        self.events = <vdsp_bridge_event *>malloc(self.k * VDSP_BRIDGE_MAX_EVENTS *
                                                  sizeof(vdsp_bridge_event))
        self.event_bridge = <uint32_t *>malloc(self.k * VDSP_BRIDGE_MAX_EVENTS * sizeof(uint32_t))
        self.chunk_ptr = <const uint8_t **>malloc(self.k * sizeof(uint8_t *))
        self.chunk_len = <size_t *>malloc(self.k * sizeof(size_t))
        self.chunk_item = <uint32_t *>malloc(self.k * sizeof(uint32_t))
        if not (self.arr and self.model_bytes and self.caller_bytes and self.status and
                self.events and self.event_bridge and self.chunk_ptr and self.chunk_len and
                self.chunk_item):
            raise MemoryError()
        for i, obj in enumerate(self.bridges):
            m = obj
            self.arr[i] = m.b

    def __dealloc__(self):
        free(self.arr)
        free(self.model_bytes)
        free(self.caller_bytes)
        free(self.status)
        free(self.events)
        free(self.event_bridge)
        free(self.chunk_ptr)
        free(self.chunk_len)
        free(self.chunk_item)

    @property
    def frame_bytes(self):
        """(uplink frame, model frame, caller frame) strides in bytes."""
        return self.in_stride, self.model_stride, self.caller_stride

    def push_model_audio(self, chunks, item_ids=None):
        """Queue model audio for many bridges in one C call without the GIL.

        Parameters
        ----------
        chunks : sequence of bytes or None
            One entry per bridge, as for ``MediaBridge.push_model_audio`` (``None``: nothing
            for that bridge). Entries must be ``bytes``.
        item_ids : sequence of str or None, optional
            The response item of each chunk (``None`` continues the bridge's current one).

        Refused chunks are listed with their exception in ``errors``; the others are queued.
        """
        cdef MediaBridge m
        cdef size_t i
        if <size_t>len(chunks) != self.k:
            raise InvalidArgumentError(f"chunks: {len(chunks)} entries for {self.k} bridges")
        for i in range(self.k):
            c = chunks[i]
            if c is None:
                self.chunk_ptr[i] = NULL
                self.chunk_len[i] = 0
                continue
            if type(c) is not bytes:
                raise InvalidTypeError(f"chunks[{i}]: expected bytes, got {type(c).__name__}")
            if item_ids is None:
                self.chunk_item[i] = 0      # the core continues each bridge's response
            else:
                m = self.bridges[i]
                self.chunk_item[i] = m._item(item_ids[i])
            self.chunk_ptr[i] = <const uint8_t *>PyBytes_AS_STRING(c)
            self.chunk_len[i] = PyBytes_GET_SIZE(c)
        with nogil:
            vdsp_bridge_push_model_group(self.arr, self.k, self.chunk_ptr, self.chunk_len,
                                         self.chunk_item, self.status)
        self._collect_errors("push_model_audio")

    cdef _collect_errors(self, str what):
        if self.errors:
            self.errors = []
        for i in range(self.k):
            if self.status[i] < 0:
                from voicedsp._common import exception_for_status
                self.errors.append((i, exception_for_status(self.status[i], what)))

    def tick(self, uplink, model_out, caller_out):
        """One frame for every bridge, in one C call without the GIL.

        Parameters
        ----------
        uplink : bytes-like
            ``len(bridges)`` caller frames back to back (``frame_bytes[0]`` each).
        model_out, caller_out : writable buffers
            Receive ``len(bridges)`` model-audio frames and caller frames back to back.

        Returns
        -------
        list of (int, TurnEvent)
            Events with the index of their bridge (usually empty). Bridges whose frame was
            refused are listed with their exception in ``errors`` (the others still ran).
        """
        cdef Py_buffer src, mo, co
        cdef size_t n_ev = 0
        cdef int st
        cdef MediaBridge m
        acquire_bytes(uplink, &src, "uplink")
        try:
            if <size_t>src.len != self.k * self.in_stride:
                raise InvalidArgumentError(f"uplink: {src.len} bytes for {self.k} frames of "
                                           f"{self.in_stride} bytes")
            acquire_out(model_out, &mo, self.k * self.model_stride, 1, "model_out")
            try:
                acquire_out(caller_out, &co, self.k * self.caller_stride, 1, "caller_out")
                try:
                    with nogil:
                        st = vdsp_bridge_tick_group(
                            self.arr, self.k, <const uint8_t *>src.buf, self.in_stride, NULL,
                            <uint8_t *>mo.buf, self.model_stride, self.model_bytes,
                            <uint8_t *>co.buf, self.caller_stride, self.caller_bytes,
                            self.events, self.event_bridge, self.k * VDSP_BRIDGE_MAX_EVENTS,
                            &n_ev, self.status)
                    check(st, "BridgeGroup.tick")
                finally:
                    PyBuffer_Release(&co)
            finally:
                PyBuffer_Release(&mo)
        finally:
            PyBuffer_Release(&src)
        self._collect_errors("tick")
        if n_ev == 0:
            return []
        out = []
        for j in range(n_ev):
            m = self.bridges[self.event_bridge[j]]
            m.ev[0] = self.events[j]
            out.append((self.event_bridge[j], m._events(1)[0]))
        return out
