"""Real dataset formats, written small in tmp_path and read back through the registry, offline.

torchvision checks the md5 of CIFAR's and STL-10's batches and CelebA's list files against the
real downloads. The ``no_md5`` fixture sets those md5s to None, for which torchvision's
``check_integrity`` only checks that the file exists: file names and layout are still verified.
"""

import os
import pickle
import re
import shutil
import sys
import types

import numpy as np
import pytest
from PIL import Image
from torchvision import datasets

from sagan.data import DATASETS, prepare
from sagan.data.prepared import resize
from sagan.errors import ConfigError, DataError

CIFAR_LABELS = np.arange(24) // 8  # 3 classes in contiguous runs: the raw order is unbalanced


@pytest.fixture
def no_md5(monkeypatch):
    for cls in (datasets.CIFAR10, datasets.STL10):
        monkeypatch.setattr(cls, "train_list", [[name, None] for name, _ in cls.train_list])
        monkeypatch.setattr(cls, "test_list", [[name, None] for name, _ in cls.test_list])
    monkeypatch.setattr(datasets.CIFAR10, "meta", {**datasets.CIFAR10.meta, "md5": None})
    files = [(fid, None, name) for fid, _, name in datasets.CelebA.file_list]
    monkeypatch.setattr(datasets.CelebA, "file_list", files)


@pytest.fixture
def cifar(tmp_path, no_md5):
    """ROOT/cifar-10-batches-py: 5 train batches of 4 images, a test batch of 4, batches.meta."""
    images = np.random.default_rng(0).integers(0, 256, (24, 32, 32, 3), dtype=np.uint8)
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    names = [f"data_batch_{b}" for b in range(1, 6)] + ["test_batch"]
    for b, name in enumerate(names):
        chunk = slice(4 * b, 4 * b + 4)
        rows = images[chunk].transpose(0, 3, 1, 2).reshape(4, -1)  # (4, 3*32*32) CHW rows
        batch = {"data": rows, "labels": CIFAR_LABELS[chunk].tolist()}
        (folder / name).write_bytes(pickle.dumps(batch))
    meta = {"label_names": [f"class{c}" for c in range(10)]}
    (folder / "batches.meta").write_bytes(pickle.dumps(meta))
    return tmp_path, images


def test_cifar10_reads_every_batch_lazily_with_its_labels(cifar):
    root, images = cifar
    raw = DATASETS.build("cifar10", {"root": str(root)})
    assert not isinstance(raw.images, np.ndarray) and len(raw.images) == 24
    assert raw.labels.dtype == np.int64 and raw.labels.tolist() == CIFAR_LABELS.tolist()
    assert np.array_equal(np.asarray(raw.images[3]), images[3])
    assert np.array_equal(np.asarray(raw.images[-1]), images[23])  # the test batch comes last
    with pytest.raises(IndexError):
        raw.images[24]


def test_cifar10_split_option_selects_batches(cifar):
    root, _ = cifar
    train = DATASETS.build("cifar10", {"root": str(root), "split": "train"})
    test = DATASETS.build("cifar10", {"root": str(root), "split": "test"})
    assert len(train.images) == 20 and test.labels.tolist() == CIFAR_LABELS[20:].tolist()
    with pytest.raises(ConfigError, match="train\\+test"):
        DATASETS.build("cifar10", {"root": str(root), "split": "val"})


def test_cifar10_prepared_at_16px_is_class_balanced(cifar, tmp_path):
    root, _ = cifar
    data = prepare("cifar10", 16, tmp_path / "c16.pt", heldout=3, options={"root": str(root)})
    assert data.images.shape == (24, 3, 16, 16) and data.meta.num_classes == 3
    assert sorted(data.labels[data.heldout].tolist()) == [0, 1, 2]
    assert sorted(data.labels[data.train_order[:6]].tolist()) == [0, 0, 1, 1, 2, 2]


