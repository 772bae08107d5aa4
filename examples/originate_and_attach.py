"""Originate a call over a trunk with an agent: the agent is bridged the moment the callee
answers. The embedded default trunk ``sim`` dials a simulated phone."""
import asyncio

import voicedsp
from voicedsp.platform import Say, WaitAgent, Hangup


async def main() -> int:
    async with voicedsp.Voice(local_model={"replies": ["Hi, this is your pharmacy calling."],
                                           "speed": 8}) as voice:
        await voice.agents.register("reminder", voicedsp.AgentSpec(model_codec="pcm16"))
        voice.platform.sim.add_phone("+15550100", [Say("Hello, who is this?"),
                                                   WaitAgent(heard_ms=300, quiet_ms=400),
                                                   Hangup()])
        call = await voice.calls.originate(to="+15550100", from_="+15550199", trunk_id="sim",
                                           agent="reminder", ring_timeout_sec=30)
        statuses = []
        call.on_status(lambda ev: statuses.append(ev["status"]))
        final = await call.wait(timeout=20)
        await asyncio.sleep(0.05)
        print("statuses:", statuses, "final:", final)
        info = (await voice.calls.get(sid=call.sid)).info
        print("agent turns committed:", info["counters"].get("turn_commit", 0))
        return 0 if final == "completed" and "in_progress" in statuses \
            and info["counters"].get("turn_commit", 0) >= 1 else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
