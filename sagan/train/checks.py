"""The training recipe's values checked up front: one ConfigError naming the key and the
allowed values, before any job of a study starts."""

from __future__ import annotations

from sagan.config import RunConfig, TrainConfig
from sagan.errors import ConfigError
from sagan.streams import STREAMS
from sagan.train.live_log import check_mode
from sagan.train.losses import LOSSES
from sagan.train.precision import PRECISIONS
from sagan.train.progressive import check_progressive


def check_train(t: TrainConfig) -> None:
    if t.precision not in PRECISIONS:
        raise ConfigError(
            f"train.precision {t.precision!r} is unknown; allowed: {list(PRECISIONS)}"
        )
    if t.streams not in STREAMS:
        raise ConfigError(f"train.streams {t.streams!r} is unknown; allowed: {list(STREAMS)}")
    if t.loss not in LOSSES:
        raise ConfigError(f"train.loss {t.loss!r} is unknown; allowed: {list(LOSSES)}")
    if t.compile and t.loss == "wgan-gp":
        raise ConfigError(
            "train.compile does not support loss wgan-gp (the penalty's extra D forward "
            "before backward breaks a compiled backward); use hinge or ns, or compile: false"
        )
    for key in ("lr_g", "lr_d"):
        if not getattr(t, key) > 0:
            raise ConfigError(f"train.{key} must be a positive number, got {getattr(t, key)}")
    if len(t.betas) != 2 or not all(_number(b) and 0.0 <= b < 1.0 for b in t.betas):
        raise ConfigError(
            f"train.betas must be two numbers in [0, 1) (Adam's beta1, beta2), e.g. [0.0, 0.9]; "
            f"got {list(t.betas)}"
        )
    if not 0.0 <= t.ema_decay < 1.0:
        raise ConfigError(f"train.ema_decay must be in [0, 1) (0 = no EMA), got {t.ema_decay}")
    for key in (
        "iterations",
        "batch_size",
        "n_dis",
        "log_every",
        "sample_every",
        "checkpoint_every",
        "keep_checkpoints",
    ):
        if getattr(t, key) < 1:
            raise ConfigError(f"train.{key} must be at least 1, got {getattr(t, key)}")
    check_progressive(t.progressive)
    check_mode(t.tensorboard)


def pinned_code_note(cfg: RunConfig) -> str:
    """ "" when the run's variant code is the code its run key names; else a warning: a run
    pinned to an old source (``source:``) that trains further does so with today's code."""
    from sagan.layout import source_hash
    from sagan.registry import VARIANTS, load_plugins

    load_plugins(cfg.plugins)
    now = source_hash(VARIANTS.get(cfg.variant).builder)
    if not cfg.variant_source or cfg.variant_source == now:
        return ""
    return (
        f"variant {cfg.variant!r} is pinned to source {cfg.variant_source}, but its code is now "
        f"source {now}: the iterations trained now use today's code; check out the pinned "
        "version to train with the code the run key names"
    )


def _number(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)
