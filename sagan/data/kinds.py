"""Dataset kinds (image, video): what a kind of data is and what its configs may say.

A kind's name is also the registry tag that marks its datasets and variants (a dataset or
variant without a kind's tag is an image one). How a kind is scored (its extractors, its
reference features, its metrics) is in ``sagan.metrics.protocols``, keyed by the same names.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from torch import Tensor

from sagan.errors import ConfigError


@dataclass(frozen=True)
class DatasetKind:
    name: str
    sample_dims: int  # of a batch: 4 for (N, C, H, W) images, 5 for (N, C, T, H, W) clips
    extractors: tuple[str, ...] | None  # the extractors it can be scored with; None: any
    why: str = ""  # why it is limited to those extractors

    @property
    def has_frames(self) -> bool:
        return self.sample_dims == 5

    def check_extractor(self, extractor: str, where: str) -> None:
        if self.extractors is not None and extractor not in self.extractors:
            raise ConfigError(
                f"{where}: {self.name} data are scored with the {' / '.join(self.extractors)} "
                f"extractors ({self.why}), not {extractor!r}; remove it"
            )


IMAGE = DatasetKind("image", 4, None)
VIDEO = DatasetKind("video", 5, ("domain",), "per-frame and 3D; FVD: set i3d_path")
KINDS = {k.name: k for k in (IMAGE, VIDEO)}


def kind_of_tags(tags: Iterable[str]) -> DatasetKind:
    """The kind of a registered dataset or variant, from its tags (image unless tagged)."""
    tags = set(tags)
    return next((k for k in KINDS.values() if k is not IMAGE and k.name in tags), IMAGE)


def kind_of_pixels(pixels: Tensor) -> DatasetKind:
    """The kind of a batch of data from its shape: (N, C, H, W) or (N, C, T, H, W)."""
    for k in KINDS.values():
        if pixels.dim() == k.sample_dims:
            return k
    raise ValueError(
        f"data of shape {tuple(pixels.shape)} is neither (N, C, H, W) images nor "
        "(N, C, T, H, W) clips"
    )
