"""A pool of GPU slots: each job gets one distinct GPU for its whole life.

Snakemake's ``--resources gpu=N`` caps how many GPU jobs run at once but does not say which
GPU each should use. The pool holds one lock file per GPU; a job takes the first free one
with a non-blocking ``flock``, sets ``CUDA_VISIBLE_DEVICES`` to it before anything imports
torch, and execs the command. The lock belongs to the open file, which the exec'd command
inherits, so it is released when that process exits, however it exits (SIGKILL included).

    python -m sagan.gpu_pool --slots 4 --dir .gpu_pool -- python -m sagan.cli train ...
"""

from __future__ import annotations

import argparse
import fcntl
import os
import sys
import time
from pathlib import Path


def acquire(pool_dir: str | Path, slots: int, timeout_s: float = 86400.0) -> tuple[int, int]:
    """(slot, fd) of the first free slot, waiting until one is; the fd holds the lock."""
    if slots < 1:
        raise ValueError(f"a GPU pool needs at least 1 slot, got {slots}")
    folder = Path(pool_dir)
    folder.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout_s
    while True:
        for slot in range(slots):
            fd = os.open(folder / f"gpu{slot}.lock", os.O_RDWR | os.O_CREAT, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            return slot, fd
        if time.monotonic() > deadline:
            raise TimeoutError(f"no free GPU slot in {folder} after {timeout_s:.0f} s")
        time.sleep(0.05)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m sagan.gpu_pool", description=__doc__)
    p.add_argument("--slots", type=int, required=True, help="GPUs in the pool (0 .. N-1)")
    p.add_argument("--dir", required=True, help="folder of the pool's lock files")
    p.add_argument("command", nargs=argparse.REMAINDER, help="-- then the command to run")
    args = p.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        p.error("give the command to run after --")
    slot, fd = acquire(args.dir, args.slots)
    os.set_inheritable(fd, True)  # the command keeps the lock until it exits
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": str(slot), "SAGAN_GPU_SLOT": str(slot)}
    os.execvpe(command[0], command, env)


if __name__ == "__main__":
    main(sys.argv[1:])
