"""Everything a paper needs from a results folder, without retraining: per-cell statistics,
tables, figures, claim verdicts and executed notebooks (``sagan report RESULTS --out DIR``)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import yaml

from sagan import run_folder
from sagan.errors import DataError
from sagan.report.aggregate import write_csv_parquet
from sagan.report.claim_specs import load_claims
from sagan.report.figure_plan import ReportPlan, StudyFacts, index_text, report_plan
from sagan.report.outputs import (
    EXTRACTOR_CHECKS,
    FIGURES,
    INDEX,
    NOISE_FLOOR,
    NOTEBOOKS,
    PARTS,
    PROFILE_GLOB,
    SCALING,
    SLOPES,
    STUDY_CLAIMS,
    STUDY_FACTS,
    SUMMARY,
    SUMMARY_STATS,
    TABLES,
    TRAINING_LOG,
    notebook_dir,
    read_results_table,
)
from sagan.report.stats import cell_stats, numeric_metrics


class Results:
    """The aggregate tables of one results folder, read once (missing cost files -> None)."""

    def __init__(self, results_dir: str | Path) -> None:
        self.dir = Path(results_dir)
        path = self.dir / SUMMARY
        if not path.is_file():
            raise FileNotFoundError(
                f"{path} does not exist: aggregate the runs first "
                "(snakemake results/<study>/summary.csv, or sagan aggregate RUN_DIR... --out it)"
            )
        self.summary = read_results_table(
            path, "summary", REBUILD, dtype={"size": str, "g_attention": str}
        )
        self._root: Path | None = None
        stats = self.dir / SUMMARY_STATS
        self.stats = _table(stats, dtype={"size": str}) if stats.is_file() else None
        logs = self.dir / TRAINING_LOG
        self.logs = _table(logs, dtype={"size": str}) if logs.is_file() else None
        self.profile = _concat(sorted(self.dir.glob(PROFILE_GLOB)))
        # in any folder below cost/, as the profiles
        self.scaling = _concat(sorted(self.dir.glob(f"cost/**/{Path(SCALING).name}")))
        self.slopes = _concat(sorted(self.dir.glob(f"cost/**/{Path(SLOPES).name}")))
        claims = self.dir / STUDY_CLAIMS  # the study's claims (rule study_claims)
        self.claims = load_claims(claims) if claims.is_file() else []
        # the noise floor and extractor checks (rule floor_tables); older results lack them
        self.floor = _concat([p for p in [self.dir / NOISE_FLOOR] if p.is_file()])
        self.checks = _concat([p for p in [self.dir / EXTRACTOR_CHECKS] if p.is_file()])
        self._facts: StudyFacts | None = None

    @property
    def facts(self) -> StudyFacts:
        """The study's facts as the workflow saw them (rule study_facts), else as this
        folder's tables show them."""
        if self._facts is None:
            path = self.dir / STUDY_FACTS
            read = yaml.safe_load(path.read_text()) if path.is_file() else None
            self._facts = StudyFacts.from_dict(read) if read else results_facts(self)
        return self._facts

    @property
    def plan(self) -> ReportPlan:
        """The figures and tables this report draws, and why it leaves out the others."""
        return report_plan(self.facts, FIGURES, TABLES)

    @property
    def root(self) -> Path:
        """The folder the summary's relative run and data paths start from: the workflow's
        working folder, which holds results/. Found by walking up from the results folder as
        given (its symlinks kept: results/ may link to scratch space) to the first folder that
        holds a listed run, so any results folder works from any working folder."""
        if self._root is None:
            self._root = find_root(self.dir, self.summary)
        return self._root

    def claims_verdicts(self) -> pd.DataFrame:
        """Every claim's rows (``sagan.report.claims.evaluate_claims``) from these results."""
        from sagan.report.claims import evaluate_claims

        return evaluate_claims(
            self.summary, self.profile, self.claims, self.logs, self.floor, self.scaling
        )

    def cell_stats(self) -> pd.DataFrame:
        if self.stats is None:
            self.stats = cell_stats(self.summary, numeric_metrics(self.summary))
        return self.stats


