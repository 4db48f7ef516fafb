"""A verdict on each claim the suite tests (config/claims.yaml; docs/results-and-reports.md,
"Reports, tables and figures"), from the summary table.

Every claim becomes an effect measured on runs that share (study, dataset, size, seed), so
seeds pair up, with a claimed range and a smallest effect of interest (the margin). Then:
- the seed is the unit: each (dataset, seed) cluster is one value, the mean of its per-size
  effects (``sagan.report.clusters``), and n counts clusters;
- one row per dataset; a pooled row beside them only where the datasets agree in sign and a
  heterogeneity test does not reject (else a "not pooled" row says why);
- quality claims leave out runs that collapsed or did not converge, say how many each arm
  lost, and add a sensitivity row with them kept (not part of the tested family);
- each row runs every one-sided t-test its verdict could need (``sagan.report.verdict_rules``:
  the words and their exact rules) and prints the one that decided, or came nearest;
- Holm's adjustment across the table's tested rows: the adjusted p decides;
- a margin is a % of the baseline or a multiple of the real-vs-real noise floor, never a bare
  FD number; where the floor exceeds the margin, or the real data score 0 on the metric at
  this scale, the row reads "untestable at this scale".
Side-by-side profile rows (no seeds) read the same words off the interval of the median over
interleaved repeats. The claims themselves are data (``sagan.report.claim_specs``). Pure
functions over DataFrames; no file is read here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields, replace

import numpy as np
import pandas as pd

from sagan.cost.timing import MIN_ROUNDS, median_interval
from sagan.errors import ConfigError
from sagan.metrics.declared import better, resolve
from sagan.report.claim_specs import (
    EVERY_OTHER_ARM,
    HEADLINE,
    ClaimSpec,
    claims_from_study,
    load_claims,
)
from sagan.report.claims_table import claims_table
from sagan.report.clusters import PAIR, cluster_values, failed_runs, lost_note, pooling_check
from sagan.report.equal_time import EQUAL_TIME, equal_time_rows
from sagan.report.paper_tables import headline, video_rows
from sagan.report.profile_ratios import profile_pairs, round_ratios
from sagan.report.profile_ratios import profile_ratios as _profile_ratios
from sagan.report.stats import paired_differences
from sagan.report.verdict_rules import (
    INCONCLUSIVE,
    NOT_DECIDED,
    NOT_MEASURED,
    NOT_POOLED,
    ONE_SIDED,
    UNTESTABLE,
    WORDS,
    distance_to_tell,
    interval_verdict,
    judge,
    needed_seeds,
)

DATASET, POOLED, ALL_KEPT = "dataset", "pooled", "all runs kept"  # a row's level
CEILING = 0.005  # a real-data score below this reads 0 at the table's precision


@dataclass
class Verdict:
    claim: str
    comparison: str
    effect: str  # what the number measures, with its unit
    claimed: tuple[float, float]
    dataset: str = ""  # the dataset entry, or the datasets a pooled row joins
    level: str = DATASET  # dataset, pooled, or all runs kept (a sensitivity row)
    margin: float = math.nan  # the smallest effect of interest, the effect's unit (NaN: none)
    margin_rule: str = ""  # where the margin comes from ("5 % of the baseline", "2 x floor")
    floor: float = math.nan  # the real-vs-real noise floor, the effect's unit
    n: int = 0  # seed clusters (or datasets for a profile measurement)
    pairs: int = 0  # paired runs behind the clusters
    seeds: int = 0
    mean: float = math.nan
    ci_lo: float = math.nan
    ci_hi: float = math.nan
    test: str = ""  # the test that decided the verdict (inconclusive: that came nearest)
    p: float = math.nan  # its p, one-sided (an intersection-union test: the largest)
    p_holm: float = math.nan  # Holm-adjusted across the table's tested rows: it decides
    p_vs_0: float = math.nan  # two-sided t-test against no effect, for reference
    tests: str = ""  # every one-sided test run for the row, with its p
    mde: float = math.nan  # minimum detectable effect (80% power), the effect's unit
    verdict: str = NOT_MEASURED
    scale: str = ""
    excluded: str = ""  # runs left out as collapsed or not converged, per arm
    note: str = ""  # a caveat of the measurement
    needs: str = ""  # what would measure it, shown while it is not measured


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def measured_verdict(rounds: dict[str, list[float]], claimed: tuple[float, float]) -> dict:
    """For side-by-side measurements (one profile per dataset, no seeds), from each dataset's
    effect in every interleaved round: the interval of its median (``median_interval``: order
    statistics covering it >= 95%, never min or max) gives a dataset its word
    (``interval_verdict``; inconclusive when it straddles a bound or is missing). Fewer than
    MIN_ROUNDS rounds have no such interval: the dataset reads NOT_DECIDED, whatever its
    median says. The row reads a word only where every dataset reads it; one not decided
    leaves the row not decided (more rounds would decide it), else it is inconclusive."""
    if not rounds:
        return {"n": 0, "verdict": NOT_MEASURED}
    words, parts, medians, los, his, repeats = [], [], [], [], [], set()
    for dataset, values in rounds.items():
        v = [x for x in values if np.isfinite(x)]
        if not v:
            words.append(INCONCLUSIVE)
            parts.append(f"{dataset}: no per-repeat times (an older profile)")
            continue
        lo, hi, _ = median_interval(v)
        words.append(NOT_DECIDED if len(v) < MIN_ROUNDS else interval_verdict(lo, hi, claimed))
        medians.append(float(np.median(v)))
        los.append(lo)
        his.append(hi)
        repeats.add(len(v))
        parts.append(_dataset_part(dataset, medians[-1], lo, hi, len(v)))
    return {
        "n": len(rounds),
        "dataset": ", ".join(rounds),
        "mean": float(np.mean(medians)) if medians else math.nan,
        "ci_lo": min(los, default=math.nan),
        "ci_hi": max(his, default=math.nan),
        "test": _rounds_test(repeats),
        "verdict": _row_word(words),
        "note": "; ".join(parts),
    }


def _dataset_part(dataset: str, median: float, lo: float, hi: float, n: int) -> str:
    """One dataset's median and interval over its rounds, for the note."""
    if n < MIN_ROUNDS:
        return f"{dataset}: {median:+.3g} over {n}, not decided: {n} rounds (needs {MIN_ROUNDS})"
    return f"{dataset}: {median:+.3g} [{lo:+.3g}, {hi:+.3g}] over {n}"


