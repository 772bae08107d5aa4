"""Turn detection: scripted frames give exact events per knob, native == reference, config."""

import math
import os
import warnings

import numpy as np
import pytest

import voicedsp
from voicedsp._turn_reference import TurnReference, VadReference

RATE = 8000
N = 160          # samples per 20 ms frame at 8 kHz
F = 20           # ms per frame


# ------------------------------------------------------------------ scripted audio
# Speech frames are a loud 1 kHz tone whose last three samples are zero, so the band
# filters' history carries nothing into the next frame; silence is digital zero; the agent
# is a tone on the downlink. (The VAD's two-frame hold does not outlast digital silence, which
# is under the absolute floor: a burst of k frames is heard as exactly k frames of speech.)

def tone(freq, amp, n=N, rate=RATE):
    x = amp * np.sin(2 * np.pi * freq * np.arange(n) / rate)
    x[-3 * (rate // 8000):] = 0.0       # three 8 kHz samples of zeros: no edge carried over
    return x.astype(np.int16).tobytes()


SPEECH = tone(1000, 12000)
QUIET_AGENT = tone(700, 600)        # agent audio, no echo on the uplink
LOUD_AGENT = tone(700, 8000)
SIL = bytes(2 * N)


def script(*parts):
    """parts: (n_frames, uplink_frame, downlink_frame_or_None) -> list of frame pairs."""
    out = []
    for n, up, down in parts:
        out += [(up, down)] * n
    return out


class Native:
    name = "native"

    def __init__(self, rate=RATE, frame_ms=F, **knobs):
        self.det = voicedsp.TurnDetector(rate, frame_ms, voicedsp.TurnDetection(**knobs))

    def process(self, up, down=None):
        return [(e.type, e.t_ms, e.ref_ms, e.start_ms) for e in self.det.process(up, down)]

    def reset(self):
        self.det.reset()


class Reference:
    name = "reference"

    def __init__(self, rate=RATE, frame_ms=F, **knobs):
        voicedsp.TurnDetection(**knobs)          # same validation
        self.det = TurnReference(rate, frame_ms, **knobs)
        self.k = 1000.0 / rate

    def process(self, up, down=None):
        u = np.frombuffer(up, dtype=np.int16).tolist()
        d = np.frombuffer(down, dtype=np.int16).tolist() if down is not None else None
        k = self.k
        return [(e.type, e.t_samples * k, e.ref_samples * k, e.start_samples * k)
                for e in self.det.process(u, d)]

    def reset(self):
        self.det.reset()


@pytest.fixture(params=[Native, Reference], ids=["native", "reference"])
def make(request):
    return request.param


def run(det, frames):
    out = []
    for up, down in frames:
        out += det.process(up, down)
    return out


def decisions(events):
    """(kind, t_ms) of everything but the VAD boundaries."""
    return [(k, t) for k, t, _, _ in events if k not in ("speech_start", "speech_end")]


# ------------------------------------------------------------------ end of turn

def test_one_turn_exact_events(make):
    det = make(echo_gating=False)
    # 10 frames of silence, 40 of speech (800 ms), then 40 of silence
    ev = run(det, script((10, SIL, None), (40, SPEECH, None), (40, SIL, None)))
    onset = 10 * F                   # 200 ms
    last = onset + 40 * F            # speech heard to 1000 ms
    assert ev == [
        ("speech_start", onset + 2 * F, onset, onset),               # decided after 40 ms
        ("speech_end", last + 120, last + 20, last + 20),            # gap > 100 ms bridges
        ("turn_commit", last + 500, last, 0.0),    # onset - prefix padding, clamped at 0
    ]


def test_unconfirmed_blips_do_not_make_a_turn(make):
    # 60 ms of confirmed speech, then single 20 ms blips 120 ms apart (each too short to
    # open a segment, as echo leaking through the gate looks): the blips keep the silence
    # timer from running out, but the turn's length counts only confirmed speech, so it is
    # a backchannel (it used to span to the last blip, 700 ms, and commit)
    det = make(echo_gating=False)
    parts = [(10, SIL, None), (3, SPEECH, None)]
    for _ in range(5):
        parts += [(6, SIL, None), (1, SPEECH, None)]
    parts += [(40, SIL, None)]
    ev = decisions(run(det, script(*parts)))
    last_blip = (10 + 3 + 5 * 7) * F
    assert ev == [("backchannel", last_blip + 500)]


def test_short_speech_is_a_backchannel(make):
    det = make(echo_gating=False)
    ev = run(det, script((10, SIL, None), (10, SPEECH, None), (40, SIL, None)))
    last = 200 + 10 * F
    assert decisions(ev) == [("backchannel", last + 500)]


@pytest.mark.parametrize("speech_frames,kind", [(29, "backchannel"), (30, "turn_commit")])
def test_response_min_speech_boundary(make, speech_frames, kind):
    # 600 ms of speech is the threshold: shorter is a backchannel
    det = make(echo_gating=False)
    ev = run(det, script((5, SIL, None), (speech_frames, SPEECH, None), (40, SIL, None)))
    assert [k for k, _ in decisions(ev)] == [kind]


def test_pause_inside_turn_does_not_commit(make):
    det = make(echo_gating=False)
    # 20 speech, 15 silent (300 ms pause), 20 speech
    ev = run(det, script((5, SIL, None), (20, SPEECH, None), (15, SIL, None),
                         (20, SPEECH, None), (40, SIL, None)))
    last = (5 + 20 + 15 + 20) * F
    assert decisions(ev) == [("turn_commit", last + 500)]


def test_silence_threshold_knob(make):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        det = make(echo_gating=False, silence_threshold_ms=200)
    ev = run(det, script((5, SIL, None), (40, SPEECH, None), (30, SIL, None)))
    last = (5 + 40) * F
    assert decisions(ev) == [("turn_commit", last + 200)]


def test_commit_min_interval_delays_the_second_commit(make):
    det = make(echo_gating=False)
    # two turns 600 ms apart: the second would commit 1100 ms after the first
    ev = run(det, script((5, SIL, None), (35, SPEECH, None), (30, SIL, None),
                         (35, SPEECH, None), (100, SIL, None)))
    commits = [t for k, t in decisions(ev) if k == "turn_commit"]
    first = (5 + 35) * F + 500
    assert commits[0] == first
    assert commits[1] == first + 1500          # held until the interval has passed
    det2 = make(echo_gating=False, commit_min_interval_ms=0)
    ev2 = run(det2, script((5, SIL, None), (35, SPEECH, None), (30, SIL, None),
                           (35, SPEECH, None), (100, SIL, None)))
    last2 = (5 + 35 + 30 + 35) * F
    assert [t for k, t in decisions(ev2) if k == "turn_commit"] == [first, last2 + 500]


def test_speech_resuming_in_the_interval_joins_the_held_turn(make):
    det = make(echo_gating=False, commit_min_interval_ms=5000)
    ev = run(det, script((5, SIL, None), (35, SPEECH, None), (30, SIL, None),
                         (35, SPEECH, None), (60, SIL, None), (35, SPEECH, None),
                         (300, SIL, None)))
    commits = [t for k, t in decisions(ev) if k == "turn_commit"]
    first = (5 + 35) * F + 500
    assert commits == [first, first + 5000]


# ------------------------------------------------------------------ barge-in

def test_barge_in_confirmed_after_barge_confirm_ms(make):
    det = make(echo_gating=False)
    ev = run(det, script((20, SIL, QUIET_AGENT), (30, SPEECH, QUIET_AGENT),
                         (40, SIL, None)))
    onset = 20 * F
    d = decisions(ev)
    assert d[0] == ("barge_candidate", onset + 2 * F)
    assert d[1] == ("barge_in", onset + 300)
    assert d[2][0] == "turn_commit"
    assert len(d) == 3


def test_continuer_during_agent_is_rejected(make):
    det = make(echo_gating=False)
    ev = run(det, script((20, SIL, QUIET_AGENT), (8, SPEECH, QUIET_AGENT),
                         (40, SIL, QUIET_AGENT)))
    onset = 20 * F
    last = onset + 8 * F
    assert decisions(ev) == [
        ("barge_candidate", onset + 2 * F),
        ("barge_rejected", last + 240),        # silence > 220 ms ends the candidate
        ("backchannel", last + 500),
    ]


@pytest.mark.parametrize("confirm", [0, 100, 500])
def test_barge_confirm_knob(make, confirm):
    det = make(echo_gating=False, barge_confirm_ms=confirm)
    ev = run(det, script((20, SIL, QUIET_AGENT), (40, SPEECH, QUIET_AGENT),
                         (40, SIL, None)))
    barges = [t for k, t in decisions(ev) if k == "barge_in"]
    # fires at the first speech frame ending at least `confirm` after onset (>= onset+40 ms)
    assert barges == [20 * F + max(confirm, 2 * F)]


@pytest.mark.parametrize("speech_frames,agent,kind", [
    (25, True, "turn_commit"),      # 500 ms held over the agent: barge-in confirmed, commits
    (24, True, "turn_commit"),      # 480 ms = 4/5 of response_min_speech_ms: still commits
    (23, True, "backchannel"),      # 460 ms: under 4/5, a backchannel even after a barge-in
    (25, False, "backchannel"),     # the same 500 ms with the agent silent: under 600 ms
])
def test_barged_turn_commits_on_four_fifths_of_min_speech(make, speech_frames, agent, kind):
    det = make(echo_gating=False)
    down = QUIET_AGENT if agent else None
    ev = run(det, script((20, SIL, down), (speech_frames, SPEECH, down), (40, SIL, None)))
    d = [k for k, _ in decisions(ev)]
    assert ("barge_in" in d) == agent
    assert d[-1] == kind


def test_barged_turn_threshold_follows_the_knob(make):
    # response_min_speech_ms=1000: a barged turn needs 800 ms, 780 ms is a backchannel
    for frames, kind in ((40, "turn_commit"), (39, "backchannel")):
        det = make(echo_gating=False, response_min_speech_ms=1000)
        ev = run(det, script((20, SIL, QUIET_AGENT), (frames, SPEECH, QUIET_AGENT),
                             (40, SIL, None)))
        assert [k for k, _ in decisions(ev)][-1] == kind


def test_instant_barge_fires_on_the_first_confirmed_frame(make):
    det = make(echo_gating=False, instant_barge=True)
    ev = run(det, script((20, SIL, QUIET_AGENT), (5, SPEECH, QUIET_AGENT), (40, SIL, None)))
    d = decisions(ev)
    assert d[0] == ("barge_in", 20 * F + 2 * F)
    assert "barge_candidate" not in [k for k, _ in d]


def test_no_barge_when_agent_silent(make):
    det = make(echo_gating=False)
    ev = run(det, script((20, SIL, None), (40, SPEECH, None), (40, SIL, None)))
    assert "barge_in" not in [k for k, _ in decisions(ev)]


def test_one_barge_per_turn(make):
    det = make(echo_gating=False)
    ev = run(det, script((20, SIL, QUIET_AGENT), (30, SPEECH, QUIET_AGENT),
                         (10, SIL, QUIET_AGENT), (30, SPEECH, QUIET_AGENT),
                         (40, SIL, QUIET_AGENT)))
    assert [k for k, _ in decisions(ev)].count("barge_in") == 1


# ------------------------------------------------------------------ mic guard

def test_mic_guard_ignores_uplink_after_agent_stops(make):
    frames = script((20, SIL, LOUD_AGENT), (5, SIL, None), (35, SPEECH, None),
                    (40, SIL, None))
    heard = decisions(run(make(echo_gating=False), frames))
    # the agent counts as audible for 300 ms after its audio ends: this is a barge-in
    assert [k for k, _ in heard] == ["barge_candidate", "barge_in", "turn_commit"]
    guarded = run(make(echo_gating=False, mic_guard_ms=400), frames)
    # agent audio ends at 400 ms; speech from 500 ms is ignored until 800 ms (guard expiry)
    starts = [r for k, t, r, _ in guarded if k == "speech_start"]
    assert starts == [800.0]


def test_mic_guard_expired_hears_everything(make):
    frames = script((20, SIL, LOUD_AGENT), (30, SIL, None), (35, SPEECH, None),
                    (40, SIL, None))
    assert run(make(echo_gating=False, mic_guard_ms=300), frames) == \
        run(make(echo_gating=False), frames)


# ------------------------------------------------------------------ echo gating

def echo_of(down: bytes, delay_frames: int, gain: float, history: list) -> bytes:
    history.append(np.frombuffer(down, dtype=np.int16) if down is not None
                   else np.zeros(N, np.int16))
    if len(history) <= delay_frames:
        return SIL
    return (history[-1 - delay_frames].astype(np.float64) * gain).astype(np.int16).tobytes()


def agent_speech(n_frames, seed=3):
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n_frames):
        amp = 6000 * (0.3 + 0.7 * abs(math.sin(i * 0.35)))
        out.append((rng.standard_normal(N) * amp).astype(np.int16).tobytes())
    return out


@pytest.mark.parametrize("gating,expect_trigger", [(True, False), (False, True)])
def test_echo_of_the_agent_is_not_the_caller(make, gating, expect_trigger):
    det = make(echo_gating=gating)
    hist = []
    ev = []
    noise = np.random.default_rng(5)
    for down in agent_speech(150) + [None] * 50:
        up = np.frombuffer(echo_of(down, 6, 0.3, hist), dtype=np.int16) + \
            noise.integers(-20, 20, N).astype(np.int16)
        ev += det.process(up.astype(np.int16).tobytes(), down)
    triggered = any(k in ("barge_in", "turn_commit") for k, _ in decisions(ev))
    assert triggered == expect_trigger


def test_double_talk_still_barges_in_with_gating(make):
    det = make()
    hist = []
    ev = []
    agent = agent_speech(200)
    for i, down in enumerate(agent):
        up = np.frombuffer(echo_of(down, 6, 0.2, hist), dtype=np.int16).astype(np.int32)
        if 120 <= i < 160:
            up = up + np.frombuffer(SPEECH, dtype=np.int16)
        ev += det.process(np.clip(up, -32768, 32767).astype(np.int16).tobytes(), down)
    barges = [t for k, t in decisions(ev) if k == "barge_in"]
    assert len(barges) == 1 and 120 * F + 300 <= barges[0] <= 120 * F + 400


def agent_words(n_frames, seed):
    """Agent speech as words of 4-13 frames (a rise and fall of level) between 2-7 silent
    frames: an echo estimate at the wrong delay misses the word onsets."""
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < n_frames:
        w, gap = int(rng.integers(4, 14)), int(rng.integers(2, 8))
        for j in range(w):
            amp = 7000 * (0.3 + 0.7 * math.sin(math.pi * (j + 0.5) / w))
            out.append((rng.standard_normal(N) * amp).astype(np.int16).tobytes())
        out += [None] * gap
    return out[:n_frames]


def agent_pcm(n_frames, seed):
    """agent_words as one int16 array (silent frames as zeros)."""
    return np.concatenate([np.frombuffer(w, np.int16) if w is not None else np.zeros(N, np.int16)
                           for w in agent_words(n_frames, seed)])


def echo_and_caller(rate, agent_frames, caller_frames, caller_at, noise_seed):
    """Double talk at `rate`: agent_pcm(agent_frames, 5) on the downlink; on the uplink its echo
    (140 ms late, -6 dB), agent_pcm(caller_frames, 12) at -6 dB times `gain` from each
    (start_s, gain) of caller_at, and white noise (std 20). Returns (up, down), int16."""
    down = np.repeat(agent_pcm(agent_frames, 5).astype(np.float64), rate // 8000)
    d = int(0.14 * rate)
    echo = np.concatenate([np.zeros(d), down[:down.size - d]]) * 0.5
    caller = np.zeros(down.size)
    c = np.repeat(agent_pcm(caller_frames, 12).astype(np.float64), rate // 8000) * 0.5
    for at_s, gain in caller_at:
        caller[at_s * rate:at_s * rate + c.size] = c * gain
    noise = np.random.default_rng(noise_seed).standard_normal(down.size) * 20
    return np.clip(echo + caller + noise, -32768, 32767).astype(np.int16), down.astype(np.int16)


def feed(dets, up, down, n):
    """Every n-sample frame of the int16 arrays up / down through each detector: their events."""
    out = [[] for _ in dets]
    for i in range(down.size // n):
        u, dn = up[i * n:(i + 1) * n].tobytes(), down[i * n:(i + 1) * n].tobytes()
        for events, det in zip(out, dets):
            events += det.process(u, dn)
    return out


@pytest.mark.parametrize("clip", [True, False])
def test_double_talk_does_not_pull_the_echo_delay(clip):
    # a weak echo (-26 dB, 120 ms) learnt for 3 s, then a caller 1 s long, ~25 dB over it,
    # while the agent keeps talking: the caller's loud frames used to outweigh the echo in the
    # delay search, the delay wandered (to 40-300 ms), and after the caller stopped the echo
    # leaked through the gate as speech and held the commit back ~700 ms
    ref, nat = Reference(), Native()
    if not clip:
        ref.det.xc_clip = float("inf")        # the old delay search (every frame counted whole)
    hist = []
    noise = np.random.default_rng(5)
    ev_ref, ev_nat, delays = [], [], set()
    for i, down in enumerate(agent_words(400, 3)):
        up = np.frombuffer(echo_of(down, 6, 0.05, hist), dtype=np.int16).astype(np.int32) + \
            noise.integers(-20, 20, N)
        if 150 <= i < 200:
            up = up + np.frombuffer(tone(1000, 8000), dtype=np.int16) * \
                (0.4 + 0.6 * abs(math.sin(i * 0.5)))
        frame = np.clip(up, -32768, 32767).astype(np.int16).tobytes()
        ev_ref += ref.process(frame, down)
        ev_nat += nat.process(frame, down)
        if i >= 150:
            delays.add(nat.det.inspect()["echo_delay_ms"])
    starts = [t for k, t, _, _ in ev_ref if k == "speech_start"]
    commits = [t for k, t in decisions(ev_ref) if k == "turn_commit"]
    if clip:
        for ev in (ev_nat, ev_ref):
            assert [t for k, t, _, _ in ev if k == "speech_start"] == [150 * F + 40]  # caller
            commits = [t for k, t in decisions(ev) if k == "turn_commit"]
            assert len(commits) == 1 and 200 * F + 500 <= commits[0] <= 200 * F + 700
        assert delays == {120.0}
        assert ev_nat == ev_ref
    else:
        assert len(starts) > 1                            # the echo leaked after the caller
        assert commits[0] > 200 * F + 1000


@pytest.mark.parametrize("rate", [8000, 16000, 48000])
@pytest.mark.parametrize("frame_ms", [10, 20, 30])
def test_double_talk_delay_search_native_equals_reference(rate, frame_ms):
    # the bounded correlation step, at every rate and frame length, op for op
    n = rate * frame_ms // 1000
    nat, ref = Native(rate, frame_ms), Reference(rate, frame_ms)
    old = Reference(rate, frame_ms)
    old.det.xc_clip = float("inf")
    rng = np.random.default_rng(rate + frame_ms)
    down = np.repeat(agent_pcm(300, 4).astype(np.float64), rate // 8000)
    t = np.arange(down.size) / rate
    d = int(0.14 * rate)
    echo = np.concatenate([np.zeros(d), down[:down.size - d]]) * 0.05
    caller = (np.abs(t - 4.0) < 0.6) * np.sin(2 * np.pi * 900 * t) * 9000 * \
        (0.4 + 0.6 * np.abs(np.sin(2 * np.pi * 3 * t)))
    up = np.clip(echo + caller + rng.standard_normal(t.size) * 20, -32768, 32767).astype(np.int16)
    a, b, _ = feed([nat, ref, old], up, down.astype(np.int16), n)
    assert a == b
    assert ref.det.xc != old.det.xc                      # the bound was applied


@pytest.mark.parametrize("hold", [True, False])
def test_noise_floor_does_not_climb_into_the_echo(hold):
    # 4 s of agent speech echoed at -10 dB over a quiet microphone: the energy is the agent's,
    # so the noise floor stays at the ambient level (it used to climb ~20 dB into the echo,
    # which then hid a caller's softer speech and tails); with the hold disabled it climbs
    det, nat = Reference(), Native()
    if not hold:
        det.det.hold = float("inf")
    hist = []
    noise = np.random.default_rng(5)
    floors = []
    ev_ref, ev_nat = [], []
    for i, down in enumerate([None] * 20 + agent_speech(200) + [None] * 60):
        up = np.frombuffer(echo_of(down, 6, 0.3, hist), dtype=np.int16).astype(np.int32) + \
            noise.integers(-20, 20, N)
        if 200 <= i < 240:
            up = up + np.frombuffer(tone(1000, 3000), dtype=np.int16)   # the caller
        frame = np.clip(up, -32768, 32767).astype(np.int16).tobytes()
        ev_ref += det.process(frame, down)
        ev_nat += nat.process(frame, down)
        if i < 200:
            floors.append(10 * math.log10(sum(det.det.core.nf)))
    rise = max(floors[20:]) - floors[19]
    if hold:
        assert rise < 3.0
        assert ev_nat == ev_ref                   # the native detector holds its floor too
    else:
        assert rise > 15.0


class _CountingReference(TurnReference):
    """The reference, counting the frames its double-talk detector flags."""

    def reset(self):
        super().reset()
        self.flagged = 0

    def _double_talk(self, e, est):
        flag = super()._double_talk(e, est)
        self.flagged += flag
        return flag


def caller_at_echo_level(gain, detector=True, caller=True, n=400):
    """3 s of agent words echoed at `gain` (120 ms), then a caller whose own words (another
    draw: their envelope does not follow the agent's) are as loud as that echo, for 1.4 s,
    while the agent keeps talking. Events of the native detector and the reference (checked
    equal), and the frames the reference's double-talk detector flagged."""
    ref, nat = Reference(), Native()
    ref.det = _CountingReference()
    if not detector:
        ref.det.dt_margin = ref.det.margin        # the gate as it was: always the full margin
        ref.det._cand_gate = lambda gate, dtalk: gate   # ... also for a barge-in candidate
    hist = []
    noise = np.random.default_rng(5)
    words = agent_words(n, 5)
    callers = agent_words(70, 12)
    ev_ref, ev_nat = [], []
    for i, down in enumerate(words):
        up = np.frombuffer(echo_of(down, 6, gain, hist), dtype=np.int16).astype(np.int32) + \
            noise.integers(-20, 20, N)
        if caller and 150 <= i < 220 and callers[i - 150] is not None:
            up = up + (np.frombuffer(callers[i - 150], dtype=np.int16) * gain).astype(np.int32)
        frame = np.clip(up, -32768, 32767).astype(np.int16).tobytes()
        ev_ref += ref.process(frame, down)
        if detector:
            ev_nat += nat.process(frame, down)
    if detector:
        assert ev_nat == ev_ref
    return decisions(ev_ref), ref.det.flagged


@pytest.mark.parametrize("gain", [0.3, 0.5])
def test_caller_at_the_echo_level_barges_in_at_onset(gain):
    # a strong echo (-10 / -6 dB) and a caller as loud as it: the echo estimate (+ its 3 dB
    # margin) hid the caller's first second, and the barge-in came 1 s late; the caller's
    # envelope does not follow the estimate's, the detector flags double talk and the gate's
    # margin drops to 1.5 dB
    ev, flagged = caller_at_echo_level(gain)
    barges = [t for k, t in ev if k == "barge_in"]
    assert len(barges) == 1 and 150 * F + 300 <= barges[0] <= 150 * F + 400
    assert flagged > 0
    assert [k for k, _ in ev if k in ("turn_commit", "backchannel")] == ["turn_commit"]
    old, _ = caller_at_echo_level(gain, detector=False)
    assert [t for k, t in old if k == "barge_in"][0] > 150 * F + 1000


@pytest.mark.parametrize("gain", [0.3, 0.5])
def test_strong_echo_alone_is_not_double_talk(gain):
    # the same echo with no caller: its envelope follows the estimate, nothing is flagged,
    # nothing is heard
    ev, flagged = caller_at_echo_level(gain, caller=False)
    assert flagged == 0
    assert ev == []


@pytest.mark.parametrize("rate", [8000, 16000, 48000])
@pytest.mark.parametrize("frame_ms", [10, 20, 30])
def test_double_talk_detector_native_equals_reference(rate, frame_ms):
    # a strong echo and a caller at its level, at every rate and frame length, op for op
    n = rate * frame_ms // 1000
    nat, ref = Native(rate, frame_ms), Reference(rate, frame_ms)
    ref.det = _CountingReference(rate, frame_ms)
    up, down = echo_and_caller(rate, 300, 70, [(3, 1.0)], rate + frame_ms)
    a, b = feed([nat, ref], up, down, n)
    assert a == b
    assert ref.det.flagged > 0                            # the detector was engaged


@pytest.mark.parametrize("max_delay_ms", [0, 20, 120, 600])
@pytest.mark.parametrize("frame_ms", [10, 20, 30])
def test_both_echo_models_native_equals_reference(max_delay_ms, frame_ms):
    # echo at or beyond the longest delay searched (the delay search's edge lags), double talk
    # and agent pauses: the two echo models and the choice between them agree op for op
    n = RATE * frame_ms // 1000
    nat, ref = Native(frame_ms=frame_ms, echo_max_delay_ms=max_delay_ms), \
        Reference(frame_ms=frame_ms, echo_max_delay_ms=max_delay_ms)
    rng = np.random.default_rng(max_delay_ms + frame_ms)
    frames = 6000 // frame_ms
    t = np.arange(frames * n) / RATE
    down = rng.standard_normal(t.size) * 5000 * (np.sin(2 * np.pi * 0.9 * t) > -0.3) * \
        (0.2 + 0.8 * np.abs(np.sin(2 * np.pi * 2.5 * t)))
    d = int(min(max_delay_ms, 300) * RATE / 1000)
    echo = np.concatenate([np.zeros(d), down[:down.size - d]]) * 0.3
    caller = (np.abs(t - 3.0) < 0.8) * np.sin(2 * np.pi * 900 * t) * 2500
    up = np.clip(echo + caller + rng.standard_normal(t.size) * 30, -32768, 32767).astype(np.int16)
    down = down.astype(np.int16)
    a, b = [], []
    for i in range(frames):
        u, dn = up[i * n:(i + 1) * n].tobytes(), down[i * n:(i + 1) * n].tobytes()
        a += nat.process(u, dn)
        b += ref.process(u, dn)
    assert a == b
    assert any(k == "barge_in" for k, *_ in a)           # the caller was heard over the echo
    assert nat.det.inspect()["echo_gain_db"] == pytest.approx(
        10 * math.log10(ref.det.g_t if ref.det.fit_t > ref.det.fit_c + 0.1 else ref.det.g))


# ------------------------------------------------------------------ rates, frames, reset

@pytest.mark.parametrize("rate", [8000, 16000, 24000, 48000])
@pytest.mark.parametrize("frame_ms", [10, 20, 30])
def test_rates_and_frame_sizes(rate, frame_ms):
    n = rate * frame_ms // 1000
    det = voicedsp.TurnDetector(rate, frame_ms, voicedsp.TurnDetection(echo_gating=False))
    assert det.frame_samples == n
    sp = tone(1000, 12000, n, rate)
    sil = bytes(2 * n)
    per = 60 // frame_ms                              # frames per 60 ms
    ev = []
    for up in [sil] * (10 * per) + [sp] * (14 * per) + [sil] * (40 * per):
        ev += det.process(up)
    commits = [e for e in ev if e.type == "turn_commit"]
    assert len(commits) == 1
    # speech 600..1440 ms; commit 500 ms after the last speech frame (10 ms frames decide on
    # a sliding 20 ms window, so they hear one 10 ms frame more)
    end = 1440 + (10 if frame_ms == 10 else 0)
    assert commits[0].t_ms == pytest.approx(math.ceil((end + 500) / frame_ms) * frame_ms)
    assert commits[0].ref_ms == pytest.approx(end)


def test_reset_replays_identically():
    det = voicedsp.TurnDetector(8000, 20)
    frames = script((10, SIL, QUIET_AGENT), (40, SPEECH, QUIET_AGENT), (40, SIL, None))
    a = [e for up, down in frames for e in det.process(up, down)]
    det.reset()
    b = [e for up, down in frames for e in det.process(up, down)]
    assert a == b and a


def test_native_matches_reference_on_noisy_audio():
    rng = np.random.default_rng(11)
    n_frames = 400
    t = np.arange(n_frames * N) / RATE
    env = (np.sin(2 * np.pi * 0.7 * t) > 0.2) * (0.4 + 0.6 * np.abs(np.sin(2 * np.pi * 3 * t)))
    up = rng.standard_normal(t.size) * 3000 * env + rng.standard_normal(t.size) * 60 \
        + 400 * np.sin(2 * np.pi * 50 * t)
    down = rng.standard_normal(t.size) * 4000 * (np.sin(2 * np.pi * 0.3 * t) > 0)
    echo = np.concatenate([np.zeros(900), down[:-900]]) * 0.25
    up = np.clip(up + echo, -32768, 32767).astype(np.int16)
    down = down.astype(np.int16)
    nat, ref = Native(), Reference()
    a, b = [], []
    for i in range(n_frames):
        u = up[i * N:(i + 1) * N].tobytes()
        d = down[i * N:(i + 1) * N].tobytes()
        a += nat.process(u, d)
        b += ref.process(u, d)
    assert a == b
    assert any(k == "speech_start" for k, *_ in a)


def test_vad_native_matches_reference():
    rng = np.random.default_rng(4)
    x = (rng.standard_normal(300 * N) * np.repeat(rng.uniform(0, 3000, 300), N)).astype(np.int16)
    v, r = voicedsp.Vad(8000, 20), VadReference(8000, 20)
    for i in range(300):
        f = x[i * N:(i + 1) * N]
        assert v.process(f) == r.process(f.tolist())


# ------------------------------------------------------------------ bare VAD

def test_vad_tone_vs_silence():
    v = voicedsp.Vad(8000, 20)
    out = [v.process(f) for f in [SIL] * 10 + [SPEECH] * 5 + [SIL] * 5]
    assert out == [False] * 10 + [True] * 5 + [False] * 5


@pytest.mark.parametrize("kind", ["hum50", "hum60", "dc", "white"])
def test_vad_steady_noise_is_not_speech(kind):
    rng = np.random.default_rng(2)
    t = np.arange(200 * N) / RATE
    if kind.startswith("hum"):
        f0 = int(kind[3:])
        x = 8000 * np.sin(2 * np.pi * f0 * t) + 800 * np.sin(2 * np.pi * 3 * f0 * t)
    elif kind == "dc":
        x = np.full(t.size, 12000.0)
    else:
        x = rng.standard_normal(t.size) * 2000
    x = x.astype(np.int16)
    v = voicedsp.Vad(8000, 20)
    decided = [v.process(x[i * N:(i + 1) * N]) for i in range(200)]
    assert sum(decided[25:]) <= 2        # after half a second of adaptation: quiet


def test_vad_hears_speech_over_pink_noise():
    rng = np.random.default_rng(8)
    white = rng.standard_normal(300 * N)
    pink = np.fft.irfft(np.fft.rfft(white) / np.sqrt(np.arange(1, white.size // 2 + 2)))
    pink = pink / pink.std() * 600
    sp = np.zeros_like(pink)
    sp[150 * N:200 * N] = np.frombuffer(SPEECH * 50, dtype=np.int16) * 0.3
    x = (pink + sp).astype(np.int16)
    v = voicedsp.Vad(8000, 20)
    d = [v.process(x[i * N:(i + 1) * N]) for i in range(300)]
    assert sum(d[150:200]) >= 48 and sum(d[30:148]) + sum(d[205:]) <= 3


@pytest.mark.parametrize("frame_ms", [10, 20, 30])
def test_quiet_first_frame_does_not_make_steady_noise_speech(make, frame_ms):
    # The call opens 6 dB under the line noise that follows (a quiet first packet). The floor
    # starts as the mean of the first 200 ms, so the noise is at most a blip while that mean
    # settles (once started from the quiet frame alone, it was speech for the whole call).
    n = RATE * frame_ms // 1000
    rng = np.random.default_rng(11)
    x = rng.standard_normal(150 * n) * 1500
    x[:n] *= 0.5
    x = x.astype(np.int16)
    det = make(frame_ms=frame_ms)
    ev = run(det, [(x[i * n:(i + 1) * n].tobytes(), None) for i in range(150)])
    starts = [e for e in ev if e[0] == "speech_start"]
    ends = [e for e in ev if e[0] == "speech_end"]
    assert len(starts) == len(ends) and all(e[2] <= 200 for e in starts)
    assert not any(k in ("turn_commit", "barge_in") for k, _ in decisions(ev))


def test_speech_in_the_first_200_ms_is_still_heard(make):
    # Frames far above the start-up mean (speech) are left out of it, so a caller talking
    # 100 ms after the call opens is heard from the first loud frame.
    det = make()
    ev = run(det, script((5, SIL, None), (40, SPEECH, None), (30, SIL, None)))
    assert [e[:3] for e in ev if e[0] == "speech_start"] == [("speech_start", 5 * F + 40, 5 * F)]


def test_noise_masked_end_waits_longer_after_a_sudden_drop_than_after_a_fade(make):
    # Speech over steady noise that stops dead may go on under the noise (the speech was lost
    # mid-word): the silence timer waits longer than after speech that fades into the noise.
    rng = np.random.default_rng(5)
    t = np.arange(200 * N) / RATE
    noise = rng.standard_normal(200 * N) * 300
    waits = []
    for fade in (False, True):
        env = np.zeros(200 * N)
        env[50 * N:90 * N] = 6000
        if fade:
            for i, level in enumerate([3000, 1500, 800, 400, 200]):
                env[(90 + i) * N:(91 + i) * N] = level
        x = (noise + env * np.sin(2 * np.pi * 1000 * t)).astype(np.int16)
        det = make()
        ev = run(det, [(x[i * N:(i + 1) * N].tobytes(), None) for i in range(200)])
        commits = [e for e in ev if e[0] == "turn_commit"]
        assert len(commits) == 1
        waits.append(commits[0][1] - commits[0][2])   # decision time - last speech frame
    assert waits[0] >= waits[1] + 100 and waits[1] >= 500


def faded_turn_with_low_tail(seed, tail_amp, rate=RATE, frame_ms=F, start=50, frames=200):
    """Speech (1 kHz) over white noise from 20 ms frame `start` (1 s) that fades out in
    100 ms, and under the fade and for 200 ms after it a voiced murmur (150 Hz + 300 Hz) the
    two VAD bands cannot hear over the noise; the speech truly ends 1.1 s after it started
    (at 2100 ms by default). `frames` x 20 ms in all, as (uplink, None) frames of `frame_ms`."""
    rng = np.random.default_rng(seed)
    m = rate // 50                       # samples per 20 ms
    t = np.arange(frames * m) / rate
    env = np.zeros(frames * m)
    env[start * m:(start + 40) * m] = 6000
    for i, level in enumerate([3000, 1500, 800, 400, 200]):
        env[(start + 40 + i) * m:(start + 41 + i) * m] = level
    tail = np.zeros(frames * m)
    tail[(start + 40) * m:(start + 55) * m] = tail_amp
    x = (rng.standard_normal(frames * m) * 300 * math.sqrt(rate / RATE)
         + env * np.sin(2 * np.pi * 1000 * t)
         + tail * (np.sin(2 * np.pi * 150 * t) + 0.5 * np.sin(2 * np.pi * 300 * t)))
    n = rate * frame_ms // 1000
    return [(x[i * n:(i + 1) * n].astype(np.int16).tobytes(), None) for i in range(len(x) // n)]


@pytest.mark.parametrize("seed", [1, 4, 7])
def test_voiced_tail_under_noise_ends_the_turn_on_time(make, seed):
    # The murmur is heard in the low band after the last speech frame: the silence is
    # counted from its end (2100 ms), so the commit lands in 2600 ms - 40 .. + 120, where the
    # band-energy wait alone commits 40-60 ms early (at 2540-2560 ms).
    ev = run(make(), faded_turn_with_low_tail(seed, 400))
    commits = [e for e in ev if e[0] == "turn_commit"]
    assert len(commits) == 1
    assert 2600 <= commits[0][1] <= 2600 + 120


@pytest.mark.parametrize("rate", [8000, 16000, 48000])
@pytest.mark.parametrize("frame_ms", [10, 20, 30])
def test_low_band_tail_native_equals_reference(rate, frame_ms):
    # the low band's decimation and window at every rate and frame length, bit for bit
    for amp in (0, 400, 700):
        frames = faded_turn_with_low_tail(3, amp, rate, frame_ms)
        assert run(Native(rate, frame_ms), frames) == run(Reference(rate, frame_ms), frames)


@pytest.mark.parametrize("seed", range(1, 9))
def test_noise_alone_after_speech_does_not_extend_the_turn(monkeypatch, seed):
    # Without the murmur the low band sees only noise: the commit is where it is with the
    # low band switched off (its threshold out of reach), for the native detector too.
    import voicedsp._turn_reference as ref
    frames = faded_turn_with_low_tail(seed, 0)
    native = [e for e in run(Native(), frames) if e[0] == "turn_commit"]
    monkeypatch.setattr(ref, "LOW_THR_DB", 200.0)
    off = [e for e in run(Reference(), frames) if e[0] == "turn_commit"]
    assert native == off and len(off) == 1 and off[0][1] < 2600


# ------------------------------------------------------------------ config and errors

def test_defaults_match_the_issue():
    td = voicedsp.TurnDetection()
    assert (td.silence_threshold_ms, td.response_min_speech_ms, td.commit_min_interval_ms,
            td.barge_confirm_ms, td.instant_barge, td.mic_guard_ms,
            td.prefix_padding_ms) == (500, 600, 1500, 300, False, 0, 300)
    assert td.echo_gating is True


@pytest.mark.parametrize("knob", ["silence_threshold_ms", "response_min_speech_ms",
                                  "commit_min_interval_ms", "barge_confirm_ms",
                                  "mic_guard_ms", "prefix_padding_ms", "echo_max_delay_ms"])
def test_negative_times_are_rejected(knob):
    with pytest.raises(voicedsp.InvalidArgumentError, match=knob):
        voicedsp.TurnDetection(**{knob: -1})
    with pytest.raises(ValueError):
        voicedsp.TurnDetection(**{knob: -1})


@pytest.mark.parametrize("kw", [{"silence_threshold_ms": "500"}, {"barge_confirm_ms": 300.0},
                                {"instant_barge": 1}, {"echo_gating": "yes"},
                                {"vad_threshold_db": "3"}, {"mic_guard_ms": True}])
def test_wrong_types_are_rejected(kw):
    with pytest.raises(voicedsp.InvalidTypeError):
        voicedsp.TurnDetection(**kw)
    with pytest.raises(TypeError):
        voicedsp.TurnDetection(**kw)


@pytest.mark.parametrize("kw", [{"vad_threshold_db": 0.0}, {"vad_threshold_db": 41.0},
                                {"vad_release_db": -0.5}, {"vad_release_db": 5.0},
                                {"vad_threshold_db": float("nan")},
                                {"silence_threshold_ms": 10001}, {"echo_max_delay_ms": 601}])
def test_out_of_range_is_rejected(kw):
    with pytest.raises(voicedsp.InvalidArgumentError):
        voicedsp.TurnDetection(**kw)


def test_short_silence_threshold_warns():
    with pytest.warns(UserWarning, match="pauses between words"):
        td = voicedsp.TurnDetection(silence_threshold_ms=250)
    assert td.silence_threshold_ms == 250
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        voicedsp.TurnDetection(silence_threshold_ms=300)


def test_config_is_immutable_and_replace_validates():
    td = voicedsp.TurnDetection()
    with pytest.raises(Exception):
        td.silence_threshold_ms = 10
    assert td.replace(barge_confirm_ms=200).barge_confirm_ms == 200
    with pytest.raises(voicedsp.InvalidArgumentError):
        td.replace(barge_confirm_ms=-5)
    assert td.as_dict()["silence_threshold_ms"] == 500


@pytest.mark.parametrize("rate,frame_ms,exc", [(11025, 20, voicedsp.UnsupportedRateError),
                                               (8000, 25, voicedsp.FrameSizeError),
                                               (8000, 0, voicedsp.FrameSizeError)])
def test_bad_construction(rate, frame_ms, exc):
    with pytest.raises(exc):
        voicedsp.TurnDetector(rate, frame_ms)
    with pytest.raises(exc):
        voicedsp.Vad(rate, frame_ms)


def test_turn_detection_type_checked():
    with pytest.raises(voicedsp.InvalidTypeError):
        voicedsp.TurnDetector(8000, 20, {"silence_threshold_ms": 500})


def test_bad_frames_raise_and_leave_the_detector_usable():
    det = voicedsp.TurnDetector(8000, 20, voicedsp.TurnDetection(echo_gating=False))
    good = script((10, SIL, None), (40, SPEECH, None), (40, SIL, None))
    with pytest.raises(voicedsp.FrameSizeError, match="160"):
        det.process(bytes(318))
    with pytest.raises(voicedsp.InvalidArgumentError):
        det.process(bytes(319))                              # odd byte count
    with pytest.raises(voicedsp.InvalidTypeError):
        det.process(np.zeros(160, np.float32))
    with pytest.raises(voicedsp.FrameSizeError, match="downlink"):
        det.process(SIL, bytes(100))
    with pytest.raises(voicedsp.InvalidTypeError):
        det.process("not audio")
    ev = [e for up, down in good for e in det.process(up, down)]
    fresh = voicedsp.TurnDetector(8000, 20, voicedsp.TurnDetection(echo_gating=False))
    assert ev == [e for up, down in good for e in fresh.process(up, down)]
    v = voicedsp.Vad()
    with pytest.raises(voicedsp.FrameSizeError):
        v.process(bytes(100))
    assert v.process(SIL) is False


def test_accepts_numpy_and_memoryview_and_returns_empty_tuple():
    det = voicedsp.TurnDetector(8000, 20)
    assert det.process(np.zeros(160, np.int16)) == ()
    assert det.process(memoryview(bytes(320))) == ()
    assert det.process(bytearray(320), np.zeros(160, np.int16)) == ()
    assert det.latency == 0 and det.frame_samples == 160


def test_inspect_reports_echo_delay():
    det = voicedsp.TurnDetector(8000, 20)
    hist = []
    for down in agent_speech(150):
        det.process(echo_of(down, 6, 0.3, hist), down)
    st = det.inspect()
    assert st["agent_audible"] is True
    assert st["echo_delay_ms"] in (100.0, 120.0, 140.0)
    assert -20 < st["echo_gain_db"] < 0


# ------------------------------------------------------------------ properties, threads, lifecycle

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(derandomize=True, max_examples=25, deadline=None)
@given(levels=st.lists(st.tuples(st.integers(0, 12000), st.integers(0, 8000)), min_size=5,
                       max_size=60),
       frame_ms=st.sampled_from([10, 20, 30]), rate=st.sampled_from([8000, 16000]),
       gating=st.booleans(), seed=st.integers(0, 2**16))
def test_native_equals_reference_on_random_streams(levels, frame_ms, rate, gating, seed):
    rng = np.random.default_rng(seed)
    n = rate * frame_ms // 1000
    nat = Native(rate, frame_ms, echo_gating=gating, mic_guard_ms=100)
    ref = Reference(rate, frame_ms, echo_gating=gating, mic_guard_ms=100)
    for up_amp, down_amp in levels:
        for _ in range(3):
            up = (rng.standard_normal(n) * up_amp).clip(-32768, 32767).astype(np.int16)
            down = (rng.standard_normal(n) * down_amp).clip(-32768, 32767).astype(np.int16)
            d = down.tobytes() if down_amp else None
            assert nat.process(up.tobytes(), d) == ref.process(up.tobytes(), d)


def test_threads_give_the_same_events():
    import threading

    frames = script((10, SIL, QUIET_AGENT), (40, SPEECH, QUIET_AGENT), (40, SIL, None)) * 20
    expected = run(Native(), frames)
    results = [None] * 4

    def work(i):
        results[i] = run(Native(), frames)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r == expected for r in results)


@pytest.mark.skipif(bool(os.environ.get("VOICEDSP_ASAN_PYTHON")),
                    reason="AddressSanitizer's quarantine holds freed memory")
def test_create_destroy_does_not_leak():
    import resource

    def cycle(k):
        for _ in range(k):
            det = voicedsp.TurnDetector(48000, 30)
            det.process(bytes(2 * 1440))
            del det

    cycle(2000)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cycle(20000)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert after - before < 2048          # kB: 20,000 objects of ~1 kB would be ~20 MB