def find_root(results_dir: Path, summary: pd.DataFrame) -> Path:
    """See ``Results.root``; a DataError if no listed run is found above ``results_dir``."""
    here = Path(os.path.abspath(results_dir))  # lexical: resolve() would follow a symlink
    relative = [d for d in summary["run_dir"].dropna().astype(str) if not Path(d).is_absolute()]
    if not relative:  # every run listed by its absolute path
        return here
    for root in (here, *here.parents):
        if any((root / d).is_dir() for d in relative):
            return root
    raise DataError(
        f"none of the runs {results_dir / 'summary.csv'} lists (e.g. {relative[0]}) is in a "
        f"folder above {results_dir}; keep the results folder beside its runs, as the "
        "workflow writes them, or aggregate the runs again"
    )


def results_facts(results: Results) -> StudyFacts:
    """``StudyFacts`` from what a results folder holds: the kinds and probe scores of its
    finished runs, FD during training in its log, sweeps, a profile and maps files."""
    from sagan.metrics.probes import PROBE_SCORES
    from sagan.report.during_figure import during_columns
    from sagan.report.sensitivity import sweeps
    from sagan.report.study_figures import TEMPORAL

    s = results.summary
    done = s[s["status"] == "done"] if "status" in s else s
    video = done[TEMPORAL[0]].notna() if TEMPORAL[0] in done else pd.Series(False, done.index)
    kinds = {"video"} if video.any() else set()
    kinds |= {"image"} if (~video).any() else set()
    scores = {PROBE_SCORES.build(name).name for name in PROBE_SCORES.names()}
    try:
        maps = any(
            run_folder.path(results.root / d, run_folder.ATTENTION_MAPS).is_file()
            for d in done.loc[~video, "run_dir"].dropna()
        )
    except DataError:  # the runs are not beside this folder
        maps = False
    return StudyFacts(
        kinds=frozenset(kinds),
        probe_metrics=frozenset(m for m in scores if m in s and s[m].notna().any()),
        during=bool(during_columns(results.logs)),
        sweep=bool(sweeps(s)),
        profile=results.profile is not None,
        attention_maps=maps,
    )


# A results-folder table, damaged: the workflow makes it again from the runs
REBUILD = "delete it and run `snakemake` again to make it anew"


def _table(path: Path, **read_csv) -> pd.DataFrame:
    return read_results_table(path, "table", REBUILD, **read_csv)


def _concat(paths: list[Path]) -> pd.DataFrame | None:
    return pd.concat([_table(p) for p in paths], ignore_index=True) if paths else None


def write_stats(results: Results) -> list[Path]:
    results.stats = None  # recompute from the summary
    return write_csv_parquet(results.cell_stats(), results.dir / SUMMARY_STATS)


def write_tables(results: Results, out: Path) -> list[Path]:
    from sagan.report import paper_tables as pt
    from sagan.report.claims import claims_table
    from sagan.report.learned_table import learned_table
    from sagan.report.tables import write_note, write_table

    s, stats, profile = results.summary, results.cell_stats(), results.profile
    floor, checks = results.floor, results.checks
    out.mkdir(parents=True, exist_ok=True)
    built = {
        "ablation": (
            pt.ablation_table(s, stats, profile, floor, checks),
            "no image runs with an FD column",
        ),
        "small_data": (pt.small_data_table(s, stats, floor), "no image runs with an FD column"),
        "video": (pt.video_table(s, stats, profile), "No video runs in this study."),
        "cost_scaling": (
            pt.scaling_table(results.scaling) if results.scaling is not None else None,
            "No scaling sweep in this results folder (rule scaling).",
        ),
        "learned": (learned_table(s), "No convergence or collapse flags in this summary."),
    }
    paths = []
    for name, (table, missing) in built.items():
        stem = out / name
        paths += write_table(table, stem) if table is not None else write_note(missing, stem)
    claims = results.claims_verdicts()
    if "sensitivity" in results.plan.tables:
        from sagan.report.sensitivity import write_sensitivity_tables

        stem = out / "sensitivity"  # declared by the workflow: a line if no sweep run finished
        paths += write_sensitivity_tables(s, stem) or write_note("No finished sweep runs.", stem)
    paths += write_table(claims_table(claims), out / "claims")
    from sagan.io import atomic_write_text

    atomic_write_text(out / "claims.csv", claims.to_csv(index=False))
    atomic_write_text(out / INDEX, index_text(results.plan, "tables"))
    return [*paths, out / "claims.csv", out / INDEX]


