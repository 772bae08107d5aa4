"""Instant barge-in on echo-cancelled legs (browsers, WebRTC): the first speech frame over
the agent is a barge-in, with no confirmation delay."""
import asyncio

import voicedsp
from voicedsp.platform import BargeIn, Say, Silence, Hangup

REPLY = "Here is a long answer that the caller will not let me finish, because they know."


async def main() -> int:
    async with voicedsp.Voice(local_model={"replies": [REPLY], "speed": 8}) as voice:
        phone = voice.simulate_inbound([Silence(300), Say("Tell me something."),
                                        BargeIn("Stop.", after_ms=800), Silence(600), Hangup()])
        call = await voice.wait_for_call(phone.call_sid)
        await voice.agents.attach(call.sid, voicedsp.AgentSpec(
            turn_detection=voicedsp.TurnDetection(instant_barge=True)))
        events = [e async for e in call.events()]
        barge = next((e for e in events if e["type"] == "barge_in"), None)
        if barge is None:
            return 1
        reaction = barge["bridge_t_ms"] - barge["ref_ms"]
        print(f"barge-in decided {reaction:.0f} ms after the caller started talking; "
              f"candidates: {sum(e['type'] == 'barge_candidate' for e in events)}")
        return 0 if reaction <= 60 else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
