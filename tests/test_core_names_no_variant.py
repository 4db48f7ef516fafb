"""The core library reads variants as data: no line of sagan/ names a registered variant.

The same rule as the hook ../shared/hooks/variant-names.sh, with the names taken from the
registry instead of a list, so a new variant is covered the day it registers. dcgan, sagan,
topk and linear are also a backbone, the program and two attention kernels: they count only
where the line speaks of a variant or a baseline. Comment lines and docstring openings are
skipped, as the hook does.

A second check reads the code's syntax tree: a variant name passed to a call, positional or
keyword, in either quote style and over several lines (``build_variant('sagan', ...)``,
``VARIANTS.get("topk")``, ``port_specs(\n    "linear")``), which a line pattern misses.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from sagan.registry import VARIANTS, load_plugins

CORE = Path(__file__).resolve().parents[1] / "sagan"
AMBIGUOUS = ("dcgan", "sagan", "topk", "linear")  # a backbone, the program, two kernels
COMMENT = re.compile(r'^\s*(#|""")')
# where an ambiguous name means its other thing: the callee or the keyword says so
OTHER_SENSE = re.compile(r"backbone|kernel|impl|prog|^files$", re.I)


def variant_name_pattern(names: list[str]) -> re.Pattern:
    plain = [re.escape(n) for n in names if n not in AMBIGUOUS]
    ambiguous = "|".join(re.escape(n) for n in AMBIGUOUS if n in names)
    return re.compile(
        rf"\"({'|'.join(plain)})\"|(variant|VARIANT|BASELINE|REFERENCE|baseline).{{0,12}}\"({ambiguous})\""
    )


def lines_naming_a_variant(root: Path, pattern: re.Pattern) -> list[str]:
    hits = []
    for path in sorted(root.rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if pattern.search(line) and not COMMENT.match(line):
                hits.append(f"{path.relative_to(root.parent)}:{number}: {line.strip()}")
    return hits


def call_arguments(tree: ast.AST) -> list[tuple[ast.Constant, str]]:
    """Every string constant passed to a call, with what names its role: the callee for a
    positional argument (``VARIANTS.get``), the keyword for a keyword one (``backbone``)."""
    found = []
    for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
        callee = ast.unparse(call.func)
        found += [(a, callee) for a in call.args if isinstance(a, ast.Constant)]
        found += [
            (k.value, k.arg or "") for k in call.keywords if isinstance(k.value, ast.Constant)
        ]
    return [(c, role) for c, role in found if isinstance(c.value, str)]


def calls_naming_a_variant(root: Path, names: list[str]) -> list[str]:
    hits = []
    for path in sorted(root.rglob("*.py")):
        for const, role in call_arguments(ast.parse(path.read_text(), str(path))):
            other = const.value in AMBIGUOUS and OTHER_SENSE.search(role)
            if const.value in names and not other:
                hits.append(
                    f"{path.relative_to(root.parent)}:{const.lineno}: {role}({const.value!r})"
                )
    return hits


def registered_variants() -> list[str]:
    load_plugins()
    return sorted(VARIANTS.names())


def test_the_core_names_no_registered_variant():
    hits = lines_naming_a_variant(CORE, variant_name_pattern(registered_variants()))
    assert not hits, "sagan/ names a variant; read it from the study instead:\n" + "\n".join(hits)


def fake_core(tmp_path, source: str):
    """A package folder ``sagan/`` holding one module with ``source``."""
    pkg = tmp_path / "sagan"
    pkg.mkdir()
    (pkg / "a.py").write_text(source)
    return pkg


def test_the_check_finds_a_variant_named_in_code_but_not_in_comments(tmp_path):
    pkg = fake_core(
        tmp_path,
        '# the "multiscale" arm is documented here\n'
        'BACKBONE = "dcgan"  # a backbone, not a variant\n'
        'baseline = "dcgan"\n'
        'if spec == "se_spatial":\n',
    )
    hits = lines_naming_a_variant(pkg, variant_name_pattern(registered_variants()))
    assert [h.split(":")[1] for h in hits] == ["3", "4"]


def test_the_core_passes_no_registered_variant_to_a_call():
    hits = calls_naming_a_variant(CORE, registered_variants())
    assert not hits, (
        "sagan/ passes a variant's name; read it from the study instead:\n" + "\n".join(hits)
    )


def test_the_call_check_finds_names_passed_as_arguments_but_not_other_senses(tmp_path):
    pkg = fake_core(
        tmp_path,
        'BACKBONES.register("dcgan")\n'
        'files("sagan")\n'
        "spec = build_variant('sagan', {})\n"
        'VARIANTS.get("topk")\n'
        "port_specs(\n"
        '    "linear",\n'
        ")\n"
        'ModelConfig(backbone="dcgan", width=4)\n'
        'StepSpec("label", variant="video3d")\n'
        'attention(q, k, v, impl="linear")\n'
        'print("the sagan bench")\n',
    )
    hits = calls_naming_a_variant(pkg, registered_variants())
    assert [h.split(":")[1] for h in hits] == ["3", "4", "6", "9"]
