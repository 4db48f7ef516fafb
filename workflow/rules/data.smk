rule prepare_dataset:
    output:
        DATA,
    log:
        "results/logs/prepare/{dataset}_r{resolution}.log",
    params:
        heldout=lambda w: config["datasets"][w.dataset]["heldout"],
    shell:
        "{SAGAN} prepare {wildcards.dataset} --resolution {wildcards.resolution}"
        " --heldout {params.heldout} --out {output} > {log} 2>&1"
