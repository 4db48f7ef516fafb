"""Benchmarks that print ratios measured side by side in one process (``sagan bench ...``)."""
