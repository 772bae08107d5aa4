"""``voicedsp serve`` as a real subprocess: HTTP control plane, API keys, organizations."""

import asyncio
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")
websockets = pytest.importorskip("websockets")

import voicedsp  # noqa: E402
from voicedsp.platform.spec import NotFoundError  # noqa: E402

ROOT = Path(voicedsp.__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def server():
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen(
        [sys.executable, "-m", "voicedsp", "serve", "--port", "0", "--api-key", "acme:k-acme",
         "--api-key", "globex:k-globex", "--max-calls", "20"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    url = None
    deadline = time.time() + 30
    lines = []
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        m = re.search(r"control plane (http://\S+)", line)
        if m:
            url = m.group(1)
        if "ready" in line:
            break
    if url is None:
        proc.kill()
        pytest.fail("voicedsp serve did not start:\n" + "".join(lines))
    # keep draining the server's output: a full pipe would block its logging, and the server
    threading.Thread(target=lambda: [lines.append(x) for x in proc.stdout], daemon=True).start()
    yield url
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_wrong_key_is_401_and_wrong_org_is_403(server):
    r = httpx.post(f"{server}/voice.calls.originate", json={"to": "+15550100"},
                   headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "UNAUTHORIZED"
    r = httpx.get(f"{server}/voice.calls.get", params={"input": '{"sid": "CAx"}'})
    assert r.status_code == 401
    r = httpx.get(f"{server}/voice.platform.info",
                  headers={"Authorization": "Bearer k-acme", "X-Org-Id": "globex"})
    assert r.status_code == 403
    r = httpx.post(f"{server}/voice.calls.get", content=b"{broken",
                   headers={"Authorization": "Bearer k-acme"})
    assert r.status_code == 400


def test_remote_client_and_organization_isolation(server):
    async def main():
        acme = voicedsp.Voice(base_url=server, api_key="k-acme", org_id="acme")
        globex = voicedsp.Voice(base_url=server, api_key="k-globex", org_id="globex")
        async with acme, globex:
            await acme.agents.register("support", voicedsp.AgentSpec(model_codec="pcm16"))
            call = await acme.calls.originate(to="+15550100", from_="+15550199",
                                              agent="support", ring_timeout_sec=500)
            assert call.status == "dialing"
            seen = []
            async for ev in call.events():
                seen.append(ev)
                if ev.get("status") == "in_progress":
                    break
            # another organization can neither see, attach to, tap nor hang up the call
            with pytest.raises(NotFoundError):
                await globex.calls.get(sid=call.sid)
            with pytest.raises(NotFoundError):
                await globex.agents.attach(call.sid, voicedsp.AgentSpec())
            with pytest.raises(NotFoundError):
                await globex.audio_bridge.attach(call.sid, on_uplink=print)
            with pytest.raises(NotFoundError):
                await globex.calls.get(sid=call.sid)
            with pytest.raises(NotFoundError):
                await globex.agents.attach(call.sid, "support")   # not its agent either
            # even with the media socket addressed directly
            media = acme._backend._media_url
            ws = await websockets.connect(f"{media}/events/{call.sid}",
                                          additional_headers={"Authorization":
                                                              "Bearer k-globex"})
            with pytest.raises(websockets.ConnectionClosed) as exc:
                await ws.recv()
            assert exc.value.rcvd.code == 4404
            # the owner can: tap the caller leg, then hang up
            frames = []
            tap = await acme.audio_bridge.attach(call.sid, on_uplink=frames.append,
                                                 codec="pcm16", sample_rate=16000)
            await asyncio.sleep(0.5)
            await tap.close()
            assert frames and all(len(f) == 640 for f in frames)
            got = await acme.calls.get(sid=call.sid)
            assert got.status == "in_progress" and got.info["agent"] == "support"
            assert got.info["ring_timeout_sec"] == 120 and got.info["leg"] == "twilio"
            await call.hangup()
            assert (await acme.calls.get(sid=call.sid)).status == "completed"
            assert [e["status"] for e in seen if e["type"] == "status"] == \
                ["dialing", "ringing", "in_progress"]

    asyncio.run(asyncio.wait_for(main(), 60))


def test_inbound_twilio_leg_needs_a_key_and_lands_in_its_org(server):
    from voicedsp.platform import Hangup, Say, Silence, SimulatedPhone

    async def main():
        acme = voicedsp.Voice(base_url=server, api_key="k-acme")
        globex = voicedsp.Voice(base_url=server, api_key="k-globex")
        async with acme, globex:
            media = acme._backend._media_url
            ws = await websockets.connect(f"{media}/twilio")          # no key
            with pytest.raises(websockets.ConnectionClosed) as exc:
                await ws.recv()
            assert exc.value.rcvd.code == 4401
            phone = SimulatedPhone(f"{media}/twilio?key=k-acme",
                                   [Silence(200), Say("Hello?"), Silence(300), Hangup()])
            task = asyncio.get_running_loop().create_task(phone.run())
            for _ in range(100):
                try:
                    call = await acme.calls.get(sid=phone.call_sid)
                    break
                except NotFoundError:
                    await asyncio.sleep(0.02)
            assert call.info["direction"] == "inbound" and call.info["org_id"] == "acme"
            with pytest.raises(NotFoundError):
                await globex.calls.get(sid=phone.call_sid)
            await task
            assert await call.wait(timeout=10) == "completed"

    asyncio.run(asyncio.wait_for(main(), 60))
