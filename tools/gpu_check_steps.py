"""The six steps of the GPU check. Each runs in a process of its own (tools/gpu_check.py),
writes its rows to DIR as it measures them, and returns its one-line result; a step that
measured but found a failure raises StepFailed with that line."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gpu_check_files import StepFiles
from gpu_check_study import NAME, ROOT, snakemake_command, throughput_study, write_study

from sagan.study.model import parse_study


class StepFailed(Exception):
    """The step ran to its end, and what it measured is a failure (its message: one line)."""


@dataclass(frozen=True)
class Context:
    out: Path
    device: str
    tiny: bool

    def files(self, stem: str, title: str, table: bool = True) -> StepFiles:
        where = f"{self.device}{', tiny' if self.tiny else ''}"
        return StepFiles(self.out, stem, f"{title} ({where})", table)


def environment(ctx: Context, stem: str) -> str:
    from sagan.bench.environment import environment_facts

    files = ctx.files(stem, "Environment")
    facts = environment_facts(ctx.device)
    for fact, value in facts:
        files.add_row({"fact": fact, "value": value})
    found = dict(facts)
    where = found.get("device name") or found.get("cpu")
    return f"torch {found['torch']}, CUDA {found['cuda (torch built with)']}, {where}"


def smoke(ctx: Context, stem: str) -> str:
    from sagan.bench.smoke import smoke_rows

    files = ctx.files(stem, "Smoke test of every registered variant")
    for row in smoke_rows(ctx.device):
        files.add_row(row)
    if not files.rows:  # plug-ins register through the package's entry points
        raise StepFailed("no variant is registered: install the checkout (pip install --no-deps .)")
    failed = [f"{r['variant']} {r['pass']}" for r in files.rows if r["status"] != "ok"]
    said = f"{len(files.rows) - len(failed)} of {len(files.rows)} passes ok"
    if failed:
        first = next(r for r in files.rows if r["status"] != "ok")
        raise StepFailed(f"{said}; failed: {', '.join(failed)} (first: {first['error']})")
    return said


def attention(ctx: Context, stem: str) -> str:
    from sagan.bench.attention import arm_label, format_table, run_attention_bench
    from sagan.bench.attention_error import max_abs_diffs

    tokens = (256, 1024) if ctx.tiny else (1024, 4096, 16384)
    size = {"batch": 2, "channels": 16} if ctx.tiny else {"batch": 8, "channels": 64}
    timing = {"repeats": 2, "warmup": 1} if ctx.tiny else {"repeats": 10, "warmup": 2}
    files = ctx.files(stem, "Attention kernels: forward+backward, and distance from naive")
    files.add_text(
        "max_abs_diff: the largest |output - naive fp32 output| of the forward on the same "
        "input (top-k and linear compute another function: theirs is the approximation)."
    )
    for precision in ("fp32", "bf16"):
        for n in tokens:
            rows = run_attention_bench(
                tokens=(n,),
                device=ctx.device,
                precision=precision,
                measure_memory=not ctx.tiny,  # on a CPU, a child process per kernel
                **size,
                **timing,
            )
            diffs = max_abs_diffs(n, device=ctx.device, precision=precision, **size)
            files.add_text(format_table(rows))
            keep = ("tokens", "impl", "top_k", "ms", "peak_mib", "time_ratio", "skipped")
            for row in rows:
                diff = diffs.get(arm_label((row["impl"], row["top_k"])))
                measured = {k: row[k] for k in keep} | {"max_abs_diff": diff}
                files.add_row({"precision": precision, **measured})
    ran = [r for r in files.rows if r["ms"] is not None]
    return f"{len(ran)} of {len(files.rows)} kernel rows timed at {', '.join(map(str, tokens))}"


def throughput(ctx: Context, stem: str) -> str:
    from sagan.bench.throughput import format_throughput_table, run_throughput_bench

    name, study = throughput_study(ctx.tiny)
    files = ctx.files(stem, "Runs per device-hour with K jobs on one device", table=False)
    resolutions = [16] if ctx.tiny else [32, 64]
    ks = [1, 2] if ctx.tiny else [1, 2, 4, 8]
    graphs = [False, True] if ctx.device.startswith("cuda") else [False]
    files.add_text(f"The model and train sections of {name}; repeats 1.")
    for graph in graphs:  # all of graphs off first: a cut-off run keeps the plain numbers
        for resolution in resolutions:
            rows = run_throughput_bench(
                parse_study(study),
                resolutions=[resolution],
                ks=ks,
                iterations=1 if ctx.tiny else 5,
                repeats=1,
                device=ctx.device,
                cuda_graphs=[graph],
            )
            files.add_text(format_throughput_table(rows))
            for row in rows:
                files.add_row(row)
    best = max(files.rows, key=lambda r: r["runs_per_device_hour"])
    return (
        f"best: K = {best['k']} at {best['resolution']} px, graphs {best['cuda_graphs']}: "
        f"{best['ratio']:.2f} x K = 1"
    )


def study(ctx: Context, stem: str) -> str:
    import pandas as pd

    files = ctx.files(stem, "A cut-down default study under Snakemake")
    workdir = ctx.out / "study"
    config = write_study(workdir / "study.yaml", ctx.tiny)
    summary = f"results/{NAME}/summary.csv"
    cmd = snakemake_command(sys.executable, config, workdir, ctx.device, summary)
    files.add_text(f"```\n{' '.join(cmd)}\n```")
    rc, seconds, log = _run(cmd, workdir / "snakemake.log")
    row = {"rc": rc, "wall_s": round(seconds, 1), "log": str(log.relative_to(ctx.out))}
    table = workdir / summary
    if table.is_file():
        frame = pd.read_csv(table)
        statuses = frame["status"].value_counts().to_dict() if "status" in frame else {}
        row |= {"summary_rows": len(frame), "statuses": _counts(statuses)}
    files.add_row(row)
    said = f"rc {rc} in {seconds:.0f} s, {row.get('summary_rows', 0)} summary rows"
    if rc != 0 or not table.is_file():
        raise StepFailed(f"{said}: {_last_line(log)}")
    return f"{said} ({row['statuses']})"


def estimate(ctx: Context, stem: str) -> str:
    files = ctx.files(stem, "sagan estimate: a study's job-hours and wall-clock")
    if ctx.tiny:  # the paper's study times 256 px steps: minutes on a CPU
        study = write_study(ctx.out / "estimate-study.yaml", tiny=True)
    else:
        study, note = paper_study_here(ctx.out / "estimate-study.yaml")
        if note:
            files.add_text(note)
    # every job, as on a box where nothing has run (no dry run of the paper's DAG)
    cmd = [sys.executable, "-m", "sagan.cli", "estimate", str(study), "--device", ctx.device]
    cmd.append("--all-jobs")
    files.add_text(f"```\n{' '.join(cmd)}\n```")
    rc, seconds, log = _run(cmd, ctx.out / f"{stem}.output.txt")
    files.add_text(f"```\n{log.read_text().rstrip()}\n```")
    files.add_row({"study": study.name, "rc": rc, "seconds": round(seconds, 1)})
    if rc != 0:
        raise StepFailed(f"rc {rc}: {_last_line(log)}")
    return f"rc 0 in {seconds:.0f} s: {_last_line(log)}"


def paper_study_here(copy: Path) -> tuple[Path, str]:
    """config/paper.yaml, or, where its Inception weights are absent (a lent card has none:
    they are never downloaded, and too large to carry), a copy at ``copy`` that scores with
    the domain extractor instead; and a note saying so ("" for the paper's own)."""
    import yaml

    paper = ROOT / "config" / "paper.yaml"
    study = yaml.safe_load(paper.read_text())
    evaluation = study.get("evaluation") or {}
    weights = evaluation.get("extractor_path")
    if evaluation.get("extractor") != "inception" or not weights or (ROOT / weights).is_file():
        return paper, ""
    evaluation = {k: v for k, v in evaluation.items() if k != "extractor_path"}
    study["evaluation"] = evaluation | {"extractor": "domain"}
    copy.write_text(yaml.safe_dump(study, sort_keys=False))
    return copy, (
        f"{weights} is absent: config/paper.yaml estimated with the domain extractor in "
        "place of Inception, so its evaluation hours are too low by Inception's extra cost."
    )


def _run(cmd: list[str], log: Path) -> tuple[int, float, Path]:
    """(exit code, wall-clock seconds, log) of ``cmd`` run from the repository root."""
    log.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with log.open("w") as f:
        rc = subprocess.run(cmd, cwd=ROOT, stdout=f, stderr=subprocess.STDOUT).returncode
    return rc, time.perf_counter() - start, log


def _last_line(log: Path) -> str:
    lines = [line.strip() for line in log.read_text(errors="replace").splitlines()]
    return next((line for line in reversed(lines) if line), "(no output)")


def _counts(counts: dict) -> str:
    return ", ".join(f"{n} {status}" for status, n in counts.items())


STEPS: dict[str, Callable[[Context, str], str]] = {
    "environment": environment,
    "smoke": smoke,
    "attention": attention,
    "throughput": throughput,
    "study": study,
    "estimate": estimate,
}
