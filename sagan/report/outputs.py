"""The names of what a report makes: one list for the library and the workflow (which imports
this light module, not the drawing code)."""

from pathlib import Path

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