def _note_figure(text: str) -> plt.Figure:
    """A declared figure whose data are missing after all says so: outputs promised exist.
    (A figure the study has nothing for is left out instead: ``figure_plan``.)"""
    from sagan.report.figures import TWO_COLUMN_WIDTH, paper_theme

    paper_theme()
    fig, ax = plt.subplots(figsize=(TWO_COLUMN_WIDTH / 2, 1.0))
    ax.axis("off")
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=8, wrap=True)
    return fig


# What a declared figure with no data after all says (its note figure)
MISSING = {
    "training_curves": "no training logs (results/training_log.csv)",
    "fd_during": "no FD scored while training (evaluation.during is not set)",
    "quality_cost_pareto": "no image runs with both an FD and a profiled cost",
    "probe_coherence": "no pairs-probe runs in this study",
    "attention_maps": "no attention maps (rule attention_maps, or sagan attention-maps)",
    "video_temporal": "no video runs in this study",
    "extractor_checks": "no extractor checks in this results folder (rule floor_tables)",
    "sensitivity": "no finished sweep runs in this study",
}


def figure_makers(results: Results) -> dict[str, Callable[[], plt.Figure | None]]:
    """Each figure's maker; None where this results folder has nothing for it."""
    from sagan.report import study_figures as sf
    from sagan.report.during_figure import fd_during
    from sagan.report.figures import quality_vs_size, sample_grids
    from sagan.report.floor_figure import extractor_checks_figure
    from sagan.report.sensitivity import sweeps_figure

    s = results.summary
    absolute = s.assign(run_dir=[str(results.root / d) for d in s["run_dir"]])
    logs, profile, checks = results.logs, results.profile, results.checks
    colors = report_colors(results)
    return {
        "quality_vs_size": lambda: quality_vs_size(s, results.floor, colors),
        "sample_grids": lambda: sample_grids(absolute, _real_grids(results, absolute)),
        "training_curves": lambda: (
            sf.training_curves(logs, colors=colors) if logs is not None and len(logs) else None
        ),
        "fd_during": lambda: fd_during(logs, colors),
        "quality_cost_pareto": lambda: (
            sf.quality_cost_pareto(results.cell_stats(), profile, s, colors=colors)
            if profile is not None
            else None
        ),
        "probe_coherence": lambda: sf.probe_coherence(s, colors=colors),
        "attention_maps": lambda: attention_maps(results),
        "video_temporal": lambda: sf.video_temporal(s, colors),
        "extractor_checks": lambda: (
            extractor_checks_figure(checks) if checks is not None and len(checks) else None
        ),
        "sensitivity": lambda: sweeps_figure(s, colors),
    }


def report_colors(results: Results) -> dict[str, str]:
    """One colour per arm of the study (``panels.arm_colors``) for every figure of the report:
    the arms of the summary, the training logs and the cost profile together."""
    from sagan.report.panels import arm_colors, study_arms

    return arm_colors(study_arms(results.summary, results.logs, results.profile))


def _real_grids(results: Results, absolute: pd.DataFrame) -> dict:
    """Per dataset, real images shaped like its first finished run's sample grid."""
    from sagan.report.figures import read_sample_grid
    from sagan.report.real_grid import real_grids

    done = absolute[absolute["status"] == "done"].groupby("dataset", sort=True).head(1)
    runs, samples = {}, {}
    for _, run in done.iterrows():
        grid = run_folder.path(run["run_dir"], run_folder.SAMPLES)
        if grid.is_file():
            runs[run["dataset"]] = run_folder.path(run["run_dir"], run_folder.CONFIG)
            samples[run["dataset"]] = read_sample_grid(grid)
    return real_grids(runs, samples, results.root)


def draw_figure(results: Results, name: str) -> plt.Figure:
    """The figure ``name``, or a note figure saying what it lacks."""
    fig = figure_makers(results)[name]()
    return fig if fig is not None else _note_figure(MISSING.get(name, f"no data for {name}"))


