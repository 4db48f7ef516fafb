import math
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import torch

from sagan.bench.step import build_port_step, port_d_step, port_specs
from sagan.cli import main
from sagan.config import ModelConfig
from sagan.cost.plan import profile_specs, scaling_specs
from sagan.cost.profile import loglog_slope, profile, scaling, scaling_slopes, spread
from sagan.cost.step import StepSpec, build_step
from sagan.cost.timing import OtherWork, machine_load, median_interval
from sagan.study.model import parse_study
from sagan.train.trainer import d_step, g_step

TINY_MODEL = ModelConfig(width=4, z_dim=8)
SLOTS = {"g_resolutions": [8], "d_resolutions": [8]}
STUDY = {
    "study": "t",
    "datasets": {"digits": {"resolution": 16, "heldout": 200}},
    "variants": {"dcgan": {}, "sagan": SLOTS},
    "sizes": ["full"],
    "seeds": [0],
    "model": {"width": 4, "z_dim": 8},
    "train": {"batch_size": 4},
    "profile": {
        "precisions": ["fp32", "bf16"],
        "repeats": 2,
        "warmup": 1,
        "memory": False,
        "scaling": {"resolutions": [16, 32], "divisors": [2, 4], "batch": 2},
    },
}


def spec(label, variant="sagan", **kw):
    options = SLOTS if variant == "sagan" else {}
    return StepSpec(label, variant, options, TINY_MODEL, resolution=16, batch=4, **kw)


def test_step_updates_both_networks():
    step, m = build_step(spec("s"))
    g_first, d_last = m.G.project.weight, m.D.logit.parametrizations.weight.original
    before = g_first.detach().clone(), d_last.detach().clone()
    step()
    assert not torch.equal(before[0], g_first) and not torch.equal(before[1], d_last)


def test_spec_survives_the_trip_to_a_child_process():
    s = spec("s", precision="bf16")
    assert StepSpec.from_json(s.to_json()) == s


def test_profile_rows_carry_time_ratio_cost_and_utilisation(monkeypatch):
    monkeypatch.setattr("sagan.cost.profile.os.getloadavg", lambda: (3.5, 3.0, 3.0))
    monkeypatch.setattr("sagan.cost.profile.cores", lambda: 2)
    # the machine's busy CPU seconds: far more than this process used while it timed
    busy = iter([100.0, 1e6])
    monkeypatch.setattr("sagan.cost.timing.busy_cpu_seconds", lambda: next(busy))
    rows = profile([spec("dcgan", "dcgan"), spec("sagan")], repeats=3, warmup=1, memory=False)
    base, attn = rows
    assert base["ratio_to_baseline"] == 1.0 and base["baseline"] == "dcgan"
    # the ratio is the median over rounds of the arm's time over the baseline's in that round
    times = [[float(t) for t in r["ms_repeats"].split()] for r in rows]
    per_round = sorted(a / b for a, b in zip(times[1], times[0], strict=True))
    assert attn["ratio_to_baseline"] == pytest.approx(per_round[1], 1e-3)
    # 3 rounds are too few for an interval that leaves out the extremes (spread: 9 rounds)
    assert all(math.isnan(r[k]) for r in rows for k in ("ratio_lo", "ratio_hi"))
    assert attn["ms_min"] <= attn["ms_q25"] <= attn["ms_per_step"] <= attn["ms_q75"]
    assert attn["ms_q75"] <= attn["ms_max"] and attn["repeats"] == 3
    assert attn["loaded"] and (attn["load_before"], attn["cores"]) == (3.5, 2)
    assert attn["other_cores"] > 1
    assert attn["images_per_s"] == pytest.approx(4 / attn["ms_per_step"] * 1e3, rel=1e-3)
    assert attn["params_g"] > base["params_g"] and attn["attention_macs_g"] > 0
    assert base["attention_macs_g"] == 0 and attn["flops_g"] == 2 * attn["macs_g"]
    # the step's FLOPs: forward and backward of G and D, so well above one forward
    assert attn["step_flops"] > 3 * 4 * (attn["flops_g"] + attn["flops_d"])
    assert 0 < attn["utilisation_pct"] < 100 and math.isnan(attn["peak_mem_mib"])


