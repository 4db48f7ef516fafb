"""Typed run configuration. Unknown keys fail at once; the resolved config is saved per run."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml

from sagan.errors import ConfigError
from sagan.io import atomic_write_text, read_yaml

C = TypeVar("C")


@dataclass(frozen=True)
class DataConfig:
    dataset: str = "digits"  # the study's name for it (tables, folders)
    source: str = ""  # the registered dataset it is built from ("" = dataset)
    resolution: int = 32  # image side in pixels
    size: int | str = "full"  # training images: a count, or "full" for the whole pool
    path: str = ""  # the prepared data file (sagan prepare)


@dataclass(frozen=True)
class ModelConfig:
    backbone: str = "dcgan"
    width: int = 32  # channels of the widest-resolution stage; deeper stages double it
    z_dim: int = 128
    conditional: bool = False  # class-conditional G and D (needs a labelled dataset)
    g_spectral_norm: str = "backbone"  # spectral norm in G: backbone (its default) | on | off


@dataclass(frozen=True)
class ProgressiveConfig:
    """ProGAN's schedule (Karras et al. 2018): train at ``start_resolution``, then per doubling
    fade the next stage in over ``fade_iterations`` and hold it ``phase_iterations``."""

    start_resolution: int = 8  # image side of the first stage, a power of two >= 4
    phase_iterations: int = 500  # stable iterations at each resolution (the last: until the end)
    fade_iterations: int = 500  # iterations over which a new stage's alpha rises 0 -> 1


@dataclass(frozen=True)
class TrainConfig:
    iterations: int = 2000  # generator updates
    batch_size: int = 64
    lr_g: float = 1e-4  # two time-scale update rule (Heusel et al. 2017), as in SAGAN
    lr_d: float = 4e-4
    betas: tuple[float, float] = (0.0, 0.9)
    seed: int = 0
    # paired: one random stream per source, seeded from (seed, source): arms of one seed share
    # backbone init, latents and data order (sagan.streams); global: one generator, as before
    streams: str = "paired"
    log_every: int = 10  # iterations between CSV rows
    sample_every: int = 500  # iterations between sample grids (and log flushes)
    precision: str = "fp32"  # fp32 | bf16 (autocast, CPU and GPU) | fp16 (autocast + scaler, GPU)
    loss: str = "hinge"  # hinge (SAGAN) | ns (non-saturating) | wgan-gp
    gp_weight: float = 10.0  # lambda of WGAN-GP's gradient penalty
    n_dis: int = 1  # D updates per G update
    ema_decay: float = 0.0  # EMA of G's weights, used for samples and evaluation; 0 = off
    ema_start: int = 0  # iteration from which G's EMA averages (before: a copy of G)
    compile: bool = False  # torch.compile G and D in place (state-dict keys unchanged)
    checkpoint_every: int = 1000  # iterations between resumable checkpoints (and at the end)
    keep_checkpoints: int = 2  # newest checkpoints kept in <run>/checkpoints/
    channels_last: bool = True  # NHWC weights: faster convolutions (oneDNN on CPU, cuDNN)
    progressive: ProgressiveConfig | None = None  # progressive growing; None = off
    # TensorBoard event files per run: auto (when the tensorboard extra imports) | true | false
    tensorboard: bool | str = "auto"


@dataclass(frozen=True)
class EvalConfig:
    extractor: str = "domain"
    extractor_path: str = ""  # the trained feature extractor file
    reference_path: str = ""  # reference features of the held-out split
    train_reference_path: str = ""  # reference features of the training pool (overfitting gap)
    num_samples: int = 1000  # generated images scored
    batch_size: int = 250
    seed: int = 2019  # generator-side seed: two evaluations of one checkpoint agree
    fid_infinity: bool = False  # also FD extrapolated to infinite samples (Chong & Forsyth)
    i3d_path: str = ""  # video: an I3D TorchScript file; FVD is added when it is set
    skip_pixel_metrics: tuple[str, ...] = ()  # pixel metrics not computed, e.g. ("swd",)
    during: list[int] = field(default_factory=list)  # iterations at which training scores FD
    during_samples: int = 250  # generated images per during-training FD (small: it is a curve)


@dataclass(frozen=True)
class ExtractorConfig:
    """A study's ``extractor`` section: the domain extractor the workflow trains."""

    epochs: int = 15  # the domain classifier's training epochs (image and video)


