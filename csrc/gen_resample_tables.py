"""Generate csrc/resample_tables.h, the prototype low-pass filters of the resampler.

Run from the repository root: ``python csrc/gen_resample_tables.py`` (needs numpy and scipy).
The output is committed. The C core never uses these taps directly: at create time it turns
one of them into a continuous kernel (see csrc/resample.c) and samples that kernel at the
polyphase positions of the rate pair, so one design serves every pair of rates.

Every design is expressed in units of the LOWER of the two sample rates, fl: the prototype
runs at OS * fl, its pass band ends at 0.85 x the lower Nyquist frequency (0.425 fl) and its
stop band starts at ``stop`` x the lower Nyquist frequency. It is an equiripple
(Parks-McClellan) design weighted for a loose pass band (the target is +-0.1 dB) and a deep
stop band (the target is -90 dB): that halves the length, and so the delay, of a windowed sinc
with the same stop band.

- telephony (quality 0): linear phase, stop band from 1.15 x Nyquist. The transition band is
  symmetric about the lower Nyquist frequency, so nothing aliases into or images out of the
  pass band (0..0.85 Nyquist), at about 1.75 ms of delay for 8 kHz conversions. Input between
  0.85 and 1.15 x Nyquist is only partly rejected and folds into 0.85..1 x Nyquist when
  downsampling.
- alias_free (quality 1): stop band from 1.0 x Nyquist, nothing aliases at all. A linear-phase
  design of that sharpness needs twice the taps and twice the delay (3.4 ms for 8 kHz
  conversions), so this one is made MINIMUM phase: the 440-tap linear design above with its
  zeros outside the unit circle reflected inside (same magnitude response, homomorphic method),
  which moves most of the response to its start. Its group delay is no longer constant: it is
  lowest at low frequencies and rises towards the pass-band edge.

Each design has a centre c (prototype taps): the kernel's time 0, the instant that the
resampler's `latency` aligns with the input. Linear phase: the middle tap. Minimum phase: the
group delay at 1/8 of fl (1 kHz for 8 kHz conversions), so a speech-band tone comes out
`latency` late and the pass-band edge up to the printed worst group delay later.

The figures printed (and written into the header) are measured on the kernel the C core
builds (same formula), sampled at the polyphase rate of every supported pair; they are the
worst over all pairs.
"""
import math
import os
import sys

import numpy as np
from scipy import signal

OS = 8                  # prototype rate in units of the lower sample rate
PASS = 0.85             # pass-band edge, fraction of the lower Nyquist frequency
INTERP_HALF_WIDTH = 5   # half-width (prototype taps) of the Kaiser-sinc kernel in resample.c
INTERP_BETA = 12.0      # its Kaiser beta
FAR = 1.6               # (x fl) where the far stop band, weighted 10x more, begins
DESIGNS = [
    # name, stop-band edge (x lower Nyquist), taps, near / far stop-band weights, phase
    ("telephony", 1.15, 222, 600.0, 6000.0, "linear"),
    ("alias_free", 1.00, 440, 600.0, 6000.0, "minimum"),
]
ALIGN = 0.125           # (x fl) where a minimum-phase design's centre matches its group delay
RATES = [8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000]


def design(stop, taps, w_near, w_far, phase="linear"):
    """(taps, centre in taps) of one prototype."""
    # The C core samples the kernel at lcm(in, out), as low as 2 fl: stop-band ripple then
    # folds onto itself, so the far stop band is pushed well below the near one.
    bands = [0.0, PASS * 0.5 / OS, stop * 0.5 / OS, FAR / OS, FAR / OS + 0.002, 0.5]
    g = signal.remez(taps, bands, [1.0, 0.0, 0.0], weight=[1.0, w_near, w_far], fs=1.0,
                     maxiter=400, grid_density=32)
    g = g / g.sum()
    if phase == "linear":
        return g, (taps - 1) / 2.0
    g = signal.minimum_phase(g, method="homomorphic", n_fft=1 << 18, half=False)
    g = g / g.sum()
    _, gd = signal.group_delay((g, [1.0]), w=[ALIGN / OS], fs=1.0)
    return g, float(gd[0])


def support(g, c):
    """(lo, hi): the kernel is zero outside lo < t < hi (units of 1/fl)."""
    return (-c - INTERP_HALF_WIDTH) / OS, (len(g) - 1 - c + INTERP_HALF_WIDTH) / OS


