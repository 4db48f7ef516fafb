# Shared by every stage: the checked study, its runs, and the paths of everything derived.
import json
import os
import re
import shlex
import subprocess
import sys

from snakemake.logging import logger
from snakemake.settings.types import DeploymentMethod

from sagan.config import config_digest
from sagan.cost.plan import check_profile_device
from sagan.errors import ConfigError, DataError
from sagan.io import read_yaml
from sagan.report.claim_specs import claims_from_study, claims_to_dict, load_claims
from sagan.report.partial import needs_partial_report
from sagan.schema import check_schema
from sagan import gpu_pool, layout, run_folder
from sagan.report import outputs
from sagan.study import (
    TRAINED_EXTRACTORS,
    attention_map_runs,
    check_study_claims,
    check_study_files,
    check_study_fits,
    code_changes,
    cost_part,
    data_key,
    dataset_source,
    derived_paths,
    parse_study,
    entry_extractor,
    extractor_epochs,
    extractor_key,
    run_config,
    run_dir,
    runs,
    shared_runs,
    study_facts,
    validate_study,
)
from sagan.study_checks import check_plain_study
from sagan.study.overrides import retype_overrides

DESIGN_CLAIMS = Path(workflow.basedir, "config/claims.yaml")
# Every rule's software (snakemake --use-conda); relative to workflow/rules/, where rules live.
ENV = "../envs/sagan.yaml"


class Invocation:
    """How a program is called on this machine (interpreter path, GPU pool, device): rules
    take it as a param so the shell command names no global (snakemake --lint), but as a
    non-builtin value Snakemake leaves it out of the params rerun trigger, so moving a study
    from CPU to GPUs or to another interpreter retrains nothing.

    It is a command prefix of several words, so a rule's shell line takes it unquoted
    ({params.sagan}): each word is shell-quoted here instead (`:q` would make it one word,
    and a list, which `:q` quotes word by word, would join the params rerun trigger).
    """

    def __init__(self, *words: str):
        self.words = words

    def __str__(self) -> str:
        return shlex.join(self.words)


# Under --use-conda the rule's environment provides python; else this very interpreter
# (works without an activated environment).
_CONDA = DeploymentMethod.CONDA in workflow.deployment_settings.deployment_method
PYTHON = ("python",) if _CONDA else (sys.executable,)
SAGAN = Invocation(*PYTHON, "-m", "sagan.cli")


# Each --configfile as `sagan validate` reads it, before anything walks the study:
# Snakemake's own loader already took it, keeping the last of two equal keys, every alias
# (which a walk would expand) and running any YTE template in it (too late to stop that,
# not to stop the study).
for _study_file in workflow.config_settings.configfiles:
    try:
        check_plain_study(read_yaml(_study_file), _study_file)
    except ConfigError as err:
        raise WorkflowError(f"invalid study config: {err}") from None

# Only --config values are re-typed (overwrite_config also holds the --configfile contents,
# whose quoted strings must stay strings, as `sagan validate` reads them).
retype_overrides(config, dict(workflow.config_settings.config or {}))


def _gpus():
    """GPUs given by `--resources gpu=N` (0 without): every job that runs a model then takes
    a slot of the machine-wide pool (sagan.gpu_pool), which sets CUDA_VISIBLE_DEVICES.
    """
    resources = workflow.global_resources
    gpu = resources.get("gpu") if "gpu" in resources else 0
    return int(getattr(gpu, "value", gpu) or 0)


GPUS = _gpus()
MODEL_DEVICE = Invocation("cuda" if GPUS else "cpu")
TRAIN_DEVICE = MODEL_DEVICE

# A dry run reads no file, so it plans a study whose supplied files (Inception's weights) are
# not there yet, with a warning; a real run stops here.
DRY_RUN = workflow.output_settings.dryrun

