"""The docs point at things that exist: every relative link's file and heading, and every
path docs/layout.md names; and the layout names every part of the sagan package."""

from __future__ import annotations

import re
from pathlib import Path

from tests.docs_blocks import DOCS, REPO, blocks

LAYOUT = REPO / "docs/layout.md"


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    fenced = {n for b in blocks(path) for n in range(b.line, b.line + b.text.count("\n") + 2)}
    lines = path.read_text().split("\n")
    return {
        slug(m[1])
        for n, line in enumerate(lines, 1)
        if n not in fenced and (m := re.match(r"#+ (.*)", line))
    }


def test_relative_links_reach_a_file_and_heading():
    broken = []
    for doc in DOCS:
        for n, line in enumerate(doc.read_text().split("\n"), 1):
            for target in re.findall(r"\]\(([^)\s]+)\)", line):
                if re.match(r"[a-z]+://", target):
                    continue
                file, _, anchor = target.partition("#")
                path = (doc.parent / file).resolve() if file else doc
                if not path.exists() or (anchor and anchor not in anchors(path)):
                    broken.append(f"{doc.relative_to(REPO)}:{n}: {target}")
    assert not broken, "\n".join(broken)


def layout_paths() -> set[str]:
    """Each path the layout names: `a/b.py` in its table, and the tree's words that end in
    `/`, `.py`, `.smk`, `.yaml`, nested under the folder line above them."""
    text = LAYOUT.read_text()
    found = set(re.findall(r"`((?:sagan|workflow|tools|config|tests)/[\w./]*)`", text))
    tree = next(b for b in blocks(LAYOUT) if b.lang == "")
    parents: dict[int, str] = {}  # indent -> the folder a line at that indent opened
    for line in tree.text.split("\n"):
        indent = len(line) - len(line.lstrip())
        if indent > 8:
            continue  # a description's second line
        first = line[indent:].split("  ")[0].split()  # the names, before the description
        names = [w for w in first if re.search(r"/$|\.\w+$", w)]
        base = parents.get(indent - 2, "") if indent else ""
        found |= {base + name for name in names}
        if names and names[0].endswith("/"):
            parents[indent] = base + names[0]
    return found


def test_layout_paths_exist():
    missing = sorted(p for p in layout_paths() if not (REPO / p.rstrip("/")).exists())
    assert not missing, f"docs/layout.md names paths that do not exist: {missing}"


def test_layout_names_every_part_of_the_package():
    named = layout_paths()
    parts = {
        f"sagan/{p.name}/" if p.is_dir() else f"sagan/{p.name}"
        for p in (REPO / "sagan").iterdir()
        if p.name != "__init__.py" and not p.name.startswith((".", "__"))
    }
    missing = sorted(parts - named)
    assert not missing, f"docs/layout.md does not name: {missing}"
