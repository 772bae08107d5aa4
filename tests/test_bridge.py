"""MediaBridge: the fused per-call media path, against its parts run separately."""

import gc
import os
import shutil
import subprocess
import sys
import threading
import time
import wave

import numpy as np
import pytest

import voicedsp

needs_tts = pytest.mark.skipif(shutil.which("espeak-ng") is None or shutil.which("sox") is None,
                               reason="needs espeak-ng and sox")


def tone(freq, seconds, rate, amp=8000, phase=0.0):
    t = np.arange(int(seconds * rate)) / rate
    return (np.sin(2 * np.pi * freq * t + phase) * amp).astype(np.int16)


def frames_of(pcm_bytes, size):
    return [pcm_bytes[i:i + size] for i in range(0, len(pcm_bytes) - size + 1, size)]


@pytest.fixture(scope="module")
def speech8k(tmp_path_factory):
    """About 1.6 s of synthesized speech at 8 kHz, int16."""
    if shutil.which("espeak-ng") is None or shutil.which("sox") is None:
        pytest.skip("needs espeak-ng and sox")
    d = tmp_path_factory.mktemp("speech")
    raw, out = d / "raw.wav", d / "speech.wav"
    subprocess.run(["espeak-ng", "-w", str(raw), "Hello, I would like to change my booking."],
                   check=True)
    subprocess.run(["sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", str(out)], check=True)
    with wave.open(str(out)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), np.int16).copy()


# --- construction -----------------------------------------------------------------------------

def test_bad_configurations_are_refused_clearly():
    with pytest.raises(voicedsp.InvalidArgumentError, match="unknown codec 'g729'"):
        voicedsp.MediaBridge("g729", 8000, "pcm16", 16000, 24000)
    with pytest.raises(ValueError, match="G.711 callers are 8000 Hz"):
        voicedsp.MediaBridge("g711_ulaw", 16000, "pcm16", 16000, 24000)
    with pytest.raises(voicedsp.UnsupportedRateError):
        voicedsp.MediaBridge("g711_ulaw", 8000, "pcm16", 22000, 24000)
    with pytest.raises(voicedsp.FrameSizeError):
        voicedsp.MediaBridge("opus", 48000, "pcm16", 16000, 24000, frame_ms=30)
    with pytest.raises(ValueError):
        voicedsp.MediaBridge("g711_ulaw", 8000, "pcm16", 16000, 24000, frame_ms=25)


# --- uplink: decode, detect, resample, encode -------------------------------------------------

@pytest.mark.parametrize("model_codec", ["pcm16", "g711_alaw"])
def test_uplink_equals_its_parts(speech8k, model_codec):
    b = voicedsp.MediaBridge("g711_ulaw", 8000, model_codec, 16000, 24000)
    codes = voicedsp.ulaw_encode(speech8k)
    out = b"".join(b.uplink(f)[0] for f in frames_of(codes, 160))
    n = len(codes) // 160 * 160
    # G.711 callers: the bridge resamples with one int16 coefficient per tap (precision q15)
    ref_pcm = voicedsp.Resampler(8000, 16000, quality="telephony", precision="q15").process(
        voicedsp.ulaw_decode(codes[:n]))
    expected = ref_pcm if model_codec == "pcm16" else voicedsp.alaw_encode(ref_pcm)
    assert out == expected
    assert b.stats["frames_in"] == n // 160


def test_pcm16_callers_keep_full_precision(speech8k):
    b = voicedsp.MediaBridge("pcm16", 8000, "pcm16", 16000, 24000)
    pcm = speech8k.tobytes()
    n = len(speech8k) // 160 * 160
    out = b"".join(b.uplink(pcm[2 * i:2 * i + 320])[0] for i in range(0, n, 160))
    assert out == voicedsp.Resampler(8000, 16000, quality="telephony").process(pcm[:2 * n])


