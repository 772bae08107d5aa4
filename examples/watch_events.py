"""Watch turn and barge events (async iterator) and status changes (callback)."""
import asyncio

import voicedsp
from voicedsp.platform import BargeIn, Say, WaitAgent, Hangup

REPLY = "We have three plans: basic, standard and premium. Basic is ten dollars a month."


async def main() -> int:
    async with voicedsp.Voice(local_model={"replies": [REPLY], "speed": 8}) as voice:
        await voice.agents.register("sales", voicedsp.AgentSpec())
        voice.platform.sim.add_phone("+15550123", [
            Say("What plans do you have?"), BargeIn("Just the cheapest one please.",
                                                    after_ms=900),
            WaitAgent(heard_ms=300, quiet_ms=400), Hangup()])
        call = await voice.calls.originate(to="+15550123", agent="sales")
        call.on_status(lambda ev: print(f"[status] {ev['status']}"))
        seen = set()
        async for ev in call.events():
            if ev["type"] in ("turn_commit", "backchannel", "barge_candidate",
                              "barge_rejected", "barge_in"):
                seen.add(ev["type"])
                print(f"[turn] {ev['t_ms']:7.0f} ms  {ev['type']}")
        return 0 if {"turn_commit", "barge_in"} <= seen else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
