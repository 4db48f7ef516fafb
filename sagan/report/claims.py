"""A verdict on each claim the suite tests (config/claims.yaml; README, "Reports, tables and
claims"), from the summary table.

Every claim becomes an effect measured on runs that share (study, dataset, size, seed), so
seeds pair up, plus a claimed range for it and a smallest effect of interest (sesoi). The
verdict rule (``verdict``), the first that holds, with the nonparametric paired tests of
``sagan.report.stats.paired_test`` (exact Wilcoxon signed-rank from 6 pairs, exact sign flips
below):
- supported, for a range that excludes 0 (a claimed direction, e.g. 12-18% better): the paired
  test rejects "no effect" (two-sided p < 0.05) with the mean on the claimed side of 0, and the
  95% CI overlaps the claimed range;
- supported, for a range that holds 0 or is bounded by it (a bounded or non-inferiority claim,
  e.g. [-5, inf]: "no worse than -5%", or [0, inf]): for each finite bound b, the one-sided
  paired test of d - b rejects "the effect lies beyond b" at p < 0.025 (so [0, inf] asks
  exactly what the two-sided test at 0.05 asks: the same evidence as a claimed direction),
  with the mean inside the range;
- contradicted: the 95% CI lies wholly outside the claimed range and the two-sided paired test
  of d - b rejects (p < 0.05) for the bound b nearest the mean (at least 3 pairs);
- equivalent: a TOST (two one-sided tests) at 0.05 each shows the effect within +-sesoi: the
  one-sided tests of d + sesoi ("mean > -sesoi") and of d - sesoi ("mean < +sesoi") both
  reject; the note reads "no effect larger than +-sesoi at this scale";
- inconclusive: anything else — at this scale the data cannot tell;
- not measured in this study: no runs to compare; the row says what config would measure it.
Each seed-paired row also carries the minimum detectable effect (``mde``: 80% power, two-sided
0.05, paired-t approximation), in the effect's unit; side-by-side profile rows leave it NaN.
The claims themselves are data (``sagan.report.claim_specs``: the design's in
config/claims.yaml, a study's ``claims:`` over them via ``claims_from_study``). Pure
functions over DataFrames; no file is read here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields, replace

import numpy as np
import pandas as pd

from sagan.cost.timing import median_interval
from sagan.errors import ConfigError
from sagan.metrics.declared import better
from sagan.report.claim_specs import (
    EVERY_OTHER_ARM,
    HEADLINE,
    ClaimSpec,
    claims_from_study,
    load_claims,
)
from sagan.report.equal_time import EQUAL_TIME, equal_time_rows
from sagan.report.paper_tables import headline, video_rows
from sagan.report.profile_ratios import profile_ratios as _profile_ratios
from sagan.report.stats import (
    minimum_detectable_effect,
    paired_differences,
    paired_test,
    t_interval,
)
from sagan.report.tables import Table

ALPHA = 0.05


@dataclass
class Verdict:
    claim: str
    comparison: str
    effect: str  # what the number measures, with its unit
    claimed: tuple[float, float]
    sesoi: float = math.nan  # smallest effect of interest, the effect's unit (NaN: none)
    n: int = 0  # pairs (or datasets for a profile measurement)
    seeds: int = 0
    mean: float = math.nan
    ci_lo: float = math.nan
    ci_hi: float = math.nan
    test: str = ""
    p: float = math.nan
    mde: float = math.nan  # minimum detectable effect (80% power), the effect's unit
    verdict: str = "not measured in this study"
    scale: str = ""
    note: str = ""  # a caveat of the measurement
    needs: str = ""  # what would measure it, shown while it is not measured


def verdict(effects: np.ndarray, claimed: tuple[float, float], sesoi: float | None = None) -> dict:
    """n, mean, CI, test, p, MDE and the verdict for paired effects against a claimed range
    (the rule: the module docstring); ``sesoi`` (> 0) enables "equivalent"."""
    d = np.asarray([e for e in effects if np.isfinite(e)], dtype=float)
    if len(d) == 0:
        return {"n": 0, "verdict": "not measured in this study"}
    lo, hi = t_interval(d)
    test, p = paired_test(d)
    mean = float(d.mean())
    out = {"n": len(d), "mean": mean, "ci_lo": lo, "ci_hi": hi, "test": test, "p": p}
    out["mde"] = minimum_detectable_effect(d, ALPHA)
    outside = not math.isnan(lo) and (hi < claimed[0] or lo > claimed[1])
    if _supported(d, claimed, p, (lo, hi)):
        out["verdict"] = "supported"
        if not claimed[0] <= mean <= claimed[1]:
            out["note"] = "the mean lies outside the claimed range; only its CI overlaps it"
    elif outside and len(d) >= 3 and paired_test(d - _nearest(claimed, mean))[1] < ALPHA:
        out["verdict"] = "contradicted"
    elif sesoi is not None and np.isfinite(sesoi) and _equivalent(d, sesoi):
        out["verdict"] = "equivalent"
        out["note"] = f"equivalent: no effect larger than ±{sesoi:g} at this scale"
    else:
        out["verdict"] = "inconclusive"
    return out


def _supported(
    d: np.ndarray, claimed: tuple[float, float], p: float, ci: tuple[float, float]
) -> bool:
    """The "supported" rule: a claimed direction for a range that excludes 0, else every
    finite bound rejected by a one-sided test at ALPHA / 2 (and the mean in the range, as a
    rank test can reject with an outlier pulling the mean the other way)."""
    lo, hi = claimed
    if lo > 0 or hi < 0:
        side = 1.0 if lo > 0 else -1.0
        overlaps = not (math.isnan(ci[0]) or ci[1] < lo or ci[0] > hi)
        return p < ALPHA and np.sign(d.mean()) == side and overlaps
    bounds = [(b, alt) for b, alt in ((lo, "greater"), (hi, "less")) if math.isfinite(b)]
    rejected = all(paired_test(d - b, alt)[1] < ALPHA / 2 for b, alt in bounds)
    return bool(bounds) and rejected and lo <= d.mean() <= hi


def _equivalent(d: np.ndarray, sesoi: float) -> bool:
    """TOST: the effect is shown above -sesoi and below +sesoi, one-sided ALPHA each."""
    above = paired_test(d + sesoi, "greater")[1] < ALPHA
    return above and paired_test(d - sesoi, "less")[1] < ALPHA


def _nearest(claimed: tuple[float, float], mean: float) -> float:
    """The point of the claimed range nearest the measured mean: for a mean outside it, the
    bound it lies beyond (always finite)."""
    return min(max(mean, claimed[0]), claimed[1])


def measured_verdict(rounds: dict[str, list[float]], claimed: tuple[float, float]) -> dict:
    """For side-by-side measurements (one profile per dataset, no seeds), from each dataset's
    effect in every interleaved round: the interval of its median (``median_interval``: order
    statistics covering it >= 95%, min-max below 6 rounds) decides a dataset — supported wholly
    inside the claimed range, contradicted wholly outside, inconclusive when it straddles a
    bound or is missing. Supported only if every dataset is, contradicted only if every one is."""
    if not rounds:
        return {"n": 0, "verdict": "not measured in this study"}
    words, parts, medians, los, his, repeats = [], [], [], [], [], set()
    for dataset, values in rounds.items():
        v = [x for x in values if np.isfinite(x)]
        lo, hi, _ = median_interval(v)
        if not v:
            words.append("inconclusive")
            parts.append(f"{dataset}: no per-repeat times (an older profile)")
            continue
        inside = claimed[0] <= lo and hi <= claimed[1]
        outside = hi < claimed[0] or lo > claimed[1]
        words.append("supported" if inside else "contradicted" if outside else "inconclusive")
        medians.append(float(np.median(v)))
        los.append(lo)
        his.append(hi)
        repeats.add(len(v))
        parts.append(f"{dataset}: {medians[-1]:+.3g} [{lo:+.3g}, {hi:+.3g}] over {len(v)}")
    word = words[0] if len(set(words)) == 1 else "inconclusive"
    return {
        "n": len(rounds),
        "mean": float(np.mean(medians)) if medians else math.nan,
        "ci_lo": min(los, default=math.nan),
        "ci_hi": max(his, default=math.nan),
        "test": f"median over {'/'.join(map(str, sorted(repeats))) or 'no'} interleaved "
        "repeats per dataset; interval: order statistics covering that median >= 95% (min-max "
        "below 6 repeats, 94% at 5); range over datasets",
        "verdict": word,
        "note": "; ".join(parts),
    }


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
        sesoi=math.nan if spec.sesoi is None else spec.sesoi,
        note=spec.note,
        needs=named.text(spec.needs, metric),
    )


def _paired(
    rows: pd.DataFrame, base: Verdict, metric: str | None, spec: ClaimSpec, arm: str
) -> Verdict:
    if metric is None or metric not in rows:
        return base
    pairs = paired_differences(
        rows,
        metric,
        arm,
        spec.baseline,
        relative=spec.relative,
        lower_is_better=lower_is_better(spec, metric),
    )
    if pairs.empty:
        return base
    out = Verdict(
        **{**asdict(base), **verdict(pairs["effect"].to_numpy(), base.claimed, base.sesoi)}
    )
    out.note = "; ".join(x for x in (base.note, out.note) if x)
    out.seeds = pairs["seed"].nunique()
    keys = ["study", "dataset", "size", "seed"]
    used = rows.merge(pairs[keys], on=keys)
    out.scale = scale(used[used["variant"].isin([arm, spec.baseline])])
    return out


def paired_claim(summary: pd.DataFrame, spec: ClaimSpec) -> list[Verdict]:
    """A seed-paired claim: one row, or one per arm for ``arm: "*"`` (none: [] if
    ``when_present`` and the metric has no data)."""
    summary, metric = _metric(summary, spec)
    if spec.when_present and (metric not in summary or summary[metric].isna().all()):
        return []
    rows = _rows(summary, spec)
    if spec.arm != EVERY_OTHER_ARM:
        return [_paired(rows, _base(spec, metric), metric, spec, spec.arm)]
    if metric not in rows or rows.empty:
        return [_base(spec, metric)]
    arms = [a for a in sorted(rows["variant"].unique()) if a != spec.baseline]
    return [_paired(rows, _base(spec, metric, a), metric, spec, a) for a in arms] or [
        _base(spec, metric)
    ]


def _text(column: pd.Series) -> pd.Series:
    """A text column of the summary as str, NaN (an empty CSV cell) as ""."""
    return column.fillna("").astype(str).str.strip()


def placement_sweeps(summary: pd.DataFrame, variant: str | None = None) -> dict[str, list[int]]:
    """Sweeps whose arms (of ``variant``, the registered variant, where given) put G's
    attention at >= 3 distinct single feature-map sides: sweep -> its sides, ascending."""
    if not {"sweep", "g_attention"} <= set(summary.columns):
        return {}
    rows = summary[_text(summary["sweep"]) != ""]
    if variant is not None and "registered_variant" in rows:
        rows = rows[_text(rows["registered_variant"]) == variant]
    found = {}
    for sweep, arms in rows.groupby(_text(rows["sweep"]), sort=True):
        sides = sorted({int(s) for s in _text(arms["g_attention"]) if s.isdigit()})
        if len(sides) >= 3:
            found[sweep] = sides
    return found


def placement_claim(summary: pd.DataFrame, spec: ClaimSpec) -> list[Verdict]:
    """Claim 2 from one sweep over placement: per (dataset, size, seed), the FD improvement
    over the baseline arm at the best mid placement minus that at the best end placement
    (the smallest and largest side); one row per placement sweep."""
    summary, fd = _metric(summary, spec)
    base = _base(spec, fd)
    rows = _rows(summary, spec)
    sweeps = placement_sweeps(rows, spec.arm) if fd in rows else {}
    if not sweeps:
        return [base]
    out = []
    for sweep, sides in sweeps.items():
        arms = rows[_text(rows["sweep"]) == sweep]
        side = _text(arms["g_attention"])
        gains = {}
        for s in sides:
            per_arm = []
            for arm in sorted(arms.loc[side == str(s), "variant"].unique()):
                keep = rows[rows["variant"].isin([arm, spec.baseline])]
                pairs = paired_differences(
                    keep,
                    fd,
                    arm,
                    spec.baseline,
                    relative=spec.relative,
                    lower_is_better=lower_is_better(spec, fd),
                )
                per_arm.append(pairs.set_index(["study", "dataset", "size", "seed"])["effect"])
            gains[s] = pd.concat(per_arm, axis=1).max(axis=1)  # the best arm at that side
        ends = pd.concat([gains[sides[0]], gains[sides[-1]]], axis=1).max(axis=1)
        best_mid = pd.concat([gains[s] for s in sides[1:-1]], axis=1).max(axis=1)
        effect = (best_mid - ends).dropna()
        v = replace(base, comparison=f"{base.comparison} (sweep {sweep}, G sides {sides})")
        if effect.empty:
            out.append(v)
            continue
        found = verdict(effect.to_numpy(), spec.claimed, base.sesoi)
        v = Verdict(**{**asdict(v), **found})
        v.note = "; ".join(x for x in (base.note, found.get("note", "")) if x)
        v.seeds = effect.index.get_level_values("seed").nunique()
        used = rows[(_text(rows["sweep"]) == sweep) | (rows["variant"] == spec.baseline)]
        keys = effect.index.to_frame(index=False)
        v.scale = scale(used.merge(keys, on=list(keys.columns))) + f"; G sides {sides}"
        out.append(v)
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
    sign = 1 if spec.kind == "profile_overhead" else -1
    effects = {
        d: [100 * sign * (r - 1) for r in rounds]
        for d, rounds in zip(ratios["dataset"], ratios["rounds"], strict=True)
    }
    out = Verdict(**{**asdict(base), **measured_verdict(effects, spec.claimed)})
    notes = [base.note, out.note]
    loads = zip(ratios["dataset"], ratios["load"], strict=True)
    if loaded := [f"{d} ({load})" for d, load in loads if load]:
        decided = ": the interval decides even so" if out.verdict != "inconclusive" else ""
        notes.append(f"the machine was loaded while profiling {', '.join(loaded)}{decided}")
    out.note = "; ".join(x for x in notes if x)
    res = "/".join(f"{int(x)} px" for x in sorted(ratios["resolution"].unique()))
    precisions = "/".join(sorted(ratios["precision"].unique()))
    devices = ", ".join(sorted(ratios["device"].unique()))
    out.scale = f"{', '.join(ratios['dataset'])}; {res}; {precisions} on {devices}"
    return out


def equal_time_claim(summary: pd.DataFrame, logs: pd.DataFrame | None, spec: ClaimSpec) -> Verdict:
    """FD of ``arm`` vs ``baseline`` at equal training seconds, from FD scored while training."""
    base = _base(spec, "FD while training")
    rows = equal_time_rows(_rows(summary, spec), logs, spec.arm, spec.baseline)
    if rows.empty:
        return base
    out = _paired(rows, base, EQUAL_TIME, spec, spec.arm)
    seconds = f"read at equal training time, median {rows['equal_seconds'].median():.3g} s per pair"
    out.note = "; ".join(x for x in (out.note, seconds) if x)
    return out


def evaluate_claim(
    summary: pd.DataFrame,
    spec: ClaimSpec,
    profile: pd.DataFrame | None = None,
    logs: pd.DataFrame | None = None,
) -> list[Verdict]:
    """The verdict rows of one claim (done runs of ``summary``; the cost ``profile``; the
    training ``logs``, for FD scored while training)."""
    done = summary[summary["status"] == "done"] if "status" in summary else summary
    if spec.kind == "equal_time":
        return [equal_time_claim(done, logs, spec)]
    if spec.kind == "placement":
        return placement_claim(done, spec)
    if spec.kind in ("profile_overhead", "profile_saving"):
        return [profile_claim(profile, spec)]
    out = paired_claim(done, spec)
    if spec.max_train_images is not None and out:
        has = done.get("train_images", pd.Series(dtype=float))
        if not (has >= spec.max_train_images).any():
            for v in out:
                v.note = "; ".join(
                    x
                    for x in (
                        v.note,
                        f"no run has >= {spec.max_train_images // 1000}k images, so the "
                        "contrast above the threshold is not measured",
                    )
                    if x
                )
    return out


def evaluate_claims(
    summary: pd.DataFrame,
    profile: pd.DataFrame | None,
    claims: Sequence[ClaimSpec],
    logs: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per claim measurement (some claims have several), ``claims`` in order (a
    study's: ``claims_from_study``)."""
    verdicts = [v for spec in claims for v in evaluate_claim(summary, spec, profile, logs)]
    return pd.DataFrame([asdict(v) for v in verdicts], columns=[f.name for f in fields(Verdict)])