# Before any job: the structure (schema), then names, options and values (one line each,
# naming the key and the allowed values): the checks of `sagan validate`.
try:
    check_schema(config)  # the schema the sagan package ships
    # the study, parsed once: every rule and input function reads its attributes
    THE_STUDY = parse_study(config)
    validate_study(THE_STUDY, device=str(TRAIN_DEVICE), force=True)  # memory: below
except ConfigError as err:
    raise WorkflowError(f"invalid study config: {err}") from None

# Then what this machine must hold: each run's memory, and the files no job makes.
for check in (
    lambda: check_study_fits(THE_STUDY, str(TRAIN_DEVICE)),
    lambda: check_study_files(THE_STUDY),
    lambda: check_profile_device(THE_STUDY, str(TRAIN_DEVICE)),
):
    try:
        check()
    except (ConfigError, DataError) as err:
        if not DRY_RUN:
            raise WorkflowError(f"invalid study config: {err}") from None
        logger.warning(f"dry run only, a real run stops here: {err}")

JOBS_PER_GPU = THE_STUDY.jobs_per_gpu
# A cluster (slurm, kubernetes: --jobs sets nodes) gives each job a GPU of its own, and a
# cluster job runs as `snakemake --mode remote` on its node: no local pool there (its locks
# would be shared by every node of the cluster), one GPU per job.
LOCAL_POOL = bool(GPUS) and workflow.resource_settings.nodes is None
LOCAL_POOL = LOCAL_POOL and not workflow.remote_exec
# The machine-wide pool folder: gpu_pool_dir, else $SAGAN_GPU_POOL_DIR, else /tmp/...
POOL_DIR = Path(THE_STUDY.gpu_pool_dir or gpu_pool.default_pool_dir()).absolute()


def pooled(whole_gpu=False):
    """The pool's wrapper before a model job's command ('' without a local pool)."""
    if not LOCAL_POOL:
        return Invocation()
    words = ["-m", "sagan.gpu_pool", "--gpus", str(GPUS)]
    words += ["--jobs-per-gpu", str(JOBS_PER_GPU), "--dir", str(POOL_DIR)]
    whole = ["--whole-gpu"] if whole_gpu else []
    return Invocation(*PYTHON, *words, *whole, "--")


def gpu_slots(whole_gpu=False):
    """A model job's `gpu` resource: the slots it holds (a whole GPU: all K of one)."""
    if not GPUS:
        return 0
    return JOBS_PER_GPU if whole_gpu and LOCAL_POOL else 1


GPU_POOL = pooled()
if LOCAL_POOL:
    # N GPUs x K jobs each: the scheduler runs up to N x K model jobs, the pool places them
    workflow.register_resource("gpu", GPUS * JOBS_PER_GPU)
    logger.info(
        f"GPU pool: {GPUS * JOBS_PER_GPU} slots, {JOBS_PER_GPU} jobs on each of {GPUS}"
        f" GPUs, in {POOL_DIR}"
    )
    try:
        gpu_pool.pool_devices(GPUS)
        if not DRY_RUN:
            gpu_pool.check_folder(POOL_DIR)
    except ConfigError as err:
        if not DRY_RUN:
            raise WorkflowError(f"GPU pool: {err}") from None
        logger.warning(f"dry run only, a real run stops here: {err}")
elif JOBS_PER_GPU > 1 and GPUS:
    logger.warning(
        "jobs_per_gpu applies to a local pool only: on a cluster, one GPU per job"
    )

try:  # the design's claims with the study's own over them: what the report judges
    _design = load_claims(DESIGN_CLAIMS)
    check_study_claims(THE_STUDY, _design)  # as `sagan validate` does
    CLAIMS = claims_to_dict(claims_from_study(THE_STUDY.claims, _design))
except ConfigError as err:
    raise WorkflowError(f"invalid study config: {err}") from None

STUDY = THE_STUDY.name
RUNS = runs(THE_STUDY)


