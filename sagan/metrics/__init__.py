"""Feature extractors and the metrics computed from their features."""

from sagan.metrics import domain, probes  # noqa: F401  (register extractors and probe scores)
from sagan.metrics.extractors import EXTRACTORS, load_extractor

__all__ = ["EXTRACTORS", "load_extractor"]