def test_g711_precision_costs_far_less_than_g711_itself(speech8k):
    """What q15 coefficients change is tiny next to the mu-law quantization every G.711
    sample already carries: measured on the bridge's own path, both directions."""
    x = speech8k[: len(speech8k) // 160 * 160]
    codes = voicedsp.ulaw_encode(x)
    decoded = np.frombuffer(voicedsp.ulaw_decode(codes), np.int16).astype(float)
    g711_noise = np.sum((decoded - x) ** 2)
    for rin, rout, sig in [(8000, 16000, decoded), (24000, 8000, decoded)]:
        pcm = sig.astype(np.int16).tobytes()
        full = np.frombuffer(voicedsp.Resampler(rin, rout, quality="telephony").process(pcm),
                             np.int16).astype(float)
        q15 = np.frombuffer(voicedsp.Resampler(rin, rout, quality="telephony",
                                               precision="q15").process(pcm),
                            np.int16).astype(float)
        diff = np.sum((q15 - full) ** 2)
        assert 0 < diff                                  # the option does change something
        assert np.max(np.abs(q15 - full)) <= 3           # a few LSB at most
        # at least 40 dB under mu-law's own noise, relative to the same amount of signal
        assert 10 * np.log10(g711_noise / len(x) / (diff / len(full))) > 40


def test_every_uplink_frame_is_exactly_one_frame_of_model_audio():
    for rate_in, frame_ms in [(16000, 20), (24000, 20), (24000, 10), (44100, 20), (12000, 10)]:
        b = voicedsp.MediaBridge("pcm16", 8000, "pcm16", rate_in, 24000, frame_ms=frame_ms)
        frame = bytes(2 * 8 * frame_ms)
        for _ in range(7):
            audio, _ = b.uplink(frame)
            assert len(audio) == 2 * rate_in * frame_ms // 1000


def test_wrong_size_frame_is_refused_counted_and_harmless(speech8k):
    b = voicedsp.MediaBridge("g711_ulaw", 8000, "pcm16", 16000, 24000)
    ref = voicedsp.MediaBridge("g711_ulaw", 8000, "pcm16", 16000, 24000)
    codes = voicedsp.ulaw_encode(speech8k)
    for i, f in enumerate(frames_of(codes, 160)[:20]):
        if i == 5:
            with pytest.raises(voicedsp.InvalidArgumentError, match="frame of 161 bytes"):
                b.uplink(f + b"\0")
            with pytest.raises(TypeError):
                b.uplink("not bytes")
        assert b.uplink(bytearray(f)) == ref.uplink(f)
    assert b.stats["bad_frames"] == 1 and b.stats["frames_in"] == 20


def test_uplink_into_a_callers_buffer():
    b = voicedsp.MediaBridge("g711_ulaw", 8000, "pcm16", 16000, 24000)
    out = bytearray(b.uplink_max_bytes)
    n, events = b.uplink(b"\xff" * 160, out=out)
    assert n == 640 and events == ()
    with pytest.raises(voicedsp.BufferTooSmallError):
        b.uplink(b"\xff" * 160, out=bytearray(100))


# --- downlink: queue, resample, frame, clock --------------------------------------------------

def test_downlink_plays_the_resampled_model_audio_then_silence():
    b = voicedsp.MediaBridge("g711_ulaw", 8000, "pcm16", 16000, 24000)
    agent = tone(440, 0.5, 24000)
    # bursty pushes of odd sizes, faster than real time
    for chunk in np.array_split(agent, [1234, 1240, 7000, 11111]):
        b.push_model_audio(chunk.tobytes(), item_id="r1")
    expected = voicedsp.Resampler(24000, 8000, quality="telephony",
                                  precision="q15").process(agent.tobytes())
    played = b"".join(b.downlink() for _ in range(30))
    assert played[:len(expected) // 2] == voicedsp.ulaw_encode(expected)
    assert set(played[len(expected) // 2:]) == {0xFF}          # mu-law silence after
    assert b.heard_ms("r1") == pytest.approx(len(expected) / 2 / 8, abs=0.2)
    assert b.queued_ms == 0 and b.stats["silent_frames"] >= 4


def test_push_errors_leave_the_queue_untouched():
    b = voicedsp.MediaBridge("g711_ulaw", 8000, "pcm16", 16000, 24000, max_queue_ms=1000)
    b.push_model_audio(bytes(4800), item_id="a")                   # 100 ms
    with pytest.raises(voicedsp.InvalidArgumentError):
        b.push_model_audio(bytes(101))
    with pytest.raises(voicedsp.BufferTooSmallError):
        b.push_model_audio(bytes(2 * 24000))                       # 1 s: over capacity
    assert b.queued_ms == pytest.approx(100, abs=1)
    assert b.stats["model_rejected"] == 2 and b.stats["model_chunks"] == 1


def test_heard_position_follows_acknowledged_playout():
    # The transport's jitter buffer plays each frame 4 ticks after it is handed out and
    # echoes a mark when the frames before it have played (as Twilio does).
    b = voicedsp.MediaBridge("g711_ulaw", 8000, "pcm16", 16000, 24000)
    b.push_model_audio(tone(300, 3.0, 24000).tobytes(), item_id="r")
    handed, pending = [], []
    for tick in range(100):
        b.downlink()
        handed.append(20.0 * (tick + 1))
        b.mark(f"m{tick}")
        pending.append((tick + 4, f"m{tick}"))
        while pending and pending[0][0] <= tick:
            b.ack_mark(pending.pop(0)[1])
        truth = handed[tick - 4] if tick >= 4 else 0.0
        if tick > 10:
            assert abs(b.heard_ms("r") - truth) <= 20.0
    assert not b.ack_mark("never-sent")


def test_clear_drops_queued_audio_and_reports_it():
    b = voicedsp.MediaBridge("g711_alaw", 8000, "pcm16", 16000, 16000)
    b.push_model_audio(bytes(32000), item_id="x")                  # 1 s at 16 kHz
    for _ in range(5):
        b.downlink()
    dropped = b.clear()
    assert dropped == pytest.approx(900, abs=3)
    assert b.queued_ms == 0 and b.heard_ms("x") == pytest.approx(100, abs=1)


def test_preroll_plays_before_model_audio(tmp_path):
    b = voicedsp.MediaBridge("g711_ulaw", 8000, "pcm16", 16000, 24000)
    clip = tone(600, 0.2, 16000)
    b.push_preroll(clip.tobytes(), codec="pcm16", rate_hz=16000)
    b.push_model_audio(tone(400, 0.2, 24000).tobytes(), item_id="first")
    assert b.queued_ms == pytest.approx(400, abs=5)
    for _ in range(10):
        b.downlink()
    assert b.heard_ms("preroll") >= 195 and b.heard_ms("first") <= 5
    with pytest.raises(voicedsp.InvalidArgumentError):
        b.push_preroll(b"\0" * 3, rate_hz=16000)
    with pytest.raises(voicedsp.UnsupportedRateError):
        b.push_preroll(b"\0" * 4, rate_hz=12345)


# --- turn-taking through the bridge --------------------------------------------------------

def run_call(bridge, caller_pcm, agent_pcm24k, caller_onset_s, item="reply"):
    """Agent talks from t=0; the caller's audio starts at caller_onset_s. Returns events and
    the downlink frames' agent content per tick."""
    bridge.push_model_audio(agent_pcm24k.tobytes(), item_id=item)
    onset = int(caller_onset_s * 8000)
    total = max(onset + len(caller_pcm) + 8000, len(agent_pcm24k) // 3 + 8000)
    up = np.zeros(total, np.int16)
    up[onset:onset + len(caller_pcm)] = caller_pcm
    codes = voicedsp.ulaw_encode(up)
    events, real = [], []
    for f in frames_of(codes, 160):
        down = bridge.downlink()
        real.append(down != b"\xff" * 160)
        events += bridge.uplink(f)[1]
    return events, real


def test_barge_in_cuts_the_agent_and_reports_what_was_heard(speech8k):
    b = voicedsp.MediaBridge("g711_ulaw", 8000, "pcm16", 16000, 24000)
    agent = tone(200, 6.0, 24000, amp=6000)
    events, real = run_call(b, speech8k, agent, caller_onset_s=1.5)
    barges = [e for e in events if e.type == "barge_in"]
    assert len(barges) == 1, events
    e = barges[0]
    assert 1.5 * 1000 + 200 <= e.t_ms <= 1.5 * 1000 + 600
    assert e.item_id == "reply"
    # without playout acks, what was handed out counts as heard: up to the barge tick
    assert e.heard_ms == pytest.approx(e.t_ms, abs=25)
    cut = int(e.t_ms // 20)
    assert not any(real[cut + 2:]), "agent audio kept playing after the barge-in"
    assert b.stats["barge_ins"] == 1 and b.stats["dropped_ms"] > 3000


def test_hold_and_resume_keeps_the_sentence_through_a_cough():
    b = voicedsp.MediaBridge("g711_ulaw", 8000, "pcm16", 16000, 24000, hold_and_resume=True)
    agent = tone(220, 2.0, 24000, amp=5000)
    rng = np.random.default_rng(3)
    cough = (rng.standard_normal(1200) * 9000).astype(np.int16)       # 150 ms burst
    events, real = run_call(b, cough, agent, caller_onset_s=0.8)
    types = [e.type for e in events]
    assert "barge_candidate" in types and "barge_rejected" in types and "barge_in" not in types
    # the whole 2 s reply was played, the hold only delayed it
    assert sum(real) >= 100 - 1 and b.heard_ms("reply") == pytest.approx(2000, abs=25)
    assert b.stats["rejected_candidates"] == 1 and not b.paused


# --- taps, recording --------------------------------------------------------------------------

def test_taps_and_recording(tmp_path, speech8k):
    b = voicedsp.MediaBridge("g711_ulaw", 8000, "pcm16", 16000, 24000)
    seen = []
    b.add_tap(lambda pcm, rate: seen.append((len(pcm), rate)))
    b.record(uplink_wav=tmp_path / "up.wav", downlink_wav=tmp_path / "down.wav")
    codes = voicedsp.ulaw_encode(speech8k)
    frames = frames_of(codes, 160)
    for f in frames:
        b.uplink(f)
        b.downlink()
    b.close()
    assert seen == [(320, 8000)] * len(frames)
    with wave.open(str(tmp_path / "up.wav")) as w:
        assert w.getframerate() == 8000 and w.getnframes() == 160 * len(frames)
        assert w.readframes(w.getnframes()) == voicedsp.ulaw_decode(b"".join(frames))
    with wave.open(str(tmp_path / "down.wav")) as w:
        assert w.getnframes() == 160 * len(frames)
    with pytest.raises(ValueError):
        b.add_tap(print, direction="sideways")


# --- many calls ---------------------------------------------------------------------------------

def test_detector_hears_the_agent_frames_as_played(speech8k):
    """The bridge's turn events equal a TurnDetector fed the caller's frames and, as far-end
    reference, the frame handed out the tick before (what the caller hears meanwhile): through
    agent audio, the silence after it and agent audio again."""
    # a PCM16 caller: the frames handed out are the very samples the detector measured
    frames = frames_of(speech8k.tobytes(), 320)
    bridge = voicedsp.MediaBridge("pcm16", 8000, "pcm16", 16000, 24000)
    det = voicedsp.TurnDetector(8000, 20)
    played, got, want = None, [], []
    for t, f in enumerate(frames):
        if t in (0, 60):
            bridge.push_model_audio(tone(300, 0.7, 24000, amp=6000).tobytes())
        got += [(e.type, e.t_ms, e.start_ms) for e in bridge.uplink(f)[1]]
        want += [(e.type, e.t_ms, e.start_ms) for e in det.process(f, played)]
        played = bridge.downlink()
    assert any(kind == "barge_candidate" for kind, _, _ in want)
    assert got == want


def test_group_tick_equals_per_call_processing(speech8k):
    k = 5
    codes = voicedsp.ulaw_encode(speech8k)
    frames = frames_of(codes, 160)
    solo = [voicedsp.MediaBridge("g711_ulaw", 8000, "pcm16", 16000, 24000) for _ in range(k)]
    grouped = [voicedsp.MediaBridge("g711_ulaw", 8000, "pcm16", 16000, 24000) for _ in range(k)]
    agent = tone(250, 1.0, 24000).tobytes()
    for b in solo + grouped:
        b.push_model_audio(agent, item_id="a")
    group = voicedsp.BridgeGroup(grouped)
    assert group.frame_bytes == (160, 640, 160)
    model_out, caller_out = bytearray(k * 640), bytearray(k * 160)
    for t, f in enumerate(frames):
        # each bridge hears a different caller: frames rotated by bridge index
        ups = [frames[(t + i * 7) % len(frames)] for i in range(k)]
        ev = group.tick(b"".join(ups), model_out, caller_out)
        for i, b in enumerate(solo):
            audio, e = b.uplink(ups[i])
            assert bytes(model_out[i * 640:(i + 1) * 640]) == audio
            assert bytes(caller_out[i * 160:(i + 1) * 160]) == b.downlink()
            assert [x.type for j, x in ev if j == i] == [x.type for x in e]
    with pytest.raises(ValueError):
        group.tick(b"\0" * 10, model_out, caller_out)


def test_group_push_queues_each_bridges_audio():
    bridges = [voicedsp.MediaBridge("g711_ulaw", 8000, "pcm16", 16000, 24000) for _ in range(3)]
    group = voicedsp.BridgeGroup(bridges)
    chunks = [tone(300, 0.1, 24000).tobytes(), None, b"\0" * 3]
    group.push_model_audio(chunks, item_ids=["a", None, "c"])
    assert [round(b.queued_ms) for b in bridges] == [100, 0, 0]
    assert [i for i, _ in group.errors] == [2]
    assert isinstance(group.errors[0][1], voicedsp.InvalidArgumentError)
    with pytest.raises(ValueError):
        group.push_model_audio([None])
    with pytest.raises(TypeError):
        group.push_model_audio([bytearray(4), None, None])


def test_pushes_without_an_item_id_continue_the_response_until_it_ends():
    # No item_id: the previous push's response, or a new "item-<n>" once it ended (clear,
    # barge-in, pre-roll); the same through a group push, bridge by bridge.
    b = voicedsp.MediaBridge("g711_ulaw", 8000, "pcm16", 16000, 24000)
    chunk = tone(300, 0.1, 24000).tobytes()
    b.push_model_audio(chunk)
    b.push_model_audio(chunk)
    for _ in range(10):
        b.downlink()
    first = b.current_item_id
    assert first.startswith("item-") and b.heard_ms(first) == pytest.approx(200)
    b.push_model_audio(chunk, item_id="named")
    b.push_model_audio(chunk)
    for _ in range(10):
        b.downlink()
    assert b.heard_ms("named") == pytest.approx(200) and b.current_item_id == "named"
    b.clear()
    b.push_model_audio(chunk)
    b.downlink()
    second = b.current_item_id
    assert second.startswith("item-") and second not in (first, "named")
    b.push_preroll(tone(500, 0.1, 8000).tobytes(), rate_hz=8000)
    b.clear()
    b.push_model_audio(chunk)
    b.downlink()
    assert b.current_item_id not in (first, second, "named", "preroll")
    assert b.heard_ms("item-999") == 0.0 and b.heard_ms("no-such") == 0.0

    bridges = [voicedsp.MediaBridge("g711_ulaw", 8000, "pcm16", 16000, 24000) for _ in range(2)]
    group = voicedsp.BridgeGroup(bridges)
    group.push_model_audio([chunk, chunk], item_ids=["x", None])
    group.push_model_audio([chunk, chunk])
    for _ in range(10):
        bridges[0].downlink()
        bridges[1].downlink()
    assert bridges[0].heard_ms("x") == pytest.approx(200)
    assert bridges[1].heard_ms(bridges[1].current_item_id) == pytest.approx(200)


def test_group_refuses_mixed_bridges():
    a = voicedsp.MediaBridge("g711_ulaw", 8000, "pcm16", 16000, 24000)
    c = voicedsp.MediaBridge("g711_ulaw", 8000, "pcm16", 24000, 24000)
    with pytest.raises(ValueError, match="same codecs"):
        voicedsp.BridgeGroup([a, c])
    with pytest.raises(TypeError):
        voicedsp.BridgeGroup([a, "b"])


def test_bridges_on_threads_match_sequential(speech8k):
    codes = voicedsp.ulaw_encode(np.tile(speech8k, 3))
    frames = frames_of(codes, 160)

    def run(out, i):
        b = voicedsp.MediaBridge("g711_ulaw", 8000, "pcm16", 16000, 24000)
        b.push_model_audio(tone(300 + i, 2.0, 24000).tobytes(), item_id="x")
        acc = []
        for f in frames:
            acc.append(b.uplink(f)[0])
            acc.append(b.downlink())
        out[i] = b"".join(acc)

    seq, par = {}, {}
    for i in range(4):
        run(seq, i)
    threads = [threading.Thread(target=run, args=(par, i)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert par == seq


@pytest.mark.skipif(bool(os.environ.get("VOICEDSP_ASAN_PYTHON")),
                    reason="AddressSanitizer quarantines freed memory (the C tests check leaks)")
def test_many_bridges_created_and_freed_do_not_grow_memory():
    def rss_kb():
        with open(f"/proc/{os.getpid()}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024

    def churn(n):
        for _ in range(n):
            b = voicedsp.MediaBridge("g711_ulaw", 8000, "pcm16", 16000, 24000)
            b.push_model_audio(bytes(9600))
            b.uplink(b"\xff" * 160)
            b.downlink()
            del b
        gc.collect()

    if not os.path.exists("/proc/self/statm"):
        pytest.skip("needs /proc")
    churn(300)
    before = rss_kb()
    churn(3000)
    assert rss_kb() - before < 8 * 1024      # 3000 bridges of ~2 MB each would be 6 GB


def test_opus_caller_survives_garbage_and_loss():
    b = voicedsp.MediaBridge("opus", 48000, "pcm16", 16000, 24000)
    enc = voicedsp.OpusEncoder(48000, 1)
    rng = np.random.default_rng(11)
    pcm = tone(440, 1.0, 48000).tobytes()
    for i in range(50):
        packet = enc.encode(pcm[i * 1920:(i + 1) * 1920])
        if i % 10 == 3:
            packet = None                                        # lost
        elif i % 10 == 7:
            # malformed framing: code 3 ("several frames") with a frame count of zero
            packet = bytes([packet[0] | 0x03, 0]) + rng.integers(0, 256, 60, np.uint8).tobytes()
        elif i % 10 == 9:
            packet = b""
        audio, _ = b.uplink(packet)
        assert len(audio) == 640                                 # the call keeps its framing
    assert b.stats["frames_in"] == 50 and b.stats["concealed"] == 15
    # a well-formed packet of another duration is a configuration error, said clearly
    ten_ms = voicedsp.OpusEncoder(48000, 1).encode(pcm[:960])
    with pytest.raises(voicedsp.FrameSizeError, match="expected one Opus packet of 20 ms"):
        b.uplink(ten_ms)
    assert b.stats["bad_frames"] == 1 and len(b.uplink(None)[0]) == 640
    assert len(b.downlink()) > 0                                 # an Opus packet back out


def test_bridge_calls_release_the_gil():
    # While one thread is inside a long push (10 minutes of model audio resampled in C), the
    # main thread keeps running Python: with the GIL held it would be frozen for the whole call.
    b = voicedsp.MediaBridge("g711_ulaw", 8000, "pcm16", 16000, 24000, max_queue_ms=600000)
    big = np.zeros(24000 * 590, np.int16).tobytes()
    done = threading.Event()
    old = sys.getswitchinterval()
    sys.setswitchinterval(0.0005)
    try:
        def worker():
            b.push_model_audio(big, item_id="long")
            done.set()

        t0 = time.perf_counter()
        th = threading.Thread(target=worker)
        th.start()
        steps, longest, last = 0, 0.0, time.perf_counter()
        while not done.is_set():
            now = time.perf_counter()
            longest, last = max(longest, now - last), now
            steps += 1
        th.join()
        call = time.perf_counter() - t0
    finally:
        sys.setswitchinterval(old)
    assert b.queued_ms == pytest.approx(590000, abs=2)
    assert steps > 100, f"main thread made {steps} steps during a {call * 1e3:.0f} ms call"
    assert longest < call * 0.5, f"main thread stalled {longest * 1e3:.1f} of {call * 1e3:.1f} ms"
