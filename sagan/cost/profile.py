"""``sagan profile``: training-step cost of configurations, measured side by side.

Each configuration's step is built once; after warm-up the steps run interleaved
(A B C A B C ...) in this process on one device, so clock drift and background load hit every
row alike. A row gives the median ms/step with its spread over the repeats (quartiles, min,
max, and the times themselves), and the ratio to a baseline row taken per round (over the
baseline's time in the same round): its median and the order-statistic interval of that median
(``median_interval``: NaN below MIN_ROUNDS repeats). The cores that other processes kept busy during
the timing (``other_cores``: the machine's busy CPU time less this process's) say whether other
work shared the machine (``loaded``: more than 10% of the cores); the 1-minute load averages
before and after are kept beside it. Beside time: images/s, peak memory (CUDA: max allocated
during a step; CPU: peak RSS delta of one step in a fresh child process), parameters, counted
MACs/FLOPs per image (fvcore, sagan.cost.flops), the step's FLOPs (torch's FlopCounterMode) and
their rate against this device's matmul peak.
"""

from __future__ import annotations

import math
import os
import platform
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import torch

from sagan.cost.flops import model_costs
from sagan.cost.memory import peak_memory_deltas
from sagan.cost.slopes import loglog_slope as loglog_slope  # where the tests find it
from sagan.cost.slopes import scaling_slope
from sagan.cost.step import StepSpec, build_step, setup_for_memory
from sagan.cost.timing import (
    OtherWork,
    cores,
    cuda_peak_bytes,
    machine_load,
    median_interval,
    time_rounds,
)
from sagan.cost.utilisation import matmul_peak_flops, peak_kind, step_flops
from sagan.models.placement import placed_sides

if TYPE_CHECKING:  # read by its attributes; the study package sits above this one
    from sagan.study.model import Study

MIB = 2**20


def device_name(device: str) -> str:
    if device.startswith("cuda"):
        return torch.cuda.get_device_name(device)
    return f"{platform.processor() or platform.machine()} CPU, {torch.get_num_threads()} threads"


def profile(
    specs: Sequence[StepSpec],
    *,
    device: str = "cpu",
    baseline: str | None = None,
    warmup: int = 2,
    repeats: int = 5,
    memory: bool = True,
) -> list[dict[str, Any]]:
    """One row per spec; ``baseline`` (a label, default the first) is the ratio's denominator."""
    labels = [s.label for s in specs]
    if len(set(labels)) != len(labels):
        raise ValueError(f"profile labels must be unique, got {labels}")
    baseline = baseline or labels[0]
    if baseline not in labels:
        raise ValueError(f"baseline {baseline!r} is not one of the labels {labels}")
    built = {s.label: build_step(s, device) for s in specs}
    load_before = os.getloadavg()[0]
    with OtherWork() as other:
        rounds = time_rounds(
            {label: step for label, (step, _) in built.items()}, repeats, warmup, device
        )
    load = machine_load(load_before, os.getloadavg()[0], cores(), other.cores)
    ms = {label: float(np.median(t)) for label, t in rounds.items()}
    peaks = {p: matmul_peak_flops(device, p) for p in {s.precision for s in specs}}
    memory_mib = _peak_mib(specs, built, device) if memory else {}
    rows = []
    for spec in specs:
        step, m = built[spec.label]
        flops = step_flops(step)
        row = {
            "label": spec.label,
            "arm": spec.arm or spec.variant,  # what figures and claims compare
            "variant": spec.variant,  # the registered variant: the model code
            "backbone": spec.backbone,
            "width": spec.model.width,
            "resolution": spec.resolution,
            "frames": spec.frames,  # > 0: video, and images_per_s counts clips
            "batch": spec.batch,
            "precision": spec.precision,
            "device": device_name(device),
            "threads": torch.get_num_threads(),
            "ms_per_step": round(ms[spec.label], 3),
            **spread(rounds[spec.label], rounds[baseline]),
            "images_per_s": round(spec.batch / ms[spec.label] * 1e3, 2),
            "baseline": baseline,
            **load,
            "peak_mem_mib": memory_mib.get(spec.label, math.nan),
            **model_costs(
                m.G,
                m.D,
                spec.model.z_dim,
                spec.resolution,
                spec.channels,
                classes=spec.classes,
                frames=spec.frames,
            ),
            "step_flops": flops,
            "achieved_gflops": round(flops / ms[spec.label] / 1e6, 2),
            "peak_gflops": round(peaks[spec.precision] / 1e9, 1),
            "peak_kind": peak_kind(device, spec.precision),
        }
        # from the unrounded rates: a small CPU step's 0.123 GFLOP/s is not 0.12
        row["utilisation_pct"] = round(
            100 * flops / (ms[spec.label] / 1e3) / peaks[spec.precision], 2
        )
        rows.append(row)
    return rows


