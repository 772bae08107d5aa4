"""``TurnDetection``: the turn-taking knobs (ClutchCall SDK semantics), validated."""

from __future__ import annotations

import dataclasses
import warnings

from voicedsp.errors import InvalidArgumentError, InvalidTypeError

__all__ = ["TurnDetection"]

# (name, low, high) for the integer millisecond knobs; the C core checks the same ranges.
_MS_RANGES = {
    "silence_threshold_ms": (0, 10000),
    "response_min_speech_ms": (0, 10000),
    "commit_min_interval_ms": (0, 60000),
    "barge_confirm_ms": (0, 5000),
    "mic_guard_ms": (0, 5000),
    "prefix_padding_ms": (0, 2000),
    "echo_max_delay_ms": (0, 600),
}

#: Below this silence threshold a turn commits on pauses between words.
MIN_SAFE_SILENCE_MS = 300


@dataclasses.dataclass(frozen=True)
class TurnDetection:
    """Turn-detection knobs for :class:`voicedsp.TurnDetector` (immutable, validated).

    Parameters
    ----------
    silence_threshold_ms : int, default 500
        Trailing silence, measured from the end of the last speech frame, that ends the
        caller's turn. Values under 300 are accepted with a ``UserWarning`` (they commit on
        pauses between words).
    response_min_speech_ms : int, default 600
        A turn with less speech than this is a backchannel ("mhm"): reported as
        ``backchannel``, never committed. A turn that confirmed a ``barge_in`` needs 4/5 of
        it (480 ms by default): speech held over the agent for ``barge_confirm_ms`` already
        showed a real turn, and on a no-AEC leg the echo estimate hides part of it.
    commit_min_interval_ms : int, default 1500
        Minimum time between two ``turn_commit`` events; a turn that ends sooner commits
        once the interval has passed.
    barge_confirm_ms : int, default 300
        Caller speech that starts while the agent is audible must last this long before
        ``barge_in`` fires; a shorter burst gives ``barge_rejected`` (the agent keeps the
        floor). Always ``barge_candidate`` first, so a bridge can pause (hold) playback.
    instant_barge : bool, default False
        Fire ``barge_in`` on the first speech frame. For echo-cancelled (browser/WebRTC)
        legs, where the uplink carries no echo of the agent.
    mic_guard_ms : int, default 0
        For this long after the agent's audio stops, uplink energy is not read as speech.
        A blunt fallback for no-AEC legs when echo gating is off or the downlink reference is
        not time-aligned with playout.
    prefix_padding_ms : int, default 300
        Audio before the detected onset that belongs to the turn; reported on
        ``turn_commit`` / ``backchannel`` events as ``start_ms``.
    vad_threshold_db : float, default 3.0
        VAD onset: dB above the adaptive noise floor (plus the echo estimate). Higher is
        less sensitive. 0 < x <= 40.
    vad_release_db : float, default 1.0
        VAD hold: a two-frame average this many dB above the floor keeps speech on
        (hysteresis). 0 <= x <= ``vad_threshold_db``.
    echo_gating : bool, default True
        Use the downlink as an echo reference: estimate the echo delay and loss online and
        do not count uplink energy the agent's own audio explains. Safe whenever the
        downlink frames passed to ``process`` are the ones being played at that moment;
        harmless on echo-cancelled legs (the learnt echo gain falls to the noise level).
    echo_max_delay_ms : int, default 300
        Longest echo delay searched (round trip from playout to microphone).

    Raises
    ------
    InvalidTypeError
        A knob of the wrong type (e.g. a string, or a float for a millisecond knob).
    InvalidArgumentError
        A value out of range (negative times, thresholds out of range).
    """

    silence_threshold_ms: int = 500
    response_min_speech_ms: int = 600
    commit_min_interval_ms: int = 1500
    barge_confirm_ms: int = 300
    instant_barge: bool = False
    mic_guard_ms: int = 0
    prefix_padding_ms: int = 300
    vad_threshold_db: float = 3.0
    vad_release_db: float = 1.0
    echo_gating: bool = True
    echo_max_delay_ms: int = 300

    def __post_init__(self) -> None:
        for name, (lo, hi) in _MS_RANGES.items():
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int):
                raise InvalidTypeError(f"{name}: expected an int (milliseconds), got "
                                       f"{type(v).__name__} {v!r}")
            if not lo <= v <= hi:
                raise InvalidArgumentError(f"{name}: {v} ms is out of range [{lo}, {hi}]")
        for name in ("instant_barge", "echo_gating"):
            v = getattr(self, name)
            if not isinstance(v, bool):
                raise InvalidTypeError(f"{name}: expected a bool, got {type(v).__name__} {v!r}")
        for name in ("vad_threshold_db", "vad_release_db"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise InvalidTypeError(f"{name}: expected a number (dB), got "
                                       f"{type(v).__name__} {v!r}")
            if v != v:
                raise InvalidArgumentError(f"{name}: NaN is not a threshold")
        if not 0.0 < self.vad_threshold_db <= 40.0:
            raise InvalidArgumentError(f"vad_threshold_db: {self.vad_threshold_db} dB is out "
                                       "of range (0, 40]")
        if not 0.0 <= self.vad_release_db <= self.vad_threshold_db:
            raise InvalidArgumentError(f"vad_release_db: {self.vad_release_db} dB must lie in "
                                       f"[0, vad_threshold_db={self.vad_threshold_db}]")
        if self.silence_threshold_ms < MIN_SAFE_SILENCE_MS:
            warnings.warn(f"silence_threshold_ms={self.silence_threshold_ms} is under "
                          f"{MIN_SAFE_SILENCE_MS} ms: turns will commit on pauses between "
                          "words", UserWarning, stacklevel=3)

    def replace(self, **changes) -> TurnDetection:
        """A copy with some knobs changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict:
        """The knobs as a plain dict (e.g. for JSON)."""
        return dataclasses.asdict(self)
