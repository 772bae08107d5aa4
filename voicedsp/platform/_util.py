"""Small shared helpers: JSON codec, ids, logging, espeak-ng synthesis."""

from __future__ import annotations

import functools
import logging
import os
import shutil
import subprocess
import tempfile
import uuid
import wave

try:
    import orjson

    def dumps(obj) -> str:
        return orjson.dumps(obj).decode()

    loads = orjson.loads
except ImportError:  # pragma: no cover - orjson is in the platform extra
    import json

    def dumps(obj) -> str:
        return json.dumps(obj, separators=(",", ":"))

    loads = json.loads

log = logging.getLogger("voicedsp.platform")


# -- synchronous sends and receives on a websockets asyncio connection ---------------------
#
# The media hot path (one frame in and one out per call every 20 ms) cannot afford an await
# and an async context manager per message. These helpers use the connection's own sans-I/O
# protocol object (``Connection.protocol``, websockets' framing) and write every frame of one
# tick in a single ``transport.write``; when the connection is not open they decline, and the
# caller falls back to (or gives up like) ``await ws.send``.

def send_now(ws, texts=(), binary=None) -> bool:
    """Frame ``binary`` (one binary message, optional) then each of ``texts`` (UTF-8 JSON
    bytes, text messages) and write them in one transport write; False (nothing sent) when
    the connection cannot take them right now (not open, closing, a fragmented send under
    way). A server's frames are serialized directly (websockets' ``Frame``, unmasked: the
    protocol object's bookkeeping per message is not needed here); a client's go through
    the protocol object (masking). A connection with its own ``send_now`` (the media
    server's picows connections) does it itself."""
    own = getattr(ws, "send_now", None)
    if own is not None:
        return own(texts, binary)
    proto = getattr(ws, "protocol", None)
    transport = getattr(ws, "transport", None)
    if proto is None or transport is None or proto.state is not _OPEN or \
            getattr(ws, "send_in_progress", None) is not None or \
            proto.expect_continuation_frame or transport.is_closing():
        return False
    if proto.side is _SERVER and not proto.writes:
        out = [_Frame(_BINARY, binary).serialize(mask=False)] if binary is not None else []
        out += [_Frame(_TEXT, t).serialize(mask=False) for t in texts]
    else:
        if binary is not None:
            proto.send_binary(binary)
        for t in texts:
            proto.send_text(t)
        out = proto.data_to_send()
    transport.write(out[0] if len(out) == 1 else b"".join(out))
    return True


try:
    from websockets.asyncio.server import ServerConnection as _ServerConnection
    from websockets.frames import Frame as _Frame
    from websockets.frames import Opcode as _Opcode
    from websockets.protocol import Side as _Side
    from websockets.protocol import State as _State

    _OPEN = _State.OPEN
    _TEXT = _Opcode.TEXT
    _BINARY = _Opcode.BINARY
    _SERVER = _Side.SERVER

    class MediaConnection(_ServerConnection):
        """A websockets server connection whose whole text messages can be consumed
        synchronously as they are parsed (``on_text``), instead of through ``recv()``.

        ``on_text(data: bytes) -> bool`` returns False to decline a message (it then goes to
        ``recv()`` as usual: the slow path, e.g. for everything but media frames). It is only
        offered messages when nothing is waiting in ``recv()``'s queue, so the order of
        messages is kept."""

        on_text = None

        def process_event(self, event) -> None:
            h = self.on_text
            if h is not None and event.opcode is _TEXT and event.fin and \
                    not self._recv_pending():
                try:
                    if h(event.data):
                        return
                except Exception:  # noqa: BLE001 - never kill the connection's reader
                    # it may have acted on part of the message: not offered again
                    log.exception("media fast path failed on one message; dropped")
                    return
            super().process_event(event)

        def _recv_pending(self) -> int:
            try:
                return len(self.recv_messages.frames)
            except AttributeError:      # another websockets layout: always the slow path
                return 1
except ImportError:  # pragma: no cover - websockets is in the platform extra
    MediaConnection = None


def new_sid(prefix: str = "CA") -> str:
    """A Twilio-style id: two-letter prefix + 32 hex digits."""
    return prefix + uuid.uuid4().hex


def have_espeak() -> bool:
    return shutil.which("espeak-ng") is not None


@functools.lru_cache(maxsize=256)
def synthesize(text: str, rate_hz: int = 8000, wpm: int = 175, voice: str = "en-us") -> bytes:
    """Speak ``text`` with espeak-ng; int16 PCM bytes at ``rate_hz`` (cached).

    Falls back to a voiced buzz of the text's approximate duration when espeak-ng is missing,
    so scripted calls still carry speech-like energy.
    """
    from voicedsp.platform._media import resample

    if have_espeak():
        with tempfile.TemporaryDirectory() as td:
            path = os.path.join(td, "s.wav")
            subprocess.run(["espeak-ng", "-v", voice, "-s", str(wpm), "-w", path, text],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            with wave.open(path, "rb") as w:
                pcm, rate = w.readframes(w.getnframes()), w.getframerate()
        return _trim(resample(pcm, rate, rate_hz), rate_hz)
    import numpy as np

    dur = max(0.3, 0.07 * len(text))
    t = np.arange(int(dur * rate_hz)) / rate_hz
    env = 0.5 + 0.5 * np.sin(2 * np.pi * 4 * t)
    sig = 6000 * env * np.sign(np.sin(2 * np.pi * 140 * t))
    return sig.astype(np.int16).tobytes()


def _trim(pcm: bytes, rate_hz: int) -> bytes:
    """Strip espeak-ng's leading/trailing silence (keep 20 ms), so scripted pauses are exact."""
    import numpy as np

    x = np.frombuffer(pcm, dtype=np.int16)
    loud = np.flatnonzero(np.abs(x) > 100)
    if not len(loud):
        return pcm
    pad = rate_hz // 50
    return x[max(0, loud[0] - pad): loud[-1] + pad].tobytes()


def read_wav_mono(path, rate_hz: int) -> bytes:
    """A 16-bit WAV file as mono int16 PCM bytes at ``rate_hz``."""
    import numpy as np

    from voicedsp.platform._media import resample

    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2:
            raise ValueError(f"{path}: need a 16-bit PCM WAV")
        pcm, rate, ch = w.readframes(w.getnframes()), w.getframerate(), w.getnchannels()
    if ch > 1:
        x = np.frombuffer(pcm, dtype=np.int16).reshape(-1, ch).mean(axis=1)
        pcm = x.astype(np.int16).tobytes()
    return resample(pcm, rate, rate_hz)


def write_wav(path, pcm: bytes, rate_hz: int) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate_hz)
        w.writeframes(pcm)
