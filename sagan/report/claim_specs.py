"""Claims as data: what a claim names, and how a study's own claims go over the design's.

A ``ClaimSpec`` names two arms of a study (``arm`` against ``baseline``), the metric, the
claimed range of the effect and how the effect is oriented; ``sagan.report.claims`` measures
it. The design's claims are a data file of the workflow (config/claims.yaml, read with
``load_claims``), so this library names no variant; a study config may add its own or change
their fields through an optional ``claims:`` mapping (``claims_from_study``):

    claims:
      "1": {claimed: [5, 30]}               # an existing id: only the given fields change
      my-claim:                             # a new id adds a claim
        title: "wider attention helps"
        arm: sagan-wide
        baseline: sagan
        claimed: [0, .inf]
        sesoi: 2                            # smallest effect of interest, effect's unit
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sagan.errors import ConfigError

HEADLINE = "headline"  # the FD column sagan.report.paper_tables.headline picks
KINDS = ("paired", "placement", "profile_overhead", "profile_saving", "equal_time")
ROWS = ("all", "video")
EVERY_OTHER_ARM = "*"  # arm: each arm of the rows other than the baseline, one row each


@dataclass(frozen=True)
class ClaimSpec:
    """One claim, measured as ``arm`` against ``baseline`` on runs sharing (study, dataset,
    size, seed) (``kind`` "paired"), or from the cost profile, or from a placement sweep.

    - ``metric``: a summary column, ``"headline"`` (the headline FD column),
      ``"headline_gap"`` (its generalisation gap) or ``"s_per_it"`` (1 / it_per_s);
    - ``claimed``: the claimed range (lo, hi) of the effect, ``math.inf`` for open;
    - ``sesoi``: the smallest effect of interest (the margin), > 0 in the effect's unit: a
      % of the baseline for a relative effect; a verdict of "equivalent to no effect" says
      the effect lies within +-sesoi (None: no equivalence test). An absolute difference of
      an FD or KID is no unit a margin can be stated in (its scale moves with the extractor
      and data), so such a claim gives ``sesoi_floors`` instead: the margin is that many
      real-vs-real noise floors of the dataset (``results/<study>/noise_floor.csv``);
    - ``quality``: a claim about sample quality, so runs that collapsed or did not converge
      are left out (with a sensitivity row keeping them); false for a cost measured on runs;
    - ``relative``: the effect in % of the baseline; the effect is oriented by the metric's
      declared direction (``sagan.metrics.declared``) so that > 0 means the arm is better;
      ``raw_difference``: keep arm minus baseline instead (> 0: the arm's value is larger,
      e.g. an overhead or an amplified gap);
    - ``datasets``: only these datasets (None: all); ``rows``: "all" or "video" runs only;
      ``max_train_images``: only runs below this many training images;
    - ``kind``: "paired"; "placement" (claim 2: the arms of one sweep over G's attention
      side, ``arm`` their registered variant); "profile_overhead" (step time of ``arm`` over
      ``baseline``, %); "profile_saving" (step time saved by ``arm`` vs ``baseline``, %);
      "equal_time" (FD while training of seed-paired runs read at equal training seconds);
    - ``comparison``/``effect``: the row's text, ``{arm}``/``{baseline}``/``{metric}`` filled;
    - ``needs``: what would measure it, shown while it is not measured; ``note``: a caveat;
    - ``when_present``: show the row only when the metric has data (an optional probe);
    - ``arm_label``: what ``{arm}`` reads as in a not-measured row of ``arm: "*"``.
    """

    id: str
    title: str
    arm: str
    baseline: str
    claimed: tuple[float, float]
    sesoi: float | None = None
    sesoi_floors: float | None = None
    quality: bool = True
    metric: str = HEADLINE
    relative: bool = True
    raw_difference: bool = False
    datasets: tuple[str, ...] | None = None
    rows: str = "all"
    max_train_images: int | None = None
    kind: str = "paired"
    comparison: str = "{arm} vs {baseline}, paired"
    effect: str = ""
    needs: str = ""
    note: str = ""
    when_present: bool = False
    arm_label: str = ""  # how {arm} reads while arm "*" has no arm measured

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(f"claim {self.id!r}: kind {self.kind!r} is not one of {KINDS}")
        if self.rows not in ROWS:
            raise ConfigError(f"claim {self.id!r}: rows {self.rows!r} is not one of {ROWS}")
        lo, hi = self.claimed
        if not lo <= hi:
            raise ConfigError(f"claim {self.id!r}: claimed range {self.claimed} has lo > hi")
        if math.isinf(lo) and math.isinf(hi):
            raise ConfigError(f"claim {self.id!r}: claimed range {self.claimed} claims nothing")
        if self.sesoi is not None and not 0 < self.sesoi < math.inf:
            raise ConfigError(
                f"claim {self.id!r}: sesoi (smallest effect of interest) must be a finite "
                f"number > 0 in the effect's unit, got {self.sesoi}"
            )
        if self.sesoi_floors is not None and not 1 <= self.sesoi_floors < math.inf:
            raise ConfigError(
                f"claim {self.id!r}: sesoi_floors must be a finite number >= 1 (the margin in "
                f"real-vs-real noise floors), got {self.sesoi_floors}"
            )
        if self.sesoi is not None and self.sesoi_floors is not None:
            raise ConfigError(f"claim {self.id!r}: give sesoi or sesoi_floors, not both")
        if self.sesoi is not None and not self.relative and _a_distance(self.metric):
            raise ConfigError(
                f"claim {self.id!r}: sesoi {self.sesoi:g} is a bare {self.metric} difference, "
                "whose meaning moves with the extractor and data; set sesoi_floors: k (k "
                "real-vs-real noise floors), or relative: true and sesoi as a % of the baseline"
            )

    @property
    def label(self) -> str:
        """The claim column's text: the title, prefixed with the id unless it already is."""
        head = self.id.split("-")[0]
        if self.title == self.id or self.title.startswith(f"{head}:"):
            return self.title
        return f"{self.id}: {self.title}"

    def text(self, template: str, metric: str | None = None) -> str:
        """``template`` with {arm}, {baseline} and {metric} filled (other braces kept)."""
        arm = self.arm_label if self.arm == EVERY_OTHER_ARM and self.arm_label else self.arm
        names = {"{arm}": arm, "{baseline}": self.baseline, "{metric}": metric or "FD"}
        for key, value in names.items():
            template = template.replace(key, value)
        return template