@dataclass(frozen=True)
class RunConfig:
    study: str = "adhoc"
    arm: str = ""  # the study's name of this configuration ("" = variant)
    sweep: str = ""  # the swept study entry the arm was expanded from ("" = none)
    sweep_point: dict[str, Any] = field(default_factory=dict)  # the arm's swept values
    variant: str = ""  # the registered variant it builds (required)
    variant_source: str = ""  # hash of the variant's source file: an edit makes new runs
    variant_options: dict[str, Any] = field(default_factory=dict)
    plugins: list[str] = field(default_factory=list)  # extra modules that register things
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)


def from_dict(cls: type[C], data: dict[str, Any] | None, where: str = "config") -> C:
    """Build dataclass ``cls`` from a plain dict, recursing into nested dataclasses.

    Unknown keys raise a ConfigError naming the key and the allowed ones.
    """
    if data is not None and not isinstance(data, dict):
        got = f"{type(data).__name__} {data!r:.60}"
        raise ConfigError(f"{where} must be a mapping of keys, got {got}")
    data = dict(data or {})
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(
            f"unknown key(s) {', '.join(map(repr, unknown))} in {where}; "
            f"allowed: {', '.join(fields)}"
        )
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for name, value in data.items():
        kwargs[name] = _coerce(hints[name], value, f"{where}.{name}")
    return cls(**kwargs)


def _coerce(hint: Any, value: Any, where: str) -> Any:
    if type(None) in typing.get_args(hint):  # an optional section: None, or its mapping
        if value is None:
            return None
        (hint,) = (a for a in typing.get_args(hint) if a is not type(None))
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            raise ConfigError(f"{where} must be a mapping, got {value!r}")
        return from_dict(hint, value, where)
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if typing.get_origin(hint) in (tuple, list):
        if not isinstance(value, list | tuple):  # text would split into characters
            raise ConfigError(f"{where} must be a list, e.g. [a, b], got {value!r}")
        return tuple(value) if typing.get_origin(hint) is tuple else list(value)
    if hint is float and is_number:
        return float(value)
    if hint is float:
        hint_yaml = " (YAML reads 1e-4 as text: write 1.0e-4)" if isinstance(value, str) else ""
        raise ConfigError(f"{where} must be a number, got {value!r}{hint_yaml}")
    if hint is int and not (is_number and float(value).is_integer()):
        raise ConfigError(f"{where} must be an integer, got {value!r}")
    if hint is bool and not isinstance(value, bool):
        raise ConfigError(f"{where} must be true or false, got {value!r}")
    return int(value) if hint is int else value


def to_dict(cfg: Any) -> dict[str, Any]:
    """A plain, YAML-friendly dict (tuples become lists)."""

    def plain(x: Any) -> Any:
        if isinstance(x, tuple | list):
            return [plain(v) for v in x]
        if isinstance(x, dict):
            return {k: plain(v) for k, v in x.items()}
        return x

    return plain(dataclasses.asdict(cfg))


def config_digest(cfg: RunConfig) -> str:
    """A short hash of the whole run config (evaluation included): what a run folder's
    config.yaml must still hash to when a job reads it."""
    text = json.dumps(to_dict(cfg), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def check_unedited(path: str | Path, expected: str) -> RunConfig:
    """The run config at ``path``, if it is still the one the study resolves to (digest
    ``expected``); a run folder is an output, so a hand edit there is refused, not used."""
    cfg = load_run_config(path)
    if config_digest(cfg) != expected:
        raise ConfigError(
            f"{path} no longer matches the study (edited by hand?): a run folder is an "
            "output of the workflow; put the change in the study file, and delete this file "
            "so that the workflow writes it again"
        )
    return cfg


def load_run_config(path: str | Path) -> RunConfig:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"run config {path} does not exist; write one or run the workflow")
    return from_dict(RunConfig, read_yaml(path), where=str(path))


def save_run_config(cfg: RunConfig, path: str | Path) -> None:
    """Write the resolved config; an identical file is left untouched (keeps its mtime)."""
    text = yaml.safe_dump(to_dict(cfg), sort_keys=False)
    path = Path(path)
    if not (path.is_file() and path.read_text() == text):
        atomic_write_text(path, text)
