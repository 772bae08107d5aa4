"""The model leg: an OpenAI Realtime protocol client, and a local model server speaking it.

:class:`RealtimeModelLeg` connects one call to a speech-to-speech model over WebSocket:
``session.update`` (audio formats and rates; ``turn_detection`` null because voicedsp decides
turns), ``input_audio_buffer.append`` while the caller talks, ``input_audio_buffer.commit`` +
``response.create`` on a committed turn, ``response.cancel`` + ``conversation.item.truncate``
at the heard position on a barge-in, and ``response.output_audio.delta`` /
``response.audio.delta`` into the bridge.

:class:`LocalModelServer` is the embedded default and the test peer: a WebSocket server that
speaks the same protocol and answers each committed turn with synthesized speech (espeak-ng)
or with the caller's own turn audio, streamed as deltas faster than real time.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
from typing import Any, Callable, Optional

import picows
import websockets

from voicedsp.platform import _media, _ws
from voicedsp.platform._util import b64decode, b64encode, dumps, loads, new_sid, synthesize

__all__ = ["RealtimeModelLeg", "LocalModelServer", "ModelLegError", "audio_format",
           "parse_audio_format"]

_GA_TYPES = {"pcm16": "audio/pcm", "g711_ulaw": "audio/pcmu", "g711_alaw": "audio/pcma"}
_BY_GA = {v: k for k, v in _GA_TYPES.items()}


class ModelLegError(ConnectionError):
    """The model leg could not be opened or the model refused the session."""


def audio_format(codec: str, rate_hz: int) -> dict:
    """The Realtime ``session.audio.*.format`` object for a voicedsp codec name."""
    if codec not in _GA_TYPES:
        raise ValueError(f"model_codec {codec!r} is not carried by the Realtime protocol "
                         "(pcm16, g711_ulaw, g711_alaw)")
    fmt = {"type": _GA_TYPES[codec]}
    if codec == "pcm16":
        fmt["rate"] = int(rate_hz)
    return fmt


def parse_audio_format(fmt: Any, default_rate: int) -> tuple:
    """(codec, rate) from a GA format object or a beta format string."""
    if isinstance(fmt, str):
        codec = fmt if fmt in _GA_TYPES else "pcm16"
        return codec, (8000 if codec != "pcm16" else default_rate)
    if isinstance(fmt, dict):
        codec = _BY_GA.get(fmt.get("type"), "pcm16")
        rate = 8000 if codec != "pcm16" else int(fmt.get("rate", default_rate))
        return codec, rate
    return "pcm16", default_rate


# -- client ----------------------------------------------------------------------------------

class RealtimeModelLeg:
    """One call's connection to a Realtime-protocol model.

    Parameters
    ----------
    url : str
        ``ws://`` or ``wss://`` URL of the model (e.g. the local model server's URL, or
        ``wss://api.openai.com/v1/realtime?model=...``).
    api_key : str, optional
        Sent as ``Authorization: Bearer <key>``.
    model_codec, input_rate_hz, output_rate_hz : str, int, int
        Audio formats negotiated with ``session.update``.
    on_audio : callable(bytes, item_id)
        Called with each decoded audio delta.
    on_event : callable(dict)
        Called with leg-level events for the call's event stream (``model_connected``,
        ``response_started``, ``response_done``, ``model_error``, ``model_disconnected``,
        ``model_stalled``).
    append_ms : int
        Caller audio is batched into ``input_audio_buffer.append`` messages of this length.
    write_limit : int
        Bytes the socket may hold unsent. A model that stops reading does not make the
        platform buffer the caller's audio without end: above this, appends are dropped
        (``stats["dropped_appends"]``, one ``model_stalled`` event per stall) until the
        model reads again; commits, cancels and truncations are still sent.
    """

    def __init__(self, url: str, *, api_key: Optional[str] = None, model: Optional[str] = None,
                 model_codec: str = "pcm16", input_rate_hz: int = 24000,
                 output_rate_hz: int = 24000, instructions: Optional[str] = None,
                 on_audio: Callable[[bytes, Optional[str]], Any] = lambda a, i: None,
                 on_event: Callable[[dict], Any] = lambda e: None,
                 append_ms: int = 100, frame_ms: int = 20, write_limit: int = 1 << 20) -> None:
        self.url, self.api_key, self.model = url, api_key, model
        self.model_codec = model_codec
        self.input_rate_hz, self.output_rate_hz = input_rate_hz, output_rate_hz
        self.instructions = instructions
        self.on_audio, self.on_event = on_audio, on_event
        self._batch_frames = max(1, append_ms // frame_ms)
        self.write_limit = write_limit
        self._stalled = False
        self._pending: list = []
        self._ws: Optional[_ws.PicowsConnection] = None
        self._closing = False
        self._cancelled: set = set()
        self._current_item: Optional[str] = None
        self._response_active = False
        self.closed = asyncio.Event()
        self.stats = {"appends": 0, "commits": 0, "cancels": 0, "truncates": 0, "deltas": 0,
                      "delta_bytes": 0, "dropped_deltas": 0, "errors": 0, "dropped_appends": 0}

    @property
    def connected(self) -> bool:
        return self._ws is not None and not self.closed.is_set()

    async def connect(self, timeout: float = 10.0) -> None:
        """Open the socket and configure the session; returns once the model confirmed it."""
        headers = {}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        try:
            self._ws = await asyncio.wait_for(
                _ws.connect(self.url, headers=headers, max_size=2 ** 22, timeout=timeout),
                timeout)
        except (OSError, asyncio.TimeoutError, picows.WSError, ValueError) as exc:
            self._ws = None
            raise ModelLegError(f"model leg: cannot connect to {self.url}: {exc}") from exc
        session = {
            "type": "realtime",
            "output_modalities": ["audio"],
            "audio": {
                "input": {"format": audio_format(self.model_codec, self.input_rate_hz),
                          "turn_detection": None},
                "output": {"format": audio_format(self.model_codec, self.output_rate_hz)},
            },
        }
        if self.model:
            session["model"] = self.model
        if self.instructions:
            session["instructions"] = self.instructions
        self._send_now({"type": "session.update", "session": session})
        try:
            while True:
                msg = loads(await asyncio.wait_for(self._ws.recv(), timeout))
                if msg.get("type") == "session.updated":
                    break
                if msg.get("type") == "error":
                    raise ModelLegError(f"model refused the session: {msg.get('error')}")
        except (asyncio.TimeoutError, _ws.ConnectionClosed, ValueError, AttributeError) as exc:
            await self._ws.close()
            raise ModelLegError(f"model leg: no session.updated from {self.url}") from exc
        except ModelLegError:
            await self._ws.close()
            raise
        # from here on every message is handled as it is parsed off the socket (no task)
        self.on_event({"type": "model_connected", "url": self.url})
        self._ws.hand_over(self._on_message, self._on_binary, self._on_disconnected)

    def _on_message(self, raw) -> bool:
        """One message from the model (synchronous, in the socket's read callback)."""
        try:
            msg = loads(raw)
            t = msg.get("type")
        except (ValueError, AttributeError):
            self.stats["errors"] += 1
            return True
        if t in ("response.output_audio.delta", "response.audio.delta"):
            item = msg.get("item_id")
            if item in self._cancelled:
                self.stats["dropped_deltas"] += 1
                return True
            try:
                audio = b64decode(msg.get("delta", ""))
            except (ValueError, TypeError):
                self.stats["errors"] += 1
                return True
            self._current_item = item
            self.stats["deltas"] += 1
            self.stats["delta_bytes"] += len(audio)
            self.on_audio(audio, item)
        elif t == "response.created":
            self._response_active = True
            r = msg.get("response")
            self.on_event({"type": "response_started",
                           "response_id": r.get("id") if isinstance(r, dict) else None})
        elif t == "response.done":
            self._response_active = False
            r = msg.get("response")
            r = r if isinstance(r, dict) else {}
            self.on_event({"type": "response_done", "response_id": r.get("id"),
                           "status": r.get("status")})
        elif t == "error":
            self.stats["errors"] += 1
            self.on_event({"type": "model_error", "error": msg.get("error")})
        return True

    def _on_binary(self, data) -> bool:
        self.stats["errors"] += 1          # the Realtime protocol has no binary messages
        return True

    def _on_disconnected(self, conn) -> None:
        if self.closed.is_set():
            return
        self.closed.set()
        if not self._closing:
            code = conn.close_code
            reason = ("closed by the model" if code in (1000, 1001) else
                      "connection lost" if code in (None, 1006) else
                      f"connection lost ({code})")
            self.on_event({"type": "model_disconnected", "reason": reason})

    def _send_now(self, obj: dict) -> bool:
        """Send one message now (synchronous, picows' framing, one write); False when the
        leg is not connected or its socket is closing."""
        if not self.connected:
            return False
        return self._ws.send_now([dumps(obj).encode()])

    def append_now(self, audio: bytes) -> None:
        """Queue caller audio (model codec); sent in ``append_ms`` batches (synchronous)."""
        self._pending.append(audio)
        if len(self._pending) >= self._batch_frames:
            self.flush_now()

    def flush_now(self) -> None:
        if self._pending:
            data = b"".join(self._pending)
            self._pending.clear()
            transport = getattr(self._ws, "transport", None)
            if transport is not None and transport.get_write_buffer_size() > self.write_limit:
                self.stats["dropped_appends"] += 1
                if not self._stalled:
                    self._stalled = True
                    self.on_event({"type": "model_stalled",
                                   "unsent_bytes": transport.get_write_buffer_size()})
                return
            self._stalled = False
            self.stats["appends"] += 1
            self._send_now({"type": "input_audio_buffer.append",
                            "audio": b64encode(data).decode()})

    def commit_now(self) -> None:
        """The caller's turn is over: commit the buffer and ask for a response."""
        self.flush_now()
        self.stats["commits"] += 1
        self._send_now({"type": "input_audio_buffer.commit"})
        self._send_now({"type": "response.create"})

    def clear_input_now(self) -> None:
        """Drop the uncommitted caller audio (a backchannel is not a turn)."""
        self._pending.clear()
        self._send_now({"type": "input_audio_buffer.clear"})

    def barge_now(self, item_id: Optional[str], heard_ms: float) -> None:
        """The caller talked over the reply: cancel it and truncate it where it was heard."""
        self.stats["cancels"] += 1
        self._send_now({"type": "response.cancel"})
        item = item_id if item_id not in (None, "preroll") else None
        if item is not None:
            self._cancelled.add(item)
            self.stats["truncates"] += 1
            self._send_now({"type": "conversation.item.truncate", "item_id": item,
                            "content_index": 0, "audio_end_ms": int(max(0.0, heard_ms))})

    # awaitable forms of the same (the sends never wait: the media clock must not)
    async def append(self, audio: bytes) -> None:
        self.append_now(audio)

    async def flush(self) -> None:
        self.flush_now()

    async def commit(self) -> None:
        self.commit_now()

    async def clear_input(self) -> None:
        self.clear_input_now()

    async def barge(self, item_id: Optional[str], heard_ms: float) -> None:
        self.barge_now(item_id, heard_ms)

    async def close(self) -> None:
        self._closing = True
        if self._ws is not None:
            self._ws.on_text = self._ws.on_binary = None
            await self._ws.close()
            self._ws = None
        self.closed.set()


# -- local model server ----------------------------------------------------------------------

DEFAULT_REPLIES = (
    "Thanks for calling. Our shop is open from nine in the morning to six in the evening, "
    "Monday to Saturday.",
    "Sure, I can help with that. Your order left our warehouse yesterday and should arrive "
    "within two days.",
    "Of course. Is there anything else I can do for you today?",
)


class LocalModelServer:
    """A local speech model speaking the OpenAI Realtime protocol (embedded default, test peer).

    Each committed turn gets one response: ``mode="speak"`` synthesizes the next line of
    ``replies`` with espeak-ng; ``mode="echo"`` plays the caller's committed audio back.
    Audio is streamed as ``response.output_audio.delta`` events of ``chunk_ms`` at ``speed``
    times real time. ``response.cancel`` stops the stream; ``conversation.item.truncate`` is
    acknowledged with ``conversation.item.truncated``. ``api_key`` (optional) is checked
    against the ``Authorization`` header. Use ``await start()`` / ``await stop()``, then
    :attr:`url`.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, mode: str = "speak",
                 replies=DEFAULT_REPLIES, speed: float = 4.0, chunk_ms: int = 100,
                 api_key: Optional[str] = None, wpm: int = 175) -> None:
        if mode not in ("speak", "echo"):
            raise ValueError(f"mode={mode!r}: 'speak' or 'echo'")
        self.host, self.port, self.mode = host, port, mode
        self.replies = tuple(replies)
        self.speed, self.chunk_ms, self.api_key, self.wpm = speed, chunk_ms, api_key, wpm
        self._server = None
        self.sessions = 0
        self.log: list = []          # (session no, client event type) for tests
        self.truncations: list = []  # (item_id, audio_end_ms)
        self._conns: set = set()

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}/v1/realtime"

    async def start(self) -> "LocalModelServer":
        self._server = await websockets.serve(self._handle, self.host, self.port, compression=None,
                                              max_size=2 ** 22,
                                              process_request=self._auth)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def drop_all(self) -> None:
        """Close every session abruptly (fault injection: the model leg drops)."""
        for ws in list(self._conns):
            ws.transport.abort() if hasattr(ws, "transport") else await ws.close()

    def _auth(self, connection, request):
        if self.api_key is None:
            return None
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return connection.respond(401, "invalid api key\n")
        return None

    async def _handle(self, ws) -> None:
        self.sessions += 1
        sess_no = self.sessions
        self._conns.add(ws)
        state = {"in": ("pcm16", 24000), "out": ("pcm16", 24000)}
        buf: list = []
        reply_no = itertools.count()
        streaming: Optional[asyncio.Task] = None

        async def send(obj):
            await ws.send(dumps(obj))

        async def respond(turn_audio: bytes) -> None:
            try:
                await stream_response(turn_audio)
            except websockets.ConnectionClosed:
                pass                # the client left mid-response: nobody to send to

        async def stream_response(turn_audio: bytes) -> None:
            resp_id, item_id = new_sid("resp_"), new_sid("item_")
            out_codec, out_rate = state["out"]
            await send({"type": "response.created",
                        "response": {"id": resp_id, "status": "in_progress"}})
            await send({"type": "response.output_item.added", "response_id": resp_id,
                        "output_index": 0, "item": {"id": item_id, "type": "message",
                                                    "role": "assistant"}})
            if self.mode == "echo":
                in_codec, in_rate = state["in"]
                pcm = _media.resample(_media.decode_pcm(turn_audio, in_codec), in_rate,
                                      out_rate)
            else:
                text = self.replies[next(reply_no) % len(self.replies)]
                pcm = await asyncio.to_thread(synthesize, text, out_rate, self.wpm)
            audio = _media.encode_pcm(pcm, out_codec)
            bps = out_rate * (2 if out_codec == "pcm16" else 1)
            step = max(1, bps * self.chunk_ms // 1000)
            if out_codec == "pcm16":
                step -= step % 2
            status = "completed"
            try:
                for off in range(0, len(audio), step):
                    await send({"type": "response.output_audio.delta", "response_id": resp_id,
                                "item_id": item_id, "output_index": 0, "content_index": 0,
                                "delta": base64.b64encode(audio[off:off + step]).decode()})
                    await asyncio.sleep(self.chunk_ms / 1000.0 / self.speed)
                await send({"type": "response.output_audio.done", "response_id": resp_id,
                            "item_id": item_id, "output_index": 0, "content_index": 0})
            except asyncio.CancelledError:
                status = "cancelled"
            await send({"type": "response.done",
                        "response": {"id": resp_id, "status": status,
                                     "output": [{"id": item_id, "type": "message"}]}})

        await send({"type": "session.created", "session": {"id": new_sid("sess_")}})
        try:
            async for raw in ws:
                try:
                    msg = loads(raw)
                    t = msg["type"]
                except (ValueError, KeyError, TypeError):
                    await send({"type": "error", "error": {"type": "invalid_request_error",
                                                           "message": "malformed event"}})
                    continue
                self.log.append((sess_no, t))
                if t == "session.update":
                    s = msg.get("session", {})
                    a = s.get("audio", {})
                    if "input" in a or "output" in a:
                        state["in"] = parse_audio_format(a.get("input", {}).get("format"),
                                                         24000)
                        state["out"] = parse_audio_format(a.get("output", {}).get("format"),
                                                          24000)
                    else:  # beta shape
                        state["in"] = parse_audio_format(s.get("input_audio_format"), 24000)
                        state["out"] = parse_audio_format(s.get("output_audio_format"), 24000)
                    await send({"type": "session.updated", "session": s})
                elif t == "input_audio_buffer.append":
                    try:
                        buf.append(base64.b64decode(msg.get("audio", ""), validate=True))
                    except ValueError:
                        await send({"type": "error", "error": {
                            "type": "invalid_request_error", "message": "bad base64 audio"}})
                elif t == "input_audio_buffer.clear":
                    buf.clear()
                    await send({"type": "input_audio_buffer.cleared"})
                elif t == "input_audio_buffer.commit":
                    turn = b"".join(buf)
                    buf.clear()
                    await send({"type": "input_audio_buffer.committed",
                                "item_id": new_sid("item_")})
                    state["turn"] = turn
                elif t == "response.create":
                    if streaming is not None and not streaming.done():
                        streaming.cancel()
                        await asyncio.gather(streaming, return_exceptions=True)
                    streaming = asyncio.get_running_loop().create_task(
                        respond(state.pop("turn", b"")))
                elif t == "response.cancel":
                    if streaming is not None and not streaming.done():
                        streaming.cancel()
                        await asyncio.gather(streaming, return_exceptions=True)
                elif t == "conversation.item.truncate":
                    self.truncations.append((msg.get("item_id"), msg.get("audio_end_ms")))
                    await send({"type": "conversation.item.truncated",
                                "item_id": msg.get("item_id"), "content_index": 0,
                                "audio_end_ms": msg.get("audio_end_ms")})
                else:
                    await send({"type": "error", "error": {
                        "type": "invalid_request_error", "message": f"unknown event {t!r}"}})
        except websockets.ConnectionClosed:
            pass
        finally:
            self._conns.discard(ws)
            if streaming is not None and not streaming.done():
                streaming.cancel()
                await asyncio.gather(streaming, return_exceptions=True)


def main(argv=None) -> int:
    """``python -m voicedsp.platform.realtime --port N``: run the local model server alone."""
    import argparse

    p = argparse.ArgumentParser(description="local Realtime-protocol speech model")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--mode", choices=["speak", "echo"], default="speak")
    p.add_argument("--speed", type=float, default=4.0)
    args = p.parse_args(argv)

    async def serve():
        srv = await LocalModelServer(args.host, args.port, mode=args.mode,
                                     speed=args.speed).start()
        print(srv.url, flush=True)
        await asyncio.Event().wait()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
