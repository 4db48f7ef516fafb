"""The GPU check (issue 33): all a lent GPU must measure, in one prepared command.

    .ci/gpu-check --out DIR [--device cuda|cpu] [--tiny] [--only STEP ...]

Six steps run in this order, each in a process of its own under a time budget, so a hang
or a CUDA crash costs that step alone: a killed step is recorded as "timed out after N s"
and the next one runs. Each step writes DIR/<n>-<step>.md and .csv as it measures (a run
cut off leaves what it had), its output to DIR/<n>-<step>.log, and DIR/summary.md and
summary.csv gain its row as it ends. The exit code is 0 when every step passed.

Budgets, in seconds. Full (one H100; the card's one command gets 10 minutes, start-up
included): 525 in all, under 9 minutes. --tiny (a 2-core CPU, CI): each measured well under
its budget, the whole under 2 minutes; the budgets only stop a hang.

| step        | full | tiny | what                                                        |
| ----------- | ---: | ---: | ----------------------------------------------------------- |
| environment |   15 |   30 | torch, CUDA, cuDNN; the device; CPU bf16; missing packages  |
| smoke       |   60 |   60 | every variant: a step in fp32 and bf16, a sampling pass     |
| attention   |   75 |   60 | 5 kernels at 1,024, 4,096, 16,384 tokens; fp32 and bf16     |
| throughput  |  150 |   60 | bench throughput: 32, 64 px; K = 1, 2, 4, 8; graphs off, on |
| study       |  150 |  120 | a cut-down default study to its summary under Snakemake     |
| estimate    |   75 |   60 | `sagan estimate config/paper.yaml`                          |

Tiny shrinks each: tokens 256 and 1,024; 16 px and K = 1, 2; an 8-wide model, 10
iterations, one seed; the estimate of the cut-down study rather than the paper's.
"""

from __future__ import annotations

import argparse
import csv
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from gpu_check_files import markdown_table

ROOT = Path(__file__).resolve().parents[1]
RESULT = "gpu-check result: "  # a step's last line of output starting so is its result

BUDGETS = {  # step: (full, tiny) seconds
    "environment": (15, 30),
    "smoke": (60, 60),
    "attention": (75, 60),
    "throughput": (150, 60),
    "study": (150, 120),
    "estimate": (75, 60),
}


@dataclass(frozen=True)
class Step:
    number: int  # its place in the whole check: files are DIR/<number>-<name>.*
    name: str
    budget_s: float
    command: list[str]


def step_result(log: Path) -> str:
    """The result line a step printed, else its last line of output (a traceback's error)."""
    lines = [line.strip() for line in log.read_text(errors="replace").splitlines()]
    said = [line.removeprefix(RESULT) for line in lines if line.startswith(RESULT)]
    return said[-1] if said else next((x for x in reversed(lines) if x), "(no output)")


def run_step(step: Step, log: Path) -> dict:
    """Run one step under its budget: its summary row (step, status, seconds, result)."""
    # this checkout's sagan and variants, whatever else is installed
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    start = time.perf_counter()
    with log.open("w") as out:
        # a session of its own: on a timeout its whole group (workers, snakemake jobs) is killed
        proc = subprocess.Popen(
            step.command,
            cwd=ROOT,
            env=os.environ | {"PYTHONPATH": path},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            rc = proc.wait(timeout=step.budget_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            rc = None
    seconds = round(time.perf_counter() - start, 1)
    row = {"step": step.name, "status": "passed", "seconds": seconds}
    if rc is None:
        return row | {"status": "timed out", "result": f"timed out after {step.budget_s:g} s"}
    return row | {"status": "passed" if rc == 0 else "failed", "result": step_result(log)}


def write_summary(rows: list[dict], out: Path) -> str:
    table = markdown_table(rows)
    (out / "summary.md").write_text(f"# GPU check summary\n\n{table}\n")
    with (out / "summary.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["step", "status", "seconds", "result"])
        writer.writeheader()
        writer.writerows(rows)
    return table


def read_summary(out: Path) -> list[dict]:
    """The rows of an earlier run's summary in ``out`` ([] where there is none)."""
    path = out / "summary.csv"
    if not path.is_file():
        return []
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def run_steps(steps: list[Step], out: Path, earlier: list[dict] = ()) -> list[dict]:
    """Each step in turn, whatever became of the one before; the summary after each. Rows of
    ``earlier`` (a run whose failed steps these rerun) stay, but for the steps run again."""
    rows = {row["step"]: row for row in earlier}
    for step in steps:
        print(f"[gpu-check] {step.number} {step.name} (budget {step.budget_s:g} s)")
        row = run_step(step, out / f"{step.number}-{step.name}.log")
        print(f"[gpu-check]   {row['status']}: {row['result']}", flush=True)
        rows[step.name] = row
        write_summary(list(rows.values()), out)
    return list(rows.values())


def check_steps(args: argparse.Namespace) -> list[Step]:
    """The six steps, each this script again in step mode."""
    this = [sys.executable, str(Path(__file__).resolve())]
    common = ["--out", str(args.out), "--device", args.device] + (["--tiny"] if args.tiny else [])
    return [
        Step(number, name, budgets[args.tiny], [*this, "--step", name, *common])
        for number, (name, budgets) in enumerate(BUDGETS.items(), 1)
        if not args.only or name in args.only
    ]


def run_one(args: argparse.Namespace) -> int:
    """Step mode (in the step's own process): run it, print its result line."""
    from gpu_check_steps import STEPS, Context, StepFailed

    number = list(BUDGETS).index(args.step) + 1
    ctx = Context(args.out, args.device, args.tiny)
    try:
        said = STEPS[args.step](ctx, f"{number}-{args.step}")
    except StepFailed as err:
        print(f"{RESULT}{err}", flush=True)
        return 1
    print(f"{RESULT}{said}", flush=True)
    return 0


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog=".ci/gpu-check", description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, required=True, help="folder for the results")
    p.add_argument("--device", default="cuda", help="cuda (default), cuda:N or cpu")
    p.add_argument("--tiny", action="store_true", help="every step shrunk (CI on a CPU)")
    p.add_argument(
        "--only",
        nargs="+",
        choices=list(BUDGETS),
        help="run these steps again (say, those that failed); the summary keeps the others'",
    )
    p.add_argument("--step", choices=list(BUDGETS), help=argparse.SUPPRESS)  # a step's process
    args = p.parse_args(argv)
    args.out = args.out.resolve()
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.step:
        return run_one(args)
    start = time.perf_counter()
    earlier = read_summary(args.out) if args.only else []
    rows = run_steps(check_steps(args), args.out, earlier)
    print(f"\n{write_summary(rows, args.out)}")
    print(f"\n[gpu-check] {time.perf_counter() - start:.0f} s in all; results in {args.out}")
    return 0 if all(row["status"] == "passed" for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
