"""A GPU-check step's two result files, Markdown for people and CSV for programs.

Both are rewritten whole after every addition, so a step killed half-way still leaves
everything it measured before the kill.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any


def markdown_table(rows: list[dict[str, Any]]) -> str:
    """A plain Markdown table of ``rows`` (columns: every key, in order of appearance)."""
    if not rows:
        return "(no rows)"
    columns = list(dict.fromkeys(key for row in rows for key in row))
    lines = ["| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]
    for row in rows:
        cells = [_cell(row.get(column)) for column in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value).replace("|", "\\|").replace("\n", " ")


class StepFiles:
    """``DIR/<stem>.md`` (a title, text blocks, then the table) and ``DIR/<stem>.csv``.
    ``table=False``: the Markdown leaves the rows out (its text blocks already show them)."""

    def __init__(self, out: Path, stem: str, title: str, table: bool = True) -> None:
        self.md, self.csv = out / f"{stem}.md", out / f"{stem}.csv"
        self.title, self.table = title, table
        self.texts: list[str] = []
        self.rows: list[dict[str, Any]] = []
        self.write()

    def add_text(self, text: str) -> None:
        self.texts.append(text)
        self.write()

    def add_row(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        self.write()

    def write(self) -> None:
        parts = [f"# {self.title}", *self.texts]
        if self.rows and self.table:
            parts.append(markdown_table(self.rows))
        self.md.write_text("\n\n".join(parts) + "\n")
        columns = list(dict.fromkeys(key for row in self.rows for key in row))
        with self.csv.open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=columns)
            writer.writeheader()
            writer.writerows(self.rows)