def spread(times: Sequence[float], baseline: Sequence[float]) -> dict[str, Any]:
    """The spread of one row's times over the repeats, and its ratio to the baseline's time in
    each round: the ratios' median and the interval of that median."""
    q25, q75 = np.percentile(times, [25, 75])
    ratios = [t / b for t, b in zip(times, baseline, strict=True)]
    lo, hi, coverage = median_interval(ratios)
    return {
        "repeats": len(times),
        "ms_q25": round(float(q25), 3),
        "ms_q75": round(float(q75), 3),
        "ms_min": round(min(times), 3),
        "ms_max": round(max(times), 3),
        "ms_repeats": " ".join(f"{t:.3f}" for t in times),  # in round order
        "ratio_to_baseline": round(float(np.median(ratios)), 4),
        "ratio_lo": round(lo, 4),
        "ratio_hi": round(hi, 4),
        "ratio_coverage": round(coverage, 4),
    }


def _peak_mib(specs: Sequence[StepSpec], built: dict, device: str) -> dict[str, float]:
    """Each spec's peak memory of one step, by label: on CUDA in this process, on a CPU in
    child processes (one per spec, all at once)."""
    if device.startswith("cuda"):
        return {s.label: round(cuda_peak_bytes(built[s.label][0], device) / MIB, 1) for s in specs}
    threads = torch.get_num_threads()
    kwargs = [{"spec": s.to_json(), "threads": threads} for s in specs]
    deltas = peak_memory_deltas(setup_for_memory, kwargs)
    return {s.label: round(delta / MIB, 1) for s, delta in zip(specs, deltas, strict=True)}


def scaling(
    study: Study,
    resolutions: Sequence[int],
    *,
    device: str = "cpu",
    memory: bool = True,
) -> list[dict[str, Any]]:
    """Profile rows of the scaling sweep, with the attention map's tokens N and the cost over
    the baseline at the same image size (so the O(N^2) part stands out)."""
    from sagan.cost.plan import profile_settings, scaling_specs

    settings = profile_settings(study)
    rows = []
    for resolution in resolutions:
        specs = scaling_specs(study, resolution)
        got = profile(
            specs,
            device=device,
            warmup=settings.warmup,
            repeats=settings.repeats,
            memory=memory,
        )
        base = got[0]
        for spec, row in zip(specs, got, strict=True):
            side = (placed_sides(spec.variant, spec.variant_options)[0] or [0])[0]
            row |= {
                "attention_side": side,
                "tokens": side * side,
                "overhead_ms": round(row["ms_per_step"] - base["ms_per_step"], 3),
                "overhead_mem_mib": round(row["peak_mem_mib"] - base["peak_mem_mib"], 1),
                "attention_macs": row["attention_macs_g"] + row["attention_macs_d"],
            }
            rows.append(row)
    return rows


def scaling_slopes(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Log-log slopes against tokens N of the attention rows, per arm and placement (image
    side / attention side): about 2 where the O(N^2) attention dominates the cost, about 1 for
    a kernel linear in N; NaN through fewer than 3 points above the floor (``scaling_slope``)."""
    attention = [r for r in rows if r["tokens"]]
    arms = list(dict.fromkeys(r["arm"] for r in attention))  # in sweep order
    out = []
    for arm in arms:
        mine = [r for r in attention if r["arm"] == arm]
        for divisor in sorted({r["resolution"] // r["attention_side"] for r in mine}):
            group = [r for r in mine if r["resolution"] // r["attention_side"] == divisor]
            tokens = [r["tokens"] for r in group]
            out.append(
                {
                    "arm": arm,
                    "placement": f"image side / {divisor}",
                    "points": len(group),
                    "tokens": " ".join(str(t) for t in tokens),
                    **{
                        f"slope_{key}": round(scaling_slope(pd.DataFrame(group), key), 3)
                        for key in ("overhead_ms", "overhead_mem_mib", "attention_macs")
                    },
                }
            )
    return out
