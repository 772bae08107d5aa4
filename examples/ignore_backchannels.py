"""Ignore backchannels: a short "yeah" while the agent talks is reported as a backchannel and
a rejected barge candidate; it never becomes a turn and the agent keeps talking."""
import asyncio

import voicedsp
from voicedsp.platform import BargeIn, Say, Silence, WaitAgent, Hangup

REPLY = "Our opening hours are nine to six from Monday to Saturday, and ten to four on Sunday."


async def main() -> int:
    async with voicedsp.Voice(local_model={"replies": [REPLY], "speed": 8}) as voice:
        phone = voice.simulate_inbound([Silence(300), Say("When are you open?"),
                                        BargeIn("yeah", after_ms=1000, wpm=400),
                                        WaitAgent(heard_ms=0, quiet_ms=500), Hangup()])
        call = await voice.wait_for_call(phone.call_sid)
        await voice.agents.attach(call.sid, voicedsp.AgentSpec(
            turn_detection=voicedsp.TurnDetection(response_min_speech_ms=600,
                                                  barge_confirm_ms=300)))
        kinds = [e["type"] async for e in call.events()]
        print("backchannels:", kinds.count("backchannel"), "barge-ins:",
              kinds.count("barge_in"), "commits:", kinds.count("turn_commit"))
        return 0 if kinds.count("backchannel") >= 1 and kinds.count("barge_in") == 0 \
            and kinds.count("turn_commit") == 1 else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
