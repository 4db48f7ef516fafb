"""The names of what a report makes: one list for the library and the workflow (which imports
this light module, not the drawing code)."""

from pathlib import Path

from sagan.package_files import package_file

# results/<study>/ files the report reads beside the summary, when there (older results lack
# them): every dataset entry's noise floor and extractor checks (rule floor_tables)
NOISE_FLOOR = "noise_floor.csv"
EXTRACTOR_CHECKS = "extractor_checks.csv"
TABLES = ["ablation", "small_data", "video", "cost_scaling", "learned", "claims"]
FIGURES = [
    "quality_vs_size",
    "sample_grids",
    "training_curves",
    "fd_during",
    "quality_cost_pareto",
    "probe_coherence",
    "attention_maps",
    "video_temporal",
    "extractor_checks",
]
NOTEBOOKS = ["overview", "ablation", "small_data", "cost", "video"]
PARTS = ["stats", "tables", "figures", "cost-figures", "notebooks"]  # `sagan report --parts`


def notebook_dir() -> Path:
    """The papermill templates, ``<name>.ipynb``, shipped in the package."""
    return package_file("report", "notebooks")
