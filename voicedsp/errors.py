"""Exceptions raised by voicedsp.

Every class derives from :class:`VoicedspError` and also from the built-in exception a caller
would naturally catch (``ValueError`` for bad values, ``TypeError`` for bad types,
``MemoryError`` for allocation failures), so ``except ValueError`` keeps working.

Errors that come from the C core carry the core's status code in ``.status``; errors raised
by argument checking in Python have ``.status`` set to the matching code too.
"""

from __future__ import annotations

__all__ = [
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
    "STATUS",
    "error_for_status",
]

# Mirrors csrc/include/voicedsp/status.h (tests/test_errors.py checks the two agree).
STATUS = {
    "VDSP_OK": 0,
    "VDSP_ERR_INVALID_ARGUMENT": -1,
    "VDSP_ERR_NO_MEMORY": -2,
    "VDSP_ERR_BUFFER_TOO_SMALL": -3,
    "VDSP_ERR_UNSUPPORTED_RATE": -4,
    "VDSP_ERR_BAD_FRAME_SIZE": -5,
    "VDSP_ERR_CORRUPT_PACKET": -6,
    "VDSP_ERR_CODEC": -7,
    "VDSP_ERR_BAD_STATE": -8,
}


class VoicedspError(Exception):
    """Base class of every voicedsp error."""

    status: int = STATUS["VDSP_ERR_INVALID_ARGUMENT"]

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status


class InvalidArgumentError(VoicedspError, ValueError):
    """A value is out of range or malformed (odd byte count, non-contiguous array...)."""


class InvalidTypeError(VoicedspError, TypeError):
    """An argument has the wrong type or dtype."""


class BufferTooSmallError(VoicedspError, ValueError):
    """An ``out=`` buffer is smaller than the output."""

    status = STATUS["VDSP_ERR_BUFFER_TOO_SMALL"]


class UnsupportedRateError(VoicedspError, ValueError):
    """A sample rate outside the supported set."""

    status = STATUS["VDSP_ERR_UNSUPPORTED_RATE"]


class FrameSizeError(InvalidArgumentError):
    """A frame length the component cannot take (an InvalidArgumentError, so a ValueError)."""

    status = STATUS["VDSP_ERR_BAD_FRAME_SIZE"]


class CorruptPacketError(VoicedspError, ValueError):
    """A compressed packet that cannot be decoded; the decoder stays usable."""

    status = STATUS["VDSP_ERR_CORRUPT_PACKET"]


class CodecError(VoicedspError, RuntimeError):
    """An internal failure reported by an underlying codec library."""

    status = STATUS["VDSP_ERR_CODEC"]


class StateError(VoicedspError, RuntimeError):
    """An operation that is not valid in the object's current state."""

    status = STATUS["VDSP_ERR_BAD_STATE"]


class OutOfMemoryError(VoicedspError, MemoryError):
    """An allocation failed."""

    status = STATUS["VDSP_ERR_NO_MEMORY"]


_BY_STATUS = {
    STATUS["VDSP_ERR_INVALID_ARGUMENT"]: InvalidArgumentError,
    STATUS["VDSP_ERR_NO_MEMORY"]: OutOfMemoryError,
    STATUS["VDSP_ERR_BUFFER_TOO_SMALL"]: BufferTooSmallError,
    STATUS["VDSP_ERR_UNSUPPORTED_RATE"]: UnsupportedRateError,
    STATUS["VDSP_ERR_BAD_FRAME_SIZE"]: FrameSizeError,
    STATUS["VDSP_ERR_CORRUPT_PACKET"]: CorruptPacketError,
    STATUS["VDSP_ERR_CODEC"]: CodecError,
    STATUS["VDSP_ERR_BAD_STATE"]: StateError,
}


def error_for_status(status: int) -> type[VoicedspError]:
    """The exception class for a C status code (unknown codes map to VoicedspError)."""
    return _BY_STATUS.get(status, VoicedspError)
