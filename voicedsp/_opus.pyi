"""Opus encoder and decoder over libopus (docstrings in _opus.pyx; ``help()`` shows them)."""

from typing import Literal, NamedTuple, Optional, Union, overload

import numpy as np
import numpy.typing as npt


_PCM = Union[bytes, bytearray, memoryview, npt.NDArray[np.int16]]
_Packet = Union[bytes, bytearray, memoryview]
_Out = Union[bytearray, memoryview, npt.NDArray[np.int16]]

RATES: tuple[int, ...]
APPLICATIONS: dict[str, int]

def opus_version() -> str: ...

class OpusPacketInfo(NamedTuple):
    n_frames: int
    samples_per_frame: int
    n_samples: int
    duration_ms: float
    channels: int
    bandwidth: Literal["narrowband", "mediumband", "wideband", "superwideband", "fullband"]
    bandwidth_hz: int
    mode: Literal["silk", "hybrid", "celt"]
    has_fec: bool

def opus_packet_info(packet: _Packet, sample_rate_hz: int = 48000) -> OpusPacketInfo: ...

class OpusEncoder:
    @property
    def sample_rate_hz(self) -> int: ...
    @property
    def channels(self) -> int: ...
    @property
    def application(self) -> Literal["voip", "audio", "restricted_lowdelay"]: ...
    @property
    def latency(self) -> int: ...
    bitrate: int  # set: int 500..512000, "auto" or "max"; get: bit/s in effect
    complexity: int  # 0..10
    vbr: bool
    inband_fec: bool
    packet_loss_perc: int  # 0..100
    dtx: bool
    def __init__(
        self,
        sample_rate_hz: int,
        channels: int = 1,
        *,
        application: Literal["voip", "audio", "restricted_lowdelay"] = "voip",
        bitrate: Union[int, Literal["auto", "max"], None] = None,
        complexity: Optional[int] = None,
        vbr: Optional[bool] = None,
        inband_fec: Optional[bool] = None,
        packet_loss_perc: Optional[int] = None,
        dtx: Optional[bool] = None,
    ) -> None: ...
    def encode(self, pcm: _PCM, *, max_packet_bytes: Optional[int] = None) -> bytes: ...
    def reset(self) -> None: ...

class OpusDecoder:
    @property
    def sample_rate_hz(self) -> int: ...
    @property
    def channels(self) -> int: ...
    @property
    def latency(self) -> int: ...
    @property
    def last_packet_samples(self) -> int: ...
    def __init__(self, sample_rate_hz: int, channels: int = 1) -> None: ...
    @overload
    def decode(self, packet: Optional[_Packet], out: None = None, *, fec: bool = False,
               n_samples: Optional[int] = None, as_numpy: Literal[False] = False) -> bytes: ...
    @overload
    def decode(self, packet: Optional[_Packet], out: None = None, *, fec: bool = False,
               n_samples: Optional[int] = None,
               as_numpy: Literal[True]) -> npt.NDArray[np.int16]: ...
    @overload
    def decode(self, packet: Optional[_Packet], out: _Out, *, fec: bool = False,
               n_samples: Optional[int] = None, as_numpy: Literal[False] = False) -> int: ...
    @overload
    def conceal(self, n_samples: Optional[int] = None, out: None = None, *,
                as_numpy: Literal[False] = False) -> bytes: ...
    @overload
    def conceal(self, n_samples: Optional[int] = None, out: None = None, *,
                as_numpy: Literal[True]) -> npt.NDArray[np.int16]: ...
    @overload
    def conceal(self, n_samples: Optional[int], out: _Out, *,
                as_numpy: Literal[False] = False) -> int: ...
    def packet_samples(self, packet: _Packet) -> int: ...
    def reset(self) -> None: ...
