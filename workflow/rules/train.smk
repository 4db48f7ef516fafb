rule run_config:
    output:
        run_file("config.yaml"),
    log:
        run_file("run_config.log"),
    conda:
        ENV
    params:
        sagan=SAGAN,
        # a shell job starts in a fraction of a second; a run: job re-reads the whole workflow
        cfg=lambda w: shlex.quote(json.dumps(resolved_config(w))),
    shell:
        "{params.sagan} run-config --config {params.cfg} --out {output} > {log} 2>&1"


rule train:
    input:
        config=run_file("config.yaml"),
        data=lambda w: this_run(w).data.path,
        # evaluation.during scores FD while training: it needs the extractor and reference
        during=during_inputs,
    output:
        checkpoint=run_file("checkpoint.pt"),
        log_csv=run_file("log.csv"),
        samples=run_file("samples.png"),
    log:
        run_file("train.log"),
    conda:
        ENV
    threads: 1
    resources:
        gpu=gpu_slots(),
    params:
        pool=GPU_POOL,
        sagan=SAGAN,
        device=TRAIN_DEVICE,
        # the trainer's checkpoints and lock live above the outputs: Snakemake deletes a
        # job's outputs before it reruns it, never this folder
        state=lambda w: RUN_DIR.format(**w).rsplit("/", 1)[0],
    shell:
        "{params.pool} {params.sagan} --threads {threads} --device {params.device}"
        " train {input.config} --out $(dirname {output.checkpoint})"
        " --state {params.state} > {log} 2>&1"
