"""Barge-in while the agent's echo comes back on a leg without echo cancellation (round 10).

While a barge-in candidate is pending on a leg whose echo is audible, the caller's speech is
also looked for over the smaller of the two echo models' estimates (x the gate's margin, the
double-talk margin while the double-talk detector flags): such a frame holds the candidate
(the 220 ms gap that rejects it is counted from it), and, in double talk, confirms it at
barge_confirm_ms. Speech segments, the VAD and the end of turn keep the full gate.
"""

import numpy as np
import pytest
from scipy.signal import fftconvolve

import voicedsp
from voicedsp._turn_reference import TurnReference

from test_turn import Native, Reference, agent_pcm, feed
from test_turn_noise import needs_tts

RATE = 8000
N = 160          # samples per 20 ms frame at 8 kHz

AGENT = ("Thanks for calling. Your order shipped on Monday and should arrive by Thursday "
         "afternoon. If you would like to change the delivery address, I can help you with "
         "that now, or I can send a link by text message.")
CALLERS = ["I need to change the delivery address please",
           "that is not the order I placed last week",
           "can you send me the tracking number instead"]


def agent_leg(say_8k, delay_ms, erl_db, seed=1):
    """The agent's reply on the downlink (from 0.3 s) and its echo on the uplink: a 150 ms
    exponential room tail, `delay_ms` late, `erl_db` down, over mic noise. Also the echo's
    RMS over the reply."""
    a = say_8k(AGENT, "en-us+f3").astype(np.float64)
    a = a / np.max(np.abs(a)) * 12000
    n = a.size + RATE
    s0 = int(0.3 * RATE)
    down = np.zeros(n)
    down[s0:s0 + a.size] = a
    rng = np.random.default_rng(seed)
    taps = int(0.15 * RATE)
    h = rng.standard_normal(taps) * np.exp(-6.9 * np.arange(taps) / taps)
    h /= np.sqrt(np.sum(h ** 2))
    d = int(delay_ms * RATE / 1000)
    echo = fftconvolve(down, h)[:n]
    echo = np.concatenate([np.zeros(d), echo[:n - d]]) * 10 ** (-erl_db / 20)
    rms = np.sqrt(np.mean(echo[s0 + d:s0 + d + a.size] ** 2))
    return down, echo + rng.standard_normal(n) * 15, rms


def decisions(up, down):
    det = voicedsp.TurnDetector(RATE, 20, voicedsp.TurnDetection())
    up = np.clip(up, -32768, 32767).astype(np.int16)
    down = np.clip(down, -32768, 32767).astype(np.int16)
    ev = []
    for i in range(up.size // N):
        ev += [(e.type, e.t_ms) for e in det.process(up[i * N:(i + 1) * N].tobytes(),
                                                      down[i * N:(i + 1) * N].tobytes())]
    return ev


@needs_tts
def test_caller_over_the_echo_barges_in_on_time(say_8k):
    # 144 calls: echo 160 / 240 ms late, 8 / 12 dB down; three sentences of another voice at
    # four onsets inside the agent's reply, 0 / 2 / 4 dB over the echo's RMS. The kit's window
    # for a barge-in is onset + barge_confirm_ms (300) -50 .. +150 ms. Main before round 10:
    # 57 on time, median 660 ms after the onset; this round: 65, median 480 ms. With the echo
    # alone, nothing fires.
    on_time, late = 0, []
    for delay_ms in (160, 240):
        for erl_db in (8, 12):
            down, echo, rms = agent_leg(say_8k, delay_ms, erl_db)
            assert [k for k, _ in decisions(echo, down) if k in ("barge_in", "turn_commit")] == []
            for text in CALLERS:
                c = say_8k(text, "en+m3").astype(np.float64)
                c = c / np.sqrt(np.mean(c ** 2)) * rms
                for at_s in (1.9, 2.3, 2.7, 3.1):
                    for over_db in (0, 2, 4):
                        up = echo.copy()
                        s = int(at_s * RATE)
                        up[s:s + c.size] += c * 10 ** (over_db / 20)
                        b = [t - at_s * 1000 for k, t in decisions(up, down) if k == "barge_in"]
                        on_time += bool(b) and 250 <= b[0] <= 450
                        late.append(b[0] if b else 1e9)
    assert on_time >= 62
    assert np.median(late) <= 550


class _CandidateGateReference(TurnReference):
    """The reference, counting the frames the candidate's lower gate hears and the full one
    does not."""

    def reset(self):
        super().reset()
        self.lower = 0

    def _cand_gate(self, est, gate, dtalk):
        g = super()._cand_gate(est, gate, dtalk)
        self.lower += g < gate
        return g


@pytest.mark.parametrize("rate", [8000, 16000, 48000])
@pytest.mark.parametrize("frame_ms", [10, 20, 30])
def test_candidate_gate_native_equals_reference(rate, frame_ms):
    # an echo of the agent's words (140 ms, -6 dB) and a caller's words at a quarter of its
    # level, several times over: candidates open, are held, confirmed or rejected over the
    # smaller model's estimate, at every rate and frame length, op for op
    n = rate * frame_ms // 1000
    nat, ref = Native(rate, frame_ms), Reference(rate, frame_ms)
    ref.det = _CandidateGateReference(rate, frame_ms)
    rng = np.random.default_rng(rate + 3 * frame_ms)
    down = np.repeat(agent_pcm(500, 5).astype(np.float64), rate // 8000)
    d = int(0.14 * rate)
    echo = np.concatenate([np.zeros(d), down[:down.size - d]]) * 0.5
    caller = np.zeros(down.size)
    c = np.repeat(agent_pcm(40, 12).astype(np.float64), rate // 8000) * 0.25
    for at_s in (3, 5, 7):
        caller[at_s * rate:at_s * rate + c.size] = c
    up = np.clip(echo + caller + rng.standard_normal(down.size) * 20, -32768,
                 32767).astype(np.int16)
    a, b = feed([nat, ref], up, down.astype(np.int16), n)
    assert a == b
    assert ref.det.lower > 0                              # the lower gate was engaged
    assert any(k == "barge_candidate" for k, *_ in b)
