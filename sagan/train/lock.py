"""One trainer per run folder: an advisory lock on the run's state folder itself
(``sagan.locks``), with the holder's pid in ``<state dir>/train.lock``.

The kernel drops the lock when its holder dies, however it dies, so a killed trainer never
leaves the folder locked; a live one (e.g. orphaned when snakemake was SIGKILLed) makes a
second trainer fail at once, naming its process. Deleting ``train.lock`` does not free the
lock, and a link planted in its place is replaced, never written through.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sagan.errors import ConfigError
from sagan.locks import hold_folder, read_note, release, write_note
from sagan.run_folder import LOCK


@contextmanager
def run_lock(state_dir: str | Path) -> Iterator[None]:
    state_dir = Path(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    fd = hold_folder(state_dir)
    if fd is None:
        holder = read_note(state_dir, LOCK).split()[0]
        raise ConfigError(
            f"{state_dir} is being trained by process {holder} (it holds {state_dir}; "
            f"see {state_dir / LOCK}); wait for it to end, or stop it (kill {holder}) and "
            "run again"
        )
    try:
        write_note(state_dir, LOCK, f"{os.getpid()}\n")
        yield
    finally:
        release(fd)
