"""Attach a registered agent to a live (inbound) call by its call sid.

A simulated caller dials in over the Twilio Media Streams protocol; the app registers an agent
once, then binds it to the call. The caller asks a question and hears the agent answer.
"""
import asyncio

import voicedsp
from voicedsp.platform import Say, Silence, WaitAgent, Hangup


async def main() -> int:
    async with voicedsp.Voice(local_model={"replies": ["Hello, how can I help?"],
                                           "speed": 8}) as voice:
        await voice.agents.register("support", voicedsp.AgentSpec(
            mode="speech_to_speech", model_codec="pcm16",
            input_rate_hz=16000, output_rate_hz=24000))
        phone = voice.simulate_inbound([Silence(300), Say("Hi, can you help me?"),
                                        WaitAgent(heard_ms=300, quiet_ms=400), Hangup()])
        call = await voice.wait_for_call(phone.call_sid)
        await voice.agents.attach(call.sid, "support")     # returns once the agent is bridged
        events = [ev async for ev in call.events()]
        kinds = [e["type"] for e in events]
        print("events:", [k for k in kinds if k not in ("speech_start", "speech_end")])
        heard = sum(1 for i in range(0, len(phone.heard), 320) if any(phone.heard[i:i + 320]))
        print(f"the caller heard {heard * 20} ms of agent audio")
        return 0 if "turn_commit" in kinds and "response_started" in kinds and heard > 20 else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
