"""Feature metrics pinned against independent references: clean-fid's and prdc's own functions,
brute-force implementations written from the papers' definitions, and closed forms; and each
metric of ``feature_metrics`` read against the split it declares.

Pixel, temporal and probe metrics: ``test_reference_pixel_metrics.py``.
"""

import contextlib
import io
from types import SimpleNamespace

import numpy as np
import prdc
import pytest
from cleanfid import fid as cleanfid
from scipy import stats
from scipy.spatial.distance import cdist

from sagan.data import DataMeta
from sagan.metrics import distances, image_evaluate
from sagan.metrics.declared import declared
from sagan.metrics.distances import frechet_distance, kernel_distance_stats
from sagan.metrics.fidelity import precision_recall_density_coverage
from sagan.metrics.overfitting import memorisation
from sagan.metrics.suite import feature_metrics


def gaussian(seed: int, n: int, d: int, shift: float = 0.0, scale: float = 1.0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, d)) * scale + shift


# --- references ------------------------------------------------------------------------------


def reference_fd(a: np.ndarray, b: np.ndarray) -> float:
    """FD with the matrix square root by eigendecomposition, not scipy's sqrtm:
    Tr (S_a S_b)^1/2 = sum sqrt(eig(S_a^1/2 S_b S_a^1/2))."""
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.cov(a.T), np.cov(b.T)  # (D, D), ddof=1
    w, v = np.linalg.eigh(s_a)
    root_a = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    inner = np.linalg.eigvalsh(root_a @ s_b @ root_a)
    tr_root = np.sqrt(np.clip(inner, 0, None)).sum()
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(s_a) + np.trace(s_b) - 2 * tr_root)


def reference_kid(a: np.ndarray, b: np.ndarray, seed: int, subsets: int, size: int):
    """Unbiased cubic-kernel MMD^2 per subset (Bińkowski et al. 2018, eq. 3), mean and std
    (ddof=0); subsets drawn as clean-fid draws them: b's rows, then a's, from the global RNG."""
    m = min(len(a), len(b), size)

    def k(x, y):
        return (x @ y.T / x.shape[1] + 1) ** 3

    def off_diagonal_mean(kxx):
        return (kxx.sum() - np.trace(kxx)) / (m * (m - 1))

    state = np.random.get_state()
    np.random.seed(seed)
    estimates = []
    for _ in range(subsets):
        x = b[np.random.choice(len(b), m, replace=False)]
        y = a[np.random.choice(len(a), m, replace=False)]
        mmd = off_diagonal_mean(k(x, x)) + off_diagonal_mean(k(y, y)) - 2 * k(x, y).mean()
        estimates.append(mmd)
    np.random.set_state(state)
    return float(np.mean(estimates)), float(np.std(estimates))


def reference_prdc(real: np.ndarray, fake: np.ndarray, k: int) -> dict:
    """Precision, recall (Kynkäänniemi et al. 2019), density and coverage (Naeem et al. 2020)
    by brute force from their definitions; a ball is open (strict <)."""

    def radii(x):  # distance from each row to its k-th nearest other row
        return np.sort(cdist(x, x), axis=1)[:, k]  # column 0 is the row itself

    r_real, r_fake = radii(real), radii(fake)
    d = cdist(real, fake)  # (R, F)
    inside_real = d < r_real[:, None]  # fake j inside real i's ball
    return {
        "precision": inside_real.any(axis=0).mean(),
        "recall": (d < r_fake[None, :]).any(axis=1).mean(),
        "density": inside_real.sum(axis=0).mean() / k,
        "coverage": (d.min(axis=1) < r_real).mean(),
    }


def prdc_package(real: np.ndarray, fake: np.ndarray, k: int) -> dict:
    with contextlib.redirect_stdout(io.StringIO()):
        out = prdc.compute_prdc(real_features=real, fake_features=fake, nearest_k=k)
    return {key: float(v) for key, v in out.items()}


PRDC_KEYS = ("precision", "recall", "density", "coverage")


# --- FD -----------------------------------------------------------------------------------------


