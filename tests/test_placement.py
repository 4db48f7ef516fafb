"""A variant's spec names the options that place its blocks, and the core places blocks only
through them: a plug-in with its own option names is swept, benchmarked and reported by them,
and a variant that declares none is refused a sweep with an error that says so."""

import pytest
from torch import nn

from sagan.bench.smoke import fitted_options
from sagan.config import RunConfig
from sagan.cost.plan import check_profile, scaling_specs
from sagan.errors import ConfigError
from sagan.models import Placement, VariantSpec, build_variant
from sagan.models.placement import placed_options, placed_sides, placement_names
from sagan.registry import VARIANTS, register_variant
from sagan.report.aggregate import placements
from sagan.study.model import parse_study

OWN = Placement(g="g_at", d="d_at")


@pytest.fixture
def own_names():
    """A plug-in variant whose placement options are not the slot variants' names."""

    @register_variant("own_names")
    def own_names(g_at: list[int] = (8,), d_at: list[int] = (8, 4)) -> VariantSpec:  # type: ignore[assignment]
        g, d = dict.fromkeys(g_at, nn.Identity), dict.fromkeys(d_at, nn.Identity)
        return VariantSpec(g_slots=g, d_slots=d, placement=OWN)

    @register_variant("unplaced")
    def unplaced() -> VariantSpec:
        return VariantSpec(g_slots={8: nn.Identity}, d_slots={8: nn.Identity})

    yield
    VARIANTS.unregister("own_names")
    VARIANTS.unregister("unplaced")


def test_slot_variants_keep_their_option_names_in_run_configs():
    options = placed_options("sagan", {"impl": "naive"}, [4], [8, 16])
    assert options == {"impl": "naive", "g_resolutions": [4], "d_resolutions": [8, 16]}
    assert placed_sides("sagan", options) == ([4], [8, 16])
    assert placement_names("dcgan") == () and placed_sides("dcgan", {}) == ([], [])


def test_a_variant_without_placement_is_refused_with_a_clear_error():
    with pytest.raises(ConfigError, match=r"variant 'dcgan' declares no placement.*sagan"):
        placed_options("dcgan", {}, [8], [8])


def test_a_placement_the_builder_does_not_take_fails_at_its_first_build():
    @register_variant("half_placed")
    def half_placed(g_at: list[int] = (8,)) -> VariantSpec:  # type: ignore[assignment]
        return VariantSpec(placement=OWN)

    try:
        with pytest.raises(TypeError, match=r"placement option\(s\) 'd_at' that its builder"):
            build_variant("half_placed")
    finally:
        VARIANTS.unregister("half_placed")


def test_the_core_places_a_plug_in_through_its_own_names(own_names):
    study = {
        "study": "own",
        "datasets": {"digits": {"resolution": 16, "heldout": 100}},
        "variants": {"base": {"variant": "dcgan"}, "mine": {"variant": "own_names"}},
        "model": {"width": 4, "z_dim": 8},
        "profile": {"scaling": {"variant": "mine", "baseline": "dcgan", "divisors": [2]}},
    }
    check_profile(parse_study(study))
    base, mine = scaling_specs(parse_study(study), 32)
    assert mine.variant_options == {"g_at": [16], "d_at": [16]}
    assert fitted_options("own_names", 8) == {"g_at": [], "d_at": [4]}
    # a run whose options no longer build: its sides are still read through the placement
    cfg = RunConfig(variant="own_names", variant_options={"g_at": [8], "d_at": [4], "gone": 1})
    assert placements(cfg) == {"g_attention": "8", "d_attention": "4"}


def test_a_sweep_of_a_variant_without_placement_is_refused(own_names):
    study = {
        "study": "unplaced",
        "datasets": {"digits": {"resolution": 16, "heldout": 100}},
        "variants": {"base": {"variant": "dcgan"}, "fixed": {"variant": "unplaced"}},
        "profile": {"scaling": {"variant": "fixed", "baseline": "dcgan"}},
    }
    with pytest.raises(ConfigError, match=r"scaling.variant 'fixed' \(variant 'unplaced'\) dec"):
        check_profile(parse_study(study))
