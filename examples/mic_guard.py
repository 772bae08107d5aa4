"""Mic guard on legs without echo cancellation: the handset feeds the agent's voice back
into the uplink. mic_guard_ms keeps the echo tail after the agent stops from being read as
the caller; echo gating handles the echo while the agent talks. The agent must not interrupt
itself, and the caller's real turns must still commit."""
import asyncio

import voicedsp
from voicedsp.platform import Say, Silence, WaitAgent, Hangup


async def main() -> int:
    async with voicedsp.Voice(local_model={"replies": ["Sure, I can help you with that."],
                                           "speed": 8}) as voice:
        phone = voice.simulate_inbound(
            [Silence(300), Say("I need some help with my bill."),
             WaitAgent(heard_ms=300, quiet_ms=600), Say("Thank you very much."),
             WaitAgent(heard_ms=300, quiet_ms=600), Hangup()],
            echo_gain=0.25, echo_delay_ms=60)          # a speakerphone with no AEC
        call = await voice.wait_for_call(phone.call_sid)
        await voice.agents.attach(call.sid, voicedsp.AgentSpec(
            turn_detection=voicedsp.TurnDetection(mic_guard_ms=300)))
        kinds = [e["type"] async for e in call.events()]
        print("commits:", kinds.count("turn_commit"), "self-interruptions (barge_in):",
              kinds.count("barge_in"))
        return 0 if kinds.count("turn_commit") == 2 and kinds.count("barge_in") == 0 else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
