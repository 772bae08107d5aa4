# cython: boundscheck=False, wraparound=False, initializedcheck=False
"""Energy VAD and turn detector over the C core (see _turn.pyi for the API docs)."""

from collections import namedtuple

from cpython.buffer cimport Py_buffer, PyBuffer_Release
from libc.stdint cimport int16_t

from voicedsp._cdefs cimport (VDSP_TURN_MAX_EVENTS, vdsp_turn, vdsp_turn_config,
                              vdsp_turn_config_default, vdsp_turn_create, vdsp_turn_destroy,
                              vdsp_turn_event, vdsp_turn_frame_samples, vdsp_turn_inspect,
                              vdsp_turn_process, vdsp_turn_reset, vdsp_vad, vdsp_vad_create,
                              vdsp_vad_destroy, vdsp_vad_frame_samples,
                              vdsp_vad_noise_floor_db, vdsp_vad_process, vdsp_vad_reset)
from voicedsp._common cimport acquire_pcm16, check

from voicedsp._turn_config import TurnDetection
from voicedsp.errors import FrameSizeError, InvalidTypeError

EVENT_NAMES = ("speech_start", "speech_end", "turn_commit", "backchannel", "barge_in",
               "barge_candidate", "barge_rejected")

TurnEvent = namedtuple("TurnEvent", ["type", "t_ms", "ref_ms", "start_ms", "item_id", "heard_ms"],
                       defaults=(None, 0.0))
TurnEvent.__doc__ = """One turn-taking event (TurnDetector.process, MediaBridge.uplink).

type : str
    One of ``speech_start``, ``speech_end``, ``turn_commit``, ``backchannel``, ``barge_in``,
    ``barge_candidate``, ``barge_rejected``.
t_ms : float
    Decision time: the stream position (end of the frame) when it fired, ms from the first
    sample processed.
ref_ms : float
    The moment it refers to: the (back-dated) segment boundary for speech_start/speech_end,
    the end of the last speech frame for turn_commit/backchannel, the speech onset for the
    barge events.
start_ms : float
    For turn_commit/backchannel, where the turn's audio starts (onset minus
    prefix_padding_ms); otherwise equal to ref_ms.
item_id : str or None
    From a MediaBridge, for barge_in: the model response that was cut (else None).
heard_ms : float
    From a MediaBridge, for barge_in: how much of that response the caller heard, for
    ``conversation.item.truncate`` (else 0).
"""

cdef tuple _EMPTY = ()


cdef class Vad:
    def __cinit__(self, int sample_rate_hz=8000, int frame_ms=20, double threshold_db=3.0,
                  double release_db=1.0):
        check(vdsp_vad_create(sample_rate_hz, frame_ms, threshold_db, release_db, &self._vad),
              "Vad")
        self.frame_samples = vdsp_vad_frame_samples(sample_rate_hz, frame_ms)
        self.sample_rate_hz = sample_rate_hz
        self.frame_ms = frame_ms

    def __dealloc__(self):
        vdsp_vad_destroy(self._vad)

    def process(self, frame):
        cdef Py_buffer view
        cdef int r
        acquire_pcm16(frame, &view, "frame")
        r = vdsp_vad_process(self._vad, <const int16_t *>view.buf, <size_t>(view.len >> 1))
        PyBuffer_Release(&view)
        if r < 0:
            _frame_error(r, view.len >> 1, self.frame_samples, "Vad.process")
        return r == 1

    def reset(self):
        vdsp_vad_reset(self._vad)

    @property
    def noise_floor_db(self):
        cdef double out[2]
        check(vdsp_vad_noise_floor_db(self._vad, out), "Vad.noise_floor_db")
        return (out[0], out[1])

    @property
    def latency(self):
        return 0


cdef int _frame_error(int status, Py_ssize_t got, Py_ssize_t want, str ctx) except -1:
    if got != want:
        raise FrameSizeError(f"{ctx}: expected a frame of {want} samples, got {got}", status)
    check(status, ctx)
    return 0


