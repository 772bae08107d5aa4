"""Opus encode/decode per 20 ms frame: voicedsp vs opuslib vs a raw ctypes call of libopus.

All three drive the same libopus in one process, on the same speech (espeak-ng, resampled by
sox; a synthetic stand-in if those tools are missing), with the same settings. Each round
times one pass over every frame for every contender, in a rotating order (interleaved), so
load changes on the machine hit all of them alike; the table shows the median over rounds.

The floor is libopus called through ctypes with its argument types declared and the output
buffer allocated once outside the loop: the least a Python caller can pay. It returns no
Python object; voicedsp and opuslib each return a new bytes object per frame.

For reference, a fourth column times the same loop in C (a helper compiled with `cc` at start,
called once per pass through ctypes, so it too runs interleaved in this process): libopus's
own cost, with no Python at all. Without a C compiler that column is left out.

    python benchmarks/bench_opus.py [--rounds 31] [--seconds 4]
"""

import argparse
import ctypes
import ctypes.util
import gc
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

import voicedsp

try:
    import opuslib
    import opuslib.api.ctl
    import opuslib.api.encoder
except Exception as exc:  # pragma: no cover
    sys.exit(f"bench_opus needs opuslib (pip install voicedsp[bench]): {exc}")

TEXT = ("Thanks for calling. Your appointment is confirmed for Tuesday at four thirty. "
        "If you need to change it, just say reschedule, or stay on the line for an agent.")


def speech(rate, seconds, tmp):
    if shutil.which("espeak-ng") and shutil.which("sox"):
        wav = os.path.join(tmp, "speech.wav")
        if not os.path.exists(wav):
            subprocess.run(["espeak-ng", "-w", wav, TEXT], check=True)
        raw = os.path.join(tmp, f"speech_{rate}.raw")
        # -D: no dither, so the input is the same on every run
        subprocess.run(["sox", "-D", "-G", wav, "-r", str(rate), "-c", "1", "-b", "16",
                        "-e", "signed", "-L", "-t", "raw", raw], check=True)
        pcm = np.fromfile(raw, dtype="<i2").astype(np.int16)
        source = "espeak-ng + sox"
    else:
        t = np.arange(int(rate * seconds)) / rate
        phase = 2 * np.pi * np.cumsum(120 + 30 * np.sin(2 * np.pi * 0.7 * t)) / rate
        pcm = (5000 * sum(np.sin(h * phase) / h for h in range(1, 20))).astype(np.int16)
        source = "synthetic"
    n = int(rate * seconds)
    pcm = np.resize(pcm, n)  # repeat the utterance to the length asked for
    return pcm, source


def load_libopus():
    lib = ctypes.CDLL(ctypes.util.find_library("opus"))
    lib.opus_encoder_create.restype = ctypes.c_void_p
    lib.opus_encoder_create.argtypes = (ctypes.c_int32, ctypes.c_int, ctypes.c_int,
                                        ctypes.POINTER(ctypes.c_int))
    lib.opus_decoder_create.restype = ctypes.c_void_p
    lib.opus_decoder_create.argtypes = (ctypes.c_int32, ctypes.c_int,
                                        ctypes.POINTER(ctypes.c_int))
    lib.opus_encode.restype = ctypes.c_int32
    lib.opus_encode.argtypes = (ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int,
                                ctypes.c_void_p, ctypes.c_int32)
    lib.opus_decode.restype = ctypes.c_int
    lib.opus_decode.argtypes = (ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int32,
                                ctypes.c_void_p, ctypes.c_int, ctypes.c_int)
    lib.opus_encoder_ctl.restype = ctypes.c_int
    lib.opus_decoder_ctl.restype = ctypes.c_int
    lib.opus_get_version_string.restype = ctypes.c_char_p
    return lib


C_LOOPS = r"""
#include <stdint.h>
#include <opus.h>
int encode_all(OpusEncoder *st, const int16_t *pcm, int n_frames, int frame, uint8_t *out) {
    int total = 0;
    for (int i = 0; i < n_frames; i++) {
        int n = opus_encode(st, pcm + (long)i * frame, frame, out, 4000);
        if (n < 0) return n;
        total += n;
    }
    return total;
}
int decode_all(OpusDecoder *st, const uint8_t *blob, const int32_t *lens, int n_packets,
               int16_t *out, int frame) {
    for (int i = 0; i < n_packets; i++) {
        int n = opus_decode(st, blob, lens[i], out, frame, 0);
        if (n != frame) return -1;
        blob += lens[i];
    }
    return 0;
}
"""


