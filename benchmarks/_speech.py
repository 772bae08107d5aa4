"""Real speech for the benchmarks: espeak-ng sentences, resampled by sox, cached in /tmp."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import wave

SENTENCES = [
    "Thank you for calling. How can I help you today?",
    "I would like to check the status of my order, it was supposed to arrive on Monday.",
    "Sure, can you give me the order number or the phone number on the account?",
    "It is five five five, one two three, four five six seven.",
    "Thanks. I can see the package left our warehouse yesterday afternoon.",
    "Okay, great. And is there a tracking link you could send me by text message?",
    "Of course. I have just sent it. Is there anything else I can do for you?",
    "No, that is all. Have a nice day.",
]


def speech_pcm16(rate_hz: int = 8000) -> bytes:
    """About 30 s of synthesized conversational speech as mono int16 PCM at rate_hz."""
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            raise SystemExit(f"benchmarks need {tool}: apt-get install espeak-ng sox "
                             "(scripts/setup.sh installs both)")
    key = hashlib.sha1(("|".join(SENTENCES) + str(rate_hz)).encode()).hexdigest()[:12]
    cache = os.path.join(tempfile.gettempdir(), f"voicedsp-bench-speech-{key}.wav")
    if not os.path.exists(cache):
        with tempfile.TemporaryDirectory() as tmp:
            parts = []
            for i, text in enumerate(SENTENCES):
                raw = os.path.join(tmp, f"{i}.wav")
                subprocess.run(["espeak-ng", "-s", "165", "-w", raw, text], check=True)
                parts.append(raw)
            joined = os.path.join(tmp, "joined.wav")
            subprocess.run(["sox", *parts, "-r", str(rate_hz), "-c", "1", "-b", "16", joined,
                            "pad", "0", "0.3"], check=True)
            shutil.move(joined, cache)
    with wave.open(cache, "rb") as w:
        return w.readframes(w.getnframes())
