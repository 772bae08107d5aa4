"""Every cookbook recipe in examples/ runs green (each is a subprocess that exits 0)."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("websockets")
pytest.importorskip("orjson")

import voicedsp  # noqa: E402

ROOT = Path(voicedsp.__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


def test_every_example_runs_green():
    assert len(EXAMPLES) >= 13
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    pending, running, failed = list(EXAMPLES), [], []
    # real-time calls mostly wait on the clock: run a few at once
    while pending or running:
        while pending and len(running) < 4:
            path = pending.pop(0)
            running.append((path, subprocess.Popen([sys.executable, str(path)],
                                                   stdout=subprocess.PIPE,
                                                   stderr=subprocess.STDOUT, text=True,
                                                   env=env, cwd=ROOT), time.time()))
        for item in list(running):
            path, proc, t0 = item
            if proc.poll() is None and time.time() - t0 < 60:
                continue
            if proc.poll() is None:
                proc.kill()
            out = proc.communicate()[0]
            running.remove(item)
            if proc.returncode != 0:
                failed.append(f"{path.name} (exit {proc.returncode}):\n{out}")
        time.sleep(0.05)
    assert not failed, "\n\n".join(failed)
