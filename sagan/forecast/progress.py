"""What ``sagan estimate`` is timing now and how far along it is, on stderr: a large study
times a hundred pieces or more, minutes of silence otherwise."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TextIO

from sagan.config import RunConfig

# the Timer's methods, each with what a line says it times
PIECES: dict[str, Callable[..., str]] = {
    "startup": lambda cfg, shape: f"a job's start-up on {cfg.data.dataset}",
    "train_iteration": lambda cfg, shape: f"train on {_arm(cfg)}",
    "during_score": lambda cfg, shape: f"FD while training on {_arm(cfg)}",
    "evaluation": lambda cfg, shape, count: f"evaluate on {cfg.data.dataset}",
    "extractor": lambda shape, epochs: f"the extractor at {shape.resolution} px",
    "reference": lambda cfg, shape, count: f"reference features of {count} images",
    "step": lambda spec: f"a profile step of {spec.label} at {spec.resolution} px",
    "report_startup": lambda: "a report job's start-up",
    "notebook_startup": lambda: "a notebook job's papermill and nbconvert",
}


def _arm(cfg: RunConfig) -> str:
    return f"{cfg.data.dataset}/{cfg.arm or cfg.variant}"


class Counting:
    """A Timer that times nothing (every piece 0 s) and counts the pieces asked of it: a
    first pass of the forecast, for the total the progress lines count to."""

    def __init__(self) -> None:
        self.asked = 0

    def __getattr__(self, name: str) -> Callable[..., float]:
        if name not in PIECES:
            raise AttributeError(name)

        def piece(*args: Any) -> float:
            self.asked += 1
            return 0.0

        return piece


class Announced:
    """A Timer that prints "timing <piece> (i/total)..." before each piece it passes on to
    ``timer``."""

    def __init__(self, timer: Any, total: int, out: TextIO | None = None) -> None:
        self.timer, self.total, self.out, self.done = timer, total, out, 0

    def __getattr__(self, name: str) -> Callable[..., float]:
        if name not in PIECES:
            raise AttributeError(name)
        measure = getattr(self.timer, name)

        def piece(*args: Any) -> float:
            self.done += 1
            what = PIECES[name](*args)
            line = f"timing {what} ({self.done}/{self.total})..."
            print(line, file=self.out or sys.stderr, flush=True)  # stderr as it is now
            return measure(*args)

        return piece
