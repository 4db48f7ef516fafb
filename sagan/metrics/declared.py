"""Every metric declared once: its name, what its sample count counts, its reference split,
unit and direction (which way is better). Evaluation stamps these on each ``metrics.json``
entry; tables, claims, figures and the aggregate look them up here, never in a name pattern.

Three ways a declaration names its metrics:
- ``exact``: the name is the key (``pairs_agreement``, ``it_per_s``);
- ``prefix``: the key and any suffix (``swd`` -> ``swd_16px``, ``swd_mean``);
- ``extractor``: a feature metric, ``<family>_<extractor>[_<tail>]`` (``fd_domain_train``),
  Inception's without the extractor and FD as FID (``fid_train``, ``kid``), as DESIGN.md
  asks: nothing not from Inception is called FID.

Plug-ins declare their own metrics (a probe score, a pixel metric) with ``declare_metric``
beside their registration; evaluation refuses a metric nobody declared.
"""

from __future__ import annotations

from dataclasses import dataclass

from sagan.errors import ConfigError
from sagan.registry import load_plugins

NAMINGS = ("exact", "prefix", "extractor")
BETTER = ("lower", "higher", None)  # None: neither side is better (a spread, a z-score)
INCEPTION = "inception"
# what a feature extractor's metrics count, by the name it puts in a metric's name
# (default: generated images)
EXTRACTOR_INPUTS: dict[str, str] = {}


@dataclass(frozen=True)
class MetricDeclaration:
    family: str  # the stem of its names: "fd", "memo", "swd", "pairs_agreement"
    better: str | None
    unit: str
    samples: str  # what its sample count counts ("generated images", "frames", ...)
    reference_split: str | None = None  # "heldout", "train", "both"; None: no reference set
    naming: str = "exact"
    tail: str = ""  # extractor naming: what follows the extractor ("train", "gap", ...)

    @property
    def key(self) -> str:
        return f"{self.family}_{self.tail}" if self.tail else self.family


@dataclass(frozen=True)
class DeclaredMetric:
    """A metric name resolved to its declaration (and, for a feature metric, its extractor)."""

    name: str
    declaration: MetricDeclaration
    extractor: str | None = None

    @property
    def better(self) -> str | None:
        return self.declaration.better

    @property
    def samples(self) -> str:
        if self.declaration.naming == "extractor":
            return "generated " + EXTRACTOR_INPUTS.get(self.extractor or "", "images")
        return self.declaration.samples

    @property
    def on_images(self) -> bool:
        """A feature metric over whole generated images (not frames, not clips)."""
        return self.declaration.naming == "extractor" and self.samples == "generated images"


_DECLARED: dict[str, MetricDeclaration] = {}


def declare_metric(
    family: str,
    *,
    better: str | None,
    unit: str,
    samples: str = "generated images",
    reference_split: str | None = None,
    naming: str = "exact",
    tail: str = "",
) -> MetricDeclaration:
    """Declare a metric (or a family of names, see the module docstring); twice raises."""
    if better not in BETTER:
        raise ValueError(f"metric {family!r}: better must be one of {BETTER}, got {better!r}")
    if naming not in NAMINGS:
        raise ValueError(f"metric {family!r}: naming must be one of {NAMINGS}, got {naming!r}")
    decl = MetricDeclaration(family, better, unit, samples, reference_split, naming, tail)
    if decl.key in _DECLARED:
        raise ValueError(f"metric {decl.key!r} is already declared; pick another name")
    _DECLARED[decl.key] = decl
    return decl


def undeclare_metric(key: str) -> None:
    """Remove a declaration (for tests that declare throwaway metrics)."""
    _DECLARED.pop(key, None)


def declare_extractor_input(name: str, counts: str) -> None:
    """What the metrics of extractor ``name`` count, e.g. "frames" (default: images)."""
    EXTRACTOR_INPUTS[name] = counts


