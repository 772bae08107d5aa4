"""Caller legs over the Twilio Media Streams protocol (JSON over WebSocket).

Server side (:func:`serve_twilio_leg`): ``connected`` / ``start`` / ``media`` / ``mark`` /
``stop`` in; ``media`` / ``mark`` / ``clear`` out. Outbound frames are paced in real time,
one 20 ms frame per tick, with a ``mark`` every ``mark_every`` frames; the marks echoed back
feed ``bridge.ack_mark`` (the playout clock). Bad input (malformed JSON, bad base64, unknown
events, wrong-size or out-of-order frames) is counted, logged and skipped; the call goes on.

Client side (:class:`SimulatedPhone`): a Twilio-protocol client that plays a scripted caller
(espeak-ng or WAV, in real time) and records what it hears. It is the far end of the
embedded default trunk and the caller of tests, examples, the demo and the benchmark.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import time
from typing import Any, Optional

import numpy as np
import websockets

import voicedsp
from voicedsp.platform._util import (b64decode, b64encode, dumps, loads, log, new_sid,
                                     read_wav_mono, synthesize)

__all__ = ["TwilioLeg", "SimulatedPhone", "Say", "Silence", "WaitAgent", "BargeIn", "Hangup",
           "PlayWav"]

_SILENCE_ULAW = b"\xff" * 160


class TwilioLeg:
    """The platform side of one Twilio Media Streams connection (set up by the platform)."""

    kind = "twilio"

    def __init__(self, ws, stream_sid: str, frame_ms: int = 20, mark_every: int = 10) -> None:
        self.ws, self.stream_sid = ws, stream_sid
        self.frame_ms, self.mark_every = frame_ms, mark_every
        self.codec, self.rate_hz = "g711_ulaw", 8000
        self.faults = {"malformed_json": 0, "bad_base64": 0, "unknown_event": 0,
                       "bad_frame_size": 0, "out_of_order": 0, "unknown_mark": 0}
        self.frames_sent = 0
        self.late_ms: list = []         # per outbound frame: how late it left (ms)
        self._mark_no = 0
        self._last_seq = -1
        self._last_chunk = -1
        sid_json = dumps(str(stream_sid))
        self._media_head = ('{"event":"media","streamSid":%s,"media":{"payload":"'
                            % sid_json).encode()
        self._mark_head = ('{"event":"mark","streamSid":%s,"mark":{"name":' % sid_json).encode()
        self._clear_msg = ('{"event":"clear","streamSid":%s}' % sid_json).encode()

    def fault(self, kind: str, detail: str, call_sid: str) -> None:
        self.faults[kind] += 1
        n = self.faults[kind]
        if n <= 3 or n % 100 == 0:
            log.warning("call %s: twilio leg: %s (%s, #%d); the call goes on", call_sid, kind,
                        detail, n)

    def parse_media(self, msg: dict, call_sid: str) -> Optional[bytes]:
        """The payload of a ``media`` event, or None when it must be skipped (counted)."""
        media = msg.get("media")
        if not isinstance(media, dict):
            self.fault("unknown_event", "media event without media", call_sid)
            return None
        track = media.get("track")
        if track is not None and track not in ("inbound", "inbound_track"):
            return None
        seq = msg.get("sequenceNumber")
        chunk = media.get("chunk")
        try:
            seq_i = int(seq) if seq is not None else None
            chunk_i = int(chunk) if chunk is not None else None
        except (TypeError, ValueError):
            seq_i = chunk_i = None
        if (seq_i is not None and seq_i <= self._last_seq) or \
                (chunk_i is not None and chunk_i <= self._last_chunk):
            self.fault("out_of_order", f"sequence {seq} after {self._last_seq}", call_sid)
            return None
        if seq_i is not None:
            self._last_seq = seq_i
        if chunk_i is not None:
            self._last_chunk = chunk_i
        try:
            return b64decode(media.get("payload", ""))     # strict, as validate=True
        except (ValueError, TypeError):
            self.fault("bad_base64", "undecodable payload", call_sid)
            return None

    def media_message(self, payload: bytes) -> bytes:
        """The outbound ``media`` message of one frame (UTF-8 JSON bytes). The hottest
        message of the platform: formatted around the base64 directly (the stream id is
        JSON-escaped once; base64 needs no escaping)."""
        return self._media_head + b64encode(payload) + b'"}}'

    def mark_message(self, name: str) -> bytes:
        return self._mark_head + dumps(name).encode() + b"}}"

    def send_out(self, payload: bytes, mark: Optional[str] = None) -> bool:
        """Send one downlink frame, and a ``mark`` after it, in one write (synchronous);
        False when the socket is not open (the frame is dropped: the call is ending)."""
        msgs = [self.media_message(payload)]
        if mark is not None:
            msgs.append(self.mark_message(mark))
        if not self.ws.send_now(msgs):
            return False
        self.frames_sent += 1
        return True

    async def send_frame(self, payload: bytes) -> None:
        await self.ws.send(self.media_message(payload), text=True)
        self.frames_sent += 1

    async def send_mark(self, name: str) -> None:
        await self.ws.send(self.mark_message(name), text=True)

    def clear_now(self) -> None:
        """Send ``clear`` (synchronous; nothing when the socket is not open)."""
        self.ws.send_now([self._clear_msg])

    async def send_clear(self) -> None:
        await self.ws.send(self._clear_msg, text=True)

    async def close(self) -> None:
        try:
            await self.ws.close()
        except Exception:  # noqa: BLE001 - already gone
            pass


# -- the scripted caller ---------------------------------------------------------------------

@dataclasses.dataclass
class Say:
    """Speak ``text`` (espeak-ng, ``wpm`` words per minute)."""
    text: str
    wpm: int = 175


@dataclasses.dataclass
class PlayWav:
    """Play a WAV file."""
    path: str


@dataclasses.dataclass
class Silence:
    """Stay silent for ``ms``."""
    ms: int


@dataclasses.dataclass
class WaitAgent:
    """Stay silent until the agent has been heard for ``heard_ms`` and then fell silent for
    ``quiet_ms`` (0 = do not wait for the end), or ``timeout_ms`` passed."""
    heard_ms: int = 200
    quiet_ms: int = 600
    timeout_ms: int = 15000


@dataclasses.dataclass
class BargeIn:
    """Wait until the agent has talked for ``after_ms``, then speak ``text`` over it."""
    text: str
    after_ms: int = 800
    timeout_ms: int = 15000
    wpm: int = 175


@dataclasses.dataclass
class Hangup:
    """Hang up (send ``stop`` and close)."""


def _frames(pcm: bytes, spf: int = 160):
    for off in range(0, len(pcm), 2 * spf):
        f = pcm[off:off + 2 * spf]
        if len(f) < 2 * spf:
            f = f + bytes(2 * spf - len(f))
        yield voicedsp.ulaw_encode(f)


class SimulatedPhone:
    """A Twilio Media Streams client playing a scripted caller in real time.

    Parameters
    ----------
    url : str
        The platform's Twilio WebSocket endpoint.
    script : list
        Steps: :class:`Say`, :class:`PlayWav`, :class:`Silence`, :class:`WaitAgent`,
        :class:`BargeIn`, :class:`Hangup`. After the script the phone stays silent until the
        platform hangs up (or ``linger_ms`` passes, then it hangs up).
    call_sid : str, optional
        Sent in ``start.callSid`` (an originated call's sid); a new one for inbound calls.
    custom_parameters : dict, optional
        ``start.customParameters``.
    echo_gain : float
        Adds this fraction of what the phone plays to its microphone (a no-AEC handset),
        ``echo_delay_ms`` later.

    After :meth:`run`: ``heard`` (int16 PCM at 8 kHz of what was played to the caller,
    time-aligned with ``said``), ``said`` (the caller's own audio), ``clears`` (stream times of
    received ``clear`` events, ms), ``marks_echoed``, ``timeline`` (list of (t_ms, text)).
    """

    def __init__(self, url: str, script=(), *, call_sid: Optional[str] = None,
                 custom_parameters: Optional[dict] = None, linger_ms: int = 1500,
                 echo_gain: float = 0.0, echo_delay_ms: int = 0,
                 headers: Optional[dict] = None,
                 on_step=None) -> None:
        self.url, self.script = url, list(script)
        self.call_sid = call_sid or new_sid("CA")
        self.stream_sid = new_sid("MZ")
        self.custom_parameters = custom_parameters or {}
        self.linger_ms, self.echo_gain = linger_ms, echo_gain
        self.headers = headers or {}
        self._echo = [bytes(320)] * (echo_delay_ms // 20)
        self.on_step = on_step
        self.heard = bytearray()
        self.said = bytearray()
        self.clears: list = []
        self.marks_echoed = 0
        self.timeline: list = []
        self.stopped_by_platform = False
        self._rx: list = []              # received frames not yet "played"
        self._agent_ms = 0               # agent audio heard in the current stretch
        self._agent_quiet_ms = 0
        self._t_ms = 0
        self._ws = None
        self._seq = 0
        self.done = asyncio.Event()

    def _note(self, text: str) -> None:
        self.timeline.append((self._t_ms, text))
        if self.on_step is not None:
            self.on_step(self._t_ms, text)

    async def _reader(self) -> None:
        try:
            async for raw in self._ws:
                msg = loads(raw)
                ev = msg.get("event")
                if ev == "media":
                    self._rx.append(base64.b64decode(msg["media"]["payload"]))
                elif ev == "mark":
                    # played in order: echo once everything before it has been played
                    self._rx.append(("mark", msg["mark"]["name"]))
                elif ev == "clear":
                    self._rx = [x for x in self._rx if isinstance(x, tuple)]
                    self.clears.append(self._t_ms)
                    self._note("<- clear (agent audio dropped)")
        except websockets.ConnectionClosed:
            pass
        finally:
            self.stopped_by_platform = True

    async def _play_tick(self) -> None:
        """One 20 ms tick of the handset speaker: play one received frame, echo marks."""
        frame = None
        while self._rx:
            x = self._rx[0]
            if isinstance(x, tuple):
                self._rx.pop(0)
                self.marks_echoed += 1
                await self._send({"event": "mark", "streamSid": self.stream_sid,
                                  "sequenceNumber": str(self._next_seq()),
                                  "mark": {"name": x[1]}})
                continue
            if frame is not None:
                break
            frame = self._rx.pop(0)
        pcm = voicedsp.ulaw_decode(frame) if frame else bytes(320)
        self.heard += pcm
        loud = frame is not None and np.abs(np.frombuffer(pcm, np.int16)).max() > 300
        if loud:
            self._agent_ms += 20
            self._agent_quiet_ms = 0
        else:
            self._agent_quiet_ms += 20
        return pcm

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    async def _send(self, obj) -> None:
        if self._ws is not None:
            try:
                await self._ws.send(dumps(obj))
            except websockets.ConnectionClosed:
                self.stopped_by_platform = True

    async def _tick(self, frame_ulaw: bytes, t_next: float) -> float:
        played = await self._play_tick()
        if self.echo_gain:
            self._echo.append(played)
            played = self._echo.pop(0)
            mic = np.frombuffer(voicedsp.ulaw_decode(frame_ulaw), np.int16).astype(np.int32)
            mic = mic + (np.frombuffer(played, np.int16) * self.echo_gain).astype(np.int32)
            frame_ulaw = voicedsp.ulaw_encode(np.clip(mic, -32768, 32767).astype(np.int16))
        self.said += voicedsp.ulaw_decode(frame_ulaw)
        await self._send({"event": "media", "sequenceNumber": str(self._next_seq()),
                          "streamSid": self.stream_sid,
                          "media": {"track": "inbound", "chunk": str(self._t_ms // 20 + 1),
                                    "timestamp": str(self._t_ms),
                                    "payload": base64.b64encode(frame_ulaw).decode()}})
        self._t_ms += 20
        t_next += 0.020
        delay = t_next - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        return t_next

    async def run(self, connect_timeout: float = 10.0) -> "SimulatedPhone":
        """Connect, play the script in real time, hang up; returns self."""
        self._ws = await websockets.connect(self.url, additional_headers=self.headers, compression=None,
                                            open_timeout=connect_timeout)
        reader = asyncio.get_running_loop().create_task(self._reader())
        try:
            await self._send({"event": "connected", "protocol": "Call", "version": "1.0.0"})
            await self._send({"event": "start", "sequenceNumber": str(self._next_seq()),
                              "streamSid": self.stream_sid,
                              "start": {"streamSid": self.stream_sid, "callSid": self.call_sid,
                                        "accountSid": "ACsimulated", "tracks": ["inbound"],
                                        "customParameters": self.custom_parameters,
                                        "mediaFormat": {"encoding": "audio/x-mulaw",
                                                        "sampleRate": 8000, "channels": 1}}})
            t_next = time.monotonic()
            for step in self.script:
                if self.stopped_by_platform:
                    break
                t_next = await self._step(step, t_next)
            if not self.stopped_by_platform and not isinstance(
                    self.script[-1] if self.script else None, Hangup):
                end = self._t_ms + self.linger_ms
                while self._t_ms < end and not self.stopped_by_platform:
                    t_next = await self._tick(_SILENCE_ULAW, t_next)
                await self._hangup()
        finally:
            await self._ws.close()
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
            self.done.set()
        return self

    async def _hangup(self) -> None:
        self._note("caller hangs up")
        await self._send({"event": "stop", "sequenceNumber": str(self._next_seq()),
                          "streamSid": self.stream_sid,
                          "stop": {"accountSid": "ACsimulated", "callSid": self.call_sid}})

    async def _speak(self, pcm: bytes, t_next: float) -> float:
        for f in _frames(pcm):
            if self.stopped_by_platform:
                break
            t_next = await self._tick(f, t_next)
        return t_next

    async def _step(self, step: Any, t_next: float) -> float:
        if isinstance(step, Say):
            self._note(f"caller says: {step.text!r}")
            return await self._speak(synthesize(step.text, 8000, step.wpm), t_next)
        if isinstance(step, PlayWav):
            self._note(f"caller plays {step.path}")
            return await self._speak(read_wav_mono(step.path, 8000), t_next)
        if isinstance(step, Silence):
            for _ in range(step.ms // 20):
                if self.stopped_by_platform:
                    break
                t_next = await self._tick(_SILENCE_ULAW, t_next)
            return t_next
        if isinstance(step, WaitAgent):
            start = self._t_ms
            self._agent_ms = 0
            while self._t_ms - start < step.timeout_ms and not self.stopped_by_platform:
                if self._agent_ms >= step.heard_ms and (
                        step.quiet_ms == 0 or self._agent_quiet_ms >= step.quiet_ms):
                    break
                t_next = await self._tick(_SILENCE_ULAW, t_next)
            return t_next
        if isinstance(step, BargeIn):
            start = self._t_ms
            self._agent_ms = 0
            while self._t_ms - start < step.timeout_ms and not self.stopped_by_platform:
                if self._agent_ms >= step.after_ms and self._agent_quiet_ms == 0:
                    break
                t_next = await self._tick(_SILENCE_ULAW, t_next)
            self._note(f"caller talks over the agent: {step.text!r}")
            return await self._speak(synthesize(step.text, 8000, step.wpm), t_next)
        if isinstance(step, Hangup):
            await self._hangup()
            self.stopped_by_platform = True
            return t_next
        raise TypeError(f"unknown script step {step!r}")
