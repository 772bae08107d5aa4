"""Test configuration shared by the whole suite."""

import os
import subprocess
import wave

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

# In CI every hypothesis run is derandomized, so a failure replays exactly on the next run;
# locally the default profile explores new examples each time.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(scope="session")
def say_8k(tmp_path_factory):
    """say_8k(text, voice) -> espeak-ng speech (165 words/min) as int16 at 8 kHz, trimmed of
    leading and trailing silence; cached for the session. Tests that use it carry a skip mark
    for machines without espeak-ng and sox."""
    d = tmp_path_factory.mktemp("tts_8k")
    cache = {}

    def _say(text, voice):
        if (text, voice) not in cache:
            raw, out = d / f"{len(cache)}.wav", d / f"{len(cache)}_8k.wav"
            subprocess.run(["espeak-ng", "-v", voice, "-s", "165", "-w", str(raw), text],
                           check=True, capture_output=True)
            subprocess.run(["sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", str(out)],
                           check=True, capture_output=True)
            with wave.open(str(out)) as w:
                x = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
            idx = np.flatnonzero(np.abs(x.astype(np.int32)) > 300)
            cache[(text, voice)] = x[idx[0]:idx[-1] + 1].copy()
        return cache[(text, voice)]
    return _say
