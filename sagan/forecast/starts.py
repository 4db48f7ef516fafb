"""Each kind of job's start-up, timed in fresh processes as the workflow starts them.

Every job is a new ``python -m sagan.cli`` process: a model job imports torch, the trainer
and the metrics and builds its models (``sagan.forecast.job_start``); a report job imports
pandas and matplotlib; a notebook job then runs papermill (a Jupyter kernel) and nbconvert.
On a loaded machine these take several times what they take on a quiet one, so they are
measured, not assumed.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from sagan.config import RunConfig
from sagan.data.meta import DataMeta

REPORT_IMPORTS = "import sagan.cli, sagan.report.build"
# what the report notebooks import before they draw
NOTEBOOK_CELL = "import matplotlib.pyplot as plt\nimport pandas as pd\nimport seaborn as sns"


def _wall(command: list[str], threads: int, cwd: str | None = None) -> float:
    env = os.environ | {"OMP_NUM_THREADS": str(threads)}
    start = time.perf_counter()
    subprocess.run(command, check=True, env=env, cwd=cwd, capture_output=True)
    return time.perf_counter() - start


def model_job_start(cfg: RunConfig, meta: DataMeta, threads: int = 1, device: str = "cpu") -> float:
    """Seconds for a fresh process to import what a train or evaluate job imports and to
    build the run's models and optimisers (files already in the page cache)."""
    arg = json.dumps({"config": asdict(cfg), "meta": meta.to_dict(), "device": device})
    return _wall([sys.executable, "-m", "sagan.forecast.job_start", arg], threads)


def model_job_starts_at_once(
    cfg: RunConfig, meta: DataMeta, k: int, threads: int = 1, device: str = "cpu"
) -> float:
    """Seconds for ``k`` such processes started at once to all finish: K jobs on a CPU share
    its cores, caches and memory bandwidth (and, on a busy machine, other work's share)."""
    arg = json.dumps({"config": asdict(cfg), "meta": meta.to_dict(), "device": device})
    env = os.environ | {"OMP_NUM_THREADS": str(threads)}
    command = [sys.executable, "-m", "sagan.forecast.job_start", arg]
    start = time.perf_counter()
    pipes = {"stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE, "text": True}
    children = [subprocess.Popen(command, env=env, **pipes) for _ in range(k)]
    errors = [child.communicate()[1] for child in children]
    if any(child.returncode for child in children):
        last = next(e for c, e in zip(children, errors, strict=True) if c.returncode)
        raise RuntimeError(f"a timed job start failed: {(last.strip() or '?').splitlines()[-1]}")
    return time.perf_counter() - start


def core_share(cfg: RunConfig, meta: DataMeta, cores: int) -> tuple[float, float, float]:
    """How fast a job runs with every core busy, relative to alone: (share, seconds alone,
    seconds of ``cores`` job starts at once); share = alone / at once (1: no contention)."""
    alone = model_job_start(cfg, meta)
    together = model_job_starts_at_once(cfg, meta, cores)
    return min(alone / together, 1.0), alone, together


def report_job_start() -> float:
    """Seconds for a fresh process to import what a report job imports."""
    return _wall([sys.executable, "-c", REPORT_IMPORTS], threads=1)


def notebook_run() -> float:
    """Seconds to execute a one-cell notebook (the report notebooks' imports) as a notebook
    job does: papermill with its kernel, then nbconvert to HTML."""
    import nbformat

    from sagan.report.build import run_notebook

    with tempfile.TemporaryDirectory() as tmp:
        template = Path(tmp, "start.ipynb")
        nb = nbformat.v4.new_notebook()
        params = nbformat.v4.new_code_cell('results_dir = "results"')
        params.metadata["tags"] = ["parameters"]
        nb.cells = [params, nbformat.v4.new_code_cell(NOTEBOOK_CELL)]
        nb.metadata["kernelspec"] = {
            "name": "python3",
            "language": "python",
            "display_name": "Python 3",
        }
        nbformat.write(nb, template)
        start = time.perf_counter()
        with _silenced():  # papermill's and nbconvert's logs are not the forecast's
            run_notebook(template, Path(tmp), Path(tmp, "html"), Path(tmp, "executed"))
        return time.perf_counter() - start


@contextlib.contextmanager
def _silenced():
    """Child processes' stdout and stderr to /dev/null (they inherit the descriptors)."""
    sys.stdout.flush(), sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 1), os.dup2(null.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved[0], 1), os.dup2(saved[1], 2)
            os.close(saved[0]), os.close(saved[1])
