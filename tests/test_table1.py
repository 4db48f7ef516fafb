"""config/table1.yaml, SAGAN's Table 1 as one study, planned and never run: a dry run needs
neither its images nor the Inception weights, and trains each arm once per size and seed."""

import re
from collections import Counter

import pytest
import yaml

from sagan.models import build_variant
from sagan.study import runs, study_arms
from sagan.study.model import parse_study
from tests.test_scale import planned
from tests.test_workflow import REPO, snakemake

TABLE1 = yaml.safe_load((REPO / "config/table1.yaml").read_text())
# The paper's Table 1: the bare backbone, and the SAGAN block at one side in both G and D
ARMS = {"baseline", "sagan-feat8", "sagan-feat16", "sagan-feat32", "sagan-feat64"}
PLACEMENTS = {8, 16, 32, 64}


@pytest.fixture(scope="module")
def dry_run(tmp_path_factory) -> str:
    workdir = tmp_path_factory.mktemp("table1")
    done = snakemake(workdir, TABLE1, "-n")
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-3000:]
    assert not (workdir / "results").exists()  # a dry run writes nothing
    return out


def trained(out: str) -> Counter:
    """(arm, size, seed) of every train job the dry run plans, from its wildcards."""
    jobs = Counter()
    for block in re.split(r"^rule ", out, flags=re.M):
        if block.startswith("train:"):
            w = dict(re.findall(r"(\w+)=([^,\s]+)", re.search(r"wildcards: (.*)", block)[1]))
            arm = re.fullmatch(r"(.+)-[0-9a-f]{8}", w["arm"])[1]  # the name, less its key
            jobs[arm, w["size"], w["seed"]] += 1
    return jobs


def test_table1_trains_each_arm_once_per_size_and_seed(dry_run):
    arms, sizes, seeds = study_arms(parse_study(TABLE1)), TABLE1["sizes"], TABLE1["seeds"]
    jobs = planned(dry_run)
    assert jobs["train"] == jobs["evaluate"] == len(arms) * len(sizes) * len(seeds) == 15
    assert jobs["train"] == len(runs(parse_study(TABLE1)))
    expected = Counter((a, str(n), str(s)) for a in ARMS for n in sizes for s in seeds)
    assert trained(dry_run) == expected
    # a dry run reads no file: the missing Inception weights are a warning, named with the fix
    assert "dry run only, a real run stops here: Inception weights" in dry_run


def test_table1_arms_are_the_baseline_and_four_placements():
    arms = study_arms(parse_study(TABLE1))
    assert set(arms) == ARMS and len(TABLE1["seeds"]) == 3
    assert TABLE1["model"]["backbone"] == "resnet"
    assert {d["resolution"] for d in TABLE1["datasets"].values()} == {128}
    base = build_variant(arms["baseline"].variant, arms["baseline"].options)
    assert arms["baseline"].variant == "dcgan" and not base.g_slots and not base.d_slots
    sides = set()
    for name in ARMS - {"baseline"}:
        spec = build_variant(arms[name].variant, arms[name].options)
        assert arms[name].variant == "sagan", name
        assert list(spec.g_slots) == list(spec.d_slots) == [int(name.removeprefix("sagan-feat"))]
        sides |= set(spec.g_slots)
    assert sides == PLACEMENTS
