"""Pre-roll: play a clip to the caller before the first model turn (a greeting, a legal
notice) through the audio bridge; the agent's own audio follows it."""
import asyncio

import voicedsp
from voicedsp.platform import Say, WaitAgent, Hangup
from voicedsp.platform._util import synthesize


async def main() -> int:
    async with voicedsp.Voice(local_model={"replies": ["How can I help?"], "speed": 8}) as voice:
        phone = voice.simulate_inbound([WaitAgent(heard_ms=400, quiet_ms=400),
                                        Say("I have a question."),
                                        WaitAgent(heard_ms=300, quiet_ms=400), Hangup()])
        call = await voice.wait_for_call(phone.call_sid)
        await voice.agents.attach(call.sid, voicedsp.AgentSpec())
        greeting = synthesize("This call may be recorded.", 16000)   # PCM16 16 kHz
        tap = await voice.audio_bridge.attach(call.sid, codec="pcm16", sample_rate=16000)
        for off in range(0, len(greeting), 640):                     # 20 ms frames
            await tap.publish_downlink(greeting[off:off + 640])
        events = [e async for e in call.events()]
        first_commit = next(e["t_ms"] for e in events if e["type"] == "turn_commit")
        answered = next(e["t_ms"] for e in events if e.get("status") == "in_progress")
        heard_before = sum(any(phone.heard[i:i + 320]) for i in range(
            0, int((first_commit - answered) * 16), 320)) * 20
        print(f"caller heard {heard_before} ms of pre-roll before the first turn")
        return 0 if heard_before >= 500 else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
