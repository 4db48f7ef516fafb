"""The core library reads variants as data: no line of sagan/ names a registered variant.

The same rule as the hook ../shared/hooks/variant-names.sh, with the names taken from the
registry instead of a list, so a new variant is covered the day it registers. dcgan, sagan,
topk and linear are also a backbone, the program and two attention kernels: they count only
where the line speaks of a variant or a baseline. Comment lines and docstring openings are
skipped, as the hook does.
"""

from __future__ import annotations

import re
from pathlib import Path

from sagan.registry import VARIANTS, load_plugins

CORE = Path(__file__).resolve().parents[1] / "sagan"
AMBIGUOUS = ("dcgan", "sagan", "topk", "linear")  # a backbone, the program, two kernels
COMMENT = re.compile(r'^\s*(#|""")')


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


def registered_variants() -> list[str]:
    load_plugins()
    return sorted(VARIANTS.names())


def test_the_core_names_no_registered_variant():
    hits = lines_naming_a_variant(CORE, variant_name_pattern(registered_variants()))
    assert not hits, "sagan/ names a variant; read it from the study instead:\n" + "\n".join(hits)


def test_the_check_finds_a_variant_named_in_code_but_not_in_comments(tmp_path):
    pkg = tmp_path / "sagan"
    pkg.mkdir()
    (pkg / "a.py").write_text(
        '# the "multiscale" arm is documented here\n'
        'BACKBONE = "dcgan"  # a backbone, not a variant\n'
        'baseline = "dcgan"\n'
        'if spec == "se_spatial":\n'
    )
    hits = lines_naming_a_variant(pkg, variant_name_pattern(registered_variants()))
    assert [h.split(":")[1] for h in hits] == ["3", "4"]
