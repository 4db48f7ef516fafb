# Shared by every stage: the checked study, its runs, and the paths of everything derived.
import sys

from sagan.errors import ConfigError, DataError
from sagan.schema import check_schema
from sagan.study import TRAINED_EXTRACTORS, Run, run_config, runs, validate_study

SCHEMA = Path(workflow.basedir, "workflow/schemas/config.schema.yaml")
# The sagan CLI of this very interpreter (works without an activated environment).
SAGAN = f'"{sys.executable}" -m sagan.cli'
PYTHON = f'"{sys.executable}"'


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
GPU_POOL = (
    f"{PYTHON} -m sagan.gpu_pool --slots {GPUS} --dir .snakemake/gpu_pool --"
    if GPUS and not workflow.remote_exec
    else ""
)
TRAIN_DEVICE = "cuda" if GPUS else "cpu"

# Before any job: the structure (schema), then names, options and values (one line each,
# naming the key and the allowed values).
try:
    check_schema(config, SCHEMA)
    validate_study(config, check_files=True, device=TRAIN_DEVICE)
except (ConfigError, DataError) as err:
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


def extractor_file(dataset):
    """The domain extractor is a workflow output; others (Inception) are files you supply."""
    evaluation = config.get("evaluation", {})
    if evaluation.get("extractor", "domain") not in TRAINED_EXTRACTORS:
        return evaluation["extractor_path"]
    return EXTRACTOR.format(dataset=dataset, resolution=resolution(dataset))


def reference_file(dataset, split="heldout"):
    extractor = config.get("evaluation", {}).get("extractor", "domain")
    return REFERENCE.format(
        dataset=dataset,
        resolution=resolution(dataset),
        extractor=extractor,
        split=split,
    )


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
