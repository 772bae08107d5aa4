"""Opus: byte-identical to opuslib (packets and PCM), PLC/FEC, bad packets, bad arguments,
input forms, threads, lifecycle."""

import ctypes
import ctypes.util
import os
import re
import shutil
import subprocess
import threading
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import voicedsp
from voicedsp import OpusDecoder, OpusEncoder

try:  # the oracle: another binding of the same libopus (a test dependency only)
    import opuslib
    import opuslib.api.ctl
    import opuslib.api.decoder as opuslib_packet
    import opuslib.api.encoder
    import opuslib.api.info
except Exception:  # pragma: no cover - opuslib missing or cannot load libopus
    opuslib = None


def _libopus_paths():
    """Paths of every libopus mapped into this process (None where /proc is missing)."""
    try:
        with open("/proc/self/maps") as f:
            return {line.split()[-1] for line in f if "libopus" in line}
    except OSError:
        return None


def _oracle_problem():
    if opuslib is None:
        return "opuslib (the oracle) is unavailable"
    # Bit-exactness is only promised for one and the same libopus: a repaired wheel carries
    # its own copy, which may be another version or build than the system's that opuslib loads.
    paths = _libopus_paths()
    if paths is not None and len(paths) > 1:
        return f"opuslib and voicedsp load different libopus files: {sorted(paths)}"
    theirs = opuslib.api.info.get_version_string().decode()
    if theirs != voicedsp.opus_version():
        return f"opuslib runs {theirs}, voicedsp {voicedsp.opus_version()}"
    return None


ORACLE_PROBLEM = _oracle_problem()
needs_opuslib = pytest.mark.skipif(ORACLE_PROBLEM is not None, reason=str(ORACLE_PROBLEM))
RATES = [8000, 12000, 16000, 24000, 48000]
SPEECH_TEXT = ("Thanks for calling. Your appointment is confirmed for Tuesday at four thirty. "
               "Is there anything else I can help you with today?")


def _synthetic_speech(rate, seconds=3.0):
    # Used only where espeak-ng/sox are absent (e.g. a wheel-test container): voiced glides
    # with syllable-rate bursts and unvoiced noise, deterministic.
    rng = np.random.default_rng(7)
    t = np.arange(int(rate * seconds)) / rate
    f0 = 120 + 30 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    voiced = sum(np.sin(h * phase) / h for h in range(1, 20))
    env = np.clip(np.sin(2 * np.pi * 4 * t), 0, None) ** 2
    noise = rng.normal(0, 0.3, t.size) * (np.sin(2 * np.pi * 1.3 * t) > 0.8)
    return (7000 * (env * voiced + noise)).astype(np.int16)


@pytest.fixture(scope="session")
def speech_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("opus_speech")


_SPEECH = {}
# the tools run without a sanitizer runtime preloaded for an ASan build of voicedsp
TOOL_ENV = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}


def speech(rate, directory):
    """espeak-ng speech resampled by sox to `rate` Hz, int16 mono (cached per session)."""
    if rate in _SPEECH:
        return _SPEECH[rate]
    if shutil.which("espeak-ng") and shutil.which("sox"):
        wav = directory / "speech.wav"
        if not wav.exists():
            subprocess.run(["espeak-ng", "-w", str(wav), SPEECH_TEXT], check=True, env=TOOL_ENV)
        raw = directory / f"speech_{rate}.raw"
        # -D: no dither, so the input is the same on every run
        subprocess.run(["sox", "-D", "-G", str(wav), "-r", str(rate), "-c", "1", "-b", "16",
                        "-e", "signed", "-L", "-t", "raw", str(raw)], check=True, env=TOOL_ENV)
        pcm = np.fromfile(raw, dtype="<i2").astype(np.int16)
    else:
        pcm = _synthetic_speech(rate)
    _SPEECH[rate] = pcm
    return pcm


