# What each variant costs: a side-by-side training-step profile per dataset, and a scaling
# sweep of attention cost against tokens N. Each takes every core, so nothing else running
# beside it skews the timings.
PROFILE_DEVICE = config.get("profile", {}).get("device", "cpu")
PROFILE = "results/cost/{study}/profile_{dataset}.csv"
SCALING = "results/cost/{study}/scaling.csv"
SLOPES = "results/cost/{study}/scaling_slopes.csv"
COST_STUDY = "results/cost/{study}/study.yaml"
COST_FIGURES = expand(
    "reports/figures/{name}.{ext}",
    name=["step_overhead", "cost_scaling"],
    ext=["png", "pdf"],
)


def cost_study():
    """The part of the study that decides cost (a param: a change re-runs the profile)."""
    keys = ("study", "plugins", "datasets", "variants", "model", "profile")
    part = {k: config[k] for k in keys if k in config}
    part["train"] = {"batch_size": config.get("train", {}).get("batch_size", 64)}
    return part


rule cost_study:
    output:
        COST_STUDY,
    params:
        study=cost_study(),
    run:
        from sagan.io import atomic_write_text

        atomic_write_text(
            Path(output[0]), yaml.safe_dump(params.study, sort_keys=False)
        )


rule profile:
    input:
        study=COST_STUDY,
        data=lambda w: data_file(w.dataset),
    output:
        PROFILE,
    log:
        "results/logs/{study}/profile_{dataset}.log",
    threads: workflow.cores
    shell:
        "{SAGAN} --threads {threads} --device {PROFILE_DEVICE} profile {input.study} --data {input.data}"
        " --dataset {wildcards.dataset} --out {output} > {log} 2>&1"


rule scaling:
    input:
        COST_STUDY,
    output:
        rows=SCALING,
        slopes=SLOPES,
    log:
        "results/logs/{study}/scaling.log",
    threads: workflow.cores
    shell:
        "{SAGAN} --threads {threads} --device {PROFILE_DEVICE} scaling {input} --out {output.rows}"
        " --slopes {output.slopes} > {log} 2>&1"


rule cost_figures:
    input:
        profiles=expand(PROFILE, study=STUDY, dataset=list(config["datasets"])),
        scaling=expand(SCALING, study=STUDY),
    output:
        COST_FIGURES,
    log:
        "results/logs/cost_figures.log",
    shell:
        "{SAGAN} cost-figures {input.profiles} --scaling {input.scaling}"
        " --out-dir reports/figures > {log} 2>&1"