# Seconds of work each: on a cluster they run in the submitting process, not as jobs.
localrules:
    all,
    study_document,
    run_config,
    share_run,
    cost_study,
    study_claims,
    study_facts,


# Every derived file is keyed by what defines it (sagan.layout): data by source, options,
# resolution and held-out size; runs by arm and a hash of their configuration (their folders
# and files: sagan.run_folder).
DATA = layout.DATA
EXTRACTOR = layout.EXTRACTOR
REFERENCE = layout.REFERENCE
RUN_DIR = run_folder.FOLDER
STUDY_RESULTS = layout.STUDY_RESULTS.format(study=STUDY)
STUDY_REPORTS = layout.STUDY_REPORTS.format(study=STUDY)
SUMMARY = f"{STUDY_RESULTS}/{outputs.SUMMARY}"
STUDY_DOCUMENT = f"{STUDY_RESULTS}/{outputs.STUDY_DOCUMENT}"

# Each run by its output folder, and the settings behind each data and extractor key.
RUN_DIRS = {run: run_dir(THE_STUDY, run) for run in RUNS}
RUN_CONFIGS = {d: run_config(THE_STUDY, run) for run, d in RUN_DIRS.items()}
# Each run's id (dataset/arm/n<size>/s<seed>) by its folder, for `sagan run-config`
RUN_OF_DIR = {d: run.path for run, d in RUN_DIRS.items()}
# A run's config is written once and never again: its folder is keyed by that config, so it
# cannot change. Only folders without one are a rule's output (rule run_config); a written
# one is a plain input, so neither a changed study nor an edit of that rule reruns a run.
NEW_RUN_DIRS = [
    d for d in RUN_DIRS.values() if not run_folder.path(d, run_folder.CONFIG).exists()
]
# Runs that differ from an earlier one only by their labels (a sweep's baseline point, one
# arm in two dataset entries): trained and scored once, copied by the share_run rule
SHARED_DIRS = {
    RUN_DIRS[run]: RUN_DIRS[first] for run, first in shared_runs(THE_STUDY).items()
}
# The runs whose attention maps the report draws
ATTENTION_RUN_DIRS = [RUN_DIRS[run] for run in attention_map_runs(THE_STUDY)]
# What the report's figures are chosen from (sagan.report.figure_plan): the profile rule
# always runs
FACTS = study_facts(THE_STUDY)
DATASETS = {data_key(THE_STUDY, d): d for d in THE_STUDY.datasets}
EXTRACTORS = {
    (data_key(THE_STUDY, d), extractor_key(THE_STUDY, d)): d for d in THE_STUDY.datasets
}
for message in code_changes(THE_STUDY, RUN_DIRS, RUN_CONFIGS):
    logger.warning(message)


wildcard_constraints:
    study=r"[A-Za-z0-9_-][A-Za-z0-9_.-]*",
    dataset=r"[A-Za-z0-9_-]+",
    arm=r"[A-Za-z0-9_.-]+-[0-9a-f]{8}",
    data=r"[A-Za-z0-9_-]+-r\d+-[0-9a-f]{8}",
    size=r"\d+|full",
    seed=r"\d+",
    iterations=r"\d+",
    extractor=r"[A-Za-z0-9_-]+",
    split=r"heldout|train",
    samples=r"\d+",


def paths_of(dataset):
    return derived_paths(THE_STUDY, dataset)


def data_file(dataset):
    return paths_of(dataset)["data"]


def data_entry(w):
    """The study's dataset entry behind a data key."""
    return THE_STUDY.datasets[DATASETS[w.data]]


def extractor_file(dataset):
    """The domain extractor is a workflow output; others (Inception) are files you supply."""
    path = paths_of(dataset)["extractor"]
    if entry_extractor(THE_STUDY, dataset) not in TRAINED_EXTRACTORS:
        return path if os.path.exists(path) or not DRY_RUN else []
    return path


def reference_file(dataset, split="heldout"):
    return paths_of(dataset)["reference" if split == "heldout" else "train_reference"]


