# SAGAN Bench: datasets x variants x sizes x seeds -> train -> evaluate -> tables, figures,
# executed notebooks. `snakemake --cores all` with no config runs the embedded default study;
# `--configfile my_study.yaml` runs another (it replaces the default, it is not merged into it).
from pathlib import Path

import yaml
from snakemake.utils import min_version, validate

min_version("9.0")


if "study" not in config:  # no --configfile: the embedded default, with any --config on top

    config.update({**yaml.safe_load(Path(workflow.basedir, "config/default.yaml").read_text()), **config})


validate(config, "workflow/schemas/config.schema.yaml")


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/report.smk"


rule all:
    input:
        SUMMARY,
        FIGURES,
        REPORTS,
    default_target: True
