# SAGAN Bench: datasets x variants x sizes x seeds -> train -> evaluate -> tables, figures,
# executed notebooks. `snakemake --cores all` with no config runs the embedded default study;
# `--configfile my_study.yaml` runs another (it replaces the default, it is not merged into it).
from pathlib import Path

import yaml
from snakemake.utils import min_version, update_config

min_version("9.0")


DEFAULT_STUDY = Path(workflow.basedir, "config/default.yaml")

# No --configfile given: the embedded default study, with any --config values on top,
# merged key by key as Snakemake merges them over a --configfile (train={iterations: 30}
# changes one key of the section, not the whole section).
if "study" not in config:
    _study = yaml.safe_load(DEFAULT_STUDY.read_text())
    update_config(_study, dict(config))
    config.update(_study)


# The front page of `snakemake --report reports/report.html`.
report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/cost.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        SUMMARY,
        rules.report.input,
        # and every result the report is drawn from, each run's among them: a job is rerun
        # for a missing file only when a job that has to run wants it (sagan.run_folder.FINISHED)
        rules.report_build.input,
        expand(SLOPES, study=STUDY),
        FINISHED_FILES,
