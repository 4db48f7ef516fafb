"""The names of what a report makes: one list for the library and the workflow (which imports
this light module, not the drawing code)."""

from pathlib import Path

from sagan.package_files import package_file

TABLES = ["ablation", "small_data", "video", "cost_scaling", "claims"]
FIGURES = [
    "quality_vs_size",
    "sample_grids",
    "training_curves",
    "fd_during",
    "quality_cost_pareto",
    "probe_coherence",
    "attention_maps",
    "video_temporal",
]
NOTEBOOKS = ["overview", "ablation", "small_data", "cost", "video"]
PARTS = ["stats", "tables", "figures", "cost-figures", "notebooks"]  # `sagan report --parts`


def notebook_dir() -> Path:
    """The papermill templates, ``<name>.ipynb``, shipped in the package."""
    return package_file("report", "notebooks")
