"""The fenced blocks and inline commands of the README, CONTRIBUTING.md and docs/*.md, as the
docs tests read them. A block right after `<!-- docs-test: skip (reason) -->` is marked
skipped, with its reason."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOCS = [REPO / "README.md", REPO / "CONTRIBUTING.md", *sorted((REPO / "docs").glob("*.md"))]
SKIP = re.compile(r"<!--\s*docs-test:\s*skip\s*\((?P<reason>[^)]+)\)\s*-->")
FENCE = re.compile(r"^\s*```(?P<lang>[\w-]*)\s*$")
COMMANDS = ("sagan", "snakemake")


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # of the opening fence, 1-based
    lang: str
    text: str
    skip: str | None  # the reason, where the block is marked skipped

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(REPO)}:{self.line}"

    @property
    def name(self) -> str | None:
        """The file a block says it is, by a first line such as `# my_photos.yaml`."""
        first = self.text.lstrip().split("\n", 1)[0]
        m = re.fullmatch(r"#\s*(\S+\.\w+)\s*", first)
        return m[1] if m else None


def blocks(path: Path) -> list[Block]:
    lines = path.read_text().split("\n")
    found, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if m is None:
            i += 1
            continue
        end = next(j for j in range(i + 1, len(lines)) if lines[j].strip().startswith("```"))
        before = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        skip = SKIP.search(before)
        body = "\n".join(lines[i + 1 : end])
        found.append(Block(path, i + 1, m["lang"], body, skip and skip["reason"]))
        i = end + 1
    return found


def all_blocks(*langs: str) -> list[Block]:
    return [b for path in DOCS for b in blocks(path) if b.lang in langs]


def commands_in(text: str) -> list[list[str]]:
    """Each `sagan ...` or `snakemake ...` command in shell text, as words: comments cut,
    `&&` chains split, a line's trailing `\\` joined to the next."""
    commands = []
    for line in text.replace("\\\n", " ").split("\n"):
        if not any(w in COMMANDS for w in line.split()):
            continue  # prose or a tree, whose quotes are no shell's
        words = shlex.split(line, comments=True)
        while words:
            cut = words.index("&&") if "&&" in words else len(words)
            if words[:cut] and words[0] in COMMANDS:
                commands.append(words[:cut])
            words = words[cut + 1 :]
    return commands


def inline_commands(path: Path) -> list[tuple[int, list[str]]]:
    """`sagan ...` and `snakemake ...` in the prose's inline code spans (a span may wrap a
    line), each with the line it starts on."""
    text = path.read_text()
    for b in blocks(path):  # blank the fenced blocks, keeping the line count
        body = "\n".join(text.split("\n")[b.line - 1 : b.line + b.text.count("\n") + 2])
        text = text.replace(body, "\n" * body.count("\n"), 1)
    found = []
    for m in re.finditer(r"`([^`]+)`", text):
        line = text.count("\n", 0, m.start()) + 1
        found += [(line, words) for words in commands_in(m[1].replace("\n", " "))]
    return found
