"""Score a trained image run: generated images straight from G to features, then every
image metric (FD/KID/PR over the study's extractor, IS, class statistics, probes, pixels)."""

from __future__ import annotations

from importlib.metadata import version

import numpy as np
import torch

from sagan.config import EvalConfig, RunConfig
from sagan.data import PreparedData
from sagan.images import to_pixel_range
from sagan.metrics.declared import feature_name
from sagan.metrics.distances import fid_infinity
from sagan.metrics.domain import class_statistics, conditional_accuracy
from sagan.metrics.extractors import extract, load_extractor
from sagan.metrics.inception import inception_score
from sagan.metrics.pixel_metrics import pixel_metrics, spread
from sagan.metrics.probes import PROBE_SCORES
from sagan.metrics.reference_files import load_reference, train_pool_features
from sagan.metrics.suite import feature_metrics, metric_name
from sagan.models.latents import generate_labelled


def training_subset_features(cfg: RunConfig, data: PreparedData) -> np.ndarray:
    """Features of the images this run trained on (``train_pool_features``)."""
    return train_pool_features(cfg.eval.train_reference_path, len(data.subset(cfg.data.size)))


def fd_infinity_metric(fake: np.ndarray, heldout: np.ndarray, e, protocol: dict) -> dict:
    """FD extrapolated to infinite samples (Chong & Forsyth 2020) from 8 counts up to all."""
    counts = np.linspace(len(fake) // 4, len(fake), 8).astype(int)
    fit = fid_infinity(fake, heldout, counts=counts, seed=e.seed)
    name = metric_name("fd_infinity", e.extractor)
    points = [[int(n), float(v)] for n, v in fit["points"]]
    return {
        name: {
            "value": fit["fd_infinity"],
            "slope": fit["slope"],
            "points": points,
            "reference_split": "heldout",
            **protocol,
        }
    }


def conditional_accuracy_metric(
    net: torch.nn.Module,
    probs: np.ndarray,
    labels: torch.Tensor,
    data: PreparedData,
    e: EvalConfig,
    protocol: dict,
    device: str,
) -> dict:
    """The domain classifier's accuracy on the generated images against the classes they
    were generated for, beside its accuracy on the held-out reals (the ceiling) and chance."""
    real = extract(net, data.images[data.heldout].float(), e.batch_size, device)
    with torch.no_grad():
        real_probs = net.predict_classes(real.float().to(device)).double().cpu().numpy()
    k = probs.shape[1]
    entry = {
        "value": conditional_accuracy(probs, labels.numpy()),
        "real_heldout": conditional_accuracy(real_probs, data.labels[data.heldout].numpy()),
        "chance": 1 / k,
        "num_classes": k,
        **protocol,
    }
    return {feature_name("conditional_accuracy", e.extractor): entry}


def probe_metric(cfg: RunConfig, pixels: torch.Tensor, data: PreparedData) -> dict:
    """The probe's exact coherence score of the generated images, beside real and chance,
    and its further metrics (pairs: against the batch's own independence baseline), each
    beside the real held-out images' value."""
    probe = PROBE_SCORES.build(cfg.data.source or cfg.data.dataset)
    real = data.images[data.heldout].float()
    drawn = {"num_samples": len(pixels), "sample_seed": cfg.eval.seed}
    entry = {
        "value": probe.score(pixels),
        "real_heldout": probe.score(real),
        "chance": probe.chance,
    }
    metrics = {probe.name: entry | drawn}
    if probe.dependence is not None:
        reference = probe.dependence(real)
        for name, fields in probe.dependence(pixels).items():
            metrics[name] = fields | {"real_heldout": reference[name]["value"]} | drawn
    return metrics


def image_metrics(
    cfg: RunConfig, data: PreparedData, G: torch.nn.Module, classes: int, device: str
) -> dict:
    """Every image score of the trained ``G`` (``classes`` > 0: conditional)."""
    e = cfg.eval
    images, labels = generate_labelled(
        G, e.num_samples, seed=e.seed, batch_size=e.batch_size, num_classes=classes, device=device
    )
    pixels = to_pixel_range(images)
    net = load_extractor(e.extractor, e.extractor_path, device)
    features = extract(net, pixels, e.batch_size, device)
    fake = features.numpy()
    heldout, _ = load_reference(e.reference_path)
    train = training_subset_features(cfg, data)
    protocol = {
        "extractor": e.extractor,
        "extractor_file": e.extractor_path,
        "num_samples": e.num_samples,
        "sample_seed": e.seed,
        "library": f"clean-fid {version('clean-fid')}, prdc {version('prdc')}",
    }
    values = feature_metrics(fake, heldout, train, extractor=e.extractor, seed=e.seed)
    metrics = {
        name: {
            "value": v.value,
            "reference_split": v.reference_split,
            "reference_count": v.reference_count,
            **protocol,
        }
        for name, v in values.items()
    }
    if hasattr(net, "class_probabilities"):  # Inception: IS from the same feature pass
        with torch.no_grad():
            probs = net.class_probabilities(features.to(device)).double().cpu().numpy()
        mean, std = inception_score(probs)
        metrics |= {"is": {"value": mean, **protocol}, "is_std": {"value": std, **protocol}}
    if hasattr(net, "predict_classes") and data.meta.num_classes > 1:
        with torch.no_grad():
            probs = net.predict_classes(features.float().to(device)).double().cpu().numpy()
        stats = class_statistics(probs)
        for k, v in stats.items():
            metrics[feature_name(k, e.extractor)] = {"value": v, **protocol}
        if labels is not None:  # a conditional run: does each image show its class?
            metrics |= conditional_accuracy_metric(net, probs, labels, data, e, protocol, device)
    if e.fid_infinity:
        metrics |= fd_infinity_metric(fake, heldout, e, protocol)
    if (cfg.data.source or cfg.data.dataset) in PROBE_SCORES:
        metrics |= probe_metric(cfg, pixels, data)
    real = data.images[spread(data.heldout)]  # not all 10k held-out images at 256 px
    metrics |= pixel_metrics(real, pixels, seed=e.seed, skip=e.skip_pixel_metrics)
    return metrics
