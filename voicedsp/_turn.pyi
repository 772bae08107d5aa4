"""Energy VAD and turn detector (C core: csrc/vad.c, csrc/turn.c)."""

from typing import NamedTuple, Optional, Union

from voicedsp._turn_config import TurnDetection

_Pcm = Union[bytes, bytearray, memoryview, "numpy.ndarray"]  # noqa: F821

EVENT_NAMES: tuple[str, ...]

class TurnEvent(NamedTuple):
    """One event. ``type`` is speech_start, speech_end, turn_commit, backchannel, barge_in,
    barge_candidate or barge_rejected; ``t_ms`` the decision time (end of the frame that
    fired, ms from the first sample processed); ``ref_ms`` the moment it refers to (segment
    boundary, end of the last speech frame, or speech onset); ``start_ms`` where a committed
    turn's audio starts (onset minus prefix_padding_ms), else equal to ``ref_ms``. From a
    MediaBridge, a ``barge_in`` also carries ``item_id`` (the response that was cut) and
    ``heard_ms`` (how much of it the caller heard)."""

    type: str
    t_ms: float
    ref_ms: float
    start_ms: float
    item_id: Optional[str] = None
    heard_ms: float = 0.0

class Vad:
    """Energy voice-activity detector (band-limited, adaptive noise floor, hysteresis).

    Parameters
    ----------
    sample_rate_hz : int
        8000, 16000, 24000 or 48000 (else UnsupportedRateError).
    frame_ms : int
        10, 20 or 30 (else FrameSizeError).
    threshold_db : float
        Onset: dB above the noise floor, 0 < x <= 40. Default 3.
    release_db : float
        Hold: dB above the floor (two-frame average), 0 <= x <= threshold_db. Default 1.

    One object per stream; not shared between threads. ``process`` is O(frame), no
    allocation, and does not release the GIL (a frame costs less than the switch).
    """

    frame_samples: int
    sample_rate_hz: int
    frame_ms: int
    def __init__(self, sample_rate_hz: int = 8000, frame_ms: int = 20,
                 threshold_db: float = 3.0, release_db: float = 1.0) -> None: ...
    def process(self, frame: _Pcm) -> bool:
        """True if the frame (exactly ``frame_samples`` int16 samples, bytes-like or numpy
        int16) is speech. Raises FrameSizeError / InvalidTypeError on bad input (state kept)."""
    def reset(self) -> None:
        """Forget the learnt noise floor and filter history."""
    @property
    def noise_floor_db(self) -> tuple[float, float]:
        """Noise floor of band A (~300-2500 Hz) and B (~1-3.8 kHz), dB re full scale."""
    @property
    def latency(self) -> int:
        """Samples of delay added: 0 (decisions are per frame, as it arrives)."""

class TurnDetector:
    """Turn detector for one call leg: caller VAD with echo-aware gating, end of turn,
    backchannels, barge-in (hold and confirm), mic guard.

    Parameters
    ----------
    sample_rate_hz : int
        8000, 16000, 24000 or 48000.
    frame_ms : int
        10, 20 or 30; every ``process`` call takes exactly one frame.
    turn_detection : TurnDetection, optional
        The knobs (defaults: ClutchCall SDK semantics).

    Call ``process(uplink, downlink)`` once per frame, in real time order, with the
    downlink frame being played to the caller at that moment (None while the agent is
    silent). Decisions are causal: an event fires at the end of the frame that decided it.
    Not thread-safe per object; objects are independent.
    """

    frame_samples: int
    sample_rate_hz: int
    frame_ms: int
    turn_detection: TurnDetection
    def __init__(self, sample_rate_hz: int = 8000, frame_ms: int = 20,
                 turn_detection: Optional[TurnDetection] = None) -> None: ...
    def process(self, uplink: _Pcm, downlink: Optional[_Pcm] = None) -> tuple[TurnEvent, ...]:
        """Feed one frame; returns the events that fired (usually the empty tuple ``()``).

        Raises FrameSizeError (wrong length, or downlink length != uplink length),
        InvalidTypeError (not int16 PCM), InvalidArgumentError (odd byte count); the
        detector's state is unchanged after an error."""
    def reset(self) -> None:
        """Forget all state; time restarts at 0 ms. The knobs stay."""
    def inspect(self) -> dict:
        """{'vad': bool, 'agent_audible': bool, 'echo_delay_ms': float | None,
        'echo_gain_db': float} for plots and logs."""
    @property
    def latency(self) -> int:
        """Samples of delay added: 0."""
