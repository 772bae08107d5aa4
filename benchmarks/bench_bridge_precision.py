"""What the MediaBridge's Q15 resampler coefficients cost in quality (G.711 calls).

The bridge resamples G.711 calls with one int16 coefficient per tap
(``Resampler(..., quality="telephony", precision="q15")``) instead of two ("full"). This
measures, for both precisions and the bridge's two conversions, with pure tones at half full
scale (Blackman-windowed FFT of the steady-state output):

- 8 -> 16 kHz: the worst image (tone at f, image at 8000 - f) over pass-band tones
  300..3400 Hz, in dB relative to the tone;
- 24 -> 8 kHz: the worst alias of a stop-band tone (4.6..12 kHz) in the 8 kHz output, in dB
  relative to a full-amplitude tone, and the worst spur of a pass-band tone (300..3400 Hz).

The int16 output's own rounding sets a floor near -90 dB in this measurement, so the "full"
figures are floor-limited (the resampler section of BENCHMARKS.md measures them more finely).

    python benchmarks/bench_bridge_precision.py
"""
import numpy as np

import voicedsp

def tone(f, sr, n, amp=0.5):
    t = np.arange(n) / sr
    return np.round(amp * 32767 * np.sin(2 * np.pi * f * t)).astype(np.int16)
def spec(y, sr):
    y = y.astype(float)[2000:]
    w = np.blackman(len(y)); Y = np.abs(np.fft.rfft(y * w)); f = np.fft.rfftfreq(len(y), 1 / sr)
    return f, Y
def level(f, Y, f0, bw=30):
    m = np.abs(f - f0) < bw
    return Y[m].max()
res = {}
for prec in ["full", "q15"]:
    # 8->16 images: pass-band tone f -> image at 8000 - f
    worst_img = -999
    for f0 in np.arange(300, 3401, 100):
        y = np.frombuffer(voicedsp.Resampler(8000, 16000, quality="telephony", precision=prec).process(tone(f0, 8000, 16000).tobytes()), np.int16)
        f, Y = spec(y, 16000)
        worst_img = max(worst_img, 20 * np.log10(level(f, Y, 8000 - f0) / level(f, Y, f0)))
    # 24->8 aliases: stop-band tone f (>= 4600) -> alias at |f - 8000k|
    worst_alias = -999
    for f0 in np.arange(4600, 12000, 100):
        y = np.frombuffer(voicedsp.Resampler(24000, 8000, quality="telephony", precision=prec).process(tone(f0, 24000, 48000).tobytes()), np.int16)
        fa = f0 % 8000; fa = 8000 - fa if fa > 4000 else fa
        f, Y = spec(y, 8000)
        ref = 0.5 * 32767 * np.sum(np.blackman(len(y) - 2000)) / 2
        worst_alias = max(worst_alias, 20 * np.log10(level(f, Y, fa) / ref))
    # 24->8 pass-band spurs: tone f in pass band, largest other component
    worst_spur = -999
    for f0 in np.arange(300, 3401, 150):
        y = np.frombuffer(voicedsp.Resampler(24000, 8000, quality="telephony", precision=prec).process(tone(f0, 24000, 48000).tobytes()), np.int16)
        f, Y = spec(y, 8000)
        m = np.abs(f - f0) > 60
        worst_spur = max(worst_spur, 20 * np.log10(Y[m].max() / level(f, Y, f0)))
    res[prec] = (worst_img, worst_alias, worst_spur)
    print(prec, "8->16 worst image %.1f dBc, 24->8 worst alias of a stop-band tone %.1f dB, 24->8 worst spur of a pass-band tone %.1f dBc" % res[prec])
