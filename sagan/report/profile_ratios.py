"""Per-round ratios of one arm's training-step time to its baseline's, from a side-by-side
profile: the one statistic the claims' cost rows and the step-overhead figure both report
(the median of these ratios and the order-statistic interval of that median)."""

from __future__ import annotations

import pandas as pd

PROFILE_COLUMNS = ["dataset", "precision", "device", "resolution", "rounds", "load"]


def profile_ratios(profile: pd.DataFrame | None, arm: str, baseline: str) -> pd.DataFrame:
    """Per dataset: ``arm``'s ms/step over ``baseline``'s in each interleaved round of the same
    profile (fp32 where profiled, else the first precision; [] for a profile without its
    per-repeat times), and the machine's load ("" when not loaded or not recorded). Taken from
    the two arms' own times, so profiles of other datasets (another baseline, e.g. a video
    one) cannot spoil it."""
    if profile is None or profile.empty:
        return pd.DataFrame(columns=PROFILE_COLUMNS)
    rows = []
    for (dataset, precision), g in profile.groupby(["dataset", "precision"], sort=False):
        ms = g.drop_duplicates("arm").set_index("arm")
        if arm in ms.index and baseline in ms.index:
            rows.append(
                {
                    "dataset": dataset,
                    "precision": precision,
                    "device": ms.loc[arm, "device"],
                    "resolution": ms.loc[arm, "resolution"],
                    "rounds": round_ratios(ms.loc[arm], ms.loc[baseline]),
                    "load": _load(ms.loc[arm]),
                }
            )
    out = pd.DataFrame(rows, columns=PROFILE_COLUMNS)
    out["_pick"] = out["precision"] != "fp32"
    return out.sort_values("_pick", kind="stable").groupby("dataset").head(1).drop(columns="_pick")


def profile_pairs(
    profile: pd.DataFrame | None, arm: str, baseline: str
) -> dict[str, tuple[pd.Series, pd.Series]]:
    """Per dataset, the profile rows of ``arm`` and ``baseline`` (fp32 where profiled, else
    the first precision, as ``profile_ratios`` picks them)."""
    if profile is None or profile.empty:
        return {}
    pairs: dict[str, tuple[pd.Series, pd.Series]] = {}
    fp32_first = profile.assign(_pick=profile["precision"] != "fp32")
    ordered = fp32_first.sort_values("_pick", kind="stable").drop(columns="_pick")
    for (dataset, _), g in ordered.groupby(["dataset", "precision"], sort=False):
        rows = g.drop_duplicates("arm").set_index("arm")
        if dataset not in pairs and arm in rows.index and baseline in rows.index:
            pairs[dataset] = (rows.loc[arm], rows.loc[baseline])
    return pairs


def round_ratios(arm: pd.Series, baseline: pd.Series) -> list[float]:
    """``arm``'s ms/step over ``baseline``'s in each interleaved round (their ``ms_repeats``,
    in round order); [] for a profile written before the repeats were kept."""
    times = [str(r.get("ms_repeats", "")).split() for r in (arm, baseline)]
    if any(not t or "nan" in t for t in times) or len(times[0]) != len(times[1]):
        return []
    return [float(a) / float(b) for a, b in zip(*times, strict=True)]


def _load(row: pd.Series) -> str:
    """What loaded the machine, when it was ("other processes kept 0.8 of 2 cores busy"; from
    a profile without that column, "load 3.5 before / 4 after on 2 cores"), else ""."""
    if str(row.get("loaded")) != "True":
        return ""
    other = row.get("other_cores")
    if other is not None and not pd.isna(other):
        return f"other processes kept {other:g} of {row['cores']} cores busy"
    return (
        f"load {row['load_before']:g} before / {row['load_after']:g} after on {row['cores']} cores"
    )