def _row_word(words: list[str]) -> str:
    """The word every dataset reads; else not decided where one is, else inconclusive."""
    if len(set(words)) == 1:
        return words[0]
    return NOT_DECIDED if NOT_DECIDED in words else INCONCLUSIVE


def _rounds_test(repeats: set[int]) -> str:
    """How a profile row was tested, naming its rounds per dataset and what a verdict needs."""
    counts = "/".join(map(str, sorted(repeats))) or "no"
    return (
        f"median over {counts} interleaved repeats per dataset; interval: order statistics "
        f"covering that median >= 95% without the extreme rounds (needs {MIN_ROUNDS} rounds; "
        "fewer: not decided); range over datasets"
    )


def scale(runs: pd.DataFrame) -> str:
    """Where an effect was measured: datasets, resolution, training images, iterations."""
    if runs.empty:
        return ""
    parts = [", ".join(sorted(runs["dataset"].unique()))]
    if "resolution" in runs and runs["resolution"].notna().any():
        parts.append("/".join(f"{int(r)} px" for r in sorted(runs["resolution"].dropna().unique())))
    if "train_images" in runs and runs["train_images"].notna().any():
        sizes = sorted(int(s) for s in runs["train_images"].dropna().unique())
        parts.append(f"{'/'.join(map(str, sizes))} images")
    if "iterations" in runs and runs["iterations"].notna().any():
        parts.append(
            "/".join(str(int(i)) for i in sorted(runs["iterations"].dropna().unique())) + " it"
        )
    return "; ".join(parts)


def _metric(summary: pd.DataFrame, spec: ClaimSpec) -> tuple[pd.DataFrame, str | None]:
    """The summary with the spec's metric column resolved (headline FD, its gap, s_per_it)."""
    fd, _ = headline(summary)
    if spec.metric == HEADLINE:
        return summary, fd
    if spec.metric == f"{HEADLINE}_gap":
        return summary, f"{fd}_gap" if fd else None
    if spec.metric == "s_per_it" and "s_per_it" not in summary and "it_per_s" in summary:
        return summary.assign(s_per_it=1 / summary["it_per_s"]), "s_per_it"
    return summary, spec.metric


