"""What the docs tests run for real: `sagan validate` in-process, and `snakemake -n` dry runs
(cached, so a dry run that two tests read runs once)."""

from __future__ import annotations

import copy
import functools
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import pytest
import yaml
from snakemake.utils import update_config

from sagan.cli import parser
from tests.docs_blocks import REPO

DEFAULT_STUDY = yaml.safe_load((REPO / "config/default.yaml").read_text())


def over_default(fragment: dict) -> dict:
    """A study section (or several) merged over the default study, key by key, as Snakemake
    merges `--config` over a study. Arms the fragment adds are trained on the first dataset
    (its list of arms dropped: it trains every arm), so that each is built and checked."""
    study = copy.deepcopy(DEFAULT_STUDY)
    update_config(study, fragment)
    if "variants" in fragment:
        next(iter(study["datasets"].values())).pop("variants", None)
    return study


def validate(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What `sagan validate PATH --device cpu` does, in this process: raises its error."""
    monkeypatch.chdir(REPO)  # the design's claims are config/claims.yaml of the checkout
    args = parser().parse_args(["validate", str(path), "--device", "cpu"])
    args.fn(args)


@functools.cache
def dry_run(*args: str) -> Counter:
    """The job counts of `snakemake -n ARGS` in an empty folder (files in args absolute)."""
    with tempfile.TemporaryDirectory() as workdir:
        cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile")]
        cmd += ["--directory", workdir, "-n", "--quiet", "rules", *args]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-3000:]
    table = out[out.index("Job stats:") :]
    return Counter({m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M)})
