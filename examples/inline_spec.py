"""Attach an agent given inline (no registration): an AgentSpec with its own model URL,
codec, rates and turn detection."""
import asyncio

import voicedsp
from voicedsp.platform import Say, Silence, WaitAgent, Hangup


async def main() -> int:
    async with voicedsp.Voice(local_model={"replies": ["Inline agent here."], "speed": 8}) \
            as voice:
        phone = voice.simulate_inbound([Silence(300), Say("Is anybody there?"),
                                        WaitAgent(heard_ms=300, quiet_ms=400), Hangup()])
        call = await voice.wait_for_call(phone.call_sid)
        spec = voicedsp.AgentSpec(
            mode="speech_to_speech",
            model="gpt-realtime",                      # sent in session.update
            model_url=voice.platform.model_url,        # any Realtime-protocol endpoint
            model_codec="pcm16", input_rate_hz=24000, output_rate_hz=24000,
            turn_detection=voicedsp.TurnDetection(silence_threshold_ms=500))
        await voice.agents.attach(call.sid, spec)
        kinds = [e["type"] async for e in call.events()]
        print("turn commits:", kinds.count("turn_commit"), "responses:",
              kinds.count("response_started"))
        return 0 if kinds.count("turn_commit") >= 1 and "response_started" in kinds else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
