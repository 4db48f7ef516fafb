"""Rates of the cost benchmarks, worked by hand: the matmul peak (2 n^3 per product over the
median time), achieved FLOP/s and utilisation in consistent units, images per second, and the
throughput bench's iterations per second, runs per device-hour and ratio to K = 1. Clocks and
workers are faked, so every expected number is exact."""

import io
import json
import statistics
import subprocess
import sys

import pytest
import torch
from torch import nn

import sagan.bench.throughput as throughput
import sagan.cost.utilisation as utilisation
from sagan.config import to_dict
from sagan.errors import ConfigError
from sagan.study.model import parse_study


def _clock(monkeypatch, ticks):
    ticks = iter(ticks)
    monkeypatch.setattr(utilisation.time, "perf_counter", lambda: next(ticks))


def test_the_matmul_peak_is_2_n_cubed_over_the_median_product(monkeypatch):
    seen = []
    monkeypatch.setattr(torch, "mm", lambda a, b: seen.append(a.shape))
    _clock(monkeypatch, [0.0, 0.5, 1.0, 3.0, 3.0, 3.25])  # products of 0.5, 2 and 0.25 s
    peak = utilisation.matmul_peak_flops("cpu", size=4, repeats=3)
    assert peak == 2 * 4**3 / 0.5  # the median, not the mean (0.9167) or the best
    assert seen == [(4, 4)] * 4  # a warm-up product, untimed, then the three timed


@pytest.fixture
def tf32():
    """The cuBLAS TF32 switch (no plain attribute, so not monkeypatched), restored after."""
    before = torch.backends.cuda.matmul.allow_tf32
    yield torch.backends.cuda.matmul
    torch.backends.cuda.matmul.allow_tf32 = before


def test_the_peak_runs_in_the_steps_math_and_restores_the_tf32_switch(monkeypatch, tf32):
    flags, made = [], []
    a, b = object(), object()
    monkeypatch.setattr(torch, "mm", lambda x, y: flags.append((x, y, tf32.allow_tf32)))
    monkeypatch.setattr(utilisation, "sync", lambda device: None)
    monkeypatch.setattr(utilisation, "_operands", lambda *args: made.append(args) or (a, b))
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", True)
    tf32.allow_tf32 = False
    _clock(monkeypatch, [0.0, 1.0])
    assert utilisation.matmul_peak_flops("cuda", repeats=1) == 2 * 8192**3  # n = 8192 on CUDA
    assert flags == [(a, b, True)] * 2  # TF32 inside, as the fp32 step runs
    assert made == [(8192, "cuda", "fp32")] and tf32.allow_tf32 is False  # switched back
    tf32.allow_tf32 = True
    _clock(monkeypatch, [0.0, 2.0])
    asked = []
    monkeypatch.setattr(utilisation, "_cpu_size", lambda p, b: asked.append((p, b)) or 16)
    assert utilisation.matmul_peak_flops("cpu", "bf16", repeats=1, budget_s=0.5) == 16**3
    assert asked == [("bf16", 0.5)] and made[-1] == (16, "cpu", "bf16")
    assert flags[-2:] == [(a, b, False)] * 2 and tf32.allow_tf32 is True
    # the defaults: the CPU in fp32, 5 timed products, n fitting a quarter second
    _clock(monkeypatch, [0.0, 1.0] * 5)
    assert utilisation.matmul_peak_flops() == 2 * 16**3 and len(flags) == 4 + 6
    assert asked[-1] == ("fp32", 0.25) and made[-1] == (16, "cpu", "fp32")


def test_peak_kind_is_tf32_only_for_fp32_on_cuda_with_cudnn_tf32(monkeypatch):
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", True)
    kinds = [utilisation.peak_kind(d, p) for d in ("cpu", "cuda:0") for p in ("fp32", "bf16")]
    assert kinds == ["fp32", "bf16", "tf32", "bf16"]
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", False)
    assert utilisation.peak_kind("cuda", "fp32") == "fp32"


def test_the_peaks_operands_are_seeded_n_by_n_in_the_steps_dtype_and_device():
    a, b = utilisation._operands(3, "cpu", "bf16")
    assert a.shape == b.shape == (3, 3) and a.dtype == b.dtype == torch.bfloat16
    gen = torch.Generator().manual_seed(0)
    first, second = torch.randn(3, 3, generator=gen), torch.randn(3, 3, generator=gen)
    assert torch.equal(a, first.bfloat16()) and torch.equal(b, second.bfloat16())
    meta = utilisation._operands(2, "meta", "fp16")
    assert [(t.device.type, t.dtype) for t in meta] == [("meta", torch.float16)] * 2


