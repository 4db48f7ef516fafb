"""Aggregation of run folders into one tidy table, and the figures drawn from it."""