def attention_maps(results: Results, arm: str | None = None) -> plt.Figure | None:
    """G's attention maps, per dataset, of the run at its largest size (first seed) of
    ``arm``, or of the first arm in the summary whose run's maps file holds maps. It reads
    the runs' ``attention_maps.npz`` (rule attention_maps); it loads no model."""
    from sagan.metrics.attention_maps import read_attention_maps
    from sagan.report.attention_figure import attention_maps_figure

    s = results.summary
    done = s[(s["status"] == "done") & (s["arm"] == arm if arm else s["status"] == "done")]
    if "g_attention" in done and arm is None:  # arms with a block in G
        done = done[done["g_attention"].fillna("").astype(str).str.strip() != ""]
    arms = list(dict.fromkeys(done["arm"]))
    runs = done.sort_values(["train_images", "seed"], ascending=[False, True])
    found = {}
    for dataset, rows in runs.groupby("dataset", sort=True):
        for name in sorted(rows["arm"].unique(), key=arms.index):
            file = run_folder.path(
                results.root / rows[rows["arm"] == name].iloc[0]["run_dir"],
                run_folder.ATTENTION_MAPS,
            )
            maps = read_attention_maps(file) if file.is_file() else None
            if maps is not None:  # None: not made for this run, or its G gives none
                found[f"{dataset} · {name}"] = maps
                break
    if not found:  # None: no maps of ``arm`` (or of any arm with attention in G) to draw
        return None
    return attention_maps_figure(found)


def write_figures(results: Results, out: Path, names: Iterable[str] | None = None) -> list[Path]:
    """The figures ``names`` (default: those the report's plan draws) into ``out``, with the
    index ``out``/README.md of what is drawn and why the rest is left out."""
    from sagan.io import atomic_write_text
    from sagan.report.figures import save_figure

    plan = results.plan
    paths = []
    for name in plan.figures if names is None else names:
        paths += save_figure(draw_figure(results, name), out / name)
    for key in plan.left_out:  # a stale file of an earlier report would contradict it
        part, name = key.split("/", 1)
        for ext in ("png", "pdf"):
            if part == "figures":
                (out / f"{name}.{ext}").unlink(missing_ok=True)
    atomic_write_text(out / INDEX, index_text(plan, "figures"))
    return [*paths, out / INDEX]


def run_notebook(template: Path, results_dir: Path, out: Path, executed_dir: Path) -> Path:
    """papermill with ``results_dir``, then nbconvert to HTML without the code cells."""
    executed_dir.mkdir(parents=True, exist_ok=True)
    executed = executed_dir / template.name
    py = sys.executable
    subprocess.run(
        [py, "-m", "papermill", str(template), str(executed), "-p", "results_dir",
         str(results_dir.resolve()), "--no-progress-bar"],
        check=True,
    )  # fmt: skip
    subprocess.run(
        [py, "-m", "nbconvert", "--to", "html", "--no-input", str(executed), "--output-dir",
         str(out), "--output", template.stem],
        check=True,
    )  # fmt: skip
    return out / f"{template.stem}.html"


def require_finished_runs(results: Results) -> None:
    """Refuse, in one line, a results folder where no run finished: it has nothing to report."""
    states = results.summary.get("status", pd.Series(["done"] * len(results.summary)))
    if (states == "done").any():
        return
    counts = ", ".join(f"{n} {state}" for state, n in states.value_counts().items()) or "no runs"
    raise DataError(
        f"no run in {results.dir / 'summary.csv'} finished ({counts}), so there is nothing to "
        "report; see each run's status.json and train.log, fix the config and re-run"
    )


def build_report(
    results_dir: str | Path,
    out: str | Path,
    parts: Iterable[str] = PARTS,
    notebooks: Iterable[str] = NOTEBOOKS,
) -> list[Path]:
    """Regenerate ``parts`` of the report from ``results_dir`` into ``out`` (tables/,
    figures/, *.html: the ``notebooks`` named); the per-cell statistics go beside the
    summary, the executed notebooks in its notebooks/."""
    results, out, parts = Results(results_dir), Path(out), set(parts)
    require_finished_runs(results)
    if results.checks is not None and len(results.checks):
        from sagan.metrics.extractor_checks import check_warnings

        for line in check_warnings(results.checks):  # also in the ablation table's note
            print(f"warning: {line}", file=sys.stderr)
    paths = []
    if "stats" in parts:
        paths += write_stats(results)
    if "tables" in parts:
        paths += write_tables(results, out / "tables")
    if "figures" in parts:
        paths += write_figures(results, out / "figures")
    if "cost-figures" in parts:
        from sagan.report.cost_figures import write_cost_figures

        paths += write_cost_figures(
            results.profile, results.scaling, out / "figures", report_colors(results)
        )
    if "notebooks" in parts:
        for name in notebooks:
            template = notebook_dir() / f"{name}.ipynb"
            paths.append(run_notebook(template, results.dir, out, results.dir / "notebooks"))
    return paths
