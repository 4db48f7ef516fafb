"""How busy the machine was while ``sagan estimate`` timed: every piece is timed under that
load, so a forecast made on a loaded machine is an upper bound for a quiet one, and noisy."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Load:
    before: float  # 1-minute load average when timing began
    after: float  # and when it ended
    cores: int

    @property
    def busy(self) -> bool:
        """More runnable processes than cores: the timed pieces shared them."""
        return max(self.before, self.after) > self.cores


def load_average() -> float:
    """The 1-minute load average (0 where the system has none)."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return 0.0


def format_load(load: Load) -> list[str]:
    lines = [
        f"machine load while timing: load average {load.before:.1f} before, "
        f"{load.after:.1f} after, on {load.cores} core(s)"
    ]
    if load.busy:
        peak = max(load.before, load.after)
        lines.append(
            f"warning: the load ({peak:.1f}) exceeded the {load.cores} core(s) while timing: "
            "each piece ran slower than on a quiet machine, so this forecast is an upper "
            "bound for a quiet one, and noisy; time it again when the machine is quiet"
        )
    return lines
