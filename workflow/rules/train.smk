# The study as this workflow read it (--config overrides applied): new runs' configs are
# resolved from it, and it stays beside the results as their record.
rule study_document:
    output:
        STUDY_DOCUMENT,
    log:
        f"results/logs/{STUDY}/study_document.log",
    params:
        document=THE_STUDY.document,
    run:
        write_yaml(params.document, output[0], log[0])


# Crosses the shell as a file: the study above and the run's id, read back typed.
rule run_config:
    input:
        study=STUDY_DOCUMENT,
    output:
        f"{{new_run}}/{run_folder.CONFIG}",
    log:
        f"{{new_run}}/{run_folder.RUN_CONFIG_LOG}",
    wildcard_constraints:
        # the folders without a config yet (NEW_RUN_DIRS; a pattern matching none when none)
        new_run="|".join(re.escape(d) for d in NEW_RUN_DIRS) or "(?!)",
    conda:
        ENV
    params:
        sagan=SAGAN,
        run=lambda w: RUN_OF_DIR[w.new_run],
    shell:
        "{params.sagan} run-config {input.study:q} --run {params.run:q} --out {output:q}"
        " > {log:q} 2>&1"


rule train:
    input:
        config=run_file(run_folder.CONFIG),
        data=lambda w: this_run(w).data.path,
        # evaluation.during scores FD while training: it needs the extractor and reference
        during=during_inputs,
    output:
        checkpoint=run_file(run_folder.CHECKPOINT),
        log_csv=run_file(run_folder.LOG),
        samples=run_file(run_folder.SAMPLES),
    log:
        run_file(run_folder.TRAIN_LOG),
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
        out=lambda w, output: os.path.dirname(output.checkpoint),
        state=lambda w, output: run_folder.state_of(os.path.dirname(output.checkpoint)),
        # config.yaml is an output: one edited by hand no longer hashes to this, and is refused
        expect=lambda w: config_digest(this_run(w)),
    shell:
        "{params.pool} {params.sagan} --threads {threads} --device {params.device:q}"
        " train {input.config:q} --out {params.out:q}"
        " --state {params.state:q} --expect {params.expect:q} > {log:q} 2>&1"


# A run that differs from an earlier one only by its labels copies that run's results
# (checkpoint, log, samples, status, metrics) instead of training and scoring again.
ruleorder: share_run > train
ruleorder: share_run > evaluate


rule share_run:
    input:
        config=f"{{shared}}/{run_folder.CONFIG}",
        checkpoint=lambda w: run_folder.path(
            SHARED_DIRS[w.shared], run_folder.CHECKPOINT
        ),
        metrics=lambda w: run_folder.path(SHARED_DIRS[w.shared], run_folder.METRICS),
    output:
        checkpoint=f"{{shared}}/{run_folder.CHECKPOINT}",
        log_csv=f"{{shared}}/{run_folder.LOG}",
        samples=f"{{shared}}/{run_folder.SAMPLES}",
        metrics=f"{{shared}}/{run_folder.METRICS}",
    log:
        f"{{shared}}/{run_folder.TRAIN_LOG}",
    wildcard_constraints:
        # exactly the shared runs' folders (a pattern that matches nothing when none)
        shared="|".join(re.escape(d) for d in SHARED_DIRS) or "(?!)",
    conda:
        ENV
    params:
        sagan=SAGAN,
        source=lambda w: SHARED_DIRS[w.shared],
    shell:
        "{params.sagan} share-run {params.source:q} --out {wildcards.shared:q}"
        " > {log:q} 2>&1"