def test_the_cpu_size_takes_a_budget_met_exactly(monkeypatch):
    # the probe (256) takes 1/8 s, so 512 takes 1 s (n^3) and 1024 8 s
    _clock(monkeypatch, [0.0, 0.125])
    assert utilisation._cpu_size("fp32", budget_s=1.0) == 512
    _clock(monkeypatch, [0.0, 0.125])
    assert utilisation._cpu_size("fp32", budget_s=8.0, largest=4096) == 1024
    _clock(monkeypatch, [0.0, 0.125])
    assert utilisation._cpu_size("fp32", budget_s=8.0, largest=512) == 512
    _clock(monkeypatch, [0.0, 0.0])  # a product faster than the clock counts as 1 ns
    assert utilisation._cpu_size("fp32", budget_s=8e-9) == 512
    _clock(monkeypatch, [5.0, 5.0 + 2**-20])
    # from a probe of 4 taking 2^-20 s: 512 costs 2^-20 (512 / 4)^3 = 2 s, 1024 16 s
    assert utilisation._cpu_size("fp32", budget_s=8.0, probe=4) == 512
    _clock(monkeypatch, [0.0, 0.125])
    assert utilisation._cpu_size("fp32", budget_s=1e9) == 2048  # the largest by default
    made = []
    monkeypatch.setattr(utilisation, "_operands", lambda *a: made.append(a) or (1, 1))
    monkeypatch.setattr(torch, "mm", lambda a, b: None)
    _clock(monkeypatch, [0.0, 0.125])
    utilisation._cpu_size("bf16", budget_s=1.0)
    assert made == [(256, "cpu", "bf16")]  # the probe is timed on the CPU


def test_step_flops_counts_forward_and_backward_as_torch_counts_them(capsys):
    a, b = torch.randn(3, 4), torch.randn(4, 5)
    flops = utilisation.step_flops(lambda: torch.mm(a, b))
    assert flops == 2 * 3 * 4 * 5 and type(flops) is int
    fc, x = nn.Linear(4, 5, bias=False), torch.randn(3, 4)
    # forward 2 B I O; backward the weight's gradient only (x needs none): 2 B I O
    assert utilisation.step_flops(lambda: fc(x).sum().backward()) == 2 * 2 * 3 * 4 * 5
    assert capsys.readouterr().out == ""  # counted, not printed as a table


def test_profile_rows_put_flops_per_step_over_ms_against_the_peak(monkeypatch):
    import types

    import sagan.cost.profile as profile_module
    from sagan.config import ModelConfig
    from sagan.cost.step import StepSpec

    ms = {"base": [2.0, 1.0, 1.5], "attn": [4.0, 2.0, 3.0]}  # medians 1.5 and 3 ms
    flops = {"base": 184_500, "attn": 6e9}
    peaks = {"bf16": 5e10, "fp32": 8e12}  # FLOP/s
    monkeypatch.setattr(profile_module, "time_rounds", lambda steps, *a: ms)
    monkeypatch.setattr(profile_module, "matmul_peak_flops", lambda d, p: peaks[p])
    monkeypatch.setattr(profile_module, "step_flops", lambda step: flops[step.label])
    monkeypatch.setattr(profile_module, "model_costs", lambda *a, **kw: {})
    built = lambda s, d: (types.SimpleNamespace(label=s.label), types.SimpleNamespace(G=0, D=0))  # noqa: E731
    monkeypatch.setattr(profile_module, "build_step", built)
    specs = [
        StepSpec("base", "dcgan", model=ModelConfig(), batch=4, precision="bf16"),
        StepSpec("attn", "dcgan", model=ModelConfig(), batch=4),
    ]
    base, attn = profile_module.profile(specs, repeats=3, memory=False)
    # 6e9 FLOP in 3 ms: 2e12 FLOP/s = 2000 GFLOP/s, a quarter of the 8000 GFLOP/s peak
    assert (attn["ms_per_step"], attn["step_flops"]) == (3.0, 6e9)
    assert attn["achieved_gflops"] == 2000.0 and attn["peak_gflops"] == 8000.0
    assert attn["utilisation_pct"] == 25.0
    assert attn["images_per_s"] == pytest.approx(4 / 3e-3, abs=0.005)  # a batch of 4 per 3 ms
    assert attn["ratio_to_baseline"] == 2.0  # 4/2, 2/1, 3/1.5
    # 184500 FLOP in 1.5 ms: 0.123 GFLOP/s of 50, 0.246 %: not 0.24 % from 0.12 GFLOP/s
    assert (base["achieved_gflops"], base["peak_gflops"]) == (0.12, 50.0)
    assert base["utilisation_pct"] == pytest.approx(0.246, abs=0.005)
    assert base["images_per_s"] == pytest.approx(4 / 1.5e-3, abs=0.005)


