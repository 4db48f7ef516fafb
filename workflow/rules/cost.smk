# What each variant costs: a side-by-side training-step profile per dataset, and a scaling
# sweep of attention cost against tokens N. Each takes every core, so nothing else running
# beside it skews the timings.
# Under --resources gpu=N they time the step on a GPU of the pool, with nothing beside them
# on it (all its slots); profile.device: cpu keeps them on the CPU.
PROFILE_DEVICE = THE_STUDY.profile.device_for(gpus=bool(GPUS))
PROFILE_ON_GPU = PROFILE_DEVICE.startswith("cuda")
if PROFILE_ON_GPU and LOCAL_POOL:
    PROFILE_DEVICE = "cuda"  # the pool's GPU is the job's only visible one
PROFILE = f"{layout.STUDY_RESULTS}/{outputs.PROFILE}"
SCALING = f"{layout.STUDY_RESULTS}/{outputs.SCALING}"
SLOPES = f"{layout.STUDY_RESULTS}/{outputs.SLOPES}"
COST_STUDY = f"{layout.STUDY_RESULTS}/{outputs.COST_STUDY}"
COST_FIGURES = expand(
    f"{STUDY_REPORTS}/figures/{{name}}.{{ext}}",
    name=["step_overhead", "cost_scaling"],
    ext=["png", "pdf"],
)
# One-line captions for `snakemake --report`, relative to this file.
CAPTIONS = "../report"
# Every core given (workflow.cores raises when none are, as under --report).
ALL_CORES = workflow.resource_settings.cores or 1


rule cost_study:
    output:
        COST_STUDY,
    log:
        "results/logs/{study}/cost_study.log",
    params:
        study=cost_part(THE_STUDY),
    run:
        write_yaml(params.study, output[0], log[0])


rule profile:
    input:
        study=COST_STUDY,
        data=lambda w: data_file(w.dataset),
    output:
        report(
            PROFILE,
            caption=f"{CAPTIONS}/profile.rst",
            category="Cost",
            subcategory="Training step",
            labels={"dataset": "{dataset}"},
        ),
    log:
        "results/logs/{study}/profile_{dataset}.log",
    conda:
        ENV
    threads: ALL_CORES
    resources:
        gpu=gpu_slots(whole_gpu=True) if PROFILE_ON_GPU else 0,
    params:
        pool=pooled(whole_gpu=True) if PROFILE_ON_GPU else "",
        sagan=SAGAN,
        device=PROFILE_DEVICE,
    shell:
        "{params.pool} {params.sagan} --threads {threads} --device {params.device:q}"
        " profile {input.study:q} --data {input.data:q}"
        " --dataset {wildcards.dataset:q} --out {output:q} > {log:q} 2>&1"


rule scaling:
    input:
        COST_STUDY,
    output:
        rows=report(
            SCALING,
            caption=f"{CAPTIONS}/scaling.rst",
            category="Cost",
            subcategory="Scaling",
        ),
        slopes=report(
            SLOPES,
            caption=f"{CAPTIONS}/scaling_slopes.rst",
            category="Cost",
            subcategory="Scaling",
        ),
    log:
        "results/logs/{study}/scaling.log",
    conda:
        ENV
    threads: ALL_CORES
    resources:
        gpu=gpu_slots(whole_gpu=True) if PROFILE_ON_GPU else 0,
    params:
        pool=pooled(whole_gpu=True) if PROFILE_ON_GPU else "",
        sagan=SAGAN,
        device=PROFILE_DEVICE,
    shell:
        "{params.pool} {params.sagan} --threads {threads} --device {params.device:q}"
        " scaling {input:q} --out {output.rows:q}"
        " --slopes {output.slopes:q} > {log:q} 2>&1"


rule cost_figures:
    input:
        profiles=expand(PROFILE, study=STUDY, dataset=list(THE_STUDY.datasets)),
        scaling=expand(SCALING, study=STUDY),
    output:
        [
            (
                report(f, caption=f"{CAPTIONS}/{Path(f).stem}.rst", category="Cost")
                if f.endswith(".png")
                else f
            )
            for f in COST_FIGURES
        ],
    log:
        f"results/logs/{STUDY}/cost_figures.log",
    conda:
        ENV
    params:
        sagan=SAGAN,
        figures=lambda w, output: os.path.dirname(output[0]),
    shell:
        "{params.sagan} cost-figures {input.profiles:q} --scaling {input.scaling:q}"
        " --out-dir {params.figures:q} > {log:q} 2>&1"
