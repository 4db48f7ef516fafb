"""Progressive growing: ProGAN's schedule, the growing G and D on both image backbones, and
the checks of its settings (the resume test is in test_resume.py)."""

from __future__ import annotations

import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from sagan.config import ModelConfig, ProgressiveConfig, RunConfig, TrainConfig, from_dict, to_dict
from sagan.errors import ConfigError
from sagan.layout import run_key
from sagan.models.backbone import build_models
from sagan.report.claims import evaluate_claim
from sagan.train.progressive import check_schedule, full_size_at, growth
from tests.design_claims import spec

SAGAN_8 = {"g_resolutions": [8], "d_resolutions": [8]}


def models(backbone: str, options=SAGAN_8, start: int = 4):
    torch.manual_seed(0)
    model = ModelConfig(backbone=backbone, width=4, z_dim=8)
    return build_models(model, "sagan", options, image_size=16, channels=3, grow_from=start)


def test_the_schedule_holds_fades_linearly_and_stays_at_full_size():
    p = ProgressiveConfig(start_resolution=4, phase_iterations=3, fade_iterations=2)
    got = [growth(p, it, 16) for it in range(1, 13)]
    assert got == [
        (4, 1.0), (4, 1.0), (4, 1.0),  # phase at 4 px
        (8, 0.5), (8, 1.0),  # fade 8 in
        (8, 1.0), (8, 1.0), (8, 1.0),  # phase at 8
        (16, 0.5), (16, 1.0),  # fade 16 in
        (16, 1.0), (16, 1.0),  # full size until the end
    ]  # fmt: skip
    assert full_size_at(p, 16) == 10 and growth(p, 10_000, 16) == (16, 1.0)
    assert full_size_at(ProgressiveConfig(16, 3, 2), 16) == 1  # starting at full size: no growth


@pytest.mark.parametrize("backbone", ["dcgan", "resnet"])
def test_fully_grown_nets_are_the_backbone_nets(backbone):
    G, D = models(backbone)
    G0, D0 = G.net, D.net
    G.eval(), G0.eval(), D.eval(), D0.eval()  # no BN/spectral-norm state changes between calls
    z = torch.randn(4, 8)
    x = torch.rand(4, 3, 16, 16) * 2 - 1
    assert torch.equal(G(z), G0(z)) and torch.equal(D(x), D0(x))


@pytest.mark.parametrize("backbone", ["dcgan", "resnet"])
def test_a_fade_starts_where_the_previous_stage_ends(backbone):
    """alpha = 0 of the stage at 8 px gives exactly the 4 px nets: growing is continuous."""
    G, D = models(backbone)
    G.eval(), D.eval()
    z, x = torch.randn(4, 8), torch.rand(4, 3, 16, 16) * 2 - 1
    outputs = {}
    for state in ((4, 1.0), (8, 0.0), (8, 0.5), (8, 1.0)):
        G.set_growth(*state), D.set_growth(*state)
        outputs[state] = (G(z), D(x))
    for a, b in zip(outputs[(4, 1.0)], outputs[(8, 0.0)], strict=True):
        torch.testing.assert_close(a, b)
    g0, g1, g_half = outputs[(4, 1.0)][0], outputs[(8, 1.0)][0], outputs[(8, 0.5)][0]
    torch.testing.assert_close(g_half, 0.5 * g0 + 0.5 * g1)  # G's image blends linearly
    assert not torch.allclose(g0, g1)


@pytest.mark.parametrize("backbone", ["dcgan", "resnet"])
def test_images_are_made_and_seen_at_the_current_resolution(backbone):
    G, D = models(backbone)
    G.eval(), D.eval()
    G.set_growth(8, 1.0), D.set_growth(8, 1.0)
    image = G(torch.randn(2, 8))
    assert image.shape == (2, 3, 16, 16)  # one shape for grids and evaluation
    blocky = F.interpolate(F.avg_pool2d(image, 2), scale_factor=2, mode="nearest")
    assert torch.equal(image, blocky)  # but only 8 x 8 of detail
    real = torch.rand(2, 3, 16, 16)
    real_8 = F.interpolate(F.avg_pool2d(real, 2), scale_factor=2, mode="nearest")
    torch.testing.assert_close(D(real), D(real_8))  # D sees the real batch area-downsampled
    D.set_growth(16, 1.0)
    assert not torch.allclose(D(real), D(real_8))


