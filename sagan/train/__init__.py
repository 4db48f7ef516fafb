"""Training: losses, the loop, checkpoints."""
