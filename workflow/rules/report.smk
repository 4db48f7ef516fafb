NOTEBOOKS = ["overview"]
FIGURES = expand(
    "reports/figures/{name}.{ext}",
    name=["quality_vs_size", "sample_grids"],
    ext=["png", "pdf"],
)
REPORTS = expand("reports/{name}.html", name=NOTEBOOKS)


rule aggregate:
    input:
        [f"{run_dir(r)}/metrics.json" for r in RUNS],
    output:
        report(
            SUMMARY,
            caption="One tidy row per run: ids, FD/KID (domain), cost, status.",
        ),
    log:
        "results/logs/aggregate.log",
    params:
        run_dirs=[run_dir(r) for r in RUNS],
    shell:
        "{SAGAN} aggregate {params.run_dirs} --out {output} > {log} 2>&1"


rule figures:
    input:
        SUMMARY,
        [f"{run_dir(r)}/samples.png" for r in RUNS],
    output:
        FIGURES,
    log:
        "results/logs/figures.log",
    shell:
        "{SAGAN} figures {input[0]} --out-dir reports/figures > {log} 2>&1"


rule notebook:
    input:
        summary=SUMMARY,
        template=Path(workflow.basedir, "reports/notebooks/{name}.ipynb"),
    output:
        executed="results/notebooks/{name}.ipynb",
        html="reports/{name}.html",
    log:
        "results/logs/notebook_{name}.log",
    shell:
        "({PYTHON} -m papermill {input.template} {output.executed}"
        " -p summary_csv {input.summary} --cwd . --no-progress-bar"
        " && {PYTHON} -m nbconvert --to html --no-input {output.executed} --output-dir reports"
        " --output {wildcards.name}) > {log} 2>&1"
