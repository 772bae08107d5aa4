"""voicedsp — the media core for speech-to-speech AI on phone calls.

G.711 mu-law / A-law (bit-exact with ITU-T G.711 / G.191), Opus, streaming resampling,
turn-taking and the MediaBridge that fuses them per call, in a C99 core bound with Cython;
and the attach API (voicedsp.Voice) over an embedded call platform.
"""

from voicedsp._bridge import BridgeGroup, MediaBridge
from voicedsp._g711 import (alaw_decode, alaw_encode, alaw_to_ulaw, ulaw_decode, ulaw_encode,
                            ulaw_to_alaw)
from voicedsp._info import build_info
from voicedsp._opus import (OpusDecoder, OpusEncoder, OpusPacketInfo, opus_packet_info,
                            opus_version)
from voicedsp._resample import SUPPORTED_RATES_HZ, Resampler, resample
from voicedsp._turn import TurnDetector, TurnEvent, Vad
from voicedsp._turn_config import TurnDetection
from voicedsp.errors import (BufferTooSmallError, CodecError, CorruptPacketError,
                             FrameSizeError, InvalidArgumentError, InvalidTypeError,
                             OutOfMemoryError, StateError, UnsupportedRateError, VoicedspError)

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "build_info",
    "ulaw_encode",
    "ulaw_decode",
    "alaw_encode",
    "alaw_decode",
    "ulaw_to_alaw",
    "alaw_to_ulaw",
    "VoicedspError",
    "InvalidArgumentError",
    "InvalidTypeError",
    "BufferTooSmallError",
    "UnsupportedRateError",
    "FrameSizeError",
    "CorruptPacketError",
    "CodecError",
    "StateError",
    "OutOfMemoryError",
    "OpusEncoder",
    "OpusDecoder",
    "OpusPacketInfo",
    "opus_packet_info",
    "opus_version",
    "Resampler",
    "resample",
    "SUPPORTED_RATES_HZ",
    "Vad",
    "TurnDetection",
    "TurnDetector",
    "TurnEvent",
    "MediaBridge",
    "BridgeGroup",
]

# The attach API (voicedsp.Voice, BlockingVoice, AgentSpec) needs the ``platform`` extra;
# it is imported only when asked for (and kept out of __all__), so ``import voicedsp`` and
# ``from voicedsp import *`` stay light.
_LAZY = {"Voice": "voicedsp.voice", "BlockingVoice": "voicedsp.voice",
         "AgentSpec": "voicedsp.platform.spec"}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'voicedsp' has no attribute {name!r}")
