"""The noise floor (real vs real at the study's counts) and the extractor's degradation checks."""

import numpy as np
import pandas as pd
import pytest

from sagan.data import load_prepared
from sagan.metrics.domain import train_domain_classifier
from sagan.metrics.extractor_checks import check_warnings, mark_order
from sagan.metrics.floor_files import measure_floor, stack_entries
from sagan.metrics.noise_floor import floor_subsets, noise_floor
from sagan.metrics.reference import compute_reference


@pytest.fixture(scope="module")
def digits_floor(digits16, tmp_path_factory):
    """The floor and checks of digits (200 held out), 300 samples, 3 resamples: the default
    study's protocol, smaller. The extractor trains 5 epochs: at 2 it ranks strong blur under
    mild (the check catches that)."""
    root = tmp_path_factory.mktemp("floor")
    data = load_prepared(digits16)
    train_domain_classifier(data, root / "domain.pt", epochs=5)
    for split in ("heldout", "train"):
        compute_reference(data, split, "domain", root / "domain.pt", root / f"{split}.pt")
    return measure_floor(
        digits16,
        root / "heldout.pt",
        root / "train.pt",
        extractor="domain",
        extractor_path=root / "domain.pt",
        num_samples=300,
        out_floor=root / "floor.csv",
        out_checks=root / "checks.csv",
        resamples=3,
    )


def test_digits_degradations_rank_in_order(digits_floor):
    floor, checks = digits_floor
    fd = checks.set_index(["degradation", "strength"])["fd"]
    noise, blur, drop = (
        fd[d].sort_index() for d in ("gaussian_noise", "gaussian_blur", "mode_dropping")
    )
    base = fd[("none", 0.0)]
    assert base < noise.iloc[0] < noise.iloc[1]
    assert base < blur.iloc[0] < blur.iloc[1]
    assert base < drop.iloc[0] < drop.iloc[1]
    assert checks["ok"].all(), checks
    assert check_warnings(checks.assign(dataset="digits")) == []
    # the floor row of the checks is the floor itself
    fd_floor = floor.set_index("metric").loc["fd_domain"]
    assert base == pytest.approx(fd_floor["mean"])


def test_digits_floor_is_small_positive_and_spread(digits_floor):
    floor, _ = digits_floor
    rows = floor.set_index("metric")
    assert set(rows.index) == {"fd_domain", "kid_domain"}
    fd = rows.loc["fd_domain"]
    assert 0 < fd["mean"] < 1 and fd["sd"] > 0
    assert (fd["num_samples"], fd["reference_count"], fd["resamples"]) == (300, 200, 3)
    assert (fd["sample_split"], fd["reference_split"]) == ("train", "heldout")


def test_floor_of_one_distribution_shrinks_with_samples():
    """Two sets from one Gaussian: FD is finite-sample bias only, so it falls as N grows;
    KID is unbiased, so its mean sits near 0 against its spread."""
    rng = np.random.default_rng(0)
    pool, heldout = rng.normal(size=(1500, 8)), rng.normal(size=(600, 8))
    small = noise_floor(pool, heldout[:60], num_samples=60, extractor="domain", resamples=4)
    large = noise_floor(pool, heldout, num_samples=600, extractor="domain", resamples=4)
    assert large[0]["mean"] < small[0]["mean"] / 4
    kid = small[1]
    assert kid["metric"] == "kid_domain" and abs(kid["mean"]) < 3 * kid["sd"] + 1e-3


def test_floor_subsets_are_seeded_distinct_and_capped():
    a, b = floor_subsets(50, 20, 2), floor_subsets(50, 20, 2)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(a[0], a[1]) and len(set(a[0])) == 20
    assert [len(s) for s in floor_subsets(10, 20, 2)] == [10, 10]  # the pool, when smaller


def _rows(fds: dict[tuple[str, int], float]) -> list[dict]:
    return [
        {
            "degradation": d,
            "strength": float(rank),
            "expected_rank": rank,
            "fd": v,
            "extractor": "domain",
        }
        for (d, rank), v in fds.items()
    ]


def test_a_non_monotone_check_is_flagged_and_named():
    rows = _rows(
        {
            ("none", 0): 1.0,
            ("gaussian_noise", 1): 2.0,
            ("gaussian_noise", 2): 5.0,
            ("gaussian_blur", 1): 1.1,  # within the floor's spread (1.0 + 2 x 0.1)
            ("gaussian_blur", 2): 4.0,
            ("mode_dropping", 1): 3.0,
            ("mode_dropping", 2): 2.5,  # below its milder step
        }
    )
    checks = pd.DataFrame(mark_order(rows, floor_sd=0.1)).assign(dataset="digits")
    ok = checks.set_index(["degradation", "expected_rank"])["ok"]
    assert not ok[("gaussian_blur", 1)] and not ok[("mode_dropping", 2)]
    assert ok[("gaussian_noise", 1)] and ok[("gaussian_noise", 2)] and ok[("gaussian_blur", 2)]
    warnings = check_warnings(checks)
    assert len(warnings) == 2
    assert "gaussian_blur" in warnings[0] and "the floor" in warnings[0]
    assert "mode_dropping" in warnings[1] and "milder step" in warnings[1]


def test_stack_entries_names_each_entry(tmp_path):
    pd.DataFrame({"metric": ["fd_domain"], "mean": [0.1]}).to_csv(tmp_path / "f.csv", index=False)
    table = stack_entries({"digits": tmp_path / "f.csv", "digits-place": tmp_path / "f.csv"})
    assert list(table.columns) == ["dataset", "metric", "mean"]
    assert table["dataset"].tolist() == ["digits", "digits-place"]
