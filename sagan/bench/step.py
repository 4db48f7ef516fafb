"""Training-step benchmark: SAGAN as the popular PyTorch port runs it vs the project's step.

The configuration is the port's (heykeetae/Self-Attention-GAN): 64 px, batch 64, DCGAN
backbone, attention in G at 16x16 and 32x32 and in D at 8x8 and 4x4, hinge loss, Adam. Our
``width`` 32 gives G the port's channels (512 at 4x4 ... 64 at 32x32); D gets half of its.

Rows, timed interleaved in one process after warm-up (medians):
- ``port``: the naive kernel, NCHW layout, and the port's updates: D's fakes keep G's graph,
  so D's loss backpropagates through G as well (the port does not detach them), and G's loss
  fills D's weight gradients too;
- ``naive``: the naive kernel in the project's step (fakes for D made without G's graph, D
  frozen during the G update, channels-last layout);
- ``default``: the project's default kernel (``auto``: sdpa's fused kernel where it is
  faster, see sagan.nn.attention) and step, fp32;
- ``default@bf16``: the same under bf16 autocast.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import replace

from torch import Tensor

from sagan.config import ModelConfig
from sagan.cost.step import StepSpec, build_step, step_inputs
from sagan.cost.timing import time_interleaved
from sagan.errors import ConfigError
from sagan.models.placement import placed_options
from sagan.registry import VARIANTS
from sagan.train.losses import hinge_d, hinge_g
from sagan.train.trainer import Models

PORT_SIDES = {"g": [16, 32], "d": [8, 4]}  # where the port's blocks sit in G and D


def port_specs(
    variant: str,
    options: dict | None = None,
    resolution: int = 64,
    batch: int = 64,
    width: int = 32,
    z_dim: int = 128,
) -> dict[str, StepSpec]:
    """The port's step and ours, of ``variant`` with ``options`` (a study's arm: the caller
    names it; the core names no variant), its blocks placed where the port places them."""
    if "impl" not in inspect.signature(VARIANTS.get(variant).builder).parameters:
        raise ConfigError(
            f"variant {variant!r} has no impl option, so it has no naive kernel to run as the "
            f"port does; time an arm whose variant takes one ({', '.join(kernel_variants())})"
        )
    model = ModelConfig(backbone="dcgan", width=width, z_dim=z_dim)

    def spec(label: str, impl: str | None, precision: str = "fp32", **kw: bool) -> StepSpec:
        placed = placed_options(variant, options or {}, PORT_SIDES["g"], PORT_SIDES["d"])
        # the row's kernel, not the arm's (None: the default)
        placed = {k: v for k, v in placed.items() if k != "impl"} | ({"impl": impl} if impl else {})
        return StepSpec(label, variant, placed, model, resolution, 3, batch, precision, **kw)

    return {
        "port": spec("port", "naive", channels_last=False),
        "naive": spec("naive", "naive"),
        "default": spec("default", None),
        "default@bf16": spec("default@bf16", None, "bf16"),
    }


def kernel_variants() -> list[str]:
    """The registered image variants whose blocks take an ``impl`` (a choice of kernel)."""
    return [
        name
        for name in VARIANTS.names("image")
        if "impl" in inspect.signature(VARIANTS.get(name).builder).parameters
    ]


def port_d_step(m: Models, real: Tensor, z: Tensor) -> None:
    """The port's D update: its fakes carry G's graph, so backward runs through G too."""
    loss = hinge_d(m.D(real), m.D(m.G(z)))
    m.opt_d.zero_grad(set_to_none=True)
    m.opt_g.zero_grad(set_to_none=True)
    loss.backward()  # fills G's gradients as well, which the G step then discards
    m.opt_d.step()


def port_g_step(m: Models, z: Tensor) -> None:
    """The port's G update: backward also fills D's weight gradients, discarded later."""
    loss = hinge_g(m.D(m.G(z)))
    m.opt_g.zero_grad(set_to_none=True)
    loss.backward()
    m.opt_g.step()


def build_port_step(spec: StepSpec, device: str = "cpu") -> Callable[[], None]:
    """The port's training step: its D update, then the usual G update."""
    _, m = build_step(spec, device)
    real, z_d, z_g = step_inputs(spec, device)

    def step() -> None:
        port_d_step(m, real, z_d)
        port_g_step(m, z_g)

    return step


def run_step_bench(
    variant: str,
    options: dict | None = None,
    *,
    resolution: int = 64,
    batch: int = 64,
    width: int = 32,
    repeats: int = 5,
    warmup: int = 1,
    device: str = "cpu",
) -> list[dict]:
    """Median ms per step of each row and its speed-up over ``port`` and over ``naive``."""
    specs = port_specs(variant, options, resolution, batch, width)
    if device.startswith("cuda"):  # fp16 + GradScaler: the other mixed precision of GPUs
        specs["default@fp16"] = replace(specs["default"], label="default@fp16", precision="fp16")
    steps = {"port": build_port_step(specs["port"], device)}
    steps |= {name: build_step(s, device)[0] for name, s in specs.items() if name != "port"}
    ms = time_interleaved(steps, repeats, warmup, device)
    return [
        {
            "row": label,
            "impl": specs[label].variant_options.get("impl", "default"),
            "precision": specs[label].precision,
            "ms_per_step": ms[label],
            "images_per_s": batch / ms[label] * 1e3,
            "speedup_vs_port": ms["port"] / ms[label],
            "speedup_vs_naive": ms["naive"] / ms[label],
        }
        for label in steps
    ]


def format_step_table(rows: list[dict]) -> str:
    head = "| row | impl | precision | median ms/step | images/s | x port | x naive |"
    lines = [head, "| --- | --- | --- | ---: | ---: | ---: | ---: |"]
    for r in rows:
        speedups = f"{r['speedup_vs_port']:.2f} | {r['speedup_vs_naive']:.2f}"
        lines.append(
            f"| {r['row']} | {r['impl']} | {r['precision']} | {r['ms_per_step']:.0f} "
            f"| {r['images_per_s']:.1f} | {speedups} |"
        )
    return "\n".join(lines)
