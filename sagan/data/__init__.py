"""Datasets: a registry of sources and the preparation into one uint8 file per resolution."""

# Importing the modules registers the built-in datasets.
from sagan.data import digits, moving_digits, probes, torchvision_sets, videofolder  # noqa: F401
from sagan.data.meta import DataMeta
from sagan.data.prepared import PreparedData, load_prepared, prepare
from sagan.data.registry import DATASETS, RawImages, RawVideos

__all__ = [
    "DATASETS",
    "DataMeta",
    "PreparedData",
    "RawImages",
    "RawVideos",
    "load_prepared",
    "prepare",
]