def test_the_ratio_to_the_baseline_is_taken_round_by_round():
    # the machine slows down in round 2 and speeds up in round 3: each round's ratio is 2
    times = [10.0, 40.0, 5.0, 12.0, 30.0, 10.0, 10.0, 10.0, 10.0]
    row = spread(times, [t / 2 for t in times])
    assert row["ratio_to_baseline"] == 2.0 and row["ratio_lo"] == row["ratio_hi"] == 2.0
    assert (row["ms_min"], row["ms_max"], row["ms_q25"], row["ms_q75"]) == (5, 40, 10, 12)
    assert row["ms_repeats"].split()[:2] == ["10.000", "40.000"]  # round order kept


def test_too_few_rounds_give_a_ratio_but_no_interval():
    row = spread([10.0, 11.0, 12.0, 10.0, 10.0], [5.0] * 5)
    assert row["ratio_to_baseline"] == 2.0 and row["repeats"] == 5
    assert math.isnan(row["ratio_lo"]) and math.isnan(row["ratio_hi"])


def test_the_median_interval_leaves_out_the_extreme_rounds():
    assert all(math.isnan(v) for v in median_interval([3.0, 1.0, 5.0, 2.0, 4.0]))
    lo, hi, coverage = median_interval(list(range(10)))
    assert (lo, hi) == (1, 8) and coverage == pytest.approx(1 - 2 * 11 / 1024)
    assert median_interval(list(range(20)))[:2] == (5, 14)


def test_without_cpu_times_the_machine_is_loaded_when_the_load_average_exceeds_the_cores():
    assert machine_load(1.0, 2.5, 2)["loaded"]
    assert machine_load(2.5, 1.0, 2)["loaded"]
    assert not machine_load(1.9, 2.0, 2)["loaded"]


def test_with_cpu_times_other_work_decides_and_a_lingering_load_average_does_not():
    # training jobs just ended: the 1-minute average still reads 3.4, but nothing else ran
    assert not machine_load(3.4, 3.4, 2, other_cores=0.05)["loaded"]
    assert machine_load(0.5, 0.5, 2, other_cores=0.6)["loaded"]
    assert machine_load(0.5, 0.5, 2, other_cores=0.6)["other_cores"] == 0.6
    assert not machine_load(0.5, 0.5, 2, other_cores=0.19)["loaded"]  # under 10% of 2


@pytest.mark.skipif(not Path("/proc/stat").is_file(), reason="reads /proc/stat (Linux)")
def test_other_work_is_the_machines_busy_time_less_this_process_own_over_the_wall(monkeypatch):
    # fake clocks: the block ran 2 s of wall time; the machine was busy 3.5 CPU-s, of which
    # this process spent 1.5: other processes kept 1.0 core busy (asserted exactly, so the
    # test holds on a loaded machine, where a real spinner's share is anyone's guess)
    import sagan.cost.timing as timing

    clocks = {"busy": iter([100.0, 103.5]), "own": iter([10.0, 11.5]), "wall": iter([5.0, 7.0])}
    monkeypatch.setattr(timing, "busy_cpu_seconds", lambda: next(clocks["busy"]))
    monkeypatch.setattr(timing.time, "process_time", lambda: next(clocks["own"]))
    monkeypatch.setattr(timing.time, "perf_counter", lambda: next(clocks["wall"]))
    with OtherWork() as block:
        pass
    assert block.cores == pytest.approx(1.0)


def test_other_work_on_the_real_machine_counts_a_spinning_child_beside_the_block():
    # relations that hold under any load: the count is within the machine's cores, and a
    # child spinning beside the block is counted (it cannot make the count fall below its
    # own share, which the scheduler gives it on a 2-core machine at least in part)
    spin = "import time\nend = time.time() + 3\nwhile time.time() < end: pass"
    busy = subprocess.Popen([sys.executable, "-c", spin])
    try:
        time.sleep(0.3)  # the child's start-up
        with OtherWork() as beside:
            time.sleep(1.5)
    finally:
        busy.kill()
        busy.wait()
    assert beside.cores is not None and 0.2 < beside.cores <= os.cpu_count() + 0.05


def test_profile_measures_cpu_peak_memory_in_a_child():
    def sized(batch):
        options = {"g_resolutions": [16], "d_resolutions": [16]}
        return StepSpec(f"b{batch}", "sagan", options, ModelConfig(width=8, z_dim=8), 32, 3, batch)

    small, large = profile([sized(4), sized(64)], repeats=1, warmup=0, memory=True)
    # a step's activations grow with the batch (measured: about 8 vs 88 MiB)
    assert large["peak_mem_mib"] > 2 * small["peak_mem_mib"] + 20


