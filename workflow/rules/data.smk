rule prepare_dataset:
    output:
        DATA,
    log:
        "results/logs/prepare/{data}.log",
    # every run of the dataset waits on it: ahead of the queue of training jobs
    priority: 100
    conda:
        ENV
    params:
        source=lambda w: dataset_source(THE_STUDY, DATASETS[w.data]),
        resolution=lambda w: data_entry(w).resolution,
        heldout=lambda w: data_entry(w).heldout,
        options=dataset_options,
        sagan=SAGAN,
    shell:
        "{params.sagan} prepare {params.source:q} --resolution {params.resolution:q}"
        " --heldout {params.heldout:q} --options {params.options:q} --out {output:q}"
        " > {log:q} 2>&1"
