"""The embedded call platform: organizations, agents, trunks, calls and their media legs.

One :class:`Platform` runs in an asyncio loop. It owns a WebSocket media server on loopback
(picows, see :mod:`._ws`: Twilio Media Streams caller legs at ``/twilio``, browser legs at
``/browser``, call event streams at ``/events/<sid>``, app audio bridges at
``/audio/<sid>``), the embedded local model (unless a model URL is
configured) and the default ``sim`` trunk, which dials simulated phones over the same
Twilio protocol. Every call has one media bridge (made through :mod:`._media`, the only seam
to the media engine), a real-time pacer for its downlink and, when an agent is attached, one
Realtime-protocol model leg.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import inspect
import re
import time
from typing import Any, Callable, Optional
from urllib.parse import parse_qs, urlsplit

import websockets

from voicedsp.platform import _media, _ws
from voicedsp.platform._util import dumps, loads, log, new_sid
from voicedsp.platform.realtime import LocalModelServer, ModelLegError, RealtimeModelLeg
from voicedsp.platform.spec import (AgentSpec, AuthError, BadRequestError, CapacityError,
                                    ConflictError, NotFoundError, clamp_ring_timeout)
from voicedsp.platform.twilio import Hangup, Say, SimulatedPhone, TwilioLeg, WaitAgent

__all__ = ["Platform", "Call", "SimTrunk", "PhoneProfile", "FINAL_STATUSES"]

_MARK_RE = re.compile(r"g\d+m\d+")
FINAL_STATUSES = ("completed", "failed", "no_answer")
STATUSES = ("dialing", "ringing", "in_progress") + FINAL_STATUSES


class PhoneProfile:
    """How a simulated phone number behaves when the sim trunk dials it."""

    def __init__(self, script=None, *, answer: bool = True, answer_after_ms: int = 300,
                 reachable: bool = True, echo_gain: float = 0.0, echo_delay_ms: int = 0,
                 linger_ms: int = 1500, on_step=None) -> None:
        self.script = list(script) if script is not None else [
            Say("Hello?"), WaitAgent(heard_ms=300, quiet_ms=700, timeout_ms=8000),
            Say("Thank you, goodbye."), Hangup()]
        self.answer, self.answer_after_ms = answer, answer_after_ms
        self.reachable, self.echo_gain, self.linger_ms = reachable, echo_gain, linger_ms
        self.on_step, self.echo_delay_ms = on_step, echo_delay_ms


class SimTrunk:
    """The embedded default trunk: dials simulated phones over the Twilio protocol."""

    kind = "sim"

    def __init__(self, platform: "Platform", trunk_id: str = "sim") -> None:
        self.platform, self.trunk_id = platform, trunk_id
        self.phones: dict = {}
        self.default = PhoneProfile()

    def add_phone(self, number: str, script=None, **kw) -> PhoneProfile:
        prof = PhoneProfile(script, **kw)
        self.phones[number] = prof
        return prof

    async def dial(self, call: "Call", ring_timeout_sec: int) -> None:
        prof = self.phones.get(call.to, self.default)
        await asyncio.sleep(0.05)
        if not prof.reachable:
            await call.end("failed", reason="number unreachable")
            return
        call.set_status("ringing")
        answer_s = prof.answer_after_ms / 1000.0
        if not prof.answer or answer_s > ring_timeout_sec:
            await asyncio.sleep(ring_timeout_sec)
            await call.end("no_answer", reason=f"no answer within {ring_timeout_sec} s")
            return
        await asyncio.sleep(answer_s)
        if call.final:
            return
        phone = SimulatedPhone(self.platform.twilio_url, prof.script, call_sid=call.sid,
                               echo_gain=prof.echo_gain, echo_delay_ms=prof.echo_delay_ms,
                               linger_ms=prof.linger_ms,
                               on_step=prof.on_step,
                               headers=self.platform._internal_headers(call.org_id))
        call.phone = phone
        try:
            await phone.run()
        except (OSError, websockets.WebSocketException) as exc:
            await call.end("failed", reason=f"sim trunk: {exc}")


class _AgentBinding:
    def __init__(self, spec: AgentSpec, model: RealtimeModelLeg, agent_ref: str) -> None:
        self.spec, self.model, self.agent_ref = spec, model, agent_ref
        self.in_turn = False


class AppAudioBridge:
    """An application's audio attachment to a call (``audio_bridge.attach``)."""

    def __init__(self, call: "Call", on_uplink: Optional[Callable], codec: str,
                 sample_rate: int, frame_ms: int, bare: bool) -> None:
        if codec not in ("pcm16", "g711_ulaw", "g711_alaw"):
            raise BadRequestError(f"codec={codec!r}: pcm16, g711_ulaw or g711_alaw")
        if codec != "pcm16":
            sample_rate = 8000
        if frame_ms not in (10, 20, 30, 40, 60):
            raise BadRequestError(f"frame_ms={frame_ms}: 10, 20, 30, 40 or 60")
        self.call, self.on_uplink = call, on_uplink
        self.codec, self.sample_rate, self.frame_ms, self.bare = codec, sample_rate, frame_ms, bare
        self.id = new_sid("AB")
        self.closed = False
        self.frames_up = 0
        self.frames_down = 0
        self._buf = bytearray()
        self._rs = None

    def _deliver(self, data: bytes) -> None:
        if self.closed or self.on_uplink is None:
            return
        self.frames_up += 1
        try:
            r = self.on_uplink(data)
            if inspect.isawaitable(r):
                self.call.platform._spawn(r)
        except Exception:  # noqa: BLE001 - a user callback must not kill the call
            log.exception("call %s: on_uplink callback failed", self.call.sid)

    def tap(self, pcm: bytes, rate_hz: int) -> None:
        """Uplink tap (agent attached): convert to the app's format, cut into frames."""
        if self.closed:
            return
        if rate_hz != self.sample_rate:
            if self._rs is None or self._rs.rate_in != rate_hz:
                self._rs = _media.StreamResampler(rate_hz, self.sample_rate)
            pcm = self._rs.process(pcm)
        self._buf += pcm
        n = 2 * self.sample_rate * self.frame_ms // 1000
        while len(self._buf) >= n:
            frame = bytes(self._buf[:n])
            del self._buf[:n]
            self._deliver(_media.encode_pcm(frame, self.codec))

    def publish_downlink(self, frame) -> float:
        """Send app audio to the caller (codec/sample_rate of this attachment); returns ms
        queued. With an agent attached, it is queued as pre-roll before the agent's audio."""
        if self.closed:
            raise ConflictError("audio bridge is closed")
        bridge = self.call.bridge
        if bridge is None:
            raise ConflictError(f"call {self.call.sid} has no media leg yet")
        self.frames_down += 1
        data = bytes(frame)
        if self.bare and self.call.agent is None:
            return bridge.push_model_audio(data, item_id="app")
        return bridge.push_preroll(data, codec=self.codec, rate_hz=self.sample_rate)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        call = self.call
        if self in call.app_bridges:
            call.app_bridges.remove(self)
            if call.bridge is not None and not self.bare:
                try:
                    call.bridge.remove_tap(self.tap, "uplink")
                except (AttributeError, ValueError):
                    pass


