"""Dataset kinds: each kind is told from its tags or its data's shape, has an evaluation
protocol, loads only its own extractor files, and trains with every loss (wgan-gp on clips)."""

from __future__ import annotations

import pytest
import torch

from sagan.config import ModelConfig
from sagan.data import DataMeta, PreparedData
from sagan.data.kinds import IMAGE, KINDS, VIDEO, kind_of_pixels, kind_of_tags
from sagan.errors import ConfigError, DataError
from sagan.io import atomic_torch_save
from sagan.metrics.extractors import load_extractor
from sagan.metrics.protocols import PROTOCOLS, protocol_of
from sagan.metrics.video_domain import load_video_extractor
from sagan.models.backbone import build_models
from sagan.train.losses import gradient_penalty


def test_a_kind_comes_from_the_tags_or_the_shape():
    assert kind_of_tags(("unlabelled",)) is IMAGE and kind_of_tags(("video",)) is VIDEO
    assert kind_of_pixels(torch.zeros(2, 1, 8, 8)) is IMAGE
    assert kind_of_pixels(torch.zeros(2, 1, 3, 8, 8)) is VIDEO
    with pytest.raises(ValueError, match="neither"):
        kind_of_pixels(torch.zeros(2, 8, 8))


def test_every_kind_has_an_evaluation_protocol_and_data_find_theirs():
    assert PROTOCOLS.keys() == KINDS.keys()
    for kind in KINDS.values():
        shape = (4, 1) + (3,) * (kind.sample_dims - 4) + (8, 8)  # (N, C, [T,] H, W)
        data = PreparedData(
            torch.zeros(shape, dtype=torch.uint8),
            torch.zeros(4, dtype=torch.long),
            torch.arange(2),
            torch.arange(2, 4),
            DataMeta(8, 1, 1),
        )
        assert protocol_of(data) is PROTOCOLS[kind.name]


def test_video_data_refuse_an_image_extractor_name():
    IMAGE.check_extractor("inception", "x")  # images take any registered extractor
    with pytest.raises(ConfigError, match="video data are scored with the domain"):
        VIDEO.check_extractor("inception", "datasets.v.evaluation.extractor")


def test_each_kind_loads_only_its_own_domain_extractor_files(tmp_path):
    video_file, image_file = tmp_path / "video.pt", tmp_path / "image.pt"
    atomic_torch_save(video_file, {"kind": "video"})
    atomic_torch_save(image_file, {"arch": {}, "state": {}, "scale": torch.ones(1)})
    with pytest.raises(DataError, match="trained on video data, not images"):
        load_extractor("domain", video_file)
    with pytest.raises(DataError, match="is not a video extractor"):
        load_video_extractor("domain", image_file)
    with pytest.raises(ConfigError, match="not 'inception'"):
        load_video_extractor("inception", video_file)


def test_the_gradient_penalty_mixes_each_clip_with_one_weight():
    """Per sample, the interpolate lies on the segment from fake to real with one weight
    over all of the clip's dims; a linear D has gradient w everywhere: (||w|| - 1)^2."""
    torch.manual_seed(0)
    real, fake = torch.randn(3, 2, 4, 5, 5), torch.randn(3, 2, 4, 5, 5)
    w = torch.randn(2, 4, 5, 5)
    seen = []

    def D(x, y):
        seen.append(x.detach())
        return (x * w).flatten(1).sum(1)

    penalty = gradient_penalty(D, real, fake, None)
    assert torch.allclose(penalty, (w.norm() - 1) ** 2)
    weight = (seen[0] - fake) / (real - fake)  # (B, C, T, H, W), constant per sample
    per_sample = weight.flatten(1)
    assert torch.allclose(per_sample, per_sample[:, :1].expand_as(per_sample), atol=1e-4)
    assert bool((per_sample >= 0).all() and (per_sample <= 1).all())


def test_wgan_gp_trains_a_video_discriminator():
    torch.manual_seed(0)
    model = ModelConfig(width=4, z_dim=8)
    G, D = build_models(model, "video_baseline", {}, image_size=16, channels=1, frames=4)
    real = torch.rand(2, 1, 4, 16, 16) * 2 - 1
    fake = G(torch.randn(2, G.z_dim)).detach()
    penalty = gradient_penalty(D, real, fake, None)
    penalty.backward()
    assert torch.isfinite(penalty)
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in D.parameters())
