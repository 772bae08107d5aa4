"""Detach the agent but keep the call up: the app takes over the audio (attached bare) and
talks to the caller itself, then hangs up."""
import asyncio

import numpy as np

import voicedsp
from voicedsp.platform import Say, Silence, WaitAgent


async def main() -> int:
    async with voicedsp.Voice(local_model={"replies": ["Let me get a human."], "speed": 8}) \
            as voice:
        phone = voice.simulate_inbound([Silence(300), Say("I want to talk to a person."),
                                        WaitAgent(heard_ms=300, quiet_ms=300),
                                        Say("Hello? Are you still there?"), Silence(2000)],
                                       linger_ms=5000)
        call = await voice.wait_for_call(phone.call_sid)
        await voice.agents.attach(call.sid, voicedsp.AgentSpec())
        async for ev in call.events():
            if ev["type"] == "response_done":
                break
        await asyncio.sleep(0.8)
        await voice.agents.detach(call.sid)                  # the call stays up
        got = []
        bridge = await voice.audio_bridge.attach(call.sid, on_uplink=got.append,
                                                 codec="pcm16", sample_rate=16000)
        hold = (3000 * np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)).astype(np.int16)
        for off in range(0, len(hold), 320):                 # one second of "please hold"
            await bridge.publish_downlink(hold[off:off + 320].tobytes())
        await asyncio.sleep(2.5)
        status = (await voice.calls.get(sid=call.sid)).status
        await call.hangup()
        print(f"after detach: status {status}, {len(got)} caller frames to the app")
        return 0 if status == "in_progress" and len(got) > 50 else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
