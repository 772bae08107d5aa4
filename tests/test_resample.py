"""Resampler: the streaming contract (framing, chunk invariance, flush, reset), agreement with a
float64 model of the same filter, measured quality (pass band, images/aliases, SINAD, delay),
agreement with soxr / scipy on pass-band signals, input/output forms, errors and threads."""

import math
import os
import threading
from itertools import permutations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import resample_reference as ref
import voicedsp

RATES = voicedsp.SUPPORTED_RATES_HZ
PAIRS = list(permutations(RATES, 2))
ALL_PAIRS = PAIRS + [(r, r) for r in RATES]


def frames_out(n_before, n, fi, fo):
    return (n_before + n) * fo // fi - n_before * fo // fi


# --- the streaming contract ------------------------------------------------------------------

@pytest.mark.parametrize("fi,fo", ALL_PAIRS)
def test_framing_is_exact_and_never_empty_for_10_and_20_ms(fi, fo):
    r = voicedsp.Resampler(fi, fo)
    seen = 0
    for ms in [20, 10, 20, 20, 10, 10, 20] * 3:
        n = fi * ms // 1000
        assert r.max_output(n) == frames_out(seen, n, fi, fo)
        out = r.process(bytes(2 * n))
        assert len(out) // 2 == frames_out(seen, n, fi, fo) > 0
        seen += n
    # odd sizes too: the remainder is carried, never lost
    for n in [1, 2, 3, 7, 441, 1]:
        assert len(r.process(bytes(2 * n))) // 2 == frames_out(seen, n, fi, fo)
        seen += n
    assert len(r.flush()) // 2 == r.latency + (1 if seen * fo % fi else 0)


@settings(max_examples=60, deadline=None)
@given(
    pair=st.sampled_from(ALL_PAIRS),
    dtype=st.sampled_from(["int16", "float32"]),
    quality=st.sampled_from(["telephony", "alias_free"]),
    channels=st.integers(1, 3),
    n=st.integers(0, 3000),
    cuts=st.lists(st.integers(0, 3000), max_size=12),
    seed=st.integers(0, 2**32 - 1),
)
def test_any_chunking_gives_the_same_bits_as_one_call(pair, dtype, quality, channels, n, cuts,
                                                      seed):
    fi, fo = pair
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.2, 1.2, (n, channels))  # beyond full scale: int16 saturates
    x = (np.clip(x, -1, 1) * 32767).astype(np.int16) if dtype == "int16" else \
        x.astype(np.float32)
    whole = voicedsp.Resampler(fi, fo, quality=quality, dtype=dtype, channels=channels)
    want = np.concatenate([whole.process(x), whole.flush()])
    chunked = voicedsp.Resampler(fi, fo, quality=quality, dtype=dtype, channels=channels)
    bounds = sorted({0, n, *(c for c in cuts if c <= n)})
    parts = [chunked.process(x[:0])]  # empty calls are fine (and fix flush's output kind)
    parts += [chunked.process(x[a:b]) for a, b in zip(bounds, bounds[1:])] + [chunked.flush()]
    got = np.concatenate(parts)
    assert got.dtype == want.dtype and got.shape == want.shape
    assert got.tobytes() == want.tobytes()
    assert len(want) == ref.stream_length(n, fi, fo, quality)


@pytest.mark.parametrize("fi,fo", ALL_PAIRS)
@pytest.mark.parametrize("quality", ["telephony", "alias_free"])
def test_output_matches_the_float64_model_of_the_filter(fi, fo, quality):
    rng = np.random.default_rng(fi * 7 + fo)
    x = (rng.standard_normal(2000) * 0.25).astype(np.float32)
    r = voicedsp.Resampler(fi, fo, quality=quality, dtype="float32")
    assert r.latency == ref.design(fi, fo, quality)[4]
    got = np.concatenate([r.process(x), r.flush()])
    want = ref.resample_stream(x, fi, fo, quality)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=0, atol=2e-6)
    # int16: the same filter, rounded to nearest (half to even) and saturated
    x16 = (rng.standard_normal(2000) * 12000).clip(-32768, 32767).astype(np.int16)
    r16 = voicedsp.Resampler(fi, fo, quality=quality)
    got16 = np.concatenate([r16.process(x16), r16.flush()]).astype(int)
    want16 = np.clip(np.rint(ref.resample_stream(x16 / 32768.0, fi, fo, quality) * 32768),
                     -32768, 32767)
    assert np.abs(got16 - want16).max() <= 1


