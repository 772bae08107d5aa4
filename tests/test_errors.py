"""The status codes of the C core, their messages and their exception classes."""

import re
from pathlib import Path

import pytest

import voicedsp
from voicedsp import errors
from voicedsp._common import exception_for_status

HEADER = Path(__file__).resolve().parents[1] / "csrc" / "include" / "voicedsp" / "status.h"

EXPECTED = {
    "VDSP_ERR_INVALID_ARGUMENT": (voicedsp.InvalidArgumentError, ValueError, "invalid argument"),
    "VDSP_ERR_NO_MEMORY": (voicedsp.OutOfMemoryError, MemoryError, "out of memory"),
    "VDSP_ERR_BUFFER_TOO_SMALL": (voicedsp.BufferTooSmallError, ValueError, "too small"),
    "VDSP_ERR_UNSUPPORTED_RATE": (voicedsp.UnsupportedRateError, ValueError, "sample rate"),
    "VDSP_ERR_BAD_FRAME_SIZE": (voicedsp.FrameSizeError, ValueError, "frame size"),
    "VDSP_ERR_CORRUPT_PACKET": (voicedsp.CorruptPacketError, ValueError, "packet"),
    "VDSP_ERR_CODEC": (voicedsp.CodecError, RuntimeError, "codec"),
    "VDSP_ERR_BAD_STATE": (voicedsp.StateError, RuntimeError, "state"),
}


def test_python_status_table_matches_the_c_header():
    in_header = {m[0]: int(m[1]) for m in re.findall(r"(VDSP_\w+) = (-?\d+)", HEADER.read_text())}
    assert in_header == errors.STATUS


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_status_maps_to_its_class_and_message(name):
    cls, builtin, words = EXPECTED[name]
    exc = exception_for_status(errors.STATUS[name], "ctx")
    assert type(exc) is cls
    assert isinstance(exc, builtin) and isinstance(exc, voicedsp.VoicedspError)
    assert exc.status == errors.STATUS[name]
    assert str(exc).startswith("ctx: ") and words in str(exc) and name in str(exc)


def test_every_error_status_is_covered():
    assert set(EXPECTED) == {k for k in errors.STATUS if k != "VDSP_OK"}


def test_unknown_status_is_still_an_error():
    exc = exception_for_status(-99)
    assert type(exc) is voicedsp.VoicedspError and "unknown error" in str(exc)
