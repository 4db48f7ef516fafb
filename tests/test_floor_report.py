"""The noise floor and the extractor checks in the report: tables, figures, protocol table."""

import matplotlib.pyplot as plt
import pandas as pd
from test_figures import summary

from sagan.report.aggregate import FLOOR_COLUMNS
from sagan.report.figures import quality_vs_size
from sagan.report.floor_figure import extractor_checks_figure
from sagan.report.paper_tables import ablation_table, small_data_table
from sagan.report.stats import cell_stats

FLOOR = pd.DataFrame(
    {
        "dataset": ["digits", "digits"],
        "extractor": ["domain", "domain"],
        "metric": ["fd_domain", "kid_domain"],
        "mean": [0.08, 0.001],
        "sd": [0.02, 0.0005],
        "resamples": [5, 5],
        "num_samples": [500, 500],
        "sample_split": ["train", "train"],
        "reference_count": [400, 400],
        "reference_split": ["heldout", "heldout"],
    }
)


def checks(dataset: str, blur_strong: float) -> pd.DataFrame:
    rows = [
        ("none", 0.0, 0, 0.08, True),
        ("gaussian_noise", 32.0, 1, 0.4, True),
        ("gaussian_noise", 96.0, 2, 7.9, True),
        ("gaussian_blur", 0.03, 1, 0.3, True),
        ("gaussian_blur", 0.1, 2, blur_strong, blur_strong > 0.3),
    ]
    return pd.DataFrame(
        [
            {"dataset": dataset, "extractor": "domain", "degradation": d, "strength": s}
            | {"expected_rank": r, "fd": fd, "fd_sd": 0.02, "num_samples": 500, "ok": ok}
            for d, s, r, fd, ok in rows
        ]
    )


def _bands(fig: plt.Figure) -> dict[str, int]:
    """Panels' y labels -> how many floor bands (axhspan patches) they hold."""
    return {
        f"{ax.get_title() or ''}|{ax.get_ylabel()}|{i}": len(ax.patches)
        for i, ax in enumerate(fig.axes)
        if ax.get_ylabel().startswith(("FD", "KID"))
    }


def test_quality_figure_draws_the_floor_where_measured(tmp_path):
    runs = summary(tmp_path)
    without = quality_vs_size(runs)
    assert sum(_bands(without).values()) == 0  # older results: no floor, still drawn
    fig = quality_vs_size(runs, FLOOR)
    # digits' FD and KID panels get a band; pairs has no floor row
    assert sorted(_bands(fig).values()) == [0, 0, 1, 1]
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert any(t.startswith("real vs real 0.08") for t in texts)


def test_tables_carry_the_floor_and_name_a_failed_check(tmp_path):
    runs = summary(tmp_path)
    stats = cell_stats(runs, ["fd_domain", "kid_domain", "fd_domain_gap"])
    plain = ablation_table(runs, stats, None)
    assert "FD-domain floor" not in plain.text and "floor" not in plain.note
    table = ablation_table(runs, stats, None, FLOOR, checks("digits", 0.2))
    floors = dict(zip(table.text["dataset"], table.text["FD-domain floor"], strict=True))
    assert floors["digits"] == "0.08 ± 0.02" and floors["pairs"] == "–"
    assert "500 training-pool and 400 held-out" in table.note
    assert "WARNING" in table.note and "gaussian_blur at strength 0.1" in table.note
    ok = ablation_table(runs, stats, None, FLOOR, checks("digits", 7.0))
    assert "WARNING" not in ok.note
    small = small_data_table(runs, stats, FLOOR)
    assert list(small.text.columns[:5]) == [
        "dataset",
        "images",
        "arm",
        "FD-domain held-out",
        "floor",
    ]


def test_checks_figure_shares_a_panel_between_entries_and_marks_failures():
    both = pd.concat([checks("digits", 0.2), checks("digits-place", 0.2), checks("pairs", 7.0)])
    fig = extractor_checks_figure(both)
    titles = sorted(ax.get_title(loc="left") for ax in fig.axes)
    assert titles == ["digits, digits-place: 1 out of order", "pairs: in order"]
    marked = {
        ax.get_title(loc="left"): sum(
            1 for line in ax.lines if line.get_marker() == "x" and len(line.get_xdata())
        )
        for ax in fig.axes
    }
    assert marked == {"digits, digits-place: 1 out of order": 1, "pairs: in order": 0}


def test_protocol_table_carries_the_floor(tmp_path, monkeypatch):
    from sagan.report import aggregate

    rows = [
        {"study": "t", "dataset": d, "arm": "dcgan", "size": "full", "seed": 0, "metric": m}
        for d in ("digits", "pairs")
        for m in ("fd_domain", "precision_domain")
    ]
    monkeypatch.setattr(aggregate, "protocol_rows", lambda d: rows)
    protocol = aggregate.metric_protocol(["run"], FLOOR).set_index(["dataset", "metric"])
    assert protocol.loc[("digits", "fd_domain"), "floor_mean"] == 0.08
    assert protocol.loc[("digits", "fd_domain"), "floor_num_samples"] == 500
    assert protocol[FLOOR_COLUMNS].drop(index=("digits", "fd_domain")).isna().all().all()
    assert set(FLOOR_COLUMNS) <= set(aggregate.metric_protocol(["run"]).columns)
