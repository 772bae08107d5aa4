"""The media server's WebSocket connections on picows (voicedsp.platform._ws), on loopback.

The peer is written with websockets' sans-I/O protocol (an independent implementation of
RFC 6455): frames are built by it and written raw, so every split of the byte stream, bad
frame and fragmentation can be produced; what the server sends back is compared with what
websockets' own server side would send."""

import asyncio
import logging
import random

import pytest

pytest.importorskip("picows")
pytest.importorskip("websockets")

import websockets  # noqa: E402
from websockets.client import ClientProtocol  # noqa: E402
from websockets.frames import Frame, Opcode  # noqa: E402
from websockets.protocol import Protocol, Side, State  # noqa: E402
from websockets.uri import parse_uri  # noqa: E402

from voicedsp.platform import _ws  # noqa: E402


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


def _client_frames(*frames):
    """Wire bytes of client frames (masked, random keys), each (opcode, data, fin)."""
    client = Protocol(Side.CLIENT, state=State.OPEN, max_size=None)
    for opcode, data, fin in frames:
        client.send_frame(Frame(opcode, data, fin))
    return b"".join(client.data_to_send())


def _server_frames(*frames):
    """What websockets' server side sends for the same frames (unmasked)."""
    server = Protocol(Side.SERVER, state=State.OPEN, max_size=None)
    for opcode, data, fin in frames:
        server.send_frame(Frame(opcode, data, fin))
    return b"".join(server.data_to_send())


async def _server(accepts=lambda data: False, *, max_size=4096, on_binary=None):
    """A media server whose handler offers text messages to ``accepts`` (the hot path) and
    reads the rest with ``async for``; returns (server, port, log, closed): log records
    ('fast', data) / ('slow', msg) in arrival order, closed gets the close code."""
    log, closed = [], asyncio.get_running_loop().create_future()
    conns = []

    async def handler(conn):
        conns.append(conn)

        def on_text(data):
            if accepts(data):
                log.append(("fast", bytes(data)))
                return True
            return False

        conn.on_text = on_text
        conn.on_binary = on_binary
        async for msg in conn:
            log.append(("slow", msg))
        closed.set_result(conn.close_code)

    server = await _ws.serve(handler, "127.0.0.1", 0, max_size=max_size)
    server.conns = conns
    return server, server.sockets[0].getsockname()[1], log, closed


async def _raw_client(port, path="/"):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    proto = ClientProtocol(parse_uri(f"ws://127.0.0.1:{port}{path}"))
    proto.send_request(proto.connect())
    writer.write(b"".join(proto.data_to_send()))
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101")
    return reader, writer


async def _write_split(writer, wire, split, seed=7):
    if split == "whole":
        writer.write(wire)
        return
    rng = random.Random(seed)
    i = 0
    while i < len(wire):
        k = 1 if split == "bytewise" else rng.randint(1, 40)
        writer.write(wire[i:i + k])
        await writer.drain()
        await asyncio.sleep(0)
        i += k


def _accepts_m(data):
    data.decode()                        # what orjson does: invalid UTF-8 raises
    return data.startswith(b'{"m"')


def _safe(fn):
    def f(data):
        try:
            return fn(data)
        except ValueError:
            return False
    return f


