"""What a prepared dataset is: its source and seed, and the shape its models are built for.

Stored in the prepared file as a plain dict (``to_dict``), the form every prepared file has
had, so files written before this record existed load unchanged.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

FORMAT_VERSION = 1


@dataclass(frozen=True)
class DataMeta:
    resolution: int  # image side, px
    channels: int  # 1 grey, 3 RGB
    num_classes: int  # distinct labels (1: unlabelled)
    frames: int = 0  # clip length of video data; 0: images
    dataset: str = ""  # the registered source ("": a bare shape, as cost sweeps build)
    seed: int = 0  # of the held-out split and the balanced order
    format: int = FORMAT_VERSION

    @classmethod
    def from_dict(cls, saved: dict[str, Any]) -> DataMeta:
        """The record from a prepared file's dict; a ValueError naming missing or unknown keys
        (a file that is not a prepared dataset, or one from a newer version)."""
        names = {f.name for f in fields(cls)}
        required = {"format", "dataset", "resolution", "channels", "num_classes", "seed"}
        missing, unknown = sorted(required - set(saved)), sorted(set(saved) - names)
        wrong = [f"lacks {', '.join(missing)}"] * bool(missing)
        wrong += [f"has unknown {', '.join(unknown)}"] * bool(unknown)
        if wrong:
            raise ValueError(f"its meta {' and '.join(wrong)}")
        return cls(**saved)

    def to_dict(self) -> dict[str, Any]:
        """The stored form: ``frames`` only for video, as prepared files always had it."""
        out = asdict(self)
        order = ("format", "dataset", "resolution", "channels", "num_classes", "seed", "frames")
        return {k: out[k] for k in order if k != "frames" or self.frames}
