"""A study as one typed object, parsed once from its YAML document.

``parse_study`` reads the document (after the schema and ``check_plain_study``) into a frozen
``Study``: its dataset entries, its arms (sweeps expanded once), its sections and its profile
settings. Every default a study may leave out is stated once, on the typed config that owns it
(``sagan.config``: ``EvalConfig``, ``TrainConfig``, ``ModelConfig``) or on the dataclasses
below; the planner (``sagan.study``), the workflow, the forecast, the cost profile and the CLI
read attributes of the ``Study`` instead of keys of the document.

The one merge rule, "an arm's keys over its dataset entry's over the study's", is
``Study.section``; ``Study.for_dataset`` is the study as one dataset entry sees it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from sagan.arms import Arm, expand_arms
from sagan.config import EvalConfig, ExtractorConfig, TrainConfig
from sagan.errors import ConfigError
from sagan.study_checks import (
    check_no_train_seed,
    check_pilot_seeds,
    check_seeds,
    check_sizes,
    check_study_name,
)

DEFAULT_EXTRACTOR: str = EvalConfig.extractor
DEFAULT_BATCH_SIZE: int = TrainConfig.batch_size
DEFAULT_EXTRACTOR_EPOCHS: int = ExtractorConfig.epochs
SECTIONS = ("model", "train", "evaluation")  # a dataset entry may override keys of these
ARM_SECTIONS = ("model", "train")  # an arm may override keys of these


@dataclass(frozen=True)
class ScalingSettings:
    """``profile.scaling``: attention cost against image size, one block at side / divisor.
    ``variants`` and ``baseline`` empty: chosen from the study's arms (``sagan.cost.plan``)."""

    variants: tuple[str, ...] = ()
    baseline: str | None = None
    resolutions: tuple[int, ...] = (32, 64, 128)
    divisors: tuple[int, ...] = (2, 4)
    batch: int = 8


@dataclass(frozen=True)
class ProfileSettings:
    """``profile``: the side-by-side training-step profile. ``device`` None: ``cuda`` when
    the workflow is given GPUs, else ``cpu``; ``baseline`` "": the study's first arm."""

    device: str | None = None
    baseline: str = ""
    precisions: tuple[str, ...] = ("fp32",)
    repeats: int = 25  # interleaved rounds: cheap on a quiet machine; a verdict needs 9
    warmup: int = 2
    memory: bool = True
    scaling: ScalingSettings = field(default_factory=ScalingSettings)

    def device_for(self, gpus: bool = False) -> str:
        """Where the profile runs: its ``device``, else ``cuda`` when the workflow was given
        GPUs, ``cpu`` when not."""
        return self.device or ("cuda" if gpus else "cpu")


@dataclass(frozen=True)
class DatasetEntry:
    """One entry of ``datasets:``. ``model`` / ``train`` / ``evaluation``: its own keys over
    the study's (as written); ``sizes`` and ``variants`` empty: the study's."""

    name: str
    source: str  # the registered dataset it builds (``dataset:``, default its name)
    resolution: int
    heldout: int
    options: dict[str, Any] = field(default_factory=dict)
    sizes: tuple[int | str, ...] = ()
    variants: tuple[str, ...] = ()
    model: dict[str, Any] = field(default_factory=dict)
    train: dict[str, Any] = field(default_factory=dict)
    evaluation: dict[str, Any] = field(default_factory=dict)
    extractor_epochs: int | None = None

    @property
    def overrides(self) -> bool:
        """Whether it sets keys of any section (its messages then name it)."""
        return any(getattr(self, s) for s in SECTIONS)


@dataclass(frozen=True)
class Study:
    """A study: datasets x arms x sizes x seeds, and how to score and cost them."""

    name: str
    datasets: dict[str, DatasetEntry]
    arms: dict[str, Arm]  # by name, sweeps expanded
    seeds: tuple[int, ...] = ()
    sizes: tuple[int | str, ...] = ()
    pilot_seeds: tuple[int, ...] | None = None
    plugins: tuple[str, ...] = ()
    model: dict[str, Any] = field(default_factory=dict)  # the sections as written
    train: dict[str, Any] = field(default_factory=dict)
    evaluation: dict[str, Any] = field(default_factory=dict)
    profile: ProfileSettings = field(default_factory=ProfileSettings)
    extractor_epochs: int = DEFAULT_EXTRACTOR_EPOCHS
    claims: dict[str, Any] = field(default_factory=dict)  # over the design's
    jobs_per_gpu: int = 1
    gpu_pool_dir: str = ""
    entries: dict[str, Any] = field(default_factory=dict)  # ``variants:`` as written
    document: dict[str, Any] = field(default_factory=dict, repr=False)  # the YAML as read

    def section(self, name: str, dataset: str | None = None, arm: Arm | None = None) -> dict:
        """One of ``model`` / ``train`` / ``evaluation`` as a run sees it: the arm's keys over
        the dataset entry's over the study's (a fresh dict)."""
        merged = dict(getattr(self, name))
        if dataset is not None:
            merged |= getattr(self.datasets[dataset], name)
        if arm is not None and name in ARM_SECTIONS:
            merged |= getattr(arm, name)
        return merged

    def for_dataset(self, dataset: str, evaluation: dict[str, Any] | None = None) -> Study:
        """The study as one dataset entry sees it: its sections merged over the study's, its
        sizes; ``evaluation`` replaces the merged evaluation section where given."""
        entry = self.datasets[dataset]
        return replace(
            self,
            model=self.section("model", dataset),
            train=self.section("train", dataset),
            evaluation=self.section("evaluation", dataset) if evaluation is None else evaluation,
            sizes=entry.sizes or self.sizes,
        )

    def sizes_of(self, dataset: str) -> tuple[int | str, ...]:
        """The training-set sizes of a dataset entry (its own, else the study's)."""
        return self.datasets[dataset].sizes or self.sizes

    @property
    def batch_size(self) -> int:
        """The study's training batch size (its ``train.batch_size``), or the default."""
        return self.train.get("batch_size", DEFAULT_BATCH_SIZE)


