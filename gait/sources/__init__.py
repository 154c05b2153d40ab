"""Where samples come from: BLE sensors (real or emulated), replayed recordings; all produce ``SampleBlock``s
on one session clock, which the recorder writes crash-safely."""

from gait.sources.blocks import SampleBlock, SourceEvent

__all__ = ["SampleBlock", "SourceEvent"]