def lower_is_better(spec: ClaimSpec, metric: str) -> bool:
    """Whether the effect is negated: by the metric's declared direction, so that > 0 means
    the arm is better; never for a ``raw_difference`` (arm - baseline as measured)."""
    if spec.raw_difference:
        return False
    way = better(metric)
    if way is None:
        raise ConfigError(
            f"claim {spec.id!r}: metric {metric!r} declares no better direction "
            "(sagan.metrics.declared); set raw_difference: true to measure arm - baseline"
        )
    return way == "lower"


def _rows(summary: pd.DataFrame, spec: ClaimSpec) -> pd.DataFrame:
    """The runs a claim is measured on: its datasets, video or all runs, below a size."""
    rows = video_rows(summary) if spec.rows == "video" else summary
    if spec.datasets is not None:
        rows = rows[rows["dataset"].isin(spec.datasets)]
    if spec.max_train_images is not None and "train_images" in rows:
        rows = rows[rows["train_images"] < spec.max_train_images]
    return rows


def _base(spec: ClaimSpec, metric: str | None = None, arm: str | None = None) -> Verdict:
    named = spec if arm is None else replace(spec, arm=arm)
    return Verdict(
        spec.label,
        named.text(spec.comparison, metric),
        named.text(spec.effect, metric),
        spec.claimed,
        note=spec.note,
        needs=named.text(spec.needs, metric),
    )


def _floor_metric(metric: str | None) -> str | None:
    """The FD whose real-vs-real floor bounds ``metric``: itself, or the FD of its gap."""
    found = resolve(metric) if metric else None
    if found is None or found.declaration.family != "fd":
        return None
    return metric.removesuffix("_gap") if found.declaration.tail == "gap" else metric


@dataclass(frozen=True)
class Scale:
    """What one dataset's margin is measured against: the baseline's mean (for a relative
    effect) and the real-vs-real floor of the claim's FD (None where not measured)."""

    baseline_mean: float = math.nan
    floor: float | None = None
    ceiling: float | None = None  # the metric's real held-out score, where it has one


def margin_of(spec: ClaimSpec, at: Scale) -> tuple[float, float, str]:
    """(margin, floor, rule) in the effect's unit for one dataset. A relative effect's floor
    is the floor as a % of the baseline's mean. ``sesoi_floors: k`` sets k floors; a floor
    not measured leaves no margin (no equivalence test)."""
    floor = math.nan
    if at.floor is not None:
        floor = 100 * at.floor / abs(at.baseline_mean) if spec.relative else at.floor
    if spec.sesoi_floors is not None:
        if math.isnan(floor):
            return math.nan, floor, "no noise floor measured: no margin"
        return spec.sesoi_floors * floor, floor, f"{spec.sesoi_floors:g} x the real-vs-real floor"
    if spec.sesoi is None:
        return math.nan, floor, ""
    unit = " % of the baseline" if spec.relative else " (effect's unit)"
    return spec.sesoi, floor, f"{spec.sesoi:g}{unit}"


def _untestable(v: Verdict, at: Scale, metric: str | None) -> str:
    """Why no verdict, or only some, can be read at this scale ("" when all can)."""
    if at.ceiling is not None and abs(at.ceiling) < CEILING:
        return f"real held-out {metric} is {at.ceiling:.2g} at this scale: the metric cannot score"
    if math.isfinite(v.floor) and math.isfinite(v.margin) and v.floor > v.margin:
        return (
            f"the real-vs-real floor ({v.floor:.3g}) exceeds the margin ±{v.margin:.3g}: "
            "effects below the floor are noise at this sample count, so no equivalence is "
            "tested and 0 is tested as the floor"
        )
    return ""


