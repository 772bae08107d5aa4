"""The one seam between the call platform and the per-call media engine.

The platform only ever talks to a bridge through the MediaBridge contract (uplink, downlink,
push_model_audio, push_preroll, mark/ack_mark, clear, heard_ms, queued_ms, stats, add_tap,
close). :func:`make_bridge` returns the native ``voicedsp.MediaBridge`` when the package has
it, else :class:`InterimBridge`, a plain Python stand-in. ``TurnDetection`` likewise resolves
to ``voicedsp.TurnDetection`` when present.

Codec helpers here (:func:`decode_pcm`, :func:`encode_pcm`, :func:`resample`) serve the
transports (audio-bridge taps, the simulated phone, the local model), not the bridge.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import wave
from collections import deque
from typing import Any, Callable, Optional

import numpy as np

import voicedsp
from voicedsp.errors import InvalidArgumentError, InvalidTypeError

__all__ = ["make_bridge", "InterimBridge", "TurnDetection", "TurnEvent", "native_bridge",
           "event_dict", "decode_pcm", "encode_pcm", "resample", "CODECS", "live_bridges"]

CODECS = ("pcm16", "g711_ulaw", "g711_alaw", "opus")
_G711_RATE = 8000


def native_bridge() -> bool:
    """True when ``voicedsp.MediaBridge`` (the C bridge) is available."""
    return hasattr(voicedsp, "MediaBridge")


# -- turn detection knobs --------------------------------------------------------------------

if "TurnDetection" in vars(voicedsp):
    TurnDetection = voicedsp.TurnDetection  # type: ignore[misc]
else:
    @dataclasses.dataclass(frozen=True)
    class TurnDetection:  # type: ignore[no-redef]
        """INTERIM turn-detection knobs (same names and defaults as ``voicedsp.TurnDetection``,
        which replaces this class when the turn-taking component is merged).

        Times in milliseconds: ``silence_threshold_ms`` trailing silence that ends a turn;
        ``response_min_speech_ms`` shorter speech is a backchannel; ``commit_min_interval_ms``
        minimum gap between commits; ``barge_confirm_ms`` sustained speech needed to confirm
        a barge-in; ``instant_barge`` fire on the first speech frame (echo-cancelled legs);
        ``mic_guard_ms`` uplink ignored this long after agent audio stops (no-AEC legs);
        ``prefix_padding_ms`` audio before onset that belongs to the turn.
        """

        silence_threshold_ms: int = 500
        response_min_speech_ms: int = 600
        commit_min_interval_ms: int = 1500
        barge_confirm_ms: int = 300
        instant_barge: bool = False
        mic_guard_ms: int = 0
        prefix_padding_ms: int = 300
        vad_threshold_db: float = 3.0
        vad_release_db: float = 1.0
        echo_gating: bool = True
        echo_max_delay_ms: int = 300

        def __post_init__(self) -> None:
            for f in dataclasses.fields(self):
                v = getattr(self, f.name)
                if f.type in ("int", int) and (isinstance(v, bool) or not isinstance(v, int)):
                    raise InvalidTypeError(f"{f.name}: expected an int, got {v!r}")
                if isinstance(v, (int, float)) and not isinstance(v, bool) and v < 0:
                    raise InvalidArgumentError(f"{f.name}: {v} must not be negative")

        def replace(self, **changes):
            return dataclasses.replace(self, **changes)

        def as_dict(self) -> dict:
            return dataclasses.asdict(self)


def turn_detection_from(obj: Any):
    """A TurnDetection from None, a TurnDetection, or a dict of knobs."""
    if obj is None:
        return TurnDetection()
    if isinstance(obj, dict):
        return TurnDetection(**obj)
    return obj


def turn_detection_dict(td: Any) -> dict:
    if td is None:
        return {}
    if isinstance(td, dict):
        return dict(td)
    if hasattr(td, "as_dict"):
        return td.as_dict()
    return dataclasses.asdict(td)


# -- events ----------------------------------------------------------------------------------

@dataclasses.dataclass
class TurnEvent:
    """INTERIM turn event (the C bridge has its own ``TurnEvent`` with these attributes)."""

    type: str
    t_ms: float
    ref_ms: float = 0.0
    start_ms: float = 0.0
    item_id: Optional[str] = None
    heard_ms: float = 0.0
    speech_ms: float = 0.0

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


_EVENT_FIELDS = ("t_ms", "ref_ms", "start_ms", "item_id", "heard_ms", "speech_ms")


def event_dict(ev: Any) -> dict:
    """A plain dict of a bridge event (native or interim), for JSON and subscribers:
    ``type`` plus whichever of the contract's attributes the event has."""
    d = {"type": str(ev.type)}
    for k in _EVENT_FIELDS:
        v = getattr(ev, k, None)
        if v is not None:
            d[k] = v
    return d


