"""The media server's WebSocket connections, on picows (a Cython WebSocket library).

picows parses and frames WebSocket frames in compiled code and hands each frame to a
listener callback, in the event loop's read callback, with no task switch. On top of that
frame-level API this module gives the platform two ways to consume a connection:

- the hot path: ``conn.on_text(data) -> bool`` (``on_binary`` for binary messages) is
  offered each whole message as it is parsed (a Twilio ``media`` or ``mark`` event, a model's
  audio delta, is handled right there); False declines it;
- the slow path, with the surface of a websockets server connection that the platform's
  handlers use: ``async for msg in conn`` / ``await conn.recv()`` (``str`` for text, ``bytes``
  for binary), ``await conn.send(msg)``, ``await conn.close(code, reason)``,
  ``conn.request.path`` / ``.headers``, ``conn.close_code``.

A message is only offered to ``on_text`` when nothing is waiting in the slow path's queue,
so messages are consumed in the order they were sent. Declined text messages are checked
for valid UTF-8 before they are queued (invalid: the connection is failed with 1007); a
handler that does not read its queue stops the socket being read past 64 messages;
fragmented messages are reassembled (the whole message is bounded by ``max_size``: 1009),
frames over ``max_size`` are refused by picows (1009). Pings are answered by picows; a
close from the peer is echoed and the connection closed.

Outbound: :meth:`PicowsConnection.send_now` frames and writes messages synchronously
(picows' ``WSTransport.send``; a server's frames are not masked).
"""

from __future__ import annotations

import asyncio
import collections
import logging
from typing import Callable, Optional, Union

import picows
from picows import (WSCloseCode, WSFrame, WSListener, WSMsgType, WSProtocolError, WSTransport,
                    WSUpgradeRequest, WSUpgradeResponse, WSUpgradeResponseWithListener)

from voicedsp.platform._util import log

__all__ = ["ConnectionClosed", "PicowsConnection", "MediaServer", "serve", "connect"]

_TEXT = WSMsgType.TEXT
_BINARY = WSMsgType.BINARY
_CONT = WSMsgType.CONTINUATION
_CLOSE = WSMsgType.CLOSE
_QUEUE_HIGH, _QUEUE_LOW = 64, 16        # slow-path messages queued: pause / resume reading


class _PicowsLog(logging.LoggerAdapter):
    """The logger picows writes to. picows logs a peer's protocol violation (a bad frame,
    invalid UTF-8, a message over ``max_size``) at ERROR; the connection is failed with its
    close code and the fault is the peer's, so it is logged here at WARNING. Everything else
    passes unchanged."""

    _PEER_FAULTS = ("WS parser error", "on_ws_frame raised WSProtocolError")

    def log(self, level, msg, *args, **kwargs):
        if level == logging.ERROR and isinstance(msg, str) and msg.startswith(self._PEER_FAULTS):
            level = logging.WARNING
        super().log(level, msg, *args, **kwargs)


_wslog = _PicowsLog(log.getChild("ws"), {})


class ConnectionClosed(ConnectionError):
    """The connection is closed (the slow path's ``recv`` / ``send`` after the close).
    ``code``: the close code received from the peer (1006: none, the TCP connection
    dropped)."""

    def __init__(self, code: int, reason: str = "") -> None:
        super().__init__(f"connection closed ({code}{': ' + reason if reason else ''})")
        self.code, self.reason = code, reason


class _Request:
    """The upgrade request as the handlers see it: ``path`` (str, with the query) and
    ``headers`` (case-insensitive)."""

    __slots__ = ("path", "headers")

    def __init__(self, req: WSUpgradeRequest) -> None:
        self.path = req.path.decode("latin-1")
        self.headers = req.headers


