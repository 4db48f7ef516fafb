"""The workflow at scale, planned and never run: the paper study's dry run, cutting it down
from the command line, and a DAG in which each run's evaluation waits only for its own
training (not for unrelated runs)."""

import re
import subprocess
import sys
from collections import Counter

import yaml

from sagan.forecast.estimate import job_counts
from sagan.study import runs
from sagan.study.model import parse_study
from tests.test_workflow import REPO, TINY, snakemake

PAPER = yaml.safe_load((REPO / "config/paper.yaml").read_text())


def planned(out: str) -> Counter:
    """Job counts from the `Job stats:` table that ends a dry run."""
    table = out[out.index("Job stats:") :]
    return Counter({m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M)})


def dry_run_paper(tmp_path, *args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile")]
    cmd += [
        "--directory",
        str(tmp_path),
        "-n",
        *args,
        "--configfile",
        str(REPO / "config/paper.yaml"),
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


def test_paper_study_dry_runs_without_its_data_or_weights(tmp_path):
    done = dry_run_paper(tmp_path)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-3000:]
    jobs = planned(out)
    images, video, lsun256 = 375, 9, 6
    assert (
        jobs["train"]
        == jobs["evaluate"]
        == len(runs(parse_study(PAPER)))
        == images + video + lsun256
    )
    assert jobs["prepare_dataset"] == len(PAPER["datasets"])
    # the forecast's counts of every job (sagan estimate --all-jobs) are the workflow's own
    counted = {rule: n for rule, n in job_counts(parse_study(PAPER)).items() if n}
    assert counted == {rule: n for rule, n in jobs.items() if rule not in ("all", "total")}
    # a dry run reads no file: the missing Inception weights are a warning, named with the fix
    assert "dry run only, a real run stops here: Inception weights" in out
    assert not (tmp_path / "results").exists()


def test_paper_study_has_the_issues_grid():
    assert PAPER["datasets"]["cifar10"]["resolution"] == 32
    assert PAPER["datasets"]["celeba"]["resolution"] == 64
    assert PAPER["sizes"] == [1000, 5000, 10000, 25000, "full"] and len(PAPER["seeds"]) == 3
    assert PAPER["train"]["iterations"] == 100_000
    assert PAPER["evaluation"]["extractor"] == "inception"
    assert PAPER["evaluation"]["num_samples"] == 10_000
    assert max(PAPER["profile"]["scaling"]["resolutions"]) == 256


def test_paper_study_is_cut_down_from_the_command_line(tmp_path):
    done = dry_run_paper(tmp_path, "--config", "seeds=[0]", "sizes=[1000,full]")
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-3000:]
    cut = {**PAPER, "seeds": [0], "sizes": [1000, "full"]}
    assert (
        planned(out)["train"] == len(runs(parse_study(cut))) == 5 * 5 * 2 + 3 + 2
    )  # video, lsun256: own sizes


def ancestors(edges: dict[str, set[str]], node: str) -> set[str]:
    seen, todo = set(), [node]
    while todo:
        for parent in edges.get(todo.pop(), ()):
            if parent not in seen:
                seen.add(parent)
                todo.append(parent)
    return seen


def test_an_evaluation_waits_only_for_its_own_run(tmp_path):
    done = snakemake(tmp_path, TINY, "--dag")
    assert done.returncode == 0, done.stderr[-3000:]
    rule = dict(re.findall(r'^\s*(\d+)\[label = "(\w+)', done.stdout, re.M))
    edges: dict[str, set[str]] = {}
    for parent, child in re.findall(r"^\s*(\d+) -> (\d+)", done.stdout, re.M):
        edges.setdefault(child, set()).add(parent)
    evaluations = [n for n, r in rule.items() if r == "evaluate"]
    assert len(evaluations) == 2 * 2 * len(TINY["variants"])
    for node in evaluations:
        upstream = Counter(rule[n] for n in ancestors(edges, node))
        # its own config (from the study document) and training, and its dataset's data,
        # extractor and reference features
        assert upstream == Counter(
            study_document=1,
            run_config=1,
            train=1,
            prepare_dataset=1,
            train_extractor=1,
            reference_features=2,
        ), upstream
