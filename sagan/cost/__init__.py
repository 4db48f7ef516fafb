"""Compute cost of configurations: counted MACs / FLOPs, step timing and memory."""
