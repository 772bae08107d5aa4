"""Score turn-detector variants on kit corpora in one process (the turn-taking tuning harness).

Runs the pure-Python reference (voicedsp/_turn_reference.py, which the tests hold equal to
the C detector event for event) on cached 20 ms band energies of every case, optionally with
patched module constants or an experimental echo model, and scores the events with the kit's
own `score.py` functions (same matching, same tolerances as `score.py --cmd ...`). About 5 s
per 152-case corpus after the first pass (band energies, and the low band's energy the detector
reads after a noisy turn's last speech frame, are cached under --cache).

    PYTHONPATH=. python benchmarks/turn_variants.py \
        --corpus /tmp/t5-corpus-7031 /tmp/t5-corpus-7032 \
        [--set ECHO_MARGIN_DB=4 --set BARGED_SPEECH_NUM=5] [--variant dual-echo] [--pooled]

`--variant dual-echo` is round 3's form of the two-model echo estimate (the tight model alone
after a fixed 100 echo frames; not kept). The detector itself has two models since round 5, the
tight one used where it fits the echo better (see BENCHMARKS.md, turn-taking). Use only
corpora built by the kit's `build_dev_corpus.py`; the kit is ../shared/eval beside the
repository unless --kit or $VOICEDSP_EVAL_KIT says otherwise.
"""

from __future__ import annotations

import argparse
import math
import os
import pickle
import sys

import numpy as np
import soundfile as sf

import voicedsp._turn_reference as R

FRAME = 160   # 20 ms at 8 kHz, the kit's rate
# the evaluation kit beside the repository (../shared/eval), as CI lays them out
DEFAULT_KIT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared",
                           "eval")


def low_band_energies(up):
    """R.low_band_energy of every 20 ms frame (8 kHz), vectorised; the same integers, so the
    same doubles."""
    nf = len(up) // FRAME
    x = up[:nf * FRAME].astype(np.int64).reshape(nf, FRAME)
    p = np.concatenate([np.zeros((nf, 1), np.int64), np.cumsum(x, axis=1)], axis=1)
    i = np.arange(15, FRAME)
    y = p[:, i + 1] - 2 * p[:, i - 7] + p[:, i - 15]
    return [int(v) / float(FRAME - 15) for v in (y * y).sum(axis=1)]