@pytest.mark.parametrize("backbone", ["dcgan", "resnet"])
def test_an_attention_slot_is_off_the_path_until_its_stage_is_in(backbone):
    G, D = models(backbone, {"g_resolutions": [16], "d_resolutions": [8]})
    calls = {"g": 0, "d": 0}
    G.net.slotted.blocks["16"].register_forward_hook(lambda *_: calls.__setitem__("g", 1))
    D.net.slotted.blocks["8"].register_forward_hook(lambda *_: calls.__setitem__("d", 1))
    z = torch.randn(2, 8)
    for net in (G, D):
        net.set_growth(8, 1.0)
    D(G(z))
    assert calls == {"g": 0, "d": 0}  # at 8 px: G's 16 px map and D's 8 px map do not exist
    for net in (G, D):
        net.set_growth(16, 0.5)
    D(G(z))
    assert calls == {"g": 1, "d": 1}  # fading the 16 px stage in brings both slots in


def test_the_state_dict_is_fixed_from_the_start():
    G, D = models("dcgan")
    keys = set(G.state_dict()) | set(D.state_dict())
    G.set_growth(4, 1.0), D.set_growth(4, 1.0)
    D(G(torch.randn(2, 8)))
    assert set(G.state_dict()) | set(D.state_dict()) == keys
    assert {"rgb.4.0.weight", "rgb.8.0.weight"} <= set(G.state_dict())
    assert {"from_rgb.4.0.parametrizations.weight.original"} <= set(D.state_dict())


def test_a_video_backbone_cannot_grow():
    model = ModelConfig(width=4, z_dim=8)
    with pytest.raises(ConfigError, match="backbone 'video' cannot grow progressively; use one of"):
        build_models(model, "video3d", {}, image_size=16, channels=3, frames=4, grow_from=4)


def test_the_config_reads_progressive_and_a_run_without_it_keeps_its_key():
    t = from_dict(TrainConfig, {"progressive": {"start_resolution": 8, "fade_iterations": 7}})
    assert t.progressive == ProgressiveConfig(8, 500, 7)
    assert from_dict(TrainConfig, {"progressive": None}).progressive is None
    plain = to_dict(RunConfig(variant="x"))
    older = {**plain, "train": {k: v for k, v in plain["train"].items() if k != "progressive"}}
    assert run_key(plain) == run_key(older)  # adding the option retrains nothing
    grown = to_dict(RunConfig(variant="x", train=t))
    assert run_key(grown) != run_key(plain)


def test_the_schedule_must_reach_the_full_size_within_the_run():
    p = ProgressiveConfig(start_resolution=4, phase_iterations=3, fade_iterations=2)
    check_schedule(p, 16, 10)  # grown at iteration 10: fine
    with pytest.raises(ConfigError, match="reaches 16 px at iteration 10, after the run's 9"):
        check_schedule(p, 16, 9)


def claim_7_runs(gain_pct: float) -> pd.DataFrame:
    """sagan at FD 100 (+ seed noise) and sagan-prog ``gain_pct`` % better, 8 seeds paired."""
    rows = []
    for seed in range(8):
        base = 100 + 3 * (seed % 3)
        for arm, fd in (("sagan", base), ("sagan-prog", base * (1 - gain_pct / 100))):
            rows.append(
                {"study": "s", "dataset": "digits", "arm": arm, "size": "full",
                 "train_images": 1397, "resolution": 16, "iterations": 400, "seed": seed,
                 "status": "done", "fd_domain": fd + 0.1 * ((seed * 7) % 5)}
            )  # fmt: skip
    return pd.DataFrame(rows)


def test_claim_7_pairs_the_progressive_arm_with_the_same_arm_grown_at_full_size():
    seven = spec("7")
    assert evaluate_claim(claim_7_runs(20.0), seven)[0].verdict == "inside the claimed range"
    assert evaluate_claim(claim_7_runs(-20.0), seven)[0].verdict != "inside the claimed range"
    unmeasured = evaluate_claim(claim_7_runs(20.0).query("arm == 'sagan'"), seven)[0]
    assert unmeasured.verdict == "not measured in this study"
    assert "progressive" in unmeasured.needs and "sagan-prog" in unmeasured.needs
