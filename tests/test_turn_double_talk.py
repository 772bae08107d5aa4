"""Barge-in while the agent's echo comes back on a leg without echo cancellation (round 11).

While a barge-in candidate is pending on a leg whose echo is audible, on a frame the
double-talk detector flags, the caller's speech is also looked for over the smaller of the
two echo models' estimates x the double-talk margin: such a frame holds the candidate (the
220 ms gap that rejects it is counted from it) and confirms it at barge_confirm_ms. Frames
not flagged keep the gate. Speech segments, the VAD and the end of turn keep the full gate.
"""

import numpy as np
import pytest
from scipy.signal import fftconvolve

import voicedsp
from voicedsp._turn_reference import TurnReference

from test_turn import Native, Reference, echo_and_caller, feed
from test_turn_noise import needs_tts

RATE = 8000
N = 160          # samples per 20 ms frame at 8 kHz

AGENT = ("Thanks for calling. Your order shipped on Monday and should arrive by Thursday "
         "afternoon. If you would like to change the delivery address, I can help you with "
         "that now, or I can send a link by text message.")
CALLERS = ["I need to change the delivery address please",
           "that is not the order I placed last week",
           "can you send me the tracking number instead"]


REPLY2 = ("Sure, I can look into that for you. Could you please read me the order number from "
          "the confirmation email, starting with the letters?")


def agent_leg(say_8k, delay_ms, erl_db, seed=1, text=AGENT, voice="en-us+f3", tail_s=0.15,
              noise=15.0):
    """The agent's reply on the downlink (from 0.3 s) and its echo on the uplink: an
    exponential room tail of `tail_s`, `delay_ms` late, `erl_db` down, over mic noise of RMS
    `noise`. Also the echo's RMS over the reply."""
    a = say_8k(text, voice).astype(np.float64)
    a = a / np.max(np.abs(a)) * 12000
    n = a.size + RATE
    s0 = int(0.3 * RATE)
    down = np.zeros(n)
    down[s0:s0 + a.size] = a
    rng = np.random.default_rng(seed)
    taps = int(tail_s * RATE)
    h = rng.standard_normal(taps) * np.exp(-6.9 * np.arange(taps) / taps)
    h /= np.sqrt(np.sum(h ** 2))
    d = int(delay_ms * RATE / 1000)
    echo = fftconvolve(down, h)[:n]
    echo = np.concatenate([np.zeros(d), echo[:n - d]]) * 10 ** (-erl_db / 20)
    rms = np.sqrt(np.mean(echo[s0 + d:s0 + d + a.size] ** 2))
    return down, echo + rng.standard_normal(n) * noise, rms


