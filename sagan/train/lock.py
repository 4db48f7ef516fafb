"""One trainer per run folder: an advisory lock (flock) on ``<state dir>/train.lock``.

The kernel drops a flock when its holder dies, however it dies, so a killed trainer never
leaves the folder locked; a live one (e.g. orphaned when snakemake was SIGKILLed) makes a
second trainer fail at once, naming its process.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sagan.errors import ConfigError
from sagan.run_folder import LOCK


@contextmanager
def run_lock(state_dir: str | Path) -> Iterator[None]:
    path = Path(state_dir) / LOCK
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            raise ConfigError(
                f"{state_dir} is being trained by process {holder} (it holds {path}); "
                "wait for it to end, or stop it (kill " + holder + ") and run again"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
