"""Turn detection on speech the tests synthesize with espeak-ng (+ sox), and `voicedsp replay`."""

import json
import os
import shutil
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

import voicedsp

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(not (shutil.which("espeak-ng") and shutil.which("sox")),
                                reason="needs espeak-ng and sox (scripts/setup.sh)")
RATE = 8000
N = 160


@pytest.fixture(scope="module")
def say(tmp_path_factory):
    """say(text, voice) -> int16 array at 8 kHz, trimmed of leading/trailing silence."""
    d = tmp_path_factory.mktemp("tts")
    cache = {}

    def _say(text, voice="en-us", speed=165, fit_ms=None):
        key = (text, voice, speed, fit_ms)
        if key not in cache:
            raw = d / f"{len(cache)}.wav"
            out = d / f"{len(cache)}_8k.wav"
            subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(raw), text],
                           check=True, capture_output=True)
            subprocess.run(["sox", str(raw), "-r", str(RATE), "-c", "1", "-b", "16", str(out)],
                           check=True, capture_output=True)
            if fit_ms is not None:
                # speed up (WSOLA, pitch kept) so the speech lasts about fit_ms
                with wave.open(str(out)) as w:
                    x = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
                idx = np.flatnonzero(np.abs(x.astype(np.int32)) > 300)
                tempo = max(1.0, (idx[-1] - idx[0]) / 8 / fit_ms)
                fast = d / f"{len(cache)}_fast.wav"
                subprocess.run(["sox", str(out), str(fast), "tempo", "-s", f"{tempo:.3f}"],
                               check=True, capture_output=True)
                out = fast
            with wave.open(str(out)) as w:
                x = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
            env = np.abs(x.astype(np.int32)) > 300
            idx = np.flatnonzero(env)
            cache[key] = x[idx[0]:idx[-1] + 1].copy()
        return cache[key]
    return _say


