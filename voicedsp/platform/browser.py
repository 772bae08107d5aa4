"""Browser-style caller legs carrying Opus over WebSocket (``/browser`` on the media server).

Protocol (what a WebRTC-less browser or a mobile app can speak with a WebSocket and an Opus
codec): binary messages are Opus packets, one per 20 ms, mono, at the ``sample_rate`` of the
``start`` event (48000 by default), both ways. Text messages are JSON:

- client -> server: ``{"event": "start", "call_sid": optional, "sample_rate": 48000}`` first;
  ``{"event": "mark", "name": ...}`` to acknowledge a mark once the audio before it played;
  ``{"event": "stop"}`` to hang up.
- server -> client: ``{"event": "started", "call_sid": ...}``; ``{"event": "mark", "name":
  ...}`` every 100 ms of downlink (echo it back after playing what came before it);
  ``{"event": "clear"}`` on a barge-in (drop queued audio).

Browsers run echo cancellation, so ``TurnDetection(instant_barge=True)`` suits this leg.
"""

from __future__ import annotations

from voicedsp.platform._util import dumps, log

__all__ = ["BrowserLeg"]


class BrowserLeg:
    """The platform side of one browser connection (same interface as ``TwilioLeg``)."""

    kind = "browser"

    def __init__(self, ws, stream_sid: str, rate_hz: int = 48000, frame_ms: int = 20,
                 mark_every: int = 5) -> None:
        self.ws, self.stream_sid = ws, stream_sid
        self.codec, self.rate_hz = "opus", rate_hz
        self.frame_ms, self.mark_every = frame_ms, mark_every
        self.faults = {"malformed_json": 0, "bad_base64": 0, "unknown_event": 0,
                       "bad_frame_size": 0, "out_of_order": 0, "unknown_mark": 0}
        self.frames_sent = 0

    def fault(self, kind: str, detail: str, call_sid: str) -> None:
        self.faults[kind] = self.faults.get(kind, 0) + 1
        n = self.faults[kind]
        if n <= 3 or n % 100 == 0:
            log.warning("call %s: browser leg: %s (%s, #%d); the call goes on", call_sid, kind,
                        detail, n)

    def send_out(self, payload: bytes, mark=None) -> bool:
        """One downlink packet, and a ``mark`` after it, in one write (synchronous); False
        when the socket is not open."""
        texts = [] if mark is None else [dumps({"event": "mark", "name": mark}).encode()]
        if not self.ws.send_now(texts, binary=payload):
            return False
        self.frames_sent += 1
        return True

    def clear_now(self) -> None:
        self.ws.send_now([b'{"event":"clear"}'])

    async def send_frame(self, payload: bytes) -> None:
        await self.ws.send(payload)
        self.frames_sent += 1

    async def send_mark(self, name: str) -> None:
        await self.ws.send(dumps({"event": "mark", "name": name}))

    async def send_clear(self) -> None:
        await self.ws.send(dumps({"event": "clear"}))

    async def close(self) -> None:
        try:
            await self.ws.close()
        except Exception:  # noqa: BLE001 - already gone
            pass
