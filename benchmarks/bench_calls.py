"""N concurrent Twilio-protocol calls over loopback WebSockets, in real time.

The platform (media server, bridges, pacers, model legs) runs in this process; the callers
and the local Realtime model (echo mode) run in two other processes. The callers are a lean
load generator (`_LeanCaller`: the Twilio Media Streams messages of a phone leg, masked
client frames, marks echoed, one timer for all) so that hundreds of calls fit on one core;
`--phones` uses full `SimulatedPhone` handsets instead. `--pin` runs the platform alone on
CPU 0 and the callers and model on the other CPUs. Reports the platform process's CPU per
call, the share of it spent in the bridge (uplink + downlink cost measured in isolation x
frames processed), outbound frame lateness p50/p99, the share of due frames served (out)
and received (in), the committed turns, calls that got a model reply, protocol faults, and
`waited`: the share of the window the platform was ready to run while its core ran another
task (nonzero on a shared machine: lateness then is not all the platform's own).
`--timeline` prints the same per 0.5 s of the window (the callers all speak, and get their
replies, at the same moment: the turn burst shows up there); `--breakdown` times each step
of the hot path alone.

    python benchmarks/bench_calls.py --calls 300 500 --seconds 8 --uvloop --pin [--timeline]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import subprocess
import sys
import time


SENTENCE = "Hello, I have a question about my bill."


async def _phones(url: str, n: int, seconds: float) -> None:
    """The callers as ``SimulatedPhone`` objects (each a full handset model: plays what it
    receives, numpy level checks, websockets client). Costly: ~1 core at 300 calls."""
    from voicedsp.platform.twilio import Hangup, Say, Silence, SimulatedPhone

    script = [Silence(200), Say(SENTENCE), Silence(int(seconds * 1000)), Hangup()]
    phones = [SimulatedPhone(url, script) for _ in range(n)]
    await asyncio.gather(*(p.run() for p in phones), return_exceptions=True)


class _LeanCaller(asyncio.Protocol):
    """One caller of the lean load generator, after the websockets handshake: the Twilio
    Media Streams messages a phone leg sends (``connected``, ``start``, one ``media`` per
    20 ms, ``mark`` echoes, ``stop``), each a masked client frame with a fresh random key,
    written straight to the transport; inbound frames are cut and only looked at for
    ``mark`` (echoed at the next tick) and counted."""

    def __init__(self, transport, sid: str) -> None:
        import random

        self.t = transport
        self.sid = sid
        self.stream = ("MZ" + sid[2:]).encode()
        self.seq = 0
        self.buf = b""
        self.marks = []
        self.rx_media = 0
        self.closed = False
        self._rand = random.Random(sid).getrandbits

    def connection_lost(self, exc) -> None:
        self.closed = True

    def data_received(self, data: bytes) -> None:
        buf = self.buf + data if self.buf else data
        pos, n = 0, len(buf)
        while pos + 2 <= n:
            ln, hdr = buf[pos + 1] & 0x7F, pos + 2
            if ln == 126:
                if hdr + 2 > n:
                    break
                ln, hdr = int.from_bytes(buf[hdr:hdr + 2], "big"), hdr + 2
            elif ln == 127:
                if hdr + 8 > n:
                    break
                ln, hdr = int.from_bytes(buf[hdr:hdr + 8], "big"), hdr + 8
            if hdr + ln > n:
                break
            if buf[hdr + 10:hdr + 14] == b"mark":          # {"event":"mark",...
                i = buf.find(b'"name":"', hdr, hdr + ln) + 8
                self.marks.append(buf[i:buf.find(b'"', i, hdr + ln)])
            else:
                self.rx_media += 1
            pos = hdr + ln
        self.buf = buf[pos:]

    def send(self, msg: bytes) -> None:
        from websockets.speedups import apply_mask

        key = self._rand(32).to_bytes(4, "big")
        n = len(msg)
        head = bytes((0x81, 0x80 | n)) if n < 126 else b"\x81\xfe" + n.to_bytes(2, "big")
        self.t.write(head + key + apply_mask(msg, key))

    def tick(self, i: int, payload_b64: bytes) -> None:
        self.seq += 1
        msg = (b'{"event":"media","sequenceNumber":"%d","streamSid":"%s","media":{"track":'
               b'"inbound","chunk":"%d","timestamp":"%d","payload":"%s"}}'
               % (self.seq, self.stream, i + 1, 20 * i, payload_b64))
        for name in self.marks:
            self.seq += 1
            msg_m = (b'{"event":"mark","streamSid":"%s","sequenceNumber":"%d","mark":'
                     b'{"name":"%s"}}' % (self.stream, self.seq, name))
            self.send(msg_m)
        self.marks.clear()
        self.send(msg)


async def _callers(url: str, n: int, seconds: float) -> None:
    """The lean load generator: N Twilio-protocol callers in one process, one timer for
    all. Each says one sentence (espeak-ng, μ-law) after 200 ms, then silence, then hangs
    up; the platform's handling of every message is the same as for a real phone."""
    import base64
    import random

    import websockets

    import voicedsp
    from voicedsp.platform._util import dumps, synthesize

    speech = voicedsp.ulaw_encode(synthesize(SENTENCE, 8000))
    silence = b"\xff" * 160
    total = int(seconds * 50)
    frames = [silence] * 10 + [speech[i:i + 160].ljust(160, b"\xff")
                               for i in range(0, len(speech), 160)]
    frames += [silence] * max(0, total - len(frames))
    b64 = {f: base64.b64encode(f) for f in set(frames)}
    payloads = [b64[f] for f in frames]

    async def connect(k: int):
        sid = "CA%032x" % random.getrandbits(128)
        ws = await websockets.connect(url, compression=None, open_timeout=30, ping_interval=None)
        c = _LeanCaller(ws.transport, sid)
        ws.transport.set_protocol(c)      # from here on, frames are ours (no websockets)
        c.send(dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}).encode())
        c.seq += 1
        c.send(dumps({"event": "start", "sequenceNumber": str(c.seq), "streamSid": c.stream.decode(),
                      "start": {"streamSid": c.stream.decode(), "callSid": sid,
                                "accountSid": "ACsimulated", "tracks": ["inbound"],
                                "customParameters": {},
                                "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000,
                                                "channels": 1}}}).encode())
        return c

    callers = []
    for k in range(0, n, 50):                # connect in batches, as calls arrive
        callers += await asyncio.gather(*(connect(j) for j in range(k, min(n, k + 50))))
    t_next = time.monotonic()
    for i in range(total):
        p = payloads[i]
        for c in callers:
            if not c.closed:
                c.tick(i, p)
        t_next += 0.020
        delay = t_next - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
    for c in callers:
        if not c.closed:
            c.seq += 1
            c.send(dumps({"event": "stop", "sequenceNumber": str(c.seq),
                          "streamSid": c.stream.decode(),
                          "stop": {"accountSid": "ACsimulated", "callSid": c.sid}}).encode())
            c.t.write(b"\x88\x82" + b"\x00\x00\x00\x00" + b"\x03\xe8")   # close 1000
    await asyncio.sleep(0.5)
    for c in callers:
        c.t.close()