def decisions(up, down):
    det = voicedsp.TurnDetector(RATE, 20, voicedsp.TurnDetection())
    up = np.clip(up, -32768, 32767).astype(np.int16)
    down = np.clip(down, -32768, 32767).astype(np.int16)
    ev = []
    for i in range(up.size // N):
        ev += [(e.type, e.t_ms) for e in det.process(up[i * N:(i + 1) * N].tobytes(),
                                                      down[i * N:(i + 1) * N].tobytes())]
    return ev


def on_time(up_echo, down, rms, say_8k, overs_db, onsets_s=(1.9, 2.5, 3.1)):
    """Each caller sentence over the echo at each onset and level: how many barge-ins fire in
    the kit's window (onset + 250 .. 450 ms), and each call's first barge-in after the onset
    (3 s if none)."""
    n, lat = 0, []
    for text in CALLERS:
        c = say_8k(text, "en+m3").astype(np.float64)
        c = c / np.sqrt(np.mean(c ** 2)) * rms
        for at_s in onsets_s:
            for over_db in overs_db:
                up = up_echo.copy()
                s = int(at_s * RATE)
                up[s:s + c.size] += c * 10 ** (over_db / 20)
                b = [t - at_s * 1000 for k, t in decisions(up, down) if k == "barge_in"]
                n += bool(b) and 250 <= b[0] <= 450
                lat.append(min(b[0], 3000.0) if b else 3000.0)
    return n, lat


@needs_tts
def test_caller_close_to_a_strong_echo_barges_in_sooner(say_8k):
    # 216 calls: three rooms, echo 120 / 200 ms late, 10 / 14 dB down; three sentences of
    # another voice at three onsets inside the agent's reply, 0 / 2 dB over the echo's RMS
    # (the corpora's missed double-talk barge-ins: the caller a few dB over the echo). Main
    # before round 11: 84 in the kit's window, 29 never fire, mean latency 974 ms (3 s for a
    # miss); with the hold in double talk: 84, 26, 935 ms (a pending candidate survives the
    # caller's syllables under the conservative estimate more often; the window itself is
    # not reached more often on these calls).
    n, lat = 0, []
    for room in (1, 2, 3):
        for delay_ms in (120, 200):
            for erl_db in (10, 14):
                down, echo, rms = agent_leg(say_8k, delay_ms, erl_db, room)
                k, la = on_time(echo, down, rms, say_8k, (0, 2))
                n += k
                lat += la
    assert len(lat) == 216
    assert n >= 83
    assert sum(la >= 3000 for la in lat) <= 27
    assert np.mean(lat) <= 955


@needs_tts
def test_the_echo_alone_never_fires(say_8k):
    # the agent's echo without a caller, three rooms, 120 / 160 / 200 / 240 ms late, 4 to 14 dB
    # down: no barge-in and no turn (the hold in double talk must not let the echo's own
    # candidates through; round 10's hold on every frame did on the corpora)
    for room in (1, 2, 3):
        for delay_ms in (120, 160, 200, 240):
            for erl_db in (4, 6, 8, 10, 12, 14):
                down, echo, _ = agent_leg(say_8k, delay_ms, erl_db, room)
                fired = [k for k, _ in decisions(echo, down) if k in ("barge_in", "turn_commit")]
                assert fired == [], (room, delay_ms, erl_db)


@pytest.mark.parametrize("text, voice, room, delay_ms, erl_db", [
    (AGENT, "en-us+f3", 4, 80, 10), (AGENT, "en+m1", 4, 80, 17), (AGENT, "en-us+f5", 1, 80, 17),
    (REPLY2, "en-us+f5", 2, 80, 17), (REPLY2, "en-us+f5", 2, 240, 14),
    (REPLY2, "en-us+f5", 2, 240, 17)],
    ids=["a-f3-4-80-10", "a-m1-4-80-17", "a-f5-1-80-17", "b-f5-2-80-17", "b-f5-2-240-14",
         "b-f5-2-240-17"])
@needs_tts
def test_the_echo_alone_over_loud_line_noise_never_fires(say_8k, text, voice, room, delay_ms,
                                                         erl_db):
    # the echo alone over line noise of RMS 80: legs on which round 10's hold (on every frame
    # over the smaller estimate, not only in double talk) let a candidate the echo opened
    # fire; main and the double-talk-only hold stay silent
    down, echo, _ = agent_leg(say_8k, delay_ms, erl_db, room, text, voice, noise=80.0)
    assert [k for k, _ in decisions(echo, down) if k in ("barge_in", "turn_commit")] == []


class _CandidateGateReference(TurnReference):
    """The reference, counting the frames the candidate's gate is lowered on and the frames
    heard only over the lowered gate."""

    def reset(self):
        super().reset()
        self.lower = 0
        self.heard = 0

    def _cand_gate(self, gate, dtalk):
        g = super()._cand_gate(gate, dtalk)
        self.lower += g < gate
        return g

    def _segments(self, ev, raw, t0, t1, raw_lo):
        self.heard += raw_lo and not raw
        super()._segments(ev, raw, t0, t1, raw_lo)


@pytest.mark.parametrize("rate", [8000, 16000, 48000])
@pytest.mark.parametrize("frame_ms", [10, 20, 30])
def test_candidate_gate_native_equals_reference(rate, frame_ms):
    # an echo of the agent's words (140 ms, -6 dB) and a caller's words at 0.3 to 0.6 of its
    # level, seven times over: candidates open and, in double talk, are held and confirmed
    # over the smaller model's estimate, at every rate and frame length, op for op
    n = rate * frame_ms // 1000
    nat, ref = Native(rate, frame_ms), Reference(rate, frame_ms)
    ref.det = _CandidateGateReference(rate, frame_ms)
    up, down = echo_and_caller(rate, 500, 40, [(at_s, (0.6, 0.8, 1.0, 1.2)[i % 4])
                                               for i, at_s in enumerate(range(2, 9))],
                               rate + 3 * frame_ms)
    a, b = feed([nat, ref], up, down, n)
    assert a == b
    assert ref.det.lower > 0                              # the lower gate was engaged
    assert ref.det.heard > 0                              # ... and heard what the gate did not
    assert any(k == "barge_candidate" for k, *_ in b)
