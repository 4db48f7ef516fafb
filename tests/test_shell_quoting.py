"""Nothing from a study file reaches a shell unquoted: paths with spaces, `;`, `$(...)`,
quotes and non-ASCII letters come through every job's command as one intact argument, and a
YTE-templated study (Python that Snakemake runs as it reads the file) is refused."""

import ast
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from sagan.study import derived_paths
from sagan.study.model import parse_study
from tests.test_inception import StandInInception
from tests.test_workflow import MODEL_RULES, REPO, TINY, planned_jobs, snakemake

# The stand-in is written as the real file was made; torch 2.14 deprecates TorchScript.
pytestmark = pytest.mark.filterwarnings(r"ignore:`torch\.jit\.\w+` is deprecated:FutureWarning")

# Unquoted, the shell would end the command at `;`, run `touch PWNED` and choke on a quote.
HOSTILE = "a b;$(touch PWNED)'\"é"
# Unquoted, bash would run `touch PWNED` as it expands the word (the job's `set -e` stops
# at a failed command before `;`, and an unmatched quote stops everything), then split it.
SUBSTITUTION = "a b$(touch PWNED)é"
# Params that are a command prefix of several words (common.smk's Invocation quotes each
# word as it builds them) and the job's core count: the only fields a shell line leaves bare.
BARE_FIELDS = {"params.sagan", "params.pool", "threads"}


def hostile_study(folder: Path) -> dict:
    """Two datasets whose paths sit under ``folder``: digits scored by a supplied Inception
    file, an imagefolder dataset read from a root there; the GPU pool's folder there too."""
    return {
        **TINY,
        "study": "hostile",
        "datasets": {
            "digits": {
                **TINY["datasets"]["digits"],
                "evaluation": {
                    "extractor": "inception",
                    "extractor_path": str(folder / "inception.pt"),
                },
            },
            "photos": {
                "dataset": "imagefolder",
                "options": {"root": str(folder / "photos")},
                "resolution": 16,
                "heldout": 4,
            },
        },
        "variants": {"dcgan": {}},
        "sizes": ["full"],
        "gpu_pool_dir": str(folder / "pool"),
    }


def strings(arg: str) -> list[str]:
    """The argument, or every string inside it where it is JSON (run and dataset options)."""
    if not arg.startswith("{"):
        return [arg]
    found, stack = [], [json.loads(arg)]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str):
            found.append(value)
    return found


def after(args: list[str], flag: str) -> str:
    return args[args.index(flag) + 1]


def test_study_paths_reach_every_job_command_as_one_intact_argument(tmp_path):
    """A dry run printing every command, GPUs faked so the pool's prefix is there too."""
    folder = tmp_path / HOSTILE
    (folder / "photos").mkdir(parents=True)
    (folder / "inception.pt").touch()  # present, so jobs name it (a dry run loads nothing)
    study = hostile_study(folder)
    paths = {str(folder / name) for name in ("inception.pt", "photos", "pool")}
    work = tmp_path / "work"
    work.mkdir()
    env = {**os.environ, "SAGAN_GPU_COUNT": "1"}
    env.pop("SAGAN_GPU_POOL_DIR", None)
    plan = snakemake(work, study, "-n", "-p", "--resources", "gpu=1", env=env)
    assert plan.returncode == 0, plan.stderr[-3000:]
    jobs = [job for job in planned_jobs(plan.stdout) if job["shell"] not in ("", "None")]
    named = set()
    for job in jobs:
        args = shlex.split(job["shell"])  # an unmatched quote raises here
        for arg in args:
            for value in strings(arg):
                if "PWNED" in value:
                    assert value in paths, (job["rule"], value, job["shell"])
                    named.add(job["rule"])
        if job["rule"] in MODEL_RULES:
            assert after(args, "--dir") == str(folder / "pool"), job["shell"]
        if job["rule"] in ("reference_features", "noise_floor") and "digits" in job["shell"]:
            assert after(args, "--extractor-path") == str(folder / "inception.pt")
        if job["rule"] == "prepare_dataset" and "imagefolder" in args:
            assert json.loads(after(args, "--options")) == {"root": str(folder / "photos")}
    assert named >= {"prepare_dataset", "reference_features", "noise_floor"}
    # a run's config (which holds the paths) crosses the shell as a file: the study document
    assert "run_config" not in named and any(j["rule"] == "run_config" for j in jobs)
    assert named >= MODEL_RULES
    assert not list(tmp_path.rglob("PWNED")) and not (REPO / "PWNED").exists()