def test_profile_refuses_duplicate_labels_and_unknown_baseline():
    with pytest.raises(ValueError, match="unique"):
        profile([spec("a"), spec("a")], repeats=1)
    with pytest.raises(ValueError, match="baseline 'x'"):
        profile([spec("a")], baseline="x", repeats=1)


def test_study_plan_profiles_every_variant_in_every_precision():
    labels = [s.label for s in profile_specs(parse_study(STUDY), 16, 1)]
    assert labels == ["dcgan", "sagan", "dcgan@bf16", "sagan@bf16"]


def test_scaling_places_attention_at_side_over_divisor():
    specs = scaling_specs(parse_study(STUDY), 32)
    assert [s.label for s in specs] == ["dcgan@32", "sagan@32:16x16", "sagan@32:8x8"]
    assert specs[1].variant_options["g_resolutions"] == [16]


def test_loglog_slope_recovers_a_power_law():
    assert loglog_slope([16, 64, 256], [3 * n**2 for n in (16, 64, 256)]) == pytest.approx(2.0)
    assert math.isnan(loglog_slope([16], [1.0]))


def test_scaling_rows_and_slopes():
    rows = scaling(parse_study(STUDY), [16, 32], memory=False)
    assert [r["tokens"] for r in rows] == [0, 64, 16, 0, 256, 64]
    slopes = scaling_slopes(rows)
    assert [s["placement"] for s in slopes] == ["image side / 2", "image side / 4"]
    # two token counts per placement: a line through two points is no fit, so no slope
    assert all(s["points"] == 2 and math.isnan(s["slope_attention_macs"]) for s in slopes)


def test_port_d_step_backpropagates_into_g_and_ours_does_not():
    _, m = build_step(spec("s"))
    real, z = torch.rand(4, 3, 16, 16) * 2 - 1, torch.randn(4, 8)
    d_step(m, real, None, z, None)
    assert all(p.grad is None for p in m.G.parameters())
    port_d_step(m, real, z)
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in m.G.parameters())


def test_our_g_step_leaves_d_without_weight_gradients_and_trainable():
    _, m = build_step(spec("s"))
    g_step(m, torch.randn(4, 8), None)
    assert all(p.grad is None and p.requires_grad for p in m.D.parameters())
    assert any(p.grad is not None for p in m.G.parameters())


def test_port_benchmark_rows_differ_only_where_stated():
    specs = port_specs("sagan", resolution=64, batch=2, width=2, z_dim=8)
    impls = [s.variant_options.get("impl", "default") for s in specs.values()]
    assert impls == ["naive", "naive", "default", "default"]
    assert [s.channels_last for s in specs.values()] == [False, True, True, True]
    assert [s.precision for s in specs.values()] == ["fp32", "fp32", "fp32", "bf16"]
    build_port_step(specs["port"])()  # the port's full step runs


def test_profile_cli_writes_a_csv(tmp_path, digits16):
    import yaml

    study = tmp_path / "study.yaml"
    study.write_text(yaml.safe_dump(STUDY))
    out = tmp_path / "profile.csv"
    args = ["--threads", "1", "profile", str(study), "--data", str(digits16)]
    assert main([*args, "--dataset", "digits", "--out", str(out)]) == 0
    df = pd.read_csv(out)
    assert list(df["label"]) == ["dcgan", "sagan", "dcgan@bf16", "sagan@bf16"]
    assert set(df["dataset"]) == {"digits"} and (df["ms_per_step"] > 0).all()


def test_profile_cli_names_a_missing_study(tmp_path, capsys):
    assert (
        main(
            [
                "profile",
                str(tmp_path / "none.yaml"),
                "--data",
                "x",
                "--dataset",
                "d",
                "--out",
                "o.csv",
            ]
        )
        == 2
    )
    assert "does not exist" in capsys.readouterr().err


def test_peak_kind_names_the_math_the_step_runs_in(monkeypatch):
    from sagan.cost.utilisation import peak_kind

    assert peak_kind("cpu", "fp32") == "fp32" and peak_kind("cpu", "bf16") == "bf16"
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", True)
    assert peak_kind("cuda", "fp32") == "tf32" and peak_kind("cuda", "fp16") == "fp16"
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", False)
    assert peak_kind("cuda", "fp32") == "fp32"