@pytest.mark.parametrize("split", ["whole", "bytewise", "random"])
def test_messages_in_order_whatever_the_split(split):
    msgs = [
        (Opcode.TEXT, b'{"m":1}', True),
        (Opcode.TEXT, b'{"start":1}', True),                 # declined: recv() gets it
        (Opcode.TEXT, b'{"m":2}', True),
        (Opcode.PING, b"hi", True),                          # picows answers it
        (Opcode.TEXT, b'{"m":3,', False),                    # fragmented, reassembled
        (Opcode.PING, b"", True),                            # a control frame in between
        (Opcode.CONT, b'"x":"' + b"y" * 300 + b'"', False),
        (Opcode.CONT, b"}", True),
        (Opcode.TEXT, b'{"m":4,"pad":"' + b"z" * 200 + b'"}', True),   # 16-bit length
        (Opcode.BINARY, b"\x00\x01", True),                  # binary: recv() gets it
        (Opcode.TEXT, b'{"m":5,"e":"\xc3\xa9"}', True),
    ]
    want = [b'{"m":1}', b'{"start":1}', b'{"m":2}', b'{"m":3,"x":"' + b"y" * 300 + b'"}',
            b'{"m":4,"pad":"' + b"z" * 200 + b'"}', b"\x00\x01", b'{"m":5,"e":"\xc3\xa9"}']

    async def main():
        server, port, log, closed = await _server(_safe(_accepts_m))
        reader, writer = await _raw_client(port)
        await _write_split(writer, _client_frames(*msgs), split)
        pongs = _server_frames((Opcode.PONG, b"hi", True), (Opcode.PONG, b"", True))
        assert await asyncio.wait_for(reader.readexactly(len(pongs)), 5) == pongs
        await asyncio.sleep(0.1)
        writer.write(_client_frames((Opcode.CLOSE, b"\x03\xe8", True)))
        echo = _server_frames((Opcode.CLOSE, b"\x03\xe8", True))
        assert await asyncio.wait_for(reader.readexactly(len(echo)), 5) == echo
        assert await asyncio.wait_for(reader.read(), 5) == b""     # then the server hangs up
        assert await asyncio.wait_for(closed, 5) == 1000
        writer.close()
        await server.close()
        # every message once, in the order sent, whichever path took it
        assert [d if isinstance(d, bytes) else d.encode() for _, d in log] == want
        kinds = dict(zip(want, [k for k, _ in log]))
        assert kinds[want[0]] == "fast"               # nothing queued before it
        assert kinds[want[1]] == "slow" and kinds[want[5]] == "slow"   # declined, binary
        assert isinstance(log[1][1], str) and isinstance(log[5][1], bytes)
        if split == "bytewise":                       # recv() had time to drain its queue
            assert all(kinds[w] == "fast" for w in want if w.startswith(b'{"m"'))

    run(main())


@pytest.mark.parametrize("bad,code", [
    ([(Opcode.TEXT, b'{"m":"\xff\xfe"}', True)], 1007),             # invalid UTF-8
    ([(Opcode.TEXT, b'{"m":"' + b"x" * 5000 + b'"}', True)], 1009),  # one frame too big
    ([(Opcode.TEXT, b'{"m":"' + b"x" * 3000, False),                 # a message too big
      (Opcode.CONT, b"x" * 3000 + b'"}', True)], 1009),
    ([(Opcode.TEXT, b'{"m":"\xc3', False), (Opcode.CONT, b'\xff"}', True)], 1007),
    ([(Opcode.CONT, b'"}', True)], 1002),                             # no message to continue
    ([(Opcode.TEXT, b'{"m":', False), (Opcode.TEXT, b"1}", True)], 1002),  # not a CONT
], ids=["invalid-utf8", "frame-too-big", "message-too-big", "invalid-utf8-fragmented",
        "orphan-continuation", "data-inside-fragmented"])
def test_bad_frames_fail_the_connection_with_their_code(bad, code, caplog):
    async def main():
        server, port, log, closed = await _server(_safe(_accepts_m))
        reader, writer = await _raw_client(port)
        writer.write(_client_frames((Opcode.TEXT, b'{"m":1}', True)))
        await asyncio.sleep(0.05)
        writer.write(_client_frames(*bad, (Opcode.TEXT, b'{"m":2}', True)))
        head = await asyncio.wait_for(reader.readexactly(4), 5)
        assert head[:1] == b"\x88" and int.from_bytes(head[2:4], "big") == code
        await asyncio.wait_for(closed, 5)            # the handler's reader ended
        writer.close()
        await server.close()
        assert log == [("fast", b'{"m":1}')]          # nothing after the bad frame was taken

    with caplog.at_level(logging.WARNING, logger="voicedsp.platform.ws"):
        run(main())
    # the peer's fault: a warning, not an error
    records = [r for r in caplog.records if r.name == "voicedsp.platform.ws"]
    assert records and all(r.levelno == logging.WARNING for r in records)