def load_c_loops(tmp):
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if not cc:
        return None
    src, so = os.path.join(tmp, "loops.c"), os.path.join(tmp, "loops.so")
    with open(src, "w") as f:
        f.write(C_LOOPS)
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "opus"], capture_output=True,
                           text=True).stdout.split() or ["-lopus"]
    try:
        subprocess.run([cc, "-O2", "-std=c99", "-shared", "-fPIC", "-o", so, src] + flags,
                       check=True, capture_output=True)
    except (subprocess.CalledProcessError, OSError):
        return None
    loops = ctypes.CDLL(so)
    loops.encode_all.argtypes = (ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_int,
                                 ctypes.c_void_p)
    loops.decode_all.argtypes = (ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p,
                                 ctypes.c_int, ctypes.c_void_p, ctypes.c_int)
    return loops


OPUS_APPLICATION_VOIP = 2048
OPUS_SET_BITRATE = 4002
OPUS_SET_COMPLEXITY = 4010
OPUS_RESET_STATE = 4028


def contenders_encode(lib, loops, rate, complexity, bitrate, frames):
    n = rate // 50
    ours = voicedsp.OpusEncoder(rate, 1, application="voip", complexity=complexity,
                                bitrate=bitrate)
    ref = opuslib.Encoder(rate, 1, "voip")
    ref.complexity = complexity
    ref.bitrate = bitrate
    err = ctypes.c_int()
    raw = lib.opus_encoder_create(rate, 1, OPUS_APPLICATION_VOIP, ctypes.byref(err))
    lib.opus_encoder_ctl(ctypes.c_void_p(raw), OPUS_SET_COMPLEXITY, ctypes.c_int(complexity))
    lib.opus_encoder_ctl(ctypes.c_void_p(raw), OPUS_SET_BITRATE, ctypes.c_int(bitrate))
    out = ctypes.create_string_buffer(4000)
    encode = lib.opus_encode

    def run_voicedsp():
        enc = ours.encode
        for f in frames:
            enc(f)

    def run_opuslib():
        enc = ref.encode
        for f in frames:
            enc(f, n)

    def run_raw():
        for f in frames:
            encode(raw, f, n, out, 4000)

    runs = {"voicedsp": run_voicedsp, "opuslib": run_opuslib, "raw libopus": run_raw}
    states = [raw]
    if loops is not None:
        c_state = lib.opus_encoder_create(rate, 1, OPUS_APPLICATION_VOIP, ctypes.byref(err))
        lib.opus_encoder_ctl(ctypes.c_void_p(c_state), OPUS_SET_COMPLEXITY,
                             ctypes.c_int(complexity))
        lib.opus_encoder_ctl(ctypes.c_void_p(c_state), OPUS_SET_BITRATE, ctypes.c_int(bitrate))
        states.append(c_state)
        blob = b"".join(frames)

        def run_c():
            if loops.encode_all(c_state, blob, len(frames), n, out) < 0:
                raise RuntimeError("opus_encode failed")

        runs["libopus in C"] = run_c

    def reset():
        ours.reset()
        ref.reset_state()
        for state in states:
            lib.opus_encoder_ctl(ctypes.c_void_p(state), OPUS_RESET_STATE)

    # the contenders must be doing the same work: identical packets
    packets = [ours.encode(f) for f in frames[:50]]
    assert packets == [ref.encode(f, n) for f in frames[:50]]
    reset()
    return runs, reset


