"""``voicedsp g711``: encode a WAV file to mu-law or A-law and back; report size, SNR, speed."""

from __future__ import annotations

import argparse
import math
import time
import wave
from pathlib import Path

import voicedsp

LAWS = {
    "ulaw": (voicedsp.ulaw_encode, voicedsp.ulaw_decode, ".ulaw"),
    "alaw": (voicedsp.alaw_encode, voicedsp.alaw_decode, ".alaw"),
}


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "g711",
        help="encode a 16-bit WAV file to G.711 and back; report size, SNR and speed",
        description="Encode a 16-bit PCM WAV file to G.711 mu-law or A-law, decode it back, "
        "and report sizes, the signal-to-noise ratio of the round trip and codec speed.",
    )
    p.add_argument("wav", type=Path, help="input WAV file (16-bit PCM, any rate, any channels)")
    p.add_argument("--law", choices=sorted(LAWS), default="ulaw", help="companding law")
    p.add_argument("--out-dir", type=Path, default=None,
                   help="write <name>.ulaw/.alaw (raw codes) and <name>.<law>.wav (decoded) here")
    return p


def read_wav(path: Path) -> tuple[bytes, int, int]:
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2 or w.getcomptype() != "NONE":
            raise ValueError(f"{path}: need 16-bit PCM WAV, got {8 * w.getsampwidth()}-bit "
                             f"{w.getcomptype()}")
        return w.readframes(w.getnframes()), w.getframerate(), w.getnchannels()


def write_wav(path: Path, pcm: bytes, rate: int, channels: int) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm)


def snr_db(ref: bytes, test: bytes) -> float:
    import array

    a, b = array.array("h", ref), array.array("h", test)
    sig = sum(x * x for x in a)
    err = sum((x - y) * (x - y) for x, y in zip(a, b))
    if err == 0:
        return math.inf
    return 10 * math.log10(sig / err) if sig else -math.inf


def best_of(fn, arg, repeat: int) -> float:
    best = math.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(arg)
        best = min(best, time.perf_counter() - t0)
    return best


def run(args) -> int:
    pcm, rate, channels = read_wav(args.wav)
    encode, decode, ext = LAWS[args.law]
    codes = encode(pcm)
    back = decode(codes)
    n = len(pcm) // 2
    seconds = n / (rate * channels) if rate else 0.0
    t_enc = best_of(encode, pcm, 20)
    t_dec = best_of(decode, codes, 20)
    print(f"input     {args.wav}  {rate} Hz, {channels} ch, {seconds:.2f} s, {len(pcm)} bytes")
    if rate != 8000:
        print(f"note      G.711 on the phone network is 8000 Hz; this file is {rate} Hz "
              "(the codec itself is rate-independent)")
    print(f"{args.law:9s} {len(codes)} bytes ({len(codes) / len(pcm):.0%} of PCM16)")
    print(f"SNR       {snr_db(pcm, back):.2f} dB (round trip PCM16 -> {args.law} -> PCM16)")
    if n:
        print(f"encode    {t_enc * 1e6:.1f} us for {n} samples = {n / t_enc / 1e6:.0f} Msamples/s "
              f"({seconds / t_enc:.0f}x real time)")
        print(f"decode    {t_dec * 1e6:.1f} us for {n} samples = {n / t_dec / 1e6:.0f} Msamples/s "
              f"({seconds / t_dec:.0f}x real time)")
    if args.out_dir:
        args.out_dir.mkdir(parents=True, exist_ok=True)
        stem = args.wav.stem
        (args.out_dir / f"{stem}{ext}").write_bytes(codes)
        write_wav(args.out_dir / f"{stem}.{args.law}.wav", back, rate, channels)
        print(f"wrote     {args.out_dir / (stem + ext)}, {args.out_dir / (stem + '.' + args.law + '.wav')}")
    return 0