@pytest.mark.slow
def test_a_supplied_extractor_under_a_hostile_path_makes_reference_features(tmp_path):
    """For real (~30 s): the digits data, then their reference features from a stand-in
    Inception file at a path that holds `$(touch PWNED)`, which no shell runs."""
    folder = tmp_path / SUBSTITUTION
    folder.mkdir()
    torch.manual_seed(0)
    torch.jit.save(torch.jit.script(StandInInception().eval()), str(folder / "inception.pt"))
    study = hostile_study(folder)
    study["datasets"] = {"digits": study["datasets"]["digits"]}
    del study["gpu_pool_dir"]
    work = tmp_path / "work"
    work.mkdir()
    reference = derived_paths(parse_study(study), "digits")["reference"]
    done = snakemake(work, study, "-p", reference)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert (work / reference).is_file()
    assert not list(tmp_path.rglob("PWNED")) and not (REPO / "PWNED").exists()


def shell_lines() -> dict[str, str]:
    """Each rule's shell command as written, the implicitly joined strings after `shell:`."""
    found = {}
    for smk in sorted((REPO / "workflow/rules").glob("*.smk")):
        rule, text = None, smk.read_text().splitlines()
        for i, line in enumerate(text):
            if m := re.match(r"rule (\w+):", line):
                rule = m.group(1)
            if line.strip() == "shell:":
                parts = []
                for part in text[i + 1 :]:
                    if not part.strip().startswith('"'):
                        break
                    parts.append(part.strip())
                found[rule] = ast.literal_eval(" ".join(parts))
    return found


def test_every_field_of_every_shell_line_is_quoted():
    """Fast, and covers rules a small study does not plan (share_run): every field takes
    Snakemake's :q (a list: each element quoted, joined by spaces) but a command prefix."""
    lines = shell_lines()
    assert {"train", "evaluate", "prepare_dataset", "share_run", "floor_tables"} <= set(lines)
    for rule, line in lines.items():
        assert "$(" not in line and "`" not in line, (rule, line)
        for field in re.findall(r"(?<!\{)\{([^{}]+)\}", line):
            assert field.endswith(":q") or field in BARE_FIELDS, (rule, field)


YTE_STUDY = """\
__use_yte__: true
study: templated
datasets:
  digits: {{resolution: 16, heldout: 200}}
variants:
  dcgan: {{}}
sizes: [full]
seeds: ?[0 if __import__("pathlib").Path({marker!r}).write_text("ran") else 0]
"""


def test_a_yte_study_is_refused_by_validate_and_by_the_workflow(tmp_path):
    """`sagan validate` reads the file with yaml.safe_load and runs nothing; Snakemake reads
    a --configfile itself and runs its YTE expressions before the Snakefile can look, so the
    workflow can only stop afterwards, saying the file must be trusted like code."""
    marker = tmp_path / "ran"
    study = tmp_path / "templated.yaml"
    study.write_text(YTE_STUDY.format(marker=str(marker)))
    validate = [sys.executable, "-m", "sagan.cli", "validate", str(study)]
    refused = subprocess.run(validate, capture_output=True, text=True, timeout=300)
    assert refused.returncode != 0 and "__use_yte__: a study is plain YAML" in refused.stderr
    assert not marker.exists()

    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile")]
    cmd += ["--directory", str(tmp_path), "--configfile", str(study), "--cores", "1", "-n"]
    stopped = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    out = stopped.stdout + stopped.stderr
    assert stopped.returncode != 0
    assert "__use_yte__: a study is plain YAML" in out and "trust it like code" in out, out
    assert "Job stats" not in out  # stopped before planning any job
    assert marker.read_text() == "ran"  # what the note warns of: Snakemake ran it already
