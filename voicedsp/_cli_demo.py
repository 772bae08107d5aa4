"""``voicedsp demo``: one whole call on loopback, with a live timeline, recordings and a plot.

A scripted caller (espeak-ng speech over the Twilio Media Streams protocol, in real time)
dials in through the platform's simulated-phone trunk: it asks a question with a pause in the
middle, says "yeah" while the agent talks (a backchannel: the agent keeps the floor), asks a
second question and talks over the answer (a barge-in: the agent stops, the model's reply is
truncated where the caller stopped hearing it), then says goodbye. The agent is the local
speech model speaking the OpenAI Realtime protocol.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from pathlib import Path


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "demo",
        help="run one whole call on loopback and show its turns, backchannels and barge-ins",
        description="Run a whole call on loopback: a scripted caller over the Twilio Media "
        "Streams protocol -> the voicedsp bridge -> a local Realtime-protocol speech model -> "
        "back. Prints a live timeline, writes the recordings (WAV), the events (JSONL) and, "
        "when matplotlib is installed, a timeline plot (PNG).",
    )
    p.add_argument("--out-dir", type=Path, default=Path("out/demo"),
                   help="where to write recordings, events and the plot (default out/demo)")
    p.add_argument("--model-url", default=None,
                   help="use this Realtime-protocol model instead of the local one")
    p.add_argument("--model-api-key", default=None, help="the model's API key")
    p.add_argument("--no-plot", action="store_true", help="do not draw the timeline PNG")
    p.add_argument("--hold-and-resume", action="store_true",
                   help="pause the agent on a barge candidate, resume if it is rejected")
    return p


def _script():
    from voicedsp.platform.twilio import BargeIn, Hangup, Say, Silence, WaitAgent

    return [
        Say("Hi there."),
        Silence(300),                      # a pause inside the turn: must not commit
        Say("I would like to know your opening hours."),
        BargeIn("yeah", after_ms=1500, wpm=400),      # a backchannel while the agent talks
        WaitAgent(heard_ms=0, quiet_ms=700, timeout_ms=12000),
        Say("And where is my order right now?"),
        BargeIn("Sorry, stop. Can I change the delivery address instead?", after_ms=1800),
        WaitAgent(heard_ms=300, quiet_ms=700, timeout_ms=12000),
        Say("Thanks, goodbye."),
        Silence(400),
        Hangup(),
    ]


_LABELS = {
    "speech_start": "caller starts speaking",
    "speech_end": "caller stops speaking",
    "turn_commit": "TURN COMMITTED -> model asked to answer",
    "backchannel": "backchannel (too short to be a turn; not sent to the model)",
    "barge_candidate": "barge-in candidate (caller speaks over the agent)",
    "barge_rejected": "barge-in rejected (agent keeps the floor)",
    "barge_in": "BARGE-IN: agent audio cleared, model reply cancelled + truncated",
    "response_started": "agent starts answering",
    "response_done": "model finished sending its reply",
    "agent_attached": "agent bridged",
    "model_connected": "model leg connected",
    "model_disconnected": "model leg dropped",
}


def _describe(ev: dict) -> str:
    t = ev["type"]
    if t == "status":
        return f"call status: {ev['status']}" + (f" ({ev['reason']})" if ev.get("reason")
                                                  else "")
    text = _LABELS.get(t, t)
    if t in ("turn_commit", "backchannel") and "ref_ms" in ev and "start_ms" in ev:
        # start_ms is the turn's audio start (prefix padding included), ref_ms its last speech
        text += f" [turn audio {(ev['ref_ms'] - ev['start_ms']) / 1000:.1f} s]"
    if t == "barge_in":
        text += f" [caller heard {ev.get('heard_ms', 0) / 1000:.2f} s of the reply]"
    if t == "response_done" and ev.get("status") not in (None, "completed"):
        text += f" ({ev['status']})"
    return text


async def _run(args) -> int:
    import voicedsp
    from voicedsp.platform._util import dumps, write_wav

    out: Path = args.out_dir
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    lines: list = []

    def show(who: str, text: str, t: float = None) -> None:
        t = time.monotonic() - t0 if t is None else t
        line = f"{t:7.2f} s  {who:7s} {text}"
        lines.append(line)
        print(line, flush=True)

    opts = {}
    if args.model_url:
        opts = {"model_url": args.model_url, "model_api_key": args.model_api_key}
    async with voicedsp.Voice(**opts) as voice:
        p = voice.platform
        print(f"voicedsp demo: platform up (media {p.media_url}, model {p.model_url}, "
              f"bridge {p.stats()['bridge']})", flush=True)
        print("voicedsp demo: dialing a simulated phone over the Twilio Media Streams "
              "protocol; the call runs in real time (about 25 s)\n", flush=True)
        td = voicedsp.TurnDetection()
        await voice.agents.register("concierge", voicedsp.AgentSpec(
            model_codec="pcm16", input_rate_hz=16000, output_rate_hz=24000,
            turn_detection=td, hold_and_resume=args.hold_and_resume))
        p.sim.add_phone("+15550100", _script(), answer_after_ms=400, linger_ms=500,
                        on_step=lambda t_ms, text: show("caller", text))
        call = await voice.calls.originate(to="+15550100", from_="+15550199",
                                           agent="concierge", ring_timeout_sec=30)
        show("platform", f"originate {call.sid} -> +15550100")
        events = []
        async for ev in call.events():
            events.append(ev)
            if ev["type"] in ("speech_start", "speech_end", "model_connected"):
                continue
            who = "agent" if ev["type"].startswith("response") else (
                "call" if ev["type"] == "status" else "bridge")
            show(who, _describe(ev))
        c = p.ended[call.sid]
        phone = c.phone
        truncs = list(p.local_model.truncations) if p.local_model else []
    # recordings: what the caller said and heard, time-aligned at 8 kHz
    said, heard = bytes(phone.said), bytes(phone.heard)
    n = min(len(said), len(heard))
    write_wav(out / "caller_said.wav", said, 8000)
    write_wav(out / "caller_heard.wav", heard, 8000)
    import numpy as np

    st = np.stack([np.frombuffer(said[:n], np.int16), np.frombuffer(heard[:n], np.int16)], 1)
    import wave

    with wave.open(str(out / "call_stereo.wav"), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(st.tobytes())
    with open(out / "events.jsonl", "w") as f:
        for ev in events:
            f.write(dumps(ev) + "\n")
    (out / "timeline.txt").write_text("\n".join(lines) + "\n")
    counts = {k: sum(1 for e in events if e["type"] == k)
              for k in ("turn_commit", "backchannel", "barge_rejected", "barge_in")}
    print("\nsummary")
    print(f"  turns committed   {counts['turn_commit']}")
    print(f"  backchannels      {counts['backchannel']}  (rejected barge candidates "
          f"{counts['barge_rejected']})")
    print(f"  barge-ins         {counts['barge_in']}  (conversation.item.truncate sent at "
          + (", ".join(f"{ms} ms" for _, ms in truncs) or "-") + ")")
    faults = getattr(c, "leg_summary", {}).get("faults", {})
    print(f"  protocol faults   {sum(faults.values())}; marks echoed by the phone "
          f"{phone.marks_echoed}; clears received {len(phone.clears)}")
    lat = p.lateness
    tot = sum(lat)
    if tot:
        acc, p99 = 0, 0.0
        for i, v in enumerate(lat):
            acc += v
            if acc >= 0.99 * tot:
                p99 = i / 10
                break
        print(f"  downlink pacing   {tot} frames, p99 lateness {p99:.1f} ms")
    wrote = ["caller_said.wav", "caller_heard.wav", "call_stereo.wav", "events.jsonl",
             "timeline.txt"]
    if not args.no_plot:
        try:
            _plot(out / "timeline.png", st, events, c)
            wrote.append("timeline.png")
        except ImportError:
            print("  (matplotlib not installed: no timeline.png)")
    print(f"  wrote             {', '.join(str(out / x) for x in wrote)}")
    ok = counts["turn_commit"] >= 2 and counts["barge_in"] >= 1
    if not ok:
        print("voicedsp demo: the call did not go as scripted (see the timeline)",
              file=sys.stderr)
    return 0 if ok else 1


def _plot(path: Path, st, events, call) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    t = np.arange(len(st)) / 8000.0
    # events carry the call clock (t_ms since the call object was made); the recordings start
    # when the phone answered: align on the first in_progress status
    t_ans = next((e["t_ms"] for e in events if e.get("status") == "in_progress"), 0.0)
    fig, axes = plt.subplots(2, 1, figsize=(14, 5), sharex=True)
    for ax, ch, name, color in ((axes[0], 0, "caller (uplink)", "tab:blue"),
                                (axes[1], 1, "agent as heard by the caller (downlink)",
                                 "tab:green")):
        ax.plot(t, st[:, ch] / 32768.0, lw=0.4, color=color)
        ax.set_ylabel(name, fontsize=8)
        ax.set_ylim(-1, 1)
    style = {"turn_commit": ("tab:purple", "commit"), "backchannel": ("tab:orange", "backch."),
             "barge_in": ("tab:red", "BARGE"), "barge_rejected": ("tab:gray", "rejected"),
             "response_started": ("tab:green", "reply")}
    for e in events:
        if e["type"] in style:
            color, label = style[e["type"]]
            x = (e["t_ms"] - t_ans) / 1000.0
            for ax in axes:
                ax.axvline(x, color=color, lw=1.2, ls="--")
            axes[0].text(x, 0.85, label, color=color, fontsize=8, rotation=90, va="top")
    axes[1].set_xlabel("seconds since the call was answered")
    fig.suptitle(f"voicedsp demo call {call.sid}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run(args) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("websockets").setLevel(logging.ERROR)
    return asyncio.run(_run(args))