TINY = {
    "study": "tiny",
    "datasets": {"digits": {"resolution": 16, "heldout": 400}},
    "variants": {
        "plain": {"variant": "dcgan"},
        "attn": {"variant": "sagan", "g_resolutions": [8], "d_resolutions": [8]},
    },
    "sizes": ["full"],
    "seeds": [0],
    "model": {"width": 4, "z_dim": 8},
    "train": {"iterations": 1000, "batch_size": 4},
}


class FakeWorker:
    """A throughput worker that says ready and reports the span it is handed."""

    spans: list = []
    made: list = []

    def __init__(self, cmd, **pipes):
        self.cmd, self.pipes, self.job = cmd, pipes, json.loads(cmd[-1])
        self.fed, self.killed, self.code, self.timeouts = [], False, None, []
        span = FakeWorker.spans.pop(0)
        ready = "ready" if span else "Traceback"
        self.stdout = io.StringIO(f"{ready}\n{json.dumps(span)}\n")
        self.stdin = self
        FakeWorker.made.append(self)

    def write(self, text):
        self.fed.append(text)

    def flush(self):
        pass

    def close(self):
        self.code = 0

    def wait(self, timeout=None):
        self.timeouts.append(timeout)
        return self.code

    def poll(self):
        return self.code

    def kill(self):
        self.killed, self.code = True, -9


def test_k_workers_rate_is_k_times_iterations_over_first_start_to_last_end(monkeypatch):
    monkeypatch.setattr(throughput.subprocess, "Popen", FakeWorker)
    spans = [
        {"start": 10.0, "end": 12.0},
        {"start": 10.5, "end": 14.0},
        {"start": 9.0, "end": 13.0},
    ]
    FakeWorker.spans, FakeWorker.made = list(spans), []
    cfg = throughput.bench_run(parse_study(TINY), None, 16)
    rate = throughput.measure(cfg, 3, iterations=10, device="cpu", threads=2, cuda_graphs=True)
    assert rate == 3 * 10 / (14.0 - 9.0)
    first = FakeWorker.made[0]
    assert first.cmd[:3] == [sys.executable, "-m", "sagan.bench.throughput"]
    assert first.pipes == {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE, "text": True}
    assert first.job == {
        "config": to_dict(cfg),
        "iterations": 10,
        "device": "cpu",
        "threads": 2,
        "cuda_graphs": True,
    }
    assert all(w.fed == ["go\n"] and not w.killed for w in FakeWorker.made)
    assert all(w.timeouts[0] is not None for w in FakeWorker.made)  # a stuck one is not waited on
    FakeWorker.spans, FakeWorker.made = [{"start": 0.0, "end": 1.0}, None], []
    with pytest.raises(RuntimeError, match="failed to start"):
        throughput.measure(cfg, 2, iterations=1, device="cpu")
    assert (FakeWorker.made[0].job["threads"], FakeWorker.made[0].job["cuda_graphs"]) == (1, False)
    assert [w.killed for w in FakeWorker.made] == [True, True]  # none outlives the bench