def test_fd_matches_clean_fid_and_an_eigendecomposition_reference_on_correlated_features():
    rng = np.random.default_rng(0)
    mix_a, mix_b = rng.normal(size=(6, 6)), rng.normal(size=(6, 6))
    a, b = gaussian(1, 400, 6) @ mix_a, gaussian(2, 300, 6, shift=0.7) @ mix_b
    ours = frechet_distance(a, b)
    theirs = cleanfid.frechet_distance(a.mean(0), np.cov(a.T), b.mean(0), np.cov(b.T))
    assert ours == pytest.approx(theirs, rel=1e-10)
    assert ours == pytest.approx(reference_fd(a, b), rel=1e-7)
    assert ours == pytest.approx(frechet_distance(b, a), rel=1e-7)  # FD is symmetric


def exact_moments(seed: int, mean: np.ndarray, cov: np.ndarray, n: int = 300) -> np.ndarray:
    """n samples whose sample mean and ddof=1 covariance are exactly ``mean`` and ``cov``."""
    z = gaussian(seed, n, len(mean))
    z -= z.mean(0)
    z = z @ np.linalg.inv(np.linalg.cholesky(np.cov(z.T))).T  # cov(z) = I
    return mean + z @ np.linalg.cholesky(cov).T


def test_fd_of_gaussians_with_known_moments_is_the_closed_form():
    # diagonal: ||mu1 - mu2||^2 + sum(s1 + s2 - 2 sqrt(s1 s2))
    mu1, s1 = np.array([1.0, -2.0, 0.0]), np.array([4.0, 1.0, 0.25])
    mu2, s2 = np.array([0.0, 0.0, 3.0]), np.array([1.0, 9.0, 0.25])
    a, b = exact_moments(3, mu1, np.diag(s1)), exact_moments(4, mu2, np.diag(s2))
    closed = 14.0 + (1.0 + 4.0 + 0.0)  # 1 + 4 + 9, then (2-1)^2 + (1-3)^2 + 0
    assert np.sum((mu1 - mu2) ** 2) + np.sum(s1 + s2 - 2 * np.sqrt(s1 * s2)) == closed
    assert frechet_distance(a, b) == pytest.approx(closed, rel=1e-9)
    # commuting covariances S and c^2 S: Tr(S + c^2 S - 2 c S) = (1 - c)^2 Tr S
    cov = np.array([[2.0, 0.6, 0.0], [0.6, 1.0, 0.3], [0.0, 0.3, 0.5]])
    a, b = exact_moments(5, mu1, cov), exact_moments(6, mu1, 9.0 * cov)
    assert frechet_distance(a, b) == pytest.approx(4.0 * np.trace(cov), rel=1e-9)


# --- KID ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("whole_rows", [4096, 0], ids=["kernels once", "kernels per subset"])
def test_kid_mean_and_std_match_clean_fid_and_a_from_the_paper_reference(whole_rows, monkeypatch):
    monkeypatch.setattr(distances, "WHOLE_KERNEL_ROWS", whole_rows)
    # unequal sizes: an argument swap or a reordered subset draw changes the subsets
    a, b = gaussian(0, 120, 5), gaussian(1, 90, 5, shift=0.3, scale=1.5)
    mean, std = kernel_distance_stats(a, b, seed=11, num_subsets=15, max_subset_size=50)
    np.random.seed(11)
    theirs = cleanfid.kernel_distance(a, b, num_subsets=15, max_subset_size=50)
    ref_mean, ref_std = reference_kid(a, b, seed=11, subsets=15, size=50)
    assert mean == pytest.approx(theirs, rel=1e-10)
    assert (mean, std) == (pytest.approx(ref_mean, rel=1e-9), pytest.approx(ref_std, rel=1e-9))
    assert mean > 0.05 and std > 0