def speech_end_ms(x, offset_ms):
    """End of the last 10 ms block within 35 dB of the loudest block (like the kit's labels)."""
    b = x[: len(x) // 80 * 80].astype(np.float64).reshape(-1, 80)
    e = 10 * np.log10((b ** 2).mean(1) + 1e-9)
    active = np.flatnonzero(e > e.max() - 35)
    return offset_ms + (active[-1] + 1) * 10.0


def place(total_ms, parts, noise_dbfs=-60.0, seed=0):
    """Mix [(start_ms, int16 clip, gain)] into a track of total_ms with white noise."""
    rng = np.random.default_rng(seed)
    n = int(total_ms * RATE / 1000)
    out = rng.standard_normal(n) * 32768 * 10 ** (noise_dbfs / 20)
    for start_ms, clip, gain in parts:
        i = int(start_ms * RATE / 1000)
        out[i:i + len(clip)] += clip[: n - i].astype(np.float64) * gain
    return np.clip(out, -32768, 32767).astype(np.int16)


def events(up, down=None, **knobs):
    det = voicedsp.TurnDetector(RATE, 20, voicedsp.TurnDetection(**knobs))
    out = []
    for i in range(len(up) // N):
        out += det.process(up[i * N:(i + 1) * N],
                           down[i * N:(i + 1) * N] if down is not None else None)
    return out


def kinds(ev):
    return [e.type for e in ev if e.type not in ("speech_start", "speech_end")]


def test_a_sentence_commits_once_500ms_after_it_ends(say):
    x = say("I would like to check the balance of my savings account, please.")
    up = place(len(x) / 8 + 2500, [(700, x, 0.7)])
    ev = events(up)
    assert kinds(ev) == ["turn_commit"]
    end = speech_end_ms(x, 700)
    commit = next(e for e in ev if e.type == "turn_commit")
    assert -40 <= commit.t_ms - (end + 500) <= 120


def test_two_phrases_with_a_short_pause_are_one_turn(say):
    a = say("My name is Robert.")
    b = say("I am calling about my order.")
    t_b = 600 + len(a) / 8 + 250                    # a 250 ms pause between them
    up = place(t_b + len(b) / 8 + 2500, [(600, a, 0.7), (t_b, b, 0.7)])
    assert kinds(events(up)) == ["turn_commit"]


def test_a_long_pause_makes_two_turns(say):
    a = say("My name is Robert.")
    b = say("I am calling about my order.")
    t_b = 600 + len(a) / 8 + 2000
    up = place(t_b + len(b) / 8 + 2500, [(600, a, 0.7), (t_b, b, 0.7)])
    assert kinds(events(up)) == ["turn_commit", "turn_commit"]


@pytest.mark.parametrize("word", ["ok", "mhm", "yeah"])
def test_continuers_are_backchannels(say, word):
    x = say(word, speed=220)
    assert len(x) / 8 < 480
    up = place(len(x) / 8 + 2500, [(600, x, 0.7)])
    assert kinds(events(up)) == ["backchannel"]


def test_barge_in_over_the_agent_and_a_continuer_that_is_not(say):
    agent = say("Thank you for calling. Your order has shipped and should arrive on Tuesday "
                "between nine and noon.", voice="en-us+m3")
    caller = say("Wait, that is the wrong address.", voice="en-us+f2")
    mhm = say("mhm", voice="en-us+f2", fit_ms=220)          # a 150-250 ms continuer
    assert len(mhm) / 8 < 260
    total = 500 + len(agent) / 8 + 3000
    down = place(total, [(500, agent, 0.5)], noise_dbfs=-120)
    up = place(total, [(2000, caller, 0.7)])
    ev = events(up, down)
    barge = [e for e in ev if e.type == "barge_in"]
    assert len(barge) == 1 and 2250 <= barge[0].t_ms <= 2450
    up2 = place(total, [(2000, mhm, 0.7)])
    ev2 = kinds(events(up2, down))
    assert "barge_in" not in ev2 and "turn_commit" not in ev2
    assert "barge_rejected" in ev2


def test_echo_of_the_agent_on_a_no_aec_leg(say):
    agent = say("Thank you for calling. Your order has shipped and should arrive on Tuesday "
                "between nine and noon. Is there anything else I can help with today?",
                voice="en-us+m3")
    total = 500 + len(agent) / 8 + 1500
    down = place(total, [(500, agent, 0.5)], noise_dbfs=-120)
    # echo: 120 ms later, 12 dB down, smeared by a short decaying tail
    h = np.zeros(1400)
    h[960] = 1.0
    h[960:] += 0.3 * np.exp(-np.arange(440) / 120.0) * np.random.default_rng(1).standard_normal(440)
    echo = np.convolve(down.astype(np.float64), h)[: len(down)] * 0.25
    up = place(total, [(0, echo.astype(np.int16), 1.0)])
    # no self-trigger (an isolated echo blip may at most open and drop a candidate)
    assert not {"barge_in", "turn_commit"} & set(kinds(events(up, down)))
    assert "barge_in" in kinds(events(up, down, echo_gating=False))


AGENT_REPLY = ("Thank you for calling. Your order has shipped and should arrive on Tuesday "
               "between nine and noon. Is there anything else I can help with today?")


def no_aec_leg(say, delay_ms, echo_gain, caller=None, caller_gain=0.3, caller_ms=1500,
               seed=1):
    """A reply played from 500 ms and its echo at the caller's microphone (delay_ms later,
    scaled by echo_gain, smeared by a short decaying tail); optionally a caller from
    caller_ms. Returns (uplink, downlink, end of the caller's speech in ms or None)."""
    agent = say(AGENT_REPLY, voice="en-us+m3")
    total = 500 + len(agent) / 8 + 1500
    down = place(total, [(500, agent, 0.5)], noise_dbfs=-120)
    d = int(delay_ms * RATE / 1000)
    h = np.zeros(d + 440)
    h[d] = 1.0
    h[d:] += 0.3 * np.exp(-np.arange(440) / 120.0) * \
        np.random.default_rng(seed).standard_normal(440)
    echo = np.convolve(down.astype(np.float64), h)[: len(down)] * echo_gain
    parts = [(0, echo.astype(np.int16), 1.0)]
    end = None
    if caller is not None:
        parts.append((caller_ms, caller, caller_gain))
        end = speech_end_ms(caller, caller_ms)
    return place(total, parts), down, end


@pytest.mark.parametrize("delay_ms", [40, 120, 200])
@pytest.mark.parametrize("echo_gain", [0.15, 0.25])
def test_echo_alone_is_never_caller_speech(say, delay_ms, echo_gain):
    # the echo of a whole reply (ERL 12-16 dB plus the tail): not even a blip of "caller"
    # speech (the single conservative echo model let a loud syllable after a pause through
    # as a speech segment closing as a backchannel, on every one of these legs)
    up, down, _ = no_aec_leg(say, delay_ms, echo_gain)
    assert [e.type for e in events(up, down)] == []


@pytest.mark.parametrize("delay_ms,seed", [(120, 1), (120, 2), (100, 1)])
def test_a_caller_over_the_echo_barges_in_and_commits_on_time(say, delay_ms, seed):
    # the caller talks over the reply at about the echo's level: the tight echo model (fast
    # tail, fractional delay) hears them in the reply's dips; the conservative one alone
    # heard too little (a backchannel, or a late commit and no barge-in)
    caller = say("Wait, that is the wrong address.", voice="en-us+f2")
    up, down, end = no_aec_leg(say, delay_ms, 0.25, caller, seed=seed)
    ev = [e for e in events(up, down) if e.type in ("barge_in", "turn_commit", "backchannel")]
    assert [e.type for e in ev] == ["barge_in", "turn_commit"]
    barge, commit = ev_of(ev, "barge_in"), ev_of(ev, "turn_commit")
    assert 1500 + 300 <= barge.t_ms < end
    assert -40 <= commit.t_ms - (end + 500) <= 120


def ev_of(ev, kind):
    return next(e for e in ev if e.type == kind)


# ------------------------------------------------------------------ the CLI

def write_wav(path, x, rate=RATE):
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(x.astype("<i2").tobytes())


def cli(*args, check=True):
    # the CLI must run the voicedsp under test: the source tree's only when that is it
    path = [os.environ.get("PYTHONPATH", "")]
    if Path(voicedsp.__file__).resolve().is_relative_to(ROOT):
        path.append(str(ROOT))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in path if p))
    r = subprocess.run([sys.executable, "-m", "voicedsp", "replay", *args], capture_output=True,
                       text=True, env=env, cwd=str(ROOT))
    if check:
        assert r.returncode == 0, r.stderr
    return r