def feature_name(family: str, extractor: str, tail: str = "") -> str:
    """The name of a declared feature metric: ``fd``, ``domain``, ``train`` ->
    ``fd_domain_train``; Inception's carry no suffix and FD is FID (``fid_train``)."""
    decl = _DECLARED.get(f"{family}_{tail}" if tail else family)
    if decl is None or decl.naming != "extractor":
        raise ValueError(f"no feature metric {family!r} with tail {tail!r} is declared")
    if extractor == INCEPTION:
        head = "fid" if family == "fd" else family
    else:
        head = f"{family}_{extractor}"
    return f"{head}_{tail}" if tail else head


def resolve(name: str) -> DeclaredMetric | None:
    """The declaration of a metric or summary column name; None for an undeclared one."""
    load_plugins()
    if (decl := _DECLARED.get(name)) is not None and decl.naming == "exact":
        return DeclaredMetric(name, decl)
    # a declared tail first: fd_domain_train is FD's train form, not FD of "domain_train"
    features = sorted(
        (d for d in _DECLARED.values() if d.naming == "extractor"),
        key=lambda d: (-len(d.tail), -len(d.family)),
    )
    for decl in features:
        if extractor := _extractor_of(name, decl):
            return DeclaredMetric(name, decl, extractor)
    for decl in _DECLARED.values():
        if decl.naming == "prefix" and name.startswith(f"{decl.family}_"):
            return DeclaredMetric(name, decl)
    return None


def _extractor_of(name: str, decl: MetricDeclaration) -> str | None:
    """The extractor in ``name`` if it is one of ``decl``'s names, else None."""
    if name == feature_name(decl.family, INCEPTION, decl.tail):
        return INCEPTION
    end = f"_{decl.tail}" if decl.tail else ""
    head = f"{decl.family}_"
    if name.startswith(head) and name.endswith(end) and len(name) > len(head) + len(end):
        return name[len(head) : len(name) - len(end)]
    return None


def declared(name: str) -> DeclaredMetric:
    """``resolve``, but an undeclared name raises, naming the fix."""
    found = resolve(name)
    if found is None:
        raise ConfigError(
            f"metric {name!r} is not declared; declare it beside its registration with "
            "sagan.metrics.declared.declare_metric (its unit, direction, samples)"
        )
    return found


def better(name: str) -> str | None:
    """'lower' or 'higher' where one is better, None where neither is or nobody declared it."""
    found = resolve(name)
    return found.better if found else None


def annotate(metrics: dict[str, dict]) -> dict[str, dict]:
    """``metrics.json`` entries with their declaration's unit, direction, what their sample
    count counts and their family; an undeclared metric raises."""
    out = {}
    for name, entry in metrics.items():
        m = declared(name)
        stamp = {"family": m.declaration.key, "better": m.better, "unit": m.declaration.unit}
        out[name] = {**entry, **stamp, "samples": m.samples}
    return out


# -- the core's metrics ----------------------------------------------------------------------
FD_UNIT = "Frechet distance, squared feature units"
KID_UNIT = "kernel distance (cubic kernel), squared feature units"
PIXELS = "generated images (at most 1,024)"  # sagan.metrics.pixel_metrics.MAX_IMAGES
RUN, MODEL, PROFILE = "the training run", "the model", "the step profile"


def _feature(family: str, better: str | None, unit: str, split: str | None, tail: str = "") -> None:
    declare_metric(
        family, better=better, unit=unit, reference_split=split, naming="extractor", tail=tail
    )


# feature metrics (sagan.metrics.suite); gap: held-out minus train (> 0: G is closer to what
# it trained on), so smaller is better
for _family, _unit in (("fd", FD_UNIT), ("kid", KID_UNIT)):
    _feature(_family, "lower", _unit, "heldout")
    _feature(_family, "lower", _unit, "train", "train")
    _feature(_family, "lower", _unit, "both", "gap")
_feature("kid", None, KID_UNIT, "heldout", "std")
_feature("fd", "lower", FD_UNIT + ", extrapolated to infinite samples", "heldout", "infinity")
for _family in ("precision", "recall", "density", "coverage"):
    _feature(_family, "higher", "fraction (k-NN manifolds, k = 3)", "heldout")
