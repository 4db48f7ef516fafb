"""Score a trained video run: per-frame FD, video FD, temporal consistency, smoothness, FVD.

Names say what made them (docs/video.md): ``fd_frame_domain`` / ``kid_frame_domain`` over
frame features, ``fd_video_domain3d`` (+ KID, precision/recall, train gap, memorisation) over
clip features of the video extractor, ``fvd`` only from an I3D network you supply.
"""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from sagan.config import RunConfig
from sagan.data import PreparedData
from sagan.errors import DataError
from sagan.images import to_pixel_range
from sagan.metrics.distances import frechet_distance, kernel_distance_stats
from sagan.metrics.extractors import extract, in_batches
from sagan.metrics.reference_files import (
    load_frame_reference,
    load_reference,
    train_pool_features,
)
from sagan.metrics.suite import feature_metrics, metric_name
from sagan.metrics.temporal import motion_smoothness, temporal_consistency
from sagan.metrics.video_domain import (
    CLIP_BATCH,
    extract_frames,
    frames_of,
    load_video_extractor,
)
from sagan.models.latents import generate

I3D_SIZE = 224
# the extractor in a video metric's name: its frame features, its clip (3D) features
FRAME, CLIP = "frame_domain", "video_domain3d"


def _consistency(net: nn.Module, clips: Tensor, device: str) -> float:
    probs = in_batches(net.frame_classes, frames_of(clips), 256, device)
    return temporal_consistency(probs, clips.shape[2])


def load_i3d(path: str | Path, device: str = "cpu") -> torch.jit.ScriptModule:
    if not Path(path).is_file():
        raise DataError(
            f"I3D file {path} does not exist; set evaluation.i3d_path to an I3D TorchScript "
            "file (e.g. the one StyleGAN-V's FVD uses) or leave it empty to skip FVD"
        )
    return torch.jit.load(str(path), map_location=device).eval()


def i3d_features(i3d: nn.Module, clips: Tensor, device: str = "cpu") -> np.ndarray:
    """(N, C, T, H, W) pixels in [0, 255] -> I3D features. The network gets (B, 3, T, 224,
    224) in [-1, 1] (grey repeated to RGB, frames resized bilinearly) and returns (B, D)."""

    def features(x: Tensor) -> Tensor:
        x = x.div(127.5).sub(1)
        x = x.expand(-1, 3, -1, -1, -1) if x.shape[1] == 1 else x
        t = x.shape[2]
        x = torch.nn.functional.interpolate(
            x, size=(t, I3D_SIZE, I3D_SIZE), mode="trilinear", align_corners=False
        )
        return i3d(x)

    return in_batches(features, clips, 16, device).double().numpy()


def video_metrics(
    cfg: RunConfig, data: PreparedData, pixels: Tensor, train_idx: Tensor, device: str
) -> dict:
    """Every video score of generated clips ``pixels`` (N, C, T, H, W) in [0, 255]."""
    e = cfg.eval
    net = load_video_extractor(e.extractor, e.extractor_path, device)
    protocol = {
        "extractor": e.extractor,
        "extractor_file": e.extractor_path,
        "num_samples": len(pixels),
        "sample_seed": e.seed,
        "library": f"prdc {version('prdc')}",
    }
    heldout, _ = load_reference(e.reference_path)
    train = train_pool_features(e.train_reference_path, len(train_idx))
    fake = extract(net, pixels, CLIP_BATCH, device).numpy()
    values = feature_metrics(fake, heldout, train, extractor=CLIP, seed=e.seed)
    metrics = {
        name: {
            "value": v.value,
            "reference_split": v.reference_split,
            "reference_count": v.reference_count,
            **protocol,
        }
        for name, v in values.items()
    }
    fake_frames = extract_frames(net, pixels, device).numpy()
    real_frames = load_frame_reference(e.reference_path)
    kid, _ = kernel_distance_stats(fake_frames, real_frames, seed=e.seed)
    # per frame: the count is the frames scored (clips x T), not the clips
    frame_entry = {
        "reference_split": "heldout",
        "reference_count": len(real_frames),
        **protocol,
        "num_samples": len(fake_frames),
    }
    metrics[metric_name("fd", FRAME)] = {
        "value": frechet_distance(fake_frames, real_frames),
        **frame_entry,
    }
    metrics[metric_name("kid", FRAME)] = {"value": kid, **frame_entry}
    real = data.images[data.heldout]
    metrics["temporal_consistency"] = {
        "value": _consistency(net, pixels, device),
        "real_heldout": _consistency(net, real, device),
        "reference_split": "heldout",
        "reference_count": len(real),
        **protocol,
    }
    metrics["motion_smoothness"] = {
        "value": motion_smoothness(pixels),
        "real_heldout": motion_smoothness(real),
        "reference_split": "heldout",
        "reference_count": len(real),
        **protocol,
    }
    if e.i3d_path:
        i3d = load_i3d(e.i3d_path, device)
        fvd = frechet_distance(i3d_features(i3d, pixels, device), i3d_features(i3d, real, device))
        metrics["fvd"] = {
            "value": fvd,
            "reference_split": "heldout",
            "reference_count": len(real),
            **protocol,
            "extractor": "i3d",
            "extractor_file": e.i3d_path,
        }
    return metrics


def generated_clips(G: nn.Module, cfg: RunConfig, num_classes: int, device: str) -> Tensor:
    e = cfg.eval
    clips = generate(
        G, e.num_samples, seed=e.seed, batch_size=CLIP_BATCH, num_classes=num_classes,
        device=device,
    )  # fmt: skip
    return to_pixel_range(clips)


def video_run_metrics(
    cfg: RunConfig, data: PreparedData, G: nn.Module, classes: int, device: str
) -> dict:
    """Every video score of the trained ``G``. No pixel (detail) metrics: claim 8 is about
    still images, and a pyramid per frame would not match ProGAN's."""
    clips = generated_clips(G, cfg, classes, device)
    return video_metrics(cfg, data, clips, data.subset(cfg.data.size), device)