def test_kid_of_one_whole_set_subset_is_the_analytic_mmd_of_two_tiny_sets():
    # d = 1, rows x = (0, 1) and y = (1, 2): k(u, v) = (u v + 1)^3
    # within x: 2 k(0, 1) = 2; within y: 2 k(1, 2) = 54; across: k(0,1) + k(0,2) + 2^3 + 3^3
    x, y = np.array([[0.0], [1.0]]), np.array([[1.0], [2.0]])
    expected = 2 / 2 + 54 / 2 - 2 * (1 + 1 + 8 + 27) / 4  # 28 - 18.5
    mean, std = kernel_distance_stats(x, y, num_subsets=3, max_subset_size=2)
    assert (mean, std) == (pytest.approx(expected), pytest.approx(0.0, abs=1e-12))


# --- precision, recall, density, coverage --------------------------------------------------------


def test_prdc_matches_the_prdc_package_and_a_from_the_definitions_reference():
    real, fake = gaussian(0, 150, 4), gaussian(1, 120, 4, shift=0.4, scale=0.7)
    ours = precision_recall_density_coverage(real, fake, k=4)
    package, brute = prdc_package(real, fake, 4), reference_prdc(real, fake, 4)
    for key in PRDC_KEYS:
        assert ours[key] == pytest.approx(package[key], abs=1e-12), key
        assert ours[key] == pytest.approx(brute[key], abs=1e-12), key
    # a narrow fake sits inside the real manifold but misses its tails
    assert ours["precision"] > ours["recall"]


def test_swapping_real_and_fake_changes_prdc_so_the_roles_are_pinned():
    real = np.concatenate([gaussian(i, 60, 2, shift=20.0 * i) for i in range(4)])  # four modes
    fake = np.concatenate([gaussian(10 + i, 60, 2, shift=20.0 * i) for i in range(2)])  # two
    right, swapped = (
        precision_recall_density_coverage(*p, k=3) for p in ((real, fake), (fake, real))
    )
    assert right["precision"] > 0.9 and 0.4 < right["recall"] <= 0.5
    assert swapped["recall"] > 0.9 and 0.4 < swapped["precision"] <= 0.5
    assert right["coverage"] == pytest.approx(reference_prdc(real, fake, 3)["coverage"])


# --- memorisation ------------------------------------------------------------------------------

# Ten training points 10 apart on the x axis; a point at height h above one of them is at
# distance exactly h from the training set for h < 10 (the next one is sqrt(100 + h^2) away).
TRAIN = np.stack([10.0 * np.arange(10), np.zeros(10)], axis=1)  # (10, 2)


def above(heights) -> np.ndarray:
    heights = np.asarray(heights, dtype=np.float64)
    return TRAIN[: len(heights)] + np.stack([np.zeros_like(heights), heights], axis=1)


HELDOUT = above(np.arange(1.0, 11.0))  # distances 1, 2, ..., 10 exactly
FAKE = above([0, 0, 0, 0, 3, 3, 20, 20, 20, 20])  # 4 copies, 2 close, 4 far (20 < sqrt(500))


def test_memorisation_of_hand_built_copies_has_the_known_answers():
    result = memorisation(FAKE, TRAIN, HELDOUT, copy_quantile=0.25)
    # quantile 0.25 of 1..10, linear: 3 + 0.25 * 1 = 3.25; below it: 4 copies and the two 3s
    assert result["near_copy_threshold"] == pytest.approx(3.25)
    assert result["near_copy_fraction"] == 0.6
    assert result["fake_to_train_median"] == 3.0 and result["heldout_to_train_median"] == 5.5
    assert result["median_ratio"] == pytest.approx(3.0 / 5.5)
    # U of fake over held-out: 0s beat nothing, 3s beat 1, 2 and tie 3 (2.5 each), 20s beat all
    u, n1, n2, n = 2 * 2.5 + 4 * 10, 10, 10, 20
    ties = np.array([4, 3, 4])  # 0 (x4), 3 (x3), 20 (x4)
    var = n1 * n2 / 12 * ((n + 1) - (ties**3 - ties).sum() / (n * (n - 1)))
    assert result["mann_whitney_z"] == pytest.approx((u - n1 * n2 / 2) / np.sqrt(var))
    p = stats.mannwhitneyu(
        np.array([0, 0, 0, 0, 3, 3, 20, 20, 20, 20.0]),
        np.arange(1.0, 11.0),
        method="asymptotic",
        use_continuity=False,
    ).pvalue
    assert 2 * stats.norm.sf(abs(result["mann_whitney_z"])) == pytest.approx(p)
    # "closer than" the threshold: a fake exactly at it (quantile 2/9 of 1..10 is 3) is not
    at_threshold = memorisation(above([3, 0]), TRAIN, HELDOUT, copy_quantile=2 / 9)
    assert at_threshold["near_copy_threshold"] == 3.0
    assert at_threshold["near_copy_fraction"] == 0.5


