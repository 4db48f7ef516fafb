"""Which configurations a study profiles: its variants at each dataset's size and precision,
and a resolution-scaling sweep of one attention variant against a baseline.

The study's ``profile`` section (all keys optional) steers it:

    profile:
      device: cpu              # or cuda
      baseline: dcgan          # ratio denominator (default: the first variant)
      precisions: [fp32, bf16] # every variant is profiled in each
      repeats: 25              # interleaved rounds (a cost verdict needs >= 9)
      scaling: {variant: sagan, baseline: dcgan, resolutions: [32, 64, 128],
                divisors: [2, 4], batch: 8}

A scaling row puts the variant's G and D attention at side resolution / divisor (the
variant's spec must name the options that place its blocks, as the slot variants' do).
``variant`` may be a list (e.g. [sagan, linear]): each is swept, and its slopes fitted apart.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from sagan.config import ModelConfig, from_dict
from sagan.cost.step import StepSpec
from sagan.models.placement import placeable_variants, placed_options, placement

if TYPE_CHECKING:  # the study is read by its attributes; its package sits above this one
    from sagan.study.model import ProfileSettings, Study


def profile_settings(study: Study) -> ProfileSettings:
    """The study's ``profile`` settings (their defaults: ``sagan.study.model``), with what
    the study leaves to its arms chosen: the baseline (its first arm), and the scaling
    sweep's variant and baseline (``_scaling_variants``)."""
    settings = study.profile
    scaling = settings.scaling
    chosen = _scaling_variants(study)
    return replace(
        settings,
        baseline=settings.baseline or next(iter(study.arms)),
        scaling=replace(
            scaling,
            variants=scaling.variants or ((chosen["variant"],) if "variant" in chosen else ()),
            baseline=scaling.baseline or chosen.get("baseline"),
        ),
    )


def _scaling_variants(study: Study) -> dict[str, str]:
    """The registered variants of the study's first image arm with no attention (baseline)
    and of its first image arm that builds with one block at a single side in G and D; where
    the study has none, the first registered image variant that does."""
    from sagan.models import build_variant
    from sagan.registry import VARIANTS, load_plugins

    load_plugins(list(study.plugins))
    found: dict[str, str] = {}
    arms = [(a.variant, a.options) for a in study.arms.values()]
    registered = [(name, {}) for name in VARIANTS.names("image")]
    for variant, options in arms + registered:
        if len(found) == 2:
            break
        if variant not in VARIANTS or "video" in VARIANTS.get(variant).tags:
            continue
        try:
            spec = build_variant(variant, options)
        except Exception:  # a bad option: validation names it
            continue
        if spec.labels:  # its blocks need class ids; the sweep runs the study's model
            continue
        if not spec.g_slots and not spec.d_slots:
            found.setdefault("baseline", variant)
        elif "variant" not in found and _single_block(variant):
            found["variant"] = variant
    return found


def profile_specs(
    study: Study,
    resolution: int,
    channels: int,
    *,
    variants: list[str] | None = None,
    frames: int = 0,
) -> list[StepSpec]:
    """Every variant of the study (or ``variants``, those that run on the dataset), in every
    profiled precision, at one dataset's image size (and clip length ``frames``)."""
    settings = profile_settings(study)
    arms = study.arms
    names = variants if variants is not None else list(arms)
    return [
        StepSpec(
            label=name if precision == "fp32" else f"{name}@{precision}",
            variant=arms[name].variant,
            arm=name,
            variant_options=dict(arms[name].options),
            model=from_dict(ModelConfig, study.section("model", arm=arms[name]), "model"),
            resolution=resolution,
            channels=channels,
            batch=study.batch_size,
            precision=precision,
            plugins=study.plugins,
            frames=frames,
        )
        for precision in settings.precisions
        for name in names
    ]


def profile_baseline(study: Study, variants: list[str]) -> str:
    """The ratio denominator on a dataset: ``profile.baseline`` where it runs on the dataset,
    else the dataset's variant without attention (a video dataset's baseline is its own),
    else its first variant."""
    from sagan.models import build_variant

    baseline = profile_settings(study).baseline
    if baseline in variants:
        return baseline
    arms = study.arms
    for name in variants:
        spec = build_variant(arms[name].variant, arms[name].options)
        if not spec.g_slots and not spec.d_slots:
            return name
    return variants[0]


