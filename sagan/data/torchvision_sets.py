"""Real image datasets read with torchvision from a root the user configures.

Images stay on disk (or in torchvision's native-resolution arrays) and are decoded one at a
time when ``prepare`` indexes them; labels come from the datasets' label arrays, so building
a dataset decodes no image. Nothing downloads unless a study sets ``download: true``.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image
from torch.utils.data import ConcatDataset, Dataset

from sagan.data.pil_modes import to_rgb8
from sagan.data.registry import DATASETS, RawImages
from sagan.errors import ConfigError, DataError, first_line

if TYPE_CHECKING:
    from torchvision import datasets as tv_datasets


def datasets() -> Any:
    """torchvision.datasets, imported on first use: ``import torchvision`` costs seconds
    (it pulls in its model zoo), and most jobs of a study never read a real dataset."""
    return importlib.import_module("torchvision.datasets")


LSUN_CATEGORIES = (
    "bedroom",
    "bridge",
    "church_outdoor",
    "classroom",
    "conference_room",
    "dining_room",
    "kitchen",
    "living_room",
    "restaurant",
    "tower",
)
CELEBA_SPLITS = ("train", "valid", "test", "all")  # torchvision's; "all" = every image


class LazyImages(Sequence[Image.Image]):
    """The images of a torchvision dataset, decoded on indexing: index -> PIL image."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> Image.Image:
        # one behaviour for all: torchvision datasets differ on negative and out-of-range indices
        if not -len(self) <= index < len(self):
            raise IndexError(f"image index {index} out of range for {len(self)} images")
        return self.dataset[index % len(self)][0]


def _splits(split: str, allowed: tuple[str, ...], dataset: str) -> list[str]:
    """'train+test' -> ['train', 'test'], each checked against the dataset's splits."""
    parts = split.split("+")
    bad = [p for p in parts if p not in allowed]
    if bad or len(set(parts)) != len(parts):
        raise ConfigError(
            f"{dataset} split {split!r} is not valid; use one of {', '.join(allowed)} "
            "or several joined by '+' (e.g. 'train+test')"
        )
    return parts


def _open(make: Callable[[], Any], looked_for: Path, how: str) -> Any:
    """Build a torchvision dataset; missing or corrupt files become a DataError with the fix."""
    try:
        return make()
    except (RuntimeError, OSError) as err:  # torchvision: RuntimeError; folders, downloads: OSError
        raise DataError(f"no readable data at {looked_for} ({err}); {how}") from err


def _labelled(parts: list[Dataset], labels: list[Any]) -> RawImages:
    """RawImages over one or several datasets whose label arrays are given in the same order."""
    dataset = parts[0] if len(parts) == 1 else ConcatDataset(parts)
    flat = np.concatenate([np.asarray(lab, dtype=np.int64).reshape(-1) for lab in labels])
    return RawImages(images=LazyImages(dataset), labels=flat)


def _cifar(
    cls: type[tv_datasets.CIFAR10], name: str, root: str, split: str, download: bool
) -> RawImages:
    root_path = Path(root).expanduser()
    folder = root_path / cls.base_folder
    how = f"set download: true in the study config, or put the {name} python batches under {folder}"
    parts = [
        _open(partial(cls, str(root_path), train=s == "train", download=download), folder, how)
        for s in _splits(split, ("train", "test"), name)
    ]
    return _labelled(parts, [p.targets for p in parts])


@DATASETS.register("cifar10")
def cifar10(root: str, download: bool = False, split: str = "train+test") -> RawImages:
    """CIFAR-10 (Krizhevsky 2009): 60k 32x32 colour images, 10 classes; torchvision reader."""
    return _cifar(datasets().CIFAR10, "CIFAR-10", root, split, download)


@DATASETS.register("cifar100")
def cifar100(root: str, download: bool = False, split: str = "train+test") -> RawImages:
    """CIFAR-100 (Krizhevsky 2009): 60k 32x32 colour images, 100 fine classes; torchvision."""
    return _cifar(datasets().CIFAR100, "CIFAR-100", root, split, download)


@DATASETS.register("stl10")
def stl10(root: str, download: bool = False, split: str = "train+test") -> RawImages:
    """STL-10 (Coates et al. 2011): 13k labelled 96x96 colour images, 10 classes; torchvision."""
    root_path = Path(root).expanduser()
    folder = root_path / datasets().STL10.base_folder
    # torchvision checks every binary, unlabeled_X.bin included, even for the labelled splits
    how = (
        "set download: true in the study config, or extract stl10_binary.tar.gz (train_X.bin, "
        f"train_y.bin, test_X.bin, test_y.bin, unlabeled_X.bin) into {folder}"
    )
    parts = [
        _open(partial(datasets().STL10, str(root_path), split=s, download=download), folder, how)
        for s in _splits(split, ("train", "test"), "STL-10")  # labelled splits only
    ]
    return _labelled(parts, [p.labels for p in parts])


@DATASETS.register("celeba", tags=("unlabelled",))
def celeba(root: str, download: bool = False, split: str = "all") -> RawImages:
    """CelebA (Liu et al. 2015): 202,599 aligned 178x218 face photos, unlabelled; torchvision."""
    root_path = Path(root).expanduser()
    folder = root_path / datasets().CelebA.base_folder
    how = (
        "set download: true in the study config (needs gdown; Google Drive often refuses), or "
        f"put img_align_celeba/ and the five list_*.txt / identity_CelebA.txt files into {folder}"
    )
    if split not in CELEBA_SPLITS:
        raise ConfigError(f"CelebA split {split!r} is not valid; use one of {CELEBA_SPLITS}")
    # target_type=[]: the faces carry no class, so no attribute row is looked up per image
    make = partial(
        datasets().CelebA, str(root_path), split=split, target_type=[], download=download
    )
    data = _open(make, folder, how)
    return RawImages(images=LazyImages(data), labels=np.zeros(len(data), dtype=np.int64))


