"""The embedded call platform on loopback: real WebSocket servers, real protocols.

Every test goes through the MediaBridge contract (voicedsp.platform._media.make_bridge)."""

import asyncio
import base64
import gc
import logging

import numpy as np
import pytest

pytest.importorskip("websockets")
pytest.importorskip("orjson")

import websockets  # noqa: E402

import voicedsp  # noqa: E402
from voicedsp.platform import (BargeIn, CapacityError, Hangup, LocalModelServer,  # noqa: E402
                               NotFoundError, RealtimeModelLeg, Say, Silence, WaitAgent)
from voicedsp.platform import _media  # noqa: E402
from voicedsp.platform._util import dumps, loads  # noqa: E402
from voicedsp.platform.spec import AgentSpec, BadRequestError, clamp_ring_timeout  # noqa: E402

FAST = {"replies": ["Sure, one moment please, I am looking that up for you right now."],
        "speed": 8}
SHORT = {"replies": ["Yes, sure."], "speed": 8}


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


# -- the seam ------------------------------------------------------------------------------

def test_bridge_contract_through_the_seam():
    b = _media.make_bridge("g711_ulaw", 8000, "pcm16", 16000, 24000, frame_ms=20)
    try:
        audio, events = b.uplink(b"\xff" * 160)
        assert len(audio) == 640 and isinstance(events, tuple)
        with pytest.raises(ValueError):
            b.uplink(b"\xff" * 161)
        audio, _ = b.uplink(b"\xff" * 160)        # still usable after the error
        assert len(audio) == 640
        tone = bytes(2 * 24000)                   # 1 s of model audio (silence is audio too)
        b.push_model_audio(tone, item_id="item_1")
        assert 980 <= b.queued_ms <= 1020
        frames = [b.downlink() for _ in range(10)]
        assert all(len(f) == 160 for f in frames)
        assert 180 <= b.heard_ms("item_1") <= 220
        b.mark("m1")
        assert b.ack_mark("m1") is True
        assert b.ack_mark("nope") is False
        dropped = b.clear()
        assert 760 <= dropped <= 820 and b.queued_ms == 0
        assert len(b.downlink()) == 160           # comfort silence when empty
        assert b.stats["frames_in"] >= 2
    finally:
        _media.close_bridge(b)


def test_ring_timeout_is_clamped_and_specs_validated():
    assert clamp_ring_timeout(1) == 5 and clamp_ring_timeout(500) == 120
    assert clamp_ring_timeout(30) == 30
    with pytest.raises(BadRequestError):
        clamp_ring_timeout("soon")
    with pytest.raises(BadRequestError):
        AgentSpec(model_codec="mp3")
    with pytest.raises(BadRequestError):
        AgentSpec(mode="text")
    with pytest.raises(BadRequestError):
        AgentSpec.from_dict({"model_codec": "pcm16", "bogus": 1})
    spec = AgentSpec.from_dict({"model_codec": "g711_ulaw", "input_rate_hz": 8000,
                                "turn_detection": {"silence_threshold_ms": 700}})
    assert spec.turn_detection.silence_threshold_ms == 700
    assert AgentSpec.from_dict(spec.to_dict()).to_dict() == spec.to_dict()


# -- the model leg against the local model -------------------------------------------------

def test_realtime_leg_speaks_the_protocol_with_the_local_model():
    async def main():
        srv = await LocalModelServer(mode="echo", speed=20, api_key="sk-test").start()
        got, evs = [], []
        leg = RealtimeModelLeg(srv.url, api_key="sk-test", model_codec="pcm16",
                               input_rate_hz=16000, output_rate_hz=24000,
                               on_audio=lambda a, i: got.append((a, i)),
                               on_event=evs.append)
        await leg.connect()
        turn = bytes(range(256)) * 125            # 32000 bytes = 1 s at 16 kHz
        for off in range(0, len(turn), 640):
            await leg.append(turn[off:off + 640])
        await leg.commit()
        for _ in range(200):
            if any(e["type"] == "response_done" for e in evs):
                break
            await asyncio.sleep(0.02)
        total = sum(len(a) for a, _ in got)
        assert abs(total - 48000) <= 4           # the echo, resampled to 24 kHz
        item = got[0][1]
        await leg.barge(item, 420.0)
        await asyncio.sleep(0.1)
        assert srv.truncations == [(item, 420)]
        types = [t for _, t in srv.log]
        assert types[0] == "session.update"
        assert {"input_audio_buffer.append", "input_audio_buffer.commit", "response.create",
                "response.cancel", "conversation.item.truncate"} <= set(types)
        await leg.close()
        bad = RealtimeModelLeg(srv.url, api_key="wrong")
        with pytest.raises(ConnectionError):
            await bad.connect(timeout=3)
        await srv.stop()

    run(main())