def extractor_of(evaluation: Mapping[str, Any] | None) -> str:
    """The extractor an evaluation section names, or the default."""
    return (evaluation or {}).get("extractor", DEFAULT_EXTRACTOR)


def parse_study(document: Mapping[str, Any]) -> Study:
    """The ``Study`` a YAML document describes; its plain values (name, seeds, sizes, the
    shape of its entries) checked first, each in one ConfigError naming the key. Registry
    names, options and memory are checked by ``sagan.study.validate_study``."""
    if not isinstance(document, Mapping):
        raise ConfigError("a study config must be a mapping of keys (study:, datasets:, ...)")
    doc = dict(document)
    check_study_name(doc.get("study"))
    # a part of a study (the cost profile's, sagan.cost) has no seeds or sizes:
    # validate_study requires them of a whole one
    if "seeds" in doc:
        check_seeds(doc["seeds"])
        check_pilot_seeds(doc["seeds"], doc.get("pilot_seeds"))
    datasets = _mapping(doc.get("datasets"), "datasets")
    check_no_train_seed(doc)
    if "sizes" in doc:
        if not isinstance(doc["sizes"], list):
            raise ConfigError(f"sizes must be a list, got {doc['sizes']!r:.60}")
        check_sizes(doc["sizes"], "sizes")
    entries = _mapping(doc.get("variants"), "variants")
    if not datasets or not entries:
        raise ConfigError("a study needs datasets: and variants:, each naming at least one")
    pilots = doc.get("pilot_seeds")
    return Study(
        name=doc["study"],
        datasets={name: _entry(name, entry) for name, entry in datasets.items()},
        arms=expand_arms(entries),
        seeds=tuple(doc.get("seeds") or ()),
        sizes=tuple(doc.get("sizes") or ()),
        pilot_seeds=None if pilots is None else tuple(pilots),
        plugins=tuple(doc.get("plugins") or ()),
        model=_section(doc, "model", ""),
        train=_section(doc, "train", ""),
        evaluation=_section(doc, "evaluation", ""),
        profile=_profile(_mapping(doc.get("profile"), "profile")),
        extractor_epochs=int(
            _mapping(doc.get("extractor"), "extractor").get("epochs", DEFAULT_EXTRACTOR_EPOCHS)
        ),
        claims=_mapping(doc.get("claims"), "claims"),
        jobs_per_gpu=int(doc.get("jobs_per_gpu", 1)),
        gpu_pool_dir=str(doc.get("gpu_pool_dir") or ""),
        entries=entries,
        document=doc,
    )


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where} must be a mapping of keys, got {value!r:.60}")
    return dict(value)


def _section(doc: Mapping[str, Any], name: str, where: str) -> dict[str, Any]:
    return _mapping(doc.get(name), f"{where}{name}")


def _entry(name: str, raw: Any) -> DatasetEntry:
    where = f"datasets.{name}"
    entry = _mapping(raw, where)
    for key in ("resolution", "heldout"):
        if key not in entry:
            raise ConfigError(f"{where} lacks required key {key!r}; required: resolution, heldout")
    extractor = _mapping(entry.get("extractor"), f"{where}.extractor")
    return DatasetEntry(
        name=name,
        source=str(entry.get("dataset", name)),
        resolution=entry["resolution"],
        heldout=entry["heldout"],
        options=_mapping(entry.get("options"), f"{where}.options"),
        sizes=tuple(entry.get("sizes") or ()),
        variants=tuple(entry.get("variants") or ()),
        model=_section(entry, "model", f"{where}."),
        train=_section(entry, "train", f"{where}."),
        evaluation=_section(entry, "evaluation", f"{where}."),
        extractor_epochs=extractor.get("epochs"),
    )


def _profile(raw: dict[str, Any]) -> ProfileSettings:
    scaling = _mapping(raw.pop("scaling", None), "profile.scaling")
    named = scaling.pop("variant", None)
    variants = () if named is None else (named,) if isinstance(named, str) else tuple(named)
    tuples = {k: tuple(v) for k in ("resolutions", "divisors") if (v := scaling.get(k))}
    if "precisions" in raw:
        raw["precisions"] = tuple(raw["precisions"])
    try:
        sweep = ScalingSettings(variants=variants, **(scaling | tuples))
        return ProfileSettings(scaling=sweep, **raw)
    except TypeError as err:  # a key the schema would have refused
        raise ConfigError(f"profile: {err}") from None