def _judged(
    base: Verdict,
    spec: ClaimSpec,
    values: np.ndarray,
    at: Scale,
    metric: str | None,
) -> Verdict:
    """One row from cluster values: every test, the verdict, the margin and its checks."""
    v = replace(base)
    v.margin, v.floor, v.margin_rule = margin_of(spec, at)
    margin = v.margin if math.isfinite(v.margin) else None
    floor = v.floor if math.isfinite(v.floor) and margin is not None else None
    j = judge(values, spec.claimed, margin, floor)
    for name in ("n", "mean", "ci_lo", "ci_hi", "mde", "verdict", "test", "p"):
        setattr(v, name, getattr(j, name))
    v.seeds, v.p_vs_0 = j.n, j.p_zero
    v.tests = "; ".join(f"{t}: p = {p:.3g}" for t, p in j.tests.items())
    if why := _untestable(v, at, metric):
        v.note = _join(v.note, why)
        if at.ceiling is not None and abs(at.ceiling) < CEILING:
            v.verdict = UNTESTABLE
    if v.verdict == INCONCLUSIVE and j.n >= 2:
        v.note = _join(v.note, _power_note(values, spec, v))
    return v


def _power_note(values: np.ndarray, spec: ClaimSpec, v: Verdict) -> str:
    """For an inconclusive row: what these seeds could detect against what the claim needs."""
    need = distance_to_tell(spec.claimed, v.margin if math.isfinite(v.margin) else None)
    if not (math.isfinite(need) and math.isfinite(v.mde)):
        return ""
    if v.mde <= need:
        return f"MDE {v.mde:.3g} <= {need:.3g} needed: the effect is near a bound"
    more = needed_seeds(values, need)
    seeds = f"; about {more} seeds would detect {need:.3g}" if more else ""
    return (
        f"underpowered: MDE {v.mde:.3g} > {need:.3g} needed to tell the claim from no effect{seeds}"
    )


EffectsOf = Callable[[pd.DataFrame], pd.DataFrame]  # runs -> PAIR columns + "effect"


def _scale_of(
    rows: pd.DataFrame,
    spec: ClaimSpec,
    metric: str | None,
    dataset: str,
    floor: pd.DataFrame | None,
) -> Scale:
    mine = rows[(rows["dataset"] == dataset) & (rows["arm"] == spec.baseline)]
    base = pd.to_numeric(mine[metric], errors="coerce").mean() if metric in mine else math.nan
    fd = _floor_metric(metric)
    found = None
    if fd and floor is not None and len(floor):
        hit = floor[(floor["dataset"] == dataset) & (floor["metric"] == fd)]
        found = float(hit["mean"].iloc[0]) if len(hit) else None
    real = f"{metric}_real_heldout"
    ceiling = None
    if real in rows and rows.loc[rows["dataset"] == dataset, real].notna().any():
        ceiling = float(rows.loc[rows["dataset"] == dataset, real].dropna().mean())
    return Scale(float(base), found, ceiling)


def _seed_rows(
    base: Verdict,
    spec: ClaimSpec,
    rows: pd.DataFrame,
    effects_of: EffectsOf,
    metric: str | None,
    arms: list[str],
    floor: pd.DataFrame | None = None,
) -> list[Verdict]:
    """The rows of a seed-paired claim: one per dataset, a pooled row where several are
    measured, and, where the claim's arms lost runs that did not learn (a quality claim),
    the sensitivity rows with them kept."""
    everything = effects_of(rows)
    if everything.empty:
        return [base]
    involved = rows[rows["arm"].isin(arms)]
    failed = failed_runs(involved) if spec.quality else pd.Series(False, index=involved.index)
    if not failed.any():
        return _dataset_rows(base, spec, rows, everything, metric, involved, floor, DATASET)
    datasets = sorted(everything["dataset"].unique())
    kept = effects_of(rows.drop(involved.index[failed]))
    out = _dataset_rows(base, spec, rows, kept, metric, involved, floor, DATASET, datasets)
    for v in out:
        v.excluded = lost_note(involved[involved["dataset"].isin(v.dataset.split(", "))], arms)
    sensitivity = _dataset_rows(base, spec, rows, everything, metric, involved, floor, ALL_KEPT)
    return out + [v for v in sensitivity if v.level == ALL_KEPT]


NONE_LEARNED = (
    "no pair of learned runs left: every pair lost a run that collapsed or did not converge "
    "(column excluded); the all-runs-kept row below reads the same pairs with them"
)