class PicowsConnection(WSListener):
    """One connection (a picows listener): the media server's (``server`` set: its handler
    runs as a task per connection) or a client's (:func:`connect`). See the module
    docstring."""

    on_text: Optional[Callable[[bytes], bool]] = None
    on_binary: Optional[Callable[[bytes], bool]] = None
    on_close: Optional[Callable[["PicowsConnection"], None]] = None  # after the disconnect

    def __init__(self, server: Optional["MediaServer"] = None,
                 request: Optional[WSUpgradeRequest] = None, *, max_size: int = 2 ** 20,
                 close_timeout: float = 2.0) -> None:
        super().__init__()
        self.server = server
        self.request = _Request(request) if request is not None else None
        self.max_size = server.max_size if server is not None else max_size
        self.close_timeout = server.close_timeout if server is not None else close_timeout
        self.ws: Optional[WSTransport] = None
        self.transport = None           # the TCP transport (write buffer size, is_closing)
        self.close_code: Optional[int] = None   # received from the peer (1006: none)
        self._queue: collections.deque = collections.deque()
        self._waiter: Optional[asyncio.Future] = None
        self._frag: Optional[list] = None       # [opcode, parts, size] while reassembling
        self._closed = False
        self._paused = False                    # reading paused: the queue is full
        self._closed_fut: Optional[asyncio.Future] = None
        self._writable: Optional[asyncio.Event] = None
        self._handler_task: Optional[asyncio.Task] = None

    # -- picows callbacks
    def on_ws_connected(self, transport: WSTransport) -> None:
        self.ws = transport
        self.transport = transport.underlying_transport
        loop = asyncio.get_running_loop()
        self._closed_fut = loop.create_future()
        if self.server is not None:
            self.server._conns.add(self)
            self._handler_task = loop.create_task(self._run_handler())

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        op = frame.msg_type
        if transport.is_close_frame_sent and op is not _CLOSE:
            return                      # closing (or failed): only the peer's close matters
        if (op is _TEXT or op is _BINARY) and frame.fin and self._frag is None:
            self._deliver(op, frame.get_payload_as_bytes())
        elif op is _TEXT or op is _BINARY:
            if self._frag is not None:
                raise WSProtocolError(WSCloseCode.PROTOCOL_ERROR,
                                      "new data frame inside a fragmented message")
            self._frag = [op, [frame.get_payload_as_bytes()], frame.payload_size]
        elif op is _CONT:
            frag = self._frag
            if frag is None:
                raise WSProtocolError(WSCloseCode.PROTOCOL_ERROR,
                                      "continuation frame without a message")
            frag[2] += frame.payload_size
            if frag[2] > self.max_size:
                raise WSProtocolError(WSCloseCode.MESSAGE_TOO_BIG,
                                      f"message over {self.max_size} bytes")
            frag[1].append(frame.get_payload_as_bytes())
            if frame.fin:
                self._frag = None
                self._deliver(frag[0], b"".join(frag[1]))
        elif op is _CLOSE:
            code = frame.get_close_code()
            self.close_code = int(code.value if hasattr(code, "value") else code) or 1005
            if not transport.is_close_frame_sent:
                # echo the code (a close without one is answered with 1000)
                transport.send_close(code if self.close_code != 1005 else WSCloseCode.OK)
            transport.disconnect()
        # PING is answered by picows; PONG needs nothing

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        if self.close_code is None:
            self.close_code = 1006
        self._closed = True
        if self.server is not None:
            self.server._conns.discard(self)
        w = self._waiter
        if w is not None and not w.done():
            w.set_result(None)
        if self._writable is not None:
            self._writable.set()
        if self._closed_fut is not None and not self._closed_fut.done():
            self._closed_fut.set_result(None)
        cb = self.on_close
        if cb is not None:
            try:
                cb(self)
            except Exception:  # noqa: BLE001
                log.exception("websocket: on_close callback failed")

    def pause_writing(self) -> None:
        if self._writable is None:
            self._writable = asyncio.Event()
        self._writable.clear()

    def resume_writing(self) -> None:
        if self._writable is not None:
            self._writable.set()

    def _deliver(self, op, data: bytes) -> None:
        """One whole message: offered to ``on_text`` / ``on_binary`` when nothing is queued
        before it, else (or when declined) queued for ``recv()``."""
        h = self.on_text if op is _TEXT else self.on_binary
        if h is not None and not self._queue:
            try:
                if h(data):
                    return
            except Exception:  # noqa: BLE001 - never kill the connection's reader
                # it may have acted on part of the message: not offered again
                log.exception("websocket: message handler failed on one message; dropped")
                return
        self._put(self._text(data) if op is _TEXT else data)

    @staticmethod
    def _text(data: bytes) -> str:
        try:
            return data.decode()
        except UnicodeDecodeError:
            raise WSProtocolError(WSCloseCode.INVALID_TEXT, "invalid UTF-8 in a text message")

    def _put(self, msg: Union[str, bytes]) -> None:
        self._queue.append(msg)
        if len(self._queue) >= _QUEUE_HIGH and not self._paused and self.transport is not None:
            self._paused = True                 # a reader that does not keep up: stop
            self.transport.pause_reading()      # reading the socket (TCP pushes back)
        w = self._waiter
        if w is not None and not w.done():
            w.set_result(None)

    async def _run_handler(self) -> None:
        try:
            await self.server.handler(self)
        except ConnectionClosed:
            pass
        except Exception:  # noqa: BLE001 - one connection's failure is its own
            log.exception("media server: handler failed")
            await self.close(1011, "internal error")
        finally:
            if not self._closed:
                await self.close()

    def hand_over(self, on_text, on_binary=None, on_close=None) -> None:
        """From now on, hand every message to ``on_text`` / ``on_binary`` as it is parsed
        (what ``recv()`` had not taken yet first, in order; declined ones stay queued) and
        call ``on_close(conn)`` once the connection is closed (now, if it already is)."""
        self.on_text, self.on_binary, self.on_close = on_text, on_binary, on_close
        queued, self._queue = self._queue, collections.deque()
        for msg in queued:
            if isinstance(msg, str):
                self._deliver(_TEXT, msg.encode())
            else:
                self._deliver(_BINARY, msg)
        if self._closed and on_close is not None:
            on_close(self)

    # -- the slow path
    @property
    def open(self) -> bool:
        return not self._closed and self.ws is not None and not self.ws.is_close_frame_sent

    async def recv(self) -> Union[str, bytes]:
        """The next message not taken by ``on_text`` (str: text, bytes: binary); raises
        :class:`ConnectionClosed` once the connection is closed and the queue is drained."""
        while not self._queue:
            if self._closed:
                raise ConnectionClosed(self.close_code or 1006)
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        msg = self._queue.popleft()
        if self._paused and len(self._queue) <= _QUEUE_LOW:
            self._resume()
        return msg

    def _resume(self) -> None:
        self._paused = False
        if not self._closed:
            self.transport.resume_reading()

    def __aiter__(self):
        return self

    async def __anext__(self):
        try:
            return await self.recv()
        except ConnectionClosed:
            raise StopAsyncIteration from None

    async def send(self, msg: Union[str, bytes, bytearray, memoryview], text: Optional[bool] = None
                   ) -> None:
        """Send one message (str or ``text=True``: text; else binary); waits while the
        socket's write buffer is over its high-water mark."""
        if not self.open:
            raise ConnectionClosed(self.close_code or 1006)
        if isinstance(msg, str):
            self.ws.send(_TEXT, msg.encode())
        else:
            self.ws.send(_TEXT if text else _BINARY, msg)
        w = self._writable
        if w is not None and not w.is_set():
            await w.wait()

    def send_now(self, texts=(), binary=None) -> bool:
        """Frame and write ``binary`` (one binary message, optional) then each of ``texts``
        (UTF-8 bytes, text messages), synchronously; False (nothing sent) when the
        connection is not open."""
        if not self.open or self.transport.is_closing():
            return False
        ws = self.ws
        if binary is not None:
            ws.send(_BINARY, binary)
        for t in texts:
            ws.send(_TEXT, t)
        return True

    async def close(self, code: int = 1000, reason: str = "", timeout: Optional[float] = None
                    ) -> None:
        """Send a close frame, wait (up to ``timeout``, the server's ``close_timeout``) for
        the peer to close, then drop the TCP connection. Idempotent."""
        ws = self.ws
        if ws is None:
            return
        if not self._closed and not ws.is_close_frame_sent:
            why = reason.encode()[:123].decode("utf-8", "ignore").encode()   # frame limit
            ws.send_close(WSCloseCode(code), why)
        if self._paused:
            self._resume()                      # read the peer's close (data is dropped)
        if not self._closed:
            try:
                await asyncio.wait_for(asyncio.shield(self._closed_fut),
                                       self.close_timeout if timeout is None else timeout)
            except asyncio.TimeoutError:
                ws.disconnect(graceful=False)
                await asyncio.shield(self._closed_fut)

    async def wait_closed(self) -> None:
        await asyncio.shield(self._closed_fut)


