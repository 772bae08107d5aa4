"""G.711: bit-exactness against the standard and audioop, input/output forms, errors, threads."""

import array
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import g711_reference as ref
import voicedsp

ROOT = Path(__file__).resolve().parents[1]
ALL_PCM = np.arange(-32768, 32768, dtype=np.int16)
ALL_CODES = bytes(range(256))

# audioop.lin2ulaw negates negative inputs where G.711 (G.191) takes the one's complement, so
# its 14-bit magnitude is one larger; the code changes wherever that crosses a decision value:
# 127 decision values x 4 16-bit inputs = 508 inputs. These are the first of each 4 (x..x+3).
AUDIOOP_ULAW_DISAGREEMENT_STARTS = [
    -31612, -30588, -29564, -28540, -27516, -26492, -25468, -24444, -23420, -22396,
    -21372, -20348, -19324, -18300, -17276, -16252, -15740, -15228, -14716, -14204,
    -13692, -13180, -12668, -12156, -11644, -11132, -10620, -10108, -9596, -9084,
    -8572, -8060, -7804, -7548, -7292, -7036, -6780, -6524, -6268, -6012,
    -5756, -5500, -5244, -4988, -4732, -4476, -4220, -3964, -3836, -3708,
    -3580, -3452, -3324, -3196, -3068, -2940, -2812, -2684, -2556, -2428,
    -2300, -2172, -2044, -1916, -1852, -1788, -1724, -1660, -1596, -1532,
    -1468, -1404, -1340, -1276, -1212, -1148, -1084, -1020, -956, -892,
    -860, -828, -796, -764, -732, -700, -668, -636, -604, -572,
    -540, -508, -476, -444, -412, -380, -364, -348, -332, -316,
    -300, -284, -268, -252, -236, -220, -204, -188, -172, -156,
    -140, -124, -116, -108, -100, -92, -84, -76, -68, -60,
    -52, -44, -36, -28, -20, -12, -4,
]

# Codes on which G.711's Tables 3 and 4 differ from decoding and re-encoding in the other law
# (each by one quantization step; the tables are not nearest-value conversions).
TABLE3_DIFFERS_FROM_DECODE_ENCODE = [
    0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2A, 0x2B, 0x2C, 0x2D, 0x2E,
    0x3F, 0x4E, 0x4F, 0x71, 0x73, 0x75, 0x77, 0x79, 0x7B, 0x7D, 0x7F,
    0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7, 0xA8, 0xA9, 0xAA, 0xAB, 0xAC, 0xAD, 0xAE,
    0xBF, 0xCE, 0xCF,
]
TABLE4_DIFFERS_FROM_DECODE_ENCODE = list(range(0x00, 0x10)) + list(range(0x80, 0x90))


def pcm_of(codes_bytes):
    return np.frombuffer(codes_bytes, dtype=np.int16)


# --- bit-exactness -------------------------------------------------------------------------

def test_ulaw_encode_all_inputs_match_the_standard():
    expected = bytes(ref.ulaw_encode(int(x)) for x in ALL_PCM)
    assert voicedsp.ulaw_encode(ALL_PCM) == expected


def test_alaw_encode_all_inputs_match_the_standard():
    expected = bytes(ref.alaw_encode(int(x)) for x in ALL_PCM)
    assert voicedsp.alaw_encode(ALL_PCM) == expected


def test_decoders_all_codes_match_the_standard():
    assert pcm_of(voicedsp.ulaw_decode(ALL_CODES)).tolist() == [
        ref.ulaw_decode(c) for c in range(256)]
    assert pcm_of(voicedsp.alaw_decode(ALL_CODES)).tolist() == [
        ref.alaw_decode(c) for c in range(256)]


def test_known_values():
    # silence, full scale and the sign boundary, as G.711 defines them
    assert voicedsp.ulaw_encode(np.array([0, -1, 32767, -32768], np.int16)) == b"\xff\x7f\x80\x00"
    assert voicedsp.alaw_encode(np.array([0, -1, 32767, -32768], np.int16)) == b"\xd5\x55\xaa\x2a"
    assert pcm_of(voicedsp.ulaw_decode(b"\xff\x7f\x80\x00")).tolist() == [0, 0, 32124, -32124]
    assert pcm_of(voicedsp.alaw_decode(b"\xd5\x55\xaa\x2a")).tolist() == [8, -8, 32256, -32256]


