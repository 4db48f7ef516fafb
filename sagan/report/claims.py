"""A verdict on each claim of DESIGN.md ("What it must answer"), from the summary table.

Every claim becomes an effect measured on runs that share (study, dataset, size, seed), so
seeds pair up, plus a claimed range for it. The verdict rule (``verdict``):
- supported: the paired test rejects "no effect" (p < 0.05) with the mean on the claimed side
  of 0, and the 95% CI overlaps the claimed range;
- contradicted: the 95% CI lies wholly outside the claimed range and the same paired test
  rejects the nearest claimed bound (at least 3 pairs);
- inconclusive: anything else — at this scale the data cannot tell;
- not measured in this study: no runs to compare; the row says what config would measure it.
Pure functions over DataFrames; no file is read here.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from sagan.report.paper_tables import headline, video_rows
from sagan.report.stats import bootstrap_ci, paired_differences, paired_test
from sagan.report.tables import Table

ALPHA = 0.05
SMALL_DATA = 100_000  # claim 4's threshold in training images
BASELINE = "dcgan"
REFERENCE = "sagan"  # the SAGAN block every other attention variant is compared with
VIDEO_BASELINE = "video_baseline"  # the video backbone without attention


@dataclass
class Verdict:
    claim: str
    comparison: str
    effect: str  # what the number measures, with its unit
    claimed: tuple[float, float]
    n: int = 0  # pairs (or datasets for a profile measurement)
    seeds: int = 0
    mean: float = math.nan
    ci_lo: float = math.nan
    ci_hi: float = math.nan
    test: str = ""
    p: float = math.nan
    verdict: str = "not measured in this study"
    scale: str = ""
    note: str = ""  # a caveat of the measurement
    needs: str = ""  # what would measure it, shown while it is not measured


def verdict(effects: np.ndarray, claimed: tuple[float, float]) -> dict:
    """n, mean, CI, test, p and the verdict for paired effects against a claimed range."""
    d = np.asarray([e for e in effects if np.isfinite(e)], dtype=float)
    if len(d) == 0:
        return {"n": 0, "verdict": "not measured in this study"}
    lo, hi = bootstrap_ci(d)
    test, p = paired_test(d)
    mean = float(d.mean())
    out = {"n": len(d), "mean": mean, "ci_lo": lo, "ci_hi": hi, "test": test, "p": p}
    claimed_sign = np.sign(claimed[0] if claimed[0] != 0 else claimed[1])
    overlaps = not (math.isnan(lo) or hi < claimed[0] or lo > claimed[1])
    outside = not math.isnan(lo) and (hi < claimed[0] or lo > claimed[1])
    if p < ALPHA and np.sign(mean) == claimed_sign and overlaps:
        out["verdict"] = "supported"
        if not claimed[0] <= mean <= claimed[1]:
            out["note"] = "the mean lies outside the claimed range; only its CI overlaps it"
    elif outside and len(d) >= 3 and paired_test(d - _nearest(claimed, mean))[1] < ALPHA:
        out["verdict"] = "contradicted"
    else:
        out["verdict"] = "inconclusive"
    return out


def _nearest(claimed: tuple[float, float], mean: float) -> float:
    """The claimed range's bound nearest the measured mean (a finite one)."""
    return claimed[0] if mean < claimed[0] or claimed[1] == math.inf else claimed[1]


