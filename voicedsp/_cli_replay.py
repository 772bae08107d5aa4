"""``voicedsp replay``: replay a recorded call through the turn detector, print JSON lines.

Contract (the turn-taking evaluation kit's): two mono 16-bit WAV files of equal length in
(``--uplink`` = the caller's microphone, ``--downlink`` = what the agent played), processed
as a stream, causally, in frames; one JSON object per line out. ``turn_commit``,
``barge_in``, ``backchannel`` (and ``barge_candidate`` / ``barge_rejected``) carry the
decision time in ``t_ms``; ``speech_start`` / ``speech_end`` carry the back-dated segment
boundary in ``t_ms`` and the decision time in ``decided_ms``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import wave
from pathlib import Path

import voicedsp
from voicedsp._turn_config import TurnDetection

RAW_LAWS = {".ulaw": "ulaw", ".mulaw": "ulaw", ".ul": "ulaw", ".pcmu": "ulaw", ".u": "ulaw",
            ".alaw": "alaw", ".al": "alaw", ".pcma": "alaw", ".a": "alaw"}

# flag name -> (TurnDetection field, type, help)
_INT_KNOBS = [
    ("silence_threshold_ms", "trailing silence that ends a turn (ms)"),
    ("response_min_speech_ms", "shorter turns are backchannels (ms)"),
    ("commit_min_interval_ms", "minimum gap between two commits (ms)"),
    ("barge_confirm_ms", "sustained speech that confirms a barge-in (ms)"),
    ("mic_guard_ms", "ignore the uplink this long after agent audio stops (ms)"),
    ("prefix_padding_ms", "audio before onset that belongs to the turn (ms)"),
    ("echo_max_delay_ms", "longest echo delay searched (ms)"),
]
_FLOAT_KNOBS = [
    ("vad_threshold_db", "VAD onset, dB above the noise (+echo) floor"),
    ("vad_release_db", "VAD hold, dB above the floor (hysteresis)"),
]


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "replay",
        help="replay a recorded call (uplink + downlink) through the turn detector",
        description="Replay a recorded call through the turn detector, frame by frame and "
        "causally, and print one JSON object per event (speech_start, speech_end, "
        "turn_commit, backchannel, barge_in, barge_candidate, barge_rejected) with t_ms. "
        "Inputs: 16-bit WAV, or raw G.711 (.ulaw/.alaw, 8 kHz; or --raw-law). Given "
        "--folder, replays every call in it (DIR/<call>/uplink.wav + downlink.wav) with a "
        "progress bar and a summary.",
    )
    src = p.add_argument_group("input")
    src.add_argument("--uplink", type=Path, help="the caller's audio (WAV or raw G.711)")
    src.add_argument("--downlink", type=Path, default=None,
                     help="the agent's audio as played to the caller (optional)")
    src.add_argument("--folder", type=Path, default=None,
                     help="replay every DIR/*/uplink.wav (+ downlink.wav) instead")
    src.add_argument("--raw-law", choices=("ulaw", "alaw"), default=None,
                     help="treat the inputs as headerless G.711 of this law")
    src.add_argument("--raw-rate", type=int, default=8000, help="rate of raw inputs (Hz)")
    out = p.add_argument_group("output")
    out.add_argument("--jsonl", action="store_true",
                     help="JSON lines on stdout (the default; accepted for the kit's contract)")
    out.add_argument("--all-events", action="store_true",
                     help="also print barge_candidate and barge_rejected")
    out.add_argument("--out-dir", type=Path, default=None,
                     help="with --folder: write <call>.jsonl files here")
    out.add_argument("--plot", type=Path, default=None,
                     help="draw a timeline (waveforms, VAD, events) to this PNG (needs "
                     "matplotlib)")
    out.add_argument("--frame-ms", type=int, choices=(10, 20, 30), default=20)
    k = p.add_argument_group("turn-detection knobs (voicedsp.TurnDetection)")
    d = TurnDetection()
    for name, help_ in _INT_KNOBS:
        k.add_argument("--" + name.replace("_", "-"), type=int, default=getattr(d, name),
                       help=f"{help_} [{getattr(d, name)}]")
    for name, help_ in _FLOAT_KNOBS:
        k.add_argument("--" + name.replace("_", "-"), type=float, default=getattr(d, name),
                       help=f"{help_} [{getattr(d, name)}]")
    k.add_argument("--instant-barge", action=argparse.BooleanOptionalAction,
                   default=d.instant_barge,
                   help="barge-in on the first speech frame (echo-cancelled legs)")
    k.add_argument("--echo-gating", action=argparse.BooleanOptionalAction,
                   default=d.echo_gating, help="discount echo of the downlink")
    return p


def knobs_from_args(args) -> TurnDetection:
    kw = {name: getattr(args, name) for name, _ in _INT_KNOBS + _FLOAT_KNOBS}
    kw["instant_barge"] = args.instant_barge
    kw["echo_gating"] = args.echo_gating
    return TurnDetection(**kw)


def read_audio(path: Path, raw_law: str | None = None, raw_rate: int = 8000) -> tuple[bytes, int]:
    """Mono int16 PCM bytes and the rate, from a 16-bit WAV or raw G.711."""
    law = raw_law or RAW_LAWS.get(path.suffix.lower())
    if law is not None:
        codes = path.read_bytes()
        pcm = voicedsp.ulaw_decode(codes) if law == "ulaw" else voicedsp.alaw_decode(codes)
        return pcm, raw_rate
    with wave.open(str(path), "rb") as w:
        if w.getcomptype() != "NONE" or w.getsampwidth() != 2:
            raise ValueError(f"{path}: need 16-bit PCM WAV, got {8 * w.getsampwidth()}-bit "
                             f"{w.getcomptype()}")
        if w.getnchannels() != 1:
            raise ValueError(f"{path}: need a mono WAV, got {w.getnchannels()} channels")
        data = w.readframes(w.getnframes())
        if sys.byteorder != "little":
            import array

            a = array.array("h", data)
            a.byteswap()
            data = a.tobytes()
        return data, w.getframerate()


def replay(uplink: bytes, downlink: bytes | None, rate: int, frame_ms: int,
           knobs: TurnDetection, trace: list | None = None) -> list:
    """Run the detector over whole recordings; returns the TurnEvents in order.

    A trailing partial frame is padded with silence (so decisions near the end are kept).
    With `trace`, appends (t_ms, vad, agent_audible) per frame.
    """
    det = voicedsp.TurnDetector(rate, frame_ms, knobs)
    nb = det.frame_samples * 2
    total = len(uplink)
    if downlink is not None and len(downlink) != total:
        # equal length is the contract; pad the shorter with silence rather than fail
        if len(downlink) < total:
            downlink = downlink + bytes(total - len(downlink))
        else:
            downlink = downlink[:total]
    if total % nb:
        pad = bytes(nb - total % nb)
        uplink = uplink + pad
        if downlink is not None:
            downlink = downlink + pad
    up = memoryview(uplink)
    down = memoryview(downlink) if downlink is not None else None
    events = []
    process = det.process
    for off in range(0, len(uplink), nb):
        ev = process(up[off:off + nb], down[off:off + nb] if down is not None else None)
        if ev:
            events.extend(ev)
        if trace is not None:
            st = det.inspect()
            trace.append(((off + nb) / 2 * 1000.0 / rate, st["vad"], st["agent_audible"]))
    return events


def event_json(e, all_events: bool) -> str | None:
    if e.type in ("barge_candidate", "barge_rejected") and not all_events:
        return None
    if e.type in ("speech_start", "speech_end"):
        obj = {"event": e.type, "t_ms": round(e.ref_ms, 3), "decided_ms": round(e.t_ms, 3)}
    elif e.type in ("turn_commit", "backchannel"):
        obj = {"event": e.type, "t_ms": round(e.t_ms, 3), "speech_end_ms": round(e.ref_ms, 3),
               "audio_start_ms": round(e.start_ms, 3)}
    else:
        obj = {"event": e.type, "t_ms": round(e.t_ms, 3), "onset_ms": round(e.ref_ms, 3)}
    return json.dumps(obj)


def _load_pair(args, up_path: Path, down_path: Path | None):
    up, rate = read_audio(up_path, args.raw_law, args.raw_rate)
    down = None
    if down_path is not None:
        down, rate2 = read_audio(down_path, args.raw_law, args.raw_rate)
        if rate2 != rate:
            raise ValueError(f"uplink is {rate} Hz but downlink is {rate2} Hz")
    return up, down, rate


def run_one(args, knobs: TurnDetection) -> int:
    if args.uplink is None:
        raise ValueError("give --uplink FILE [--downlink FILE], or --folder DIR")
    up, down, rate = _load_pair(args, args.uplink, args.downlink)
    trace = [] if args.plot else None
    events = replay(up, down, rate, args.frame_ms, knobs, trace)
    write = sys.stdout.write
    for e in events:
        line = event_json(e, args.all_events)
        if line is not None:
            write(line + "\n")
    sys.stdout.flush()
    if args.plot:
        plot_timeline(args.plot, up, down, rate, events, trace, knobs)
        print(f"wrote {args.plot}", file=sys.stderr)
    return 0


def run_folder(args, knobs: TurnDetection) -> int:
    calls = sorted(p.parent for p in args.folder.glob("*/uplink.*")
                   if p.suffix.lower() in (".wav",) + tuple(RAW_LAWS))
    if not calls:
        raise ValueError(f"{args.folder}: no */uplink.wav (or raw G.711) found")
    if args.out_dir:
        args.out_dir.mkdir(parents=True, exist_ok=True)
    counts: dict = {}
    audio_s = 0.0
    t0 = time.perf_counter()
    tty = sys.stderr.isatty()
    for i, call in enumerate(calls, 1):
        up_path = next(iter(sorted(call.glob("uplink.*"))))
        downs = sorted(call.glob("downlink.*"))
        up, down, rate = _load_pair(args, up_path, downs[0] if downs else None)
        audio_s += len(up) / 2 / rate
        events = replay(up, down, rate, args.frame_ms, knobs)
        lines = [ln for ln in (event_json(e, args.all_events) for e in events) if ln]
        for e in events:
            counts[e.type] = counts.get(e.type, 0) + 1
        if args.out_dir:
            (args.out_dir / f"{call.name}.jsonl").write_text("".join(x + "\n" for x in lines))
        else:
            for ln in lines:
                obj = json.loads(ln)
                obj["call"] = call.name
                sys.stdout.write(json.dumps(obj) + "\n")
        done = int(30 * i / len(calls))
        msg = f"\r[{'#' * done}{'.' * (30 - done)}] {i}/{len(calls)} {call.name[:40]:40s}"
        if tty:
            sys.stderr.write(msg)
    wall = time.perf_counter() - t0
    if tty:
        sys.stderr.write("\n")
    print(f"replayed {len(calls)} calls, {audio_s:.1f} s of audio in {wall:.2f} s "
          f"({audio_s / wall if wall else float('inf'):.0f}x real time)", file=sys.stderr)
    for kind in ("speech_start", "turn_commit", "backchannel", "barge_candidate", "barge_in",
                 "barge_rejected"):
        print(f"  {kind:16s} {counts.get(kind, 0)}", file=sys.stderr)
    return 0


def plot_timeline(path: Path, up: bytes, down: bytes | None, rate: int, events, trace,
                  knobs: TurnDetection) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import numpy as np
    except ImportError:
        raise ValueError("--plot needs matplotlib and numpy: pip install matplotlib") from None
    u = np.frombuffer(up, dtype="<i2").astype(np.float32) / 32768.0
    t = np.arange(len(u)) * 1000.0 / rate
    fig, axes = plt.subplots(3, 1, figsize=(14, 7), sharex=True,
                             gridspec_kw={"height_ratios": [3, 3, 2]})
    axes[0].plot(t, u, lw=0.4, color="tab:blue")
    axes[0].set_ylabel("uplink (caller)")
    if down is not None:
        dl = np.frombuffer(down, dtype="<i2").astype(np.float32) / 32768.0
        axes[1].plot(np.arange(len(dl)) * 1000.0 / rate, dl, lw=0.4, color="tab:orange")
    axes[1].set_ylabel("downlink (agent)")
    tt = [x[0] for x in trace]
    axes[2].step(tt, [1.0 if x[1] else 0.0 for x in trace], where="pre", label="VAD (raw)")
    axes[2].step(tt, [0.5 if x[2] else 0.0 for x in trace], where="pre", label="agent audible")
    colors = {"turn_commit": "green", "barge_in": "red", "backchannel": "purple",
              "barge_candidate": "orange", "barge_rejected": "gray"}
    for e in events:
        if e.type in ("speech_start", "speech_end"):
            axes[0].axvline(e.ref_ms, color="k", lw=0.6, ls=":" if e.type == "speech_end" else "-")
        elif e.type in colors:
            for ax in axes:
                ax.axvline(e.t_ms, color=colors[e.type], lw=1.0)
            axes[2].text(e.t_ms, 1.05, e.type, rotation=90, fontsize=7, va="bottom")
    axes[2].set_ylim(-0.1, 1.9)
    axes[2].set_xlabel("time (ms)")
    axes[2].legend(loc="upper right", fontsize=7)
    fig.suptitle(f"voicedsp replay: silence {knobs.silence_threshold_ms} ms, confirm "
                 f"{knobs.barge_confirm_ms} ms, echo gating {knobs.echo_gating}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run(args) -> int:
    knobs = knobs_from_args(args)
    if args.folder is not None:
        return run_folder(args, knobs)
    return run_one(args, knobs)