def test_law_conversion_follows_tables_3_and_4():
    assert list(voicedsp.ulaw_to_alaw(ALL_CODES)) == [ref.ulaw_to_alaw(c) for c in range(256)]
    assert list(voicedsp.alaw_to_ulaw(ALL_CODES)) == [ref.alaw_to_ulaw(c) for c in range(256)]


def test_law_conversion_differs_from_decode_then_encode_where_documented():
    # where they differ, the two results are neighbouring output levels of the target law
    a_levels = sorted(ref.alaw_decode(c) for c in range(256))
    u_levels = sorted(ref.ulaw_decode(c) for c in range(256) if c != 0x7F)   # one zero only

    def neighbours(levels, y1, y2):
        return abs(levels.index(y1) - levels.index(y2)) == 1

    u2a = voicedsp.ulaw_to_alaw(ALL_CODES)
    u_via_pcm = voicedsp.alaw_encode(voicedsp.ulaw_decode(ALL_CODES))
    assert [c for c in range(256) if u2a[c] != u_via_pcm[c]] == TABLE3_DIFFERS_FROM_DECODE_ENCODE
    for c in TABLE3_DIFFERS_FROM_DECODE_ENCODE:
        assert neighbours(a_levels, ref.alaw_decode(u2a[c]), ref.alaw_decode(u_via_pcm[c]))
    a2u = voicedsp.alaw_to_ulaw(ALL_CODES)
    a_via_pcm = voicedsp.ulaw_encode(voicedsp.alaw_decode(ALL_CODES))
    assert [c for c in range(256) if a2u[c] != a_via_pcm[c]] == TABLE4_DIFFERS_FROM_DECODE_ENCODE
    for c in TABLE4_DIFFERS_FROM_DECODE_ENCODE:
        assert neighbours(u_levels, ref.ulaw_decode(a2u[c]), ref.ulaw_decode(a_via_pcm[c]))


def test_generated_tables_are_current():
    gen = ROOT / "csrc" / "gen_g711_tables.py"
    assert subprocess.run([sys.executable, str(gen), "--check"]).returncode == 0, (
        "csrc/g711_tables.h is stale: run python csrc/gen_g711_tables.py")


# --- against audioop -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def audioop():
    return pytest.importorskip("audioop")


def test_audioop_ulaw_encode_disagrees_exactly_on_the_listed_inputs(audioop):
    ours = voicedsp.ulaw_encode(ALL_PCM)
    theirs = audioop.lin2ulaw(ALL_PCM.tobytes(), 2)
    differ = [int(x) for x, a, b in zip(ALL_PCM, ours, theirs) if a != b]
    listed = [s + k for s in AUDIOOP_ULAW_DISAGREEMENT_STARTS for k in range(4)]
    assert len(listed) == 508
    assert differ == listed


def test_audioop_compatible_mode_matches_audioop_everywhere(audioop):
    assert voicedsp.ulaw_encode(ALL_PCM, audioop_compatible=True) == audioop.lin2ulaw(
        ALL_PCM.tobytes(), 2)


def test_audioop_agrees_on_alaw_and_both_decoders(audioop):
    assert voicedsp.alaw_encode(ALL_PCM) == audioop.lin2alaw(ALL_PCM.tobytes(), 2)
    assert voicedsp.ulaw_decode(ALL_CODES) == audioop.ulaw2lin(ALL_CODES, 2)
    assert voicedsp.alaw_decode(ALL_CODES) == audioop.alaw2lin(ALL_CODES, 2)


# --- input and output forms ------------------------------------------------------------------

SPEECHLIKE = (np.sin(np.arange(1000) * 0.05) * 9000).astype(np.int16)