_feature("memo", "lower", "fraction of generated samples", "both", "near_copy_fraction")
_feature(
    "memo", None, "ratio of median NN distances (< 1: nearer training)", "both", "median_ratio"
)
_feature("memo", None, "Mann-Whitney z (< -3: copying)", "both", "mann_whitney_z")
_feature("class_coverage", "higher", "fraction of classes", None)
_feature("class_confidence", "higher", "mean top-class probability", None)
_feature("conditional_accuracy", "higher", "fraction of images", "heldout")
declare_extractor_input("frame_domain", "frames")  # every frame of the generated clips
declare_extractor_input("video_domain3d", "clips")
declare_metric("is", better="higher", unit="Inception score")
declare_metric("is_std", better=None, unit="Inception score, std over splits")
# video (sagan.metrics.video_evaluate)
declare_metric(
    "fvd", better="lower", unit=FD_UNIT + " (I3D)", samples="generated clips",
    reference_split="heldout",
)  # fmt: skip
for _name, _unit in (
    ("temporal_consistency", "fraction of clips whose frames show one class"),
    ("motion_smoothness", "1 - consecutive / all-pairs frame distance"),
):
    declare_metric(_name, better="higher", unit=_unit, samples="generated clips")
# pixel metrics (sagan.metrics.pixel_metrics)
declare_metric(
    "swd", better="lower", samples=PIXELS, reference_split="heldout", naming="prefix",
    unit="sliced Wasserstein distance x 1e3 (ProGAN's scale), normalised patches",
)  # fmt: skip
for _name in ("spectrum_l1", "spectrum_hf_l1"):
    declare_metric(
        _name, better="lower", samples=PIXELS, reference_split="heldout",
        unit="dB, mean absolute difference of the mean grey-image ring spectra",
    )  # fmt: skip
# probe scores (sagan.metrics.probes)
declare_metric("mirror_error", better="lower", unit="mean |x - mirror(x)| / 255")
declare_metric("pairs_agreement", better="higher", unit="fraction of images")
# pairs against the batch's own independence baseline (sum_c p_left(c) p_right(c)): a
# collapsed G agrees far above 1/9 with no dependence at all
declare_metric(
    "pairs_independence_baseline", better=None,
    unit="fraction of images agreeing if left and right were drawn independently",
)  # fmt: skip
declare_metric(
    "pairs_excess_agreement", better="higher",
    unit="fraction of images, agreement minus its own independence baseline",
)  # fmt: skip
declare_metric(
    "pairs_mutual_information", better="higher",
    samples="generated images with both objects decoded",
    unit="bits, I(left class; right class), plug-in (log2 9 = 3.17 at most)",
)  # fmt: skip
# the summary's training columns and the cost profile's (per run or model, not per sample)
for _name, _better, _unit, _samples in (
    ("it_per_s", "higher", "iterations per second", RUN),
    ("s_per_it", "lower", "seconds per iteration", RUN),
    ("train_seconds", "lower", "seconds", RUN),
    ("r_t", "lower", "E[sign(D(x_train))], toward 1 as D overfits", RUN),
    ("d_gap", "lower", "mean D logit, training minus held-out reals", RUN),
    ("fd_at_equal_time", "lower", FD_UNIT + ", scored while training", RUN),
    # sagan.report.run_checks: < 0 while FD still falls; read against its tolerance
    ("converged_change", None, "relative change of FD while training, last third", RUN),
    ("gamma_g_final", None, "mean |gamma| of G's attention gates at the end", MODEL),
    ("gamma_d_final", None, "mean |gamma| of D's attention gates at the end", MODEL),
    ("params_g", "lower", "parameters", MODEL),
    ("params_d", "lower", "parameters", MODEL),
    ("macs_g", "lower", "multiply-adds per image", MODEL),
    ("macs_d", "lower", "multiply-adds per image", MODEL),
    ("ms_per_step", "lower", "ms per training step (D + G)", PROFILE),
    ("peak_mem_mib", "lower", "MiB", PROFILE),
    ("images_per_s", "higher", "images per second", PROFILE),
):
    declare_metric(_name, better=_better, unit=_unit, samples=_samples)