def test_a_failing_handler_drops_one_message_and_the_connection_goes_on(caplog):
    def accepts(data):
        if data == b'{"m":"boom"}':
            raise RuntimeError("boom")
        return data.startswith(b'{"m"')

    async def main():
        server, port, log, closed = await _server(accepts)
        reader, writer = await _raw_client(port)
        writer.write(_client_frames((Opcode.TEXT, b'{"m":1}', True),
                                    (Opcode.TEXT, b'{"m":"boom"}', True),
                                    (Opcode.TEXT, b'{"m":2}', True)))
        await asyncio.sleep(0.1)
        writer.write(_client_frames((Opcode.CLOSE, b"\x03\xe8", True)))
        assert await asyncio.wait_for(closed, 5) == 1000
        writer.close()
        await server.close()
        assert log == [("fast", b'{"m":1}'), ("fast", b'{"m":2}')]

    with caplog.at_level(logging.CRITICAL, logger="voicedsp.platform"):
        run(main())


def test_send_now_frames_in_order_and_declines_a_closed_connection():
    async def main():
        done = asyncio.Event()

        async def handler(conn):
            assert conn.send_now([b'{"a":1}', b'{"b":2}'], binary=b"\x01\x02")
            await conn.wait_closed()
            assert not conn.send_now([b'{"c":3}'])        # closed: declined, nothing raised
            with pytest.raises(_ws.ConnectionClosed):
                await conn.send("late")
            done.set()

        server = await _ws.serve(handler, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with websockets.connect(f"ws://127.0.0.1:{port}", compression=None) as ws:
            got = [await ws.recv() for _ in range(3)]
        await asyncio.wait_for(done.wait(), 5)
        await server.close()
        assert got == [b"\x01\x02", '{"a":1}', '{"b":2}']

    run(main())


@pytest.mark.parametrize("n", [0, 1, 125, 126, 127, 65535, 65536, 70000])
def test_send_now_writes_what_websockets_would(n):
    data = bytes(range(256)) * (n // 256) + bytes(n % 256)

    async def main():
        async def handler(conn):
            assert conn.send_now([data, b"{}"], binary=data)
            await conn.wait_closed()

        server = await _ws.serve(handler, "127.0.0.1", 0)
        reader, writer = await _raw_client(server.sockets[0].getsockname()[1])
        want = _server_frames((Opcode.BINARY, data, True), (Opcode.TEXT, data, True),
                              (Opcode.TEXT, b"{}", True))
        assert await asyncio.wait_for(reader.readexactly(len(want)), 5) == want
        writer.close()
        await server.close()

    run(main())


def test_close_sends_the_code_and_waits_for_the_peer():
    async def main():
        async def handler(conn):
            assert conn.request.path == "/x?key=1" and conn.request.headers["Host"]
            await conn.close(4401, "invalid API key")

        server = await _ws.serve(handler, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        ws = await websockets.connect(f"ws://127.0.0.1:{port}/x?key=1")
        with pytest.raises(websockets.ConnectionClosed) as exc:
            await ws.recv()
        assert exc.value.rcvd.code == 4401 and exc.value.rcvd.reason == "invalid API key"
        await server.close()

    run(main())


def test_precheck_refuses_before_the_upgrade():
    async def main():
        seen = []

        def precheck(request):
            seen.append(request.path)
            return (503, b"capacity reached\n") if request.path.startswith(b"/full") else None

        async def handler(conn):
            await conn.send("hello")

        server = await _ws.serve(handler, "127.0.0.1", 0, precheck=precheck)
        port = server.sockets[0].getsockname()[1]
        with pytest.raises(websockets.InvalidStatus) as exc:
            await websockets.connect(f"ws://127.0.0.1:{port}/full")
        assert exc.value.response.status_code == 503
        assert exc.value.response.body == b"capacity reached\n"
        async with websockets.connect(f"ws://127.0.0.1:{port}/ok") as ws:
            assert await ws.recv() == "hello"
        assert seen == [b"/full", b"/ok"]
        await server.close()

    run(main())


def test_server_close_closes_open_connections_and_waits_for_handlers():
    async def main():
        finished = []

        async def handler(conn):
            try:
                async for _ in conn:
                    pass
            finally:
                finished.append(conn.close_code)

        server = await _ws.serve(handler, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        clients = [await websockets.connect(f"ws://127.0.0.1:{port}") for _ in range(3)]
        await asyncio.sleep(0.05)
        await server.close()
        assert finished == [1001, 1001, 1001]          # the clients echoed the server's 1001
        for ws in clients:
            with pytest.raises(websockets.ConnectionClosed) as exc:
                await ws.recv()
            assert exc.value.rcvd.code == 1001

    run(main())


def test_client_reassembles_and_counts_what_it_cannot_use():
    """The model leg's client connection: fragmented messages from the server arrive whole
    through on_text; a close with a code is reported with it."""
    async def main():
        async def model(ws):
            assert await ws.recv() == "go"
            await ws.send(["{\"type\":", "\"a\"}"])              # fragmented text
            await ws.send(b"\x00\x01")
            await ws.send('{"type":"b"}')
            await ws.close(4000, "bye")

        async with websockets.serve(model, "127.0.0.1", 0, compression=None) as srv:
            port = srv.sockets[0].getsockname()[1]
            conn = await _ws.connect(f"ws://127.0.0.1:{port}")
            got, closed = [], asyncio.Event()
            conn.on_text = lambda d: got.append(bytes(d)) or True
            conn.on_binary = lambda d: got.append(("bin", bytes(d))) or True
            conn.on_close = lambda c: closed.set()
            await conn.send("go")
            await asyncio.wait_for(closed.wait(), 5)
        assert got == [b'{"type":"a"}', ("bin", b"\x00\x01"), b'{"type":"b"}']
        assert conn.close_code == 4000

    run(main())


@pytest.fixture(scope="module")
def tls_cert(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1 (openssl), and its key."""
    import shutil
    import subprocess
    if shutil.which("openssl") is None:
        pytest.skip("openssl not installed")
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


def test_client_over_tls_verifies_the_server(tls_cert):
    """wss:// (what a hosted model's URL is): messages both ways through TLS when the
    server's certificate verifies; a clear OSError (ssl.SSLError) when it does not."""
    import ssl

    cert, key = tls_cert

    async def main():
        server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server_ctx.load_cert_chain(cert, key)

        async def echo(ws):
            async for msg in ws:
                await ws.send(msg)

        async with websockets.serve(echo, "127.0.0.1", 0, ssl=server_ctx,
                                    compression=None) as srv:
            url = f"wss://127.0.0.1:{srv.sockets[0].getsockname()[1]}"
            trusting = ssl.create_default_context(cafile=str(cert))
            conn = await _ws.connect(url, ssl_context=trusting)
            got = asyncio.get_running_loop().create_future()
            conn.on_text = lambda d: got.done() or got.set_result(bytes(d)) or True
            assert conn.send_now([b'{"type":"session.update"}'])
            assert await asyncio.wait_for(got, 5) == b'{"type":"session.update"}'
            await conn.close()
            with pytest.raises(ssl.SSLError):         # the system's CAs do not know it
                await _ws.connect(url, timeout=5)

    run(main())


def test_a_reader_that_does_not_keep_up_pauses_the_socket():
    """Declined messages queue for recv(); past 64 the socket is not read any more (TCP
    pushes back on the peer) and reading resumes as the handler catches up: nothing lost,
    nothing reordered, memory bounded."""
    async def main():
        go, got, conns = asyncio.Event(), [], []

        async def handler(conn):
            conns.append(conn)
            await go.wait()
            async for msg in conn:
                got.append(msg)

        server = await _ws.serve(handler, "127.0.0.1", 0, max_size=1 << 20)
        reader, writer = await _raw_client(server.sockets[0].getsockname()[1])
        n = 2000
        msgs = [('{"n":%d,"pad":"%s"}' % (i, "p" * 1000)).encode() for i in range(n)]
        writer.write(_client_frames(*((Opcode.TEXT, m, True) for m in msgs)))
        await asyncio.sleep(0.3)
        conn = conns[0]
        assert conn._paused and 64 <= len(conn._queue) < n // 2
        go.set()
        while len(got) < n:
            await asyncio.sleep(0.01)
        assert [m.encode() for m in got] == msgs and not conn._paused
        writer.write(_client_frames((Opcode.CLOSE, b"\x03\xe8", True)))
        await server.close()
        writer.close()

    run(main())


@pytest.mark.parametrize("split", ["bytewise", "random"])
def test_a_twilio_call_whatever_the_split(split):
    """A whole Twilio leg through the platform with its bytes cut anywhere: every media
    frame reaches the bridge once, a malformed message in the middle is a counted fault
    and the call goes on, the caller hears the platform, `stop` ends the call."""
    import base64

    import voicedsp
    from voicedsp.platform import _media
    from voicedsp.platform._util import dumps

    def media(seq):
        return dumps({"event": "media", "sequenceNumber": str(seq), "streamSid": "MZ1",
                      "media": {"track": "inbound", "chunk": str(seq), "timestamp": "0",
                                "payload": base64.b64encode(b"\xff" * 160).decode()}})

    async def main():
        async with voicedsp.Voice(local_model={"speed": 8}) as voice:
            port = voice.platform.media_port
            reader, writer = await _raw_client(port, "/twilio")
            start = dumps({"event": "start", "streamSid": "MZ1", "start": {
                "streamSid": "MZ1", "callSid": "CAsplit", "mediaFormat": {
                    "encoding": "audio/x-mulaw", "sampleRate": 8000}}})
            msgs = [dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}),
                    start]
            await _write_split(writer, _client_frames(
                *((Opcode.TEXT, m.encode(), True) for m in msgs)), split)
            call = await voice.wait_for_call("CAsplit")
            await asyncio.sleep(0.1)
            frames = [media(i) for i in range(1, 21)]
            frames.insert(10, "{not json")
            await _write_split(writer, _client_frames(
                *((Opcode.TEXT, m.encode(), True) for m in frames)), split, seed=11)
            await asyncio.sleep(0.3)
            info = (await voice.calls.get(sid=call.sid)).info
            assert info["status"] == "in_progress"
            assert info["media"]["frames_in"] == 20
            assert info["faults"]["malformed_json"] == 1
            assert sum(info["faults"].values()) == 1
            heard = await asyncio.wait_for(reader.read(4096), 5)    # downlink frames
            assert heard[:1] == b"\x81" and b'"event":"media"' in heard
            writer.write(_client_frames((Opcode.TEXT, dumps({"event": "stop"}).encode(),
                                         True)))
            assert await call.wait(timeout=5) == "completed"
            writer.close()
        assert _media.live_bridges() == 0

    run(main())


def test_hand_over_delivers_what_was_queued_first_in_order():
    async def main():
        async def model(ws):
            for i in range(3):
                await ws.send('{"n":%d}' % i)
            assert await ws.recv() == "more"
            await ws.send('{"n":3}')
            await ws.close(1000)

        async with websockets.serve(model, "127.0.0.1", 0, compression=None) as srv:
            port = srv.sockets[0].getsockname()[1]
            conn = await _ws.connect(f"ws://127.0.0.1:{port}")
            assert await conn.recv() == '{"n":0}'             # the slow path first
            await asyncio.sleep(0.1)                           # n=1, n=2 queued meanwhile
            got, closed = [], []
            conn.hand_over(lambda d: got.append(bytes(d)) or True, None, closed.append)
            assert got == [b'{"n":1}', b'{"n":2}']
            await conn.send("more")
            await asyncio.wait_for(conn.wait_closed(), 5)
        assert got == [b'{"n":1}', b'{"n":2}', b'{"n":3}']
        assert closed == [conn] and conn.close_code == 1000

    run(main())
