# Shared by every stage: the checked study, its runs, and the paths of everything derived.
import json
import os
import shlex
import sys

from snakemake.logging import logger
from snakemake.settings.types import DeploymentMethod

from sagan.errors import ConfigError, DataError
from sagan.schema import check_schema
from sagan.study import (
    TRAINED_EXTRACTORS,
    Run,
    check_study_files,
    dataset_study,
    run_config,
    runs,
    validate_study,
)

SCHEMA = Path(workflow.basedir, "workflow/schemas/config.schema.yaml")
# Every rule's software (snakemake --use-conda); relative to workflow/rules/, where rules live.
ENV = "../envs/sagan.yaml"


class Invocation:
    """How a program is called on this machine (interpreter path, GPU pool, device): rules
    take it as a param so the shell command names no global (snakemake --lint), but as a
    non-builtin value Snakemake leaves it out of the params rerun trigger, so moving a study
    from CPU to GPUs or to another interpreter retrains nothing.
    """

    def __init__(self, text: str):
        self.text = text

    def __str__(self) -> str:
        return self.text


# Under --use-conda the rule's environment provides python; else this very interpreter
# (works without an activated environment).
_CONDA = DeploymentMethod.CONDA in workflow.deployment_settings.deployment_method
PYTHON = Invocation("python" if _CONDA else f'"{sys.executable}"')
SAGAN = Invocation(f"{PYTHON} -m sagan.cli")


def _typed(value):
    """--config reads values inside lists and mappings as text (sizes=[1000,full] gives
    ['1000', 'full']): read each as YAML would in a config file."""
    if isinstance(value, dict):
        return {k: _typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed(v) for v in value]
    if isinstance(value, str):
        loaded = yaml.safe_load(value)
        return loaded if isinstance(loaded, int | float) else value
    return value


def _retype_overrides(target, overrides):
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _retype_overrides(target[key], value)
        else:
            target[key] = _typed(value)


_retype_overrides(config, workflow.config_settings.overwrite_config or {})


def _gpus():
    """GPUs given by `--resources gpu=N` (0 without): training then takes one each from a
    lock-based pool (sagan.gpu_pool), which sets CUDA_VISIBLE_DEVICES before torch starts.
    """
    resources = workflow.global_resources
    gpu = resources.get("gpu") if "gpu" in resources else 0
    return int(getattr(gpu, "value", gpu) or 0)


GPUS = _gpus()
# A cluster job (slurm, kubernetes) runs as `snakemake --mode remote` on a node that gave it
# its own GPU: no local pool there (its locks would be shared by every node of the cluster).
GPU_POOL = Invocation(
    f"{PYTHON} -m sagan.gpu_pool --slots {GPUS} --dir .snakemake/gpu_pool --"
    if GPUS and not workflow.remote_exec
    else ""
)
TRAIN_DEVICE = Invocation("cuda" if GPUS else "cpu")

# A dry run reads no file, so it plans a study whose supplied files (Inception's weights) are
# not there yet, with a warning; a real run stops here.
DRY_RUN = workflow.output_settings.dryrun

# Before any job: the structure (schema), then names, options and values (one line each,
# naming the key and the allowed values), then the files no job makes.
try:
    check_schema(config, SCHEMA)
    validate_study(config, device=str(TRAIN_DEVICE))
    check_study_files(config)
except DataError as err:
    if not DRY_RUN:
        raise WorkflowError(f"invalid study config: {err}") from None
    logger.warning(f"dry run only, a real run stops here: {err}")
except ConfigError as err:
    raise WorkflowError(f"invalid study config: {err}") from None

STUDY = config["study"]
RUNS = runs(config)


# Seconds of work each: on a cluster they run in the submitting process, not as jobs.
localrules:
    all,
    run_config,
    cost_study,


DATA = "results/data/{dataset}/r{resolution}/images.pt"
EXTRACTOR = "results/extractors/{dataset}/r{resolution}/domain.pt"
REFERENCE = "results/features/{dataset}/r{resolution}/{extractor}/{split}.pt"
RUN_DIR = "results/runs/{study}/{dataset}/{variant}/n{size}/s{seed}"
SUMMARY = "results/summary.csv"


wildcard_constraints:
    study=r"[A-Za-z0-9_-][A-Za-z0-9_.-]*",
    dataset=r"[A-Za-z0-9_-]+",
    variant=r"[A-Za-z0-9_-]+",
    resolution=r"\d+",
    size=r"\d+|full",
    seed=r"\d+",
    extractor=r"[A-Za-z0-9_-]+",
    split=r"heldout|train",


def resolution(dataset):
    return config["datasets"][dataset]["resolution"]


def data_file(dataset):
    return DATA.format(dataset=dataset, resolution=resolution(dataset))


def evaluation_of(dataset):
    """The dataset's evaluation section (its own keys over the study's)."""
    return dataset_study(config, dataset).get("evaluation") or {}


def extractor_epochs(dataset):
    """Training epochs of the dataset's domain extractor (its own, else the study's)."""
    own = config["datasets"][dataset].get("extractor") or {}
    return own.get("epochs", config.get("extractor", {}).get("epochs", 15))


def extractor_file(dataset):
    """The domain extractor is a workflow output; others (Inception) are files you supply."""
    evaluation = evaluation_of(dataset)
    if evaluation.get("extractor", "domain") not in TRAINED_EXTRACTORS:
        path = evaluation["extractor_path"]
        return path if os.path.exists(path) or not DRY_RUN else []
    return EXTRACTOR.format(dataset=dataset, resolution=resolution(dataset))


def reference_file(dataset, split="heldout"):
    extractor = evaluation_of(dataset).get("extractor", "domain")
    return REFERENCE.format(
        dataset=dataset,
        resolution=resolution(dataset),
        extractor=extractor,
        split=split,
    )


def run_file(name):
    """A file of the run directory, as a wildcard pattern."""
    return os.path.join(RUN_DIR, name)


def dataset_options(w):
    """The dataset's builder options, shell-quoted JSON (a param: a change re-prepares)."""
    return shlex.quote(json.dumps(config["datasets"][w.dataset].get("options") or {}))


def cost_study():
    """The part of the study that decides cost (a param: a change re-runs the profile)."""
    keys = ("study", "plugins", "datasets", "variants", "model", "profile")
    part = {k: config[k] for k in keys if k in config}
    part["train"] = {"batch_size": config.get("train", {}).get("batch_size", 64)}
    return part


def write_yaml(data, path, log):
    """Atomically, for a run: block; the log says what was written."""
    from sagan.io import atomic_write_text

    atomic_write_text(Path(path), yaml.safe_dump(data, sort_keys=False))
    Path(log).write_text(f"wrote {path}\n")


def run_of(w):
    size = w.size if w.size == "full" else int(w.size)
    return Run(w.dataset, w.variant, size, int(w.seed))


def run_dir(run):
    return f"results/runs/{STUDY}/{run.path}"


def resolved_config(w):
    """The run's full config as a plain dict (a param: a change re-runs the run)."""
    from sagan.config import to_dict

    paths = {
        "data": data_file(w.dataset),
        "extractor": extractor_file(w.dataset),
        "reference": reference_file(w.dataset),
        "train_reference": reference_file(w.dataset, "train"),
    }
    return to_dict(run_config(config, run_of(w), paths))
