"""Streaming polyphase FIR sample-rate conversion (C core: csrc/resample.c)."""

from typing import Literal, Optional, Tuple, Union

import numpy as np
import numpy.typing as npt

SUPPORTED_RATES_HZ: Tuple[int, ...]
QUALITIES: Tuple[str, ...]

_Pcm16 = Union[bytes, bytearray, memoryview, npt.NDArray[np.int16]]
_Pcm = Union[_Pcm16, npt.NDArray[np.float32]]
_Out = Union[bytearray, memoryview, npt.NDArray[np.int16], npt.NDArray[np.float32]]

class Resampler:
    """Streaming sample-rate converter for one audio stream.

    Parameters
    ----------
    in_rate_hz, out_rate_hz : int
        Sample rates in Hz, each one of ``SUPPORTED_RATES_HZ`` (8000, 11025, 12000, 16000,
        22050, 24000, 32000, 44100, 48000); anything else raises
        :class:`UnsupportedRateError`.
    quality : {'telephony', 'alias_free'}
        Both are flat within +-0.1 dB up to 0.85 x the lower Nyquist frequency (3.4 kHz for
        8 kHz conversions) and reject images and aliases by >= 90 dB.
        ``'alias_free'`` (default): the stop band starts at the lower Nyquist frequency, so
        nothing aliases. Minimum phase: the group delay is ``latency`` at 1/8 of the lower
        rate (1 kHz for 8 kHz conversions; 0.44-0.5 ms) and rises towards the pass-band edge
        (at most 1.8 ms for 8 kHz conversions, 0.9 ms for 16 kHz ones).
        ``'telephony'``: linear phase, the stop band starts at 1.15 x the lower Nyquist
        frequency; every frequency is exactly ``latency`` late (1.75-1.875 ms for 8 kHz
        conversions, 0.875-0.94 ms for 16 kHz ones); half the taps of ``'alias_free'``, but
        input between 0.85 and 1.15 x Nyquist is only partly rejected when downsampling (it
        lands between 0.85 x Nyquist and Nyquist).
    dtype : {'int16', 'float32'}
        Sample type in and out. int16: bytes-like (native-endian) or an int16 array;
        float32: a float32 array, full scale +-1.0 (not clipped).
    channels : int
        1..16 interleaved channels (frames of ``channels`` samples; a 2-D array is
        ``(frames, channels)``).

    Notes
    -----
    The streaming contract:

    - After N input frames in total, exactly ``floor(N * out_rate_hz / in_rate_hz)`` frames
      have come out; each call returns the frames its input completes, the fractional
      remainder is carried. A 10 or 20 ms chunk never returns nothing.
      :meth:`max_output` gives the exact count before the call.
    - Output frame ``j`` is the input at time ``j - latency`` (output frames): the delay is
      the filter's group delay and nothing else (for ``'alias_free'``, its group delay at 1/8
      of the lower rate; higher pass-band frequencies come out a little later).
    - Output does not depend on how the input is split into calls (bit-identical on a given
      build and CPU). State is only cleared by :meth:`reset` or :meth:`flush`.
    - Threads: one object must not be used from two threads at once (that raises
      :class:`StateError`); different objects run in parallel, and calls on 4096 frames or
      more release the GIL.
    """

    in_rate_hz: int
    out_rate_hz: int
    channels: int
    quality: str
    precision: str

    def __init__(
        self,
        in_rate_hz: int,
        out_rate_hz: int,
        *,
        quality: Literal["telephony", "alias_free"] = "alias_free",
        dtype: Union[str, type, np.dtype] = "int16",
        channels: int = 1,
        precision: Literal["full", "q15"] = "full",
    ) -> None: ...
    @property
    def dtype(self) -> str:
        """``'int16'`` or ``'float32'``."""
    @property
    def latency(self) -> int:
        """Delay of the output behind the input, in output frames (the filter's group delay,
        an integer by construction). The first ``latency`` frames of a stream are the filter
        filling up."""
    @property
    def latency_ms(self) -> float:
        """:attr:`latency` in milliseconds."""
    @property
    def taps(self) -> int:
        """Filter taps per output frame and channel."""
    @property
    def pending(self) -> int:
        """Exact number of frames the next :meth:`flush` returns."""
    def max_output(self, n_in: int) -> int:
        """Exact number of frames ``process`` returns for ``n_in`` input frames now."""
    def process(self, pcm: _Pcm, out: Optional[_Out] = None) -> Union[_Pcm, int]:
        """Resample one chunk.

        Parameters
        ----------
        pcm : bytes-like or numpy array
            int16 resampler: native-endian 16-bit PCM as bytes-like, or an int16 array;
            float32 resampler: a float32 array. Any number of whole frames, 0 included.
        out : writable buffer, optional
            Receives the output (room for :meth:`max_output` frames); the call then returns
            the number of frames written and allocates nothing.

        Returns
        -------
        bytes or numpy.ndarray
            ``floor((N + n) * out / in) - floor(N * out / in)`` frames, N = frames before this
            call. bytes-like input gives ``bytes``, an array gives a numpy array (2-D input
            gives ``(frames, channels)``).

        Raises
        ------
        InvalidTypeError
            Wrong sample type (e.g. float64, or bytes for a float32 resampler).
        InvalidArgumentError
            Odd byte count, not a whole number of frames, non-contiguous array.
        BufferTooSmallError
            ``out`` too small; nothing was consumed.
        """
    def flush(self, out: Optional[_Out] = None, *, as_numpy: Optional[bool] = None
              ) -> Union[_Pcm, int]:
        """End the stream: return the :attr:`pending` frames still inside the filter
        (``latency`` frames, plus one if the input ended between two output samples),
        computed as if silence followed, then reset. The output has the same kind as the last
        ``process`` input unless ``as_numpy`` says otherwise. The whole stream without its
        first ``latency`` frames is ``ceil(N * out / in)`` frames aligned with the input."""
    def reset(self) -> None:
        """Forget all input (no output): back to the state right after construction."""

def resample(
    pcm: _Pcm,
    in_rate_hz: int,
    out_rate_hz: int,
    *,
    quality: Literal["telephony", "alias_free"] = "alias_free",
    channels: int = 1,
) -> _Pcm:
    """Resample a whole signal at once, delay removed.

    Parameters
    ----------
    pcm : bytes-like, int16 array or float32 array
        The signal; the sample type is taken from it.
    in_rate_hz, out_rate_hz, quality, channels
        As for :class:`Resampler`.

    Returns
    -------
    bytes or numpy.ndarray
        ``ceil(n * out_rate_hz / in_rate_hz)`` frames, aligned with the input (sample 0 of the
        output is time 0 of the input), same kind as ``pcm``. Equal to a stream's
        ``process(pcm) + flush()`` without its first ``latency`` frames. Releases the GIL.
    """
