from typing import Optional

from voicedsp.errors import VoicedspError

def exception_for_status(status: int, context: Optional[str] = None) -> VoicedspError:
    """The exception the bindings raise for a C status code (returned, not raised)."""