def frames_of(pcm, n, channels=1):
    if channels == 2:  # a stereo signal whose channels differ: right is left delayed
        pcm = np.stack([pcm, np.roll(pcm, 37) // 2], axis=1).reshape(-1)
    step = n * channels
    return [pcm[i:i + step] for i in range(0, len(pcm) - step + 1, step)]


def opuslib_encoder(rate, channels, application, **controls):
    enc = opuslib.Encoder(rate, channels, application)
    for name, value in controls.items():
        # through opuslib's ctl layer: its inband_fec property setter drops the value
        opuslib.api.encoder.encoder_ctl(enc.encoder_state,
                                        getattr(opuslib.api.ctl, "set_" + name), value)
    return enc


def libopus():
    lib = ctypes.CDLL(ctypes.util.find_library("opus"))
    lib.opus_packet_get_samples_per_frame.argtypes = (ctypes.c_char_p, ctypes.c_int32)
    lib.opus_get_version_string.restype = ctypes.c_char_p
    return lib


# --- oracle: opuslib ---------------------------------------------------------------------------

ENCODER_CASES = [
    # rate, channels, application, frame_ms, controls
    (48000, 1, "voip", 20, dict(complexity=9)),
    (48000, 1, "voip", 20, dict(complexity=5, bitrate=24000)),
    (16000, 1, "voip", 20, dict(complexity=9, bitrate=16000)),
    (16000, 1, "voip", 20, dict(complexity=5)),
    (48000, 2, "audio", 20, dict(complexity=9, bitrate=64000)),
    (8000, 1, "voip", 10, dict(complexity=9)),
    (24000, 1, "audio", 40, dict(complexity=7, vbr=0, bitrate=20000)),
    (12000, 2, "voip", 60, dict(complexity=3)),
    (48000, 1, "restricted_lowdelay", 5, dict(complexity=9, bitrate=48000)),
    (16000, 1, "voip", 20, dict(inband_fec=1, packet_loss_perc=15, bitrate=20000)),
    (16000, 1, "voip", 20, dict(dtx=1)),
]


@needs_opuslib
@pytest.mark.parametrize("rate,channels,application,frame_ms,controls", ENCODER_CASES)
def test_packets_are_byte_identical_to_opuslib(speech_dir, rate, channels, application,
                                                frame_ms, controls):
    n = int(rate * frame_ms / 1000)
    frames = frames_of(speech(rate, speech_dir), n, channels)
    ours = OpusEncoder(rate, channels, application=application, **controls)
    ref = opuslib_encoder(rate, channels, application, **controls)
    for i, frame in enumerate(frames):
        pcm = frame.tobytes()
        # opuslib caps every packet at len(pcm) bytes; the same cap keeps the oracle exact
        # at short frames, where that cap is below libopus's own maximum
        expected = ref.encode(pcm, n)
        assert ours.encode(pcm, max_packet_bytes=min(len(pcm), 7656)) == expected, i


@needs_opuslib
def test_default_cap_gives_the_same_packets_at_20ms(speech_dir):
    for rate in (48000, 16000):
        n = rate // 50
        ours = OpusEncoder(rate, 1, complexity=9)
        ref = opuslib_encoder(rate, 1, "voip", complexity=9)
        for frame in frames_of(speech(rate, speech_dir), n):
            assert ours.encode(frame) == ref.encode(frame.tobytes(), n)


@needs_opuslib
@pytest.mark.parametrize("enc_rate,enc_channels,dec_rate,dec_channels", [
    (48000, 1, 48000, 1), (16000, 1, 16000, 1), (48000, 2, 48000, 2),
    (48000, 1, 16000, 1), (16000, 1, 48000, 2), (48000, 2, 24000, 1), (8000, 1, 12000, 1),
])
def test_decoded_pcm_is_identical_to_opuslib(speech_dir, enc_rate, enc_channels, dec_rate,
                                             dec_channels):
    enc = OpusEncoder(enc_rate, enc_channels, bitrate=32000)
    packets = [enc.encode(f) for f in frames_of(speech(enc_rate, speech_dir), enc_rate // 50,
                                                enc_channels)]
    ours = OpusDecoder(dec_rate, dec_channels)
    ref = opuslib.Decoder(dec_rate, dec_channels)
    for i, p in enumerate(packets):
        got = ours.decode(p)
        assert len(got) == dec_rate // 50 * dec_channels * 2
        assert got == ref.decode(p, dec_rate // 50), i


@needs_opuslib
def test_plc_and_fec_are_identical_to_opuslib(speech_dir):
    rate, n = 16000, 320
    enc = OpusEncoder(rate, 1, bitrate=20000, inband_fec=True, packet_loss_perc=20)
    packets = [enc.encode(f) for f in frames_of(speech(rate, speech_dir), n)]
    ours, ref = OpusDecoder(rate, 1), opuslib.Decoder(rate, 1)
    for i, p in enumerate(packets):
        if i % 7 == 3:       # lost and recovered from the next packet's FEC
            assert ours.decode(packets[i + 1], fec=True) == \
                ref.decode(packets[i + 1], n, decode_fec=True), i
        elif i % 7 == 5:     # lost, concealed
            assert ours.decode(None) == ref.decode(b"", n), i
        else:
            assert ours.decode(p) == ref.decode(p, n), i


@needs_opuslib
def test_packet_info_agrees_with_libopus(speech_dir):
    cases = [(48000, 1, "voip", 20), (16000, 2, "audio", 60), (8000, 1, "voip", 120),
             (48000, 2, "restricted_lowdelay", 60), (48000, 1, "audio", 2.5)]
    for rate, channels, app, ms in cases:
        n = int(rate * ms / 1000)
        enc = OpusEncoder(rate, channels, application=app)
        for frame in frames_of(speech(rate, speech_dir), n, channels)[:10]:
            p = enc.encode(frame)
            info = voicedsp.opus_packet_info(p, 48000)
            assert info.n_frames == opuslib_packet.packet_get_nb_frames(p, len(p))
            # (opuslib's own packet_get_samples_per_frame calls the wrong libopus function)
            assert info.samples_per_frame == libopus().opus_packet_get_samples_per_frame(p, 48000)
            assert info.channels == opuslib_packet.packet_get_nb_channels(p) == channels
            assert info.n_samples == info.n_frames * info.samples_per_frame == ms * 48
            assert info.duration_ms == ms
            bw = opuslib_packet.packet_get_bandwidth(p)
            assert info.bandwidth == ["narrowband", "mediumband", "wideband", "superwideband",
                                      "fullband"][bw - 1101]
            assert info.mode == ("celt" if p[0] & 0x80 else
                                 "hybrid" if p[0] & 0x60 == 0x60 else "silk")
            if app == "restricted_lowdelay":
                assert info.mode == "celt"
            if rate == 8000:
                assert info.bandwidth == "narrowband" and info.bandwidth_hz == 4000
            at_rate = voicedsp.opus_packet_info(p, rate)
            assert at_rate.n_samples == n == OpusDecoder(rate, 1).packet_samples(p)


def test_build_info_reports_the_linked_libopus():
    info = voicedsp.build_info()
    assert re.fullmatch(r"libopus \d+\.\d+.*", info["libopus"])
    assert info["libopus"] == voicedsp.opus_version()
    # Ask the libopus this process really mapped for voicedsp (a repaired wheel's own copy
    # lives in voicedsp.libs/; an in-place build uses the system's) for its version.
    paths = _libopus_paths()
    if paths is None:
        pytest.skip("no /proc/self/maps to find the loaded libopus")
    ours = [p for p in paths if "voicedsp" in p] or sorted(paths)
    assert len(ours) == 1, paths
    lib = ctypes.CDLL(ours[0])
    lib.opus_get_version_string.restype = ctypes.c_char_p
    assert lib.opus_get_version_string().decode() == info["libopus"]


# --- loss: PLC and FEC do their job ------------------------------------------------------------

def test_fec_recovers_lost_frames_better_than_concealment(speech_dir):
    rate, n = 16000, 320
    enc = OpusEncoder(rate, 1, bitrate=24000, inband_fec=True, packet_loss_perc=25)
    packets = [enc.encode(f) for f in frames_of(speech(rate, speech_dir), n)]
    clean_dec = OpusDecoder(rate, 1)
    clean = [np.frombuffer(clean_dec.decode(p), np.int16) for p in packets]
    lost = set(range(5, len(packets) - 1, 6))

    def run(use_fec):
        dec, out = OpusDecoder(rate, 1), []
        for i, p in enumerate(packets):
            if i in lost:
                got = dec.decode(packets[i + 1], fec=True) if use_fec else dec.decode(None)
            else:
                got = dec.decode(p)
            out.append(np.frombuffer(got, np.int16))
        return out

    def error(out):
        return sum(float(np.sum((out[i].astype(float) - clean[i]) ** 2)) for i in lost)

    fec, plc = run(True), run(False)
    signal = sum(float(np.sum(clean[i].astype(float) ** 2)) for i in lost)
    assert error(fec) < 0.5 * error(plc), (error(fec), error(plc), signal)
    assert error(fec) < 0.5 * signal
    assert all(len(f) == n for f in fec + plc)


@pytest.mark.parametrize("rate,channels,ms", [(16000, 1, 20), (16000, 1, 60), (48000, 2, 20),
                                               (48000, 1, 10)])
def test_has_fec_tells_whether_fec_can_recover_the_previous_packet(speech_dir, rate, channels,
                                                                   ms):
    n = rate * ms // 1000
    frames = frames_of(speech(rate, speech_dir), n, channels)[:60]
    enc = OpusEncoder(rate, channels, inband_fec=True, packet_loss_perc=20,
                      bitrate=24000 * channels)
    packets = [enc.encode(f) for f in frames]
    flags = [voicedsp.opus_packet_info(p).has_fec for p in packets]
    assert sum(flags) > len(flags) // 2
    for i in range(1, len(packets)):
        # two decoders in the same state: FEC recovery vs plain concealment
        a, b = OpusDecoder(rate, channels), OpusDecoder(rate, channels)
        for p in packets[max(0, i - 3):i - 1]:
            a.decode(p)
            b.decode(p)
        recovered, concealed = a.decode(packets[i], fec=True), b.decode(None, n_samples=n)
        if flags[i]:
            assert recovered != concealed, i
        elif channels == 1 and rate == 16000:   # SILK-only: no FEC means concealment exactly
            assert recovered == concealed, i
    plain = OpusEncoder(rate, channels, bitrate=24000 * channels)
    assert not any(voicedsp.opus_packet_info(plain.encode(f)).has_fec for f in frames)
    celt = OpusEncoder(48000, 1, application="restricted_lowdelay")
    assert not voicedsp.opus_packet_info(celt.encode(np.ones(960, np.int16))).has_fec


def test_concealment_lengths_and_defaults():
    dec = OpusDecoder(16000, 2)
    assert len(dec.decode(None)) == 320 * 2 * 2          # nothing decoded yet: 20 ms
    enc = OpusEncoder(16000, 2)
    dec.decode(enc.encode(np.zeros(2 * 960, np.int16)))  # a 60 ms packet
    assert dec.last_packet_samples == 960
    assert len(dec.conceal()) == 960 * 4                 # defaults to the last duration
    assert len(dec.decode(None, n_samples=40)) == 40 * 4
    assert dec.last_packet_samples == 40
    for bad in (0, 39, 100, 1960, -40):
        with pytest.raises(voicedsp.FrameSizeError, match="multiple of 2.5 ms"):
            dec.conceal(bad)
    with pytest.raises(voicedsp.InvalidArgumentError, match="FEC needs the packet"):
        dec.decode(None, fec=True)


# --- bad packets -------------------------------------------------------------------------------

BAD_PACKETS = {
    "empty": b"",
    "code 3 without count": b"\x03",
    "code 3 zero frames": b"\x03\x00",
    "over 120 ms": b"\x1b\x31" + b"\x00" * 10,
    "code 2 length past the end": b"\x02\xff\x01",
    "code 1 odd payload": b"\x01\x00\x00\x00",
    "cbr code 3 not divisible": b"\x03\x03" + b"\x00" * 7,
}


@pytest.mark.parametrize("name", sorted(BAD_PACKETS))
def test_bad_packets_are_refused_and_leave_the_state_untouched(speech_dir, name):
    enc = OpusEncoder(48000, 1)
    packets = [enc.encode(f) for f in frames_of(speech(48000, speech_dir), 960)[:30]]
    dec, clean = OpusDecoder(48000, 1), OpusDecoder(48000, 1)
    for p in packets:
        with pytest.raises(voicedsp.CorruptPacketError) as info:
            dec.decode(BAD_PACKETS[name])
        assert isinstance(info.value, ValueError)
        assert "packet" in str(info.value) and "VDSP_ERR_CORRUPT_PACKET" in str(info.value)
        with pytest.raises(voicedsp.CorruptPacketError):
            voicedsp.opus_packet_info(BAD_PACKETS[name])
        with pytest.raises(voicedsp.CorruptPacketError):
            dec.decode(BAD_PACKETS[name], fec=True)
        assert dec.decode(p) == clean.decode(p)


def test_empty_packet_message_points_at_concealment():
    with pytest.raises(ValueError, match=r"empty packet.*decode\(None\)"):
        OpusDecoder(16000).decode(b"")


def test_truncated_packets_are_refused_or_decode_whole():
    # Opus framing can only catch some truncations (the last frame's length is implicit);
    # every cut must either be refused or decode to the packet's full duration.
    rng = np.random.default_rng(5)
    enc = OpusEncoder(48000, 1, application="restricted_lowdelay", bitrate=96000)
    p = enc.encode(rng.integers(-9000, 9000, 2880, dtype=np.int16))  # CELT 60 ms: 3 frames
    assert voicedsp.opus_packet_info(p).n_frames == 3 and p[0] & 3 == 3
    dec = OpusDecoder(48000, 1)
    refused = 0
    for cut in range(1, len(p)):
        try:
            assert len(dec.decode(p[:cut])) == 2880 * 2
        except voicedsp.CorruptPacketError:
            refused += 1
    assert refused >= len(p) // 3      # every cut before the last frame's first byte
    assert len(dec.decode(p)) == 2880 * 2


@settings(max_examples=400, deadline=None)
@given(packet=st.binary(min_size=0, max_size=300),
       rate=st.sampled_from(RATES), channels=st.sampled_from([1, 2]), fec=st.booleans())
def test_random_bytes_never_crash_and_the_decoder_stays_usable(packet, rate, channels, fec):
    dec = OpusDecoder(rate, channels)
    try:
        out = dec.decode(packet, fec=fec)
    except voicedsp.CorruptPacketError:
        with pytest.raises(voicedsp.CorruptPacketError):
            voicedsp.opus_packet_info(packet, rate)
    else:
        info = voicedsp.opus_packet_info(packet, rate)
        assert len(out) == info.n_samples * channels * 2
    # still usable: a real packet decodes to its full length
    good = OpusEncoder(rate, 1).encode(np.zeros(rate // 50, np.int16))
    assert len(dec.decode(good)) == rate // 50 * channels * 2
    assert len(dec.decode(None)) == dec.last_packet_samples * channels * 2


# --- arguments ---------------------------------------------------------------------------------

@pytest.mark.parametrize("cls", [OpusEncoder, OpusDecoder])
@pytest.mark.parametrize("rate", [0, 11025, 22050, 32000, 44100, 96000, -8000])
def test_unsupported_rates_name_the_legal_ones(cls, rate):
    with pytest.raises(voicedsp.UnsupportedRateError,
                       match="8000, 12000, 16000, 24000, 48000") as info:
        cls(rate, 1)
    assert isinstance(info.value, ValueError) and str(rate) in str(info.value)


@pytest.mark.parametrize("cls", [OpusEncoder, OpusDecoder])
@pytest.mark.parametrize("channels", [0, 3, 6, -1])
def test_bad_channel_counts_are_refused(cls, channels):
    with pytest.raises(voicedsp.InvalidArgumentError, match="1 or 2"):
        cls(48000, channels)


def test_bad_application_names_the_legal_ones():
    with pytest.raises(ValueError, match="'voip', 'audio', 'restricted_lowdelay'"):
        OpusEncoder(48000, 1, application="speech")


@pytest.mark.parametrize("rate", RATES)
def test_every_legal_frame_duration_encodes_and_others_are_refused(rate):
    enc = OpusEncoder(rate, 2)
    legal = [int(rate * ms / 1000) for ms in (2.5, 5, 10, 20, 40, 60, 80, 100, 120)]
    dec = OpusDecoder(rate, 2)
    for n in legal:
        p = enc.encode(np.zeros(2 * n, np.int16))
        assert len(dec.decode(p)) == n * 4
    for n in (1, legal[0] - 1, legal[3] + 2, rate * 3 // 100, legal[-1] + legal[0], 0):
        with pytest.raises(voicedsp.FrameSizeError) as info:
            enc.encode(np.zeros(2 * n, np.int16))
        assert isinstance(info.value, ValueError)
        msg = str(info.value)
        assert f"{n} samples per channel" in msg and f"{legal[3]} (20 ms)" in msg
        assert f"{legal[0]} (2.5 ms)" in msg and f"{legal[-1]} (120 ms)" in msg


def test_stereo_input_must_hold_whole_sample_pairs():
    with pytest.raises(voicedsp.FrameSizeError, match="whole number of 2-channel"):
        OpusEncoder(48000, 2).encode(np.zeros(1921, np.int16))
    with pytest.raises(voicedsp.FrameSizeError, match="odd byte count"):
        OpusEncoder(48000, 1).encode(b"\x00" * 1919)


def test_pcm_input_forms():
    rng = np.random.default_rng(3)
    pcm = rng.integers(-8000, 8000, 960, dtype=np.int16)
    expected = OpusEncoder(48000).encode(pcm.tobytes())
    for form in (pcm, pcm.tobytes(), bytearray(pcm.tobytes()), memoryview(pcm.tobytes()),
                 memoryview(pcm)):
        assert OpusEncoder(48000).encode(form) == expected
    # a slice at an odd byte offset is still decoded right (copied to aligned memory)
    shifted = bytearray(1) + bytearray(pcm.tobytes())
    assert OpusEncoder(48000).encode(memoryview(shifted)[1:]) == expected
    with pytest.raises(voicedsp.InvalidTypeError, match="float32"):
        OpusEncoder(48000).encode(pcm.astype(np.float32))
    with pytest.raises(TypeError):
        OpusEncoder(48000).encode("not audio")
    with pytest.raises(voicedsp.InvalidArgumentError, match="C-contiguous"):
        OpusEncoder(48000).encode(np.repeat(pcm, 2)[::2])
    with pytest.raises(voicedsp.InvalidArgumentError, match="max_packet_bytes"):
        OpusEncoder(48000).encode(pcm, max_packet_bytes=2)
    small = OpusEncoder(48000, bitrate=128000).encode(pcm, max_packet_bytes=40)
    assert 3 <= len(small) <= 40


def test_decode_output_forms():
    enc = OpusEncoder(16000, 2)
    packets = [enc.encode(np.full(640, 1000 * i, np.int16)) for i in range(4)]
    ref = OpusDecoder(16000, 2)
    expected = [ref.decode(p) for p in packets] + [ref.decode(None)]
    dec = OpusDecoder(16000, 2)
    arr = dec.decode(bytearray(packets[0]), as_numpy=True)
    assert arr.dtype == np.int16 and arr.tobytes() == expected[0]
    out = np.zeros(1000, np.int16)
    assert dec.decode(memoryview(packets[1]), out) == 320
    assert out[:640].tobytes() == expected[1] and not out[640:].any()
    odd = bytearray(641 * 2 + 1)     # an out= at an odd address
    assert dec.decode(packets[2], memoryview(odd)[1:]) == 320
    assert bytes(odd[1:1281]) == expected[2]
    with pytest.raises(voicedsp.BufferTooSmallError):
        dec.decode(packets[3], np.zeros(639, np.int16))
    assert dec.decode(packets[3]) == expected[3]        # the refusal consumed nothing
    assert dec.decode(None, bytearray(1280)) == 320
    with pytest.raises(voicedsp.InvalidArgumentError, match="n_samples"):
        dec.decode(packets[0], n_samples=160)
    with pytest.raises(TypeError):
        dec.decode(np.zeros(4, np.int16))


def test_encoder_controls_read_back_and_refuse_bad_values():
    enc = OpusEncoder(48000, 1, bitrate=24000, complexity=5, vbr=False, inband_fec=True,
                      packet_loss_perc=10, dtx=True)
    assert (enc.bitrate, enc.complexity, enc.vbr, enc.inband_fec, enc.packet_loss_perc,
            enc.dtx) == (24000, 5, False, True, 10, True)
    enc.bitrate, enc.complexity, enc.vbr, enc.inband_fec = 64000, 10, True, False
    enc.packet_loss_perc, enc.dtx = 0, False
    assert (enc.bitrate, enc.complexity, enc.vbr, enc.inband_fec, enc.packet_loss_perc,
            enc.dtx) == (64000, 10, True, False, 0, False)
    enc.bitrate = "max"
    assert enc.bitrate > 64000
    enc.bitrate = "auto"
    assert 0 < enc.bitrate < 300000
    assert enc.sample_rate_hz == 48000 and enc.channels == 1 and enc.application == "voip"
    assert enc.latency == 312 and OpusEncoder(16000).latency == 104
    assert OpusEncoder(48000, application="restricted_lowdelay").latency == 120
    for name, bad, words in [("bitrate", 100, "500..512000"), ("bitrate", -1, "500..512000"),
                             ("bitrate", "fast", "expected an int"),
                             ("complexity", 11, "0..10"), ("complexity", -1, "0..10"),
                             ("packet_loss_perc", 101, "0..100"), ("vbr", 2, "True or False"),
                             ("dtx", "yes", "True or False"), ("complexity", 5.5, "int")]:
        before = getattr(enc, name)
        with pytest.raises((ValueError, TypeError), match=re.escape(words)):
            setattr(enc, name, bad)
        assert getattr(enc, name) == before
    with pytest.raises(ValueError, match="0..10"):
        OpusEncoder(16000, complexity=12)


def test_reset_restores_the_fresh_state(speech_dir):
    frames = frames_of(speech(16000, speech_dir), 320)[:20]
    enc, dec = OpusEncoder(16000, complexity=6), OpusDecoder(16000)
    first = [enc.encode(f) for f in frames]
    pcm = [dec.decode(p) for p in first]
    enc.reset()
    dec.reset()
    assert [enc.encode(f) for f in frames] == first and enc.complexity == 6
    assert [dec.decode(p) for p in first] == pcm


# --- threads and lifecycle ---------------------------------------------------------------------

def test_threads_with_their_own_codecs_match_one_thread(speech_dir):
    pcm = speech(48000, speech_dir)
    configs = [(48000, 1, 9), (48000, 1, 5), (16000, 1, 9), (24000, 2, 7)]

    def work(cfg):
        rate, channels, complexity = cfg
        src = np.ascontiguousarray(pcm[::48000 // rate])
        enc = OpusEncoder(rate, channels, complexity=complexity)
        dec = OpusDecoder(rate, channels)
        packets = [enc.encode(f) for f in frames_of(src, rate // 50, channels)]
        return packets, [dec.decode(p) for p in packets]

    expected = [work(c) for c in configs]
    results = [None] * (2 * len(configs))

    def run(i):
        results[i] = work(configs[i % len(configs)])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(results))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, r in enumerate(results):
        assert r == expected[i % len(configs)], i


@pytest.mark.parametrize("which", ["encoder", "decoder"])
def test_calls_release_the_gil_and_one_codec_refuses_two_threads(which):
    # A worker thread calls the codec in a loop; the main thread calls the same codec. The
    # main thread can only ever find it busy (StateError) if it got to run Python while the
    # worker was inside the C call, i.e. if the call released the GIL. Unlike a timing test,
    # a loaded machine can only make this slower, not wrong.
    rng = np.random.default_rng(0)
    pcm = rng.integers(-8000, 8000, 5760 * 2, dtype=np.int16)     # 120 ms stereo
    enc = OpusEncoder(48000, 2, application="audio", complexity=10, bitrate=256000)
    if which == "encoder":
        call = lambda: enc.encode(pcm)  # noqa: E731
    else:
        packet = enc.encode(pcm)
        dec = OpusDecoder(48000, 2)
        call = lambda: dec.decode(packet)  # noqa: E731
    stop = threading.Event()

    def worker():
        while not stop.is_set():
            try:
                call()
            except voicedsp.StateError:
                pass

    th = threading.Thread(target=worker)
    th.start()
    refused = None
    try:
        deadline = time.monotonic() + 20
        while refused is None and time.monotonic() < deadline:
            try:
                call()
            except voicedsp.StateError as exc:
                refused = exc
    finally:
        stop.set()
        th.join()
    assert refused is not None, "never saw the codec busy: the call holds the GIL"
    assert isinstance(refused, RuntimeError) and "one " + which in str(refused)
    assert len(call()) > 0     # still usable afterwards


def _rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def test_create_and_destroy_does_not_leak():
    try:
        _rss_bytes()
        with open("/proc/self/maps") as f:
            if "libasan" in f.read():
                pytest.skip("AddressSanitizer quarantines freed memory: RSS says nothing")
    except OSError:
        pytest.skip("no /proc/self/statm")
    frame = np.zeros(960 * 2, np.int16)
    for _ in range(200):   # warm up allocator pools
        OpusDecoder(48000, 2).decode(OpusEncoder(48000, 2).encode(frame))
    before = _rss_bytes()
    for _ in range(3000):  # each pair holds ~50 KB: a leak would add ~150 MB
        OpusDecoder(48000, 2).decode(OpusEncoder(48000, 2).encode(frame))
    assert _rss_bytes() - before < 20 * 2**20