@pytest.mark.parametrize("make", [
    bytes, bytearray, memoryview, lambda a: memoryview(bytes(a)).cast("h"),
    lambda a: array.array("h", a), lambda a: np.frombuffer(bytes(a), np.int16),
    lambda a: np.frombuffer(bytes(a), np.uint8), lambda a: np.frombuffer(bytes(a), np.int16).reshape(10, -1),
])
def test_every_pcm_form_gives_the_same_codes(make):
    raw = SPEECHLIKE.tobytes()
    assert voicedsp.ulaw_encode(make(raw)) == voicedsp.ulaw_encode(raw)
    assert voicedsp.alaw_encode(make(raw)) == voicedsp.alaw_encode(raw)


def test_outputs_bytes_numpy_and_out():
    codes = voicedsp.ulaw_encode(SPEECHLIKE)
    assert type(codes) is bytes and len(codes) == SPEECHLIKE.size
    pcm = voicedsp.ulaw_decode(codes)
    assert type(pcm) is bytes and len(pcm) == 2 * len(codes)
    arr = voicedsp.ulaw_decode(codes, as_numpy=True)
    assert arr.dtype == np.int16 and arr.flags.writeable and arr.tobytes() == pcm
    enc_arr = voicedsp.alaw_encode(SPEECHLIKE, as_numpy=True)
    assert enc_arr.dtype == np.uint8 and enc_arr.tobytes() == voicedsp.alaw_encode(SPEECHLIKE)

    out = np.full(len(codes) + 5, 7, np.int16)
    assert voicedsp.ulaw_decode(codes, out=out) == len(codes)
    assert out[:-5].tobytes() == pcm and (out[-5:] == 7).all()   # nothing past the end
    raw_out = bytearray(2 * len(codes))
    assert voicedsp.ulaw_decode(codes, raw_out) == len(codes)
    assert bytes(raw_out) == pcm
    code_out = bytearray(len(codes))
    assert voicedsp.ulaw_encode(SPEECHLIKE, out=code_out) == len(codes)
    assert bytes(code_out) == codes
    conv = bytearray(codes)
    assert voicedsp.ulaw_to_alaw(conv, out=conv) == len(codes)     # in place
    assert bytes(conv) == voicedsp.ulaw_to_alaw(codes)


@pytest.mark.parametrize("fn", [voicedsp.ulaw_encode, voicedsp.alaw_encode, voicedsp.ulaw_decode,
                                voicedsp.alaw_decode, voicedsp.ulaw_to_alaw, voicedsp.alaw_to_ulaw])
def test_empty_in_empty_out(fn):
    assert fn(b"") == b""
    assert len(fn(b"", as_numpy=True)) == 0
    assert fn(b"", out=bytearray(0)) == 0


# --- bad input -------------------------------------------------------------------------------

def test_odd_byte_count_names_the_length():
    with pytest.raises(ValueError, match="161 bytes is an odd byte count") as e:
        voicedsp.ulaw_encode(b"\0" * 161)
    assert isinstance(e.value, voicedsp.InvalidArgumentError)


@pytest.mark.parametrize("arr, name", [(np.zeros(8, np.float32), "float32"),
                                       (np.zeros(8, np.int32), "int32"),
                                       (np.zeros(8, np.uint16), "uint16"),
                                       (np.zeros(8, ">i2"), "big-endian int16")])
def test_wrong_dtype_names_expected_and_actual(arr, name):
    with pytest.raises(TypeError, match=f"expected native-endian int16.*got {name}") as e:
        voicedsp.alaw_encode(arr)
    assert isinstance(e.value, voicedsp.VoicedspError)


def test_non_contiguous_array_is_refused():
    with pytest.raises(ValueError, match="C-contiguous"):
        voicedsp.ulaw_encode(np.zeros((8, 2), np.int16)[:, 0])


def test_not_a_buffer_is_a_type_error():
    with pytest.raises(TypeError, match="got list"):
        voicedsp.ulaw_encode([1, 2, 3])
    with pytest.raises(TypeError, match="got str"):
        voicedsp.ulaw_decode("abc")


def test_codes_must_be_bytes():
    with pytest.raises(TypeError, match="expected bytes .itemsize 1., got int16"):
        voicedsp.ulaw_decode(np.zeros(4, np.int16))