def floor_files(dataset):
    """The entry's noise floor and extractor checks, keyed by its data, its extractor and
    the sample count its runs are scored at (rule noise_floor)."""
    run = next(r for r in RUNS if r.dataset == dataset)
    keys = {
        "data": data_key(THE_STUDY, dataset),
        "extractor": extractor_key(THE_STUDY, dataset),
        "samples": RUN_CONFIGS[RUN_DIRS[run]].eval.num_samples,
    }
    return {
        "floor": layout.NOISE_FLOOR.format(**keys),
        "checks": layout.EXTRACTOR_CHECKS.format(**keys),
    }


def run_file(name):
    """A file of the run's output folder, as a wildcard pattern."""
    return run_folder.pattern(name)


def runs_file(name, run_dirs=None):
    """The file ``name`` of every run (or of ``run_dirs``)."""
    return [str(run_folder.path(d, name)) for d in run_dirs or RUN_DIRS.values()]


# Every run's finished files, wanted by `rule all` itself. Snakemake reruns a job for a missing
# file only when a job that has to run wants it, so a file deleted from a finished study (its
# summary up to date) would stay missing with "Nothing to be done".
FINISHED_FILES = [f for name in run_folder.FINISHED for f in runs_file(name)]


def this_run(w):
    """The resolved config of the run a job's wildcards name."""
    return RUN_CONFIGS[RUN_DIR.format(**w)]


def during_inputs(w):
    """The extractor and reference features a run scoring FD while training reads (on by
    default: sagan.study.run_during); a supplied extractor's file as extractor_file says.
    """
    cfg = this_run(w)
    if not cfg.eval.during:
        return []
    extractor = extractor_file(cfg.data.dataset)  # [] in a dry run without the file
    return [*([extractor] if extractor else []), reference_file(cfg.data.dataset)]


def dataset_options(w):
    """The dataset's builder options as JSON (a param: a change re-prepares)."""
    return json.dumps(data_entry(w).options)


def write_yaml(data, path, log):
    """Atomically, for a run: block; the log says what was written."""
    from sagan.io import atomic_write_text

    atomic_write_text(Path(path), yaml.safe_dump(data, sort_keys=False))
    Path(log).write_text(f"wrote {path}\n")


# Partial failure: once the workflow has ended under --keep-going with a run that failed,
# `sagan partial-report` summarises and draws what finished (sagan.report.partial). The
# failed jobs stay failed: Snakemake exits non-zero and reruns them next time.
def partial_report():
    if not workflow.execution_settings.keep_going:
        return  # without --keep-going most runs never started: nothing to summarise yet
    if not needs_partial_report(RUN_DIRS.values()):
        return  # every run has its result: the failure was elsewhere, the rules build it
    log = Path(f"results/logs/{STUDY}/partial_report.log")
    log.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "sagan.cli", "partial-report", *RUN_DIRS.values()]
    cmd += ["--summary", SUMMARY, "--reports", STUDY_REPORTS]
    cmd += ["--noise-floor", STUDY_FLOOR]
    with log.open("w") as out:
        if subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT).returncode:
            logger.error(f"No partial report ({log}); by hand: {shlex.join(cmd)}")
            return
    logger.warning(
        f"Some runs failed: {SUMMARY} has them as rows with their reason, and the tables"
        f" and figures in {STUDY_REPORTS} show the runs that finished. Fix the cause and"
        " rerun the same command: finished runs are kept, failed ones rerun."
    )


# A narrower target (summary.csv, a figure) does not notice them: say so where it can be seen
_missing = run_folder.missing_from_begun(FINISHED_FILES)
if _missing and os.path.isfile(SUMMARY):
    logger.warning(
        f"{len(_missing)} finished file(s) of this study's runs are missing, first"
        f" {_missing[0]}: `snakemake` (the default target) rebuilds them, a finished run from"
        " its state without training again"
    )
