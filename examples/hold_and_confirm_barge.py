"""Forgiving hold-and-confirm barge-in: the agent pauses the moment the caller starts talking
over it; a short burst is rejected and the agent resumes where it paused; sustained speech
(barge_confirm_ms) confirms the barge-in and the reply is cut where the caller heard it."""
import asyncio

import voicedsp
from voicedsp.platform import BargeIn, Say, Silence, Hangup

REPLY = "Let me read your order back. Two large pizzas, one salad, and a bottle of water."


async def main() -> int:
    async with voicedsp.Voice(local_model={"replies": [REPLY], "speed": 8}) as voice:
        phone = voice.simulate_inbound([
            Silence(300), Say("Can you read my order back?"),
            BargeIn("mm", after_ms=800, wpm=400),                       # rejected: resumes
            BargeIn("No wait, I want three pizzas not two.", after_ms=800),   # confirmed
            Silence(1200), Hangup()])
        call = await voice.wait_for_call(phone.call_sid)
        await voice.agents.attach(call.sid, voicedsp.AgentSpec(
            hold_and_resume=True,
            turn_detection=voicedsp.TurnDetection(barge_confirm_ms=400)))
        events = [e async for e in call.events()]
        kinds = [e["type"] for e in events]
        barge = next((e for e in events if e["type"] == "barge_in"), None)
        print("rejected candidates:", kinds.count("barge_rejected"), "barge-ins:",
              kinds.count("barge_in"),
              f"heard before the cut: {barge['heard_ms']:.0f} ms" if barge else "")
        return 0 if kinds.count("barge_rejected") >= 1 and barge is not None else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
