"""Agent specs and platform errors (shared by the embedded platform, the server and clients)."""

from __future__ import annotations

import dataclasses
from typing import Any, Optional

from voicedsp.platform._media import turn_detection_dict, turn_detection_from

__all__ = ["AgentSpec", "PlatformError", "NotFoundError", "AuthError", "ForbiddenError",
           "CapacityError", "ConflictError", "BadRequestError", "clamp_ring_timeout"]

_MODEL_CODECS = ("pcm16", "g711_ulaw", "g711_alaw", "opus")


class PlatformError(Exception):
    """Base of platform errors; ``code`` is the tRPC-style code, ``http_status`` its status."""

    code = "INTERNAL_SERVER_ERROR"
    http_status = 500


class BadRequestError(PlatformError, ValueError):
    code, http_status = "BAD_REQUEST", 400


class AuthError(PlatformError, PermissionError):
    code, http_status = "UNAUTHORIZED", 401


class ForbiddenError(PlatformError, PermissionError):
    code, http_status = "FORBIDDEN", 403


class NotFoundError(PlatformError, LookupError):
    code, http_status = "NOT_FOUND", 404


class ConflictError(PlatformError):
    code, http_status = "CONFLICT", 409


class CapacityError(PlatformError):
    code, http_status = "SERVICE_UNAVAILABLE", 503


ERRORS_BY_CODE = {c.code: c for c in (BadRequestError, AuthError, ForbiddenError,
                                      NotFoundError, ConflictError, CapacityError)}


def clamp_ring_timeout(sec: Any) -> int:
    """``ring_timeout_sec`` clamped to 5..120 (ClutchCall semantics)."""
    try:
        v = float(sec)
    except (TypeError, ValueError) as exc:
        raise BadRequestError(f"ring_timeout_sec: expected a number, got {sec!r}") from exc
    if v != v:
        raise BadRequestError("ring_timeout_sec: NaN")
    return int(min(120, max(5, round(v))))


@dataclasses.dataclass
class AgentSpec:
    """How to bridge a speech-to-speech model to a call.

    Parameters
    ----------
    mode : str
        ``"speech_to_speech"`` (the only mode).
    model : str, optional
        Model name sent in ``session.update`` (ignored by the local model).
    model_url : str, optional
        Realtime-protocol WebSocket URL; default: the platform's model (the embedded local
        model server unless configured otherwise).
    api_key : str, optional
        The model's API key (``Authorization: Bearer``); default: the platform's.
    model_codec : str
        ``"pcm16"``, ``"g711_ulaw"``, ``"g711_alaw"`` or ``"opus"`` (the Realtime protocol
        carries the first three).
    input_rate_hz, output_rate_hz : int
        PCM16 rates of the audio sent to / received from the model.
    turn_detection : voicedsp.TurnDetection or dict, optional
        Turn-taking knobs; default knobs when None.
    hold_and_resume : bool
        Pause the agent on a barge candidate and resume it if the candidate is rejected.
    instructions : str, optional
        Sent to the model in ``session.update``.
    """

    mode: str = "speech_to_speech"
    model: Optional[str] = None
    model_url: Optional[str] = None
    api_key: Optional[str] = None
    model_codec: str = "pcm16"
    input_rate_hz: int = 16000
    output_rate_hz: int = 24000
    turn_detection: Any = None
    hold_and_resume: bool = False
    instructions: Optional[str] = None

    def __post_init__(self) -> None:
        if self.mode != "speech_to_speech":
            raise BadRequestError(f"mode={self.mode!r}: only 'speech_to_speech' is supported")
        if self.model_codec not in _MODEL_CODECS:
            raise BadRequestError(f"model_codec={self.model_codec!r}: one of "
                                  f"{', '.join(_MODEL_CODECS)}")
        for name in ("input_rate_hz", "output_rate_hz"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v not in (
                    8000, 12000, 16000, 24000, 32000, 44100, 48000):
                raise BadRequestError(f"{name}={v!r}: a supported rate in Hz (8000, 16000, "
                                      "24000, 48000, ...)")
        try:
            self.turn_detection = turn_detection_from(self.turn_detection)
        except (TypeError, ValueError) as exc:
            raise BadRequestError(f"turn_detection: {exc}") from exc

    def to_dict(self, secrets: bool = False) -> dict:
        d = dataclasses.asdict(dataclasses.replace(self, turn_detection=None))
        d["turn_detection"] = turn_detection_dict(self.turn_detection)
        if not secrets:
            d.pop("api_key")
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "AgentSpec":
        if not isinstance(d, dict):
            raise BadRequestError(f"agent spec: expected an object, got {type(d).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise BadRequestError(f"agent spec: unknown field(s) {sorted(unknown)}")
        try:
            return cls(**d)
        except TypeError as exc:
            raise BadRequestError(f"agent spec: {exc}") from exc
