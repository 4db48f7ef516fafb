"""Nothing finished is lost when a study changes, is re-run, or meets a second study.

Each test runs the workflow up to its training jobs (`--until train`: the data and the runs) on
one small dataset, then changes something as a user would and checks every finished file.
"""

import copy
import hashlib
import os
import re
import sys
from pathlib import Path

import pytest
import torch

from tests.test_resume import final_weights
from tests.test_workflow import TINY, snakemake

STUDY = {
    **copy.deepcopy(TINY),
    "study": "change",
    "datasets": {"digits": TINY["datasets"]["digits"]},
    "variants": {
        "sagan-place": {
            "variant": "sagan",
            "d_resolutions": [8],
            "sweep": {"g_resolutions": [[4], [8]]},
        },
    },
    "sizes": ["full"],
}
PLUGIN = '''
from sagan.models import VariantSpec
from sagan.nn.attention import SelfAttention2d
from sagan.registry import register_variant


@register_variant("plug")
def plug() -> VariantSpec:
    """Test-only: the SAGAN block at 8 px in G."""
    return VariantSpec(g_slots={8: lambda c: SelfAttention2d(c, key_ratio=KEY_RATIO)})
'''


def fingerprint(root: Path, pattern: str) -> dict[str, str]:
    """Every file under the matching folders by path, with the SHA-256 of its bytes."""
    files = [p for folder in root.glob(pattern) for p in folder.rglob("*") if p.is_file()]
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def planned(out: str, rule: str) -> int:
    """How many jobs of ``rule`` a dry run plans (its job-count table)."""
    found = re.search(rf"^{rule}\s+(\d+)$", out, re.M)
    return int(found.group(1)) if found else 0


def run_ok(tmp_path: Path, study: dict, *args: str, **kw) -> str:
    # the runs are what a change must not lose: training (and the data it reads) is enough
    done = snakemake(tmp_path, study, *args, "--until", "train", **kw)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout + done.stderr


@pytest.mark.slow
def test_change_run_revert_run_keeps_the_original_runs_and_trains_nothing(tmp_path):
    plan = run_ok(tmp_path, STUDY, "-n")
    assert planned(plan, "train") == 2  # two arms of one variant: one run each
    run_ok(tmp_path, STUDY)
    runs = "results/runs/change/digits/*"
    original = fingerprint(tmp_path, runs)
    assert len(list(tmp_path.glob(runs))) == 2 and original
    changed = copy.deepcopy(STUDY)
    changed["train"]["lr_g"] = 0.0002
    run_ok(tmp_path, changed)
    after = fingerprint(tmp_path, runs)
    assert {k: after[k] for k in original} == original  # untouched, new runs beside them
    assert len(list(tmp_path.glob(runs))) == 4
    assert planned(run_ok(tmp_path, STUDY, "-n"), "train") == 0  # the revert finds them done
    run_ok(tmp_path, STUDY)
    assert fingerprint(tmp_path, runs) == after
    # a forced re-run of a finished run re-emits it from its final checkpoint, untrained
    outs = sorted(tmp_path.glob(f"{runs}/nfull/s0/i20"))
    weights = {out: final_weights(out) for out in outs}
    assert planned(run_ok(tmp_path, STUDY, "--forcerun", "train"), "train") == 2
    state = fingerprint(tmp_path, f"{runs}/nfull/s0/checkpoints")
    assert state == {k: v for k, v in after.items() if "/checkpoints/" in k}
    for out in outs:
        now = final_weights(out)
        assert all(torch.equal(now[k], weights[out][k]) for k in now) and len(now) > 10


@pytest.mark.slow
def test_a_second_study_with_another_heldout_leaves_the_first_intact(tmp_path):
    first = copy.deepcopy(STUDY)
    first["variants"] = {"dcgan": {}}
    run_ok(tmp_path, first)
    kept = fingerprint(tmp_path, "results/data/*") | fingerprint(tmp_path, "results/runs/*")
    second = copy.deepcopy(first)
    second["study"] = "second"
    second["datasets"]["digits"] = {**first["datasets"]["digits"], "heldout": 300}
    run_ok(tmp_path, second)
    now = fingerprint(tmp_path, "results/data/*") | fingerprint(tmp_path, "results/runs/*")
    assert {k: now[k] for k in kept} == kept
    assert len(list(tmp_path.glob("results/data/*"))) == 2  # one prepared file per held-out
    assert planned(run_ok(tmp_path, first, "-n"), "total") == 0  # nothing to do


@pytest.mark.slow
def test_an_edit_of_a_variants_code_retrains_it_and_says_how_to_keep_the_old(tmp_path):
    plugin = tmp_path / "plug_plugin.py"
    plugin.write_text(PLUGIN.replace("KEY_RATIO", "2"))
    study = copy.deepcopy(STUDY)
    study["variants"], study["plugins"] = {"plug": {}}, ["plug_plugin"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    run_ok(tmp_path, study, env=env)
    plugin.write_text(PLUGIN.replace("KEY_RATIO", "4"))  # its key channels C/2 -> C/4
    plan = run_ok(tmp_path, study, "-n", env=env)
    assert planned(plan, "train") == 1
    assert "variant 'plug' code changed" in plan and "source:" in plan
