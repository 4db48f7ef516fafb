# Aggregate every run into tidy tables, then regenerate the report from them without
# retraining: per-cell statistics, tables (Markdown + LaTeX), figures, claim verdicts, and the
# notebooks executed to HTML. `snakemake --cores all report` rebuilds all of it.
from sagan.report.figure_plan import report_plan
from sagan.report.outputs import (
    METRIC_PROTOCOL,
    STUDY_CLAIMS as CLAIMS_FILE,
    SUMMARY_STATS as STATS_FILE,
    TRAINING_LOG as LOG_FILE,
    EXTRACTOR_CHECKS,
    FIGURES as FIGURE_NAMES,
    INDEX,
    NOISE_FLOOR,
    NOTEBOOKS,
    STUDY_FACTS as FACTS_FILE,
    TABLES,
    notebook_dir,
    parquet as parquet_of,
)

CAPTIONS = (
    "../report"  # one-line .rst captions for `snakemake --report`, beside this file
)
TRAINING_LOG = f"{STUDY_RESULTS}/{LOG_FILE}"
STUDY_CLAIMS = f"{STUDY_RESULTS}/{CLAIMS_FILE}"
STUDY_FACTS = f"{STUDY_RESULTS}/{FACTS_FILE}"
# The figures and tables this study draws; the rest are left out with a line in the index
PLAN = report_plan(FACTS, FIGURE_NAMES, TABLES)
SUMMARY_STATS = f"{STUDY_RESULTS}/{STATS_FILE}"
STUDY_FLOOR = f"{STUDY_RESULTS}/{NOISE_FLOOR}"
STUDY_CHECKS = f"{STUDY_RESULTS}/{EXTRACTOR_CHECKS}"
FIGURES = expand(
    f"{STUDY_REPORTS}/figures/{{name}}.{{ext}}", name=PLAN.figures, ext=["png", "pdf"]
)
TABLE_FILES = expand(
    f"{STUDY_REPORTS}/tables/{{name}}.{{ext}}", name=PLAN.tables, ext=["md", "tex"]
)
INDEXES = expand(f"{STUDY_REPORTS}/{{part}}/{INDEX}", part=["figures", "tables"])
REPORTS = expand(f"{STUDY_REPORTS}/{{name}}.html", name=NOTEBOOKS)
# What the figures and notebooks read from run folders beside the study's tables
SAMPLE_GRIDS = runs_file(run_folder.SAMPLES)
ATTENTION_MAPS = runs_file(run_folder.ATTENTION_MAPS, ATTENTION_RUN_DIRS)


# Every dataset entry's floor and extractor checks, one table each for the study.
rule floor_tables:
    input:
        floors=[floor_files(d)["floor"] for d in THE_STUDY.datasets],
        checks=[floor_files(d)["checks"] for d in THE_STUDY.datasets],
    output:
        floor=report(
            STUDY_FLOOR, caption=f"{CAPTIONS}/noise_floor.rst", category="Tables"
        ),
        checks=STUDY_CHECKS,
    log:
        f"results/logs/{STUDY}/floor_tables.log",
    conda:
        ENV
    params:
        sagan=SAGAN,
        # --entry NAME FLOOR CHECKS per dataset, a list: the shell line quotes each word
        entries=[
            word
            for d in THE_STUDY.datasets
            for word in ("--entry", d, *floor_files(d).values())
        ],
        out=lambda w, output: os.path.dirname(output.floor),
    shell:
        "{params.sagan} floor-tables {params.entries:q} --out-dir {params.out:q}"
        " > {log:q} 2>&1"


rule aggregate:
    input:
        runs=runs_file(run_folder.METRICS),
        floor=STUDY_FLOOR,
    output:
        summary=report(
            SUMMARY,
            caption=f"{CAPTIONS}/summary.rst",
            category="Tables",
        ),
        parquet=parquet_of(SUMMARY),
        logs=TRAINING_LOG,
        logs_parquet=parquet_of(TRAINING_LOG),
        # each metric's sample count, extractor, reference split, unit and direction
        protocol=f"{STUDY_RESULTS}/{METRIC_PROTOCOL}",
        protocol_parquet=parquet_of(f"{STUDY_RESULTS}/{METRIC_PROTOCOL}"),
    log:
        f"results/logs/{STUDY}/aggregate.log",
    conda:
        ENV
    params:
        sagan=SAGAN,
        run_dirs=list(RUN_DIRS.values()),
    shell:
        "{params.sagan} aggregate {params.run_dirs:q} --out {output.summary:q}"
        " --noise-floor {input.floor:q} > {log:q} 2>&1"


