"""Feature-space metrics on hand-checkable point sets: KID stats, FD, FD-infinity, PRDC, copying."""

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import cdist

from sagan.errors import DataError
from sagan.metrics import distances
from sagan.metrics.distances import (
    fid_infinity,
    fit_inverse_count_line,
    frechet_distance,
    kernel_distance,
    kernel_distance_stats,
)
from sagan.metrics.fidelity import precision_recall_density_coverage
from sagan.metrics.overfitting import mann_whitney_z, memorisation, nearest_neighbour_distances


def gaussian(seed: int, n: int, d: int, shift: float = 0.0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, d)) + shift


# --- KID -----------------------------------------------------------------------------------


@pytest.mark.parametrize("whole_rows", [4096, 0], ids=["kernels once", "kernels per subset"])
def test_kid_stats_mean_is_clean_fids_kid_and_the_global_rng_is_left_alone(whole_rows, monkeypatch):
    monkeypatch.setattr(distances, "WHOLE_KERNEL_ROWS", whole_rows)
    a, b = gaussian(0, 300, 8), gaussian(1, 250, 8, shift=0.2)
    np.random.seed(7)
    before = np.random.get_state()[1].copy()
    mean, std = kernel_distance_stats(a, b, seed=3, num_subsets=20, max_subset_size=100)
    assert np.array_equal(np.random.get_state()[1], before)
    expected = kernel_distance(a, b, seed=3, num_subsets=20, max_subset_size=100)
    assert mean == pytest.approx(expected, abs=1e-12, rel=0)
    assert mean != kernel_distance(a, b, seed=4, num_subsets=20, max_subset_size=100)
    assert std > 0


def k(u: np.ndarray, v: np.ndarray) -> float:
    """Bińkowski et al.'s polynomial kernel (u.v / d + 1)^3."""
    return (u @ v / len(u) + 1) ** 3


def test_one_whole_set_subset_is_the_unbiased_cubic_mmd():
    x, y = gaussian(0, 6, 3), gaussian(1, 6, 3, shift=0.5)
    off = [(i, j) for i in range(6) for j in range(6) if i != j]
    within = sum(k(x[i], x[j]) + k(y[i], y[j]) for i, j in off) / (6 * 5)
    across = sum(k(x[i], y[j]) for i in range(6) for j in range(6)) / 36
    # a subset of all 6 of 6 rows is a permutation, and the estimator is permutation-invariant
    mean, std = kernel_distance_stats(x, y, num_subsets=1, max_subset_size=6)
    assert mean == pytest.approx(within - 2 * across, rel=1e-10)
    assert std == 0


def test_kid_is_zero_in_expectation_for_equal_distributions_and_not_for_shifted_ones():
    def kid_over_draws(shift: float) -> float:
        kids = [
            kernel_distance_stats(
                gaussian(s, 1000, 8), gaussian(100 + s, 1000, 8, shift), num_subsets=1
            )[0]
            for s in range(5)
        ]
        return float(np.mean(kids))

    # every subset of 1000 of 1000 rows is the whole set, hence num_subsets=1; one draw spreads
    # about 0.004 around 0, so a mean of five about 0.002
    tolerance = 0.01
    assert abs(kid_over_draws(0.0)) < tolerance
    assert kid_over_draws(0.5) > 10 * tolerance


# --- FD and FD-infinity ----------------------------------------------------------------------


def with_exact_moments(seed: int, mean: np.ndarray, variances: np.ndarray) -> np.ndarray:
    """Samples whose sample mean and (ddof=1) covariance are exactly mean and diag(variances)."""
    z = gaussian(seed, 400, len(mean))
    z -= z.mean(axis=0)
    z = z @ np.linalg.inv(np.linalg.cholesky(np.cov(z, rowvar=False))).T  # cov(z) = I
    return mean + z * np.sqrt(variances)


def test_fd_of_diagonal_gaussians_is_the_closed_form():
    mu1, s1 = np.array([0.0, 1.0, -2.0, 0.5]), np.array([1.0, 4.0, 0.25, 2.0])
    mu2, s2 = np.array([1.0, 1.0, 0.0, 0.0]), np.array([9.0, 1.0, 1.0, 2.0])
    closed = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(s1) - np.sqrt(s2)) ** 2)  # 5.25 + 5.25
    fd = frechet_distance(with_exact_moments(0, mu1, s1), with_exact_moments(1, mu2, s2))
    assert fd == pytest.approx(closed, rel=1e-8)
    assert closed == 10.5


def test_the_line_fit_recovers_a_and_b_from_exact_points():
    counts = [500, 1000, 2000, 5000]
    a, b = fit_inverse_count_line(counts, [3.5 + 1200 / n for n in counts])
    assert (a, b) == (pytest.approx(3.5, rel=1e-10), pytest.approx(1200, rel=1e-10))


def test_fd_infinity_removes_most_of_the_small_sample_bias():
    fake, real = gaussian(0, 4000, 16), gaussian(1, 20000, 16)
    result = fid_infinity(fake, real, counts=range(500, 4001, 500), seed=0)
    (n0, fd0), *_ = result["points"]
    assert n0 == 500 and len(result["points"]) == 8
    # same distribution: true FD 0, FD at N = 500 mostly the b / N bias
    assert result["slope"] > 0
    assert abs(result["fd_infinity"]) < 0.2 * fd0
    with pytest.raises(ValueError, match="counts"):
        fid_infinity(fake, real, counts=(1000, 5000))