cdef object fill_turn_config(vdsp_turn_config *cfg, object turn_detection):
    """Fill `cfg` from a TurnDetection (None: the defaults); returns the TurnDetection used."""
    if turn_detection is None:
        turn_detection = TurnDetection()
    elif not isinstance(turn_detection, TurnDetection):
        raise InvalidTypeError("turn_detection: expected a voicedsp.TurnDetection, got "
                               f"{type(turn_detection).__name__}")
    vdsp_turn_config_default(cfg)
    cfg.silence_threshold_ms = turn_detection.silence_threshold_ms
    cfg.response_min_speech_ms = turn_detection.response_min_speech_ms
    cfg.commit_min_interval_ms = turn_detection.commit_min_interval_ms
    cfg.barge_confirm_ms = turn_detection.barge_confirm_ms
    cfg.instant_barge = turn_detection.instant_barge
    cfg.mic_guard_ms = turn_detection.mic_guard_ms
    cfg.prefix_padding_ms = turn_detection.prefix_padding_ms
    cfg.vad_threshold_db = turn_detection.vad_threshold_db
    cfg.vad_release_db = turn_detection.vad_release_db
    cfg.echo_gating = turn_detection.echo_gating
    cfg.echo_max_delay_ms = turn_detection.echo_max_delay_ms
    return turn_detection


cdef class TurnDetector:
    def __cinit__(self, int sample_rate_hz=8000, int frame_ms=20, turn_detection=None):
        cdef vdsp_turn_config cfg
        turn_detection = fill_turn_config(&cfg, turn_detection)
        check(vdsp_turn_create(sample_rate_hz, frame_ms, &cfg, &self._turn), "TurnDetector")
        self.frame_samples = vdsp_turn_frame_samples(self._turn)
        self.sample_rate_hz = sample_rate_hz
        self.frame_ms = frame_ms
        self.turn_detection = turn_detection
        self._ms_per_sample = 1000.0 / sample_rate_hz

    def __dealloc__(self):
        vdsp_turn_destroy(self._turn)

    def process(self, uplink, downlink=None):
        cdef Py_buffer up, down
        cdef vdsp_turn_event ev[VDSP_TURN_MAX_EVENTS]
        cdef const int16_t *dptr = NULL
        cdef Py_ssize_t n
        cdef int r
        acquire_pcm16(uplink, &up, "uplink")
        n = up.len >> 1
        if downlink is not None:
            try:
                acquire_pcm16(downlink, &down, "downlink")
            except BaseException:
                PyBuffer_Release(&up)
                raise
            if (down.len >> 1) != n:
                PyBuffer_Release(&up)
                PyBuffer_Release(&down)
                raise FrameSizeError(f"TurnDetector.process: downlink has {down.len >> 1} "
                                     f"samples, uplink {n}; pass equal frames")
            dptr = <const int16_t *>down.buf
        r = vdsp_turn_process(self._turn, <const int16_t *>up.buf, dptr, <size_t>n, ev,
                              VDSP_TURN_MAX_EVENTS)
        PyBuffer_Release(&up)
        if dptr != NULL:
            PyBuffer_Release(&down)
        if r == 0:
            return _EMPTY
        if r < 0:
            _frame_error(r, n, self.frame_samples, "TurnDetector.process")
        return self._events(ev, r)

    cdef tuple _events(self, vdsp_turn_event *ev, int count):
        cdef double k = self._ms_per_sample
        cdef int i
        out = []
        for i in range(count):
            out.append(TurnEvent(EVENT_NAMES[ev[i].type], ev[i].t_samples * k,
                                 ev[i].ref_samples * k, ev[i].start_samples * k))
        return tuple(out)

    def reset(self):
        vdsp_turn_reset(self._turn)

    def inspect(self):
        cdef int raw = 0, audible = 0
        cdef double delay = 0.0, gain = 0.0
        check(vdsp_turn_inspect(self._turn, &raw, &audible, &delay, &gain),
              "TurnDetector.inspect")
        return {"vad": bool(raw), "agent_audible": bool(audible),
                "echo_delay_ms": delay if delay >= 0 else None, "echo_gain_db": gain}

    @property
    def latency(self):
        return 0
