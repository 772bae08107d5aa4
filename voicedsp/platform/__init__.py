"""The embedded call platform behind ``voicedsp.Voice`` (needs the ``platform`` extra).

Modules: :mod:`.core` (Platform, calls, trunks, media server), :mod:`.realtime` (OpenAI
Realtime model leg and the local model server), :mod:`.twilio` (Twilio Media Streams caller
legs and the simulated phone), :mod:`.server` (``voicedsp serve``), :mod:`._media` (the one
seam to the per-call media bridge), :mod:`._ws` (the media server's and the model leg's
WebSocket connections, on picows).
"""

from voicedsp.platform.core import Call, Platform, PhoneProfile, SimTrunk
from voicedsp.platform.realtime import LocalModelServer, RealtimeModelLeg
from voicedsp.platform.spec import (AgentSpec, AuthError, BadRequestError, CapacityError,
                                    ConflictError, ForbiddenError, NotFoundError, PlatformError)
from voicedsp.platform.twilio import (BargeIn, Hangup, PlayWav, Say, Silence, SimulatedPhone,
                                      WaitAgent)

__all__ = ["Platform", "Call", "PhoneProfile", "SimTrunk", "LocalModelServer",
           "RealtimeModelLeg", "AgentSpec", "PlatformError", "AuthError", "BadRequestError",
           "CapacityError", "ConflictError", "ForbiddenError", "NotFoundError", "SimulatedPhone",
           "Say", "Silence", "WaitAgent", "BargeIn", "Hangup", "PlayWav"]