def band_energies(path_up, path_down, cache):
    """[(uplink band energies, downlink energy, uplink low-band energy)] per 20 ms frame, as
    TurnReference sees them."""
    if cache and os.path.exists(cache):
        with open(cache, "rb") as f:
            return pickle.load(f)
    up, _ = sf.read(path_up, dtype="int16")
    down, _ = sf.read(path_down, dtype="int16")
    uh, dh, out = [0, 0, 0], [0, 0, 0], []
    lows = low_band_energies(up)
    for i in range(len(up) // FRAME):
        e = R.band_energies(up[i * FRAME:(i + 1) * FRAME].tolist(), uh, 1)
        d = R.band_energy_total(down[i * FRAME:(i + 1) * FRAME].tolist(), dh, 1)
        out.append((e, d, lows[i]))
    if cache:
        with open(cache, "wb") as f:
            pickle.dump(out, f)
    return out


class DualEchoReference(R.TurnReference):
    """Not kept: a conservative echo model (max of 3 lags, 2 dB/frame tail: the detector's)
    for the first DUAL_SWITCH echo frames, taking the larger of it and a tight one; then the
    tight one alone: fractional delay from a parabola through the correlation peak,
    DUAL_RHO_DB/frame tail, its own gain tracker."""

    DUAL_RHO_DB = 5.0
    DUAL_SWITCH = 100

    def reset(self):
        super().reset()
        self.env_t = 0.0
        self.g_t = self.g0
        self.rho_t = 10.0 ** (-self.DUAL_RHO_DB / 10.0)

    def _train_gated(self, g, env, drive, ut):
        """The reference's gain step where round 3 trained (agent audible, the delayed
        downlink driving the envelope, no barge-in candidate)."""
        if env > R.AGENT_ACTIVE_ENERGY and self.core.primed and self.n_echo >= self.min_frames \
                and drive > env * R.ECHO_TRAIN_FRAC and self.cand is None:
            g = self._train(g, env, ut - (self.core.nf[0] + self.core.nf[1]))
        return g

    def _out(self):
        et = self.env_t * self.g_t
        if self.n_echo < self.DUAL_SWITCH:
            return max(self.env * self.g, et)
        return et

    def _echo(self, e, dt):
        k, ring, m = self.k, self.ring, R.ECHO_RING
        ring[k % m] = dt
        recent = max(ring[(k - j) % m] for j in range(self.lags + 1))
        quiet = R.AGENT_ACTIVE_ENERGY
        if recent <= quiet and self.env <= quiet and self.env_t <= quiet:
            self.env = self.env * self.rho if self.env > 1e-3 else 0.0
            self.env_t = self.env_t * self.rho_t if self.env_t > 1e-3 else 0.0
            return self._out()
        ut = e[0] + e[1]
        if recent > quiet:
            su = math.sqrt(ut)
            for lag in range(self.lags):
                self.xc[lag] = self.xc_decay * self.xc[lag] + su * math.sqrt(ring[(k - lag) % m])
            self.n_echo += 1
        if self.n_echo >= self.min_frames:
            xc = self.xc
            best = max(range(self.lags), key=lambda j: (xc[j], -j))
            d0 = ring[(k - best) % m]
            dm = ring[(k - best + 1) % m] if best > 0 else 0.0
            dp = ring[(k - best - 1) % m]
            drive = max(d0, dm, dp)
            a = xc[best - 1] if best > 0 else xc[best]
            c = xc[best + 1] if best + 1 < self.lags else xc[best]
            den = a - 2 * xc[best] + c
            delta = 0.5 * (a - c) / den if den < 0 else 0.0
            drive_t = (1 - delta) * d0 + delta * dp if delta >= 0 else (1 + delta) * d0 - delta * dm
        else:
            drive = drive_t = recent
        self.env = drive + self.env * self.rho
        self.env_t = drive_t + self.env_t * self.rho_t
        self.g = self._train_gated(self.g, self.env, drive, ut)
        self.g_t = self._train_gated(self.g_t, self.env_t, drive_t, ut)
        return self._out()


VARIANTS = {"default": R.TurnReference, "dual-echo": DualEchoReference}


def scorer_params(cases):
    """The scorer's parameters, as score.py sets them from the labels of `cases`."""
    k0, t0 = cases[0]["assumed_knobs"], cases[0]["tolerances_ms"]

    class P:
        eot_ms = k0["eot_silence_ms"]
        confirm_ms = k0["barge_confirm_ms"]
        commit_tol = tuple(t0["turn_commit"])
        barge_tol = tuple(t0["barge_in"])
        latency_window_ms = 2000.0
        vad_frame_ms = 10.0
        vad_collar_ms = 0.0

    return P


def score_corpus(S, corpus, cls, cache_dir):
    cases = S.load_cases(corpus)
    P = scorer_params(cases)
    buckets = {}
    for lab in cases:
        d = lab["_dir"]
        cache = None
        if cache_dir:
            tag = os.path.basename(os.path.normpath(corpus))
            cache = os.path.join(cache_dir, f"{tag}-{lab['case_id']}.v3.pkl")
        frames = band_energies(os.path.join(d, lab["files"]["uplink"]),
                               os.path.join(d, lab["files"]["downlink"]), cache)
        det, events = cls(), []
        for e, dt, low in frames:
            for ev in det.process_energies(e, dt, low):
                boundary = ev.type in ("speech_start", "speech_end")
                t = (ev.ref_samples if boundary else ev.t_samples) / 8.0
                if ev.type in S.CANONICAL:
                    events.append((ev.type, t))
        res = dict(case_id=lab["case_id"], rc=0, timed_out=False, wall_s=0.0, cpu_s=0.0,
                   events=events, bad_lines=0, unknown_events={})
        m = S.score_case(lab, res, P)
        for g in S.groups_of(lab):
            buckets.setdefault(g, ([], []))
            buckets[g][0].append(m)
            buckets[g][1].append(res)
    return {g: S.aggregate(ms, rs) for g, (ms, rs) in buckets.items()}


def f1(tp, fp, fn):
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def row(name, a):
    s4 = a.get("S4", {})
    return (f"{name}: commit F1 {a['overall']['commit']['f1']:.4f} "
            f"EOT p90 {a['overall']['eot_error_ms']['p90']} "
            f"barge F1 {a['overall']['barge']['f1']:.4f} "
            f"echo self-trig {a['overall']['echo_self_trigger_rate']} "
            f"VAD F1 {a['overall']['vad']['f1']} "
            f"| S4 commit {s4.get('commit', {}).get('f1')} barge {s4.get('barge', {}).get('f1')}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kit", default=os.environ.get("VOICEDSP_EVAL_KIT", DEFAULT_KIT),
                    help="folder holding the kit's score.py (default: ../shared/eval)")
    ap.add_argument("--corpus", nargs="+", required=True)
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                    help="patch a constant of voicedsp._turn_reference (repeatable)")
    ap.add_argument("--variant", choices=sorted(VARIANTS), default="default")
    ap.add_argument("--cache", default="/tmp/turn-variants-cache",
                    help="band-energy cache ('' off)")
    ap.add_argument("--pooled", action="store_true", help="also print counts pooled over corpora")
    args = ap.parse_args(argv)
    sys.path.insert(0, args.kit)
    import score as S  # noqa: E402  (the kit's scorer)

    for item in args.set:
        name, value = item.split("=", 1)
        if not hasattr(R, name):
            ap.error(f"voicedsp._turn_reference has no constant {name}")
        setattr(R, name, type(getattr(R, name))(float(value)))
    if args.cache:
        os.makedirs(args.cache, exist_ok=True)
    pooled = {}
    for corpus in args.corpus:
        a = score_corpus(S, corpus, VARIANTS[args.variant], args.cache)
        print(row(os.path.basename(os.path.normpath(corpus)), a), flush=True)
        for g in ("overall", "S4", "S4/echo_only"):
            if g not in a:
                continue
            t = pooled.setdefault(g, np.zeros(7))
            t += [a[g]["commit"]["tp"], a[g]["commit"]["fp"], a[g]["commit"]["fn"],
                  a[g]["barge"]["tp"], a[g]["barge"]["fp"], a[g]["barge"]["fn"],
                  round((a[g]["echo_self_trigger_rate"] or 0.0) * a[g]["echo_only_cases"])]
    if args.pooled:
        o, s4, eo = pooled["overall"], pooled["S4"], pooled["S4/echo_only"]
        print(f"pooled: commit F1 {f1(*o[:3]):.4f} barge F1 {f1(*o[3:6]):.4f} "
              f"S4 commit {f1(*s4[:3]):.3f} barge {f1(*s4[3:6]):.3f} "
              f"echo self-trig {int(eo[6])} calls")
    return 0


if __name__ == "__main__":
    sys.exit(main())
