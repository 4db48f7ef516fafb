"""Offline extractors for video data, trained on the dataset's training pool (one file).

- frames: the image domain classifier, trained on single frames to say which digits a frame
  shows (multi-label: moving digits have several). Its features give the per-frame FD
  (``fd_frame_domain``); its predictions give temporal consistency.
- clips: a small 3D CNN trained on whole clips to name their digits and the direction of
  motion, so its features see movement. Joined with the frame features averaged over the
  clip (what it shows), they give the video FD (``fd_video_domain3d``).

Neither is Inception or I3D: the scores compare within one dataset and extractor file only.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from sagan.config import ExtractorConfig
from sagan.data import PreparedData
from sagan.data.kinds import VIDEO
from sagan.errors import DataError
from sagan.images import to_model_range
from sagan.io import atomic_torch_save
from sagan.metrics.classifier_fit import fit_classifier, rms_scale
from sagan.metrics.domain import DomainClassifier, read_domain_file
from sagan.metrics.extractors import extract, in_batches

CLIP_BATCH = 64  # clips per feature pass (a clip is T images)
FRAME_SAMPLES = 4  # frames per clip per epoch for the frame classifier (they are alike)


def digit_targets(data: PreparedData, idx: Tensor) -> Tensor:
    """Multi-hot classes per clip: every digit it holds (``extra['digits']``), else its label."""
    classes = data.meta.num_classes
    if "digits" in data.extra:
        hot = F.one_hot(data.extra["digits"][idx], classes).amax(1)
    else:
        hot = F.one_hot(data.labels[idx], classes)
    return hot.float()


class ClipClassifier(nn.Module):
    """conv3d-BN-ReLU-pool stages, then a feature layer, class logits and direction logits."""

    def __init__(
        self, channels: int, frames: int, num_classes: int, directions: int, feature_dim: int = 64
    ):
        super().__init__()
        layers, c_in, t = [], channels, frames
        for c_out in (16, 32, 64):
            pool = (2 if t > 1 else 1, 2, 2)
            layers += [
                nn.Conv3d(c_in, c_out, 3, padding=1),
                nn.BatchNorm3d(c_out),
                nn.ReLU(),
                nn.MaxPool3d(pool),
            ]
            c_in, t = c_out, max(1, t // 2)
        # max over space (digits move anywhere), time kept: the features see the motion
        self.body = nn.Sequential(*layers, nn.AdaptiveMaxPool3d((t, 1, 1)), nn.Flatten())
        self.features = nn.Sequential(nn.Linear(c_in * t, feature_dim), nn.ReLU())
        self.classes = nn.Linear(feature_dim, num_classes)
        self.directions = nn.Linear(feature_dim, max(directions, 1))

    def embed(self, pixels: Tensor) -> Tensor:
        """(B, C, T, H, W) float in [0, 255] -> (B, feature_dim)."""
        return self.features(self.body(to_model_range(pixels)))


class VideoDomainFeatures(nn.Module):
    """Extractor over both classifiers; features divided by their RMS on the training pool
    (as ``DomainFeatures``, so FD and KID stay in a readable range)."""

    def __init__(self, frame: DomainClassifier, clip: ClipClassifier, scales: dict[str, Tensor]):
        super().__init__()
        self.frame, self.clip = frame, clip
        self.register_buffer("frame_scale", scales["frame"])
        self.register_buffer("clip_scale", scales["clip"])

    def forward(self, clips: Tensor) -> Tensor:
        """(B, C, T, H, W) pixels in [0, 255] -> (B, 2D) clip features: what the frames show
        (frame features averaged over the clip) joined with how it moves (the 3D CNN's)."""
        b, t = clips.shape[0], clips.shape[2]
        content = self.frame_features(frames_of(clips)).reshape(b, t, -1).mean(1)
        return torch.cat([content, self.clip.embed(clips) / self.clip_scale], dim=1)

    def frame_features(self, frames: Tensor) -> Tensor:
        """(B, C, H, W) pixels in [0, 255] -> (B, D) frame features."""
        return self.frame.embed(frames) / self.frame_scale

    def frame_classes(self, frames: Tensor) -> Tensor:
        """(B, C, H, W) pixels -> (B, classes) probability that each class is in the frame."""
        return torch.sigmoid(self.frame(frames))


def frames_of(clips: Tensor) -> Tensor:
    """(B, C, T, H, W) -> (B * T, C, H, W), clip by clip."""
    return clips.transpose(1, 2).flatten(0, 1)


def extract_frames(
    net: VideoDomainFeatures, clips: Tensor, device: str = "cpu", batch_size: int = 256
) -> Tensor:
    """Per-frame features of (N, C, T, H, W) clips, clip by clip: (N * T, D) float64."""
    return in_batches(net.frame_features, frames_of(clips), batch_size, device).double()


def clip_reference_features(
    net: VideoDomainFeatures, clips: Tensor, device: str = "cpu"
) -> dict[str, Tensor]:
    """A real split's clip features, and every frame's for the per-frame FD."""
    return {
        "features": extract(net, clips.float(), CLIP_BATCH, device=device),
        "frame_features": extract_frames(net, clips, device),
    }


def train_video_domain(
    data: PreparedData,
    out: str | Path,
    *,
    epochs: int = ExtractorConfig.epochs,
    batch_size: int = 32,
    feature_dim: int = 64,
    seed: int = 0,
    device: str = "cpu",
) -> dict:
    """Fit both classifiers on the training pool; held-out accuracies; save atomically.
    The clips stay where they are; each batch goes to ``device``."""
    torch.manual_seed(seed)
    meta, images = data.meta, data.images
    c, t, k = meta.channels, meta.frames, meta.num_classes
    directions = int(data.extra["direction"].max()) + 1 if "direction" in data.extra else 0
    frame = DomainClassifier(c, meta.resolution, k, feature_dim, global_pool=True)
    clip = ClipClassifier(c, t, k, directions, feature_dim)
    frame.to(device)
    clip.to(device)

    def frame_loss(idx: Tensor, rng: Tensor) -> Tensor:
        pick = torch.randint(0, t, (len(idx), FRAME_SAMPLES), generator=rng)
        frames = images[idx[:, None], :, pick].flatten(0, 1).to(device).float()  # (B*S, C, H, W)
        target = digit_targets(data, idx).repeat_interleave(FRAME_SAMPLES, 0).to(device)
        return F.binary_cross_entropy_with_logits(frame(frames), target)

    def clip_loss(idx: Tensor, rng: Tensor) -> Tensor:
        z = clip.embed(images[idx].to(device).float())
        loss = F.binary_cross_entropy_with_logits(
            clip.classes(z), digit_targets(data, idx).to(device)
        )
        if directions:
            direction = data.extra["direction"][idx].to(device)
            loss = loss + F.cross_entropy(clip.directions(z), direction)
        return loss

    pool, heldout = data.train_order, data.heldout
    for model, loss_of in ((frame, frame_loss), (clip, clip_loss)):
        fit_classifier(
            model, loss_of, pool, epochs=epochs, batch_size=batch_size, seed=seed, lr=2e-3
        )
    with torch.no_grad():
        held, truth = images[heldout], digit_targets(data, heldout)
        frame_top = in_batches(frame, frames_of(held), 256, device).argmax(1, keepdim=True)
        frame_acc = truth.repeat_interleave(t, 0).gather(1, frame_top).mean()
        clip_top = in_batches(lambda x: clip.classes(clip.embed(x)), held, 256, device)
        clip_top = clip_top.argmax(1, keepdim=True)
        clip_acc = truth.gather(1, clip_top).mean()
        scales = {
            "frame": rms_scale(in_batches(frame.embed, frames_of(images[pool]), 256, device)),
            "clip": rms_scale(in_batches(clip.embed, images[pool], 256, device)),
        }
    frame.cpu()
    clip.cpu()
    info = {
        "heldout_accuracy": float(clip_acc),  # the top class is one of the clip's digits
        "frame_heldout_accuracy": float(frame_acc),
        "epochs": epochs,
        "dataset": meta.dataset,
    }
    frame_arch = {"channels": c, "resolution": meta.resolution, "num_classes": k}
    clip_arch = {"channels": c, "frames": t, "num_classes": k, "directions": directions}
    saved = {
        "kind": VIDEO.name,
        "frame": {
            "arch": frame_arch | {"feature_dim": feature_dim, "global_pool": True},
            "state": frame.state_dict(),
        },
        "clip": {"arch": clip_arch | {"feature_dim": feature_dim}, "state": clip.state_dict()},
        "scales": scales,
        "info": info,
    }
    atomic_torch_save(out, saved)
    return info


def load_video_extractor(
    name: str, path: str | Path, device: str | torch.device = "cpu"
) -> VideoDomainFeatures:
    """The video kind's extractor ``name`` from its file, on ``device`` in eval mode."""
    VIDEO.check_extractor(name, "evaluation.extractor")
    saved = read_domain_file(path)
    if saved.get("kind") != VIDEO.name:
        raise DataError(
            f"{path} is not a video extractor; retrain it on the video data "
            "('sagan train-extractor' on the prepared clips)"
        )
    return load_video_domain(saved).to(device).eval()


def load_video_domain(saved: dict) -> VideoDomainFeatures:
    frame = DomainClassifier(**saved["frame"]["arch"])
    frame.load_state_dict(saved["frame"]["state"])
    clip = ClipClassifier(**saved["clip"]["arch"])
    clip.load_state_dict(saved["clip"]["state"])
    return VideoDomainFeatures(frame, clip, saved["scales"])