class Call:
    """One call on the platform (embedded object; clients see it through ``Voice``)."""

    def __init__(self, platform: "Platform", org_id: str, sid: str, direction: str,
                 to: Optional[str] = None, from_: Optional[str] = None,
                 trunk_id: Optional[str] = None) -> None:
        self.platform, self.org_id, self.sid = platform, org_id, sid
        self.direction, self.to, self.from_, self.trunk_id = direction, to, from_, trunk_id
        self.ring_timeout_sec: Optional[int] = None
        self.status = "dialing" if direction == "outbound" else "in_progress"
        self.created_at = time.time()
        self.answered_at: Optional[float] = None
        self.ended_at: Optional[float] = None
        self.end_reason: Optional[str] = None
        self._t0 = time.monotonic()
        self.leg: Optional[TwilioLeg] = None
        self.bridge = None
        self.agent: Optional[_AgentBinding] = None
        self.pending_agent: Optional[tuple] = None
        self.app_bridges: list = []
        self.phone: Optional[SimulatedPhone] = None
        self._dial: Optional[asyncio.Task] = None
        self._subs: list = []
        self._status_cbs: list = []
        self._prefix: collections.deque = collections.deque(maxlen=15)
        self.history: collections.deque = collections.deque(maxlen=500)
        self.counters = collections.Counter()
        self.ended = asyncio.Event()
        self._lock = asyncio.Lock()
        self._gen = 0
        self._n_out = 0

    # -- state
    @property
    def final(self) -> bool:
        return self.status in FINAL_STATUSES

    def t_ms(self) -> float:
        return round((time.monotonic() - self._t0) * 1000.0, 1)

    def info(self) -> dict:
        d = {"sid": self.sid, "org_id": self.org_id, "status": self.status,
             "direction": self.direction, "to": self.to, "from": self.from_,
             "trunk_id": self.trunk_id, "ring_timeout_sec": self.ring_timeout_sec,
             "leg": self.leg.kind if self.leg is not None else None,
             "created_at": self.created_at,
             "answered_at": self.answered_at, "ended_at": self.ended_at,
             "end_reason": self.end_reason,
             "agent": (self.agent.agent_ref if self.agent else None),
             "agent_connected": bool(self.agent and self.agent.model.connected),
             "audio_bridges": len(self.app_bridges),
             "counters": dict(self.counters)}
        if self.leg is not None:
            d["faults"] = dict(self.leg.faults)
        if self.bridge is not None:
            d["media"] = {k: v for k, v in self.bridge.stats.items()
                          if isinstance(v, (int, float))}
        return d

    # -- events
    def emit(self, ev: dict) -> None:
        ev.setdefault("t_ms", self.t_ms())
        ev["call_sid"] = self.sid
        self.history.append(ev)
        for q in list(self._subs):
            if q.full():
                try:
                    q.get_nowait()
                except asyncio.QueueEmpty:
                    pass
            q.put_nowait(ev)
        if ev["type"] == "status":
            for cb in list(self._status_cbs):
                try:
                    r = cb(ev)
                    if inspect.isawaitable(r):
                        self.platform._spawn(r)
                except Exception:  # noqa: BLE001
                    log.exception("call %s: status callback failed", self.sid)

    def set_status(self, status: str, **extra) -> None:
        if status == self.status and status != "in_progress":
            return
        self.status = status
        if status == "in_progress" and self.answered_at is None:
            self.answered_at = time.time()
        self.emit({"type": "status", "status": status, **extra})

    def subscribe(self, maxsize: int = 1000, replay: bool = True) -> asyncio.Queue:
        q: asyncio.Queue = asyncio.Queue(maxsize=maxsize)
        if replay:
            for ev in self.history:
                q.put_nowait(ev) if not q.full() else None
        if self.final:
            q.put_nowait(None)
        else:
            self._subs.append(q)
        return q

    def unsubscribe(self, q) -> None:
        if q in self._subs:
            self._subs.remove(q)

    def on_status(self, cb: Callable[[dict], Any]) -> None:
        self._status_cbs.append(cb)

    # -- media
    def _bridge_config(self) -> dict:
        if self.agent is not None:
            s = self.agent.spec
            return dict(model_codec=s.model_codec if s.model_codec != "opus" else "pcm16",
                        model_input_rate_hz=s.input_rate_hz,
                        model_output_rate_hz=s.output_rate_hz,
                        turn_detection=s.turn_detection, hold_and_resume=s.hold_and_resume)
        bare = [b for b in self.app_bridges if b.bare]
        if bare:
            b = bare[-1]
            return dict(model_codec=b.codec, model_input_rate_hz=b.sample_rate,
                        model_output_rate_hz=b.sample_rate, turn_detection=None,
                        hold_and_resume=False)
        return dict(model_codec="pcm16", model_input_rate_hz=16000, model_output_rate_hz=16000,
                    turn_detection=None, hold_and_resume=False)

    def _rebuild_bridge(self) -> None:
        """A bridge for the current attachments (swapped in between two frames)."""
        if self.leg is None or self.final:
            return
        cfg = self._bridge_config()
        new = _media.make_bridge(self.leg.codec, self.leg.rate_hz, cfg["model_codec"],
                                 cfg["model_input_rate_hz"], cfg["model_output_rate_hz"],
                                 frame_ms=self.leg.frame_ms,
                                 turn_detection=cfg["turn_detection"],
                                 hold_and_resume=cfg["hold_and_resume"])
        for b in self.app_bridges:
            if not (b.bare and self.agent is None):
                new.add_tap(b.tap, "uplink")
        old, self.bridge = self.bridge, new
        self._gen += 1
        self._prefix.clear()
        _media.close_bridge(old)

    async def on_caller_frame(self, payload: bytes) -> None:
        self.caller_frame_now(payload)

    def caller_frame_now(self, payload: bytes) -> None:
        """One caller frame: through the bridge, to the model (or a bare app bridge), and its
        turn events acted on. Synchronous: every send on the way is a non-waiting write."""
        bridge = self.bridge
        if bridge is None:
            return
        try:
            audio, events = bridge.uplink(payload)
        except ValueError as exc:
            self.leg.fault("bad_frame_size", str(exc), self.sid)
            return
        agent = self.agent
        if agent is not None and agent.model.connected:
            if agent.in_turn:
                agent.model.append_now(audio)
            else:
                self._prefix.append(audio)
        else:
            for b in self.app_bridges:
                if b.bare:
                    b._deliver(audio)
        for ev in events:
            self._on_turn_event(_media.event_dict(ev))

    def _on_turn_event(self, ev: dict) -> None:
        t = ev.get("type")
        self.counters[t] += 1
        agent = self.agent
        live = agent is not None and agent.model.connected
        if t == "speech_start" and live and not agent.in_turn:
            agent.in_turn = True
            for a in self._prefix:
                agent.model.append_now(a)
            self._prefix.clear()
        elif t == "turn_commit" and live:
            agent.in_turn = False
            agent.model.commit_now()
        elif t == "backchannel" and live:
            agent.in_turn = False
            agent.model.clear_input_now()
        elif t == "barge_in":
            if self.leg is not None:
                self.leg.clear_now()
            if live:
                agent.model.barge_now(ev.get("item_id"), float(ev.get("heard_ms") or 0.0))
        ev["bridge_t_ms"] = ev.pop("t_ms", None)
        self.emit(ev)

    def _on_model_audio(self, binding: _AgentBinding, audio: bytes, item_id) -> None:
        if binding is not self.agent or self.bridge is None:
            return
        try:
            self.bridge.push_model_audio(audio, item_id=item_id)
        except ValueError as exc:
            self.counters["bad_model_audio"] += 1
            log.warning("call %s: model audio rejected: %s", self.sid, exc)

    def _on_model_event(self, binding: _AgentBinding, ev: dict) -> None:
        if binding is not self.agent:
            return
        if ev["type"] == "model_disconnected":
            log.warning("call %s: model leg dropped (%s); the call stays up", self.sid,
                        ev.get("reason"))
            self.counters["model_disconnects"] += 1
        self.emit(ev)

    def on_mark(self, name) -> None:
        """A ``mark`` echoed by the caller leg: the audio before it was played."""
        leg = self.leg
        if not isinstance(name, str) or not _MARK_RE.fullmatch(name):
            leg.fault("unknown_mark", repr(name), self.sid)
        elif not name.startswith(f"g{self._gen}m"):
            pass        # a mark of a bridge swapped out since: nothing to ack
        elif self.bridge is not None and not self.bridge.ack_mark(name):
            leg.fault("unknown_mark", name, self.sid)

    def tick(self) -> None:
        """One downlink frame to the caller (called by the platform ticker every 20 ms), and
        a playout mark every ``leg.mark_every`` frames, written together (synchronous)."""
        leg, bridge = self.leg, self.bridge
        if bridge is None or leg is None or self.final:
            return
        transport = getattr(leg.ws, "transport", None)
        if transport is not None and transport.get_write_buffer_size() > 64 * 1024:
            # the caller is not reading: do not let one stuck socket hold the others back
            leg.faults["backpressure"] = leg.faults.get("backpressure", 0) + 1
            return
        frame = bridge.downlink()
        n = self._n_out + 1
        name = None
        if n % leg.mark_every == 0:
            # the generation tells acks of a swapped-out bridge's marks apart
            name = f"g{self._gen}m{n}"
        if leg.send_out(frame, name):
            self._n_out = n
            if name is not None:
                bridge.mark(name)

    async def bind_leg(self, leg: TwilioLeg) -> None:
        self.leg = leg
        self._rebuild_bridge()
        if self.pending_agent is not None:
            binding = self.pending_agent
            self.pending_agent = None
            await self._install_agent(binding)
        self.platform._media_calls[self.sid] = self
        self.set_status("in_progress")

    async def _install_agent(self, binding: _AgentBinding) -> None:
        old, self.agent = self.agent, binding
        self._rebuild_bridge()
        self.emit({"type": "agent_attached", "agent": binding.agent_ref})
        if old is not None:
            await old.model.close()

    # -- control
    async def attach(self, spec: AgentSpec, agent_ref: str) -> None:
        if self.final:
            raise ConflictError(f"call {self.sid} is {self.status}")
        binding_box: list = []
        url = spec.model_url or self.platform.model_url
        model = RealtimeModelLeg(
            url, api_key=spec.api_key or self.platform.model_api_key, model=spec.model,
            model_codec=spec.model_codec, input_rate_hz=spec.input_rate_hz,
            output_rate_hz=spec.output_rate_hz, instructions=spec.instructions,
            on_audio=lambda a, i: self._on_model_audio(binding_box[0], a, i),
            on_event=lambda e: self._on_model_event(binding_box[0], e))
        binding = _AgentBinding(spec, model, agent_ref)
        binding_box.append(binding)
        try:
            await model.connect()
        except ModelLegError:
            await model.close()
            raise
        async with self._lock:
            if self.final:
                await model.close()
                raise ConflictError(f"call {self.sid} ended while the agent was connecting")
            if self.leg is None:
                if self.pending_agent is not None:
                    await self.pending_agent.model.close()
                self.pending_agent = binding
            else:
                await self._install_agent(binding)

    async def detach(self) -> bool:
        async with self._lock:
            old, self.agent = self.agent, None
            if self.pending_agent is not None:
                await self.pending_agent.model.close()
                self.pending_agent = None
            if old is None:
                return False
            self._rebuild_bridge()
            await old.model.close()
            self.emit({"type": "agent_detached", "agent": old.agent_ref})
            return True

    def attach_audio(self, on_uplink, codec: str = "pcm16", sample_rate: int = 16000,
                     frame_ms: int = 20, detach_agent: bool = False) -> AppAudioBridge:
        if self.final:
            raise ConflictError(f"call {self.sid} is {self.status}")
        bare = self.agent is None and self.pending_agent is None
        ab = AppAudioBridge(self, on_uplink, codec, sample_rate, frame_ms, bare)
        self.app_bridges.append(ab)
        if bare:
            self._rebuild_bridge()
        elif self.bridge is not None:
            self.bridge.add_tap(ab.tap, "uplink")
        return ab

    async def end(self, status: str = "completed", reason: Optional[str] = None) -> None:
        """Free everything (idempotent): pacer, caller leg, model leg, bridge, app bridges."""
        if self.final:
            return
        self.status = status
        self.ended_at = time.time()
        self.end_reason = reason
        self.platform._media_calls.pop(self.sid, None)
        tasks = [t for t in (self._dial,) if t is not None
                 and t is not asyncio.current_task()]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._dial = None
        for b in list(self.app_bridges):
            b.close()
        for binding in (self.agent, self.pending_agent):
            if binding is not None:
                await binding.model.close()
        self.agent = self.pending_agent = None
        if self.leg is not None:
            self.leg_summary = {"faults": dict(self.leg.faults),
                                "frames_sent": self.leg.frames_sent}
            await self.leg.close()
        if self.bridge is not None:
            self.media_summary = {k: v for k, v in self.bridge.stats.items()
                                  if isinstance(v, (int, float))}
        _media.close_bridge(self.bridge)
        self.bridge = None
        self.platform._retire(self)
        self.emit({"type": "status", "status": status, "reason": reason})
        for q in self._subs:
            q.put_nowait(None)
        self._subs.clear()
        self._status_cbs.clear()
        self.ended.set()