def test_the_bench_runs_the_first_arm_placing_g_attention_with_the_sides_that_fit():
    study = {
        **TINY,
        "variants": {
            "plain": {"variant": "dcgan"},
            "d_only": {"variant": "sagan", "g_resolutions": [], "d_resolutions": [8]},
            "attn": {"variant": "sagan", "g_resolutions": [8, 16, 32], "impl": "naive"},
        },
    }
    cfg = throughput.bench_run(parse_study(study), None, 16)
    assert cfg.arm == "attn" and cfg.variant == "sagan"  # d_only's options place none in G
    assert cfg.variant_options == {"g_resolutions": [8], "impl": "naive"}  # 16 does not fit 16
    assert (cfg.model.width, cfg.model.z_dim, cfg.train.iterations) == (4, 8, 1000)
    assert cfg.train.precision == "fp32" and cfg.data.resolution == 16
    assert throughput.bench_run(parse_study(study), "plain", 16, "bf16").train.precision == "bf16"
    plain = {**TINY, "variants": {"a": {"variant": "dcgan"}, "b": {"variant": "dcgan"}}}
    assert (
        throughput.bench_run(parse_study(plain), None, 16).arm == "a"
    )  # none with attention: the first
    with pytest.raises(ConfigError, match=r"--arm 'c' is not an arm .* one of \['a', 'b'\]"):
        throughput.bench_run(parse_study(plain), "c", 16)


def test_runs_per_device_hour_and_ratio_from_median_rates(monkeypatch):
    # each K's rate in repeats 0, 1, 2 (medians 3 and 6 it/s); CUDA graphs on double them
    table = {2: [9.0, 2.0, 3.0], 4: [6.0, 5.0, 13.0]}  # means 4.67 and 8
    calls = []

    def fake_measure(cfg, k, *, iterations, device, threads, cuda_graphs):
        calls.append((cfg.data.resolution, cuda_graphs, k, iterations, threads, device))
        done = sum(1 for c in calls if c[:3] == calls[-1][:3]) - 1
        return table[k][done] * (2 if cuda_graphs else 1)

    monkeypatch.setattr(throughput, "measure", fake_measure)
    rows = throughput.run_throughput_bench(
        parse_study(TINY), resolutions=[16], ks=[4, 2], iterations=7, threads=3, device="cuda:1",
        cuda_graphs=[False, True],
    )  # fmt: skip
    # the Ks of one repeat in turn: 4 2 4 2 4 2, graphs off, then on
    assert calls[:6] == [(16, False, k, 7, 3, "cuda:1") for k in (4, 2) * 3]
    assert [(r["cuda_graphs"], r["k"]) for r in rows] == [
        ("off", 4),
        ("off", 2),
        ("on", 4),
        ("on", 2),
    ]
    off4, off2, on4, on2 = rows
    assert (off4["it_per_s"], off2["it_per_s"], on2["it_per_s"]) == (6.0, 3.0, 6.0)
    # a run is train.iterations = 1000 iterations: 3600 s x 6 it/s / 1000
    assert off4["runs_per_device_hour"] == 3600 * 6.0 / 1000 and on4["it_per_s"] == 12.0
    assert (off4["ratio"], off2["ratio"], on4["ratio"]) == (2.0, 1.0, 2.0)  # to the least K
    assert off4["arm"] == "attn" and off4["resolution"] == 16
    calls.clear()
    cpu = throughput.run_throughput_bench(
        parse_study(TINY), resolutions=[16], ks=[2], repeats=1, cuda_graphs=[True]
    )
    assert [r["cuda_graphs"] for r in cpu] == ["off"] and calls == [(16, False, 2, 5, 1, "cpu")]
    assert statistics.median(table[2]) == off2["it_per_s"]
    seen = []
    monkeypatch.setattr(throughput, "measure", lambda cfg, k, **kw: seen.append(cfg) or 1.0)
    tiny = parse_study(TINY)
    throughput.run_throughput_bench(tiny, resolutions=[16], ks=[1], repeats=1, arm="plain",
                                    precision="bf16")  # fmt: skip
    assert (seen[0].arm, seen[0].train.precision) == ("plain", "bf16")


def test_the_throughput_table_prints_each_rate_to_three_figures():
    row = {"resolution": 16, "arm": "attn", "cuda_graphs": "off", "k": 2, "it_per_s": 12.345,
           "runs_per_device_hour": 44.44, "ratio": 1.875}  # fmt: skip
    lines = throughput.format_throughput_table([row]).splitlines()
    assert lines[:2] == [
        "| px | arm | CUDA graphs | K | iterations/s | runs per device-hour | x K=1 |",
        "| ---: | --- | --- | ---: | ---: | ---: | ---: |",
    ]
    assert lines[2] == "| 16 | attn | off | 2 | 12.3 | 44.4 | 1.88 |"