def test_flush_ends_the_stream_and_one_shot_is_the_stream_minus_its_delay():
    rng = np.random.default_rng(3)
    x = (rng.standard_normal(1234) * 5000).astype(np.int16)
    r = voicedsp.Resampler(8000, 24000)
    stream = np.concatenate([r.process(x[:500]), r.process(x[500:]), r.flush()])
    one_shot = voicedsp.resample(x, 8000, 24000)
    assert len(one_shot) == math.ceil(len(x) * 3)
    assert np.array_equal(stream[r.latency:], one_shot)
    # after flush the object starts a new stream: same input, same output
    again = np.concatenate([r.process(x), r.flush()])
    assert np.array_equal(again, stream)
    assert len(r.flush()) == r.latency  # flushing silence: the silent tail, then reset


def test_reset_forgets_the_input():
    rng = np.random.default_rng(4)
    x = (rng.standard_normal(800) * 5000).astype(np.int16)
    r = voicedsp.Resampler(16000, 8000)
    first = r.process(x)
    r.process(x[:333])
    r.reset()
    assert np.array_equal(r.process(x), first)


@pytest.mark.parametrize("fi,fo", [(8000, 44100), (44100, 8000), (12000, 32000)])
def test_one_shot_length_is_ceil_of_the_ratio(fi, fo):
    for n in [0, 1, 2, 79, 80, 81, 441, 1000]:
        assert len(voicedsp.resample(np.zeros(n, np.int16), fi, fo)) == -(-n * fo // fi)


# --- measured quality --------------------------------------------------------------------------

def tone(freq, rate, n, amp=1.0, phase=0.3):
    return amp * np.sin(2 * np.pi * freq * np.arange(n) / rate + phase)


def fit(y, freq, rate):
    """Least-squares amplitude of a sine at freq, and the residual power."""
    t = np.arange(len(y)) / rate
    basis = np.stack([np.sin(2 * np.pi * freq * t), np.cos(2 * np.pi * freq * t),
                      np.ones_like(t)], 1)
    coefs, *_ = np.linalg.lstsq(basis, y, rcond=None)
    resid = y - basis @ coefs
    return math.hypot(coefs[0], coefs[1]), float(np.mean(resid ** 2)), coefs


def spurs_db(y, freq, rate, full_scale=1.0):
    """Largest spectral line other than freq, in dB relative to a full-scale sine."""
    w = np.kaiser(len(y), 24.0)
    spec = np.abs(np.fft.rfft(y * w)) * 2 / w.sum()
    f = np.fft.rfftfreq(len(y), 1 / rate)
    far = np.abs(f - freq) > 12 * rate / len(y)
    return 20 * np.log10(spec[far].max() / full_scale + 1e-30)


def run_f32(fi, fo, x, quality="alias_free"):
    r = voicedsp.Resampler(fi, fo, quality=quality, dtype="float32")
    y = np.concatenate([r.process(x[i:i + fi // 50].astype(np.float32))
                        for i in range(0, len(x), fi // 50)])
    return y.astype(float), r.latency


# Frequencies as fractions of the lower Nyquist frequency.
PASS_POINTS = [0.02, 0.1, 0.25, 0.4, 0.55, 0.7, 0.8, 0.85]
STOP_POINTS_TEL = [1.15, 1.3, 1.6, 2.2, 3.1, 5.0]
STOP_POINTS_AF = [1.0, 1.15, 1.6, 3.1]


def phase_lag(fi, fo, f, quality):
    """(gain dB, lag in radians) of a 0.9 full-scale tone at f through the stream, against the
    input tone at the output's time axis (no delay)."""
    y, _ = run_f32(fi, fo, tone(f, fi, fi // 5, 0.9), quality)
    amp, _, coefs = fit(y[fo // 25:], f, fo)
    lag = 0.3 + 2 * np.pi * f * (fo // 25) / fo - math.atan2(coefs[1], coefs[0])
    return 20 * math.log10(amp / 0.9), lag


@pytest.mark.parametrize("fi,fo", PAIRS)
def test_pass_band_flat_within_0_1_db_and_linear_phase_delay_is_latency(fi, fo):
    d = voicedsp.Resampler(fi, fo, quality="telephony").latency
    for frac in PASS_POINTS:
        f = frac * min(fi, fo) / 2
        gain_db, lag = phase_lag(fi, fo, f, "telephony")
        assert abs(gain_db) <= 0.1, f"{f:.0f} Hz: {gain_db:+.3f} dB"
        # phase of the fitted sine = input phase delayed by exactly `latency` output frames
        err = (lag - 2 * np.pi * f * d / fo + np.pi) % (2 * np.pi) - np.pi
        assert abs(err) < 2e-3, f"{f:.0f} Hz: phase off by {err:.2e} rad"


def group_delay_ms(fi, fo, f, quality):
    """Group delay at f (ms), from the phases of two tones 1 % of the lower Nyquist apart."""
    df = 0.01 * min(fi, fo) / 2
    _, a = phase_lag(fi, fo, f - df / 2, quality)
    _, b = phase_lag(fi, fo, f + df / 2, quality)
    dphi = (b - a + np.pi) % (2 * np.pi) - np.pi
    return 1000 * dphi / (2 * np.pi * df)


LATENCY_BARS_MS = {(48000, 16000): 1.5}


@pytest.mark.parametrize("fi,fo", PAIRS)
def test_minimum_phase_pass_band_is_flat_and_its_delay_within_the_bars(fi, fo):
    # alias_free is minimum phase: its group delay is `latency` at 1/8 of the lower rate and
    # rises towards the pass-band edge; everywhere in the pass band it stays within the bars
    lat_ms = voicedsp.Resampler(fi, fo).latency_ms
    bar = LATENCY_BARS_MS.get((fi, fo), 2.0)
    for frac in PASS_POINTS:
        f = frac * min(fi, fo) / 2
        gain_db, _ = phase_lag(fi, fo, f, "alias_free")
        assert abs(gain_db) <= 0.1, f"{f:.0f} Hz: {gain_db:+.3f} dB"
        gd = group_delay_ms(fi, fo, min(f, 0.845 * min(fi, fo) / 2), "alias_free")
        assert 0 < gd <= bar, f"{f:.0f} Hz: group delay {gd:.3f} ms"
        if frac == 0.25:  # 1/8 of the lower rate
            assert gd == pytest.approx(lat_ms, abs=0.01)


STOP_POINTS = {"telephony": STOP_POINTS_TEL, "alias_free": STOP_POINTS_AF + STOP_POINTS_TEL[1:]}


def stop_band_tones(fi, fo, quality):
    """Downsampling: frequencies of the design's stop band below the input Nyquist."""
    if fo >= fi:
        return []
    freqs = [frac * fo / 2 * (1.005 if frac == 1.0 else 1.0) for frac in STOP_POINTS[quality]]
    return [f for f in freqs if f < fi / 2]


@pytest.mark.parametrize("quality", ["alias_free", "telephony"])
@pytest.mark.parametrize("fi,fo", PAIRS)
def test_images_and_aliases_below_minus_90_db(fi, fo, quality):
    nyq = min(fi, fo) / 2
    n_fft = 8192
    # pass-band tones: nothing else comes out (images when upsampling, aliases when not)
    for frac in PASS_POINTS:
        f = frac * nyq
        y, _ = run_f32(fi, fo, tone(f, fi, (n_fft + fo // 10) * fi // fo + fi // 50), quality)
        assert spurs_db(y[fo // 10:fo // 10 + n_fft], f, fo) <= -90.0, f"{f:.0f} Hz"
    # downsampling: tones in the stop band (from 1.15 / 1.0 x the output Nyquist) are removed
    for f in stop_band_tones(fi, fo, quality):
        y, _ = run_f32(fi, fo, tone(f, fi, (n_fft + fo // 10) * fi // fo + fi // 50), quality)
        level = 20 * np.log10(np.abs(y[fo // 10:]).max() + 1e-30)
        assert level <= -90.0, f"{f:.0f} Hz leaks at {level:.1f} dBFS"


INT_PAIRS = [(8000, 16000), (8000, 24000), (16000, 8000), (24000, 8000), (48000, 16000),
             (16000, 48000), (8000, 48000), (48000, 8000)]


def run_i16(fi, fo, x, quality):
    r = voicedsp.Resampler(fi, fo, quality=quality)
    x16 = np.round(x * 32767).astype(np.int16)
    y = np.concatenate([r.process(x16[i:i + fi // 50]) for i in range(0, len(x16), fi // 50)])
    return y.astype(float) / 32768.0


@pytest.mark.parametrize("quality", ["alias_free", "telephony"])
@pytest.mark.parametrize("fi,fo", INT_PAIRS)
def test_int16_path_of_integer_ratios_keeps_the_bars(fi, fo, quality):
    # int16 calls of integer-ratio pairs run in integers (hi/lo int16 coefficients): the same
    # pass band, image and alias bars as the float path, measured on int16 output
    nyq = min(fi, fo) / 2
    n_fft = 8192
    for frac in PASS_POINTS:
        f = frac * nyq
        y = run_i16(fi, fo, tone(f, fi, (n_fft + fo // 10) * fi // fo + fi // 50, 0.9), quality)
        seg = y[fo // 10:fo // 10 + n_fft]
        amp, _, _ = fit(seg, f, fo)
        assert abs(20 * math.log10(amp / 0.9)) <= 0.1, f"{f:.0f} Hz"
        assert spurs_db(seg, f, fo) <= -90.0, f"{f:.0f} Hz"
    for f in stop_band_tones(fi, fo, quality):
        y = run_i16(fi, fo, tone(f, fi, (n_fft + fo // 10) * fi // fo + fi // 50), quality)
        level = 20 * np.log10(np.abs(y[fo // 10:]).max() + 1e-30)
        # int16 output: a removed tone leaves at most rounding (1 LSB = -90.3 dBFS)
        assert level <= -90.0, f"{f:.0f} Hz leaks at {level:.1f} dBFS"


def test_telephony_quality_partly_rejects_the_transition_band():
    # documented behaviour: between 0.85 and 1.15 x Nyquist the telephony filter is a slope;
    # a 4.1 kHz tone into 16 -> 8 kHz (what audioop passes at 0 dB) is strongly reduced
    y, _ = run_f32(16000, 8000, tone(4100, 16000, 8000), quality="telephony")
    level = 20 * np.log10(np.abs(y[800:]).max())
    assert -60 < level < -10
    for x in (tone(4100, 16000, 8000).astype(np.float32),
              np.round(tone(4100, 16000, 8000) * 32767).astype(np.int16)):
        y = voicedsp.resample(x, 16000, 8000)  # the default, alias_free: float and int16 paths
        y = y / 32768.0 if y.dtype == np.int16 else y
        # (not the last 100 samples: the tone's abrupt end is broadband)
        assert 20 * np.log10(np.abs(y[800:-100]).max() + 1e-30) <= -90


@pytest.mark.parametrize("quality", ["alias_free", "telephony"])
@pytest.mark.parametrize("freq", [1000.0, 1004.0])
def test_8k_24k_8k_round_trip_keeps_sinad_above_85_db_with_int16(freq, quality):
    x = np.round(tone(freq, 8000, 16000, 0.9 * 32767)).astype(np.int16)
    up = voicedsp.Resampler(8000, 24000, quality=quality)
    down = voicedsp.Resampler(24000, 8000, quality=quality)
    y = np.concatenate([down.process(up.process(x[i:i + 160]))
                        for i in range(0, len(x), 160)]).astype(float)
    seg = y[800:]
    amp, resid, _ = fit(seg, freq, 8000)
    sinad = 10 * math.log10((amp ** 2 / 2) / resid)
    assert sinad >= 85.0, f"SINAD {sinad:.1f} dB"


@pytest.mark.parametrize("quality", ["alias_free", "telephony"])
@pytest.mark.parametrize("fi,fo", ALL_PAIRS)
def test_latency_bars(fi, fo, quality):
    r = voicedsp.Resampler(fi, fo, quality=quality)
    assert r.latency_ms == pytest.approx(1000 * r.latency / fo)
    bar = LATENCY_BARS_MS.get((fi, fo), 2.0)
    assert r.latency_ms <= bar


# --- against other resamplers --------------------------------------------------------------------

def band_limited(rate, n, top_hz, seed=0):
    rng = np.random.default_rng(seed)
    spec = np.fft.rfft(rng.standard_normal(n))
    spec[np.fft.rfftfreq(n, 1 / rate) > top_hz] = 0
    x = np.fft.irfft(spec, n)
    return 0.5 * x / np.abs(x).max()


@pytest.mark.parametrize("fi,fo", [(8000, 16000), (8000, 24000), (24000, 8000),
                                   (48000, 16000), (44100, 16000)])
def test_one_shot_agrees_with_scipy_and_soxr_in_the_pass_band(fi, fo):
    # waveform against waveform: the linear-phase design (the minimum-phase one shifts each
    # frequency by its own delay; its magnitudes are checked below)
    scipy_signal = pytest.importorskip("scipy.signal")
    soxr = pytest.importorskip("soxr")
    top = 0.8 * min(fi, fo) / 2
    x = band_limited(fi, fi, top).astype(np.float32)
    ours = voicedsp.resample(x, fi, fo, quality="telephony").astype(float)
    g = math.gcd(fi, fo)
    others = {
        "scipy": scipy_signal.resample_poly(x.astype(float), fo // g, fi // g),
        "soxr": soxr.resample(x, fi, fo, quality="HQ").astype(float),
    }
    core = slice(len(ours) // 10, len(ours) * 9 // 10)  # away from the edges
    for name, y in others.items():
        n = min(len(y), len(ours))
        diff = ours[:n][core] - y[:n][core]
        err_db = 10 * np.log10(np.mean(diff ** 2) / np.mean(y[:n][core] ** 2))
        # both are transparent in the pass band: they differ by their pass-band ripple only
        # (ours <= 0.09 dB p-p, so about -40 dB), and not by a sample of misalignment
        assert err_db < -35, f"{name}: {err_db:.1f} dB"


@pytest.mark.parametrize("fi,fo", [(8000, 16000), (24000, 8000), (48000, 16000)])
def test_minimum_phase_one_shot_has_scipys_magnitude_spectrum(fi, fo):
    scipy_signal = pytest.importorskip("scipy.signal")
    top = 0.8 * min(fi, fo) / 2
    x = band_limited(fi, 4 * fi, top).astype(np.float32)
    ours = voicedsp.resample(x, fi, fo).astype(float)
    g = math.gcd(fi, fo)
    ref = scipy_signal.resample_poly(x.astype(float), fo // g, fi // g)
    n = min(len(ours), len(ref))
    f = np.fft.rfftfreq(n, 1 / fo)
    band = (f > 100) & (f < top)
    ratio_db = 20 * np.log10(np.abs(np.fft.rfft(ours[:n]))[band] / np.abs(np.fft.rfft(ref[:n]))[band])
    # same magnitudes bin by bin within the two pass-band ripples and the edge effects
    assert np.median(np.abs(ratio_db)) < 0.1 and np.percentile(np.abs(ratio_db), 99) < 0.5


# --- input and output forms -----------------------------------------------------------------

def test_bytes_in_bytes_out_numpy_in_numpy_out():
    r = voicedsp.Resampler(8000, 16000)
    assert isinstance(r.process(bytes(320)), bytes)
    assert isinstance(r.process(bytearray(320)), bytes)
    assert isinstance(r.process(memoryview(bytes(320))), bytes)
    out = r.process(np.zeros(160, np.int16))
    assert isinstance(out, np.ndarray) and out.dtype == np.int16 and out.shape == (320,)
    assert isinstance(r.flush(), np.ndarray)  # same kind as the last input
    assert isinstance(r.flush(as_numpy=False), bytes)
    f = voicedsp.Resampler(8000, 16000, dtype="float32")
    out = f.process(np.zeros(160, np.float32))
    assert out.dtype == np.float32 and out.shape == (320,)
    assert voicedsp.Resampler(8000, 16000, dtype=np.float32).dtype == "float32"


def test_multichannel_interleaved_equals_each_channel_alone():
    rng = np.random.default_rng(5)
    x = (rng.standard_normal((900, 2)) * 4000).astype(np.int16)
    st2 = voicedsp.Resampler(16000, 24000, channels=2)
    y = np.concatenate([st2.process(x[:450]), st2.process(x[450:]), st2.flush()])
    assert y.shape[1] == 2
    for ch in range(2):
        mono = voicedsp.Resampler(16000, 24000)
        want = np.concatenate([mono.process(np.ascontiguousarray(x[:, ch])), mono.flush()])
        assert np.array_equal(y[:, ch], want)
    # interleaved bytes work too
    assert len(st2.process(x.tobytes())) == 2 * 2 * 900 * 3 // 2


def test_out_buffer():
    r = voicedsp.Resampler(8000, 16000)
    fresh = voicedsp.Resampler(8000, 16000)
    x = (np.arange(160) * 50).astype(np.int16)
    buf = np.empty(400, np.int16)
    with pytest.raises(voicedsp.BufferTooSmallError):
        r.process(x, out=np.empty(319, np.int16))
    assert r.process(x, out=buf) == 320
    assert np.array_equal(buf[:320], fresh.process(x))  # the failed call consumed nothing
    fbuf = np.empty(400, np.float32)
    rf = voicedsp.Resampler(8000, 16000, dtype="float32")
    assert rf.process(x.astype(np.float32) / 32768, out=fbuf) == 320


def test_misaligned_buffers():
    # a memoryview sliced at an odd byte offset: read through an aligned copy, same result
    x = (np.arange(160, dtype=np.int16) * 97).tobytes()
    raw = bytearray(1) + bytearray(x)
    odd = memoryview(raw)[1:]
    assert voicedsp.Resampler(8000, 16000).process(odd) == \
        voicedsp.Resampler(8000, 16000).process(x)
    assert voicedsp.resample(odd, 8000, 16000) == voicedsp.resample(x, 8000, 16000)
    f = np.frombuffer(bytearray(1) + bytearray(np.ones(160, np.float32).tobytes()), np.float32,
                      offset=1)
    assert not f.flags.aligned
    assert voicedsp.Resampler(8000, 16000, dtype="float32").process(f).shape == (320,)
    # a misaligned out= buffer is refused
    with pytest.raises(voicedsp.InvalidArgumentError, match="aligned"):
        voicedsp.Resampler(8000, 16000).process(x, out=memoryview(bytearray(641))[1:])


# --- errors -------------------------------------------------------------------------------------

def test_unsupported_rate_names_the_supported_set():
    with pytest.raises(voicedsp.UnsupportedRateError, match="8000, 11025, 12000, 16000, 22050, "
                       "24000, 32000, 44100, 48000") as info:
        voicedsp.Resampler(96000, 16000)
    assert isinstance(info.value, ValueError)
    with pytest.raises(voicedsp.UnsupportedRateError, match="out_rate_hz=8001"):
        voicedsp.resample(b"", 8000, 8001)
    for bad in [0, -8000, 7999, 96000]:
        with pytest.raises(voicedsp.UnsupportedRateError):
            voicedsp.Resampler(bad, 8000)


def test_bad_arguments_raise_clear_errors_and_keep_the_object_usable():
    r = voicedsp.Resampler(8000, 16000)
    with pytest.raises(voicedsp.InvalidTypeError, match="int16"):
        r.process(np.zeros(160, np.float32))
    with pytest.raises(voicedsp.InvalidArgumentError, match="odd"):
        r.process(b"\x00" * 3)
    with pytest.raises(voicedsp.InvalidTypeError):
        r.process("not audio")
    with pytest.raises(voicedsp.InvalidArgumentError):
        r.process(np.zeros((4, 160), np.int16)[:, 0])
    f = voicedsp.Resampler(8000, 16000, dtype="float32")
    with pytest.raises(voicedsp.InvalidTypeError, match="float32"):
        f.process(np.zeros(160, np.float64))
    with pytest.raises(voicedsp.InvalidTypeError, match="float32"):
        f.process(bytes(640))
    with pytest.raises(voicedsp.InvalidArgumentError, match="quality"):
        voicedsp.Resampler(8000, 16000, quality="best")
    with pytest.raises(voicedsp.InvalidArgumentError, match="dtype"):
        voicedsp.Resampler(8000, 16000, dtype="int32")
    with pytest.raises(voicedsp.InvalidArgumentError, match="channels"):
        voicedsp.Resampler(8000, 16000, channels=0)
    with pytest.raises(voicedsp.InvalidArgumentError, match="frames"):
        voicedsp.Resampler(8000, 16000, channels=2).process(bytes(6))
    assert len(r.process(bytes(320))) == 640  # still usable
    assert r.process(b"") == b""


# --- threads ----------------------------------------------------------------------------------

def test_objects_on_threads_match_one_thread():
    rng = np.random.default_rng(6)
    x = (rng.standard_normal(48000) * 5000).astype(np.int16)  # big: the GIL is released
    want = voicedsp.resample(x, 48000, 16000)
    results = [None] * 4

    def work(i):
        results[i] = voicedsp.resample(x, 48000, 16000)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(np.array_equal(res, want) for res in results)


@pytest.mark.skipif(bool(os.environ.get("VOICEDSP_ASAN_PYTHON")),
                    reason="AddressSanitizer quarantines freed memory (the C tests check leaks)")
def test_repeated_create_process_destroy_does_not_grow_memory():
    resource = pytest.importorskip("resource")
    x = bytes(960)

    def cycle(n):
        for _ in range(n):
            r = voicedsp.Resampler(48000, 16000, channels=2)
            r.process(x)
            r.flush()
            del r

    cycle(300)  # warm up the allocators
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cycle(3000)  # ~8 kB of C memory each: a leak would add ~24 MB
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kb < 8 * 1024, f"max RSS grew by {grown_kb} kB"