def _dataset_rows(
    base: Verdict,
    spec: ClaimSpec,
    rows: pd.DataFrame,
    effects: pd.DataFrame,
    metric: str | None,
    involved: pd.DataFrame,
    floor: pd.DataFrame | None,
    level: str,
    datasets: list[str] | None = None,
) -> list[Verdict]:
    """One row per dataset of ``datasets`` (default: those with effects), a dataset with no
    effect left inconclusive, and the pooled row where several are measured (not for a
    sensitivity row)."""
    clusters = cluster_values(effects)
    out = []
    for dataset in datasets or sorted(clusters["dataset"].unique()):
        mine = clusters[clusters["dataset"] == dataset]
        row = replace(base, dataset=dataset, level=level)
        if mine.empty:
            out.append(replace(row, verdict=INCONCLUSIVE, note=_join(base.note, NONE_LEARNED)))
            continue
        at = _scale_of(rows, spec, metric, dataset, floor)
        v = _judged(row, spec, mine["effect"].to_numpy(), at, metric)
        v.pairs = int(mine["pairs"].sum())
        v.scale = scale(involved.merge(effects[effects["dataset"] == dataset][PAIR], on=PAIR))
        out.append(v)
    if level == DATASET and clusters["dataset"].nunique() > 1:
        out.append(_pooled(base, spec, rows, clusters, effects, metric, involved, floor))
    return out


def _pooled(base, spec, rows, clusters, effects, metric, involved, floor) -> Verdict:
    """The pooled row: clusters of every dataset as one sample, after ``pooling_check``; the
    margin is the strictest of the datasets', and with it the largest floor."""
    names = ", ".join(sorted(clusters["dataset"].unique()))
    ok, why = pooling_check(clusters)
    row = replace(base, dataset=names, level=POOLED)
    if not ok:
        return replace(row, verdict=NOT_POOLED, note=_join(base.note, why))
    scales = [_scale_of(rows, spec, metric, d, floor) for d in sorted(clusters["dataset"].unique())]
    margins = [margin_of(spec, at) for at in scales]
    # the smallest margin; among equal ones (a relative sesoi), the largest floor: the pooled
    # row must not read as testable because of how its datasets happen to be named
    tightest = min(
        range(len(scales)),
        key=lambda i: (
            np.nan_to_num(margins[i][0], nan=np.inf),
            -np.nan_to_num(margins[i][1], nan=-np.inf),
        ),
    )
    v = _judged(row, spec, clusters["effect"].to_numpy(), scales[tightest], metric)
    v.pairs = int(clusters["pairs"].sum())
    v.note = _join(v.note, f"pooled: {why}")
    v.scale = scale(involved.merge(effects[PAIR], on=PAIR))
    return v


def _pair_effects(spec: ClaimSpec, metric: str, arm: str) -> EffectsOf:
    """Runs -> ``arm``'s paired effects over the baseline, oriented as the claim says."""
    down = lower_is_better(spec, metric)

    def effects(runs: pd.DataFrame) -> pd.DataFrame:
        return paired_differences(
            runs, metric, arm, spec.baseline, relative=spec.relative, lower_is_better=down
        )

    return effects


def paired_claim(
    summary: pd.DataFrame, spec: ClaimSpec, floor: pd.DataFrame | None = None
) -> list[Verdict]:
    """A seed-paired claim: its rows (``_seed_rows``) for one arm, or for each arm of
    ``arm: "*"`` (none: [] if ``when_present`` and the metric has no data)."""
    summary, metric = _metric(summary, spec)
    if spec.when_present and (metric not in summary or summary[metric].isna().all()):
        return []
    rows = _rows(summary, spec)
    if metric is None or metric not in rows or rows.empty:
        return [_base(spec, metric)]
    every = spec.arm == EVERY_OTHER_ARM
    arms = sorted(set(rows["arm"]) - {spec.baseline}) if every else [spec.arm]
    out = []
    for arm in arms:
        base = _base(spec, metric, arm if every else None)
        effects = _pair_effects(spec, metric, arm)
        out += _seed_rows(base, spec, rows, effects, metric, [arm, spec.baseline], floor)
    return out or [_base(spec, metric)]


def _text(column: pd.Series) -> pd.Series:
    """A text column of the summary as str, NaN (an empty CSV cell) as "" (a column of empty
    cells reads as floats, which pandas will not fill with text)."""
    return column.astype(object).fillna("").astype(str).str.strip()


