"""sagan bench throughput: a benchmark, not a timed test; this checks that it runs on a tiny
setting and prints its table (no speed is asserted)."""

import pytest
import yaml

from sagan.bench.throughput import bench_run
from sagan.cli import main
from sagan.errors import ConfigError
from sagan.study.model import parse_study

TINY = {
    "study": "tiny",
    "datasets": {"digits": {"resolution": 16, "heldout": 400}},
    "variants": {
        "plain": {"variant": "dcgan"},
        "attn": {"variant": "sagan", "g_resolutions": [8, 32], "d_resolutions": [8]},
    },
    "sizes": ["full"],
    "seeds": [0],
    "model": {"width": 4, "z_dim": 8},
    "train": {"iterations": 1000, "batch_size": 4},
}


def test_the_bench_runs_the_studys_first_arm_with_attention_at_each_size():
    cfg = bench_run(parse_study(TINY), None, 16)
    assert cfg.arm == "attn" and cfg.data.resolution == 16
    assert cfg.variant_options["g_resolutions"] == [8]  # 32 does not fit 16 px: dropped
    assert (cfg.model.width, cfg.train.batch_size) == (4, 4)
    with pytest.raises(ConfigError, match="--arm 'nope' is not an arm"):
        bench_run(parse_study(TINY), "nope", 16)


@pytest.mark.slow  # three worker processes, each importing torch
def test_the_cli_prints_runs_per_hour_with_ratio_one_at_k1(tmp_path, capsys):
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(TINY))
    args = ["bench", "throughput", "--study", str(path), "--resolutions", "16"]
    code = main([*args, "--k", "1", "2", "--iterations", "1", "--repeats", "1"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "CUDA graphs: skipped" in out
    rows = [line.split("|") for line in out.splitlines() if line.startswith("| 16 ")]
    assert [r[4].strip() for r in rows] == ["1", "2"]
    assert rows[0][7].strip() == "1.00"
    assert all(float(r[6]) > 0 for r in rows)  # runs per device-hour
