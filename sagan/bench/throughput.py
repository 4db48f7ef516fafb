"""Runs per device-hour with K training processes on one device, side by side.

A GAN step at 32-64 px leaves most of a GPU idle (it is launch-bound), so several runs on
one device may finish more runs per hour than one. For each resolution (and, on CUDA, CUDA
graphs on and off) and each K, K worker processes build the study's training iteration
(its model and train sections, one arm with attention), warm up, wait at a barrier, then run
``iterations`` iterations at once; the span from the first start to the last end gives
iterations per second of the device. A run is the study's ``train.iterations``, so runs per
device-hour = 3600 x iterations/s / train.iterations. Repeats give medians; ratios are to
K = 1 at the same resolution and graph setting.

Process start-up and model building are not in the span (they are paid once per run).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from typing import TYPE_CHECKING, Any

from sagan.config import RunConfig, from_dict, to_dict
from sagan.models.placement import placement_names

if TYPE_CHECKING:
    from sagan.study.model import Study


def bench_run(
    study: Study, arm: str | None, resolution: int, precision: str | None = None
) -> RunConfig:
    """The study's model and train sections with one arm's options at ``resolution``
    (its attention sides that do not fit the image dropped): default arm, the first with
    attention. ``precision`` overrides the study's (on a CPU, bf16 steps can be far
    slower than fp32)."""
    from sagan.study import bench_arm

    a = bench_arm(study, arm)
    placing = placement_names(a.variant, a.options)
    options = {
        k: [s for s in v if s < resolution] if k in placing else v for k, v in a.options.items()
    }
    return from_dict(
        RunConfig,
        {
            "arm": a.name,
            "variant": a.variant,
            "variant_options": options,
            "model": study.section("model", arm=a),
            "train": study.section("train", arm=a)
            | ({"precision": precision} if precision else {}),
            "data": {"resolution": resolution},
        },
    )


def measure(
    cfg: RunConfig,
    k: int,
    *,
    iterations: int,
    device: str,
    threads: int = 1,
    cuda_graphs: bool = False,
) -> float:
    """Iterations per second of ``k`` workers training at once on ``device``."""
    job = {
        "config": to_dict(cfg),
        "iterations": iterations,
        "device": device,
        "threads": threads,
        "cuda_graphs": cuda_graphs,
    }
    cmd = [sys.executable, "-m", "sagan.bench.throughput", json.dumps(job)]
    workers = [
        subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for _ in range(k)
    ]
    try:
        for w in workers:  # each has built and warmed up
            if w.stdout.readline().strip() != "ready":
                raise RuntimeError(f"a throughput worker failed to start (exit {w.wait()})")
        for w in workers:
            w.stdin.write("go\n")
            w.stdin.flush()
        spans = [json.loads(w.stdout.readline()) for w in workers]
        for w in workers:
            w.stdin.close()
            w.wait(timeout=60)
    finally:
        for w in workers:  # a failed or stuck worker never outlives the benchmark
            if w.poll() is None:
                w.kill()
                w.wait()
    span = max(s["end"] for s in spans) - min(s["start"] for s in spans)
    return k * iterations / span


def run_throughput_bench(
    study: Study,
    *,
    resolutions: list[int],
    ks: list[int],
    iterations: int = 5,
    repeats: int = 3,
    device: str = "cpu",
    threads: int = 1,
    cuda_graphs: list[bool] | None = None,
    arm: str | None = None,
    precision: str | None = None,
) -> list[dict[str, Any]]:
    """One row per resolution, graph setting and K: median iterations/s over ``repeats``
    (the Ks of one repeat run in turn, so drift hits every K alike), runs per device-hour,
    and the ratio to K = 1 (to the smallest K where 1 is not asked)."""
    graphs = cuda_graphs if device.startswith("cuda") and cuda_graphs else [False]
    rows = []
    for resolution in resolutions:
        cfg = bench_run(study, arm, resolution, precision)
        for graph in graphs:
            rates: dict[int, list[float]] = {k: [] for k in ks}
            for _ in range(repeats):
                for k in ks:
                    rates[k].append(
                        measure(
                            cfg,
                            k,
                            iterations=iterations,
                            device=device,
                            threads=threads,
                            cuda_graphs=graph,
                        )
                    )
            medians = {k: statistics.median(r) for k, r in rates.items()}
            base = medians[min(ks)]
            for k in ks:
                rows.append(
                    {
                        "resolution": resolution,
                        "arm": cfg.arm,
                        "cuda_graphs": "on" if graph else "off",
                        "k": k,
                        "it_per_s": medians[k],
                        "runs_per_device_hour": 3600 * medians[k] / cfg.train.iterations,
                        "ratio": medians[k] / base,
                    }
                )
    return rows


def format_throughput_table(rows: list[dict[str, Any]]) -> str:
    head = "| px | arm | CUDA graphs | K | iterations/s | runs per device-hour | x K=1 |"
    lines = [head, "| ---: | --- | --- | ---: | ---: | ---: | ---: |"]
    for r in rows:
        lines.append(
            f"| {r['resolution']} | {r['arm']} | {r['cuda_graphs']} | {r['k']} "
            f"| {r['it_per_s']:.3g} | {r['runs_per_device_hour']:.3g} | {r['ratio']:.2f} |"
        )
    return "\n".join(lines)


def _worker(job: dict[str, Any]) -> None:
    """One training process: build, warm up, say ready, wait for go, time the iterations."""
    import torch

    from sagan.cost.timing import sync
    from sagan.data.meta import DataMeta
    from sagan.forecast.timer import training_iteration

    torch.set_num_threads(job["threads"])
    cfg = from_dict(RunConfig, job["config"])
    device = job["device"]
    meta = DataMeta(resolution=cfg.data.resolution, channels=3, num_classes=10)
    # CUDA graphs: torch.compile's mode that captures them, over G and D
    mode = "reduce-overhead" if job["cuda_graphs"] else None
    step = training_iteration(cfg, meta, device, compile_mode=mode)
    for _ in range(3 if job["cuda_graphs"] else 1):  # warm-up: allocator, kernels, compiling
        step()
    sync(device)
    print("ready", flush=True)
    sys.stdin.readline()
    start = time.time()  # wall clock: comparable across the workers
    for _ in range(job["iterations"]):
        step()
    sync(device)
    print(json.dumps({"start": start, "end": time.time(), "pid": os.getpid()}), flush=True)


if __name__ == "__main__":
    _worker(json.loads(sys.argv[1]))
