"""Neural-network building blocks: attention kernels and helpers."""
