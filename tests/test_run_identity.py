"""A run is its configuration: its state survives re-runs, lengths and a second trainer.

The workflow puts a run's outputs for one iteration count in ``i<iterations>/`` and the
trainer's state (checkpoints, samples, lock) in the folder above, which Snakemake never
deletes. These tests drive the trainer the way the train job does.
"""

import shutil
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest

from sagan.errors import ConfigError
from sagan.run_folder import read_status
from sagan.train.checkpoint import checkpoint_paths
from sagan.train.trainer import train
from tests.test_resume import ITERATIONS, assert_same_weights, config


def outputs(state: Path, iterations: int) -> Path:
    return state / f"i{iterations}"


def with_iterations(cfg, iterations: int):
    return replace(cfg, train=replace(cfg.train, iterations=iterations))


def run(cfg, state: Path) -> dict:
    return train(cfg, outputs(state, cfg.train.iterations), state_dir=state, progress=False)


def test_a_finished_run_whose_outputs_were_deleted_re_emits_them_without_training(
    digits16, tmp_path
):
    cfg, state = config(digits16), tmp_path / "state"
    run(cfg, state)
    out = outputs(state, ITERATIONS)
    (tmp_path / "before").mkdir()
    (tmp_path / "before" / "checkpoint.pt").write_bytes((out / "checkpoint.pt").read_bytes())
    log = (out / "log.csv").read_text()
    kept = {p: p.stat().st_mtime_ns for p in checkpoint_paths(state)}
    for name in ("checkpoint.pt", "log.csv", "samples.png", "status.json", "config.yaml"):
        (out / name).unlink()  # what Snakemake does before it runs a job again
    status = run(cfg, state)
    assert status["state"] == "done" and status["resumed_from"] == ITERATIONS
    assert {p: p.stat().st_mtime_ns for p in checkpoint_paths(state)} == kept  # no training
    assert (out / "log.csv").read_text() == log and (out / "samples.png").stat().st_size > 0
    assert_same_weights(tmp_path / "before", out)


def test_fewer_iterations_give_that_many_iterations_weights_never_the_longer_runs(
    digits16, tmp_path
):
    cfg, state = config(digits16), tmp_path / "state"
    run(cfg, state)
    for shorter in (12, 13):  # 13 is no multiple of sample_every or checkpoint_every
        short = with_iterations(cfg, shorter)
        assert run(short, state)["state"] == "done"
        fresh = tmp_path / f"fresh{shorter}"
        run(short, fresh)
        assert_same_weights(outputs(fresh, shorter), outputs(state, shorter))
        with pytest.raises(AssertionError):  # and they are not the 24-iteration weights
            assert_same_weights(outputs(state, ITERATIONS), outputs(state, shorter))
    # every run's final checkpoint survives the others' pruning: each is served again
    shutil.rmtree(outputs(state, 12))
    assert run(with_iterations(cfg, 12), state)["resumed_from"] == 12
    (outputs(state, ITERATIONS) / "checkpoint.pt").rename(tmp_path / "long.pt")
    assert run(cfg, state)["resumed_from"] == ITERATIONS
    (tmp_path / "long").mkdir()
    (tmp_path / "long.pt").rename(tmp_path / "long" / "checkpoint.pt")
    assert_same_weights(tmp_path / "long", outputs(state, ITERATIONS))


def test_a_longer_run_continues_from_the_shorter_ones_final_checkpoint(digits16, tmp_path):
    cfg, state = config(digits16), tmp_path / "state"
    run(with_iterations(cfg, 12), state)
    status = run(cfg, state)
    assert status["resumed_from"] == 12
    run(cfg, tmp_path / "whole")
    assert_same_weights(outputs(tmp_path / "whole", ITERATIONS), outputs(state, ITERATIONS))


HOLD_LOCK = textwrap.dedent("""
    import sys, time
    from sagan.train.lock import run_lock
    with run_lock(sys.argv[1]):
        print("held", flush=True)
        time.sleep(60)
""")


def test_a_second_trainer_on_a_locked_run_is_refused_naming_the_holder(digits16, tmp_path):
    state = tmp_path / "state"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(state)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(ConfigError, match=rf"trained by process {holder.pid}\b"):
            run(config(digits16), state)
        assert not outputs(state, ITERATIONS).exists() and not checkpoint_paths(state)
    finally:
        holder.kill()
        holder.wait()
    # the kernel dropped the lock with its holder: the run now trains
    assert run(config(digits16), state)["state"] == "done"
    assert read_status(outputs(state, ITERATIONS))["state"] == "done"


def test_a_run_pinned_to_other_code_says_so_when_it_trains_further(digits16, tmp_path, capsys):
    from sagan.layout import source_hash
    from sagan.registry import VARIANTS

    cfg = config(digits16)
    current = replace(cfg, variant_source=source_hash(VARIANTS.get(cfg.variant).builder))
    assert "code_note" not in run(with_iterations(current, 4), tmp_path / "now")
    assert "pinned" not in capsys.readouterr().err
    pinned = replace(cfg, variant_source="0123abcd")  # the arm's `source:`, an older file
    status = run(with_iterations(pinned, 4), tmp_path / "old")
    assert "pinned to source 0123abcd, but its code is now source" in status["code_note"]
    assert "warning: variant" in capsys.readouterr().err
    # re-emitting a finished run trains nothing with today's code: nothing to say
    assert "code_note" not in run(with_iterations(pinned, 4), tmp_path / "old")
