"""The one seam between the call platform and the per-call media engine, voicedsp.MediaBridge.

The platform only ever talks to a bridge through the MediaBridge contract (uplink, downlink,
push_model_audio, push_preroll, mark/ack_mark, clear, heard_ms, queued_ms, stats, add_tap,
close); :func:`make_bridge` makes one and keeps a registry of live bridges for leak checks.

Codec helpers here (:func:`decode_pcm`, :func:`encode_pcm`, :func:`resample`) serve the
transports (audio-bridge taps, the simulated phone, the local model), not the bridge.
"""

from __future__ import annotations

import threading
from typing import Any

import voicedsp
from voicedsp.errors import InvalidArgumentError

__all__ = ["make_bridge", "close_bridge", "live_bridges", "event_dict", "decode_pcm",
           "encode_pcm", "resample", "StreamResampler", "OpusCodec", "CODECS"]

CODECS = ("pcm16", "g711_ulaw", "g711_alaw", "opus")
BRIDGE_NAME = "voicedsp.MediaBridge"


# -- turn detection knobs --------------------------------------------------------------------

def turn_detection_from(obj: Any):
    """A TurnDetection from None, a TurnDetection, or a dict of knobs."""
    if obj is None:
        return voicedsp.TurnDetection()
    if isinstance(obj, dict):
        return voicedsp.TurnDetection(**obj)
    return obj


def turn_detection_dict(td: Any) -> dict:
    if td is None:
        return {}
    if isinstance(td, dict):
        return dict(td)
    return td.as_dict()


# -- events ----------------------------------------------------------------------------------

_EVENT_FIELDS = ("t_ms", "ref_ms", "start_ms", "item_id", "heard_ms")


def event_dict(ev: Any) -> dict:
    """A plain dict of a bridge's TurnEvent, for JSON and subscribers: ``type`` plus the
    attributes that are set (``item_id``/``heard_ms`` only on barge-ins)."""
    d = {"type": str(ev.type)}
    for k in _EVENT_FIELDS:
        v = getattr(ev, k, None)
        if v is not None and not (k == "heard_ms" and ev.type != "barge_in"):
            d[k] = v
    return d


# -- codec helpers (transport side) ----------------------------------------------------------

# codec -> (decode to int16 PCM bytes, encode from them); Opus is stateful: OpusCodec
_PCM_CODECS = {
    "pcm16": (bytes, bytes),
    "g711_ulaw": (voicedsp.ulaw_decode, voicedsp.ulaw_encode),
    "g711_alaw": (voicedsp.alaw_decode, voicedsp.alaw_encode),
}


def _pcm_codec(codec: str):
    try:
        return _PCM_CODECS[codec]
    except (KeyError, TypeError):
        raise InvalidArgumentError(f"codec {codec!r} is not supported here (pcm16, g711_ulaw, "
                                   "g711_alaw)") from None


def decode_pcm(payload: bytes, codec: str) -> bytes:
    """Codec bytes -> int16 PCM bytes (G.711 or pcm16; opus is not handled here)."""
    return _pcm_codec(codec)[0](payload)


def encode_pcm(pcm: bytes, codec: str) -> bytes:
    """int16 PCM bytes -> codec bytes (G.711 or pcm16)."""
    return _pcm_codec(codec)[1](pcm)


class OpusCodec:
    """One Opus encoder + decoder pair (mono, 20 ms packets) for the transports.

    ``decode(None)`` conceals a lost packet; a corrupt packet raises ``CorruptPacketError``
    (a ``ValueError``)."""

    def __init__(self, rate_hz: int = 48000, frame_ms: int = 20) -> None:
        self.rate_hz, self.spf = rate_hz, rate_hz * frame_ms // 1000
        self._enc = voicedsp.OpusEncoder(rate_hz, 1, application="voip")
        self._dec = voicedsp.OpusDecoder(rate_hz, 1)

    def encode(self, pcm: bytes) -> bytes:
        return self._enc.encode(pcm)

    def decode(self, packet) -> bytes:
        if packet is None:
            return self._dec.conceal(self.spf)
        return self._dec.decode(packet)


def resample(pcm: bytes, rate_in: int, rate_out: int) -> bytes:
    """Resample a whole clip of int16 PCM bytes (voicedsp.resample, delay compensated)."""
    if rate_in == rate_out or not pcm:
        return bytes(pcm)
    return voicedsp.resample(bytes(pcm), rate_in, rate_out)


class StreamResampler:
    """voicedsp.Resampler for a transport stream (a pass-through at equal rates)."""

    def __init__(self, rate_in: int, rate_out: int) -> None:
        self.rate_in, self.rate_out = rate_in, rate_out
        self._rs = voicedsp.Resampler(rate_in, rate_out) if rate_in != rate_out else None

    def process(self, pcm: bytes) -> bytes:
        return bytes(pcm) if self._rs is None else self._rs.process(bytes(pcm))


# -- bridge registry (leak checks) -----------------------------------------------------------

_live_lock = threading.Lock()
_live: dict = {}            # id -> bridge, from make_bridge until close_bridge


def live_bridges() -> int:
    """How many bridges made by :func:`make_bridge` are not closed yet."""
    return len(_live)


def make_bridge(caller_codec: str, caller_rate_hz: int, model_codec: str,
                model_input_rate_hz: int, model_output_rate_hz: int, **kwargs):
    """A per-call ``voicedsp.MediaBridge``; release it with :func:`close_bridge`."""
    bridge = voicedsp.MediaBridge(caller_codec, caller_rate_hz, model_codec, model_input_rate_hz,
                 model_output_rate_hz, **kwargs)
    with _live_lock:
        _live[id(bridge)] = bridge
    return bridge


def close_bridge(bridge) -> None:
    """Close a bridge made by :func:`make_bridge` (idempotent)."""
    if bridge is None:
        return
    with _live_lock:
        known = _live.pop(id(bridge), None) is bridge
    if known:
        close = getattr(bridge, "close", None)
        if close is not None:
            close()