def test_fd_infinity_draws_subsets_without_replacement():
    fake, real = gaussian(0, 200, 4), gaussian(1, 300, 4, shift=0.3)
    result = fid_infinity(fake, real, counts=(100, 200), seed=0)
    # all 200 without replacement is the full set (reordered); with replacement it has repeats
    assert result["points"][1] == (200, pytest.approx(frechet_distance(fake, real), rel=1e-9))


# --- precision, recall, density, coverage ----------------------------------------------------

CENTRES = np.array([[0.0, 0.0], [100.0, 0.0], [0.0, 100.0], [100.0, 100.0]])


def four_modes(seed: int, centres: np.ndarray = CENTRES, per_mode: int = 100) -> np.ndarray:
    return np.concatenate([c + gaussian(seed + i, per_mode, 2) for i, c in enumerate(centres)])


def test_fake_equal_to_real_scores_one_everywhere():
    real = four_modes(0)
    scores = precision_recall_density_coverage(real, real.copy(), k=3)
    # density: each real ball holds its centre and the k - 1 nearest others, strictly inside
    assert [scores[m] for m in ("precision", "recall", "coverage")] == [1.0, 1.0, 1.0]
    assert scores["density"] == pytest.approx(1.0)
    assert (scores["nearest_k"], scores["num_real"], scores["num_fake"]) == (3, 400, 400)


def test_fake_far_from_real_scores_zero():
    real = four_modes(0)
    scores = precision_recall_density_coverage(real, real + 1000.0, k=3)
    assert [scores[m] for m in ("precision", "recall", "density", "coverage")] == [0.0] * 4


def test_fake_on_half_the_modes_has_full_precision_and_half_recall():
    real = four_modes(0)
    fake = four_modes(10, CENTRES[:2], per_mode=200)
    scores = precision_recall_density_coverage(real, fake, k=5)
    assert scores["precision"] > 0.9
    assert 0.4 < scores["recall"] <= 0.5
    assert 0.4 < scores["coverage"] <= 0.5


def test_too_few_samples_for_k_is_a_clear_error():
    with pytest.raises(ValueError, match="at least 5 fake samples"):
        precision_recall_density_coverage(four_modes(0), four_modes(1)[:4], k=3)


# --- memorisation ----------------------------------------------------------------------------


def test_nearest_neighbour_distances_match_brute_force_across_blocks():
    queries, reference = gaussian(0, 50, 5), gaussian(1, 30, 5)
    brute = cdist(queries, reference).min(axis=1)
    # 7 queries per block: 8 blocks, the last one short
    chunked = nearest_neighbour_distances(queries, reference, block_bytes=8 * 30 * 7)
    np.testing.assert_allclose(chunked, brute, rtol=1e-12)
    # far from the origin, ||q||^2 + ||r||^2 - 2 q.r cancels to noise; a copy must still give 0
    far = reference + 1000.0
    assert nearest_neighbour_distances(far[:3], far).tolist() == [0.0, 0.0, 0.0]


def test_mann_whitney_z_has_the_sign_of_the_shift_and_scipys_p_value():
    x, y = gaussian(0, 300, 1)[:, 0], gaussian(1, 400, 1, shift=0.3)[:, 0]
    z = mann_whitney_z(x, y)
    p = stats.mannwhitneyu(x, y, method="asymptotic", use_continuity=False).pvalue
    assert z < -2
    assert 2 * stats.norm.sf(abs(z)) == pytest.approx(p, rel=1e-9)
    assert mann_whitney_z(y, x) == pytest.approx(-z)


@pytest.fixture(scope="module")
def train_heldout() -> tuple[np.ndarray, np.ndarray]:
    return gaussian(0, 2000, 16), gaussian(1, 2000, 16)


def test_exact_copies_of_training_points_are_near_copies(train_heldout):
    train, heldout = train_heldout
    result = memorisation(train[:1000], train, heldout, copy_quantile=0.05)
    assert result["near_copy_fraction"] == 1.0
    assert result["fake_to_train_median"] == 0.0 and result["median_ratio"] == 0.0
    assert result["mann_whitney_z"] < -20


def test_fresh_draws_look_like_held_out_reals(train_heldout):
    train, heldout = train_heldout
    result = memorisation(gaussian(2, 1000, 16), train, heldout, copy_quantile=0.05)
    assert abs(result["near_copy_fraction"] - 0.05) < 0.03
    assert abs(result["mann_whitney_z"]) < 3
    assert result["median_ratio"] == pytest.approx(1.0, abs=0.05)
    assert result["num_fake"] == 1000 and result["num_train"] == result["num_heldout"] == 2000


def test_mann_whitney_z_corrects_the_variance_for_ties():
    x = np.array([1, 1, 1, 2, 2, 3])
    y = np.array([1, 2, 2, 2, 3, 3, 3, 4])
    n1, n2, n = 6, 8, 14
    u = sum((a > b) + 0.5 * (a == b) for a in x for b in y)  # 1.5 + 5 + 5.5 = 12
    ties = np.array([4, 5, 4, 1])  # values 1, 2, 3, 4 in both samples together
    var = n1 * n2 / 12 * ((n + 1) - (ties**3 - ties).sum() / (n * (n - 1)))  # 4 * (15 - 240/182)
    assert u == 12 and mann_whitney_z(x, y) == pytest.approx((u - n1 * n2 / 2) / np.sqrt(var))
    assert mann_whitney_z(x, y) == pytest.approx(-1.622136, abs=1e-6)  # untied var 60: -1.549


def test_a_held_out_split_of_copies_is_a_data_error_that_names_the_duplicates():
    rng = np.random.default_rng(0)
    train = rng.normal(size=(50, 4))
    with pytest.raises(DataError, match="repeats images"):
        memorisation(rng.normal(size=(20, 4)), train, train[:20].copy())
