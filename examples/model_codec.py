"""Pick the model codec: the same call bridged to a model that speaks G.711 mu-law at 8 kHz
(no resampling on the model side) and, after a transfer, to one that speaks PCM16 24 kHz."""
import asyncio

import voicedsp
from voicedsp.platform import Say, Silence, WaitAgent, Hangup


async def main() -> int:
    async with voicedsp.Voice(local_model={"replies": ["Codec check."], "speed": 8}) as voice:
        phone = voice.simulate_inbound([Silence(300), Say("First question please."),
                                        WaitAgent(heard_ms=300, quiet_ms=400),
                                        Say("And the second question."),
                                        WaitAgent(heard_ms=300, quiet_ms=400), Hangup()])
        call = await voice.wait_for_call(phone.call_sid)
        await voice.agents.attach(call.sid, voicedsp.AgentSpec(model_codec="g711_ulaw",
                                                               input_rate_hz=8000,
                                                               output_rate_hz=8000))
        responses = 0
        async for ev in call.events():
            if ev["type"] == "response_done":
                responses += 1
                if responses == 1:   # hand the call to a PCM16 24 kHz agent
                    await call.transfer(agent=voicedsp.AgentSpec(model_codec="pcm16",
                                                                 input_rate_hz=24000,
                                                                 output_rate_hz=24000))
        print("responses from the two agents:", responses)
        return 0 if responses >= 2 else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