rule study_claims:
    output:
        STUDY_CLAIMS,
    log:
        f"results/logs/{STUDY}/study_claims.log",
    params:
        claims=CLAIMS,
    run:
        write_yaml(params.claims, output[0], log[0])


# The facts the report's plan is made from, as the workflow saw them: `sagan report` makes
# the same plan from them, so it draws the figures declared here
rule study_facts:
    output:
        STUDY_FACTS,
    log:
        f"results/logs/{STUDY}/study_facts.log",
    params:
        facts=FACTS.to_dict(),
    run:
        write_yaml(params.facts, output[0], log[0])


# The per-cell statistics first, on their own: the notebooks need only them, so they run
# beside the tables and figures instead of after them.
rule report_stats:
    input:
        summary=SUMMARY,
    output:
        stats=SUMMARY_STATS,
        stats_parquet=parquet_of(SUMMARY_STATS),
    log:
        f"results/logs/{STUDY}/report_stats.log",
    conda:
        ENV
    params:
        sagan=SAGAN,
        results=lambda w, input: os.path.dirname(input.summary),
        reports=STUDY_REPORTS,
    shell:
        "{params.sagan} report {params.results:q} --out {params.reports:q}"
        " --parts stats > {log:q} 2>&1"


rule report_build:
    input:
        summary=SUMMARY,
        stats=SUMMARY_STATS,
        claims=STUDY_CLAIMS,
        facts=STUDY_FACTS,
        logs=TRAINING_LOG,
        floor=STUDY_FLOOR,  # read from the results folder: the floor in tables and figures
        checks=STUDY_CHECKS,
        samples=SAMPLE_GRIDS,
        attention_maps=ATTENTION_MAPS,
        profiles=expand(PROFILE, study=STUDY, dataset=list(THE_STUDY.datasets)),
        scaling=expand(SCALING, study=STUDY),
    output:
        tables=[
            report(f, caption=f"{CAPTIONS}/tables.rst", category="Tables")
            for f in TABLE_FILES
        ],
        claims=report(
            f"{STUDY_REPORTS}/tables/claims.csv",
            caption=f"{CAPTIONS}/claims.rst",
            category="Claims",
        ),
        figures=[
            report(f, caption=f"{CAPTIONS}/{Path(f).stem}.rst", category="Figures")
            for f in FIGURES
        ],
        indexes=INDEXES,
    log:
        f"results/logs/{STUDY}/report_build.log",
    conda:
        ENV
    params:
        sagan=SAGAN,
        results=lambda w, input: os.path.dirname(input.summary),
        reports=lambda w, output: os.path.dirname(os.path.dirname(output.claims)),
    shell:
        "{params.sagan} report {params.results:q} --out {params.reports:q}"
        " --parts tables figures > {log:q} 2>&1"


# The same command as `sagan report --parts notebooks` by hand, one notebook per job.
rule notebook:
    input:
        SUMMARY,
        STUDY_CLAIMS,
        STUDY_FACTS,
        SUMMARY_STATS,
        TRAINING_LOG,
        STUDY_FLOOR,
        STUDY_CHECKS,
        expand(PROFILE, study=STUDY, dataset=list(THE_STUDY.datasets)),
        expand(SCALING, study=STUDY),
        SAMPLE_GRIDS,
        ATTENTION_MAPS,
        template=local(str(notebook_dir() / "{name}.ipynb")),  # shipped in the package
    output:
        executed=f"{STUDY_RESULTS}/notebooks/{{name}}.ipynb",
        html=report(
            f"{STUDY_REPORTS}/{{name}}.html",
            caption=f"{CAPTIONS}/notebook.rst",
            category="Notebooks",
        ),
    log:
        f"results/logs/{STUDY}/notebook_{{name}}.log",
    conda:
        ENV
    params:
        sagan=SAGAN,
        results=lambda w, input: os.path.dirname(input[0]),
        reports=lambda w, output: os.path.dirname(output.html),
    shell:
        "{params.sagan} report {params.results:q} --out {params.reports:q}"
        " --parts notebooks --notebooks {wildcards.name:q} > {log:q} 2>&1"


rule report:
    input:
        TABLE_FILES,
        FIGURES,
        INDEXES,
        COST_FIGURES,
        REPORTS,


# Some runs failed under --keep-going: a summary and report of what finished
# (partial_report in common.smk).
onerror:
    partial_report()