def _a_distance(metric: str) -> bool:
    """Whether ``metric`` is an FD or KID (the headline, its gap, or a declared one)."""
    if metric in (HEADLINE, f"{HEADLINE}_gap"):
        return True
    from sagan.metrics.declared import resolve

    found = resolve(metric)
    return found is not None and found.declaration.family in ("fd", "kid")


MARGINS = ("sesoi", "sesoi_floors")  # one margin: setting either clears the other
FIELDS = tuple(f.name for f in dataclasses.fields(ClaimSpec))
SETTABLE = tuple(f for f in FIELDS if f != "id")
REQUIRED_NEW = ("arm", "baseline", "claimed")  # a new claim must say these


def _number(v: Any) -> float:
    """A number, or YAML's infinity spelled as text (".inf", "-.inf", "inf")."""
    if isinstance(v, str):
        v = v.strip().replace(".inf", "inf")
    if isinstance(v, bool):
        raise ValueError(v)
    return float(v)


def _coerce(cid: str, key: str, value: Any) -> Any:
    if key == "claimed":
        try:
            lo, hi = (_number(v) for v in value)
        except (TypeError, ValueError) as e:
            raise ConfigError(
                f"claim {cid!r}: claimed must be two numbers [lo, hi] (.inf for open), "
                f"got {value!r}"
            ) from e
        return (lo, hi)
    if key in MARGINS:
        try:
            return None if value is None else _number(value)
        except (TypeError, ValueError) as e:
            raise ConfigError(f"claim {cid!r}: {key} must be a number, got {value!r}") from e
    if key == "datasets":
        if value is None:
            return None
        if isinstance(value, str):
            return (value,)
        return tuple(str(v) for v in value)
    if key == "max_train_images":
        return None if value is None else int(value)
    if key in ("relative", "raw_difference", "when_present", "quality"):
        if not isinstance(value, bool):
            raise ConfigError(f"claim {cid!r}: {key} must be true or false, got {value!r}")
        return value
    if not isinstance(value, str):
        raise ConfigError(f"claim {cid!r}: {key} must be text, got {value!r}")
    return value


def load_claims(path: str | Path) -> list[ClaimSpec]:
    """The claims a YAML file declares (id -> fields), e.g. the design's config/claims.yaml."""
    import yaml

    try:
        declared = yaml.safe_load(Path(path).read_text()) or {}
    except (OSError, yaml.YAMLError) as err:
        raise ConfigError(f"claims file {path}: {err}") from None
    return claims_from_study(declared, [])


def claims_to_dict(claims: Sequence[ClaimSpec]) -> dict[str, dict[str, Any]]:
    """Claims as the mapping ``load_claims`` reads (infinite bounds as YAML's .inf)."""
    out = {}
    for c in claims:
        fields = {k: v for k, v in dataclasses.asdict(c).items() if k != "id"}
        fields["claimed"] = [float(x) for x in c.claimed]
        fields["datasets"] = list(c.datasets) if c.datasets is not None else None
        out[c.id] = fields
    return out


def claims_from_study(
    claims: Mapping[str, Any] | None, defaults: Sequence[ClaimSpec]
) -> list[ClaimSpec]:
    """The claims a study is judged on: ``defaults`` (the design's), with the fields that the
    study's optional ``claims:`` section (``claims``: id -> fields) gives for an existing id
    replaced, and a new id added (it needs arm, baseline and claimed; its title defaults to
    the id). Unknown fields raise ConfigError naming the field and the allowed ones."""
    specs = {c.id: c for c in defaults}
    given = claims or {}
    if not isinstance(given, Mapping):
        raise ConfigError(f"claims must be a mapping of claim id -> fields, got {given!r}")
    for cid, fields in given.items():
        cid = str(cid)
        fields = fields or {}
        if not isinstance(fields, Mapping):
            raise ConfigError(f"claim {cid!r}: its fields must be a mapping, got {fields!r}")
        unknown = sorted(set(fields) - set(SETTABLE))
        if "lower_is_better" in unknown:
            raise ConfigError(
                f"claim {cid!r}: lower_is_better is gone: the metric's declared direction "
                "orients the effect; drop it, or set raw_difference: true for arm - baseline"
            )
        if unknown:
            raise ConfigError(
                f"claim {cid!r}: unknown field(s) {', '.join(map(repr, unknown))}; "
                f"allowed: {', '.join(SETTABLE)}"
            )
        values = {k: _coerce(cid, k, v) for k, v in fields.items()}
        if cid in specs:
            given_margin = [k for k in MARGINS if k in values]
            cleared = {k: None for k in MARGINS if given_margin and k not in values}
            specs[cid] = dataclasses.replace(specs[cid], **cleared, **values)
            continue
        missing = [k for k in REQUIRED_NEW if k not in values]
        if missing:
            raise ConfigError(
                f"claim {cid!r} is not one of the defaults ({', '.join(specs)}), so it needs "
                f"{', '.join(missing)}"
            )
        specs[cid] = ClaimSpec(**{"id": cid, "title": cid, **values})
    return list(specs.values())