def sampled(g, c, stop, fs_over_fl):
    """Pass-band range, worst stop-band level (dB) and worst pass-band group delay past the
    centre (units of 1/fl) of the kernel sampled at fs_over_fl * fl, the polyphase filter a
    rate pair really runs."""
    lo, hi = support(g, c)
    n = np.arange(np.floor(lo * fs_over_fl), np.ceil(hi * fs_over_fl) + 1)
    h = kernel(g, c, n / fs_over_fl)
    spec = np.abs(np.fft.rfft(h, 1 << 18))
    f = np.fft.rfftfreq(1 << 18, 1.0 / fs_over_fl)
    db = 20 * np.log10(np.maximum(spec / spec[0], 1e-30))
    _, gd = signal.group_delay((h, [1.0]), w=np.linspace(0.005, PASS * 0.5, 200), fs=fs_over_fl)
    gd = gd / fs_over_fl + n[0] / fs_over_fl
    return db[f <= PASS * 0.5].min(), db[f <= PASS * 0.5].max(), db[f >= stop * 0.5].max(), gd.max()


def kernel(g, c, t):
    """The continuous kernel of resample.c at times t (units of 1/fl, 0 at the centre c)."""
    hw, beta = INTERP_HALF_WIDTH, INTERP_BETA
    tr = np.asarray(t, float) * OS + c
    n = np.arange(len(g))
    out = np.zeros(len(tr))
    for i in range(0, len(tr), 2048):
        x = tr[i:i + 2048, None] - n[None, :]
        m = np.abs(x) < hw
        k = np.zeros_like(x)
        k[m] = np.sinc(x[m]) * np.i0(beta * np.sqrt(1 - (x[m] / hw) ** 2)) / np.i0(beta)
        out[i:i + 2048] = (g[None, :] * k).sum(1)
    return out


def measure(g, c, stop):
    fine = 64
    lo, hi = support(g, c)
    t = np.arange(np.floor(lo * OS * fine), np.ceil(hi * OS * fine) + 1) / (OS * fine)
    spec = np.abs(np.fft.rfft(kernel(g, c, t), 1 << 21))
    f = np.fft.rfftfreq(1 << 21, 1.0 / (OS * fine))
    spec /= spec[0]
    db = 20 * np.log10(np.maximum(spec, 1e-30))
    pb = f <= PASS * 0.5
    sb = (f >= stop * 0.5) & (f < OS * fine * 0.45)
    return db[pb].min(), db[pb].max(), db[sb].max(), hi - lo


def main():
    root = os.path.dirname(os.path.abspath(__file__))
    lines = [
        "/* Generated by csrc/gen_resample_tables.py -- do not edit. Prototype low-pass filters",
        " * of the resampler, in units of the lower sample rate fl; see that script. */",
        "#ifndef VDSP_RESAMPLE_TABLES_H",
        "#define VDSP_RESAMPLE_TABLES_H",
        "",
        f"#define VDSP_RS_OS {OS}",
        f"#define VDSP_RS_INTERP_HALF_WIDTH {INTERP_HALF_WIDTH}",
        f"#define VDSP_RS_INTERP_BETA {INTERP_BETA!r}",
        "",
    ]
    for name, stop, taps, w_near, w_far, phase in DESIGNS:
        g, c = design(stop, taps, w_near, w_far, phase)
        lo, hi, sb, width = measure(g, c, stop)
        print(f"{name}: {taps} taps, {phase} phase, centre {c:.4f}, pass band {lo:+.4f}..{hi:+.4f}"
              f" dB, stop band {sb:.2f} dB from {stop} x Nyquist, support {width:.3f} / fl",
              file=sys.stderr)
        ratios = sorted({math.lcm(a, b) / min(a, b) for a in RATES for b in RATES if a != b})
        gdmax = 0.0
        for r in ratios:
            slo, shi, ssb, sgd = sampled(g, c, stop, r)
            lo, hi, sb, gdmax = min(lo, slo), max(hi, shi), max(sb, ssb), max(gdmax, sgd)
            print(f"  sampled at {r:g} fl: pass {slo:+.4f}..{shi:+.4f} dB, stop {ssb:.2f} dB, "
                  f"group delay past the centre <= {sgd:.3f} / fl", file=sys.stderr)
        lines.append(f"/* {name}: {phase} phase, pass band {lo:+.4f}..{hi:+.4f} dB to {PASS} x "
                     f"Nyquist, stop band {sb:.2f} dB from {stop} x Nyquist, pass-band group "
                     f"delay past the centre <= {gdmax:.2f} / fl */")
        lines.append(f"#define VDSP_RS_{name.upper()}_TAPS {taps}")
        lines.append(f"#define VDSP_RS_{name.upper()}_STOP {stop!r}")
        lines.append(f"#define VDSP_RS_{name.upper()}_CENTRE {c!r}")
        lines.append(f"static const double vdsp_rs_{name}[{taps}] = {{")
        for i in range(0, taps, 4):
            lines.append("    " + " ".join(f"{v:.17e}," for v in g[i:i + 4]))
        lines.append("};")
        lines.append("")
    lines.append("#endif")
    with open(os.path.join(root, "resample_tables.h"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