# -- whole calls ----------------------------------------------------------------------------

def test_originated_call_turns_barge_in_and_clean_hangup():
    async def main():
        baseline = {t for t in asyncio.all_tasks()}
        async with voicedsp.Voice(local_model=FAST) as voice:
            p = voice.platform
            await voice.agents.register("support", AgentSpec())
            p.sim.add_phone("+15550100", [
                Say("Hello, what are your opening hours?"),
                BargeIn("Wait, I have another question for you.", after_ms=600),
                Silence(700), Hangup()], answer_after_ms=200)
            call = await voice.calls.originate(to="+15550100", from_="+15550199",
                                               agent="support", ring_timeout_sec=1)
            statuses = []
            call.on_status(lambda ev: statuses.append(ev["status"]))
            events = [ev async for ev in call.events()]
            await asyncio.sleep(0.05)
            kinds = [e["type"] for e in events]
            st = [e["status"] for e in events if e["type"] == "status"]
            assert st == ["dialing", "ringing", "in_progress", "completed"], st
            assert statuses[-1] == "completed"
            assert kinds.count("turn_commit") >= 1 and "barge_in" in kinds
            assert kinds.index("turn_commit") < kinds.index("response_started") \
                < kinds.index("barge_in")
            barge = next(e for e in events if e["type"] == "barge_in")
            # the model was told to cut its reply where the caller stopped hearing it
            assert p.local_model.truncations == [(barge["item_id"], int(barge["heard_ms"]))]
            assert barge["heard_ms"] > 200
            ended = p.ended[call.sid]
            assert ended.phone.clears and ended.phone.marks_echoed > 10
            assert ended.leg_summary["faults"] == {k: 0 for k in ended.leg_summary["faults"]}
            # hangup freed everything: no call, no bridge, no model socket, no task
            assert p.calls == {} and _media.live_bridges() == 0
            assert not p.local_model._conns
            assert ended.agent is None and ended.bridge is None
            info = (await voice.calls.get(sid=call.sid)).info
            assert info["status"] == "completed" and info["counters"]["barge_in"] == 1
        await asyncio.sleep(0.05)
        left = {t for t in asyncio.all_tasks() if not t.done()} - baseline
        left.discard(asyncio.current_task())
        assert not left, left

    run(main())


def test_unreachable_and_unknown():
    async def main():
        async with voicedsp.Voice(local_model=FAST) as voice:
            voice.platform.sim.add_phone("+15550111", reachable=False)
            call = await voice.calls.originate(to="+15550111")
            assert await call.wait(timeout=5) == "failed"
            with pytest.raises(NotFoundError):
                await voice.calls.get(sid="CAnope")
            with pytest.raises(NotFoundError):
                await voice.agents.attach(call.sid, "nobody")

    run(main())


def test_no_answer_after_ring_timeout():
    async def main():
        async with voicedsp.Voice(local_model=FAST) as voice:
            voice.platform.sim.add_phone("+15550112", answer=False)
            call = await voice.calls.originate(to="+15550112", ring_timeout_sec=0.1)
            assert call.info["ring_timeout_sec"] == 5
            assert await call.wait(timeout=10) == "no_answer"   # clamped to 5 s
            assert _media.live_bridges() == 0

    run(main())


