"""The names of what a report makes: one list for the library and the workflow (which imports
this light module, not the drawing code)."""

from pathlib import Path
from typing import Any

from sagan.package_files import package_file

# results/<study>/: the tables the workflow writes and the report reads, named once for both
SUMMARY = "summary.csv"  # a row per run (rule aggregate), beside its .parquet
SUMMARY_STATS = "summary_stats.csv"  # per-cell statistics (rule report_stats)
TRAINING_LOG = "training_log.csv"  # every run's log.csv, long
METRIC_PROTOCOL = "metric_protocol.csv"  # each metric's sample count, extractor, reference
STUDY_CLAIMS = "claims.yaml"  # the study's claims over the design's (rule study_claims)
PROFILE = "cost/profile_{dataset}.csv"  # a dataset's side-by-side step profile
SCALING = "cost/scaling.csv"  # the scaling sweep's rows
SLOPES = "cost/scaling_slopes.csv"  # and its log-log slopes
COST_STUDY = "cost/study.yaml"  # the part of the study that decides cost
PROFILE_GLOB = "cost/**/" + Path(PROFILE).name.format(dataset="*")


# A run's two names in every table keyed by runs: ``arm`` (the study's name of the
# configuration, what tables and figures compare) and ``variant`` (the registered variant:
# the model code it builds). Tables written before this split named the arm ``variant`` and
# the registered variant ``registered_variant`` (summary, profile, scaling); read them through
# ``upgrade_arm_columns``.
ARM, VARIANT, OLD_REGISTERED = "arm", "variant", "registered_variant"


def upgrade_arm_columns(table: Any) -> Any:
    """A results table (DataFrame) with this version's columns: an older one, which has a
    ``variant`` column and no ``arm`` (the arm under the old name), gets ``variant`` ->
    ``arm`` and ``registered_variant`` -> ``variant``; a table in the new form comes back as
    it is. Every reader of the results tables goes through it (``read_results_table``)."""
    if ARM in table.columns or VARIANT not in table.columns:
        return table
    return table.rename(columns={VARIANT: ARM, OLD_REGISTERED: VARIANT})


def read_results_table(path: str | Path, what: str, fix: str, **read_csv: Any) -> Any:
    """``sagan.io.read_table`` of a results table, upgraded by ``upgrade_arm_columns``."""
    from sagan.io import read_table

    return upgrade_arm_columns(read_table(path, what, fix, **read_csv))


def parquet(name: str) -> str:
    """The Parquet twin of a CSV table's name."""
    return str(Path(name).with_suffix(".parquet"))


# results/<study>/ files the report reads beside the summary, when there (older results lack
# them): every dataset entry's noise floor and extractor checks (rule floor_tables)
NOISE_FLOOR = "noise_floor.csv"
EXTRACTOR_CHECKS = "extractor_checks.csv"
# every name a report may make; which a study makes: sagan.report.figure_plan.report_plan
TABLES = ["ablation", "small_data", "video", "cost_scaling", "learned", "sensitivity", "claims"]
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
    "sensitivity",
]
INDEX = "README.md"  # figures/ and tables/: what is drawn, and why the rest is left out
STUDY_FACTS = "study_facts.yaml"  # results/<study>/: what the report's plan is made from
# results/<study>/: the study as the workflow read it, --config overrides applied; new runs'
# configs are resolved from it (`sagan run-config`)
STUDY_DOCUMENT = "study.yaml"
NOTEBOOKS = ["overview", "ablation", "small_data", "cost", "video"]
PARTS = ["stats", "tables", "figures", "cost-figures", "notebooks"]  # `sagan report --parts`


def notebook_dir() -> Path:
    """The papermill templates, ``<name>.ipynb``, shipped in the package."""
    return package_file("report", "notebooks")