def measured_verdict(values: list[float], claimed: tuple[float, float]) -> dict:
    """For deterministic side-by-side measurements (one profile per dataset, no seeds):
    supported if every value lies in the claimed range, contradicted if none does."""
    v = [x for x in values if np.isfinite(x)]
    if not v:
        return {"n": 0, "verdict": "not measured in this study"}
    inside = [claimed[0] <= x <= claimed[1] for x in v]
    word = "supported" if all(inside) else "contradicted" if not any(inside) else "inconclusive"
    return {
        "n": len(v),
        "mean": float(np.mean(v)),
        "ci_lo": min(v),
        "ci_hi": max(v),
        "test": "none: one side-by-side profile per dataset (range over datasets shown)",
        "verdict": word,
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


def _paired(
    summary: pd.DataFrame,
    base: Verdict,
    metric: str | None,
    variant: str,
    baseline: str,
    *,
    relative: bool,
    lower_is_better: bool,
    rows: pd.DataFrame | None = None,
) -> Verdict:
    rows = summary if rows is None else rows
    if metric is None or metric not in rows:
        return base
    pairs = paired_differences(
        rows, metric, variant, baseline, relative=relative, lower_is_better=lower_is_better
    )
    if pairs.empty:
        return base
    out = Verdict(**{**asdict(base), **verdict(pairs["effect"].to_numpy(), base.claimed)})
    out.seeds = pairs["seed"].nunique()
    keys = ["study", "dataset", "size", "seed"]
    used = rows.merge(pairs[keys], on=keys)
    out.scale = scale(used[used["variant"].isin([variant, baseline])])
    return out


def claim_1(summary: pd.DataFrame) -> Verdict:
    fd, _ = headline(summary)
    base = Verdict(
        "1: attention improves FD by 12-18%",
        f"{REFERENCE} vs {BASELINE}, paired by (dataset, size, seed)",
        f"FD improvement, % of the baseline ({fd or 'FD'}; > 0: better)",
        (12.0, 18.0),
        needs="add the dcgan and sagan variants to the study",
    )
    out = _paired(summary, base, fd, REFERENCE, BASELINE, relative=True, lower_is_better=True)
    return out


def claim_2(summary: pd.DataFrame) -> Verdict:
    """Best at mid-level maps: needs the SAGAN block at >= 3 single placements."""
    fd, _ = headline(summary)
    base = Verdict(
        "2: attention works best at mid-level feature maps",
        f"{REFERENCE} at each G placement vs {BASELINE}",
        "FD improvement (%) at the best placement minus at the best end placement",
        (0.0, math.inf),
        needs=(
            "needs the sagan block at >= 3 feature-map sides (e.g. studies with "
            "g_resolutions [8], [16], [32] of a 64 px model, same seeds, aggregated together)"
        ),
    )
    if fd is None or "g_attention" not in summary:
        return base
    placed = summary[(summary["variant"] == REFERENCE)]["g_attention"].astype(str)
    sides = sorted({int(s) for s in placed if s.isdigit()})
    if len(sides) < 3:
        base.needs = f"only G placement(s) {sides or 'none'} in this study; " + base.needs
        return base
    gains = {}
    for side in sides:
        keep = summary[
            (summary["variant"] != REFERENCE) | (summary["g_attention"].astype(str) == str(side))
        ]
        pairs = paired_differences(keep, fd, REFERENCE, BASELINE, relative=True)
        gains[side] = pairs.set_index(["dataset", "size", "seed"])["effect"]
    ends = pd.concat([gains[sides[0]], gains[sides[-1]]], axis=1).max(axis=1)
    best_mid = pd.concat([gains[s] for s in sides[1:-1]], axis=1).max(axis=1)
    effect = (best_mid - ends).dropna()
    out = Verdict(**{**asdict(base), **verdict(effect.to_numpy(), base.claimed)})
    out.seeds = effect.index.get_level_values("seed").nunique()
    out.scale = scale(summary[summary["variant"] == REFERENCE]) + f"; G sides {sides}"
    return out


def claim_3(summary: pd.DataFrame, profile: pd.DataFrame | None) -> list[Verdict]:
    base = Verdict(
        "3: attention adds about 40% training time",
        f"{REFERENCE} vs {BASELINE}, side-by-side step profile",
        "training-step time over the baseline, %",
        (30.0, 50.0),
        needs="profile the study (rule profile) with dcgan and sagan",
    )
    out = [base]
    if profile is not None and not profile.empty:
        fp32 = profile[profile["precision"] == profile["precision"].iloc[0]]
        rows = fp32[fp32["variant"] == REFERENCE]
        if len(rows) and (fp32["baseline"] == BASELINE).all():
            overhead = list(100 * (rows["ratio_to_baseline"] - 1))
            out[0] = Verdict(**{**asdict(base), **measured_verdict(overhead, base.claimed)})
            precision, device = rows["precision"].iloc[0], rows["device"].iloc[0]
            res = "/".join(f"{int(r)} px" for r in sorted(rows["resolution"].unique()))
            out[0].scale = f"{', '.join(rows['dataset'])}; {res}; {precision} on {device}"
    runs = Verdict(
        base.claim,
        f"{REFERENCE} vs {BASELINE}, each run's training throughput, paired",
        "wall-clock per iteration over the baseline, % (runs may share the machine)",
        base.claimed,
    )
    if "it_per_s" in summary:
        speed = summary.assign(s_per_it=1 / summary["it_per_s"])
        runs = _paired(
            speed, runs, "s_per_it", REFERENCE, BASELINE, relative=True, lower_is_better=False
        )
    out.append(runs)
    return out


def claim_4(summary: pd.DataFrame) -> Verdict:
    fd, _ = headline(summary)
    base = Verdict(
        "4: below ~100k images attention amplifies overfitting",
        f"{REFERENCE} vs {BASELINE} below {SMALL_DATA:,} images, paired",
        "generalisation gap FD(held-out) - FD(train), attention minus baseline (> 0: amplified)",
        (0.0, math.inf),
    )
    gap = f"{fd}_gap" if fd else None
    small = summary[summary["train_images"] < SMALL_DATA] if "train_images" in summary else summary
    out = _paired(
        summary, base, gap, REFERENCE, BASELINE, relative=False, lower_is_better=False, rows=small
    )
    if not (summary.get("train_images", pd.Series(dtype=float)) >= SMALL_DATA).any():
        out.note = "no run has >= 100k images, so the contrast above the threshold is not measured"
    return out


def claim_5(summary: pd.DataFrame, profile: pd.DataFrame | None) -> list[Verdict]:
    fd, _ = headline(summary)
    out = []
    cost = Verdict(
        "5a: top-k sparse attention cuts cost",
        f"topk vs {REFERENCE}, side-by-side step profile",
        "training-step time saved vs sagan, %",
        (0.0, math.inf),
        needs="profile a study with the topk and sagan variants",
    )
    if profile is not None and not profile.empty:
        fp32 = profile[profile["precision"] == profile["precision"].iloc[0]]
        ms = fp32.pivot_table(index="dataset", columns="variant", values="ms_per_step")
        if {"topk", REFERENCE} <= set(ms.columns):
            saved = list(100 * (1 - ms["topk"] / ms[REFERENCE]))
            cost = Verdict(**{**asdict(cost), **measured_verdict(saved, cost.claimed)})
            cost.scale = f"{', '.join(ms.index)}; {fp32['device'].iloc[0]}"
    out.append(cost)
    loss = Verdict(
        "5a: ... with little loss in quality",
        f"topk vs {REFERENCE}, paired",
        "FD change vs sagan, % (> 0: better; 'little loss' read as no worse than -5%)",
        (-5.0, math.inf),
        needs="add the topk and sagan variants",
    )
    out.append(_paired(summary, loss, fd, "topk", REFERENCE, relative=True, lower_is_better=True))
    for name, claim, variant in (
        ("5b", "multi-scale attention captures local to global structure", "multiscale"),
        ("5c", "channel (SE) plus spatial attention strengthens features", "se_spatial"),
    ):
        v = Verdict(
            f"{name}: {claim}",
            f"{variant} vs {REFERENCE} (single scale), paired",
            "FD improvement vs sagan, % (> 0: better)",
            (0.0, math.inf),
            needs=f"add the {variant} and sagan variants",
        )
        out.append(_paired(summary, v, fd, variant, REFERENCE, relative=True, lower_is_better=True))
    if "pairs_agreement" in summary and summary["pairs_agreement"].notna().any():
        v = Verdict(
            "5b: multi-scale attention captures ... global structure (pairs probe)",
            f"multiscale vs {REFERENCE} on the pairs probe, paired",
            "pairs_agreement difference (> 0: more long-range coherence)",
            (0.0, math.inf),
        )
        probe = summary[summary["pairs_agreement"].notna()]
        out.append(
            _paired(
                probe,
                v,
                "pairs_agreement",
                "multiscale",
                REFERENCE,
                relative=False,
                lower_is_better=False,
            )
        )
    return out


def claim_6(summary: pd.DataFrame, baseline: str = VIDEO_BASELINE) -> list[Verdict]:
    base = Verdict(
        "6: 3D attention improves frame-to-frame consistency",
        f"3D-attention video variant vs {baseline}, paired",
        "temporal_consistency difference (> 0: more consistent)",
        (0.0, math.inf),
        needs="add a video dataset and a 3D-attention video variant beside the baseline",
    )
    video = video_rows(summary)
    if video.empty or "temporal_consistency" not in video:
        return [base]
    others = [v for v in sorted(video["variant"].unique()) if v != baseline]
    out = []
    for variant in others:
        v = Verdict(**{**asdict(base), "comparison": f"{variant} vs {baseline} (video), paired"})
        out.append(
            _paired(
                video,
                v,
                "temporal_consistency",
                variant,
                baseline,
                relative=False,
                lower_is_better=False,
            )
        )
    return out or [base]


def evaluate_claims(summary: pd.DataFrame, profile: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per claim (some claims have several measurements)."""
    done = summary[summary["status"] == "done"] if "status" in summary else summary
    verdicts = [
        claim_1(done),
        claim_2(done),
        *claim_3(done, profile),
        claim_4(done),
        *claim_5(done, profile),
        *claim_6(done),
    ]
    return pd.DataFrame([asdict(v) for v in verdicts])


def _interval(lo: float, hi: float) -> str:
    def one(v: float) -> str:
        return "∞" if v == math.inf else "-∞" if v == -math.inf else f"{v:.3g}"

    return f"[{one(lo)}, {one(hi)}]"


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
                "pairs / seeds": _count(c),
                "test": f"{c['test']}{p}" if c["n"] else "–",
                "verdict": c["verdict"] + (f" ({c['scale']})" if c["scale"] else ""),
                "note": "; ".join(x for x in (c["note"], "" if c["n"] else c["needs"]) if x),
            }
        )
    text = pd.DataFrame(rows)
    note = (
        "supported: paired test p < 0.05 on the claimed side and the 95% bootstrap CI overlaps "
        "the claimed range; contradicted: the CI lies wholly outside it and the test rejects "
        "the nearest claimed bound (>= 3 pairs); "
        "inconclusive otherwise. Verdicts hold at the scale in brackets only."
    )
    return Table(
        "Claims: measured effects and verdicts", text, text.copy(), ["claim"], {}, [], note
    )