def _interval(lo: float, hi: float) -> str:
    def one(v: float) -> str:
        return "∞" if v == math.inf else "-∞" if v == -math.inf else f"{v:.3g}"

    return f"[{one(lo)}, {one(hi)}]"


def _number(v: float) -> str:
    return "" if pd.isna(v) else f"{v:.3g}"


def _count(c: pd.Series) -> str:
    if not c["n"]:
        return "–"
    return f"{c['n']} / {c['seeds']}" if c["seeds"] else f"{c['n']} datasets (profile)"


def claims_table(claims: pd.DataFrame) -> Table:
    """The verdicts as a paper table (no bold: the verdict column is the point)."""
    rows = []
    for _, c in claims.iterrows():
        measured = "–" if c["n"] == 0 else f"{c['mean']:.3g} {_interval(c['ci_lo'], c['ci_hi'])}"
        p = "" if pd.isna(c["p"]) else f", p = {c['p']:.3g}"
        rows.append(
            {
                "claim": c["claim"],
                "comparison": c["comparison"],
                "effect": c["effect"],
                "claimed": _interval(*c["claimed"]),
                "measured [95% CI]": measured,
                "MDE (effect's unit)": _number(c["mde"]),
                "pairs / seeds": _count(c),
                "test": f"{c['test']}{p}" if c["n"] else "–",
                "verdict": c["verdict"] + (f" ({c['scale']})" if c["scale"] else ""),
                "note": "; ".join(x for x in (c["note"], "" if c["n"] else c["needs"]) if x),
            }
        )
    text = pd.DataFrame(rows)
    note = (
        "supported: for a range excluding 0, paired test p < 0.05 on the claimed side and the "
        "95% bootstrap CI overlaps the claimed range; for a range holding 0, one-sided paired "
        "tests (p < 0.025) reject an effect beyond each finite bound; contradicted: the CI "
        "lies wholly outside it and the test rejects "
        "the nearest claimed bound (>= 3 pairs); "
        "equivalent: two one-sided paired tests (p < 0.05 each) put the effect within "
        "+-sesoi, the smallest effect of interest; inconclusive otherwise. MDE: the smallest "
        "true effect detected with 80% power at two-sided 0.05 (paired-t approximation) for "
        "the pairs and spread measured, in the effect's unit. Profile rows (no seeds): "
        "supported or contradicted only when the interval of the median over the interleaved "
        "repeats lies wholly inside or wholly outside the claimed range on every dataset. "
        "Verdicts hold at the scale in brackets only."
    )
    return Table(
        "Claims: measured effects and verdicts", text, text.copy(), ["claim"], {}, [], note
    )


__all__ = [
    "ClaimSpec",
    "Verdict",
    "claims_from_study",
    "claims_table",
    "evaluate_claim",
    "evaluate_claims",
    "load_claims",
    "verdict",
]
