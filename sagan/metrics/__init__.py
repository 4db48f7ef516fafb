"""Feature extractors and the metrics computed from their features."""

from sagan.metrics import domain  # noqa: F401  (registers the built-in extractors)
from sagan.metrics.extractors import EXTRACTORS, load_extractor

__all__ = ["EXTRACTORS", "load_extractor"]
