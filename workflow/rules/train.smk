rule run_config:
    output:
        run_file("config.yaml"),
    log:
        "results/logs/run_config/{study}/{dataset}_{variant}_n{size}_s{seed}.log",
    params:
        cfg=resolved_config,
    run:
        from sagan.config import RunConfig, from_dict, save_run_config

        save_run_config(from_dict(RunConfig, params.cfg), output[0])
        Path(log[0]).write_text(f"wrote {output[0]}\n")


rule train:
    input:
        config=run_file("config.yaml"),
        data=lambda w: data_file(w.dataset),
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
        gpu=1 if GPUS else 0,
    params:
        pool=GPU_POOL,
        sagan=SAGAN,
        device=TRAIN_DEVICE,
    shell:
        "{params.pool} {params.sagan} --threads {threads} --device {params.device}"
        " train {input.config}"
        " --out $(dirname {output.checkpoint}) > {log} 2>&1"
