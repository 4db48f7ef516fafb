"""Feature extractors and the metrics computed from their features."""

# Imported for their side effect: they register extractors, probe and pixel scores.
from sagan.metrics import domain, inception, pixel_metrics, probes  # noqa: F401
from sagan.metrics.extractors import EXTRACTORS, load_extractor

__all__ = ["EXTRACTORS", "load_extractor"]
