"""Metric declarations: every metric's direction, unit and sample count is looked up in one
place (sagan.metrics.declared), for the names evaluation writes and for plug-ins' own."""

import pandas as pd
import pytest

from sagan.errors import ConfigError
from sagan.metrics.declared import (
    annotate,
    better,
    declare_metric,
    feature_name,
    resolve,
    undeclare_metric,
)
from sagan.metrics.suite import MEMO_KEYS, PRDC_KEYS, metric_name
from sagan.report.figures import metric_label
from sagan.report.paper_tables import headline
from sagan.report.tables import direction

# one name of each family, as evaluation and the summary write it, and its better side
FAMILIES = {
    "fid": "lower",
    "fd_domain": "lower",
    "fd_domain_train": "lower",
    "fd_domain_gap": "lower",
    "fd_domain_infinity": "lower",
    "kid": "lower",
    "kid_video_domain3d": "lower",
    "kid_domain_std": None,
    "fd_frame_domain": "lower",
    "fvd": "lower",
    "precision_domain": "higher",
    "recall": "higher",
    "density_domain": "higher",
    "coverage_domain": "higher",
    "memo_domain_near_copy_fraction": "lower",
    "memo_domain_median_ratio": None,
    "memo_mann_whitney_z": None,
    "class_coverage_domain": "higher",
    "conditional_accuracy_domain": "higher",
    "is": "higher",
    "swd_256px": "lower",
    "swd_mean": "lower",
    "spectrum_hf_l1": "lower",
    "mirror_error": "lower",
    "pairs_agreement": "higher",
    "temporal_consistency": "higher",
    "motion_smoothness": "higher",
    "it_per_s": "higher",
    "s_per_it": "lower",
    "r_t": "lower",
    "ms_per_step": "lower",
    "peak_mem_mib": "lower",
}


@pytest.mark.parametrize("name", FAMILIES)
def test_each_family_has_its_declared_direction(name):
    assert better(name) == FAMILIES[name]
    assert direction(name) == {"lower": "min", "higher": "max", None: None}[FAMILIES[name]]


def test_an_undeclared_name_has_no_direction_and_evaluation_refuses_it():
    assert resolve("seeds") is None and direction("seeds") is None
    with pytest.raises(ConfigError, match="metric 'sharpness' is not declared; declare it"):
        annotate({"sharpness": {"value": 1.0}})


@pytest.mark.parametrize("extractor", ["inception", "domain", "video_domain3d", "dino_v2"])
def test_every_feature_metric_name_resolves_back_to_its_family_and_extractor(extractor):
    bases = ["fd", "fd_train", "fd_gap", "fd_infinity", "kid", "kid_std", "kid_train"]
    bases += [*PRDC_KEYS, *(f"memo_{k}" for k in MEMO_KEYS)]
    for base in bases:
        m = resolve(metric_name(base, extractor))
        family, _, tail = base.partition("_")
        assert m is not None and m.extractor == extractor, base
        assert (m.declaration.family, m.declaration.tail) == (family, tail), base
    assert metric_name("fd", "inception") == "fid" and metric_name("fd", "domain") == "fd_domain"


def test_what_a_sample_count_counts_follows_the_extractor():
    assert resolve("fd_domain").samples == "generated images"
    assert resolve("fd_frame_domain").samples == "generated frames"
    assert resolve("kid_video_domain3d_train").samples == "generated clips"
    assert "1,024" in resolve("swd_16px").samples


def test_a_plugin_declares_its_own_metric_and_family():
    declare_metric("edge_sharpness", better="higher", unit="mean gradient magnitude")
    declare_metric("sim", better="higher", unit="cosine", naming="extractor")
    try:
        assert better("edge_sharpness") == "higher"
        assert resolve("sim_clip").extractor == "clip" and feature_name("sim", "clip") == "sim_clip"
        entry = annotate({"edge_sharpness": {"value": 0.5, "num_samples": 8}})["edge_sharpness"]
        assert entry["better"] == "higher" and entry["unit"] == "mean gradient magnitude"
        assert entry["num_samples"] == 8 and entry["family"] == "edge_sharpness"
        with pytest.raises(ValueError, match="'edge_sharpness' is already declared"):
            declare_metric("edge_sharpness", better="lower", unit="x")
    finally:
        undeclare_metric("edge_sharpness")
        undeclare_metric("sim")
    assert resolve("edge_sharpness") is None


def test_the_headline_is_the_first_image_fd_and_the_kid_of_its_extractor():
    columns = ["fd_frame_domain", "fd_video_domain3d", "fd_dino_v2_train", "fd_dino_v2"]
    summary = pd.DataFrame(columns=[*columns, "kid_dino_v2", "fid", "kid"])
    # an extractor whose name holds "_" is still one extractor; frames and clips are not images
    assert headline(summary) == ("fd_dino_v2", "kid_dino_v2")
    assert headline(summary.drop(columns=["fd_dino_v2"])) == ("fid", "kid")
    assert headline(pd.DataFrame(columns=["fd_frame_domain", "fd_at_equal_time"])) == (None, None)
    assert headline(pd.DataFrame(columns=["fd_domain"])) == ("fd_domain", None)


def test_figure_labels_carry_the_declared_better_side():
    assert metric_label("pairs_agreement") == "pair agreement ↑"
    assert metric_label("fd_frame_domain") == "FD per frame (domain) ↓"
    assert metric_label("kid_domain") == "KID (domain) ↓"
    assert metric_label("memo_domain_median_ratio") == "MEMO (domain_median_ratio)"  # no side
