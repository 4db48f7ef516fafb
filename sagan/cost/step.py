"""One full training step (D update, then G update) of a configuration, ready to time.

The step is the trainer's own ``d_step`` and ``g_step`` on a fixed batch, so what is profiled
is what trains. Inputs are random: cost does not depend on the pixels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from sagan.config import ModelConfig, RunConfig, TrainConfig, from_dict
from sagan.data.meta import DataMeta
from sagan.models.latents import sample_latents
from sagan.registry import load_plugins
from sagan.train.trainer import Models, build, d_step, g_step, memory_layout

PROFILE_CLASSES = 10


@dataclass(frozen=True)
class StepSpec:
    """What one profiled row is: a variant's G and D at one image size, batch and precision."""

    label: str
    variant: str  # the registered variant
    variant_options: dict[str, Any] = field(default_factory=dict)
    model: ModelConfig = field(default_factory=ModelConfig)
    resolution: int = 32
    channels: int = 3
    batch: int = 64
    precision: str = "fp32"
    plugins: tuple[str, ...] = ()
    channels_last: bool = TrainConfig.channels_last
    frames: int = 0  # > 0: video clips of this length
    arm: str = ""  # the study's name of this configuration ("" = the variant)

    def run_config(self) -> RunConfig:
        return RunConfig(
            variant=self.variant,
            variant_options=dict(self.variant_options),
            plugins=list(self.plugins),
            model=self.model,
            train=TrainConfig(
                batch_size=self.batch, precision=self.precision, channels_last=self.channels_last
            ),
        )

    @property
    def backbone(self) -> str:
        """The backbone G and D are built on (a variant may pin its own, e.g. video)."""
        from sagan.models.backbone import build_variant, variant_backbone

        return variant_backbone(build_variant(self.variant, self.variant_options), self.model)

    @property
    def classes(self) -> int:
        """Classes a conditional arm is profiled with (digits' 10; cost barely depends on it)."""
        return PROFILE_CLASSES if self.model.conditional else 0

    def meta(self) -> DataMeta:
        return DataMeta(self.resolution, self.channels, self.classes, self.frames)

    def to_json(self) -> dict[str, Any]:
        """Plain values, for a child process (the CPU memory probe) to rebuild the spec."""
        d = dict(self.__dict__)
        d["model"] = dict(self.model.__dict__)
        d["plugins"] = list(self.plugins)
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> StepSpec:
        d = dict(d)
        d["model"] = from_dict(ModelConfig, d["model"], "model")
        d["plugins"] = tuple(d.get("plugins", ()))
        return cls(**d)


def step_inputs(spec: StepSpec, device: str | torch.device) -> tuple[Tensor, Tensor, Tensor]:
    """Fixed inputs of one step: a real batch in [-1, 1], and latents for D's and G's update."""
    gen = torch.Generator().manual_seed(0)
    clip = (spec.frames,) if spec.frames else ()
    real = torch.rand(
        spec.batch, spec.channels, *clip, spec.resolution, spec.resolution, generator=gen
    )
    layout = memory_layout(spec.channels_last, spec.meta())
    real = (real * 2 - 1).to(device, memory_format=layout)
    z_d, _ = sample_latents(spec.batch, spec.model.z_dim, generator=gen, device=device)
    z_g, _ = sample_latents(spec.batch, spec.model.z_dim, generator=gen, device=device)
    return real, z_d, z_g


def build_step(spec: StepSpec, device: str | torch.device = "cpu") -> tuple[Callable, Models]:
    """(step, models): ``step()`` runs one D update and one G update on fixed inputs."""
    load_plugins(list(spec.plugins))
    device = torch.device(device)
    m = build(spec.run_config(), spec.meta(), device)
    real, z_d, z_g = step_inputs(spec, device)
    # a conditional arm's blocks (conditional BN, label attention) see class ids, as in training
    y = torch.arange(spec.batch, device=device) % spec.classes if spec.classes else None

    def step() -> None:
        d_step(m, real, y, z_d, y)
        g_step(m, z_g, y)

    return step, m


def setup_for_memory(spec: dict[str, Any], threads: int) -> Callable[[], None]:
    """The CPU memory probe's setup (runs in a child): build, and take one step first, so
    Adam's state and the thread pools are in place and the probed step is a steady one."""
    torch.set_num_threads(threads)
    step, _ = build_step(StepSpec.from_json(spec), "cpu")
    step()
    return step