class MediaServer:
    """A picows WebSocket server whose connections run ``handler(conn)`` (a coroutine, one
    task per connection) with :class:`PicowsConnection` objects.

    ``precheck(request) -> Optional[(status, body)]`` sees the upgrade request before it is
    accepted: a returned status refuses it with that HTTP response (nothing else is
    allocated for it)."""

    def __init__(self, handler, *, precheck=None, max_size: int = 2 ** 20,
                 close_timeout: float = 2.0) -> None:
        self.handler, self.precheck = handler, precheck
        self.max_size, self.close_timeout = max_size, close_timeout
        self._server: Optional[asyncio.AbstractServer] = None
        self._conns: set = set()

    def _factory(self, request: WSUpgradeRequest):
        if self.precheck is not None:
            refused = self.precheck(request)
            if refused is not None:
                status, body = refused
                return WSUpgradeResponseWithListener(
                    WSUpgradeResponse.create_error_response(status, body), None)
        return PicowsConnection(self, request)

    async def start(self, host: str, port: int) -> "MediaServer":
        self._server = await picows.ws_create_server(
            self._factory, host, port, max_frame_size=self.max_size,
            logger_name=_wslog, websocket_handshake_timeout=10)
        return self

    @property
    def sockets(self):
        return self._server.sockets

    async def close(self) -> None:
        """Stop listening, close every open connection (1001) and wait for their handlers."""
        if self._server is not None:
            self._server.close()
        conns = list(self._conns)
        await asyncio.gather(*(c.close(1001, "server shutting down") for c in conns),
                             return_exceptions=True)
        tasks = [c._handler_task for c in conns if c._handler_task is not None]
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None


async def serve(handler, host: str, port: int, **kw) -> MediaServer:
    return await MediaServer(handler, **kw).start(host, port)


async def connect(url: str, *, headers: Optional[dict] = None, max_size: int = 2 ** 20,
                  close_timeout: float = 2.0, timeout: float = 10.0,
                  ssl_context=None) -> PicowsConnection:
    """A client connection to ``url`` (``ws://`` or ``wss://``), ``headers`` sent with the
    upgrade request. ``wss://`` verifies the server against the system's certificate
    authorities unless ``ssl_context`` (an ``ssl.SSLContext``) says otherwise. Raises
    ``OSError`` (cannot connect; ``ssl.SSLError`` for a certificate that does not verify),
    ``asyncio.TimeoutError`` or a ``picows.WSError`` (the server refused the upgrade;
    ``WSHandshakeError``)."""
    _, conn = await picows.ws_connect(
        lambda: PicowsConnection(max_size=max_size, close_timeout=close_timeout), url,
        extra_headers=headers, max_frame_size=max_size, websocket_handshake_timeout=timeout,
        logger_name=_wslog, ssl_context=ssl_context)
    return conn
