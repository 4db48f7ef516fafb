"""The report's list of runs that did not learn: every run that collapsed or did not converge
by the declared criteria (``sagan.report.run_checks``), by name and with the number each
criterion read, so a reader sees which runs the tables' counts are made of."""

from __future__ import annotations

import math

import pandas as pd

from sagan.report.run_checks import LEARNED_CLASS_COVERAGE, samples_learned
from sagan.report.tables import Table

RUN_ID = ["dataset", "arm", "size", "seed"]


def _flag(value: object) -> bool | None:
    """A summary flag as read back from CSV (True/False, 'True'/'False', or empty)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str):
        return {"true": True, "false": False}.get(value.strip().lower())
    return bool(value)


def _learned(run: pd.Series) -> tuple[bool | None, str]:
    values = {
        k: v for k, v in run.items() if isinstance(v, int | float) and not isinstance(v, bool)
    }
    return samples_learned(values)


def learned_table(summary: pd.DataFrame) -> Table | None:
    """One row per run that collapsed, did not converge, failed the learned-samples check,
    or could not be checked; None when the summary has no flags (older results)."""
    if "collapsed" not in summary and "converged" not in summary:
        return None
    rows, failed_learning = [], 0
    for _, run in summary.iterrows():
        collapsed, converged = _flag(run.get("collapsed")), _flag(run.get("converged"))
        learned, short = _learned(run)
        failed_learning += learned is False
        if collapsed is False and converged is True and learned is not False:
            continue
        change = run.get("converged_change", math.nan)
        rows.append(
            {
                **{k: str(run[k]) for k in RUN_ID},
                "samples learned": {True: "yes", False: f"no: {short}", None: "unknown"}[learned],
                "collapsed": {True: "yes", False: "no", None: "unknown"}[collapsed],
                "why": str(run.get("collapse_reason") or "") if collapsed else "",
                "converged": {True: "yes", False: "no", None: "unknown"}[converged],
                "FD change, last third": f"{change:+.1%}" if pd.notna(change) else "–",
            }
        )
    verdict = "every run passes" if not failed_learning else f"{failed_learning} runs fail"
    note = (
        f"Learned samples (class coverage >= {LEARNED_CLASS_COVERAGE:g} and recall > 0): "
        f"{verdict}. "
        f"{len(rows)} of {len(summary)} runs collapsed, did not converge, failed that check "
        "or could not be checked (a run shared by two dataset entries is listed under each). "
        "collapsed: "
        "recall 0, class coverage under 0.5, or FD above the reference features' total "
        "variance; converged: FD while training moved by at "
        "most 10 % over the run's last third (docs/claims-and-statistics.md, 'Runs that "
        "learned'). FD change < 0: "
        "still improving."
    )
    if not rows:
        columns = [*RUN_ID, "samples learned", "collapsed", "why", "converged"]
        rows = [dict.fromkeys([*columns, "FD change, last third"], "–")]
    text = pd.DataFrame(rows)
    values = pd.DataFrame(math.nan, index=text.index, columns=text.columns)
    return Table(
        "Runs that did not learn: collapsed or not converged", text, values, RUN_ID, note=note
    )