def scaling_specs(study: Study, resolution: int, channels: int = 3) -> list[StepSpec]:
    """At one image size: the baseline, then each variant with attention at side / divisor.
    A name that is an arm of the study is swept with that arm's options (its top_k, say), its
    placement replaced: so the sweep's large maps time the cost claims' own arms side by side
    (claims 5a and 5d where N is large, without training)."""
    s = profile_settings(study).scaling
    model = from_dict(ModelConfig, study.model, "model")
    common = {"model": model, "resolution": resolution, "channels": channels, "batch": s.batch}
    specs = [StepSpec(label=f"{s.baseline}@{resolution}", variant=s.baseline, **common)]
    for name in s.variants:
        arm = study.arms.get(name)
        variant, options = (arm.variant, dict(arm.options)) if arm else (name, {})
        for divisor in s.divisors:
            side = resolution // divisor
            placed = placed_options(variant, options, [side], [side])
            specs.append(
                StepSpec(
                    label=f"{name}@{resolution}:{side}x{side}",
                    variant=variant,
                    arm=name,
                    variant_options=placed,
                    **common,
                )
            )
    return specs


def _single_block(variant: str) -> bool:
    """Whether the variant builds with one block at one side in G and D (the sweep's form)."""
    from sagan.models import build_variant

    try:
        build_variant(variant, placed_options(variant, {}, [8], [8]))
    except Exception:
        return False
    return True


def check_profile_device(study: Study, device: str | None) -> None:
    """A profile asked for on CUDA where training runs on the CPU of a machine with no CUDA
    device would fail only when its job starts: say so now."""
    from sagan.errors import ConfigError

    asked = study.profile.device or ""
    if device == "cpu" and str(asked).startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise ConfigError(
                f"profile.device is {asked!r}, but this machine has no CUDA device: run the "
                "study on a GPU machine (--resources gpu=N), or remove profile.device"
            )


def check_profile(study: Study) -> None:
    """The profile section names variants that exist; else a ConfigError naming them."""
    from sagan.errors import ConfigError
    from sagan.registry import VARIANTS

    settings = profile_settings(study)
    device = settings.device_for()
    if "fp16" in settings.precisions and not device.startswith("cuda"):
        raise ConfigError(
            f"profile.precisions has fp16, which needs a GPU, but profile.device is "
            f"{device!r}: set device: cuda, or profile fp32 and bf16 only"
        )
    arms = study.arms
    if settings.baseline not in arms:
        raise ConfigError(
            f"profile.baseline {settings.baseline!r} is not one of the study's arms {list(arms)}"
        )
    scaling = settings.scaling
    named = [("variant", v) for v in scaling.variants or (None,)]
    named += [("baseline", scaling.baseline)]
    for key, name in named:
        if name is None:
            raise ConfigError(
                f"profile.scaling.{key} is not set and no image arm of the study serves as "
                f"one: name a registered variant ({', '.join(VARIANTS.names('image'))})"
            )
        if name not in VARIANTS and not (key == "variant" and name in arms):
            also = " or an arm of the study" if key == "variant" else ""
            raise ConfigError(
                f"profile.scaling.{key} {name!r} is not a registered variant{also}; "
                f"registered: {VARIANTS.names()}"
            )
    if scaling.baseline in scaling.variants:
        raise ConfigError(
            f"profile.scaling.variant and profile.scaling.baseline are both "
            f"{scaling.baseline!r}: the sweep compares attention variants with a baseline "
            "without it; set variant to ones that place attention blocks"
        )
    for name in scaling.variants:
        variant, options = (arms[name].variant, arms[name].options) if name in arms else (name, {})
        if placement(variant, options) is None:
            raise ConfigError(
                f"profile.scaling.variant {name!r} (variant {variant!r}) declares no placement "
                "of its blocks, so the sweep cannot move them; name a variant that does "
                f"({', '.join(placeable_variants())})"
            )