def test_stl10_reads_the_labelled_splits(tmp_path, no_md5):
    folder = tmp_path / "stl10_binary"
    folder.mkdir()
    images = np.random.default_rng(1).integers(0, 256, (7, 3, 96, 96), dtype=np.uint8)
    # the binaries store each channel column-major; torchvision transposes (0, 1, 3, 2) back
    stored = images.transpose(0, 1, 3, 2)
    stored[:4].tofile(folder / "train_X.bin")
    stored[4:6].tofile(folder / "test_X.bin")
    stored[6:].tofile(folder / "unlabeled_X.bin")
    np.array([1, 2, 2, 10], dtype=np.uint8).tofile(folder / "train_y.bin")  # 1-based on disk
    np.array([3, 1], dtype=np.uint8).tofile(folder / "test_y.bin")
    raw = DATASETS.build("stl10", {"root": str(tmp_path)})
    assert raw.labels.tolist() == [0, 1, 1, 9, 2, 0]  # the unlabelled image is left out
    assert np.array_equal(np.asarray(raw.images[5]), images[5].transpose(1, 2, 0))


def _image(path, size: tuple[int, int], colour: tuple[int, int, int], mode: str = "RGB") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).convert(mode).save(path)


def test_imagefolder_labels_are_the_subfolders_and_prepare_resizes(tmp_path):
    red, blue = (200, 0, 0), (0, 0, 200)
    for i, size in enumerate([(10, 12), (20, 20), (7, 31)]):
        _image(tmp_path / "imgs" / "cats" / f"{i}.png", size, red)
        _image(tmp_path / "imgs" / "dogs" / f"{i}.png", size[::-1], blue, "L" if i == 0 else "RGB")
    raw = DATASETS.build("imagefolder", {"root": str(tmp_path / "imgs")})
    assert raw.labels.tolist() == [0, 0, 0, 1, 1, 1] and raw.images[2].size == (7, 31)
    opts = {"root": str(tmp_path / "imgs")}
    data = prepare("imagefolder", 16, tmp_path / "f16.pt", heldout=2, options=opts)
    assert data.images.shape == (6, 3, 16, 16) and data.meta.channels == 3
    assert data.labels[data.heldout].tolist() == [0, 1]
    assert sorted(data.labels[data.train_order[:2]].tolist()) == [0, 1]
    cats = data.images[data.labels == 0].float().mean((0, 2, 3))  # (3,) mean colour
    assert abs(cats[0] - 200) < 2 and cats[2] < 2  # images stay with their labels


def test_imagefolder_reads_each_file_once_through_links_and_copies(tmp_path, capsys):
    root = tmp_path / "imgs"
    for i in range(3):
        _image(root / "cats" / f"{i}.png", (8, 8), (200, 10 * i, 0))
        _image(root / "dogs" / f"{i}.png", (8, 8), (0, 10 * i, 200))
    (root / "cats" / "loop").symlink_to(root, target_is_directory=True)  # a link loop
    os.link(root / "dogs" / "0.png", root / "dogs" / "hard.png")  # one file, two names
    shutil.copy(root / "cats" / "1.png", root / "dogs" / "copy.png")  # the same bytes
    raw = DATASETS.build("imagefolder", {"root": str(root)})
    assert raw.labels.tolist() == [0, 0, 0, 1, 1, 1]
    err = capsys.readouterr().err
    assert re.search(r"imagefolder .*: \d+ of \d+ paths repeat a file already read", err)
    # without repeats: nothing said
    DATASETS.build("imagefolder", {"root": str(tmp_path / "imgs" / "dogs" / "..")})
    assert "repeat" in capsys.readouterr().err  # the same folder, the same repeats
    _image(tmp_path / "clean" / "a" / "0.png", (8, 8), (1, 2, 3))
    _image(tmp_path / "clean" / "a" / "1.png", (8, 8), (3, 2, 1))  # same size, other bytes
    assert len(DATASETS.build("imagefolder", {"root": str(tmp_path / "clean")}).labels) == 2
    assert capsys.readouterr().err == ""