def placement_sweeps(summary: pd.DataFrame, variant: str | None = None) -> dict[str, list[int]]:
    """Sweeps whose arms (of ``variant``, the registered variant, where given) put G's
    attention at >= 3 distinct single feature-map sides: sweep -> its sides, ascending."""
    if not {"sweep", "g_attention"} <= set(summary.columns):
        return {}
    rows = summary[_text(summary["sweep"]) != ""]
    if variant is not None and "variant" in rows:
        rows = rows[_text(rows["variant"]) == variant]
    found = {}
    for sweep, arms in rows.groupby(_text(rows["sweep"]), sort=True):
        sides = sorted({int(s) for s in _text(arms["g_attention"]) if s.isdigit()})
        if len(sides) >= 3:
            found[sweep] = sides
    return found


def _placement_effects(spec: ClaimSpec, fd: str, sweep: str, sides: list[int]) -> EffectsOf:
    """Runs -> per (dataset, size, seed): the FD improvement over the baseline at the best mid
    placement minus that at the best end placement (the smallest and largest side)."""

    def effects(runs: pd.DataFrame) -> pd.DataFrame:
        arms = runs[_text(runs["sweep"]) == sweep]
        side = _text(arms["g_attention"])
        gains = {}
        for s in sides:
            per_arm = [
                _pair_effects(spec, fd, arm)(runs).set_index(PAIR)["effect"]
                for arm in sorted(arms.loc[side == str(s), "arm"].unique())
            ]
            if not per_arm:
                return pd.DataFrame(columns=[*PAIR, "effect"])
            gains[s] = pd.concat(per_arm, axis=1).max(axis=1)  # the best arm at that side
        ends = pd.concat([gains[sides[0]], gains[sides[-1]]], axis=1).max(axis=1)
        best_mid = pd.concat([gains[s] for s in sides[1:-1]], axis=1).max(axis=1)
        return (best_mid - ends).dropna().rename("effect").reset_index()

    return effects


def placement_claim(
    summary: pd.DataFrame, spec: ClaimSpec, floor: pd.DataFrame | None = None
) -> list[Verdict]:
    """Claim 2 from each sweep over placement (``_placement_effects``): its rows per sweep."""
    summary, fd = _metric(summary, spec)
    base = _base(spec, fd)
    rows = _rows(summary, spec)
    sweeps = placement_sweeps(rows, spec.arm) if fd in rows else {}
    if not sweeps:
        return [base]
    out = []
    for sweep, sides in sweeps.items():
        v = replace(base, comparison=f"{base.comparison} (sweep {sweep}, G sides {sides})")
        arms = sorted(rows.loc[_text(rows["sweep"]) == sweep, "arm"].unique())
        effects = _placement_effects(spec, fd, sweep, sides)
        found = _seed_rows(v, spec, rows, effects, fd, [*arms, spec.baseline], floor)
        for row in found:
            row.scale = _join(row.scale, f"G sides {sides}")
        out += found
    return out


def profile_claim(profile: pd.DataFrame | None, spec: ClaimSpec) -> Verdict:
    """A side-by-side cost claim: overhead of ``arm`` over ``baseline`` (%) or the step time
    it saves (%), per profiled dataset from its interleaved rounds (``measured_verdict``). A
    loaded machine is named in the note; its verdict stands only where the interval decides
    anyway (the per-round ratio cancels load that lasts a round, the interval shows the rest)."""
    base = _base(spec)
    ratios = _profile_ratios(profile, spec.arm, spec.baseline)
    if spec.datasets is not None:
        ratios = ratios[ratios["dataset"].isin(spec.datasets)]
    if ratios.empty:
        return base
    sign = _cost_sign(spec)
    effects = {
        d: [100 * sign * (r - 1) for r in rounds]
        for d, rounds in zip(ratios["dataset"], ratios["rounds"], strict=True)
    }
    out = Verdict(**{**asdict(base), **measured_verdict(effects, spec.claimed)})
    notes = [base.note, out.note]
    loads = zip(ratios["dataset"], ratios["load"], strict=True)
    if loaded := [f"{d} ({load})" for d, load in loads if load]:
        decided = ": the interval decides even so" if out.verdict in WORDS else ""
        notes.append(f"the machine was loaded while profiling {', '.join(loaded)}{decided}")
    out.note = "; ".join(x for x in notes if x)
    res = "/".join(f"{int(x)} px" for x in sorted(ratios["resolution"].unique()))
    precisions = "/".join(sorted(ratios["precision"].unique()))
    devices = ", ".join(sorted(ratios["device"].unique()))
    out.scale = f"{', '.join(ratios['dataset'])}; {res}; {precisions} on {devices}"
    return out


