"""Score the turn detector on several corpora of the eval kit, in process, and print one table.

Replays every case with voicedsp (the one on sys.path) exactly as ``voicedsp replay`` does
(20 ms frames, default knobs unless --knob NAME=VALUE) and scores it with the kit's own
score.py functions, so the numbers equal the kit's scorer's (checked on seed 7031), about
0.3 s per corpus instead of ~15 s of subprocesses. Corpora: <corpora>/t5-corpus-<seed>, built
with the kit's build_dev_corpus.py --seed <seed>. Writes per-seed summaries and per-case
details to --out.

    PYTHONPATH=. python3 benchmarks/turn_seeds.py --seeds all --tag now
"""
import sys, os, json, argparse
KIT = os.environ.get("VOICEDSP_EVAL_KIT", "/work/shared/eval")
sys.path.insert(0, KIT)
import score as S
from pathlib import Path
from voicedsp._cli_replay import replay, read_audio, event_json
from voicedsp._turn_config import TurnDetection

CORPORA = "/tmp"
OUT = "/tmp/t5h"
TUNE = [7031, 8001, 8003, 8005, 8006]
VAL = [7032, 7033, 7034, 7035, 8007, 8008, 8009, 8010, 8011, 8012]

def run_corpus(seed, knobs, details=None):
    cases = S.load_cases(os.path.join(CORPORA, f"t5-corpus-{seed}"))
    k0 = cases[0]["assumed_knobs"]; t0 = cases[0]["tolerances_ms"]
    class P:
        eot_ms = k0["eot_silence_ms"]; confirm_ms = k0["barge_confirm_ms"]
        commit_tol = tuple(t0["turn_commit"]); barge_tol = tuple(t0["barge_in"])
        latency_window_ms = 2000.0; vad_frame_ms = 10.0; vad_collar_ms = 0.0
    buckets = {}
    out = []
    for lab in cases:
        d = lab["_dir"]
        up, rate = read_audio(Path(d) / "uplink.wav")
        down, _ = read_audio(Path(d) / "downlink.wav")
        evs = replay(up, down, rate, 20, knobs)
        events = []
        for e in evs:
            ln = event_json(e, False)
            if ln:
                o = json.loads(ln)
                if o["event"] in S.CANONICAL:
                    events.append((o["event"], float(o["t_ms"])))
        res = dict(case_id=lab["case_id"], rc=0, timed_out=False, wall_s=0, cpu_s=0, events=events)
        m = S.score_case(lab, res, P)
        out.append((lab, events, m))
        for g in S.groups_of(lab):
            buckets.setdefault(g, ([], []))
            buckets[g][0].append(m); buckets[g][1].append(res)
    groups = {g: S.aggregate(ms, rs) for g, (ms, rs) in buckets.items()}
    if details:
        with open(details, "w") as f:
            for lab, events, m in out:
                f.write(json.dumps(dict(case_id=lab["case_id"], scenario=lab["scenario"], variant=lab["variant"],
                    tags=lab.get("tags"), expected=lab["expected_events"], events=events,
                    utts=[dict(kind=u["kind"], s=u["start_ms"], e=u["end_ms"], segs=u["segments"]) for u in lab["utterances"]],
                    cond=lab.get("conditions"),
                    metrics={k: v for k, v in m.items() if k.startswith(("commit", "barge_", "eot", "echo"))})) + "\n")
    return groups

def row(g):
    o = g["overall"]
    return dict(c=o["commit"]["f1"], s4=g["S4"]["commit"]["f1"], s5=g["S5"]["commit"]["f1"],
                b=o["barge"]["f1"], echo=o["echo_self_trigger_rate"],
                dt=g.get("S4/double_talk", {}).get("barge", {}).get("recall"),
                vad=o["vad"]["f1"], vad5=g["S5"]["vad"]["f1"], p90=o["eot_error_ms"]["p90"],
                bcb=o["continuer_false_barge_rate"], split=o["split_turn_rate"])

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="tune")
    ap.add_argument("--knob", action="append", default=[])
    ap.add_argument("--tag", default="x")
    ap.add_argument("--corpora", default="/tmp", help="folder holding t5-corpus-<seed>")
    ap.add_argument("--out", default="/tmp/t5h", help="folder for summaries and details")
    a = ap.parse_args()
    global CORPORA, OUT
    CORPORA, OUT = a.corpora, a.out
    os.makedirs(OUT, exist_ok=True)
    seeds = {"tune": TUNE, "val": VAL, "all": TUNE + VAL}.get(a.seeds) or [int(s) for s in a.seeds.split(",")]
    kw = {}
    for k in a.knob:
        n, v = k.split("="); kw[n] = type(getattr(TurnDetection(), n))(float(v) if "." in v else int(v))
    knobs = TurnDetection(**kw)
    keys = ["c", "s4", "s5", "b", "echo", "dt", "vad", "vad5", "p90", "bcb", "split"]
    print("seed  " + " ".join(f"{k:>6}" for k in keys), flush=True)
    rows = {}
    for s in seeds:
        g = run_corpus(s, knobs, details=os.path.join(OUT, f"{a.tag}.{s}.details.jsonl"))
        r = row(g); rows[s] = r
        print(f"{s:5} " + " ".join(f"{r[k]:6.3f}" if isinstance(r[k], float) else f"{str(r[k]):>6}" for k in keys), flush=True)
        json.dump(g, open(os.path.join(OUT, f"{a.tag}.{s}.json"), "w"))
    for name, ss in (("tune", TUNE), ("val", VAL)):
        ss = [s for s in ss if s in rows]
        if ss:
            print(f"{name:5} " + " ".join(f"{sum(rows[s][k] or 0 for s in ss)/len(ss):6.3f}" for k in keys))
    json.dump(rows, open(os.path.join(OUT, f"{a.tag}.rows.json"), "w"))
if __name__ == "__main__":
    main()
