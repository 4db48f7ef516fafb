rule train_extractor:
    input:
        DATA,
    output:
        EXTRACTOR,
    log:
        "results/logs/extractor/{dataset}_r{resolution}.log",
    # every evaluation waits on it: run it before the queue of training jobs, on one core so
    # it does not wait for two to come free
    priority: 100
    threads: 1
    params:
        epochs=lambda w: extractor_epochs(w.dataset),
    shell:
        "{SAGAN} --threads {threads} train-extractor {input} --epochs {params.epochs}"
        " --out {output} > {log} 2>&1"


rule reference_features:
    input:
        data=DATA,
        extractor=lambda w: extractor_file(w.dataset),
    output:
        REFERENCE,
    log:
        "results/logs/reference/{dataset}_r{resolution}_{extractor}_{split}.log",
    priority: 100
    shell:
        "{SAGAN} --threads 1 reference {input.data} --split {wildcards.split}"
        " --extractor {wildcards.extractor} --extractor-path {input.extractor}"
        " --out {output} > {log} 2>&1"


rule evaluate:
    input:
        checkpoint=RUN_DIR + "/checkpoint.pt",
        extractor=lambda w: extractor_file(w.dataset),
        reference=lambda w: reference_file(w.dataset),
        train_reference=lambda w: reference_file(w.dataset, "train"),
    output:
        RUN_DIR + "/metrics.json",
    log:
        RUN_DIR + "/evaluate.log",
    threads: 1
    shell:
        "{SAGAN} --threads {threads} evaluate $(dirname {output}) > {log} 2>&1"
