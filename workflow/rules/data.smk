rule prepare_dataset:
    output:
        DATA,
    params:
        heldout=lambda w: config["datasets"][w.dataset]["heldout"],
    log:
        "results/logs/prepare/{dataset}_r{resolution}.log",
    shell:
        "{SAGAN} prepare {wildcards.dataset} --resolution {wildcards.resolution}"
        " --heldout {params.heldout} --out {output} > {log} 2>&1"
