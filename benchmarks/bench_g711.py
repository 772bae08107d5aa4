"""G.711 side by side, in one process, interleaved: voicedsp vs audioop (audioop-lts on 3.13+),
the `g711` package and a numpy lookup table.

    python benchmarks/bench_g711.py [--rounds 15]

Per 20 ms frame (160 samples): consecutive frames of real (synthesized) speech, not one frame
repeated, and full-scale random frames. Per 1 s buffer (8000 samples): throughput. Every
implementation is timed over the same frames in each round, in a rotating order; the table
shows the median over rounds. The `g711` package takes and returns float32 arrays (its native
interface), prepared outside the timed loop.
"""

from __future__ import annotations

import argparse
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
    try:
        import audioop
    except ImportError:  # pragma: no cover
        sys.exit("bench_g711 needs audioop (stdlib up to 3.12, pip install audioop-lts on 3.13+)")
try:
    import g711
except ImportError:
    g711 = None

FRAME = 160
SECOND = 8000

ALL = np.arange(65536, dtype=np.uint16).view(np.int16)
LUT_ULAW_ENC = np.frombuffer(voicedsp.ulaw_encode(ALL), np.uint8)        # by uint16 value
LUT_ALAW_ENC = np.frombuffer(voicedsp.alaw_encode(ALL), np.uint8)
LUT_ULAW_DEC = np.frombuffer(voicedsp.ulaw_decode(bytes(range(256))), np.int16)
LUT_ALAW_DEC = np.frombuffer(voicedsp.alaw_decode(bytes(range(256))), np.int16)


def impls(law: str):
    """name -> (encode(frame_views), decode(code_views)) over prepared per-impl inputs."""
    enc_v = voicedsp.ulaw_encode if law == "ulaw" else voicedsp.alaw_encode
    dec_v = voicedsp.ulaw_decode if law == "ulaw" else voicedsp.alaw_decode
    enc_a = audioop.lin2ulaw if law == "ulaw" else audioop.lin2alaw
    dec_a = audioop.ulaw2lin if law == "ulaw" else audioop.alaw2lin
    lut_e = LUT_ULAW_ENC if law == "ulaw" else LUT_ALAW_ENC
    lut_d = LUT_ULAW_DEC if law == "ulaw" else LUT_ALAW_DEC
    out = {
        "voicedsp": ("bytes", lambda xs: [enc_v(x) for x in xs], lambda cs: [dec_v(c) for c in cs]),
        "audioop": ("bytes", lambda xs: [enc_a(x, 2) for x in xs], lambda cs: [dec_a(c, 2) for c in cs]),
        "numpy LUT": ("int16", lambda xs: [lut_e[x.view(np.uint16)] for x in xs],
                      lambda cs: [lut_d[c] for c in cs]),
    }
    if g711 is not None:
        enc_g = g711.encode_ulaw if law == "ulaw" else g711.encode_alaw
        dec_g = g711.decode_ulaw if law == "ulaw" else g711.decode_alaw
        out["g711 pkg"] = ("float32", lambda xs: [enc_g(x) for x in xs],
                           lambda cs: [dec_g(c) for c in cs])
    return out


def prepare(kind: str, chunks: list[bytes], law: str):
    """Inputs in each implementation's native form: PCM for encode, codes for decode."""
    enc = voicedsp.ulaw_encode if law == "ulaw" else voicedsp.alaw_encode
    codes = [enc(c) for c in chunks]
    if kind == "bytes":
        return chunks, codes
    if kind == "int16":
        return [np.frombuffer(c, np.int16).copy() for c in chunks], \
               [np.frombuffer(c, np.uint8).copy() for c in codes]
    return [np.frombuffer(c, np.int16).astype(np.float32) / 32768 for c in chunks], codes


def measure(chunks: list[bytes], law: str, rounds: int) -> dict[str, tuple[float, float]]:
    """name -> (median ns per chunk encode, median ns per chunk decode)."""
    table = impls(law)
    inputs = {name: prepare(kind, chunks, law) for name, (kind, _, _) in table.items()}
    names = list(table)
    enc_t = {n: [] for n in names}
    dec_t = {n: [] for n in names}
    for r in range(rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            _, enc, dec = table[name]
            pcm, codes = inputs[name]
            t0 = time.perf_counter_ns()
            enc(pcm)
            t1 = time.perf_counter_ns()
            dec(codes)
            t2 = time.perf_counter_ns()
            enc_t[name].append((t1 - t0) / len(chunks))
            dec_t[name].append((t2 - t1) / len(chunks))
    return {n: (statistics.median(enc_t[n]), statistics.median(dec_t[n])) for n in names}


def call_floor(frames: list[bytes], rounds: int) -> float:
    """ns per item of a list comprehension calling a trivial builtin: the Python floor."""
    best = []
    for _ in range(rounds):
        t0 = time.perf_counter_ns()
        [len(f) for f in frames]
        best.append((time.perf_counter_ns() - t0) / len(frames))
    return statistics.median(best)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=15)
    args = ap.parse_args()

    speech = speech_pcm16(8000)
    n_frames = len(speech) // (2 * FRAME)
    frames = [speech[i * 2 * FRAME:(i + 1) * 2 * FRAME] for i in range(n_frames)]
    rng = np.random.default_rng(1)
    noise = [rng.integers(-32768, 32768, FRAME, dtype=np.int16).tobytes() for _ in range(n_frames)]
    seconds = [speech[i * 2 * SECOND:(i + 1) * 2 * SECOND] for i in range(len(speech) // (2 * SECOND))]

    print(f"# G.711 benchmark — Python {platform.python_version()}, {platform.machine()}, "
          f"{platform.processor() or platform.platform()}")
    print(f"# {n_frames} consecutive 20 ms frames of speech ({n_frames * 0.02:.1f} s), "
          f"{n_frames} random full-scale frames, {len(seconds)} x 1 s buffers; "
          f"median of {args.rounds} interleaved rounds")
    print(f"# Python floor (list comprehension calling len()): {call_floor(frames, args.rounds):.0f} ns per item\n")

    for law in ("ulaw", "alaw"):
        sp = measure(frames, law, args.rounds)
        rn = measure(noise, law, args.rounds)
        sec = measure(seconds, law, args.rounds)
        base = sp["audioop"]
        print(f"## {law}\n")
        print("| implementation | encode ns/frame (speech) | encode ns/frame (random) | "
              "decode ns/frame | encode Msamples/s (1 s) | decode Msamples/s (1 s) |")
        print("|---|---|---|---|---|---|")
        for name in sp:
            e, d = sp[name]
            print(f"| {name} | {e:.0f} | {rn[name][0]:.0f} | {d:.0f} | "
                  f"{SECOND / sec[name][0] * 1e3:.0f} | {SECOND / sec[name][1] * 1e3:.0f} |")
        v = sp["voicedsp"]
        lut = sec["numpy LUT"]
        print(f"\nvoicedsp vs audioop: encode speech {base[0] / v[0]:.2f}x faster, encode random "
              f"{rn['audioop'][0] / rn['voicedsp'][0]:.2f}x, decode {base[1] / v[1]:.2f}x; "
              f"random/speech encode cost {rn['voicedsp'][0] / v[0]:.2f}; 1 s buffers vs numpy "
              f"LUT: encode {lut[0] / sec['voicedsp'][0]:.2f}x, decode "
              f"{lut[1] / sec['voicedsp'][1]:.2f}x\n")


if __name__ == "__main__":
    main()
