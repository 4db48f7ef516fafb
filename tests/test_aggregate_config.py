"""The aggregate reads each run's config.yaml typed, as the trainer does: an old folder whose
config lacks fields added since still aggregates (they take their defaults), and a key no
run config has is refused naming the file, not silently summarised."""

from pathlib import Path

import pytest
import yaml

from sagan.errors import ConfigError
from sagan.report.aggregate import run_ids, run_row
from sagan.run_folder import write_status

OLD = {  # a run config from before arms, sweeps, plugins and variant_source existed
    "study": "s",
    "variant": "sagan",
    "variant_options": {"g_resolutions": [8], "d_resolutions": [4]},
    "data": {"dataset": "digits", "resolution": 16, "size": 500},
    "model": {"backbone": "dcgan", "width": 32, "z_dim": 128},
    "train": {"iterations": 20, "batch_size": 64, "seed": 3},
    "eval": {"extractor": "domain", "num_samples": 1000},
}


def run_folder(root: Path, cfg: dict) -> Path:
    root.mkdir()
    (root / "config.yaml").write_text(yaml.safe_dump(cfg))
    write_status(root, "done", iterations=20)
    return root


def test_an_old_run_config_lacking_newer_fields_aggregates(tmp_path):
    row = run_row(run_folder(tmp_path / "old", OLD))
    assert (row["study"], row["dataset"], row["arm"], row["size"], row["seed"]) == (
        "s",
        "digits",
        "sagan",  # no arm: the registered variant names the row
        "500",
        3,
    )
    assert (row["variant"], row["sweep"], row["sweep_point"]) == ("sagan", "", "{}")
    assert "registered_variant" not in row  # the old name of the variant column
    assert (row["resolution"], row["g_attention"], row["d_attention"]) == (16, "8", "4")
    assert row["status"] == "unevaluated"  # trained, no metrics.json


def test_a_run_config_with_an_unknown_key_is_refused_naming_the_file(tmp_path):
    run = run_folder(tmp_path / "typo", OLD | {"train": OLD["train"] | {"sed": 4}})
    with pytest.raises(ConfigError, match=r"unknown key\(s\) 'sed' in .*typo/config.yaml\.train"):
        run_ids(run)
