"""Why double-talk barge-ins are missed: one line per expected barge-in of the S4 double-talk calls.

Runs the pure-Python reference (equal to the C detector event for event) on the cached band
energies of `benchmarks/turn_variants.py`, records the echo estimate, the noise floor, the
speech decision and the double-talk flag per frame, and classifies each expected barge-in
(the kit's window: onset + barge_confirm_ms, -50 .. +150 ms) by what the barge-in candidates
did. Levels are over the caller's first 300 ms.

    PYTHONPATH=. python benchmarks/turn_dt_misses.py \
        --corpus /tmp/t5-corpus-7031 /tmp/t5-corpus-8001 [--all]

Use only corpora built by the kit's `build_dev_corpus.py`. Printed: a table of classes
(calls, median ERL, uplink over estimate + floor, share of frames heard as speech and flagged
double talk), then every missed call with its candidates (event time, candidate start; ms
from the caller's onset); with --all every call.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections import defaultdict

import numpy as np

import voicedsp._turn_reference as R
from turn_variants import DEFAULT_KIT, band_energies


class Recording(R.TurnReference):
    """The reference, keeping per frame the uplink energy, the estimate, the floor, the speech
    decision and the double-talk flag."""

    def reset(self):
        super().reset()
        self.rec = []
        self._est = 0.0
        self._dt = False

    def _echo(self, e, dt):
        self._est = super()._echo(e, dt)
        return self._est

    def _double_talk(self, e, est):
        self._dt = super()._double_talk(e, est)
        return self._dt

    def process_energies(self, e, dt, low=None):
        self._est, self._dt = 0.0, False
        ev = super().process_energies(e, dt, low)
        self.rec.append((e[0] + e[1], self._est, self.core.nf[0] + self.core.nf[1],
                         self.last_raw_end == self.t, self._dt))
        return ev


def db(x):
    return 10.0 * math.log10(max(x, 1e-9))


def classify(hit, cands, onset_ms, pauses, heard):
    """The miss's class from its candidates [(event, t_ms, start_ms)], times from the onset."""
    if hit:
        return "on time"
    if not cands:
        return "no candidate"
    if cands[0][0] == "barge_candidate" and cands[0][2] < -50:
        return "candidate opened before the onset carries over (early)"
    rejected = [t for k, t, _ in cands if k == "barge_rejected"]
    fired = [t for k, t, _ in cands if k == "barge_in"]
    if rejected and (not fired or rejected[0] < fired[0]):
        if any(p > 220 for p in pauses) and heard > 0.6:
            return "first candidate rejected: the caller paused > 220 ms"
        if fired:
            return "first candidate rejected (caller under the gate), a later one fires late"
        return "first candidate rejected (caller under the gate), none fires"
    if cands[0][2] > 100:
        return "onset under the gate: candidate > 100 ms late, fires late"
    return "candidate on time, frames at +300 .. +450 ms under the gate"


def analyse(S, corpus, cache_dir):
    out = []
    tag = os.path.basename(os.path.normpath(corpus))
    for lab in S.load_cases(corpus):
        if lab.get("variant") != "double_talk":
            continue
        d = lab["_dir"]
        cache = os.path.join(cache_dir, f"{tag}-{lab['case_id']}.v3.pkl") if cache_dir else None
        frames = band_energies(os.path.join(d, lab["files"]["uplink"]),
                               os.path.join(d, lab["files"]["downlink"]), cache)
        det, events = Recording(), []
        for e, dt, low in frames:
            events += [(ev.type, ev.t_samples / 8.0, ev.ref_samples / 8.0)
                       for ev in det.process_energies(e, dt, low)]
        rec = det.rec
        erl = lab["conditions"]["echo"]["erl_db"]
        barges = [t for k, t, _ in events if k == "barge_in"]
        for u in lab["utterances"]:
            if not u["barge_expected"]:
                continue
            on = u["start_ms"]
            hit = any(on + 250 <= t <= on + 450 for t in barges)
            f0, f1 = int(on // 20), min(int((on + 300) // 20), len(rec))
            up = np.mean([rec[i][0] for i in range(f0, f1)])
            est = np.mean([rec[i][1] + rec[i][2] for i in range(f0, f1)])
            heard = float(np.mean([rec[i][3] for i in range(f0, f1)]))
            flagged = float(np.mean([rec[i][4] for i in range(f0, f1)]))
            cands = [(k, round(t - on), round(r - on)) for k, t, r in events
                     if k in ("barge_candidate", "barge_rejected", "barge_in")
                     and on - 500 <= t <= u["end_ms"] + 500]
            out.append(dict(corpus=tag, case=lab["case_id"], erl=erl, over=db(up) - db(est),
                            heard=heard, flagged=flagged, cands=cands,
                            cls=classify(hit, cands, on, u["intra_pauses_ms"], heard)))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kit", default=os.environ.get("VOICEDSP_EVAL_KIT", DEFAULT_KIT),
                    help="folder holding the kit's score.py (default: ../shared/eval)")
    ap.add_argument("--corpus", nargs="+", required=True)
    ap.add_argument("--cache", default="/tmp/turn-variants-cache",
                    help="band-energy cache ('' off)")
    ap.add_argument("--all", action="store_true", help="print every call, not only the misses")
    args = ap.parse_args(argv)
    sys.path.insert(0, args.kit)
    import score as S  # noqa: E402  (the kit's scorer: case loading)

    if args.cache:
        os.makedirs(args.cache, exist_ok=True)
    rows = []
    for corpus in args.corpus:
        rows += analyse(S, corpus, args.cache)
    groups = defaultdict(list)
    for r in rows:
        groups[r["cls"]].append(r)
    print(f"{len(rows)} expected double-talk barge-ins")
    print("calls  ERL dB  over est+floor dB  heard  flagged  class (medians over the class)")
    for cls, rs in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        med = lambda k: float(np.median([r[k] for r in rs]))  # noqa: E731
        print(f"{len(rs):5d}  {med('erl'):6.1f}  {med('over'):17.1f}  {med('heard'):5.2f}  "
              f"{med('flagged'):7.2f}  {cls}")
    for r in rows:
        if args.all or r["cls"] != "on time":
            print(f"{r['corpus']} {r['case']}: {r['cls']}; ERL {r['erl']:.1f} dB, over "
                  f"{r['over']:+.1f} dB, heard {r['heard']:.2f}, flagged {r['flagged']:.2f}; "
                  f"{r['cands']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
