"""Backbone registry and the builder that places a variant's blocks into a backbone."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from torch import nn

from sagan.config import ModelConfig, RunConfig
from sagan.errors import ConfigError
from sagan.models.progressive import grow
from sagan.models.spec import VariantSpec
from sagan.nn.spectral import check_g_spectral_norm, set_spectral_norm
from sagan.registry import VARIANTS, Registry
from sagan.streams import ATTENTION, BACKBONE, GROWTH, reseed_spectral_norm, seeded

if TYPE_CHECKING:
    from sagan.data.meta import DataMeta


class Backbone(Protocol):
    """Builds G and D for one image size; attention slots are keyed by feature-map side."""

    def slot_channels(self) -> dict[str, dict[int, int]]:
        """{"g": {resolution: channels}, "d": {...}}: where blocks can go, and their width."""
        ...

    def generator(self, slots: dict[int, nn.Module]) -> nn.Module: ...

    def discriminator(self, slots: dict[int, nn.Module]) -> nn.Module: ...


BACKBONES: Registry[Any] = Registry("backbone")


@dataclass(frozen=True)
class BackboneOptions:
    """What every backbone is built from (``build_backbone`` passes exactly these)."""

    image_size: int = 32
    channels: int = 3
    width: int = 64
    z_dim: int = 128
    num_classes: int = 0  # > 0: class-conditional G and D


def build_backbone(
    model: ModelConfig,
    *,
    image_size: int,
    channels: int,
    num_classes: int = 0,
    frames: int = 0,
    name: str | None = None,
) -> Backbone:
    """The configured backbone (or ``name``); ``num_classes`` > 0 asks for class-conditional
    G and D; ``frames`` > 0 is the clip length of video data."""
    name = name or model.backbone
    options = {"image_size": image_size, "channels": channels, "width": model.width}
    options |= {"z_dim": model.z_dim, "num_classes": num_classes if model.conditional else 0}
    if frames:
        if not BACKBONES.accepts(name, "frames"):
            video = ", ".join(b for b in BACKBONES.names() if BACKBONES.accepts(b, "frames"))
            raise ConfigError(
                f"backbone {name!r} makes images, but the data are video clips; use a video "
                f"variant (its backbone is one of: {video})"
            )
        options["frames"] = frames
    return BACKBONES.build(name, options)


def build_variant(name: str, options: dict[str, Any] | None = None) -> VariantSpec:
    spec = VARIANTS.build(name, options)
    if not isinstance(spec, VariantSpec):
        raise TypeError(f"variant {name!r} must return a VariantSpec, got {type(spec).__name__}")
    check_placement(name, spec)
    return spec


def check_placement(name: str, spec: VariantSpec) -> None:
    """A spec's placement names two options its builder takes; else a TypeError at the
    first build, not when a sweep first tries to move the blocks."""
    if spec.placement is None:
        return
    params = inspect.signature(VARIANTS.get(name).builder).parameters
    missing = [o for o in (spec.placement.g, spec.placement.d) if o not in params]
    if missing:
        raise TypeError(
            f"variant {name!r} declares placement option(s) {', '.join(map(repr, missing))} "
            f"that its builder does not take (it takes: {', '.join(params) or 'none'}); "
            "fix the placement or the builder's arguments"
        )


def variant_backbone(spec: VariantSpec, model: ModelConfig) -> str:
    """The backbone a variant is built on: its own if it pins one (e.g. video), else the
    model config's."""
    return spec.backbone or model.backbone


def check_slots(spec: VariantSpec, backbone: Backbone, variant: str, backbone_name: str) -> None:
    """A slot at a resolution the backbone lacks is a config error naming the ones it has."""
    have = backbone.slot_channels()
    for net, slots in (("g", spec.g_slots), ("d", spec.d_slots)):
        bad = sorted(set(slots) - set(have[net]))
        if bad:
            raise ConfigError(
                f"variant {variant!r} puts a block in {net.upper()} at feature-map "
                f"resolution(s) {bad}, but backbone {backbone_name!r} at this image size has "
                f"{net.upper()} resolutions {sorted(have[net])}"
            )