class Platform:
    """The embedded call platform.

    Parameters
    ----------
    host : str
        Interface of the media WebSocket server (loopback by default).
    media_port : int
        Its port (0 = any free port).
    model_url, model_api_key : str, optional
        The default model (Realtime protocol). None: start the embedded local model server.
    local_model : dict, optional
        Options for :class:`LocalModelServer` (``mode``, ``speed``, ``replies``...).
    max_calls : int
        Calls (active, any state) beyond this are refused with :class:`CapacityError`
        (HTTP 503 / WebSocket close 1013).
    api_keys : dict, optional
        ``{api_key: org_id}``. None: no authentication (embedded use), one org ``default``.
    """

    def __init__(self, *, host: str = "127.0.0.1", media_port: int = 0,
                 model_url: Optional[str] = None, model_api_key: Optional[str] = None,
                 local_model: Optional[dict] = None, max_calls: int = 1000,
                 api_keys: Optional[dict] = None) -> None:
        self.host, self.media_port = host, media_port
        self.model_url, self.model_api_key = model_url, model_api_key
        self.local_model_opts = local_model or {}
        self.local_model: Optional[LocalModelServer] = None
        self.max_calls = max_calls
        self.api_keys = dict(api_keys) if api_keys else None
        self._internal_key = new_sid("sk_int_")
        self.calls: dict = {}          # sid -> Call (active)
        self.ended: collections.OrderedDict = collections.OrderedDict()   # sid -> Call
        self.agents: dict = collections.defaultdict(dict)   # org -> {agent_id: AgentSpec}
        self.trunks: dict = {}
        self.sim = SimTrunk(self)
        self.trunks["sim"] = self.sim
        self.lateness = [0] * 2001     # outbound frame lateness histogram, 0.1 ms bins
        self.refused = 0
        self._server = None
        self._tasks: set = set()
        self._media_calls: dict = {}   # sid -> Call with a caller leg (ticked every 20 ms)
        self._ticker: Optional[asyncio.Task] = None
        self.started = False

    # -- lifecycle
    async def start(self) -> "Platform":
        if self.started:
            return self
        if self.model_url is None:
            self.local_model = await LocalModelServer(**self.local_model_opts).start()
            self.model_url = self.local_model.url
        # picows connections: media and mark messages are handled as they are parsed
        self._server = await _ws.serve(self._route, self.host, self.media_port,
                                       precheck=self._precheck, max_size=2 ** 20,
                                       close_timeout=2)
        self.media_port = self._server.sockets[0].getsockname()[1]
        self._ticker = asyncio.get_running_loop().create_task(self._tick_loop())
        self.started = True
        log.info("voicedsp platform: media on ws://%s:%d, model %s, bridge %s", self.host,
                 self.media_port, self.model_url,
                 _media.BRIDGE_NAME)
        return self

    async def stop(self) -> None:
        for call in list(self.calls.values()):
            await call.end("completed", reason="platform stopped")
        if self._ticker is not None:
            self._ticker.cancel()
            await asyncio.gather(self._ticker, return_exceptions=True)
            self._ticker = None
        for t in list(self._tasks):
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.close()
            self._server = None
        if self.local_model is not None:
            await self.local_model.stop()
            self.model_url = None
            self.local_model = None
        self.started = False

    async def _tick_loop(self, frame_ms: int = 20) -> None:
        """The real-time downlink clock of every call: one frame per call per tick.

        One task for all calls (not one per call): a timer wake-up per tick instead of per
        call-frame. Lateness (send time minus the frame's deadline) goes to ``lateness``."""
        period = frame_ms / 1000.0
        t_next = time.monotonic()
        hist = self.lateness
        top = len(hist) - 1
        while True:
            for call in list(self._media_calls.values()):
                late = time.monotonic() - t_next
                hist[min(int(late * 10000), top) if late > 0 else 0] += 1
                try:
                    call.tick()
                except Exception:  # noqa: BLE001 - one call's failure must not stop the clock
                    log.exception("call %s: downlink tick failed", call.sid)
            t_next += period
            delay = t_next - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -0.2:          # hopelessly behind (suspended loop): resync
                t_next = time.monotonic()
            else:
                await asyncio.sleep(0)  # let the uplink in

    def _spawn(self, coro) -> asyncio.Task:
        t = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(t)
        t.add_done_callback(self._tasks.discard)
        return t

    @property
    def media_url(self) -> str:
        return f"ws://{self.host}:{self.media_port}"

    @property
    def twilio_url(self) -> str:
        return f"{self.media_url}/twilio"

    @property
    def browser_url(self) -> str:
        return f"{self.media_url}/browser"

    # -- auth and lookup
    def org_for_key(self, key: Optional[str]) -> str:
        if self.api_keys is None:
            return "default"
        if key == self._internal_key:
            return "__internal__"
        org = self.api_keys.get(key or "")
        if org is None:
            raise AuthError("invalid API key")
        return org

    def _internal_headers(self, org_id: str) -> dict:
        return {"Authorization": f"Bearer {self._internal_key}"}

    def get_call(self, org_id: str, sid: str, *, active: bool = False) -> Call:
        call = self.calls.get(sid) or (None if active else self.ended.get(sid))
        # another organization's call is indistinguishable from a missing one
        if call is None or call.org_id != org_id:
            raise NotFoundError(f"no call {sid!r}")
        return call

    def resolve_agent(self, org_id: str, agent: Any) -> tuple:
        if isinstance(agent, AgentSpec):
            return agent, "inline"
        if isinstance(agent, dict):
            return AgentSpec.from_dict(agent), "inline"
        if isinstance(agent, str):
            spec = self.agents[org_id].get(agent)
            if spec is None:
                raise NotFoundError(f"no agent {agent!r} registered")
            return spec, agent
        raise BadRequestError(f"agent: a registered id or an AgentSpec, got {agent!r}")

    def _new_call(self, org_id: str, sid: str, direction: str, **kw) -> Call:
        if len(self.calls) >= self.max_calls:
            self.refused += 1
            raise CapacityError(f"capacity reached ({self.max_calls} calls)")
        call = Call(self, org_id, sid, direction, **kw)
        self.calls[sid] = call
        return call

    def _retire(self, call: Call) -> None:
        self.calls.pop(call.sid, None)
        self.ended[call.sid] = call
        while len(self.ended) > 2000:
            self.ended.popitem(last=False)

    # -- API (org-scoped)
    def register_agent(self, org_id: str, agent_id: str, spec: Any) -> AgentSpec:
        if not isinstance(agent_id, str) or not agent_id:
            raise BadRequestError("agent_id: a non-empty string")
        spec, _ = self.resolve_agent(org_id, spec if not isinstance(spec, str) else {})
        self.agents[org_id][agent_id] = spec
        return spec

    async def originate(self, org_id: str, to: str, from_: Optional[str] = None,
                        trunk_id: Optional[str] = None, agent: Any = None,
                        ring_timeout_sec: Any = 30) -> Call:
        if not to or not isinstance(to, str):
            raise BadRequestError("to: a phone number")
        ring = clamp_ring_timeout(ring_timeout_sec)
        trunk = self.trunks.get(trunk_id or "sim")
        if trunk is None:
            raise NotFoundError(f"no trunk {trunk_id!r}")
        resolved = self.resolve_agent(org_id, agent) if agent is not None else None
        call = self._new_call(org_id, new_sid("CA"), "outbound", to=to, from_=from_,
                              trunk_id=trunk.trunk_id)
        call.ring_timeout_sec = ring
        call.emit({"type": "status", "status": "dialing"})

        async def dial():
            if resolved is not None:
                try:
                    await call.attach(*resolved)   # pre-connect: bridged at answer
                except (ModelLegError, ConflictError) as exc:
                    call.emit({"type": "model_error", "error": str(exc)})
            await trunk.dial(call, ring)

        call._dial = self._spawn(dial())
        return call

    async def attach_agent(self, org_id: str, sid: str, agent: Any) -> Call:
        call = self.get_call(org_id, sid, active=True)
        spec, ref = self.resolve_agent(org_id, agent)
        try:
            await call.attach(spec, ref)
        except ModelLegError as exc:
            raise ConflictError(str(exc)) from exc
        return call

    async def detach_agent(self, org_id: str, sid: str) -> bool:
        return await self.get_call(org_id, sid, active=True).detach()

    async def hangup(self, org_id: str, sid: str) -> Call:
        call = self.get_call(org_id, sid)
        await call.end("completed", reason="hung up by the application")
        return call

    async def transfer(self, org_id: str, sid: str, agent: Any) -> Call:
        return await self.attach_agent(org_id, sid, agent)

    def stats(self) -> dict:
        return {"active_calls": len(self.calls), "ended_calls": len(self.ended),
                "refused": self.refused, "live_bridges": _media.live_bridges(),
                "max_calls": self.max_calls,
                "bridge": _media.BRIDGE_NAME}

    # -- media server
    def _precheck(self, request):
        path = urlsplit(request.path.decode("latin-1")).path
        internal = request.headers.get("Authorization") == f"Bearer {self._internal_key}"
        if path in ("/twilio", "/browser") and not internal and \
                len(self.calls) >= self.max_calls:
            # refused before the upgrade: nothing is allocated for it
            self.refused += 1
            return 503, b"capacity reached\n"
        return None

    def _key_from(self, ws) -> Optional[str]:
        auth = ws.request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            return auth[7:]
        q = parse_qs(urlsplit(ws.request.path).query)
        return q.get("key", [None])[0]

    async def _route(self, ws) -> None:
        parts = urlsplit(ws.request.path)
        path = parts.path.rstrip("/")
        try:
            org = self.org_for_key(self._key_from(ws))
        except AuthError:
            await ws.close(4401, "invalid API key")
            return
        try:
            if path == "/twilio":
                await self._twilio(ws, org)
            elif path == "/browser":
                await self._browser(ws, org)
            elif path.startswith("/events/"):
                await self._events_ws(ws, org, path[len("/events/"):])
            elif path.startswith("/audio/"):
                await self._audio_ws(ws, org, path[len("/audio/"):], parse_qs(parts.query))
            else:
                await ws.close(4404, "unknown path")
        except _ws.ConnectionClosed:
            pass

    async def _twilio(self, ws, org: str) -> None:
        call: Optional[Call] = None
        leg: Optional[TwilioLeg] = None
        pre_faults = collections.Counter()
        try:
            async for raw in ws:
                try:
                    msg = loads(raw)
                    if not isinstance(msg, dict):
                        raise ValueError("not an object")
                except ValueError:
                    if leg is not None:
                        leg.fault("malformed_json", repr(raw[:40]), call.sid)
                    else:
                        pre_faults["malformed_json"] += 1
                    continue
                ev = msg.get("event")
                if ev == "media" and call is not None:
                    payload = leg.parse_media(msg, call.sid)
                    if payload is not None:
                        call.caller_frame_now(payload)
                elif ev == "mark" and call is not None:
                    mark = msg.get("mark")
                    call.on_mark(mark.get("name") if isinstance(mark, dict) else None)
                elif ev == "start" and call is None:
                    start = msg.get("start") or {}
                    if not isinstance(start, dict):
                        start = {}
                    stream_sid = msg.get("streamSid") or start.get("streamSid") or new_sid("MZ")
                    params = start.get("customParameters")
                    call = await self._open_call(
                        ws, org, start.get("callSid"),
                        params.get("from") if isinstance(params, dict) else None)
                    if call is None:
                        return
                    leg = TwilioLeg(ws, str(stream_sid))
                    for k, v in pre_faults.items():
                        leg.faults[k] += v
                    await call.bind_leg(leg)
                    if hasattr(ws, "on_text"):
                        ws.on_text = functools.partial(self._twilio_fast, call, leg)
                    log.info("call %s: caller leg connected (%s)", call.sid, call.direction)
                elif ev == "stop" and call is not None:
                    break
                elif ev in ("connected", "start"):
                    continue
                else:
                    if leg is not None:
                        leg.fault("unknown_event", repr(ev), call.sid)
                    else:
                        pre_faults["unknown_event"] += 1
        except _ws.ConnectionClosed:
            pass
        finally:
            if hasattr(ws, "on_text"):
                ws.on_text = None
            if call is not None:
                await call.end("completed", reason="caller hung up")

    @staticmethod
    def _twilio_fast(call: Call, leg: TwilioLeg, data: bytes) -> bool:
        """The media fast path of a Twilio leg, run as each message is parsed off the socket
        (no task switch): ``media`` and ``mark`` events of a live call. Anything else
        (other events, malformed JSON, invalid UTF-8) is declined and goes through the
        reader above, which counts faults."""
        if call.final:
            return False
        try:
            msg = loads(data)
        except ValueError:
            return False
        if type(msg) is not dict:
            return False
        ev = msg.get("event")
        if ev == "media":
            payload = leg.parse_media(msg, call.sid)
            if payload is not None:
                call.caller_frame_now(payload)
            return True
        if ev == "mark":
            mark = msg.get("mark")
            call.on_mark(mark.get("name") if isinstance(mark, dict) else None)
            return True
        return False

    async def _open_call(self, ws, org: str, sid, from_=None) -> Optional[Call]:
        """The call a new caller leg belongs to (an originated one, or a new inbound call);
        None after closing the socket when it may not have one."""
        sid = str(sid) if sid else new_sid("CA")
        existing = self.calls.get(sid)
        if existing is not None:
            if org not in (existing.org_id, "__internal__") or existing.leg is not None:
                await ws.close(4403, "call belongs to another leg")
                return None
            return existing
        if org == "__internal__":
            await ws.close(4404, "unknown call")
            return None
        try:
            return self._new_call(org, sid, "inbound", from_=from_)
        except CapacityError:
            await ws.close(1013, "capacity reached")
            return None

    async def _browser(self, ws, org: str) -> None:
        from voicedsp.platform.browser import BrowserLeg

        call: Optional[Call] = None
        leg = None
        try:
            async for raw in ws:
                if isinstance(raw, bytes):
                    if call is not None:
                        await call.on_caller_frame(raw)
                    continue
                try:
                    msg = loads(raw)
                    if not isinstance(msg, dict):
                        raise ValueError("not an object")
                except ValueError:
                    if leg is not None:
                        leg.fault("malformed_json", repr(raw[:40]), call.sid)
                    continue
                ev = msg.get("event")
                if ev == "start" and call is None:
                    try:
                        rate = int(msg.get("sample_rate", 48000))
                    except (TypeError, ValueError):
                        rate = 0
                    if rate not in (8000, 12000, 16000, 24000, 48000):
                        await ws.close(4400, "sample_rate: an Opus rate")
                        return
                    call = await self._open_call(ws, org, msg.get("call_sid"),
                                                 msg.get("from"))
                    if call is None:
                        return
                    leg = BrowserLeg(ws, new_sid("MZ"), rate_hz=rate)
                    await call.bind_leg(leg)
                    await ws.send(dumps({"event": "started", "call_sid": call.sid}))
                elif ev == "mark" and call is not None:
                    call.on_mark(msg.get("name"))
                elif ev == "stop" and call is not None:
                    break
                elif leg is not None:
                    leg.fault("unknown_event", repr(ev), call.sid)
        except _ws.ConnectionClosed:
            pass
        finally:
            if call is not None:
                await call.end("completed", reason="caller hung up")

    async def _events_ws(self, ws, org: str, sid: str) -> None:
        try:
            call = self.get_call(org, sid)
        except NotFoundError:
            await ws.close(4404, "no such call")
            return
        q = call.subscribe()
        try:
            while True:
                ev = await q.get()
                if ev is None:
                    break
                await ws.send(dumps(ev))
        finally:
            call.unsubscribe(q)
            await ws.close()

    async def _audio_ws(self, ws, org: str, sid: str, q: dict) -> None:
        try:
            call = self.get_call(org, sid, active=True)
            ab = call.attach_audio(None, codec=q.get("codec", ["pcm16"])[0],
                                   sample_rate=int(q.get("sample_rate", ["16000"])[0]),
                                   frame_ms=int(q.get("frame_ms", ["20"])[0]))
        except (NotFoundError, BadRequestError, ConflictError, ValueError) as exc:
            await ws.close(4404 if isinstance(exc, NotFoundError) else 4400, str(exc)[:100])
            return
        out: asyncio.Queue = asyncio.Queue(maxsize=500)
        ab.on_uplink = lambda data: out.full() or out.put_nowait(data)

        async def pump():
            while True:
                data = await out.get()
                await ws.send(data)

        async def read():
            async for msg in ws:
                if isinstance(msg, bytes):
                    try:
                        ab.publish_downlink(msg)
                    except (ValueError, ConflictError):
                        call.counters["bad_app_frames"] += 1

        loop = asyncio.get_running_loop()
        tasks = [loop.create_task(pump()), loop.create_task(read()),
                 loop.create_task(call.ended.wait())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            ab.close()
            await ws.close()
