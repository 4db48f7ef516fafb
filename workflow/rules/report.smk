# Aggregate every run into tidy tables, then regenerate the report from them without
# retraining: per-cell statistics, tables (Markdown + LaTeX), figures, claim verdicts, and the
# notebooks executed to HTML. `snakemake --cores all report` rebuilds all of it.
from sagan.report.outputs import FIGURES as FIGURE_NAMES, NOTEBOOKS, TABLES

CAPTIONS = (
    "../report"  # one-line .rst captions for `snakemake --report`, beside this file
)
TRAINING_LOG = "results/training_log.csv"
SUMMARY_STATS = "results/summary_stats.csv"
FIGURES = expand("reports/figures/{name}.{ext}", name=FIGURE_NAMES, ext=["png", "pdf"])
TABLE_FILES = expand("reports/tables/{name}.{ext}", name=TABLES, ext=["md", "tex"])
REPORTS = expand("reports/{name}.html", name=NOTEBOOKS)


rule aggregate:
    input:
        [f"{run_dir(r)}/metrics.json" for r in RUNS],
    output:
        summary=report(
            SUMMARY,
            caption=f"{CAPTIONS}/summary.rst",
            category="Tables",
        ),
        parquet="results/summary.parquet",
        logs=TRAINING_LOG,
        logs_parquet="results/training_log.parquet",
    log:
        "results/logs/aggregate.log",
    conda:
        ENV
    params:
        sagan=SAGAN,
        run_dirs=[run_dir(r) for r in RUNS],
    shell:
        "{params.sagan} aggregate {params.run_dirs} --out {output.summary} > {log} 2>&1"


rule report_build:
    input:
        summary=SUMMARY,
        logs=TRAINING_LOG,
        samples=[f"{run_dir(r)}/samples.png" for r in RUNS],
        profiles=expand(PROFILE, study=STUDY, dataset=list(config["datasets"])),
        scaling=expand(SCALING, study=STUDY),
    output:
        stats=SUMMARY_STATS,
        stats_parquet="results/summary_stats.parquet",
        tables=[
            report(f, caption=f"{CAPTIONS}/tables.rst", category="Tables")
            for f in TABLE_FILES
        ],
        claims=report(
            "reports/tables/claims.csv",
            caption=f"{CAPTIONS}/claims.rst",
            category="Claims",
        ),
        figures=[
            report(f, caption=f"{CAPTIONS}/{Path(f).stem}.rst", category="Figures")
            for f in FIGURES
        ],
    log:
        "results/logs/report_build.log",
    conda:
        ENV
    params:
        sagan=SAGAN,
    shell:
        "{params.sagan} report results --out reports --parts stats tables figures > {log} 2>&1"


rule notebook:
    input:
        SUMMARY,
        SUMMARY_STATS,
        TRAINING_LOG,
        expand(PROFILE, study=STUDY, dataset=list(config["datasets"])),
        template=local(Path(workflow.basedir, "reports/notebooks/{name}.ipynb")),
    output:
        executed="results/notebooks/{name}.ipynb",
        html=report(
            "reports/{name}.html",
            caption=f"{CAPTIONS}/notebook.rst",
            category="Notebooks",
        ),
    log:
        "results/logs/notebook_{name}.log",
    conda:
        ENV
    params:
        python=PYTHON,
    shell:
        "({params.python} -m papermill {input.template} {output.executed}"
        " -p results_dir results --cwd . --no-progress-bar"
        " && {params.python} -m nbconvert --to html --no-input {output.executed}"
        " --output-dir reports --output {wildcards.name}) > {log} 2>&1"


rule report:
    input:
        TABLE_FILES,
        FIGURES,
        COST_FIGURES,
        REPORTS,