@pytest.fixture(scope="module")
def call(say, tmp_path_factory):
    d = tmp_path_factory.mktemp("call") / "call1"
    d.mkdir()
    agent = say("Hello, this is the pharmacy. How can I help you today?", voice="en-us+m3")
    caller = say("I need to refill my prescription.", voice="en-us+f2")
    t_c = 500 + len(agent) / 8 + 700
    total = t_c + len(caller) / 8 + 2000
    write_wav(d / "downlink.wav", place(total, [(500, agent, 0.5)], noise_dbfs=-120))
    write_wav(d / "uplink.wav", place(total, [(t_c, caller, 0.7)]))
    return d


def test_replay_prints_the_contract(call):
    r = cli("--uplink", str(call / "uplink.wav"), "--downlink", str(call / "downlink.wav"),
            "--jsonl")
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    names = [x["event"] for x in lines]
    assert names.count("turn_commit") == 1 and "barge_in" not in names
    assert names[0] == "speech_start" and "speech_end" in names
    assert all(isinstance(x["t_ms"], float) for x in lines)
    # same events as the API
    with wave.open(str(call / "uplink.wav")) as w:
        up = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    with wave.open(str(call / "downlink.wav")) as w:
        down = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    api = [e for e in events(up, down) if e.type == "turn_commit"]
    assert [x["t_ms"] for x in lines if x["event"] == "turn_commit"] == [api[0].t_ms]


def test_replay_knob_flags(call):
    base = cli("--uplink", str(call / "uplink.wav"), "--downlink", str(call / "downlink.wav"))
    late = cli("--uplink", str(call / "uplink.wav"), "--downlink", str(call / "downlink.wav"),
               "--silence-threshold-ms", "800", "--no-echo-gating")
    t = lambda r: [json.loads(x)["t_ms"] for x in r.stdout.splitlines()  # noqa: E731
                   if json.loads(x)["event"] == "turn_commit"]
    assert t(late)[0] - t(base)[0] == pytest.approx(300, abs=20)
    bad = cli("--uplink", str(call / "uplink.wav"), "--barge-confirm-ms", "-3", check=False)
    assert bad.returncode == 2 and "barge_confirm_ms" in bad.stderr


def test_replay_reads_raw_ulaw(call, tmp_path):
    with wave.open(str(call / "uplink.wav")) as w:
        up = w.readframes(w.getnframes())
    (tmp_path / "up.ulaw").write_bytes(voicedsp.ulaw_encode(up))
    r = cli("--uplink", str(tmp_path / "up.ulaw"))
    assert [json.loads(x)["event"] for x in r.stdout.splitlines()].count("turn_commit") == 1


def test_replay_folder_and_plot(call, tmp_path):
    r = cli("--folder", str(call.parent), "--out-dir", str(tmp_path / "out"))
    assert "replayed 1 calls" in r.stderr and "turn_commit" in r.stderr
    assert (tmp_path / "out" / "call1.jsonl").read_text().count("turn_commit") == 1
    pytest.importorskip("matplotlib")
    png = tmp_path / "t.png"
    cli("--uplink", str(call / "uplink.wav"), "--downlink", str(call / "downlink.wav"),
        "--plot", str(png))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_replay_is_causal(call, tmp_path):
    """Cutting the files short never changes events decided before the cut."""
    with wave.open(str(call / "uplink.wav")) as w:
        up = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    with wave.open(str(call / "downlink.wav")) as w:
        down = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    full = events(up, down)
    cut = len(up) // N // 2 * N
    part = events(up[:cut], down[:cut])
    assert part == [e for e in full if e.t_ms <= cut / 8]