def _cost_sign(spec: ClaimSpec) -> int:
    """+1 for an overhead claim (more is the effect), -1 for a saving (less is)."""
    return 1 if spec.kind == "profile_overhead" else -1


def large_map_claims(scaling: pd.DataFrame | None, spec: ClaimSpec) -> list[Verdict]:
    """A cost claim where the attention map is large, from the scaling sweep: it times the
    claim's arm and baseline at one map side by side in interleaved rounds, profile only,
    no training. At the largest map both have, two rows: the step time (measured: per-round
    ratios, read as a profile's) and beside it the counted MACs per image (exact: the saving
    in theory, which the time shows in practice or not). None without such a map."""
    found = _large_map_pair(scaling, spec.arm, spec.baseline)
    if found is None:
        return []
    arm, base = found
    sign = _cost_sign(spec)
    side, n = int(arm["attention_side"]), int(arm["tokens"])
    where = f"{int(arm['resolution'])} px, {side}x{side} map (N = {n:,})"
    run = f"batch {int(arm['batch'])}, {arm['precision']} on {arm['device']}"
    scale = f"{where}; scaling sweep, {run}"
    effects = [100 * sign * (r - 1) for r in round_ratios(arm, base)]
    timed = Verdict(**{**asdict(_base(spec)), **measured_verdict({where: effects}, spec.claimed)})
    timed.scale = scale
    return [timed, macs_row(spec, where, arm, base, scale)]


def profile_macs_claims(profile: pd.DataFrame | None, spec: ClaimSpec) -> list[Verdict]:
    """Beside a profile's time row, the counted MACs of the same pair on each dataset."""
    pairs = profile_pairs(profile, spec.arm, spec.baseline)
    if spec.datasets is not None:
        pairs = {d: p for d, p in pairs.items() if d in spec.datasets}
    return [
        macs_row(spec, dataset, arm, base, f"{dataset}; {int(arm['resolution'])} px, profile")
        for dataset, (arm, base) in pairs.items()
        if _counted(arm) and _counted(base)  # an older profile may lack the counts
    ]


def _counted(row: pd.Series) -> bool:
    return all(pd.notna(row.get(key)) for key in ("macs_g", "macs_d"))


def macs_row(spec: ClaimSpec, where: str, arm: pd.Series, base: pd.Series, scale: str) -> Verdict:
    """A cost claim read off the counted MACs per image of G and D (fvcore, forward): exact,
    so no interval; the saving the kernel's arithmetic allows, which the time row beside it
    shows in practice or not."""
    sign = _cost_sign(spec)
    macs = [float(row["macs_g"]) + float(row["macs_d"]) for row in (arm, base)]
    exact = 100 * sign * (macs[0] / macs[1] - 1) + 0.0  # + 0.0: no "-0" in the table
    return replace(
        _base(spec),
        effect=f"counted MACs per image (G + D forward) {'added' if sign > 0 else 'saved'} "
        f"vs {spec.baseline}, %",
        dataset=where,
        n=1,
        mean=exact,
        ci_lo=exact,
        ci_hi=exact,
        test="exact count (fvcore): no interval, the saving the kernel's arithmetic allows",
        # exact: within the margin of 0 it is no effect, not an undecided one
        verdict=interval_verdict(exact, exact, spec.claimed, spec.sesoi),
        scale=scale,
    )


def _large_map_pair(
    scaling: pd.DataFrame | None, arm: str, baseline: str
) -> tuple[pd.Series, pd.Series] | None:
    """The scaling rows of ``arm`` at its largest map and of ``baseline`` in the same rounds:
    at the same map, or (a baseline without attention) at the same image size."""
    if scaling is None or scaling.empty or "attention_side" not in scaling:
        return None
    mine = scaling[(scaling["arm"] == arm) & (scaling["tokens"] > 0)]
    for _, row in mine.sort_values("tokens", ascending=False, kind="stable").iterrows():
        same = scaling[scaling["resolution"] == row["resolution"]]
        same = same[same["arm"] == baseline]
        same = same[(same["attention_side"] == row["attention_side"]) | (same["tokens"] == 0)]
        if not same.empty:
            return row, same.iloc[0]
    return None


