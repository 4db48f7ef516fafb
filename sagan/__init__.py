"""SAGAN Bench: a benchmark and ablation suite for self-attention in GANs."""

__version__ = "0.1.0"
