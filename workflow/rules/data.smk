rule prepare_dataset:
    output:
        DATA,
    log:
        "results/logs/prepare/{dataset}_r{resolution}.log",
    # every run of the dataset waits on it: ahead of the queue of training jobs
    priority: 100
    conda:
        ENV
    params:
        heldout=lambda w: config["datasets"][w.dataset]["heldout"],
        options=dataset_options,
        sagan=SAGAN,
    shell:
        "{params.sagan} prepare {wildcards.dataset} --resolution {wildcards.resolution}"
        " --heldout {params.heldout} --options {params.options} --out {output} > {log} 2>&1"
