rule run_config:
    output:
        RUN_DIR + "/config.yaml",
    params:
        cfg=resolved_config,
    run:
        from sagan.config import RunConfig, from_dict, save_run_config

        save_run_config(from_dict(RunConfig, params.cfg), output[0])


rule train:
    input:
        config=RUN_DIR + "/config.yaml",
        data=lambda w: data_file(w.dataset),
    output:
        checkpoint=RUN_DIR + "/checkpoint.pt",
        log_csv=RUN_DIR + "/log.csv",
        samples=RUN_DIR + "/samples.png",
    log:
        RUN_DIR + "/train.log",
    threads: 1
    resources:
        gpu=1 if GPUS else 0,
    shell:
        "{GPU_POOL} {SAGAN} --threads {threads} --device {TRAIN_DEVICE} train {input.config}"
        " --out $(dirname {output.checkpoint}) > {log} 2>&1"