async def _raw_caller(url, sid="CAraw0000"):
    ws = await websockets.connect(url)
    await ws.send(dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
    await ws.send(dumps({"event": "start", "streamSid": "MZ1", "start": {
        "streamSid": "MZ1", "callSid": sid, "mediaFormat": {"encoding": "audio/x-mulaw",
                                                            "sampleRate": 8000}}}))
    return ws


def _media_msg(seq, payload):
    return dumps({"event": "media", "sequenceNumber": str(seq), "streamSid": "MZ1",
                  "media": {"track": "inbound", "chunk": str(seq),
                            "payload": base64.b64encode(payload).decode()}})


def test_bad_input_is_counted_and_the_call_goes_on():
    async def main():
        async with voicedsp.Voice(local_model=FAST) as voice:
            p = voice.platform
            ws = await _raw_caller(p.twilio_url)
            call = await voice.wait_for_call("CAraw0000")
            await voice.agents.attach(call.sid, AgentSpec())
            seq = 1
            for _ in range(5):
                await ws.send(_media_msg(seq, b"\xff" * 160))
                seq += 1
            await ws.send("{not json")
            await ws.send(dumps([1, 2]))
            await ws.send(dumps({"event": "media", "sequenceNumber": str(seq),
                                 "media": {"payload": "%%%not base64"}}))
            seq += 1
            await ws.send(dumps({"event": "dtmf", "dtmf": {"digit": "1"}}))
            await ws.send(_media_msg(seq, b"\xff" * 400))          # oversized frame
            seq += 1
            await ws.send(_media_msg(2, b"\xff" * 160))            # out of order
            await ws.send(dumps({"event": "mark", "mark": {"name": "bogus"}}))
            for _ in range(5):
                await ws.send(_media_msg(seq, b"\xff" * 160))
                seq += 1
            await asyncio.sleep(0.2)
            info = (await voice.calls.get(sid=call.sid)).info
            assert info["status"] == "in_progress" and info["agent_connected"]
            f = info["faults"]
            assert f["malformed_json"] == 2 and f["bad_base64"] == 1
            assert f["unknown_event"] == 1 and f["bad_frame_size"] == 1
            assert f["out_of_order"] == 1 and f["unknown_mark"] == 1
            assert info["media"]["frames_in"] == 10
            # the platform keeps talking to the caller
            n = 0
            while n < 5:
                msg = loads(await ws.recv())
                n += msg["event"] == "media"
            await ws.send(dumps({"event": "stop", "streamSid": "MZ1"}))
            await asyncio.wait_for(p.ended.get(call.sid) or asyncio.sleep(0.3), 2)
            await asyncio.sleep(0.1)
            assert p.calls == {} and _media.live_bridges() == 0
            await ws.close()

    run(main())


def test_model_leg_drop_keeps_the_call_up_and_reattach_works():
    async def main():
        async with voicedsp.Voice(local_model=FAST) as voice:
            p = voice.platform
            phone = voice.simulate_inbound([Silence(6000)])
            call = await voice.wait_for_call(phone.call_sid)
            await voice.agents.attach(call.sid, AgentSpec())
            await p.local_model.drop_all()
            async for ev in call.events():
                if ev["type"] == "model_disconnected":
                    break
            info = (await voice.calls.get(sid=call.sid)).info
            assert info["status"] == "in_progress" and not info["agent_connected"]
            await voice.agents.attach(call.sid, AgentSpec())
            info = (await voice.calls.get(sid=call.sid)).info
            assert info["agent_connected"] and info["counters"]["model_disconnects"] == 1
            await call.hangup()
            await phone.task
            assert _media.live_bridges() == 0 and not p.local_model._conns

    run(main())


def test_model_that_stops_reading_does_not_grow_the_platforms_buffer():
    from voicedsp.platform.realtime import RealtimeModelLeg

    async def main():
        stop_reading = asyncio.Event()

        async def model(ws):                  # a Realtime peer that hangs after the session
            await ws.recv()
            await ws.send(dumps({"type": "session.updated", "session": {}}))
            await stop_reading.wait()
            async for _ in ws:                 # reads again: the leg's close completes
                pass

        async with websockets.serve(model, "127.0.0.1", 0, compression=None,
                                    max_queue=2) as server:
            port = server.sockets[0].getsockname()[1]
            events = []
            leg = RealtimeModelLeg(f"ws://127.0.0.1:{port}", on_event=events.append,
                                   write_limit=256 * 1024, append_ms=20)
            await leg.connect()
            second = bytes(32000)              # 1 s of 16 kHz PCM16 per append
            for _ in range(400):               # 400 s of audio, 17 MB as base64 JSON
                leg.append_now(second)
                await asyncio.sleep(0)
            unsent = leg._ws.transport.get_write_buffer_size()
            assert unsent <= 256 * 1024 + 64 * 1024       # the limit plus one message
            assert leg.stats["dropped_appends"] > 0
            assert [e["type"] for e in events].count("model_stalled") == 1
            leg.commit_now()                   # control messages still go out
            assert leg.stats["commits"] == 1
            stop_reading.set()
            await leg.close()

    run(main())


def test_capacity_refuses_extra_calls_cleanly():
    async def main():
        async with voicedsp.Voice(local_model=FAST, max_calls=2) as voice:
            p = voice.platform
            a = voice.simulate_inbound([Silence(3000)])
            b = voice.simulate_inbound([Silence(3000)])
            await voice.wait_for_call(a.call_sid)
            await voice.wait_for_call(b.call_sid)
            with pytest.raises(websockets.InvalidStatus) as exc:
                await websockets.connect(p.twilio_url)
            assert exc.value.response.status_code == 503
            with pytest.raises(CapacityError):
                await voice.calls.originate(to="+15550100")
            assert len(p.calls) == 2 and p.refused == 2 and _media.live_bridges() == 2
            for ph in (a, b):
                call = await voice.calls.get(sid=ph.call_sid)
                assert call.status == "in_progress"
                await call.hangup()
            await asyncio.gather(a.task, b.task)
            assert _media.live_bridges() == 0

    run(main())


def test_bare_audio_bridge_is_the_far_end():
    async def main():
        async with voicedsp.Voice(local_model=FAST) as voice:
            phone = voice.simulate_inbound([Silence(200), Say("Hello there."), Silence(900)])
            call = await voice.wait_for_call(phone.call_sid)
            frames = []
            ab = await voice.audio_bridge.attach(call.sid, on_uplink=frames.append,
                                                 codec="pcm16", sample_rate=16000)
            tone = (8000 * np.sin(2 * np.pi * 500 * np.arange(8000) / 16000)).astype(np.int16)
            for off in range(0, len(tone), 320):
                await ab.publish_downlink(tone[off:off + 320].tobytes())
            await phone.task
            assert frames and all(len(f) == 640 for f in frames)
            heard = np.frombuffer(bytes(phone.heard), np.int16)
            loud = int((np.abs(heard.reshape(-1, 160)).max(1) > 2000).sum())
            assert 20 <= loud <= 30                # 0.5 s of tone = 25 frames
            assert max(np.abs(np.frombuffer(b"".join(frames), np.int16))) > 1000

    run(main())


def test_leak_free_under_repeated_calls():
    async def main():
        async with voicedsp.Voice(local_model=FAST) as voice:
            phones = [voice.simulate_inbound([Silence(300), Hangup()]) for _ in range(8)]
            await asyncio.gather(*(ph.task for ph in phones))
            await asyncio.sleep(0.1)
            assert voice.platform.calls == {} and _media.live_bridges() == 0
        gc.collect()

    run(main())


def test_browser_opus_leg():
    pytest.importorskip("numpy")
    try:
        _media.OpusCodec(48000)
    except ValueError:
        pytest.skip("no Opus codec (voicedsp.OpusEncoder or opuslib)")
    import time

    from voicedsp.platform._util import synthesize

    async def main():
        async with voicedsp.Voice(local_model=FAST) as voice:
            p = voice.platform
            codec = _media.OpusCodec(48000)
            ws = await websockets.connect(p.browser_url, compression=None)
            await ws.send(dumps({"event": "start", "sample_rate": 48000}))
            started = loads(await ws.recv())
            assert started["event"] == "started"
            sid = started["call_sid"]
            await voice.agents.attach(sid, AgentSpec(
                turn_detection=voicedsp.TurnDetection(instant_barge=True)))
            heard, marks = [], []

            async def reader():
                async for msg in ws:
                    if isinstance(msg, bytes):
                        heard.append(codec.decode(msg))
                    else:
                        m = loads(msg)
                        if m["event"] == "mark":
                            marks.append(m["name"])
                            await ws.send(dumps({"event": "mark", "name": m["name"]}))

            rd = asyncio.get_running_loop().create_task(reader())
            speech = synthesize("Hello, can you hear me?", 48000)
            pcm = bytes(2 * 48000 * 3 // 10) + speech + bytes(2 * 48000 * 2)
            t_next = time.monotonic()
            for i, off in enumerate(range(0, len(pcm) - 1920, 1920)):
                if i % 10 == 5:
                    await ws.send(b"\xff\xff\xff")         # a corrupt packet: concealed
                else:
                    await ws.send(codec.encode(pcm[off:off + 1920]))
                t_next += 0.02
                await asyncio.sleep(max(0, t_next - time.monotonic()))
            info = (await voice.calls.get(sid=sid)).info
            await ws.send(dumps({"event": "stop"}))
            await asyncio.wait_for(rd, 5)
            assert info["counters"].get("turn_commit") == 1
            assert info["media"]["concealed"] >= 15            # the garbage, concealed
            x = np.frombuffer(b"".join(heard), np.int16)
            loud = int((np.abs(x[: len(x) // 960 * 960].reshape(-1, 960)).max(1) > 2000).sum())
            assert loud >= 25, loud                            # the agent's reply was heard
            assert marks
        assert _media.live_bridges() == 0

    run(main())


def test_blocking_facade():
    with voicedsp.BlockingVoice(local_model=SHORT) as voice:
        voice.agents.register("support", AgentSpec())
        voice.platform.sim.add_phone("+15550177", [Say("Hello, is anybody there?"),
                                                   WaitAgent(heard_ms=200, quiet_ms=300),
                                                   Hangup()])
        call = voice.calls.originate(to="+15550177", agent="support")
        kinds = [ev["type"] for ev in call.events(timeout=20)]
        assert call.wait(timeout=5) == "completed"
        assert "turn_commit" in kinds and "response_started" in kinds
        assert voice.calls.get(sid=call.sid).status == "completed"
    assert _media.live_bridges() == 0


# -- the media hot path ----------------------------------------------------------------------

def test_outbound_twilio_messages_are_the_protocol_byte_for_byte():
    from voicedsp.platform.twilio import TwilioLeg

    for sid in ("MZ0123456789abcdef0123456789abcdef", 'MZ"odd\\sid\u00e9'):
        leg = TwilioLeg(None, sid)
        payload = bytes(range(160))
        want = dumps({"event": "media", "streamSid": sid,
                      "media": {"payload": base64.b64encode(payload).decode()}}).encode()
        assert leg.media_message(payload) == want
        assert leg.mark_message("g0m10") == dumps(
            {"event": "mark", "streamSid": sid, "mark": {"name": "g0m10"}}).encode()
        assert leg._clear_msg == dumps({"event": "clear", "streamSid": sid}).encode()


def test_media_and_marks_take_the_fast_path(monkeypatch):
    from voicedsp.platform.core import Platform

    seen = []
    fast = Platform._twilio_fast

    def counting(call, leg, data):
        handled = fast(call, leg, data)
        seen.append(handled)
        return handled

    monkeypatch.setattr(Platform, "_twilio_fast", staticmethod(counting))

    async def main():
        async with voicedsp.Voice(local_model=FAST) as voice:
            p = voice.platform
            ws = await _raw_caller(p.twilio_url)
            call = await voice.wait_for_call("CAraw0000")
            await asyncio.sleep(0.1)                              # the leg is bound
            for seq in range(1, 11):
                await ws.send(_media_msg(seq, b"\xff" * 160))
            await ws.send("{not json")                            # declined: slow path
            await asyncio.sleep(0.3)
            info = (await voice.calls.get(sid=call.sid)).info
            assert info["media"]["frames_in"] == 10
            assert info["faults"]["malformed_json"] == 1
            assert seen.count(True) >= 8 and seen.count(False) <= 1   # media as parsed
            await ws.send(dumps({"event": "stop", "streamSid": "MZ1"}))
            await ws.close()

    run(main())


def test_scripted_speech_without_espeak_is_a_buzz_and_says_so(monkeypatch, caplog):
    from voicedsp.platform import _util

    monkeypatch.setattr(_util, "have_espeak", lambda: False)
    _util._warn_no_espeak.cache_clear()
    with caplog.at_level(logging.WARNING, logger="voicedsp.platform"):
        a = _util.synthesize.__wrapped__("one two three", 8000)
        b = _util.synthesize.__wrapped__("four five", 8000)
    pcm = np.frombuffer(a, np.int16)
    assert len(pcm) == int(max(0.3, 0.07 * 13) * 8000) and np.abs(pcm).max() > 1000
    assert len(b) < len(a)
    assert [r.levelno for r in caplog.records if "espeak-ng" in r.getMessage()] == [
        logging.WARNING]                               # once, not per text
