"""How each dataset kind is scored: its extractor's training and loading, its reference
features and its metrics, keyed by the kind's name (``sagan.data.kinds``).

Callers ask the data's kind instead of testing for video: adding a kind is one entry here
and one in ``sagan.data.kinds``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import Tensor, nn

from sagan.config import RunConfig
from sagan.data import PreparedData
from sagan.data.kinds import IMAGE, VIDEO
from sagan.metrics.domain import train_domain_classifier
from sagan.metrics.extractors import extract, load_extractor
from sagan.metrics.video_domain import (
    clip_reference_features,
    load_video_extractor,
    train_video_domain,
)


@dataclass(frozen=True)
class EvalProtocol:
    # (data, out, *, epochs, device) -> info: fit the kind's domain extractor, save it to out
    train_extractor: Callable[..., dict[str, Any]]
    # (name, path, device) -> the extractor, in eval mode on device
    load_extractor: Callable[[str, str | Path, Any], nn.Module]
    # (extractor, uint8 data of a split, device) -> {"features": (N, D), ...} to store
    reference_features: Callable[[nn.Module, Tensor, str], dict[str, Tensor]]
    # (run config, data, trained G, classes, device) -> the metrics.json entries
    score: Callable[[RunConfig, PreparedData, nn.Module, int, str], dict]


def image_reference_features(net: nn.Module, images: Tensor, device: str) -> dict[str, Tensor]:
    return {"features": extract(net, images.float(), device=device)}


# The scoring modules import the metric stack (clean-fid pulls in torchvision: seconds), which
# the extractor and reference jobs do not need: they are imported when a run is scored.
def score_images(
    cfg: RunConfig, data: PreparedData, G: nn.Module, classes: int, device: str
) -> dict:
    from sagan.metrics.image_evaluate import image_metrics

    return image_metrics(cfg, data, G, classes, device)


def score_clips(
    cfg: RunConfig, data: PreparedData, G: nn.Module, classes: int, device: str
) -> dict:
    from sagan.metrics.video_evaluate import video_run_metrics

    return video_run_metrics(cfg, data, G, classes, device)


PROTOCOLS = {
    IMAGE.name: EvalProtocol(
        train_domain_classifier, load_extractor, image_reference_features, score_images
    ),
    VIDEO.name: EvalProtocol(
        train_video_domain, load_video_extractor, clip_reference_features, score_clips
    ),
}


def protocol_of(data: PreparedData) -> EvalProtocol:
    return PROTOCOLS[data.kind.name]


def protocol_named(kind: str) -> EvalProtocol:
    return PROTOCOLS[kind]