def build_blocks(
    model: ModelConfig,
    variant: str,
    variant_options: dict[str, Any] | None,
    *,
    image_size: int,
    channels: int,
    num_classes: int = 0,
    frames: int = 0,
    seed: int | None = None,
) -> tuple[Backbone, dict[int, nn.Module], dict[int, nn.Module]]:
    """The backbone of ``variant`` and its attention blocks for G and D by resolution, each
    built at its slot's width: everything ``build_models`` checks, without G and D (study
    validation builds these for every arm, on the meta device). With ``seed``, each block's
    weights come from its own stream, keyed by its net and slot (``sagan.streams``)."""
    spec = build_variant(variant, variant_options)
    name = variant_backbone(spec, model)
    backbone = build_backbone(
        model,
        image_size=image_size,
        channels=channels,
        num_classes=num_classes,
        frames=frames,
        name=name,
    )
    check_slots(spec, backbone, variant, name)
    width = backbone.slot_channels()
    labels = (check_labelled(variant, model, num_classes),) if spec.labels else ()
    blocks: dict[str, dict[int, nn.Module]] = {"g": {}, "d": {}}
    for net, slots in (("g", spec.g_slots), ("d", spec.d_slots)):
        for r, make in slots.items():
            with seeded(seed, ATTENTION.format(net=net.upper(), slot=r)):
                blocks[net][r] = make(width[net][r], *labels)
    return backbone, blocks["g"], blocks["d"]


def check_labelled(variant: str, model: ModelConfig, num_classes: int) -> int:
    """The classes a variant whose blocks condition on labels gets; a ConfigError with the
    fix where the run has none (unconditional, or a one-class, i.e. unlabelled, dataset)."""
    if not model.conditional:
        raise ConfigError(
            f"variant {variant!r} conditions its attention on class labels: set "
            "model.conditional: true (a class-conditional backbone such as resnet, and a "
            "labelled dataset such as digits)"
        )
    if num_classes < 2:
        raise ConfigError(
            f"variant {variant!r} conditions its attention on class labels, but the dataset "
            f"has {num_classes} class (unlabelled); use a labelled dataset (digits, cifar10, "
            "an imagefolder of class subfolders) or a variant without label conditioning"
        )
    return num_classes


GROWTH_TAG = "progressive"  # backbones whose G and D have the growth interface


def check_growable(backbone: str) -> None:
    if GROWTH_TAG not in BACKBONES.get(backbone).tags:
        raise ConfigError(
            f"backbone {backbone!r} cannot grow progressively; use one of "
            f"{BACKBONES.names(GROWTH_TAG)}, or remove train.progressive"
        )


def build_models(
    model: ModelConfig,
    variant: str,
    variant_options: dict[str, Any] | None,
    *,
    image_size: int,
    channels: int,
    num_classes: int = 0,
    frames: int = 0,
    grow_from: int = 0,
    seed: int | None = None,
) -> tuple[nn.Module, nn.Module]:
    """G and D of ``variant`` on the configured backbone (or the one the variant pins);
    ``grow_from`` > 0 wraps them for progressive growing from that image side.

    G is called as ``G(z, y=None) -> (B, C, H, W)`` in [-1, 1] and has ``G.z_dim``;
    D as ``D(x, y=None) -> (B,)`` logits. ``y`` (B,) class ids, for conditional models only.
    With ``frames`` (video data) G makes (B, C, T, H, W) clips and D scores them.

    With ``seed``, the backbone's G and D, each attention block and each spectral norm draw
    from streams of their own (``sagan.streams``): two variants built with one seed get the
    same backbone weights. Without it, everything draws from torch's global generator.
    """
    backbone, g_blocks, d_blocks = build_blocks(
        model,
        variant,
        variant_options,
        image_size=image_size,
        channels=channels,
        num_classes=num_classes,
        frames=frames,
        seed=seed,
    )
    with seeded(seed, BACKBONE.format(net="G")):
        G = backbone.generator(g_blocks)
    with seeded(seed, BACKBONE.format(net="D")):
        D = backbone.discriminator(d_blocks)
    if grow_from:
        check_growable(variant_backbone(build_variant(variant, variant_options), model))
        with seeded(seed, GROWTH):
            G, D = grow(G, D, backbone.slot_channels(), channels, grow_from)
    check_g_spectral_norm(model.g_spectral_norm)
    if model.g_spectral_norm != "backbone":
        set_spectral_norm(G, model.g_spectral_norm == "on")
    if seed is not None:
        reseed_spectral_norm(G, seed, "G")
        reseed_spectral_norm(D, seed, "D")
    return G, D


def run_classes(cfg: RunConfig, meta: DataMeta) -> int:
    """Classes a run conditions on: the dataset's if ``model.conditional``, else 0."""
    return meta.num_classes if cfg.model.conditional else 0


def models_for_run(cfg: RunConfig, meta: DataMeta) -> tuple[nn.Module, nn.Module]:
    """G and D of a run on a prepared dataset (``meta``: resolution, channels, classes),
    initialised from the run seed's streams (``train.streams: paired``) or from the global
    generator as it stands (``global``: the caller seeds it)."""
    return build_models(
        cfg.model,
        cfg.variant,
        cfg.variant_options,
        image_size=meta.resolution,
        channels=meta.channels,
        num_classes=run_classes(cfg, meta),
        frames=meta.frames,
        grow_from=cfg.train.progressive.start_resolution if cfg.train.progressive else 0,
        seed=cfg.train.seed if cfg.train.streams == "paired" else None,
    )
