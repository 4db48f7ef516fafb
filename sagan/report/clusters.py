"""Seeds as the unit of a claim: paired effects reduced to one value per (dataset, seed)
cluster, runs that did not learn set aside, and the check that decides whether datasets pool.

Runs of one seed at two training-set sizes are not independent pairs (in the default study
they correlate at about 0.97): they share the seed's initialisation, latents and data order.
So each (study, dataset, seed) is one cluster, its value the mean of its per-size effects,
and n counts clusters."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

PAIR = ["study", "dataset", "size", "seed"]
CLUSTER = ["study", "dataset", "seed"]
HETEROGENEITY_ALPHA = 0.10  # a lenient threshold: pooling wrongly costs more than not pooling


def cluster_values(effects: pd.DataFrame) -> pd.DataFrame:
    """One row per cluster: ``effect`` (the mean over its sizes) and ``pairs`` (how many)."""
    if effects.empty:
        return pd.DataFrame(columns=[*CLUSTER, "effect", "pairs"])
    grouped = effects.dropna(subset=["effect"]).groupby(CLUSTER, sort=True)["effect"]
    return grouped.agg(effect="mean", pairs="size").reset_index()


def _flag(runs: pd.DataFrame, column: str, value: str) -> pd.Series:
    """Where ``column`` reads ``value`` (true/false, as bool or CSV text); False if absent."""
    if column not in runs:
        return pd.Series(False, index=runs.index)
    return runs[column].astype(str).str.strip().str.lower() == value


def failed_runs(runs: pd.DataFrame) -> pd.Series:
    """Runs whose samples do not speak for their arm: collapsed (``sagan.report.run_checks``)
    or not converged by the end. A run without those checks counts as learned."""
    return _flag(runs, "collapsed", "true") | _flag(runs, "converged", "false")


def lost_note(runs: pd.DataFrame, arms: list[str]) -> str:
    """How many runs each arm lost to ``failed_runs``, by reason ("" when none)."""
    parts = []
    for arm in arms:
        mine = runs[runs["arm"] == arm]
        collapsed = int(_flag(mine, "collapsed", "true").sum())
        unconverged = int(
            (_flag(mine, "converged", "false") & ~_flag(mine, "collapsed", "true")).sum()
        )
        if collapsed or unconverged:
            why = [f"{collapsed} collapsed"] * bool(collapsed)
            why += [f"{unconverged} not converged"] * bool(unconverged)
            parts.append(f"{arm} lost {collapsed + unconverged} of {len(mine)} ({', '.join(why)})")
    return "; ".join(parts)


def pooling_check(clusters: pd.DataFrame) -> tuple[bool, str]:
    """Whether the datasets' cluster values may pool into one row, and the stated reason:
    never across opposite signs of the dataset means; else a one-way ANOVA F-test of the
    dataset means (needs 2 clusters in each) must not reject at HETEROGENEITY_ALPHA."""
    by = {d: g["effect"].to_numpy(float) for d, g in clusters.groupby("dataset", sort=True)}
    means = ", ".join(f"{d} {v.mean():+.3g}" for d, v in by.items())
    signs = {np.sign(v.mean()) for v in by.values()} - {0.0}
    if len(signs) > 1:
        return False, f"dataset means of opposite sign ({means})"
    if min(len(v) for v in by.values()) < 2:
        return False, f"a dataset has one seed, so their agreement cannot be tested ({means})"
    if all(np.ptp(v) == 0 for v in by.values()):
        p = 0.0 if len({float(v[0]) for v in by.values()}) > 1 else 1.0
    else:
        p = float(stats.f_oneway(*by.values()).pvalue)
    if not p >= HETEROGENEITY_ALPHA:  # NaN too
        return False, f"datasets differ (heterogeneity F-test p = {p:.3g} < 0.1; {means})"
    return True, f"heterogeneity F-test p = {p:.3g} >= 0.1, same sign ({means})"