def _celeba(root, sizes: list[tuple[int, int]], partition: list[int]) -> None:
    """ROOT/celeba: img_align_celeba/*.jpg plus the five list files torchvision parses."""
    folder = root / "celeba"
    names = [f"{i + 1:06d}.jpg" for i in range(len(sizes))]
    for name, size in zip(names, sizes, strict=True):
        _image(folder / "img_align_celeba" / name, size, (90, 160, 40))
    count = f"{len(names)}\n"
    landmarks = " ".join(f"p{k}" for k in range(10))
    # file -> (header lines, value columns of every row); the count + header lines are skipped
    files = {
        "list_eval_partition.txt": ("", None),
        "identity_CelebA.txt": ("", "7"),
        "list_attr_celeba.txt": (f"{count}Smiling Young\n", "1 -1"),
        "list_bbox_celeba.txt": (f"{count}image_id x_1 y_1 width height\n", "1 2 3 4"),
        "list_landmarks_align_celeba.txt": (f"{count}{landmarks}\n", " ".join(["5"] * 10)),
    }
    for file, (head, value) in files.items():
        values = [str(p) for p in partition] if value is None else [value] * len(names)
        body = "".join(f"{n} {v}\n" for n, v in zip(names, values, strict=True))
        (folder / file).write_text(head + body)


def test_celeba_is_unlabelled_lazy_and_prepares(tmp_path, no_md5):
    _celeba(tmp_path, [(20, 24), (24, 20), (18, 22), (20, 24), (20, 24)], [0, 0, 0, 1, 2])
    raw = DATASETS.build("celeba", {"root": str(tmp_path)})
    assert len(raw.images) == 5 and raw.labels.tolist() == [0] * 5
    assert raw.images[1].size == (24, 20)
    train = DATASETS.build("celeba", {"root": str(tmp_path), "split": "train"})
    assert len(train.images) == 3
    data = prepare("celeba", 16, tmp_path / "a16.pt", heldout=1, options={"root": str(tmp_path)})
    assert data.images.shape == (5, 3, 16, 16) and data.meta.num_classes == 1
    # building decoded nothing: an image removed afterwards fails only when it is indexed
    (tmp_path / "celeba" / "img_align_celeba" / "000005.jpg").unlink()
    assert len(raw.images) == 5 and raw.images[3].size == (20, 24)
    with pytest.raises(FileNotFoundError):
        raw.images[4]


def test_celeba_rejects_a_joined_split(tmp_path):
    with pytest.raises(ConfigError, match="'all'"):
        DATASETS.build("celeba", {"root": str(tmp_path), "split": "train+test"})


@pytest.mark.parametrize(
    ("name", "looked_for", "fix"),
    [
        ("cifar10", "cifar-10-batches-py", "download: true"),
        ("cifar100", "cifar-100-python", "download: true"),
        ("stl10", "stl10_binary", "download: true"),
        ("celeba", "celeba", "img_align_celeba"),
        ("imagefolder", "", "one subfolder per class"),
    ],
)
def test_missing_root_names_the_path_and_the_fix(tmp_path, name, looked_for, fix):
    root = tmp_path / "nope"
    path = root / looked_for if looked_for else root
    with pytest.raises(DataError, match=re.escape(str(path))) as err:
        DATASETS.build(name, {"root": str(root)})
    assert fix in str(err.value)


def test_lsun_without_lmdb_says_pip_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "lmdb", None)  # import lmdb -> ImportError
    with pytest.raises(DataError, match="pip install lmdb"):
        DATASETS.build("lsun", {"root": str(tmp_path)})


def test_lsun_missing_database_names_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "lmdb", types.ModuleType("lmdb"))
    expected = re.escape(str(tmp_path / "bedroom_train_lmdb"))
    with pytest.raises(DataError, match=expected):
        DATASETS.build("lsun", {"root": str(tmp_path), "category": "bedroom"})
    with pytest.raises(ConfigError, match="church_outdoor"):
        DATASETS.build("lsun", {"root": str(tmp_path), "category": "beach"})


def test_resize_takes_pil_images_and_takes_channels_from_the_first():
    grey = np.random.default_rng(2).integers(0, 256, (9, 7, 1), dtype=np.uint8)
    as_pil = resize([Image.fromarray(grey[..., 0])], 4)
    assert np.array_equal(as_pil, resize(grey[None], 4))  # same pixels as the array path
    rgba = Image.new("RGBA", (5, 6), (10, 20, 30, 40))
    mixed = resize([rgba, Image.fromarray(grey[..., 0])], 4)
    assert mixed.shape == (2, 4, 4, 3) and mixed[0, 0, 0].tolist() == [10, 20, 30]
    assert resize([Image.fromarray(grey[..., 0]), rgba], 4).shape == (2, 4, 4, 1)
