"""MediaBridge: one call's full-duplex media path, fused in the C core."""

from os import PathLike
from typing import Any, Callable, Dict, List, Literal, Optional, Sequence, Tuple, Union

from typing_extensions import Buffer

from voicedsp._turn import TurnEvent

_Codec = Literal["pcm16", "g711_ulaw", "g711_alaw", "opus"]

class MediaBridge:
    """One call: caller codec <-> model codec, turn-taking, playout queue and clock.

    Per frame tick: ``uplink(caller_frame)`` -> (model audio, events); ``downlink()`` ->
    the next caller frame. Model audio goes in with ``push_model_audio`` in any chunk size.
    Not thread-safe within one bridge; bridges on different threads run in parallel (the C
    calls release the GIL).
    """
    caller_codec: str
    model_codec: str
    caller_rate_hz: int
    model_input_rate_hz: int
    model_output_rate_hz: int
    frame_ms: int
    hold_and_resume: bool
    def __init__(self, caller_codec: _Codec = "g711_ulaw", caller_rate_hz: int = 8000,
                 model_codec: _Codec = "pcm16", model_input_rate_hz: int = 16000,
                 model_output_rate_hz: int = 24000, *, frame_ms: int = 20,
                 turn_detection: Any = None, hold_and_resume: bool = False,
                 max_queue_ms: int = 120000, opus_bitrate: int = -1000,
                 opus_complexity: int = 5) -> None: ...
    def uplink(self, frame: Optional[Buffer], out: Optional[Buffer] = None
               ) -> Tuple[Union[bytes, int], Tuple[TurnEvent, ...]]:
        """One caller frame in -> (model-codec audio for it, events that fired)."""
    def push_model_audio(self, chunk: Buffer, item_id: Optional[str] = None) -> float:
        """Queue model audio (model codec, model_output_rate_hz); returns ms queued."""
    def push_preroll(self, clip: Buffer, codec: str = "pcm16", rate_hz: int = 8000,
                     item_id: str = "preroll") -> float:
        """Queue a clip as agent audio before the first model turn; returns ms queued."""
    def downlink(self, out: Optional[Buffer] = None) -> Union[bytes, int]:
        """One tick: the next caller-codec frame (comfort silence when nothing is queued)."""
    def mark(self, name: Any) -> None:
        """A playout mark after the frames handed out so far (send the transport's mark)."""
    def ack_mark(self, name: Any) -> bool:
        """The transport played mark ``name``; False if it is unknown."""
    def clear(self) -> float:
        """Drop all queued agent audio; returns the ms dropped."""
    def heard_ms(self, item_id: Optional[str] = None) -> float:
        """ms of a response (default: the one playing) the caller has heard."""
    @property
    def current_item_id(self) -> Optional[str]: ...
    @property
    def queued_ms(self) -> float: ...
    @property
    def paused(self) -> bool: ...
    @property
    def uplink_latency_ms(self) -> float: ...
    @property
    def caller_frame_bytes(self) -> int: ...
    @property
    def caller_frame_samples(self) -> int: ...
    @property
    def uplink_max_bytes(self) -> int: ...
    @property
    def stats(self) -> Dict[str, float]: ...
    def reset(self) -> None: ...
    def add_tap(self, callback: Callable[[bytes, int], Any],
                direction: Literal["uplink", "downlink"] = "uplink") -> None: ...
    def remove_tap(self, callback: Callable[[bytes, int], Any],
                   direction: Literal["uplink", "downlink"] = "uplink") -> None: ...
    def record(self, uplink_wav: Union[str, PathLike, None] = None,
               downlink_wav: Union[str, PathLike, None] = None) -> None: ...
    def close(self) -> None: ...

class BridgeGroup:
    """Advance many bridges (same codecs, rates and frame size; no Opus) in one C call."""
    bridges: List[MediaBridge]
    errors: List[Tuple[int, Exception]]
    def __init__(self, bridges: Sequence[MediaBridge]) -> None: ...
    @property
    def frame_bytes(self) -> Tuple[int, int, int]: ...
    def push_model_audio(self, chunks: Sequence[Optional[bytes]],
                         item_ids: Optional[Sequence[Optional[str]]] = None) -> None: ...
    def tick(self, uplink: Buffer, model_out: Buffer, caller_out: Buffer
             ) -> List[Tuple[int, TurnEvent]]: ...
