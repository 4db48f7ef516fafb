import json
import shlex


def dataset_options(w):
    """The dataset's builder options, shell-quoted JSON (a param: a change re-prepares)."""
    return shlex.quote(json.dumps(config["datasets"][w.dataset].get("options") or {}))


rule prepare_dataset:
    output:
        DATA,
    log:
        "results/logs/prepare/{dataset}_r{resolution}.log",
    params:
        heldout=lambda w: config["datasets"][w.dataset]["heldout"],
        options=dataset_options,
    shell:
        "{SAGAN} prepare {wildcards.dataset} --resolution {wildcards.resolution}"
        " --heldout {params.heldout} --options {params.options} --out {output} > {log} 2>&1"
