"""The claims as a paper table: per row the measured effect and interval, the clusters behind
it, the test that decided with its Holm-adjusted p, the margin, and the verdict."""

from __future__ import annotations

import math

import pandas as pd

from sagan.report.tables import Table
from sagan.report.verdict_rules import NOT_MEASURED


def _interval(lo: float, hi: float) -> str:
    def one(v: float) -> str:
        return "∞" if v == math.inf else "-∞" if v == -math.inf else f"{v:.3g}"

    return f"[{one(lo)}, {one(hi)}]"


def _number(v: float) -> str:
    return "" if pd.isna(v) else f"{v:.3g}"


def _count(c: pd.Series) -> str:
    if not c["n"]:
        return "–"
    if not c["seeds"]:
        return f"{c['n']} datasets (profile)"
    return f"{c['n']} seeds ({c['pairs']} pairs)"


def _test(c: pd.Series) -> str:
    if not c["n"] or not c["test"]:
        return "–"
    if pd.isna(c["p"]):
        return c["test"]
    holm = "" if pd.isna(c["p_holm"]) else f", Holm p = {c['p_holm']:.3g}"
    return f"{c['test']}: p = {c['p']:.3g}{holm}"


def _margin(c: pd.Series) -> str:
    parts = [f"±{c['margin']:.3g} ({c['margin_rule']})" if pd.notna(c["margin"]) else ""]
    parts.append(f"floor {c['floor']:.3g}" if pd.notna(c["floor"]) else "")
    return "; ".join(p for p in parts if p) or "–"


def _where(c: pd.Series) -> str:
    if c["level"] == "pooled":
        return f"pooled: {c['dataset']}"
    if c["level"] == "all runs kept":
        return f"{c['dataset']}, all runs kept (sensitivity)"
    return c["dataset"] or "–"


def _needs(c: pd.Series) -> str:
    """What would measure a claim, only while its arms are missing from the study."""
    return c["needs"] if c["verdict"] == NOT_MEASURED else ""


NOTE = (
    "n counts seed clusters: runs sharing (dataset, seed) are one unit, their value the mean "
    "of the per-size paired effects. Measured: mean over clusters and its 95% Student-t "
    "interval. Each verdict is decided by one-sided t-tests at 0.025 on the cluster values "
    "(so it reads off the 95% interval; a verdict needing two bounds takes the larger p), "
    "tried in order: inside the claimed range (above lo and below hi); larger than claimed "
    "(beyond hi); equivalent to no effect (within ±margin); opposite to the claim (the other "
    "side of 0); smaller than claimed, same direction (below lo, above 0); smaller than "
    "claimed (below lo); else inconclusive, with the MDE (80% power, two-sided 0.05) against "
    "the effect needed to tell the claim from no effect. The test column gives the deciding "
    "test (for inconclusive, the nearest) and its p, Holm-adjusted across the table's tested "
    "rows; the adjusted p decides. Untestable at this scale: the real-vs-real noise floor "
    "exceeds the margin, or the real data score 0 on the metric. Quality rows leave out runs "
    "that collapsed or did not converge (column excluded); a sensitivity row keeps them "
    "(unadjusted, outside Holm's family). A pooled row appears beside its datasets only when "
    "their means share a sign and a heterogeneity F-test does not reject at 0.1. Profile "
    "rows (no seeds): the same words read off the interval of the median over interleaved "
    "repeats, only where every dataset agrees. Verdicts hold at the scale given only; every "
    "test run for a row, with its p, is in claims.csv."
)


def claims_table(claims: pd.DataFrame) -> Table:
    """The verdicts as a paper table (no bold: the verdict column is the point)."""
    rows = []
    for _, c in claims.iterrows():
        measured = "–" if c["n"] == 0 else f"{c['mean']:.3g} {_interval(c['ci_lo'], c['ci_hi'])}"
        rows.append(
            {
                "claim": c["claim"],
                "dataset": _where(c),
                "comparison": c["comparison"],
                "effect": c["effect"],
                "claimed": _interval(*c["claimed"]),
                "measured [95% CI]": measured,
                "n": _count(c),
                "deciding test": _test(c),
                "margin": _margin(c),
                "MDE": _number(c["mde"]),
                "verdict": c["verdict"] + (f" ({c['scale']})" if c["scale"] else ""),
                "excluded": c["excluded"] or "",
                "note": "; ".join(x for x in (c["note"], _needs(c)) if x),
            }
        )
    text = pd.DataFrame(rows)
    return Table(
        "Claims: measured effects and verdicts", text, text.copy(), ["claim"], {}, [], NOTE
    )
