"""A prepared dataset's meta is a typed record on load, and a plain dict on disk: the form
files had before the record existed, so old files load and new files read as old ones did."""

import dataclasses

import pytest
import torch

from sagan.data import DataMeta, load_prepared
from sagan.errors import DataError

OLD_IMAGES = {  # exactly what prepare() wrote before DataMeta
    "format": 1,
    "dataset": "digits",
    "resolution": 16,
    "channels": 1,
    "num_classes": 10,
    "seed": 0,
}


def old_file(path, meta: dict) -> None:
    """A prepared file in the old form: PreparedData's fields, its meta a plain dict."""
    n = 6
    shape = (n, meta.get("channels", 1)) + ((meta["frames"],) if "frames" in meta else ())
    torch.save(
        {
            "images": torch.zeros(shape + (4, 4), dtype=torch.uint8),
            "labels": torch.zeros(n, dtype=torch.int64),
            "train_order": torch.arange(4),
            "heldout": torch.arange(4, 6),
            "meta": meta,
            "extra": {},
        },
        path,
    )


def test_a_file_written_in_the_old_dict_form_loads_typed(tmp_path):
    old_file(tmp_path / "images.pt", OLD_IMAGES)
    meta = load_prepared(tmp_path / "images.pt").meta
    assert meta == DataMeta(16, 1, 10, frames=0, dataset="digits", seed=0, format=1)
    old_file(tmp_path / "clips.pt", OLD_IMAGES | {"channels": 3, "frames": 4})
    assert load_prepared(tmp_path / "clips.pt").meta.frames == 4
    with pytest.raises(dataclasses.FrozenInstanceError):
        meta.resolution = 32  # type: ignore[misc]


def test_prepare_writes_the_old_dict_form(digits16):
    saved = torch.load(digits16, weights_only=True)["meta"]
    assert saved == OLD_IMAGES  # no frames key for images; nothing new
    assert DataMeta.from_dict(saved).to_dict() == saved


def test_a_meta_that_is_not_a_prepared_datasets_is_refused_naming_the_keys(tmp_path):
    bad = {k: v for k, v in OLD_IMAGES.items() if k != "channels"} | {"colour": True}
    old_file(tmp_path / "bad.pt", bad)
    with pytest.raises(DataError, match="unreadable.*lacks channels and has unknown colour"):
        load_prepared(tmp_path / "bad.pt")
