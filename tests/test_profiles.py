"""The workflow profiles dry-run on this machine: no sbatch, no cluster, no credentials.

A dry run with `executor: slurm` or `executor: kubernetes` validates the profile against the
plugin (its settings, the storage it needs) and plans every job with the resources it would
ask for, then submits nothing.
"""

import importlib.util
import os
import re
from pathlib import Path

import pytest
import yaml

from tests.test_workflow import REPO, TINY, snakemake

PROFILES = REPO / "workflow/profiles"


def needs(module: str):
    return pytest.mark.skipif(
        importlib.util.find_spec(module) is None,
        reason=f"{module} is not installed (pip install -e '.[cluster]')",
    )


def jobs(out: str, rule: str) -> list[str]:
    """The `resources:` line of each planned job of ``rule`` in `snakemake -n` output."""
    blocks = re.split(r"\n(?=\[.*\]\nrule |rule )", out)
    return [
        line.strip()
        for block in blocks
        if block.lstrip().startswith(f"rule {rule}:")
        for line in block.splitlines()
        if line.strip().startswith("resources:")
    ]


def test_every_profile_is_yaml_with_long_option_names():
    for name in ("default", "slurm", "kubernetes"):
        profile = yaml.safe_load((PROFILES / name / "config.yaml").read_text())
        assert profile and all(re.fullmatch(r"[a-z][a-z-]*", key) for key in profile), name


def test_default_profile_dry_runs(tmp_path):
    done = snakemake(tmp_path, TINY, "--workflow-profile", str(PROFILES / "default"), "-n")
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-3000:]
    assert "workflow specific profile" in out and "total" in out


def trap_commands(folder: Path, names: tuple[str, ...]) -> dict[str, str]:
    """An environment whose ``names`` (sbatch, ...) only leave a mark that they were called."""
    folder.mkdir()
    for name in names:
        script = folder / name
        script.write_text(f"#!/bin/sh\ntouch '{folder}/called_{name}'\nexit 1\n")
        script.chmod(0o755)
    return {**os.environ, "PATH": f"{folder}{os.pathsep}{os.environ['PATH']}"}


@needs("snakemake_executor_plugin_slurm")
def test_slurm_profile_dry_runs_without_sbatch(tmp_path):
    bin_dir = tmp_path / "bin"
    env = trap_commands(bin_dir, ("sbatch", "squeue", "sacct", "sacctmgr", "sinfo", "srun"))
    profile = str(PROFILES / "slurm")
    done = snakemake(tmp_path, TINY, "--workflow-profile", profile, "-n", env=env)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-3000:]
    assert not list(bin_dir.glob("called_*"))
    train = jobs(out, "train")
    assert len(train) == 2 * 2 * len(TINY["variants"])
    assert all("gpu=1" in r and "runtime=240" in r and "slurm_partition=" in r for r in train)
    prepare = jobs(out, "prepare_dataset")
    assert prepare and not any("gpu=" in r for r in prepare)
    assert not (tmp_path / "results").exists()


@needs("snakemake_executor_plugin_kubernetes")
@needs("snakemake_storage_plugin_fs")
def test_kubernetes_profile_dry_runs_without_a_cluster(tmp_path):
    # Pods share no file system, so the plugin demands a default storage provider; the
    # profile's s3 bucket is swapped for a local folder, and no kubeconfig is read.
    done = snakemake(
        tmp_path,
        TINY,
        "--workflow-profile",
        str(PROFILES / "kubernetes"),
        "--default-storage-provider",
        "fs",
        "--default-storage-prefix",
        str(tmp_path / "storage"),
        "-n",
        # TODO(report.smk): the notebook rule's template is an absolute path, which storage
        # maps into the bucket; until it is wrapped in local(), plan all but the notebooks.
        "results/tiny/summary.csv",
        "reports/tiny/figures/cost_scaling.png",
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-3000:]
    train = jobs(out, "train")
    assert len(train) == 2 * 2 * len(TINY["variants"])
    assert all("gpu=1" in r and "gpu_manufacturer=nvidia" in r for r in train)
    assert not Path(tmp_path / "storage").exists()