def test_memorisation_measures_from_the_training_set_not_the_held_out_one():
    copies = TRAIN.copy()  # G reproduced every training image
    right = memorisation(copies, TRAIN, HELDOUT, copy_quantile=0.25)
    assert right["near_copy_fraction"] == 1.0 and right["median_ratio"] == 0.0
    assert right["mann_whitney_z"] < -3
    # the same fakes measured from the held-out reals are at distances 1..10: no copying
    wrong = memorisation(copies, HELDOUT, TRAIN, copy_quantile=0.25)
    assert wrong["near_copy_fraction"] < 0.5 and wrong["median_ratio"] == pytest.approx(1.0)


# --- which split each metric reads -------------------------------------------------------------


@pytest.fixture(scope="module")
def three_splits() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fakes that copy half the training subset, which is offset from the held-out reals,
    so every train metric differs from its held-out twin."""
    train, heldout = gaussian(0, 80, 3, shift=1.0), gaussian(1, 70, 3, scale=1.3)
    fake = np.concatenate([train[:30], gaussian(2, 30, 3, shift=0.5)])
    return fake, heldout, train


def test_each_feature_metric_reads_the_split_it_declares(three_splits):
    fake, heldout, train = three_splits
    got = feature_metrics(fake, heldout, train, extractor="domain", seed=5)
    fd_h, fd_t = reference_fd(fake, heldout), reference_fd(fake, train)
    kid_h, kid_h_std = reference_kid(fake, heldout, seed=5, subsets=100, size=1000)
    kid_t, _ = reference_kid(fake, train, seed=5, subsets=100, size=1000)
    pr = reference_prdc(heldout, fake, 3)  # real = held-out, fake = generated
    memo = memorisation(fake, train, heldout)
    expected = {
        "fd_domain": fd_h,
        "fd_domain_train": fd_t,
        "fd_domain_gap": fd_h - fd_t,
        "kid_domain": kid_h,
        "kid_domain_std": kid_h_std,
        "kid_domain_train": kid_t,
        "kid_domain_gap": kid_h - kid_t,
        **{f"{key}_domain": pr[key] for key in PRDC_KEYS},
        **{f"memo_domain_{k}": memo[k] for k in ("near_copy_fraction", "median_ratio")},
        "memo_domain_mann_whitney_z": memo["mann_whitney_z"],
    }
    assert set(got) == set(expected)
    for name, value in expected.items():
        assert got[name].value == pytest.approx(value, rel=1e-7, abs=1e-12), name
        split = declared(name).declaration.reference_split
        assert got[name].reference_split == split, name
        count = {"heldout": len(heldout), "train": len(train)}.get(split)
        if count is not None:
            assert got[name].reference_count == count, name
    # the case tells the splits apart: G copied training images, so it is nearer train
    assert fd_h - fd_t > 0.5 and kid_h > kid_t and memo["near_copy_fraction"] >= 0.5
    assert pr["precision"] != reference_prdc(train, fake, 3)["precision"]


def test_image_evaluation_passes_held_out_and_training_features_in_their_roles(
    three_splits, monkeypatch
):
    fake, heldout, train = three_splits
    calls = {}

    def training_subset(cfg, data):
        calls["train"] = True
        return train

    monkeypatch.setattr(image_evaluate, "generate_labelled", lambda *a, **k: (fake, None))
    monkeypatch.setattr(image_evaluate, "to_pixel_range", lambda x: x)
    monkeypatch.setattr(image_evaluate, "load_extractor", lambda *a: object())
    monkeypatch.setattr(
        image_evaluate, "extract", lambda net, x, *a: SimpleNamespace(numpy=lambda: x)
    )
    monkeypatch.setattr(image_evaluate, "load_reference", lambda path: (heldout, {}))
    monkeypatch.setattr(image_evaluate, "training_subset_features", training_subset)
    monkeypatch.setattr(image_evaluate, "pixel_metrics", lambda *a, **k: {})
    monkeypatch.setattr(image_evaluate, "spread", lambda x: x)
    e = SimpleNamespace(
        num_samples=len(fake), seed=5, batch_size=10, extractor="domain", extractor_path="x",
        reference_path="h", fid_infinity=False, skip_pixel_metrics=(),
    )  # fmt: skip
    cfg = SimpleNamespace(eval=e, data=SimpleNamespace(source="", dataset="gaussians"))
    data = SimpleNamespace(meta=DataMeta(16, 1, num_classes=1), images=heldout, heldout=slice(None))
    metrics = image_evaluate.image_metrics(cfg, data, G=None, classes=0, device="cpu")
    assert calls == {"train": True}
    assert metrics["fd_domain"]["value"] == pytest.approx(reference_fd(fake, heldout))
    assert metrics["fd_domain_train"]["value"] == pytest.approx(reference_fd(fake, train))
    assert metrics["fd_domain_train"]["reference_split"] == "train"
    assert metrics["precision_domain"]["value"] == reference_prdc(heldout, fake, 3)["precision"]


def test_prdc_names_the_short_set_and_records_its_protocol(capsys):
    from sagan.metrics.fidelity import precision_recall_density_coverage

    rng = np.random.default_rng(0)
    real, fake = rng.normal(size=(5, 3)), rng.normal(size=(6, 3))  # k = 3 needs 5 each
    out = precision_recall_density_coverage(real, fake, k=3)
    assert (out["nearest_k"], out["num_real"], out["num_fake"]) == (3, 5, 6)
    assert capsys.readouterr().out == ""  # prdc's own print is kept out of the logs
    with pytest.raises(ValueError, match="k=3 needs at least 5 fake samples, got 4"):
        precision_recall_density_coverage(real, fake[:4], k=3)
    with pytest.raises(ValueError, match="at least 5 real samples"):
        precision_recall_density_coverage(real[:4], fake, k=3)


def test_memorisation_refuses_what_it_cannot_judge_and_records_its_protocol():
    from sagan.errors import DataError
    from sagan.metrics.overfitting import mann_whitney_z, memorisation, nearest_neighbour_distances

    rng = np.random.default_rng(1)
    train, heldout, fake = (
        rng.normal(size=(20, 3)),
        rng.normal(size=(7, 3)),
        rng.normal(size=(5, 3)),
    )
    out = memorisation(fake, train, heldout, copy_quantile=0.5)
    assert (out["copy_quantile"], out["num_fake"], out["num_train"], out["num_heldout"]) == (
        0.5, 5, 20, 7,
    )  # fmt: skip
    for bad in (0.0, 1.0, 1.5):
        with pytest.raises(ValueError, match="copy_quantile must lie in"):
            memorisation(fake, train, heldout, copy_quantile=bad)
    with pytest.raises(DataError, match="exact copy in the training pool"):
        memorisation(fake, train, train[:7])  # every held-out image is a training image
    with pytest.raises(ValueError, match="non-empty reference"):
        nearest_neighbour_distances(fake, train[:0])
    with pytest.raises(ValueError, match="queries' width"):
        nearest_neighbour_distances(fake, train[:, :2])
    assert mann_whitney_z(np.ones(3), np.ones(4)) == 0.0  # all tied: no evidence either way
    # a block of one query row at a time gives the same distances as one block
    small = nearest_neighbour_distances(fake, train, block_bytes=8 * len(train))
    assert np.array_equal(small, nearest_neighbour_distances(fake, train))