def test_out_too_small_read_only_or_wrong_type():
    with pytest.raises(voicedsp.BufferTooSmallError, match="needs 320 bytes .160 items., has 319"):
        voicedsp.ulaw_decode(b"\0" * 160, out=bytearray(319))
    with pytest.raises(ValueError, match="needs 160 bytes"):
        voicedsp.ulaw_encode(b"\0" * 320, out=bytearray(100))
    with pytest.raises(TypeError, match="read-only bytes"):
        voicedsp.ulaw_decode(b"\0" * 4, out=bytes(8))
    with pytest.raises(TypeError, match="got float32"):
        voicedsp.ulaw_decode(b"\0" * 4, out=np.zeros(4, np.float32))
    with pytest.raises(ValueError, match="either out= or as_numpy"):
        voicedsp.ulaw_decode(b"\0" * 4, out=bytearray(8), as_numpy=True)


def test_failed_call_leaves_out_untouched():
    out = bytearray(b"\x55" * 10)
    with pytest.raises(ValueError):
        voicedsp.ulaw_decode(b"\0" * 6, out=out)
    assert out == bytearray(b"\x55" * 10)


# --- properties --------------------------------------------------------------------------------

@given(st.binary(max_size=4000).filter(lambda b: len(b) % 2 == 0), st.integers(0, 2000))
@example(struct.pack('<4h', -1, -2, -3, -4), 2)   # mu-law negative zero
def test_chunked_equals_whole_and_decode_is_a_fixed_point(raw, cut):
    cut -= cut % 2
    cut = min(cut, len(raw))
    for enc, dec in [(voicedsp.ulaw_encode, voicedsp.ulaw_decode),
                     (voicedsp.alaw_encode, voicedsp.alaw_decode)]:
        codes = enc(raw)
        assert enc(raw[:cut]) + enc(raw[cut:]) == codes
        pcm = dec(codes)
        # decoder outputs encode back to their own code, except mu-law's negative zero
        # (0x7F decodes to 0, which G.711 encodes as positive zero, 0xFF)
        again = codes.replace(b"\x7f", b"\xff") if enc is voicedsp.ulaw_encode else codes
        assert enc(pcm) == again


# --- threads -----------------------------------------------------------------------------------

def test_threads_give_the_same_bytes_as_one():
    rng = np.random.default_rng(5)
    bufs = [rng.integers(-32768, 32768, 300_000, dtype=np.int16) for _ in range(8)]
    expected = [voicedsp.ulaw_encode(b) for b in bufs]
    expected_dec = [voicedsp.ulaw_decode(c) for c in expected]
    results = [None] * len(bufs)

    def work(i):
        for _ in range(20):
            codes = voicedsp.ulaw_encode(bufs[i])
            pcm = voicedsp.ulaw_decode(codes)
            assert codes == expected[i] and pcm == expected_dec[i]
        results[i] = True

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(bufs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(results)


def test_large_calls_release_the_gil():
    # While a worker thread spends ~30 ms inside one encode call, the main thread keeps
    # running Python: with the GIL held it would be frozen for the whole call.
    big = np.zeros(80_000_000, np.int16)
    out = bytearray(big.size)
    voicedsp.ulaw_encode(big[:1000])
    old = sys.getswitchinterval()
    sys.setswitchinterval(0.0005)
    try:
        started = threading.Event()
        done = threading.Event()

        def worker():
            started.set()
            voicedsp.ulaw_encode(big, out=out)
            done.set()

        t0 = time.perf_counter()
        th = threading.Thread(target=worker)
        th.start()
        started.wait()
        ticks, longest, last = 0, 0.0, time.perf_counter()
        while not done.is_set():
            now = time.perf_counter()
            longest = max(longest, now - last)
            last = now
            ticks += 1
        th.join()
        call = time.perf_counter() - t0
    finally:
        sys.setswitchinterval(old)
    assert ticks > 100, f"main thread made {ticks} steps during a {call * 1e3:.0f} ms call"
    assert longest < call * 0.5, (
        f"main thread stalled {longest * 1e3:.1f} ms of a {call * 1e3:.1f} ms call")

