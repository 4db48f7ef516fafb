"""Does every registered variant train and sample on a device? One tiny pass of each.

A smoke test, not a benchmark: for each variant, one training step (D update, then G
update) per precision and one sampling pass (G's samples, then D's scores of them), each
on a freshly built tiny model. A pass fails on an exception or a non-finite result, and its
row keeps the error's first line. Variants are read from the registry, placed where their
own default attention sides fit the image (sides the image lacks are dropped).
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Iterator
from typing import Any

import torch

from sagan.config import ModelConfig
from sagan.cost.step import StepSpec, build_step
from sagan.errors import first_line
from sagan.models.latents import generate_labelled
from sagan.models.placement import placement_names
from sagan.registry import VARIANTS, load_plugins

IMAGE_RESOLUTION = 32  # every image variant's default sides (16, 8) are maps of a 32 px G
VIDEO_RESOLUTION, VIDEO_FRAMES = 16, 4  # the smallest clip the video backbone builds
CONDITIONAL_BACKBONE = "resnet"  # for variants whose blocks need class ids


def fitted_options(variant: str, resolution: int) -> dict[str, Any]:
    """The variant's default attention sides, less those a ``resolution`` px image lacks (none
    for a variant that declares no placement)."""
    params = inspect.signature(VARIANTS.get(variant).builder).parameters
    options = {}
    for name in placement_names(variant):
        if params[name].default is not inspect.Parameter.empty:
            options[name] = [side for side in params[name].default if side < resolution]
    return options


def smoke_spec(variant: str, precision: str, width: int = 8, batch: int = 4) -> StepSpec:
    """The smallest training step of ``variant``: a video clip or an image, as it is tagged."""
    from sagan.models import build_variant

    video = "video" in VARIANTS.get(variant).tags
    resolution = VIDEO_RESOLUTION if video else IMAGE_RESOLUTION
    options = fitted_options(variant, resolution)
    labelled = build_variant(variant, options).labels
    model = ModelConfig(width=width, z_dim=32)
    if labelled:
        model = ModelConfig(width=width, z_dim=32, conditional=True, backbone=CONDITIONAL_BACKBONE)
    return StepSpec(
        label=f"{variant}@{precision}",
        variant=variant,
        variant_options=options,
        model=model,
        resolution=resolution,
        batch=batch,
        precision=precision,
        frames=VIDEO_FRAMES if video else 0,
    )


def train_once(variant: str, precision: str, device: str) -> None:
    """One training step; its weights must stay finite."""
    step, m = build_step(smoke_spec(variant, precision), device)
    step()
    _sync(device)
    for net in (m.G, m.D):
        if not all(torch.isfinite(p).all() for p in net.parameters()):
            raise FloatingPointError("a weight is not finite after one step")


def sample_once(variant: str, precision: str, device: str) -> None:
    """G's samples (in eval mode, as evaluation draws them) and D's scores of them."""
    spec = smoke_spec(variant, precision)
    _, m = build_step(spec, device)
    G = m.sampler_G.eval()
    with m.precision.autocast():
        images, labels = generate_labelled(
            G, spec.batch, seed=0, batch_size=spec.batch, num_classes=spec.classes, device=device
        )
        y = labels.to(device) if labels is not None else None
        with torch.no_grad():
            scores = m.D.eval()(images.to(device), y)
    _sync(device)
    if not (torch.isfinite(images).all() and torch.isfinite(scores).all()):
        raise FloatingPointError("a sample or its score is not finite")


def check(run: Callable[..., None], *args: Any) -> tuple[str, float, str]:
    """(status, seconds, first error line) of ``run(*args)``."""
    start = time.perf_counter()
    try:
        run(*args)
    except Exception as err:  # any failure is the result: the next pass still runs
        return "failed", time.perf_counter() - start, f"{type(err).__name__}: {first_line(err)}"
    return "ok", time.perf_counter() - start, ""


def smoke_rows(
    device: str, precisions: tuple[str, ...] = ("fp32", "bf16"), variants: list[str] | None = None
) -> Iterator[dict[str, Any]]:
    """One row per (variant, pass), as each pass ends: variant, kind, pass, status, seconds,
    error. Passes: a training step in each precision, then a sampling pass in fp32."""
    load_plugins()
    for variant in variants or VARIANTS.names():
        kind = "video" if "video" in VARIANTS.get(variant).tags else "image"
        passes = [(f"train {p}", train_once, p) for p in precisions]
        for name, run, precision in [*passes, ("sample fp32", sample_once, "fp32")]:
            status, seconds, error = check(run, variant, precision, device)
            row = {"variant": variant, "kind": kind, "pass": name, "status": status}
            yield row | {"seconds": round(seconds, 3), "error": error}


def _sync(device: str) -> None:
    """CUDA reports a kernel's failure later, at a sync: make it this pass's."""
    if str(device).startswith("cuda"):
        torch.cuda.synchronize(device)
