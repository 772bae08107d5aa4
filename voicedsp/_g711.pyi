"""ITU-T G.711 mu-law / A-law, bit-exact with the ITU-T G.191 reference tools.

All functions are stateless, thread-safe and release the GIL on inputs of 4096 samples or
more. PCM is 16-bit signed, native byte order; codes are one byte per sample.
"""

from typing import Any, Literal, Optional, Union, overload

from typing_extensions import Buffer

import numpy as np
import numpy.typing as npt

_PCM = Union[Buffer, npt.NDArray[np.int16]]

@overload
def ulaw_encode(pcm: _PCM, out: None = ..., *, as_numpy: Literal[False] = ...,
                audioop_compatible: bool = ...) -> bytes: ...
@overload
def ulaw_encode(pcm: _PCM, out: None = ..., *, as_numpy: Literal[True],
                audioop_compatible: bool = ...) -> npt.NDArray[np.uint8]: ...
@overload
def ulaw_encode(pcm: _PCM, out: Buffer, *, as_numpy: Literal[False] = ...,
                audioop_compatible: bool = ...) -> int: ...
def ulaw_encode(pcm: _PCM, out: Optional[Buffer] = None, *, as_numpy: bool = False,
                audioop_compatible: bool = False) -> Any:
    """Encode 16-bit PCM to G.711 mu-law (one byte per sample).

    ``out=`` writes into a caller's buffer and returns the count written; ``as_numpy=True``
    returns a uint8 array; ``audioop_compatible=True`` reproduces ``audioop.lin2ulaw`` (which
    differs from G.711 on 508 negative inputs).
    """

@overload
def alaw_encode(pcm: _PCM, out: None = ..., *, as_numpy: Literal[False] = ...) -> bytes: ...
@overload
def alaw_encode(pcm: _PCM, out: None = ..., *,
                as_numpy: Literal[True]) -> npt.NDArray[np.uint8]: ...
@overload
def alaw_encode(pcm: _PCM, out: Buffer, *, as_numpy: Literal[False] = ...) -> int: ...
def alaw_encode(pcm: _PCM, out: Optional[Buffer] = None, *, as_numpy: bool = False) -> Any:
    """Encode 16-bit PCM to G.711 A-law (one byte per sample)."""

@overload
def ulaw_decode(codes: Buffer, out: None = ..., *, as_numpy: Literal[False] = ...) -> bytes: ...
@overload
def ulaw_decode(codes: Buffer, out: None = ..., *,
                as_numpy: Literal[True]) -> npt.NDArray[np.int16]: ...
@overload
def ulaw_decode(codes: Buffer, out: Buffer, *, as_numpy: Literal[False] = ...) -> int: ...
def ulaw_decode(codes: Buffer, out: Optional[Buffer] = None, *, as_numpy: bool = False) -> Any:
    """Decode G.711 mu-law codes to 16-bit PCM (2 bytes per code, native byte order)."""

@overload
def alaw_decode(codes: Buffer, out: None = ..., *, as_numpy: Literal[False] = ...) -> bytes: ...
@overload
def alaw_decode(codes: Buffer, out: None = ..., *,
                as_numpy: Literal[True]) -> npt.NDArray[np.int16]: ...
@overload
def alaw_decode(codes: Buffer, out: Buffer, *, as_numpy: Literal[False] = ...) -> int: ...
def alaw_decode(codes: Buffer, out: Optional[Buffer] = None, *, as_numpy: bool = False) -> Any:
    """Decode G.711 A-law codes to 16-bit PCM (2 bytes per code, native byte order)."""

@overload
def ulaw_to_alaw(codes: Buffer, out: None = ..., *, as_numpy: Literal[False] = ...) -> bytes: ...
@overload
def ulaw_to_alaw(codes: Buffer, out: None = ..., *,
                 as_numpy: Literal[True]) -> npt.NDArray[np.uint8]: ...
@overload
def ulaw_to_alaw(codes: Buffer, out: Buffer, *, as_numpy: Literal[False] = ...) -> int: ...
def ulaw_to_alaw(codes: Buffer, out: Optional[Buffer] = None, *, as_numpy: bool = False) -> Any:
    """mu-law to A-law codes by G.711 Table 3 (may run in place: ``out=codes``)."""

@overload
def alaw_to_ulaw(codes: Buffer, out: None = ..., *, as_numpy: Literal[False] = ...) -> bytes: ...
@overload
def alaw_to_ulaw(codes: Buffer, out: None = ..., *,
                 as_numpy: Literal[True]) -> npt.NDArray[np.uint8]: ...
@overload
def alaw_to_ulaw(codes: Buffer, out: Buffer, *, as_numpy: Literal[False] = ...) -> int: ...
def alaw_to_ulaw(codes: Buffer, out: Optional[Buffer] = None, *, as_numpy: bool = False) -> Any:
    """A-law to mu-law codes by G.711 Table 4 (may run in place: ``out=codes``)."""
