"""Every Python block of README.md runs as written.

Names a snippet leaves to the reader (the caller's frame, the model and Twilio sockets) are
given here: real audio for the frames, and for the sockets small recorders that check what
the snippet sends them against what the README's comments say. A block with a top-level
``await`` runs inside a coroutine, against the embedded platform.
"""

from __future__ import annotations

import asyncio
import math
import re
import struct
import textwrap
from pathlib import Path

import pytest

import voicedsp

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def tone_ulaw(n: int = 160) -> bytes:
    pcm = struct.pack(f"<{n}h", *(int(6000 * math.sin(2 * math.pi * 440 * i / 8000))
                                  for i in range(n)))
    return voicedsp.ulaw_encode(pcm)


class ModelSocket:
    """What the MediaBridge snippet sends the model: 20 ms of PCM16 at 16 kHz per frame."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def append(self, audio: bytes) -> None:
        assert len(audio) == 640, len(audio)
        self.sent.append(audio)

    def commit_and_respond(self) -> None:
        pass

    def truncate(self, item_id: str, audio_end_ms: float) -> None:
        assert isinstance(item_id, str) and audio_end_ms >= 0


class TwilioSocket:
    """What it sends the caller: 160 bytes of mu-law per frame, marks by name."""

    def __init__(self) -> None:
        self.media: list[bytes] = []
        self.marks: list[str] = []

    def send_media(self, payload: bytes) -> None:
        assert len(payload) == 160, len(payload)
        self.media.append(payload)

    def send_mark(self, name: str) -> None:
        self.marks.append(name)

    def send_clear(self) -> None:
        pass


def test_readme_has_the_blocks_this_test_knows() -> None:
    # a new block that needs a name this file does not provide fails below with a NameError
    assert len(BLOCKS) >= 6


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_block_runs(index: int, capsys: pytest.CaptureFixture[str]) -> None:
    src = BLOCKS[index]
    ns = {
        "__name__": f"readme_block_{index}",
        "caller_ws_payload": tone_ulaw(),
        "caller_ulaw_frame": tone_ulaw(),
        "delta_pcm_24k": bytes(960),
        "item_id": "item-1",
        "model_ws": ModelSocket(),
        "twilio_ws": TwilioSocket(),
    }
    if re.search(r"^(async with|await|async for) ", src, re.M):
        coro = "async def readme_main():\n" + textwrap.indent(src, "    ")
        exec(compile(coro, f"README.md block {index}", "exec"), ns)
        asyncio.run(asyncio.wait_for(ns["readme_main"](), 60))
        return
    exec(compile(src, f"README.md block {index}", "exec"), ns)
    if callable(ns.get("on_frame")):        # the turn-detection block defines a frame handler
        for _ in range(5):
            ns["on_frame"](bytes(320), None)
    if ns["twilio_ws"].media:                # the MediaBridge block: one frame each way
        assert len(ns["model_ws"].sent) == 1 and len(ns["twilio_ws"].media) == 1
        assert ns["twilio_ws"].marks == ["m42"]
