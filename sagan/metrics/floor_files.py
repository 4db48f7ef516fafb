"""The noise floor and the extractor checks of one (data, extractor, sample count), from the
stored reference features to two CSVs; and a study's entries stacked into its tables."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sagan.data import load_prepared
from sagan.data.kinds import IMAGE
from sagan.io import atomic_write_text
from sagan.metrics.extractor_checks import CHECK_COLUMNS, extractor_checks
from sagan.metrics.noise_floor import FLOOR_COLUMNS, RESAMPLES, noise_floor
from sagan.metrics.protocols import protocol_of
from sagan.metrics.reference_files import load_reference


def measure_floor(
    data_path: str | Path,
    reference: str | Path,
    train_reference: str | Path,
    *,
    extractor: str,
    extractor_path: str | Path,
    num_samples: int,
    out_floor: str | Path,
    out_checks: str | Path,
    resamples: int = RESAMPLES,
    device: str = "cpu",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Write the floor's rows and the checks' rows, each atomically. Video data get both
    files with no rows: their clip features have their own metric names, not measured yet."""
    data = load_prepared(data_path)
    floor = pd.DataFrame(columns=FLOOR_COLUMNS)
    checks = pd.DataFrame(columns=CHECK_COLUMNS)
    if data.kind is IMAGE:
        heldout, _ = load_reference(reference)
        pool, _ = load_reference(train_reference)
        rows = noise_floor(
            pool, heldout, num_samples=num_samples, extractor=extractor, resamples=resamples
        )
        floor = pd.DataFrame(rows, columns=FLOOR_COLUMNS)
        fd = next(r for r in rows if r["metric"].startswith(("fd", "fid")))
        net = protocol_of(data).load_extractor(extractor, extractor_path, device)
        rows = extractor_checks(
            data,
            net,
            heldout,
            num_samples=num_samples,
            extractor=extractor,
            resamples=resamples,
            floor=(fd["mean"], fd["sd"]),
            device=device,
        )
        checks = pd.DataFrame(rows, columns=CHECK_COLUMNS)
    atomic_write_text(out_floor, floor.to_csv(index=False))
    atomic_write_text(out_checks, checks.to_csv(index=False))
    return floor, checks


def stack_entries(files: dict[str, str | Path]) -> pd.DataFrame:
    """The CSVs of a study's dataset entries, one table with the entry's name first (two
    entries of one prepared data and extractor share a file, and both get its rows)."""
    frames = [pd.read_csv(path).assign(dataset=name) for name, path in files.items()]
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return table[["dataset", *(c for c in table.columns if c != "dataset")]]
