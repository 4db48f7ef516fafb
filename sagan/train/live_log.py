"""TensorBoard event files beside log.csv (``train.tensorboard``), so that
``tensorboard --logdir results/runs`` shows every run's curves while a long study trains.

The ``tensorboard`` package is an optional extra: it is imported only when a run writes
events, and with ``auto`` (the default) a run without it trains exactly as before and writes
nothing. Events go to the run's state folder (``<state>/tensorboard/``), which a resumed or
lengthened run shares; each writer opens a fresh event file whose purge step is the first
iteration it trains, so TensorBoard hides what a killed run logged after its last
checkpoint instead of drawing those iterations twice."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from sagan.errors import ConfigError
from sagan.run_folder import TENSORBOARD

MODES = ("auto", True, False)
EVENTS_DIR = TENSORBOARD  # under the run's state folder
# log.csv columns -> TensorBoard sections; any other number goes to "train/"
SECTIONS = {
    "loss_d": "loss",
    "loss_g": "loss",
    "d_real": "D",
    "d_fake": "D",
    "d_train": "D",
    "d_heldout": "D",
    "r_t": "overfit",
    "d_gap": "overfit",
}
GAMMA_PREFIX = "gamma:"  # the trainer's column of each attention gate's gamma


def check_mode(mode: Any) -> None:
    if not (mode == "auto" or isinstance(mode, bool)):
        raise ConfigError(
            f"train.tensorboard must be auto, true or false, got {mode!r} "
            "(auto: event files when the tensorboard extra is installed)"
        )


def writer_class(mode: bool | str) -> type | None:
    """torch's SummaryWriter when the run should write events, else None. ``true`` without
    the package is an error; ``auto`` without it is off."""
    check_mode(mode)
    if mode is False:
        return None
    try:  # lazily: the import costs a second, and the extra may be absent
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as err:
        if mode is True:
            raise ConfigError(
                f"train.tensorboard is true but TensorBoard does not import ({err}); "
                "pip install 'sagan-bench[tensorboard]', or set train.tensorboard: auto"
            ) from err
        return None
    return SummaryWriter


class LiveLog:
    """One run's event writer; every method is a no-op when ``writer`` is None."""

    def __init__(self, writer: Any | None, fd_column: str | None = None) -> None:
        self.writer, self.fd_column = writer, fd_column

    def row(self, row: dict[str, Any]) -> None:
        """Every number of one log.csv row as a scalar at its iteration (unscored FD: skipped)."""
        if self.writer is None:
            return
        step = row["iteration"]
        for column, value in row.items():
            if column != "iteration" and isinstance(value, int | float):
                self.writer.add_scalar(self.tag(column), value, step)

    def tag(self, column: str) -> str:
        if column.startswith(GAMMA_PREFIX):
            return f"gamma/{column.removeprefix(GAMMA_PREFIX)}"
        if column == self.fd_column:
            return f"fd/{column}"
        return f"{SECTIONS.get(column, 'train')}/{column}"

    def grid(self, png: Path, iteration: int) -> None:
        """The sample grid the trainer just wrote, read back (one drawing for PNG and event);
        flushed with it, as log.csv is."""
        if self.writer is None:
            return
        pixels = np.asarray(Image.open(png).convert("RGB"))  # (H, W, 3) uint8
        self.writer.add_image("samples", pixels, iteration, dataformats="HWC")
        self.writer.flush()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()

    def __enter__(self) -> LiveLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_live_log(
    writer: type | None, state_dir: Path, first_iteration: int, fd_column: str | None = None
) -> LiveLog:
    """The run's live log from ``writer_class`` (None: off), starting at ``first_iteration``
    (1, or the resumed checkpoint's + 1)."""
    if writer is None:
        return LiveLog(None)
    events = writer(log_dir=str(state_dir / EVENTS_DIR), purge_step=first_iteration)
    return LiveLog(events, fd_column)
