"""FD at equal training time: each seed pair's two FD-while-training curves (the log's
``during_*`` column, ``evaluation.during``) read at one training-seconds value both reached,
for claims that compare arms at equal wall-clock (claim 7-time)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sagan.report.during_figure import during_columns

EQUAL_TIME = "fd_at_equal_time"  # the FD of a run at its pair's common time
PAIR_KEYS = ["study", "dataset", "size", "seed"]


def equal_time_rows(
    summary: pd.DataFrame, logs: pd.DataFrame | None, arm: str, baseline: str
) -> pd.DataFrame:
    """The summary rows of ``arm`` and ``baseline`` runs that pair by (study, dataset, size,
    seed), each with ``EQUAL_TIME``: its FD curve linearly interpolated at T, the earlier of
    the two runs' last scored seconds, and ``equal_seconds`` = T. A pair whose curves share
    no span of time (T before one run's first score) is left out: no extrapolation."""
    columns = during_columns(logs)
    if not columns:
        return pd.DataFrame()
    fd = columns[0]
    scored = logs[logs[fd].notna() & logs["arm"].isin([arm, baseline])]
    runs = summary.assign(size=summary["size"].astype(str)).set_index([*PAIR_KEYS, "arm"])
    out = []
    for key, pair in scored.assign(size=scored["size"].astype(str)).groupby(PAIR_KEYS):
        curves = {v: c.sort_values("seconds") for v, c in pair.groupby("arm")}
        if len(curves) < 2:
            continue
        first = max(c["seconds"].iloc[0] for c in curves.values())
        t = min(c["seconds"].iloc[-1] for c in curves.values())
        if t < first:
            continue
        for arm, curve in curves.items():
            if (*key, arm) not in runs.index:
                continue
            row = runs.loc[[(*key, arm)]].reset_index().iloc[0].to_dict()
            row[EQUAL_TIME] = float(np.interp(t, curve["seconds"], curve[fd]))
            row["equal_seconds"] = float(t)
            out.append(row)
    return pd.DataFrame(out)
