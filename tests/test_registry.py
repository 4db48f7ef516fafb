import re
from pathlib import Path

import pytest

from sagan.errors import ConfigError
from sagan.registry import VARIANTS, Registry

SAGAN_SRC = Path(__file__).resolve().parents[1] / "sagan"


def test_registering_a_name_twice_raises():
    reg = Registry("thing")
    reg.register("a")(lambda: 1)
    with pytest.raises(ValueError, match="already registered"):
        reg.register("a")(lambda: 2)


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ConfigError, match=r"unknown variant 'nope'.*dcgan.*sagan"):
        VARIANTS.get("nope")


def test_unknown_option_names_the_allowed_ones():
    with pytest.raises(ConfigError, match=r"no option\(s\) 'g_res'.*g_resolutions"):
        VARIANTS.build("sagan", {"g_res": [8]})


def test_skeleton_variants_are_registered_with_descriptions():
    entries = {e.name: e for e in VARIANTS.entries()}
    assert {"dcgan", "sagan"} <= set(entries)
    assert all(e.description for e in entries.values())


def test_core_never_imports_a_variant():
    pattern = re.compile(r"^\s*(from|import)\s+variants\b", re.M)
    offenders = [p for p in SAGAN_SRC.rglob("*.py") if pattern.search(p.read_text())]
    assert offenders == []
