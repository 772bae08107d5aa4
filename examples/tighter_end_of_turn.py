"""Tighter end-of-turn: silence_threshold_ms=300 commits the caller's turn ~200 ms sooner
than the default 500 (below 300 it would fire on pauses between words)."""
import asyncio
import warnings

import voicedsp
from voicedsp.platform import Say, Silence, WaitAgent, Hangup


async def commit_delay(voice, silence_ms: int) -> float:
    phone = voice.simulate_inbound([Silence(300), Say("What time do you open tomorrow?"),
                                    WaitAgent(heard_ms=200, quiet_ms=300), Hangup()])
    call = await voice.wait_for_call(phone.call_sid)
    td = voicedsp.TurnDetection(silence_threshold_ms=silence_ms)
    await voice.agents.attach(call.sid, voicedsp.AgentSpec(turn_detection=td))
    delay = None
    async for ev in call.events():
        if ev["type"] == "turn_commit" and delay is None:
            delay = ev["bridge_t_ms"] - ev["ref_ms"]     # decision time - end of speech
    return delay


async def main() -> int:
    warnings.simplefilter("ignore", UserWarning)
    async with voicedsp.Voice(local_model={"replies": ["Nine o'clock."], "speed": 8}) as voice:
        default = await commit_delay(voice, 500)
        tight = await commit_delay(voice, 300)
        print(f"end of speech -> commit: {default:.0f} ms (default), {tight:.0f} ms (300)")
        return 0 if tight < default else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
