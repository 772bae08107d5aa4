"""The attach API: ``voicedsp.Voice``, the ClutchCall Voice SDK shape over voicedsp.

``Voice()`` runs the call platform embedded in this process (a loopback media server, a local
speech model speaking the OpenAI Realtime protocol and a simulated-phone trunk), so
``pip install voicedsp[platform]`` is enough to run a real call bridge. ``Voice(base_url=,
api_key=, org_id=)`` talks to a ``voicedsp serve`` process over HTTP with the same methods.

Everything is asyncio::

    async with voicedsp.Voice() as voice:
        await voice.agents.register("support", voicedsp.AgentSpec(model_codec="pcm16"))
        call = await voice.calls.originate(to="+15550100", from_="+15550199",
                                           agent="support")
        async for event in call.events():
            print(event)
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any, AsyncIterator, Callable, Optional
from urllib.parse import urlsplit, urlunsplit

from voicedsp.platform._util import dumps, loads
from voicedsp.platform.core import FINAL_STATUSES, Platform
from voicedsp.platform.spec import (ERRORS_BY_CODE, AgentSpec, PlatformError,
                                    clamp_ring_timeout)

__all__ = ["Voice", "BlockingVoice", "AgentSpec", "CallHandle", "AudioBridgeHandle"]


def _agent_wire(agent: Any) -> Any:
    if isinstance(agent, AgentSpec):
        return agent.to_dict(secrets=True)
    return agent


class CallHandle:
    """A call as the application sees it: ``sid``, ``status``, ``hangup()``, ``transfer()``,
    ``events()``, ``on_status()``, ``wait()``."""

    def __init__(self, voice: "Voice", info: dict) -> None:
        self._voice = voice
        self.info = info
        self._status_cbs: list = []
        self._watcher: Optional[asyncio.Task] = None

    @property
    def sid(self) -> str:
        return self.info["sid"]

    @property
    def status(self) -> str:
        return self.info["status"]

    def __repr__(self) -> str:
        return f"<Call {self.sid} {self.status}>"

    async def refresh(self) -> "CallHandle":
        self.info = (await self._voice.calls.get(sid=self.sid)).info
        return self

    async def hangup(self) -> None:
        self.info = await self._voice._backend.hangup(self.sid)

    async def transfer(self, agent: Any) -> None:
        """Hand the call to another agent (registered id or AgentSpec)."""
        self.info = await self._voice._backend.attach(self.sid, agent, transfer=True)

    def events(self, replay: bool = True) -> AsyncIterator[dict]:
        """Status and turn events as dicts, until the call ends (``{"type": "status",
        "status": ...}``, ``turn_committed``-style bridge events as ``{"type":
        "turn_commit", ...}``, ``barge_in``, ``backchannel``, ``barge_rejected``...)."""
        return self._voice._backend.events(self.sid, replay)

    def on_status(self, callback: Callable[[dict], Any]) -> None:
        """Call ``callback(event)`` (sync or async) on every status change."""
        self._status_cbs.append(callback)
        if self._watcher is None:
            self._watcher = asyncio.get_running_loop().create_task(self._watch())

    async def _watch(self) -> None:
        events = self.events(replay=True)
        try:
            async for ev in events:
                if ev.get("type") == "status":
                    self.info["status"] = ev["status"]
                    for cb in list(self._status_cbs):
                        r = cb(ev)
                        if inspect.isawaitable(r):
                            await r
        finally:
            await events.aclose()

    async def wait(self, statuses=FINAL_STATUSES, timeout: Optional[float] = None) -> str:
        """Wait until the call reaches one of ``statuses``; returns it."""
        if isinstance(statuses, str):
            statuses = (statuses,)

        async def _w():
            events = self.events(replay=True)
            try:
                async for ev in events:
                    if ev.get("type") == "status" and (ev["status"] in statuses
                                                       or ev["status"] in FINAL_STATUSES):
                        return ev["status"]
            finally:
                await events.aclose()      # close the event stream (remote: its socket) now
            await self.refresh()
            return self.status

        st = await asyncio.wait_for(_w(), timeout)
        self.info["status"] = st
        return st


class AudioBridgeHandle:
    """An app audio attachment: ``await publish_downlink(frame)``, ``await close()``."""

    def __init__(self, impl) -> None:
        self._impl = impl

    async def publish_downlink(self, frame) -> None:
        await self._impl.publish(frame)

    async def close(self) -> None:
        await self._impl.close()

    @property
    def frames_up(self) -> int:
        return self._impl.frames_up


class _Agents:
    def __init__(self, voice: "Voice") -> None:
        self._v = voice

    async def register(self, agent_id: str, spec: AgentSpec) -> None:
        await self._v._ensure()
        await self._v._backend.register(agent_id, spec)

    async def attach(self, call_sid: str, agent: Any) -> CallHandle:
        """Bridge ``agent`` (registered id or inline AgentSpec) to a live call; returns once
        the model leg is up and audio flows."""
        await self._v._ensure()
        return CallHandle(self._v, await self._v._backend.attach(call_sid, agent))

    async def detach(self, call_sid: str) -> None:
        """Detach the agent; the call stays up."""
        await self._v._ensure()
        await self._v._backend.detach(call_sid)


class _Calls:
    def __init__(self, voice: "Voice") -> None:
        self._v = voice

    async def originate(self, to: str, from_: Optional[str] = None,
                        trunk_id: Optional[str] = None, agent: Any = None,
                        ring_timeout_sec: float = 30) -> CallHandle:
        """Dial ``to`` over a trunk (default: the simulated-phone trunk ``sim``); the agent is
        bridged the moment the callee answers. ``ring_timeout_sec`` is clamped to 5..120."""
        await self._v._ensure()
        return CallHandle(self._v, await self._v._backend.originate(
            to, from_, trunk_id, agent, clamp_ring_timeout(ring_timeout_sec)))

    async def get(self, sid: str) -> CallHandle:
        await self._v._ensure()
        return CallHandle(self._v, await self._v._backend.get(sid))


class _AudioBridges:
    def __init__(self, voice: "Voice") -> None:
        self._v = voice

    async def attach(self, call_sid: str, on_uplink: Optional[Callable[[bytes], Any]] = None,
                     codec: str = "pcm16", sample_rate: int = 16000,
                     frame_ms: int = 20) -> AudioBridgeHandle:
        """Attach the application to a call's audio. With an agent on the call: ``on_uplink``
        taps the caller leg and ``publish_downlink`` queues pre-roll before the agent's audio.
        Without one (attached bare): the application is the far end."""
        await self._v._ensure()
        return AudioBridgeHandle(await self._v._backend.audio_attach(
            call_sid, on_uplink, codec, sample_rate, frame_ms))


# -- backends --------------------------------------------------------------------------------

class _EmbeddedAudio:
    def __init__(self, ab) -> None:
        self.ab = ab

    async def publish(self, frame) -> None:
        self.ab.publish_downlink(frame)

    async def close(self) -> None:
        self.ab.close()

    @property
    def frames_up(self) -> int:
        return self.ab.frames_up


class _Embedded:
    def __init__(self, platform: Platform, org_id: str, owned: bool) -> None:
        self.platform, self.org, self.owned = platform, org_id, owned

    async def start(self) -> None:
        await self.platform.start()

    async def close(self) -> None:
        if self.owned:
            await self.platform.stop()

    async def register(self, agent_id, spec) -> None:
        self.platform.register_agent(self.org, agent_id, spec)

    async def attach(self, sid, agent, transfer=False) -> dict:
        return (await self.platform.attach_agent(self.org, sid, agent)).info()

    async def detach(self, sid) -> None:
        await self.platform.detach_agent(self.org, sid)

    async def originate(self, to, from_, trunk_id, agent, ring) -> dict:
        return (await self.platform.originate(self.org, to, from_, trunk_id, agent,
                                              ring)).info()

    async def get(self, sid) -> dict:
        return self.platform.get_call(self.org, sid).info()

    async def hangup(self, sid) -> dict:
        return (await self.platform.hangup(self.org, sid)).info()

    async def events(self, sid, replay=True):
        call = self.platform.get_call(self.org, sid)
        q = call.subscribe(replay=replay)
        try:
            while True:
                ev = await q.get()
                if ev is None:
                    return
                yield ev
        finally:
            call.unsubscribe(q)

    async def audio_attach(self, sid, on_uplink, codec, sample_rate, frame_ms):
        call = self.platform.get_call(self.org, sid, active=True)
        return _EmbeddedAudio(call.attach_audio(on_uplink, codec, sample_rate, frame_ms))


class _RemoteAudio:
    def __init__(self, ws, on_uplink) -> None:
        self.ws, self.on_uplink, self.frames_up = ws, on_uplink, 0
        self.task = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        import websockets

        try:
            async for msg in self.ws:
                self.frames_up += 1
                if self.on_uplink is not None:
                    r = self.on_uplink(msg)
                    if inspect.isawaitable(r):
                        await r
        except websockets.ConnectionClosed:
            pass

    async def publish(self, frame) -> None:
        await self.ws.send(bytes(frame))

    async def close(self) -> None:
        await self.ws.close()
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


class _Remote:
    def __init__(self, base_url: str, api_key: Optional[str], org_id: Optional[str]) -> None:
        import httpx

        self.base_url = base_url.rstrip("/")
        self.api_key, self.org_id = api_key, org_id
        headers = {}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        if org_id:
            headers["X-Org-Id"] = org_id
        self.headers = headers
        self.http = httpx.AsyncClient(base_url=self.base_url, headers=headers, timeout=30.0)
        self._media_url: Optional[str] = None
        self._sockets: set = set()     # open media sockets, closed with the client

    async def start(self) -> None:
        info = await self._call("voice.platform.info", None, query=True)
        media = urlsplit(info["media_url"])
        base = urlsplit(self.base_url)
        # the server reports its bind address; reach it through the host we were given
        host = base.hostname if media.hostname in ("0.0.0.0", "::") else media.hostname
        self._media_url = urlunsplit((media.scheme, f"{host}:{media.port}", "", "", ""))

    async def close(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        self._sockets.clear()
        await self.http.aclose()

    async def _call(self, proc: str, payload: Any, query: bool = False) -> Any:
        if query:
            params = {"input": dumps(payload)} if payload is not None else None
            r = await self.http.get(f"/{proc}", params=params)
        else:
            r = await self.http.post(f"/{proc}", content=dumps(payload if payload is not None
                                                               else {}),
                                     headers={"Content-Type": "application/json"})
        body = loads(r.content) if r.content else {}
        if r.status_code >= 400 or "error" in body:
            err = body.get("error", {})
            cls = ERRORS_BY_CODE.get(err.get("code"), PlatformError)
            exc = cls(err.get("message", f"HTTP {r.status_code}"))
            exc.http_status = r.status_code
            raise exc
        return body["result"]["data"]

    async def register(self, agent_id, spec) -> None:
        await self._call("voice.agents.register", {"agent_id": agent_id,
                                                   "spec": _agent_wire(spec)})

    async def attach(self, sid, agent, transfer=False) -> dict:
        proc = "voice.calls.transfer" if transfer else "voice.agents.attach"
        return await self._call(proc, {"call_sid": sid, "agent": _agent_wire(agent)})

    async def detach(self, sid) -> None:
        await self._call("voice.agents.detach", {"call_sid": sid})

    async def originate(self, to, from_, trunk_id, agent, ring) -> dict:
        return await self._call("voice.calls.originate", {
            "to": to, "from": from_, "trunk_id": trunk_id,
            "agent": _agent_wire(agent) if agent is not None else None,
            "ring_timeout_sec": ring})

    async def get(self, sid) -> dict:
        return await self._call("voice.calls.get", {"sid": sid}, query=True)

    async def hangup(self, sid) -> dict:
        return await self._call("voice.calls.hangup", {"sid": sid})

    async def _ws(self, path: str):
        import websockets

        ws = await websockets.connect(f"{self._media_url}{path}", compression=None,
                                      additional_headers=self.headers, max_size=2 ** 20)
        self._sockets.add(ws)
        return ws

    async def events(self, sid, replay=True):
        import websockets

        await self.get(sid)     # raises NotFound / Auth errors in the caller's terms
        ws = await self._ws(f"/events/{sid}")
        try:
            async for raw in ws:
                yield loads(raw)
        except websockets.ConnectionClosed:
            return
        finally:
            self._sockets.discard(ws)
            await ws.close()

    async def audio_attach(self, sid, on_uplink, codec, sample_rate, frame_ms):
        await self.get(sid)
        ws = await self._ws(f"/audio/{sid}?codec={codec}&sample_rate={sample_rate}"
                            f"&frame_ms={frame_ms}")
        return _RemoteAudio(ws, on_uplink)


class Voice:
    """The voicedsp attach API client.

    Parameters
    ----------
    base_url : str, optional
        URL of a ``voicedsp serve`` process; None runs the platform embedded in this process.
    api_key : str, optional
        Bearer API key (remote).
    org_id : str, optional
        Organization (remote: must match the key's organization, else 403).
    platform : voicedsp.platform.Platform, optional
        Share an existing embedded platform (embedded mode).
    **platform_options
        Options for a new embedded :class:`voicedsp.platform.Platform` (``max_calls``,
        ``model_url``, ``model_api_key``, ``local_model={"mode": "echo"}``...).

    Attributes: ``agents`` (register/attach/detach), ``calls`` (originate/get),
    ``audio_bridge`` (attach), ``platform`` (embedded only).
    """

    def __init__(self, base_url: Optional[str] = None, api_key: Optional[str] = None,
                 org_id: Optional[str] = None, *, platform: Optional[Platform] = None,
                 **platform_options: Any) -> None:
        if base_url is not None:
            self._backend: Any = _Remote(base_url, api_key, org_id)
            self.platform = None
        else:
            owned = platform is None
            self.platform = platform or Platform(**platform_options)
            self._backend = _Embedded(self.platform, org_id or "default", owned)
        self.agents = _Agents(self)
        self.calls = _Calls(self)
        self.audio_bridge = _AudioBridges(self)
        self._started = False

    async def _ensure(self) -> None:
        if not self._started:
            await self._backend.start()
            self._started = True

    async def start(self) -> "Voice":
        await self._ensure()
        return self

    async def close(self) -> None:
        if self._started:
            await self._backend.close()
            self._started = False

    async def __aenter__(self) -> "Voice":
        return await self.start()

    async def __aexit__(self, *exc) -> None:
        await self.close()

    # embedded conveniences
    def simulate_inbound(self, script, **kw):
        """Embedded only: a simulated caller dials in over the Twilio protocol. Returns the
        :class:`~voicedsp.platform.twilio.SimulatedPhone` (its ``call_sid`` names the call;
        ``run()`` is already scheduled as ``phone.task``)."""
        if self.platform is None:
            raise RuntimeError("simulate_inbound needs the embedded platform")
        from voicedsp.platform.twilio import SimulatedPhone

        phone = SimulatedPhone(self.platform.twilio_url, script, **kw)
        phone.task = asyncio.get_running_loop().create_task(phone.run())
        return phone

    async def wait_for_call(self, sid: str, timeout: float = 5.0) -> CallHandle:
        """Wait until call ``sid`` exists on the platform (an inbound call arriving)."""
        await self._ensure()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            try:
                return await self.calls.get(sid=sid)
            except PlatformError:
                if loop.time() > deadline:
                    raise
                await asyncio.sleep(0.02)


# -- blocking facade -------------------------------------------------------------------------

class _SyncCall:
    """Blocking view of a :class:`CallHandle` (see :class:`BlockingVoice`)."""

    def __init__(self, owner: "BlockingVoice", handle: CallHandle) -> None:
        self._owner, self._h = owner, handle

    sid = property(lambda self: self._h.sid)
    status = property(lambda self: self._h.status)
    info = property(lambda self: self._h.info)

    def __repr__(self) -> str:
        return repr(self._h)

    def refresh(self) -> "_SyncCall":
        self._owner._run(self._h.refresh())
        return self

    def hangup(self) -> None:
        self._owner._run(self._h.hangup())

    def transfer(self, agent: Any) -> None:
        self._owner._run(self._h.transfer(agent))

    def wait(self, statuses=FINAL_STATUSES, timeout: Optional[float] = None) -> str:
        return self._owner._run(self._h.wait(statuses, timeout))

    def on_status(self, callback: Callable[[dict], Any]) -> None:
        """``callback(event)`` runs on the facade's event-loop thread."""
        self._owner._loop.call_soon_threadsafe(self._h.on_status, callback)

    def events(self, replay: bool = True, timeout: Optional[float] = None):
        """A blocking iterator over the call's events (ends with the call)."""
        import queue

        q: "queue.Queue" = queue.Queue()

        async def pump():
            try:
                async for ev in self._h.events(replay):
                    q.put(ev)
            finally:
                q.put(None)

        asyncio.run_coroutine_threadsafe(pump(), self._owner._loop)
        while True:
            ev = q.get(timeout=timeout)
            if ev is None:
                return
            yield ev


class _SyncNamespace:
    def __init__(self, owner: "BlockingVoice", target: Any) -> None:
        self._owner, self._target = owner, target

    def __getattr__(self, name: str):
        fn = getattr(self._target, name)

        def call(*args, **kwargs):
            result = self._owner._run(fn(*args, **kwargs))
            if isinstance(result, CallHandle):
                return _SyncCall(self._owner, result)
            if isinstance(result, AudioBridgeHandle):
                return _SyncNamespace(self._owner, result)
            return result

        call.__doc__ = fn.__doc__
        return call


class BlockingVoice:
    """A blocking facade over :class:`Voice` for scripts and notebooks.

    The same arguments as ``Voice``; an event loop runs in a background thread. Methods block
    and return plain results (``calls.originate(...)`` returns a call whose ``hangup()``,
    ``wait()``, ``events()`` block too). Use as a context manager or call :meth:`close`.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        import threading

        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="voicedsp-voice",
                                        daemon=True)
        self._thread.start()
        self.voice = self._run(self._make(args, kwargs))
        self.agents = _SyncNamespace(self, self.voice.agents)
        self.calls = _SyncNamespace(self, self.voice.calls)
        self.audio_bridge = _SyncNamespace(self, self.voice.audio_bridge)

    async def _make(self, args, kwargs) -> Voice:
        return await Voice(*args, **kwargs).start()

    @property
    def platform(self):
        return self.voice.platform

    def _run(self, coro, timeout: Optional[float] = None):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def close(self) -> None:
        if self._loop.is_closed():
            return
        self._run(self.voice.close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    def __enter__(self) -> "BlockingVoice":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
