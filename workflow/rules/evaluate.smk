rule train_extractor:
    input:
        DATA,
    output:
        EXTRACTOR,
    log:
        "results/logs/extractor/{data}/{extractor}.log",
    # every evaluation waits on it: run it before the queue of training jobs, on one core so
    # it does not wait for two to come free
    priority: 100
    conda:
        ENV
    threads: 1
    resources:
        gpu=gpu_slots(),
    params:
        epochs=lambda w: extractor_epochs(THE_STUDY, EXTRACTORS[(w.data, w.extractor)]),
        pool=GPU_POOL,
        sagan=SAGAN,
        device=MODEL_DEVICE,
    shell:
        "{params.pool} {params.sagan} --threads {threads} --device {params.device:q}"
        " train-extractor {input:q} --epochs {params.epochs:q}"
        " --out {output:q} > {log:q} 2>&1"


rule reference_features:
    input:
        data=DATA,
        extractor=lambda w: extractor_file(EXTRACTORS[(w.data, w.extractor)]),
    output:
        REFERENCE,
    log:
        "results/logs/reference/{data}/{extractor}_{split}.log",
    priority: 100
    conda:
        ENV
    resources:
        gpu=gpu_slots(),
    params:
        extractor=lambda w: entry_extractor(
            THE_STUDY, EXTRACTORS[(w.data, w.extractor)]
        ),
        pool=GPU_POOL,
        sagan=SAGAN,
        device=MODEL_DEVICE,
    shell:
        "{params.pool} {params.sagan} --threads 1 --device {params.device:q}"
        " reference {input.data:q} --split {wildcards.split:q}"
        " --extractor {params.extractor:q} --extractor-path {input.extractor:q}"
        " --out {output:q} > {log:q} 2>&1"


# Real vs real at the runs' own sample counts (the floor every score sits on), and known
# degradations of those reals ranked against it (is the extractor fit to judge?).
rule noise_floor:
    input:
        data=DATA,
        extractor=lambda w: extractor_file(EXTRACTORS[(w.data, w.extractor)]),
        reference=lambda w: REFERENCE.format(**w, split="heldout"),
        train_reference=lambda w: REFERENCE.format(**w, split="train"),
    output:
        floor=layout.NOISE_FLOOR,
        checks=layout.EXTRACTOR_CHECKS,
    log:
        "results/logs/floor/{data}/{extractor}_n{samples}.log",
    conda:
        ENV
    threads: 1
    resources:
        gpu=gpu_slots(),
    params:
        extractor=lambda w: entry_extractor(
            THE_STUDY, EXTRACTORS[(w.data, w.extractor)]
        ),
        pool=GPU_POOL,
        sagan=SAGAN,
        device=MODEL_DEVICE,
    shell:
        "{params.pool} {params.sagan} --threads {threads} --device {params.device:q}"
        " noise-floor {input.data:q} --reference {input.reference:q}"
        " --train-reference {input.train_reference:q} --extractor {params.extractor:q}"
        " --extractor-path {input.extractor:q} --num-samples {wildcards.samples:q}"
        " --out-floor {output.floor:q} --out-checks {output.checks:q} > {log:q} 2>&1"


rule evaluate:
    input:
        checkpoint=run_file(run_folder.CHECKPOINT),
        # read through the run's config: declared, so remote executors stage them
        config=run_file(run_folder.CONFIG),
        data=lambda w: this_run(w).data.path,
        extractor=lambda w: extractor_file(w.dataset),
        reference=lambda w: this_run(w).eval.reference_path,
        train_reference=lambda w: this_run(w).eval.train_reference_path,
    output:
        run_file(run_folder.METRICS),
    log:
        run_file(run_folder.EVALUATE_LOG),
    conda:
        ENV
    threads: 1
    resources:
        gpu=gpu_slots(),
    params:
        pool=GPU_POOL,
        sagan=SAGAN,
        device=MODEL_DEVICE,
        run=lambda w, output: os.path.dirname(output[0]),
        expect=lambda w: config_digest(this_run(w)),  # a hand-edited config.yaml is refused
        # a copy of the scores beyond Snakemake's delete-on-failure: a failed rerun costs none
        state=lambda w, output: run_folder.state_of(os.path.dirname(output[0])),
    shell:
        "{params.pool} {params.sagan} --threads {threads} --device {params.device:q}"
        " evaluate {params.run:q} --expect {params.expect:q} --state {params.state:q}"
        " > {log:q} 2>&1"


# G's attention maps as arrays: the report draws them and loads no model.
rule attention_maps:
    input:
        checkpoint=run_file(run_folder.CHECKPOINT),
        config=run_file(run_folder.CONFIG),
        data=lambda w: this_run(w).data.path,
    output:
        run_file(run_folder.ATTENTION_MAPS),
    log:
        run_file(run_folder.ATTENTION_LOG),
    conda:
        ENV
    threads: 1
    resources:
        gpu=gpu_slots(),
    params:
        pool=GPU_POOL,
        sagan=SAGAN,
        device=MODEL_DEVICE,
        run=lambda w, output: os.path.dirname(output[0]),
    shell:
        "{params.pool} {params.sagan} --threads {threads} --device {params.device:q}"
        " attention-maps {params.run:q} --out {output:q} > {log:q} 2>&1"