def equal_time_claim(
    summary: pd.DataFrame,
    logs: pd.DataFrame | None,
    spec: ClaimSpec,
    floor: pd.DataFrame | None = None,
) -> list[Verdict]:
    """FD of ``arm`` vs ``baseline`` at equal training seconds, from FD scored while training
    (no floor: FD while training uses its own, smaller sample)."""
    base = _base(spec, "FD while training")
    rows = equal_time_rows(_rows(summary, spec), logs, spec.arm, spec.baseline)
    if rows.empty:
        return [base]
    effects = _pair_effects(spec, EQUAL_TIME, spec.arm)
    out = _seed_rows(base, spec, rows, effects, EQUAL_TIME, [spec.arm, spec.baseline])
    seconds = f"read at equal training time, median {rows['equal_seconds'].median():.3g} s per pair"
    for v in out:
        v.note = _join(v.note, seconds)
    return out


def evaluate_claim(
    summary: pd.DataFrame,
    spec: ClaimSpec,
    profile: pd.DataFrame | None = None,
    logs: pd.DataFrame | None = None,
    floor: pd.DataFrame | None = None,
    scaling: pd.DataFrame | None = None,
) -> list[Verdict]:
    """The verdict rows of one claim, before Holm's adjustment (done runs of ``summary``; the
    cost ``profile``; the training ``logs``, for FD scored while training; the real-vs-real
    noise ``floor`` per dataset, ``results/<study>/noise_floor.csv``; the ``scaling`` sweep,
    for cost claims at a large map)."""
    done = summary[summary["status"] == "done"] if "status" in summary else summary
    if spec.kind == "equal_time":
        return equal_time_claim(done, logs, spec)
    if spec.kind == "placement":
        return placement_claim(done, spec, floor)
    if spec.kind in ("profile_overhead", "profile_saving"):
        return [
            profile_claim(profile, spec),
            *profile_macs_claims(profile, spec),
            *large_map_claims(scaling, spec),
        ]
    out = paired_claim(done, spec, floor)
    if spec.max_train_images is not None and out:
        has = done.get("train_images", pd.Series(dtype=float))
        if not (has >= spec.max_train_images).any():
            above = f"no run has >= {spec.max_train_images // 1000}k images, so the contrast "
            for v in out:
                v.note = _join(v.note, above + "above the threshold is not measured")
    return out


TESTED = (DATASET, POOLED)  # the levels in Holm's family; sensitivity rows stay outside


def adjust_holm(verdicts: Sequence[Verdict]) -> None:
    """Holm's step-down adjustment of each tested row's deciding p, across the table (rows
    with a p, not untestable or unpooled); a verdict whose adjusted p is not below 0.025
    falls to inconclusive, its note saying what it read before."""
    from statsmodels.stats.multitest import multipletests

    family = [
        v
        for v in verdicts
        if v.level in TESTED and math.isfinite(v.p) and v.verdict not in (UNTESTABLE, NOT_POOLED)
    ]
    if not family:
        return
    adjusted = multipletests([v.p for v in family], method="holm")[1]
    for v, p in zip(family, adjusted, strict=True):
        v.p_holm = float(p)
        if v.verdict != INCONCLUSIVE and p >= ONE_SIDED:
            v.note = _join(
                v.note,
                f"reads {v.verdict} at p = {v.p:.3g}, not after Holm's adjustment over "
                f"{len(family)} tested rows",
            )
            v.verdict = INCONCLUSIVE


def evaluate_claims(
    summary: pd.DataFrame,
    profile: pd.DataFrame | None,
    claims: Sequence[ClaimSpec],
    logs: pd.DataFrame | None = None,
    floor: pd.DataFrame | None = None,
    scaling: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Every row of every claim, ``claims`` in order (a study's: ``claims_from_study``),
    Holm-adjusted across the table."""
    verdicts = [
        v for spec in claims for v in evaluate_claim(summary, spec, profile, logs, floor, scaling)
    ]
    adjust_holm(verdicts)
    return pd.DataFrame([asdict(v) for v in verdicts], columns=[f.name for f in fields(Verdict)])


__all__ = [
    "ClaimSpec",
    "Verdict",
    "claims_from_study",
    "claims_table",
    "evaluate_claim",
    "evaluate_claims",
    "load_claims",
]