def _bridge_cost_us(frames: int = 3000) -> float:
    from voicedsp.platform import _media

    b = _media.make_bridge("g711_ulaw", 8000, "pcm16", 16000, 24000)
    b.push_model_audio(bytes(2 * 24000 * 30))
    frame = b"\x55" * 160
    t0 = time.perf_counter()
    for _ in range(frames):
        b.uplink(frame)
        b.downlink()
    dt = time.perf_counter() - t0
    _media.close_bridge(b)
    return dt / frames * 1e6


def _best_us(fn, n: int = 4000, repeat: int = 7) -> float:
    """Best-of-``repeat`` mean µs of ``fn(i)`` over ``n`` calls (the least disturbed run on a
    loaded machine)."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for i in range(n):
            fn(i)
        best = min(best, (time.perf_counter() - t0) / n)
    return best * 1e6


def breakdown() -> list:
    """The per-call-frame steps of a Twilio call's hot path, each timed alone in this process
    (no event loop turn around them): [(step, µs, counted in the sum)]. What the live
    benchmark measures beyond their sum is the event loop and the connection glue around
    them."""
    import base64
    import socket

    from websockets.client import ClientProtocol
    from websockets.protocol import Protocol, Side, State
    from websockets.uri import parse_uri

    from voicedsp.platform import _media, _ws
    from voicedsp.platform._util import dumps, loads
    from voicedsp.platform.core import Call
    from voicedsp.platform.twilio import TwilioLeg

    n = 4000
    payload = bytes(range(160))
    msgs = [dumps({"event": "media", "sequenceNumber": str(i + 2), "streamSid": "MZ" + "0" * 32,
                   "media": {"track": "inbound", "chunk": str(i + 1), "timestamp": str(20 * i),
                             "payload": base64.b64encode(payload).decode()}}).encode()
            for i in range(n)]
    client = Protocol(Side.CLIENT, state=State.OPEN)
    wires = []
    for m in msgs:
        client.send_text(m)
        wires.append(b"".join(client.data_to_send()))
    leg = TwilioLeg(None, "MZ" + "0" * 32)

    async def media_connection():
        """The platform's media server (picows) and one real loopback client (a blocking
        socket, handshake by websockets' sans-I/O client): inbound, the bytes of one frame
        fed to the server connection's protocol the way the event loop does it
        (``get_buffer`` + ``buffer_updated``: parse, unmask, offer to ``on_text``);
        outbound, ``send_now`` of one media message (picows framing and the TCP send) and
        the peer's recv of it."""
        conns = []

        async def handler(conn):
            conns.append(conn)
            await conn.wait_closed()

        server = await _ws.serve(handler, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        sock = socket.create_connection(("127.0.0.1", port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        cp = ClientProtocol(parse_uri(f"ws://127.0.0.1:{port}/twilio"))
        cp.send_request(cp.connect())
        sock.sendall(b"".join(cp.data_to_send()))
        sock.setblocking(False)
        head = b""
        while b"\r\n\r\n" not in head:
            await asyncio.sleep(0.01)
            try:
                head += sock.recv(65536)
            except BlockingIOError:
                pass
        while not conns:
            await asyncio.sleep(0.01)
        conn = conns[0]
        conn.on_text = lambda data: True          # consume (the handler is timed below)
        proto = conn.transport.get_protocol()
        sock.setblocking(True)

        def feed(i):
            w = wires[i]
            proto.get_buffer(-1)[:len(w)] = w
            proto.buffer_updated(len(w))

        out = leg.media_message(payload)

        def send(i):
            conn.send_now([out])
            sock.recv(65536)

        t_in, t_out = _best_us(feed, n), _best_us(send, n)
        sock.close()
        await server.close()
        return t_in, t_out

    ws_in_us, ws_out_us = asyncio.run(media_connection())

    def twilio_in(i):
        if i == 0:
            leg._last_seq = leg._last_chunk = -1
        leg.parse_media(loads(msgs[i]), "CA")

    call = Call(None, "org", "CAbench", "inbound")
    call.leg = leg
    call.bridge = _media.make_bridge("g711_ulaw", 8000, "pcm16", 16000, 24000)
    call.bridge.push_model_audio(bytes(2 * 24000 * 60))
    ulaw = b"\x55" * 160

    def bridge_in(i):
        call.caller_frame_now(ulaw)

    def bridge_out(i):
        call.bridge.downlink()

    def twilio_out(i):
        leg.media_message(payload)

    lsock = socket.create_server(("127.0.0.1", 0))
    a = socket.create_connection(lsock.getsockname())
    b, _ = lsock.accept()
    for s_ in (a, b):
        s_.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    wire = wires[0]

    def kernel(i):
        a.send(wire)
        b.recv(65536)

    rows = [("picows: parse one inbound frame, offer it (get_buffer + buffer_updated)",
             ws_in_us, True),
            ("Twilio in: JSON parse, sequence checks, base64 decode", _best_us(twilio_in, n),
             True),
            ("bridge uplink + platform routing (agent idle)", _best_us(bridge_in, n), True),
            ("bridge downlink", _best_us(bridge_out, n), True),
            ("Twilio out: the media message (JSON around the base64)", _best_us(twilio_out, n),
             True),
            ("picows out: frame + loopback TCP send of it + the peer's recv (send_now)",
             ws_out_us, True),
            ("  (of the above: kernel, one loopback TCP send + recv of a message)",
             _best_us(kernel, n), False)]
    for s_ in (a, b, lsock):
        s_.close()
    _media.close_bridge(call.bridge)
    return rows


async def _one(n: int, seconds: float, model_url: str, phones: bool = False,
               pin_other=None, slot_s: float = 0.5) -> dict:
    import voicedsp
    from voicedsp.platform import AgentSpec

    async with voicedsp.Voice(model_url=model_url, max_calls=n + 10) as voice:
        p = voice.platform
        await voice.agents.register("a", AgentSpec())
        attached = set()

        async def attach_loop():
            while True:
                for sid in list(p.calls):
                    if sid not in attached:
                        attached.add(sid)
                        asyncio.get_running_loop().create_task(
                            voice.agents.attach(sid, "a"))
                await asyncio.sleep(0.05)

        env = dict(os.environ)
        callers = subprocess.Popen([sys.executable, __file__, "--callers", p.twilio_url,
                                    str(n), str(seconds), "phones" if phones else "lean"],
                                   env=env, preexec_fn=pin_other)
        att = asyncio.get_running_loop().create_task(attach_loop())
        while len(p.calls) < n and callers.poll() is None:
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)                 # let everyone settle
        p.lateness[:] = [0] * len(p.lateness)
        frames0 = sum(c.bridge.stats["frames_out"] for c in p.calls.values() if c.bridge)
        in0 = sum(c.bridge.stats["frames_in"] for c in p.calls.values() if c.bridge)
        t0, w0, q0 = os.times(), time.perf_counter(), _rq_wait_s()
        slots = []            # (t, duration, lateness hist, frames out, cpu, run-queue wait)
        prev = (list(p.lateness), frames0, t0, w0, q0)
        t_end = w0 + max(1.0, seconds - 3)
        while time.perf_counter() < t_end - 1e-3:
            await asyncio.sleep(min(slot_s, t_end - time.perf_counter()))
            h = list(p.lateness)
            f = sum(c.bridge.stats["frames_out"] for c in p.calls.values() if c.bridge)
            t, w, q = os.times(), time.perf_counter(), _rq_wait_s()
            slots.append((w - w0, w - prev[3], [a - b for a, b in zip(h, prev[0])],
                          f - prev[1], (t.user + t.system) - (prev[2].user + prev[2].system),
                          q - prev[4]))
            prev = (h, f, t, w, q)
        t1, w1, q1 = os.times(), time.perf_counter(), _rq_wait_s()
        frames1 = sum(c.bridge.stats["frames_out"] for c in p.calls.values() if c.bridge)
        in1 = sum(c.bridge.stats["frames_in"] for c in p.calls.values() if c.bridge)
        live = len(p.calls)
        turns = sum(c.bridge.stats["commits"] for c in p.calls.values() if c.bridge)
        replies = sum(1 for c in p.calls.values() if c.bridge and c.bridge.stats["model_chunks"])
        faults = sum(sum(c.leg.faults.values()) for c in p.calls.values()
                     if getattr(c, "leg", None) is not None)
        att.cancel()
        hist = list(p.lateness)
        await asyncio.to_thread(callers.wait)
    def pct(q, hist=hist):
        tot, acc = sum(hist), 0
        for i, v in enumerate(hist):
            acc += v
            if acc >= q * tot:
                return i / 10
        return float("nan")

    user, system = t1.user - t0.user, t1.system - t0.system
    cpu = user + system
    frames = max(1, frames1 - frames0)
    return {"calls": live, "cpu_share": cpu / (w1 - w0), "cpu_per_call_frame_us":
            cpu / frames * 1e6, "sys_share": system / cpu if cpu else 0.0,
            "p50": pct(0.5), "p99": pct(0.99), "frames": frames1 - frames0,
            # frames that went out / frames due (live calls x 50 per s): < 100 % means the
            # process was not scheduled in time and the ticker skipped ticks
            "served": (frames1 - frames0) / max(1.0, live * (w1 - w0) * 50.0),
            # caller frames that came in / frames due: < 100 % means the callers fell behind
            "inbound": (in1 - in0) / max(1.0, live * (w1 - w0) * 50.0),
            "turns": turns, "replies": replies, "faults": faults,
            # share of the window the platform was ready to run but its core ran another
            # task (a shared machine): lateness then is not the platform's own
            "waited": (q1 - q0) / (w1 - w0),
            # per slot of the window: end time (s), frames out / due, p99 lateness, CPU
            # share, run-queue wait share
            "slots": [(t, f / max(1.0, live * d * 50.0), pct(0.99, h), c / d, q / d)
                      for t, d, h, f, c, q in slots]}


def _rq_wait_s() -> float:
    """Seconds this thread has spent runnable but waiting for a CPU (Linux schedstat; 0
    where it is not available)."""
    try:
        import threading

        with open(f"/proc/self/task/{threading.get_native_id()}/schedstat") as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return 0.0


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--callers":
        try:
            import uvloop        # the callers are not what is measured: make them cheap

            asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
        except ImportError:
            pass
        gen = _phones if sys.argv[5:6] == ["phones"] else _callers
        asyncio.run(gen(sys.argv[2], int(sys.argv[3]), float(sys.argv[4])))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, nargs="+", default=[20, 50, 100])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--uvloop", action="store_true", help="run the platform on uvloop")
    ap.add_argument("--breakdown", action="store_true",
                    help="also time each step of the per-call-frame hot path alone")
    ap.add_argument("--phones", action="store_true",
                    help="callers as SimulatedPhone objects instead of the lean generator")
    ap.add_argument("--timeline", action="store_true",
                    help="also print served, p99 lateness, CPU and run-queue wait per 0.5 s "
                    "of the window")
    ap.add_argument("--pin", action="store_true",
                    help="platform on CPU 0 alone; callers and model on the other CPUs")
    args = ap.parse_args()
    pin_other = None    # run in each subprocess before it starts (--pin: the other CPUs)
    if args.pin:
        cpus = sorted(os.sched_getaffinity(0))
        if len(cpus) < 2:
            ap.error("--pin needs two CPUs")
        os.sched_setaffinity(0, cpus[:1])
        pin_other = functools.partial(os.sched_setaffinity, 0, cpus[1:])
    if args.breakdown:
        rows = breakdown()
        print("per call-frame, each step alone (best of 7):")
        for name, us, _ in rows:
            print(f"  {us:6.2f} us  {name}")
        print(f"  {sum(us for _, us, counted in rows if counted):6.2f} us  sum")
    if args.uvloop:
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    import logging

    logging.getLogger("websockets").setLevel(logging.ERROR)
    logging.getLogger("voicedsp").setLevel(logging.ERROR)
    model = subprocess.Popen([sys.executable, "-c",
                              "from voicedsp.platform.realtime import main; main()",
                              "--port", "0", "--mode", "echo"], stdout=subprocess.PIPE,
                             text=True, preexec_fn=pin_other)
    url = model.stdout.readline().strip()
    try:
        from voicedsp.platform import _media

        bridge_us = _bridge_cost_us()
        print(f"bridge ({_media.BRIDGE_NAME})"
              f": {bridge_us:.1f} us per call-frame (uplink + downlink)")
        print("calls  platform CPU  CPU/call-frame  (kernel)  bridge share  served  inbound  "
              "lateness p50 / p99  turns  replies  faults  waited")
        for n in args.calls:
            r = asyncio.run(_one(n, args.seconds, url, args.phones, pin_other))
            share = bridge_us / r["cpu_per_call_frame_us"] if r["cpu_per_call_frame_us"] else 0
            print(f"{r['calls']:5d}  {r['cpu_share']:11.0%}  {r['cpu_per_call_frame_us']:11.1f} us"
                  f"  {r['sys_share']:7.0%}  {share:11.0%}  {r['served']:5.0%}  {r['inbound']:6.0%}"
                  f"  {r['p50']:6.1f} / {r['p99']:5.1f} ms  {r['turns']:5d}  {r['replies']:7d}"
                  f"  {r['faults']:6d}  {r['waited']:6.0%}", flush=True)
            if args.timeline:
                print("   per 0.5 s (end, served, p99, CPU, waited): " + "  ".join(
                    f"{t:.1f}s {sv:.0%} {p99:.1f}ms {c:.0%} {q:.0%}"
                    for t, sv, p99, c, q in r["slots"]), flush=True)
    finally:
        model.terminate()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