def _require_lmdb() -> None:
    try:
        importlib.import_module("lmdb")
    except ImportError as err:
        msg = "torchvision's LSUN reader needs the lmdb package: pip install lmdb"
        raise DataError(msg) from err


@DATASETS.register("lsun", tags=("unlabelled",))
def lsun(root: str, category: str = "church_outdoor") -> RawImages:
    """LSUN scenes (Yu et al. 2015): one category's train split, lmdb; torchvision reader."""
    if category not in LSUN_CATEGORIES:
        raise ConfigError(f"LSUN category {category!r} unknown; use one of {LSUN_CATEGORIES}")
    _require_lmdb()
    db = Path(root).expanduser() / f"{category}_train_lmdb"
    if not db.is_dir():
        raise DataError(
            f"no LSUN database at {db}; download it with the LSUN tools "
            f"(github.com/fyu/lsun: python download.py -c {category}) and unzip it under {root}"
        )
    how = "re-download and unzip it; the lmdb files may be incomplete"
    data = _open(partial(datasets().LSUN, str(db.parent), classes=[f"{category}_train"]), db, how)
    return RawImages(images=LazyImages(data), labels=np.zeros(len(data), dtype=np.int64))


@DATASETS.register("imagefolder")
def imagefolder(root: str, skip_unreadable: bool = False) -> RawImages:
    """Any folder tree ROOT/<class>/<image> (torchvision ImageFolder); labels = the subfolders.
    Every PIL mode becomes 8-bit RGB (16-bit greys scaled); ``skip_unreadable`` leaves out the
    files that do not decode (each file is decoded once more up front to find them)."""
    folder = Path(root).expanduser()
    how = "put the images in one subfolder per class (ROOT/<class>/*.png, .jpg, ...)"
    data = _open(partial(datasets().ImageFolder, str(folder), loader=read_image), folder, how)
    _keep_each_file_once(data, folder)
    if skip_unreadable:
        _drop_unreadable(data, folder)
    return _labelled([data], [data.targets])


def _keep_each_file_once(data: Any, folder: Path) -> None:
    """ImageFolder follows folder links, so a link loop (or a linked copy of a class) reads
    one file under many paths, and the held-out split would hold copies of training images.
    Keep one path of each file (by device and inode, so hard links count too: the first
    with no link on the way, else the first) and of each byte-identical content (hashed
    only where two files share a size); say how many were dropped."""
    by_file: dict[tuple[int, int], tuple[bool, int, str, int, int]] = {}
    for index, (path, target) in enumerate(data.samples):
        info = os.stat(path)
        key = (info.st_dev, info.st_ino)
        linked = os.path.realpath(path) != os.path.abspath(path)  # a link on the way
        # the label comes from a path without links: cats/loop/dogs/x.png is a dog
        if key not in by_file or (by_file[key][0] and not linked):
            by_file[key] = (linked, index, path, target, info.st_size)
    chosen = sorted(by_file.values(), key=lambda f: f[1])  # in ImageFolder's order
    files = [(path, target, size) for _, _, path, target, size in chosen]
    sizes = Counter(size for _, _, size in files)
    kept, contents = [], set()
    for path, target, size in files:
        if sizes[size] > 1:
            content = (size, hashlib.blake2b(Path(path).read_bytes(), digest_size=16).digest())
            if content in contents:
                continue
            contents.add(content)
        kept.append((path, target))
    if repeats := len(data.samples) - len(kept):
        print(
            f"imagefolder {folder}: {repeats} of {len(data.samples)} paths repeat a file already "
            "read (a folder link, a hard link or a copy); each image is kept once",
            file=sys.stderr,
        )
        data.samples = data.imgs = kept
        data.targets = [target for _, target in kept]


def read_image(path: str) -> Image.Image:
    """One image file as 8-bit RGB; a corrupt or truncated file is a DataError naming it."""
    try:
        with Image.open(path) as image:
            image.load()
            return to_rgb8(image)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as err:
        raise DataError(
            f"cannot read image {path} ({first_line(err)}); replace or delete it, or set "
            "skip_unreadable: true in the dataset's options"
        ) from err


def _drop_unreadable(data: Any, folder: Path) -> None:
    """Remove the files that do not decode from an ImageFolder; say how many, once."""
    readable, unreadable = [], []
    for path, target in data.samples:
        try:
            read_image(path)
            readable.append((path, target))
        except DataError:
            unreadable.append(path)
    if not readable:
        raise DataError(f"no readable image under {folder}; check the files")
    if unreadable:
        print(
            f"imagefolder {folder}: skipped {len(unreadable)} unreadable of "
            f"{len(data.samples)} images (first: {unreadable[0]})",
            file=sys.stderr,
        )
    data.samples = data.imgs = readable
    data.targets = [target for _, target in readable]


def mnist_arrays(root: str, download: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """MNIST's training digits as arrays: (60000, 28, 28) uint8 and (60000,) int64 labels
    (the sprites of moving-mnist)."""
    root_path = Path(root).expanduser()
    folder = root_path / "MNIST" / "raw"
    how = f"set download: true in the study config, or put MNIST's raw files under {folder}"
    data = _open(
        partial(datasets().MNIST, str(root_path), train=True, download=download), folder, how
    )
    return data.data.numpy(), data.targets.numpy().astype(np.int64)
