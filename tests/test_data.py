import numpy as np
import pytest
import torch

from sagan.data import load_prepared, prepare
from sagan.data.prepared import balanced_order, resize
from sagan.errors import ConfigError, DataError


def test_prepared_digits_shapes_and_split(digits16):
    data = load_prepared(digits16)
    assert data.images.shape == (1797, 1, 16, 16) and data.images.dtype == torch.uint8
    assert len(data.heldout) == 200 and len(data.train_order) == 1597
    assert not set(data.heldout.tolist()) & set(data.train_order.tolist())
    assert data.meta.num_classes == 10 and data.meta.channels == 1


def test_subsets_are_nested_and_class_balanced(digits16):
    data = load_prepared(digits16)
    small, large = data.subset(100), data.subset(500)
    assert torch.equal(large[:100], small)
    assert np.bincount(data.labels[small].numpy()).tolist() == [10] * 10
    assert torch.equal(data.subset("full"), data.train_order)


def test_heldout_is_class_balanced(digits16):
    data = load_prepared(digits16)
    assert np.bincount(data.labels[data.heldout].numpy()).tolist() == [20] * 10


def test_subset_larger_than_the_pool_names_the_limit(digits16):
    with pytest.raises(ConfigError, match="at most 1597"):
        load_prepared(digits16).subset(5000)


def test_balanced_order_is_deterministic_and_a_permutation():
    labels = np.array([0, 0, 0, 1, 1, 2])
    a = balanced_order(labels, np.random.default_rng(3))
    b = balanced_order(labels, np.random.default_rng(3))
    assert a.tolist() == b.tolist() and sorted(a.tolist()) == list(range(6))
    assert sorted(labels[a[:3]].tolist()) == [0, 1, 2]  # first round: one of each class


def test_the_prepare_seed_shuffles_within_each_class(tmp_path):
    def prepared(seed: int):
        return prepare("digits", 8, tmp_path / f"{seed}.pt", heldout=10, seed=seed)

    def zeros(data) -> list[int]:  # class 0's training images, in the stored order
        return [i for i in data.train_order.tolist() if data.labels[i] == 0]

    a, b, c = prepared(0), prepared(0), prepared(1)
    assert a.train_order.tolist() == b.train_order.tolist()  # one seed: one order
    assert zeros(a) != zeros(c)  # another seed: another order within a class
    assert zeros(a) != sorted(zeros(a))  # shuffled, not in the source's order


def test_resize_is_deterministic_and_antialiased():
    checker = (np.indices((8, 8)).sum(0) % 2 * 255).astype(np.uint8)[None, ..., None]
    a, b = resize(checker, 4), resize(checker, 4)
    assert np.array_equal(a, b)
    # antialiasing averages a 1-px checkerboard to grey instead of sampling every other pixel
    assert 96 < a.mean() < 160 and a.std() < 40


def test_missing_prepared_file_says_how_to_make_it(tmp_path):
    with pytest.raises(DataError, match="sagan prepare"):
        load_prepared(tmp_path / "nope.pt")
