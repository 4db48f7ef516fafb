"""A failed evaluation rerun costs no finished result: scores are kept in the run's state
folder under the hash of their inputs, and restored when every input is as it was."""

import json
import shutil

import pytest
import torch

from sagan.metrics import evaluate as evaluate_module
from sagan.metrics.evaluate import evaluate
from sagan.metrics.kept_scores import KEPT, generator_digest, inputs_digest
from sagan.run_folder import CHECKPOINT, METRICS, write_status
from sagan.train.trainer import train
from tests.test_train_evaluate import scored_setup, tiny_config  # noqa: F401 (a fixture)


@pytest.fixture
def scored_run(digits16, scored_setup, tmp_path):  # noqa: F811
    cfg = tiny_config(digits16, scored_setup, "dcgan")
    run, state = tmp_path / "s0" / "i6", tmp_path / "s0"
    train(cfg, run, state_dir=state, progress=False)
    first = evaluate(run, state_dir=state)
    return cfg, run, state, first


def no_scoring(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("scored again although every input was unchanged")

    monkeypatch.setattr(evaluate_module, "_score", refuse)


def test_a_deleted_metrics_file_comes_back_from_the_state_without_scoring(scored_run, monkeypatch):
    cfg, run, state, first = scored_run
    assert len(list((state / KEPT).glob("*.json"))) == 1
    (run / METRICS).unlink()  # as Snakemake does before a rerun and after a failed one
    no_scoring(monkeypatch)
    again = evaluate(run, state_dir=state)
    assert again["restored"] and again["metrics"] == first["metrics"]
    assert json.loads((run / METRICS).read_text())["metrics"] == first["metrics"]


def test_a_re_emitted_checkpoint_with_equal_weights_is_the_same_input(scored_run, monkeypatch):
    cfg, run, state, first = scored_run
    before = inputs_digest(cfg, run)
    # equal tensors, other pickle bytes: a finished run re-emitting its checkpoint
    old_bytes = (run / CHECKPOINT).read_bytes()
    weights = torch.load(run / CHECKPOINT, weights_only=True)
    torch.save(dict(reversed(weights.items())), run / CHECKPOINT)
    assert (run / CHECKPOINT).read_bytes() != old_bytes
    write_status(run, "done", resumed_from=6)  # a new time, and where the re-emit began
    assert inputs_digest(cfg, run) == before
    no_scoring(monkeypatch)
    assert evaluate(run, state_dir=state)["restored"]


def test_a_changed_input_is_scored_afresh(scored_run, tmp_path):
    cfg, run, state, first = scored_run
    before = inputs_digest(cfg, run)
    weights = torch.load(run / CHECKPOINT, weights_only=True)
    key = "G_ema" if "G_ema" in weights else "G"
    name = next(iter(weights[key]))
    weights[key][name] = weights[key][name] + 1e-3
    torch.save(weights, run / CHECKPOINT)
    assert inputs_digest(cfg, run) != before
    changed = evaluate(run, state_dir=state)
    assert "restored" not in changed
    assert len(list((state / KEPT).glob("*.json"))) == 2

    # the reference features: another file, another digest
    reference = tmp_path / "reference_copy.pt"
    shutil.copy(cfg.eval.reference_path, reference)
    digest = inputs_digest(cfg, run)
    with open(cfg.eval.reference_path, "ab") as f:
        f.write(b"\0")
    try:
        assert inputs_digest(cfg, run) != digest
    finally:
        shutil.copy(reference, cfg.eval.reference_path)
    assert inputs_digest(cfg, run) == digest


def test_a_diverged_run_and_its_status_are_part_of_the_key(scored_run):
    cfg, run, state, _ = scored_run
    before = inputs_digest(cfg, run)
    write_status(run, "diverged", iteration=3, reason="NaN")
    assert inputs_digest(cfg, run) != before


def test_an_unreadable_kept_copy_is_scored_again(scored_run):
    cfg, run, state, first = scored_run
    (kept,) = (state / KEPT).glob("*.json")
    kept.write_text("{not json")
    (run / METRICS).unlink()
    again = evaluate(run, state_dir=state)
    assert "restored" not in again and again["metrics"] == first["metrics"]
    assert json.loads(kept.read_text())["metrics"] == first["metrics"]  # kept anew


def test_the_weights_digest_reads_g_ema_before_g(tmp_path):
    a = {"G": {"w": torch.zeros(2)}, "G_ema": {"w": torch.ones(2)}}
    b = {"G": {"w": torch.ones(2)}}
    torch.save(a, tmp_path / "a.pt")
    torch.save(b, tmp_path / "b.pt")
    assert generator_digest(tmp_path / "a.pt") == generator_digest(tmp_path / "b.pt")
    torch.save({"G": {"w": torch.ones(2, 1)}}, tmp_path / "c.pt")  # the shape counts
    assert generator_digest(tmp_path / "c.pt") != generator_digest(tmp_path / "b.pt")
