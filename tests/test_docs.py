"""Every YAML and shell block of the README, CONTRIBUTING.md and docs/*.md works as written.

A YAML block is a study (validated as `sagan validate` does) or a study's sections (merged
over config/default.yaml, then validated). A `sagan` command parses with the real CLI parser;
a `snakemake` command with Snakemake's, and the cheap ones dry-run for real. Placeholders
(STUDY.yaml, DIR, my_photos.yaml, ...) become real files: a block named `# my_photos.yaml`
is that file. `<!-- docs-test: skip (reason) -->` before a fence skips its block."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest
import yaml
from snakemake.cli import get_argument_parser, parse_config

from sagan.cli import parser
from tests.docs_blocks import DOCS, REPO, Block, all_blocks, commands_in, inline_commands
from tests.docs_run import dry_run, over_default, validate

YAML = all_blocks("yaml", "yml")
SHELL = all_blocks("bash", "sh", "shell", "")
NAMED = {b.name: b for b in YAML if b.name}
COMMANDS = [(b, words) for b in SHELL for words in commands_in(b.text)]
# Dry-run for real (each ~8 s); the paper study's (~20 s) only parse. The default study's
# dry run is in test_docs_numbers.
DRY_RUN = {"config/table1.yaml", *NAMED}
PLACEHOLDER = re.compile(r"[A-Z][A-Z_]*(\.\w+)?(\.\.\.)?")
STUDY_PLACEHOLDERS = {"STUDY", "STUDY.yaml", "my_study.yaml"}
README = (REPO / "README.md").read_text()


def study_file(name: str, tmp_path: Path) -> str | None:
    """The real file a study named in a doc stands for, or None for no study."""
    if name in NAMED:
        path = tmp_path / name
        path.write_text(NAMED[name].text)
        return str(path)
    if name in STUDY_PLACEHOLDERS:
        return str(REPO / "config/default.yaml")
    return str(REPO / name) if (REPO / name).is_file() else None


def real_words(words: list[str], tmp_path: Path) -> list[str]:
    """A `sagan` command's placeholders as real files, folders and numbers."""
    out = []
    for word in words:
        if word.startswith("-") or (REPO / word).exists():
            out.append(str(REPO / word) if (REPO / word).is_file() else word)
        elif (study := study_file(word, tmp_path)) is not None:
            out.append(study)
        elif word in {"N", "K"}:
            out.append("2")
        elif PLACEHOLDER.fullmatch(word) or word.startswith(("results/", "reports/")):
            path = tmp_path / word.removesuffix("...").replace("/", "_")
            folder = word.endswith("DIR") or word.startswith(("results/", "reports/"))
            path.mkdir(exist_ok=True) if folder and not path.suffix else path.touch()
            out.append(str(path))
        else:
            out.append(word)
    return out


def parse_sagan(args: list[str], capsys) -> None:
    try:
        parser().parse_args(args)
    except SystemExit as exit_:  # --help exits 0; a refusal exits 2 after its usage line
        assert exit_.code == 0, capsys.readouterr().err
    capsys.readouterr()


@pytest.mark.parametrize("block", YAML, ids=lambda b: b.where)
def test_yaml_block_is_a_valid_study(block: Block, tmp_path, monkeypatch):
    if block.skip:
        pytest.skip(block.skip)
    doc = yaml.safe_load(block.text)
    assert isinstance(doc, dict), f"{block.where}: not a mapping"
    whole = "study" in doc and "datasets" in doc
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(doc if whole else over_default(doc)))
    validate(path, monkeypatch)


@pytest.mark.parametrize("block", all_blocks("python"), ids=lambda b: b.where)
def test_python_block_compiles(block: Block):
    compile(block.text, block.where, "exec")