def contenders_decode(lib, loops, rate, packets):
    n = rate // 50
    ours = voicedsp.OpusDecoder(rate, 1)
    ref = opuslib.Decoder(rate, 1)
    err = ctypes.c_int()
    raw = lib.opus_decoder_create(rate, 1, ctypes.byref(err))
    out = ctypes.create_string_buffer(n * 2)
    decode = lib.opus_decode

    def run_voicedsp():
        dec = ours.decode
        for p in packets:
            dec(p)

    def run_opuslib():
        dec = ref.decode
        for p in packets:
            dec(p, n)

    def run_raw():
        for p in packets:
            decode(raw, p, len(p), out, n, 0)

    runs = {"voicedsp": run_voicedsp, "opuslib": run_opuslib, "raw libopus": run_raw}
    states = [raw]
    if loops is not None:
        c_state = lib.opus_decoder_create(rate, 1, ctypes.byref(err))
        states.append(c_state)
        blob = b"".join(packets)
        lens = np.array([len(p) for p in packets], dtype=np.int32).tobytes()

        def run_c():
            if loops.decode_all(c_state, blob, lens, len(packets), out, n) < 0:
                raise RuntimeError("opus_decode failed")

        runs["libopus in C"] = run_c

    def reset():
        ours.reset()
        ref.reset_state()
        for state in states:
            lib.opus_decoder_ctl(ctypes.c_void_p(state), OPUS_RESET_STATE)

    assert [ours.decode(p) for p in packets[:50]] == [ref.decode(p, n) for p in packets[:50]]
    reset()
    return runs, reset


def measure(contenders, reset, n_frames, rounds):
    names = list(contenders)
    times = {k: [] for k in names}
    for r in range(rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            reset()
            t0 = time.perf_counter_ns()
            contenders[name]()
            times[name].append((time.perf_counter_ns() - t0) / n_frames / 1000)
    return {k: statistics.median(v) for k, v in times.items()}


def _version(dist):
    try:
        from importlib.metadata import version
        return version(dist)
    except Exception:
        return "?"


def machine():
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
            f"CPython {platform.python_version()}, "
            f"{voicedsp.build_info()['libopus']}, opuslib {_version('opuslib')}, "
            f"load average {load:.2f} at start")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=31, help="interleaved rounds (median)")
    ap.add_argument("--seconds", type=float, default=4.0, help="speech per pass")
    args = ap.parse_args()
    lib = load_libopus()
    print(f"machine: {machine()}")
    rows = []
    gc.disable()
    with tempfile.TemporaryDirectory() as tmp:
        loops = load_c_loops(tmp)
        for rate in (48000, 16000):
            pcm, source = speech(rate, args.seconds, tmp)
            n = rate // 50
            frames = [pcm[i:i + n].tobytes() for i in range(0, len(pcm) - n + 1, n)]
            bitrate = 32000 if rate == 48000 else 20000
            for complexity in (9, 5):
                c, reset = contenders_encode(lib, loops, rate, complexity, bitrate, frames)
                rows.append((f"encode {rate // 1000} kHz, complexity {complexity}",
                             measure(c, reset, len(frames), args.rounds)))
            enc = voicedsp.OpusEncoder(rate, 1, complexity=9, bitrate=bitrate)
            packets = [enc.encode(f) for f in frames]
            c, reset = contenders_decode(lib, loops, rate, packets)
            rows.append((f"decode {rate // 1000} kHz ({bitrate // 1000} kbit/s, c9 packets)",
                         measure(c, reset, len(packets), args.rounds)))
    gc.enable()
    print(f"input: {source} speech, {args.seconds:g} s per pass, 20 ms frames, mono, VOIP; "
          f"median of {args.rounds} interleaved rounds; µs per frame\n")
    has_c = loops is not None
    print("| job | raw libopus (ctypes) | voicedsp | opuslib | voicedsp − raw | "
          "opuslib ÷ voicedsp |" + (" libopus in C |" if has_c else ""))
    print("|---|---:|---:|---:|---:|---:|" + ("---:|" if has_c else ""))
    for name, t in rows:
        raw, ours, ref = t["raw libopus"], t["voicedsp"], t["opuslib"]
        c = f" {t['libopus in C']:.2f} |" if has_c else ""
        print(f"| {name} | {raw:.2f} | {ours:.2f} | {ref:.2f} | {ours - raw:+.2f} µs "
              f"({(ours / raw - 1) * 100:+.1f} %) | {ref / ours:.2f}× |{c}")


if __name__ == "__main__":
    main()
