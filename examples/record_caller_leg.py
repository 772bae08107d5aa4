"""Record the caller leg while the agent runs: an audio-bridge tap delivers the caller's
audio (here PCM16 16 kHz, 20 ms frames) to the app, which writes a WAV file."""
import asyncio
import sys
import tempfile
import wave
from pathlib import Path

import voicedsp
from voicedsp.platform import Say, Silence, WaitAgent, Hangup


async def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp()) / "caller.wav"
    async with voicedsp.Voice(local_model={"replies": ["Noted."], "speed": 8}) as voice:
        phone = voice.simulate_inbound([Silence(300), Say("Please write down my number."),
                                        WaitAgent(heard_ms=200, quiet_ms=400), Hangup()])
        call = await voice.wait_for_call(phone.call_sid)
        await voice.agents.attach(call.sid, voicedsp.AgentSpec())
        with wave.open(str(out), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(16000)
            tap = await voice.audio_bridge.attach(call.sid, on_uplink=wav.writeframes,
                                                  codec="pcm16", sample_rate=16000)
            await call.wait(timeout=20)
            await tap.close()
    with wave.open(str(out), "rb") as wav:
        seconds = wav.getnframes() / wav.getframerate()
        loud = max(wav.readframes(wav.getnframes()))
    print(f"recorded {seconds:.1f} s of the caller leg to {out}")
    return 0 if seconds > 1.0 and loud > 0 else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
