"""The offline domain extractor: a small CNN classifier trained on the dataset's training pool.

Its penultimate-layer activations stand in for Inception features when those are not
available. Distances in its feature space are labelled ``fd_domain`` / ``kid_domain``,
never FID: they are comparable within one dataset and extractor file only.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from sagan.config import ExtractorConfig
from sagan.data import PreparedData
from sagan.errors import DataError
from sagan.images import to_model_range
from sagan.io import atomic_torch_save, load_torch_file
from sagan.metrics.classifier_fit import fit_classifier, rms_scale
from sagan.metrics.extractors import EXTRACTORS, in_batches


class DomainClassifier(nn.Module):
    """conv-BN-ReLU-pool stages down to 4x4, then a feature layer and a class layer."""

    def __init__(
        self,
        channels: int,
        resolution: int,
        num_classes: int,
        feature_dim: int = 64,
        global_pool: bool = False,
    ):
        super().__init__()
        layers, c_in, side = [], channels, resolution
        for c_out in (32, 64, 128):
            layers += [
                nn.Conv2d(c_in, c_out, 3, padding=1),
                nn.BatchNorm2d(c_out),
                nn.ReLU(),
                nn.MaxPool2d(2),
            ]
            c_in, side = c_out, side // 2
        # global max: "is this class anywhere", for objects at any place (moving digits)
        cells = 1 if global_pool else 4
        pool = nn.AdaptiveMaxPool2d(1) if global_pool else nn.AdaptiveAvgPool2d(4)
        self.body = nn.Sequential(*layers, pool, nn.Flatten())
        self.features = nn.Sequential(nn.Linear(c_in * cells * cells, feature_dim), nn.ReLU())
        self.classes = nn.Linear(feature_dim, num_classes)

    def embed(self, pixels: Tensor) -> Tensor:
        """(B, C, H, W) float in [0, 255] -> (B, feature_dim) penultimate activations."""
        return self.features(self.body(to_model_range(pixels)))

    def forward(self, pixels: Tensor) -> Tensor:
        return self.classes(self.embed(pixels))


class DomainFeatures(nn.Module):
    """Extractor interface over a trained classifier: pixels -> penultimate features, each
    divided by its root-mean-square on the training pool.

    A small classifier's activations have no fixed scale (one trained on `pairs` reached
    hundreds), and KID's cubic kernel then explodes; unit-RMS features keep FD and KID in a
    readable range, and the scale is fixed per extractor file, so scores stay comparable.
    """

    def __init__(self, classifier: DomainClassifier, scale: Tensor) -> None:
        super().__init__()
        self.classifier = classifier
        self.register_buffer("scale", scale)  # (feature_dim,)

    def forward(self, pixels: Tensor) -> Tensor:
        return self.classifier.embed(pixels) / self.scale

    def predict_classes(self, features: Tensor) -> Tensor:
        """(B, feature_dim) features from ``forward`` -> (B, classes) probabilities."""
        return torch.softmax(self.classifier.classes(features * self.scale), dim=1)


def class_statistics(probs: np.ndarray) -> dict[str, float]:
    """How generated images spread over the dataset's classes, by the domain classifier.

    coverage: the fraction of classes that get at least half their fair share (1 / K) of the
    predictions (1 = every class generated; a collapsed G covers few); confidence: the mean
    top-class probability (low = images the classifier cannot place).
    """
    k = probs.shape[1]
    share = np.bincount(probs.argmax(1), minlength=k) / len(probs)
    return {
        "class_coverage": float((share >= 0.5 / k).mean()),
        "class_confidence": float(probs.max(1).mean()),
    }


def conditional_accuracy(probs: np.ndarray, labels: np.ndarray) -> float:
    """The fraction of generated images the domain classifier assigns to the class they were
    generated for (a CAS-like class-consistency score; chance 1 / K for a G that ignores y,
    at most about the classifier's own held-out accuracy for one that obeys it).

    probs (n, K) class probabilities; labels (n,) the conditioning class ids.
    """
    if probs.shape[0] != labels.shape[0]:
        raise ValueError(f"{probs.shape[0]} predictions for {labels.shape[0]} labels")
    return float((probs.argmax(1) == labels).mean())


def train_domain_classifier(
    data: PreparedData,
    out: str | Path,
    *,
    epochs: int = ExtractorConfig.epochs,
    batch_size: int = 64,
    feature_dim: int = 64,
    seed: int = 0,
    device: str = "cpu",
) -> dict:
    """Fit on the training pool, report accuracy on the held-out split, save atomically.
    The images stay where they are; each batch goes to ``device``."""
    torch.manual_seed(seed)
    meta = data.meta
    model = DomainClassifier(meta.channels, meta.resolution, meta.num_classes, feature_dim)
    model.to(device)

    def loss_of(idx: Tensor, rng: torch.Generator) -> Tensor:
        logits = model(data.images[idx].to(device).float())
        return F.cross_entropy(logits, data.labels[idx].to(device))

    pool = data.train_order
    fit_classifier(model, loss_of, pool, epochs=epochs, batch_size=batch_size, seed=seed, lr=1e-3)
    pred = in_batches(lambda x: model(x).argmax(1), data.images[data.heldout], 500, device)
    accuracy = (pred == data.labels[data.heldout]).float().mean().item()
    arch = {
        "channels": meta.channels,
        "resolution": meta.resolution,
        "num_classes": meta.num_classes,
        "feature_dim": feature_dim,
    }
    info = {"heldout_accuracy": accuracy, "epochs": epochs, "dataset": meta.dataset}
    scale = rms_scale(in_batches(model.embed, data.images[data.train_order], 500, device))
    model.cpu()
    saved = {"arch": arch, "state": model.state_dict(), "scale": scale, "info": info}
    atomic_torch_save(out, saved)
    return info


def read_domain_file(path: str | Path) -> dict:
    """The saved dict of a trained domain extractor file (image or video), checked."""
    if not Path(path).is_file():
        raise DataError(
            f"domain extractor {path} does not exist; train it with "
            f"'sagan train-extractor DATA --out {path}' or run the workflow"
        )
    fix = f"delete it and retrain it with 'sagan train-extractor DATA --out {path}'"
    saved = load_torch_file(path, "domain extractor", fix)
    if not isinstance(saved, dict):
        raise DataError(f"domain extractor {path} holds no extractor; {fix}")
    return saved


@EXTRACTORS.register("domain")
def domain(path: str) -> nn.Module:
    """Penultimate features of a small classifier trained on the dataset (offline default)."""
    saved = read_domain_file(path)
    if "kind" in saved:  # video files say so; their loader is the video kind's
        raise DataError(
            f"domain extractor {path} was trained on {saved['kind']} data, not images; "
            f"score {saved['kind']} runs with it, or retrain it with "
            f"'sagan train-extractor DATA --out {path}' on image data"
        )
    classifier = DomainClassifier(**saved["arch"])
    classifier.load_state_dict(saved["state"])
    return DomainFeatures(classifier, saved["scale"])
