"""Peak host memory of one step, measured in a fresh child process.

A parent process has a high-water mark left by everything it ran before, so the peak of one
step can only be read cleanly in a child that does nothing else. The child imports a
module-level ``setup(**kwargs) -> step`` callable, builds the step's inputs, resets and reads
its peak RSS, runs ``step()`` once and reads the peak RSS again; the difference is the step's
peak memory.

On Linux the peak is VmHWM from /proc/self/status, reset by writing 5 to /proc/self/clear_refs.
getrusage's ru_maxrss is only the fallback (macOS): it cannot be reset, and after exec it keeps
the RSS of the process that forked the child, so a child of a big parent reads a delta of 0.

Run as ``python -m sagan.cost.memory '{"target": "pkg.mod:setup", "kwargs": {...}}'``; the
child prints the delta in bytes as JSON on its last stdout line.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import json
import os
import resource
import subprocess
import sys
from collections.abc import Callable
from typing import Any

Setup = Callable[..., Callable[[], object]]


def peak_rss_bytes() -> int:
    """This process's peak resident set size since start or the last reset_peak_rss()."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024  # "VmHWM:   1234 kB"
    except OSError:
        pass
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kib if sys.platform == "darwin" else kib * 1024  # macOS reports bytes


def reset_peak_rss() -> None:
    """Set the peak RSS to the current RSS (Linux >= 4.0; elsewhere a no-op)."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        pass


def release_freed_memory() -> None:
    """Hand memory that is free inside the allocator back to the OS (glibc's malloc_trim).

    Without it, a warm-up step leaves its freed blocks mapped in the heap, the measured step
    reuses them without touching new pages, and its peak RSS delta reads near 0."""
    with contextlib.suppress(OSError, AttributeError):  # not glibc (macOS, musl): no trim
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def target_name(setup: Setup) -> str:
    """'module:qualname' of a module-level callable, importable by a child process."""
    module, name = getattr(setup, "__module__", None), getattr(setup, "__qualname__", "")
    if not module or module == "__main__" or "<" in name or "." in name:
        raise ValueError(
            f"{setup!r} is not a module-level function of an importable module; "
            "define it at the top level of a module so the child process can import it"
        )
    return f"{module}:{name}"


def peak_memory_delta(setup: Setup, timeout_s: float = 600.0, **kwargs: Any) -> int:
    """Peak memory (bytes) of one ``step()`` from ``step = setup(**kwargs)``, in a fresh child.

    kwargs must be JSON-serialisable. Raises RuntimeError with the child's stderr if it fails.
    """
    return peak_memory_deltas(setup, [kwargs], timeout_s)[0]


def peak_memory_deltas(
    setup: Setup, kwargs_list: list[dict[str, Any]], timeout_s: float = 600.0
) -> list[int]:
    """peak_memory_delta for each kwargs, the children all at once: each reads its own peak,
    so they do not disturb each other, and the probes of a profile take one child's time."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    specs = [json.dumps({"target": target_name(setup), "kwargs": kw}) for kw in kwargs_list]
    # the child sees the parent's import path, so setups in test or script modules resolve
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "sagan.cost.memory", spec],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for spec in specs
    ]
    try:
        outputs = [child.communicate(timeout=timeout_s) for child in children]
    finally:
        for child in children:  # one failed or timed out: none is left running
            if child.poll() is None:
                child.kill()
                child.wait()
    deltas = []
    for spec, child, (out, err) in zip(specs, children, outputs, strict=True):
        if child.returncode != 0:
            raise RuntimeError(f"memory probe of {spec} failed:\n{err[-4000:]}")
        deltas.append(int(json.loads(out.strip().splitlines()[-1])))
    return deltas


def _run_child(spec: str) -> int:
    args = json.loads(spec)
    module, name = args["target"].split(":")
    step = getattr(importlib.import_module(module), name)(**args["kwargs"])
    release_freed_memory()
    reset_peak_rss()
    before = peak_rss_bytes()
    step()
    return peak_rss_bytes() - before


if __name__ == "__main__":
    print(json.dumps(_run_child(sys.argv[1])))