def test_the_cpu_matmul_peak_shrinks_its_product_to_the_time_budget(monkeypatch):
    import sagan.cost.utilisation as utilisation
    from sagan.cost.utilisation import _cpu_size

    assert _cpu_size("fp32", budget_s=0.0) == 256  # not even the probe fits: the probe
    assert _cpu_size("fp32", budget_s=1e9) == 2048  # anything fits: the largest
    # a fake clock: the probe's product takes 0.01 s, so n = 512 takes 0.08 s (n^3) and
    # 1,024 0.64 s; a 0.25 s budget buys 512, whatever else the machine is doing
    ticks = iter([0.0, 0.01])
    monkeypatch.setattr(utilisation.time, "perf_counter", lambda: next(ticks))
    assert _cpu_size("fp32", budget_s=0.25) == 512


def test_two_arms_of_one_variant_are_profiled_and_drawn_apart():
    from sagan.report.cost_figures import step_overhead

    study = {
        **STUDY,
        "variants": {
            "dcgan": {},
            "sagan-place": {
                "variant": "sagan",
                "d_resolutions": [8],
                "sweep": {"g_resolutions": [[4], [8]]},
            },
        },
        "profile": {**STUDY["profile"], "precisions": ["fp32"], "repeats": 1},
    }
    specs = profile_specs(parse_study(study), 16, 3)
    rows = pd.DataFrame(profile(specs, repeats=1, warmup=0, memory=False))
    assert list(rows["arm"]) == ["dcgan", "sagan-place.g4", "sagan-place.g8"]
    assert list(rows["variant"]) == ["dcgan", "sagan", "sagan"]
    assert "registered_variant" not in rows
    figure = step_overhead(rows.assign(dataset="digits"))
    assert [t.get_text() for t in figure.axes[0].get_xticklabels()] == list(rows["arm"])


def test_the_scaling_sweep_takes_its_variants_from_the_studys_arms():
    from sagan.cost.plan import profile_settings
    from sagan.models import build_variant

    study = {
        **STUDY,
        "variants": {
            "multi": {"variant": "multiscale"},
            "sparse": {"variant": "topk"},
            "base": {"variant": "dcgan"},
        },
    }
    scaling = profile_settings(parse_study(study)).scaling
    assert (scaling.variants, scaling.baseline) == (("topk",), "dcgan")  # multiscale needs 2
    only_attention = {**STUDY, "variants": {"sparse": {"variant": "topk"}}}
    baseline = profile_settings(parse_study(only_attention)).scaling.baseline
    spec = build_variant(baseline)
    assert not spec.g_slots and not spec.d_slots  # a registered variant with no attention
    named = {**STUDY, "profile": {"scaling": {"variant": "se_spatial"}}}
    assert profile_settings(parse_study(named)).scaling.variants == ("se_spatial",)


def test_the_step_bench_times_a_studys_arm_with_its_options(tmp_path, capsys):
    import yaml

    arms = {
        "base": {"variant": "dcgan"},
        "sparse": {"variant": "topk", "g_resolutions": [8]},
        "half": {"variant": "sagan", "g_resolutions": [4], "key_ratio": 2},
    }
    study = tmp_path / "study.yaml"
    study.write_text(yaml.safe_dump(STUDY | {"variants": arms}))
    args = ["bench", "step", "--study", str(study), "--resolution", "32", "--batch", "2"]
    assert main([*args, "--width", "2", "--repeats", "1", "--arm", "half"]) == 0
    out = capsys.readouterr().out
    assert "arm half (sagan)" in out and "| default@bf16 |" in out
    specs = port_specs("sagan", {"key_ratio": 2, "impl": "sdpa"}, resolution=32, batch=2, width=2)
    assert [s.variant_options["key_ratio"] for s in specs.values()] == [2, 2, 2, 2]
    assert "impl" not in specs["default"].variant_options  # the row's kernel, not the arm's
    assert main([*args, "--arm", "sparse"]) == 2  # top-k has no naive kernel to compare
    assert "variant 'topk' has no impl option" in capsys.readouterr().err
    assert main([*args, "--arm", "nope"]) == 2
    assert "--arm 'nope' is not an arm of the study; use one of" in capsys.readouterr().err