# -- codec helpers (transport side) ----------------------------------------------------------

def decode_pcm(payload: bytes, codec: str) -> bytes:
    """Codec bytes -> int16 PCM bytes (G.711 or pcm16; opus is not handled here)."""
    if codec == "pcm16":
        return bytes(payload)
    if codec == "g711_ulaw":
        return voicedsp.ulaw_decode(payload)
    if codec == "g711_alaw":
        return voicedsp.alaw_decode(payload)
    raise InvalidArgumentError(f"codec {codec!r} is not supported here (pcm16, g711_ulaw, "
                               "g711_alaw)")


def encode_pcm(pcm: bytes, codec: str) -> bytes:
    """int16 PCM bytes -> codec bytes (G.711 or pcm16)."""
    if codec == "pcm16":
        return bytes(pcm)
    if codec == "g711_ulaw":
        return voicedsp.ulaw_encode(pcm)
    if codec == "g711_alaw":
        return voicedsp.alaw_encode(pcm)
    raise InvalidArgumentError(f"codec {codec!r} is not supported here (pcm16, g711_ulaw, "
                               "g711_alaw)")


class OpusCodec:
    """One Opus encoder + decoder pair (mono, 20 ms packets) for transports and the interim
    bridge: ``voicedsp.OpusEncoder/OpusDecoder`` when the package has them, else ``opuslib``.

    ``decode(None)`` conceals a lost packet; a corrupt packet raises ``ValueError``."""

    def __init__(self, rate_hz: int = 48000, frame_ms: int = 20) -> None:
        self.rate_hz, self.spf = rate_hz, rate_hz * frame_ms // 1000
        if "OpusEncoder" in vars(voicedsp):
            self._enc = voicedsp.OpusEncoder(rate_hz, 1, application="voip")
            self._dec = voicedsp.OpusDecoder(rate_hz, 1)
            self._native = True
        else:
            try:
                import opuslib
            except ImportError as exc:
                raise InvalidArgumentError("opus needs voicedsp.OpusEncoder/OpusDecoder or "
                                           "the opuslib package") from exc
            self._enc = opuslib.Encoder(rate_hz, 1, "voip")
            self._dec = opuslib.Decoder(rate_hz, 1)
            self._native = False

    def encode(self, pcm: bytes) -> bytes:
        if self._native:
            return self._enc.encode(pcm)
        return self._enc.encode(bytes(pcm), len(pcm) // 2)

    def decode(self, packet) -> bytes:
        if self._native:
            if packet is None:
                return self._dec.conceal(self.spf)
            return self._dec.decode(packet)
        try:
            return self._dec.decode(b"" if packet is None else bytes(packet), self.spf)
        except Exception as exc:  # opuslib.OpusError
            raise InvalidArgumentError(f"corrupt Opus packet: {exc}") from exc


def resample(pcm: bytes, rate_in: int, rate_out: int) -> bytes:
    """Resample int16 PCM bytes (whole clip, linear interpolation; transport-side helper)."""
    if rate_in == rate_out or not pcm:
        return bytes(pcm)
    x = np.frombuffer(pcm, dtype=np.int16).astype(np.float32)
    n_out = int(round(len(x) * rate_out / rate_in))
    if rate_out < rate_in:
        # crude anti-alias: moving average over the decimation ratio
        k = max(1, int(round(rate_in / rate_out)))
        if k > 1:
            x = np.convolve(x, np.ones(k, dtype=np.float32) / k, mode="same")
    t = np.arange(n_out, dtype=np.float64) * (rate_in / rate_out)
    y = np.interp(t, np.arange(len(x)), x)
    return np.clip(np.round(y), -32768, 32767).astype(np.int16).tobytes()


class _StreamResampler:
    """Stateful linear-interpolation resampler: continuous across chunks, and exactly
    ``n_in * rate_out / rate_in`` samples out in total (so 20 ms in gives 20 ms out)."""

    def __init__(self, rate_in: int, rate_out: int) -> None:
        self.rate_in, self.rate_out = rate_in, rate_out
        self._n_in = 0
        self._n_out = 0
        self._prev: Optional[np.ndarray] = None

    def process(self, pcm: bytes) -> bytes:
        if self.rate_in == self.rate_out or not pcm:
            return bytes(pcm)
        new = np.frombuffer(pcm, dtype=np.int16).astype(np.float32)
        if self._prev is None:
            x, base = new, 0
        else:
            x, base = np.concatenate([self._prev, new]), self._n_in - 1
        self._n_in += len(new)
        target = self._n_in * self.rate_out // self.rate_in
        t = np.arange(self._n_out, target, dtype=np.float64) * (self.rate_in / self.rate_out)
        # positions past the last input sample hold it (np.interp clamps): at most one sample
        y = np.interp(t, base + np.arange(len(x)), x)
        self._n_out = target
        self._prev = new[-1:]
        return np.clip(np.round(y), -32768, 32767).astype(np.int16).tobytes()


def _rms_dbfs(pcm: bytes) -> float:
    x = np.frombuffer(pcm, dtype=np.int16).astype(np.float32)
    if not len(x):
        return -120.0
    ms = float(np.mean(x * x))
    return 10.0 * math.log10(ms / (32768.0 * 32768.0)) if ms > 0 else -120.0


# -- bridge registry (leak checks) -----------------------------------------------------------

_live_lock = threading.Lock()
_live: dict = {}            # id -> bridge, from make_bridge until close_bridge


def live_bridges() -> int:
    """How many bridges made by :func:`make_bridge` are not closed yet."""
    return len(_live)


def make_bridge(caller_codec: str, caller_rate_hz: int, model_codec: str,
                model_input_rate_hz: int, model_output_rate_hz: int, **kwargs):
    """A per-call media bridge: ``voicedsp.MediaBridge`` if available, else InterimBridge.

    Arguments follow the MediaBridge contract. Release it with :func:`close_bridge`.
    """
    cls = getattr(voicedsp, "MediaBridge", None) or InterimBridge
    bridge = cls(caller_codec, caller_rate_hz, model_codec, model_input_rate_hz,
                 model_output_rate_hz, **kwargs)
    with _live_lock:
        _live[id(bridge)] = bridge
    return bridge


def close_bridge(bridge) -> None:
    """Close a bridge made by :func:`make_bridge` (idempotent)."""
    if bridge is None:
        return
    with _live_lock:
        known = _live.pop(id(bridge), None) is bridge
    if known:
        close = getattr(bridge, "close", None)
        if close is not None:
            close()


# -- the interim bridge ----------------------------------------------------------------------

class InterimBridge:
    """INTERIM pure-Python stand-in for ``voicedsp.MediaBridge`` (issue 6).

    Implements the MediaBridge Python contract simply, so the platform can be built and
    tested before the C bridge lands; :func:`make_bridge` prefers the C bridge as soon as
    ``voicedsp.MediaBridge`` exists. Simplifications: linear-interpolation resampling, an
    energy-threshold VAD on the caller leg (no echo gating), G.711/pcm16 only (no Opus), and
    playout counted from the frames handed out by :meth:`downlink`. Not for production.
    """

    def __init__(self, caller_codec: str = "g711_ulaw", caller_rate_hz: int = 8000,
                 model_codec: str = "pcm16", model_input_rate_hz: int = 16000,
                 model_output_rate_hz: int = 24000, *, frame_ms: int = 20,
                 turn_detection: Any = None, hold_and_resume: bool = False,
                 max_queue_ms: int = 120000, **_ignored: Any) -> None:
        if caller_codec not in CODECS:
            raise InvalidArgumentError(f"caller_codec={caller_codec!r}: one of {CODECS}")
        if model_codec not in ("pcm16", "g711_ulaw", "g711_alaw"):
            raise InvalidArgumentError(f"model_codec={model_codec!r}: the interim bridge "
                                       "supports pcm16, g711_ulaw, g711_alaw")
        if frame_ms not in (10, 20, 30, 40, 60):
            raise InvalidArgumentError(f"frame_ms={frame_ms}: expected 10, 20, 30, 40 or 60")
        if caller_codec.startswith("g711"):
            caller_rate_hz = _G711_RATE
        if model_codec.startswith("g711"):
            model_input_rate_hz = model_output_rate_hz = _G711_RATE
        self.caller_codec, self.model_codec = caller_codec, model_codec
        self.caller_rate_hz = int(caller_rate_hz)
        self.model_input_rate_hz = int(model_input_rate_hz)
        self.model_output_rate_hz = int(model_output_rate_hz)
        self.frame_ms = frame_ms
        self.hold_and_resume = hold_and_resume
        self.turn_detection = turn_detection_from(turn_detection)
        self.max_queue_ms = max_queue_ms
        self._spf = self.caller_rate_hz * frame_ms // 1000
        self._fbytes = self._spf * (1 if caller_codec.startswith("g711") else 2)
        self._opus = OpusCodec(self.caller_rate_hz, frame_ms) if caller_codec == "opus" \
            else None
        self._up_rs = _StreamResampler(self.caller_rate_hz, self.model_input_rate_hz)
        self._down_rs = _StreamResampler(self.model_output_rate_hz, self.caller_rate_hz)
        self._silence = encode_pcm(bytes(2 * self._spf), caller_codec) \
            if self._opus is None else None
        # playout queue: deque of [pcm bytes at caller rate, item_id]
        self._q: deque = deque()
        self._q_samples = 0
        self._played: dict = {}        # item_id -> samples handed out
        self._current: Optional[str] = None
        self._out_samples = 0
        self._marks: dict = {}
        self._paused = False
        self._taps = {"uplink": [], "downlink": []}
        self._rec = {"uplink": None, "downlink": None}
        self._stats = {"frames_in": 0, "frames_out": 0, "bad_frames": 0, "concealed": 0,
                       "silence_frames_out": 0, "marks_sent": 0, "marks_acked": 0,
                       "unknown_marks": 0, "cleared_ms": 0.0, "events": 0}
        # turn state
        self._t_ms = 0.0
        self._agent_last_ms = -1e9     # end of the last audible agent frame (uplink clock)
        self._in_speech = False
        self._speech_run = 0           # frames of speech in the current segment
        self._silence_run = 0
        self._turn_active = False
        self._turn_speech_ms = 0.0
        self._turn_onset = 0.0
        self._last_speech_end = 0.0
        self._last_commit = -1e9
        self._pending_commit = False
        self._candidate: Optional[float] = None
        self._echo_ratio = -15.0       # uplink echo level re the downlink, dB (learnt)
        self._down_db: deque = deque(maxlen=max(1, int(getattr(
            self.turn_detection, "echo_max_delay_ms", 300)) // frame_ms + 1))
        self._closed = False

    # -- properties
    @property
    def caller_frame_bytes(self) -> int:
        return self._fbytes

    @property
    def caller_frame_samples(self) -> int:
        return self._spf

    @property
    def queued_ms(self) -> float:
        return 1000.0 * self._q_samples / self.caller_rate_hz

    @property
    def current_item_id(self) -> Optional[str]:
        return self._current

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def stats(self) -> dict:
        d = dict(self._stats)
        d["queued_ms"] = self.queued_ms
        return d

    # -- uplink
    def uplink(self, frame):
        self._check_open()
        if self._opus is not None:
            pcm = self._opus_in(frame)
        else:
            if frame is None:
                self._stats["concealed"] += 1
                frame = self._silence
            mv = memoryview(frame).cast("B")
            if len(mv) != self._fbytes:
                self._stats["bad_frames"] += 1
                raise InvalidArgumentError(f"uplink frame is {len(mv)} bytes; expected "
                                           f"{self._fbytes} ({self.caller_codec}, "
                                           f"{self.frame_ms} ms)")
            pcm = decode_pcm(bytes(mv), self.caller_codec)
        self._stats["frames_in"] += 1
        for cb in self._taps["uplink"]:
            cb(pcm, self.caller_rate_hz)
        if self._rec["uplink"] is not None:
            self._rec["uplink"].writeframes(pcm)
        model_pcm = self._up_rs.process(pcm)
        audio = encode_pcm(model_pcm, self.model_codec) if self.model_codec != "pcm16" \
            else model_pcm
        events = self._turn(pcm)
        self._stats["events"] += len(events)
        return audio, tuple(events)

    def _opus_in(self, packet) -> bytes:
        try:
            pcm = self._opus.decode(packet)
            if packet is None:
                self._stats["concealed"] += 1
        except ValueError:
            self._stats["concealed"] += 1
            self._stats["bad_frames"] += 1
            pcm = self._opus.decode(None)
        if len(pcm) != 2 * self._spf:        # a packet of another duration: fit the frame
            pcm = (pcm + bytes(2 * self._spf))[: 2 * self._spf]
        return pcm

    def _speechy(self, pcm: bytes) -> bool:
        td = self.turn_detection
        if self._t_ms - self._agent_last_ms < getattr(td, "mic_guard_ms", 0) \
                and self._t_ms - self._agent_last_ms > self.frame_ms:
            return False
        # fixed threshold over a digital-silence floor: -45 dBFS + the sensitivity knob
        level = _rms_dbfs(pcm)
        floor = -48.0 + float(getattr(td, "vad_threshold_db", 3.0))
        down = max(self._down_db) if self._down_db else -120.0
        gating = getattr(td, "echo_gating", True) and down > -100.0
        if level <= floor:
            if gating and down > -40.0:
                # the agent is loud and the microphone hears nothing: evidence of no echo
                self._echo_ratio = max(-60.0, self._echo_ratio - 0.3)
            return False
        if gating:
            # crude echo gate for legs with no echo canceller: the uplink level of the agent's
            # echo relative to the loudest recent downlink frame is learnt from frames judged
            # to be echo (peak-tracking, decaying 15 dB/s while the microphone is quiet or
            # the caller talks, capped at -10 dB so a caller
            # talking as loud as the agent always passes); uplink energy up to 6 dB above
            # that estimate is echo
            if level < down + self._echo_ratio + 6.0:
                self._echo_ratio = min(-10.0, max(level - down, self._echo_ratio - 0.3))
                return False
            self._echo_ratio = max(-60.0, self._echo_ratio - 0.3)
        return True

    def _turn(self, pcm: bytes) -> list:
        td = self.turn_detection
        fm = self.frame_ms
        t0 = self._t_ms
        self._t_ms += fm
        t = self._t_ms
        ev: list = []
        speech = self._speechy(pcm)
        agent_audible = (t0 - self._agent_last_ms) <= fm * 1.5 or (
            self._paused and self._q_samples > 0)
        if speech:
            self._silence_run = 0
            self._speech_run += 1
            if not self._in_speech:
                self._in_speech = True
                ev.append(TurnEvent("speech_start", t, ref_ms=t0, start_ms=t0))
                if not self._turn_active:
                    self._turn_active = True
                    self._turn_speech_ms = 0.0
                    self._turn_onset = t0
                if agent_audible and self._candidate is None:
                    if td.instant_barge:
                        ev.append(self._barge(t))
                    else:
                        self._candidate = t0
                        ev.append(TurnEvent("barge_candidate", t, ref_ms=t0, start_ms=t0,
                                            item_id=self._current))
                        if self.hold_and_resume:
                            self._paused = True
            self._turn_speech_ms += fm
            self._last_speech_end = t
            if self._candidate is not None and t - self._candidate >= td.barge_confirm_ms:
                ev.append(self._barge(t))
        else:
            self._silence_run += 1
            # hangover: pauses between words (up to ~160 ms) stay inside one speech segment
            if self._in_speech and self._silence_run * fm >= 160:
                self._in_speech = False
                self._speech_run = 0
                ev.append(TurnEvent("speech_end", t, ref_ms=self._last_speech_end,
                                    start_ms=self._last_speech_end))
                if self._candidate is not None:
                    ev.append(TurnEvent("barge_rejected", t, ref_ms=self._candidate,
                                        start_ms=self._candidate, item_id=self._current))
                    self._candidate = None
                    self._paused = False
            if self._turn_active and t - self._last_speech_end >= td.silence_threshold_ms:
                start = max(0.0, self._turn_onset - td.prefix_padding_ms)
                if self._turn_speech_ms < td.response_min_speech_ms:
                    ev.append(TurnEvent("backchannel", t, ref_ms=self._last_speech_end,
                                        start_ms=start, speech_ms=self._turn_speech_ms))
                    self._turn_active = False
                elif t - self._last_commit >= td.commit_min_interval_ms:
                    ev.append(TurnEvent("turn_commit", t, ref_ms=self._last_speech_end,
                                        start_ms=start, speech_ms=self._turn_speech_ms))
                    self._turn_active = False
                    self._last_commit = t
        return ev

    def _barge(self, t: float) -> TurnEvent:
        item = self._current
        heard = self.heard_ms(item) if item is not None else 0.0
        ref = self._candidate if self._candidate is not None else t - self.frame_ms
        self._candidate = None
        self._paused = False
        self.clear()
        self._agent_last_ms = -1e9
        return TurnEvent("barge_in", t, ref_ms=ref, start_ms=ref, item_id=item, heard_ms=heard)

    # -- downlink
    def push_model_audio(self, chunk, item_id: Optional[str] = None) -> float:
        self._check_open()
        data = bytes(memoryview(chunk).cast("B"))
        if self.model_codec == "pcm16" and len(data) % 2:
            raise InvalidArgumentError(f"pcm16 model audio has an odd byte count ({len(data)})")
        pcm = decode_pcm(data, self.model_codec)
        return self._enqueue(self._down_rs.process(pcm), item_id)

    def push_preroll(self, clip, codec: str = "pcm16", rate_hz: int = 16000,
                     item_id: str = "preroll") -> float:
        self._check_open()
        pcm = decode_pcm(bytes(memoryview(clip).cast("B")), codec)
        if codec.startswith("g711"):
            rate_hz = _G711_RATE
        return self._enqueue(resample(pcm, rate_hz, self.caller_rate_hz), item_id)

    def _enqueue(self, pcm: bytes, item_id: Optional[str]) -> float:
        if not pcm:
            return 0.0
        n = len(pcm) // 2
        room = int(self.max_queue_ms * self.caller_rate_hz / 1000) - self._q_samples
        if room <= 0:
            self._stats["bad_frames"] += 1
            return 0.0
        pcm = pcm[: 2 * room]
        n = len(pcm) // 2
        self._q.append([pcm, item_id])
        self._q_samples += n
        return 1000.0 * n / self.caller_rate_hz

    def downlink(self):
        self._check_open()
        self._stats["frames_out"] += 1
        need = self._spf
        if self._paused or not self._q:
            self._stats["silence_frames_out"] += 1
            pcm = bytes(2 * need)
            out = self._silence if self._opus is None else self._opus.encode(pcm)
            silent = True
        else:
            parts = []
            while need and self._q:
                head = self._q[0]
                take = min(need, len(head[0]) // 2)
                parts.append(head[0][: 2 * take])
                item = head[1]
                if item != self._current:
                    self._current = item
                self._played[item] = self._played.get(item, 0) + take
                head[0] = head[0][2 * take:]
                if not head[0]:
                    self._q.popleft()
                need -= take
                self._q_samples -= take
            if need:
                parts.append(bytes(2 * need))
            pcm = b"".join(parts)
            out = encode_pcm(pcm, self.caller_codec) if self._opus is None \
                else self._opus.encode(pcm)
            self._agent_last_ms = self._t_ms
            silent = False
        self._out_samples += self._spf
        self._down_db.append(-120.0 if silent else _rms_dbfs(pcm))
        for cb in self._taps["downlink"]:
            cb(pcm, self.caller_rate_hz)
        if self._rec["downlink"] is not None:
            self._rec["downlink"].writeframes(pcm)
        return out

    def mark(self, name) -> None:
        self._marks[name] = self._out_samples
        self._stats["marks_sent"] += 1

    def ack_mark(self, name) -> bool:
        if self._marks.pop(name, None) is None:
            self._stats["unknown_marks"] += 1
            return False
        self._stats["marks_acked"] += 1
        return True

    def clear(self) -> float:
        ms = self.queued_ms
        self._q.clear()
        self._q_samples = 0
        self._paused = False
        self._stats["cleared_ms"] += ms
        return ms

    def heard_ms(self, item_id: Optional[str] = None) -> float:
        item = self._current if item_id is None else item_id
        return 1000.0 * self._played.get(item, 0) / self.caller_rate_hz

    # -- taps
    def add_tap(self, callback: Callable[[bytes, int], Any], direction: str = "uplink") -> None:
        if direction not in self._taps:
            raise InvalidArgumentError(f"direction={direction!r}: 'uplink' or 'downlink'")
        self._taps[direction].append(callback)

    def remove_tap(self, callback, direction: str = "uplink") -> None:
        try:
            self._taps[direction].remove(callback)
        except (KeyError, ValueError):
            pass

    def record(self, uplink_wav=None, downlink_wav=None) -> None:
        for d, path in (("uplink", uplink_wav), ("downlink", downlink_wav)):
            if self._rec[d] is not None:
                self._rec[d].close()
                self._rec[d] = None
            if path is not None:
                w = wave.open(str(path), "wb")
                w.setnchannels(1)
                w.setsampwidth(2)
                w.setframerate(self.caller_rate_hz)
                self._rec[d] = w

    def reset(self) -> None:
        self.clear()
        self._played.clear()
        self._marks.clear()

    def close(self) -> None:
        if self._closed:
            return
        self.record(None, None)
        self._taps = {"uplink": [], "downlink": []}
        self._q.clear()
        self._closed = True

    def _check_open(self) -> None:
        if self._closed:
            from voicedsp.errors import StateError
            raise StateError("the bridge is closed")