@pytest.mark.parametrize(
    ("block", "words"), COMMANDS, ids=[f"{b.where}:{w[0]} {w[1]}" for b, w in COMMANDS]
)
def test_shell_command_parses(block: Block, words: list[str], tmp_path, capsys):
    if block.skip:
        pytest.skip(block.skip)
    assert inline_problem(words) is None, inline_problem(words)  # argparse takes abbreviations
    if words[0] == "sagan":
        parse_sagan(real_words(words[1:], tmp_path), capsys)
        return
    args = get_argument_parser().parse_args(words[1:])
    parse_config(args.config)  # a --config KEY=VALUE that Snakemake would refuse fails here
    named = [str(f) for f in args.configfile or []]
    files = [study_file(f, tmp_path) for f in named]
    assert None not in files, f"{block.where}: a --configfile that is neither a file nor a doc's"
    if args.dryrun and named and set(named) <= DRY_RUN:
        dropped = {"-n", "--quiet", "rules", "--configfile", *named}
        given = [w for w in words[1:] if w not in dropped]
        given += ["--configfile", *files] if files else []
        assert dry_run(*given)["total"] > 0


def test_readme_test_command_is_what_ci_runs():
    """The README's second command is .ci/run's: a venv, the test extra, then pytest."""
    readme = [b for b in SHELL if b.path.name == "README.md"]
    test_command = next(b.text for b in readme if b.text.rstrip().endswith("&& pytest"))
    ci = (REPO / ".ci/run").read_text()
    for step in test_command.split("&&"):
        words = step.split()
        if words[:2] == ["pip", "install"]:
            assert re.search(r"^pip install .*" + re.escape(words[-1]) + "$", ci, re.M), step
        else:
            assert re.search(rf"^{re.escape(step.strip())}$", ci, re.M), step


def sub_parser(p: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser | None:
    actions = [a for a in p._actions if isinstance(a, argparse._SubParsersAction)]
    return actions[0].choices.get(name) if actions else None


def options(p: argparse.ArgumentParser) -> set[str]:
    return {s for a in p._actions for s in a.option_strings}


def inline_problem(words: list[str]) -> str | None:
    """Why an inline `sagan ...` / `snakemake ...` names what does not exist (None: fine).
    Prose spans are often partial, so only the names are checked, not the arguments."""
    flags = [w.split("=")[0] for w in words[1:] if w.startswith("-")]
    if words[0] == "snakemake":
        unknown = set(flags) - options(get_argument_parser())
        return f"unknown snakemake option(s) {sorted(unknown)}" if unknown else None
    top = parser()
    known, p, rest = options(top), top, words[1:]
    while rest and rest[0] in {"--threads", "--device", "--debug"}:  # before the command
        rest = rest[2:] if rest[0] != "--debug" else rest[1:]
    while rest and not rest[0].startswith(("-", "<")) and sub_parser(p, rest[0]) is not None:
        p, rest = sub_parser(p, rest[0]), rest[1:]
    if p is top and rest and not rest[0].startswith(("-", "<")):
        return f"no subcommand {rest[0]!r}"
    unknown = set(flags) - options(p) - known
    return f"unknown option(s) {sorted(unknown)}" if unknown else None


def test_inline_commands_name_real_subcommands_and_options():
    found = [(path, line, words) for path in DOCS for line, words in inline_commands(path)]
    assert len(found) > 50  # the prose's commands were found at all
    problems = [
        f"{path.relative_to(REPO)}:{line}: `{' '.join(words)}`: {why}"
        for path, line, words in found
        if (why := inline_problem(words))
    ]
    assert not problems, "\n".join(problems)


def test_docs_cli_page_names_every_subcommand():
    text = (REPO / "docs/cli.md").read_text()
    top = [a for a in parser()._actions if isinstance(a, argparse._SubParsersAction)][0]
    missing = [name for name in top.choices if not re.search(rf"\b{name}\b", text)]
    assert not missing, f"docs/cli.md does not name: {missing}"


def test_skips_are_few_and_give_reasons():
    skipped = [b for b in YAML + SHELL if b.skip]
    assert len(skipped) <= 3, [b.where for b in skipped]
    assert all(len(b.skip.split()) >= 3 for b in skipped)  # a reason, not a word


def test_config_keys_as_the_readme_gives_them():
    """A section's key as a mapping passes Snakemake's --config parser; a dotted key is
    refused with the message the README quotes."""
    assert parse_config(["train={iterations: 30}"]) == {"train": {"iterations": "30"}}
    quoted = re.search(r'"(Config entry must start with a valid\s+identifier)"', README)
    with pytest.raises(ValueError, match=" ".join(quoted[1].split())):
        parse_config(["train.iterations=30"])
