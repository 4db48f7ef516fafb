"""The ``inception`` extractor end to end on a stand-in TorchScript file, and the Inception Score.

The stand-in follows the calling convention of NVIDIA's inception-2015-12-05.pt (submodules
``layers`` -> (B, 2048, 1, 1) and ``output`` = Linear(2048, 1008); ``forward(img,
return_features, use_fp16, no_output_bias)``), so the real loading path runs with no network.
"""

import urllib.request

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor, nn

from sagan.errors import DataError
from sagan.metrics import EXTRACTORS, load_extractor
from sagan.metrics.extractors import extract
from sagan.metrics.inception import (
    FILE_NAME,
    SOURCE_URL,
    clean_resize,
    inception_score,
)
from sagan.study.model import parse_study

# The stand-in is written as the real file was made; torch 2.14 deprecates TorchScript.
pytestmark = pytest.mark.filterwarnings(r"ignore:`torch\.jit\.\w+` is deprecated:FutureWarning")


class StandInLayers(nn.Module):
    """Refuses anything but a (B, 3, 299, 299) batch in [-1, 1], and records what it saw."""

    def __init__(self) -> None:
        super().__init__()
        self.proj = nn.Linear(3 * 8 * 8, 2048)
        self.register_buffer("seen_shape", torch.zeros(4, dtype=torch.long))
        self.register_buffer("seen_range", torch.zeros(2))

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[1] != 3 or x.shape[2] != 299 or x.shape[3] != 299:
            raise ValueError("stand-in layers need (B, 3, 299, 299)")
        if bool(x.min() < -1.0) or bool(x.max() > 1.0):
            raise ValueError("stand-in layers need inputs normalised to [-1, 1]")
        self.seen_shape.copy_(torch.tensor(x.shape))
        self.seen_range.copy_(torch.stack([x.min(), x.max()]))
        pooled = F.adaptive_avg_pool2d(x, 8).flatten(1)  # (B, 192)
        return self.proj(pooled).view(-1, 2048, 1, 1)  # the real pool2's layout


class StandInInception(nn.Module):
    """The real file's forward, with plain bilinear standing in for its TF-style resize."""

    def __init__(self) -> None:
        super().__init__()
        self.layers = StandInLayers()
        self.output = nn.Linear(2048, 1008)
        with torch.no_grad():  # a large bias, so dropping it visibly changes the softmax
            self.output.bias.copy_(torch.linspace(-5.0, 5.0, 1008))

    def forward(
        self,
        img: Tensor,
        return_features: bool = False,
        use_fp16: bool = False,
        no_output_bias: bool = False,
    ) -> Tensor:
        x = img.to(torch.float16 if use_fp16 else torch.float32)
        if x.shape[2] != 299 or x.shape[3] != 299:
            x = F.interpolate(x, size=[299, 299], mode="bilinear", align_corners=False)
        features = self.layers((x - 128) / 128).reshape(-1, 2048).to(torch.float32)
        if return_features:
            return features
        bias = None if no_output_bias else self.output.bias
        logits = F.linear(features, self.output.weight, bias)
        return F.softmax(logits, dim=1)


@pytest.fixture
def weights(tmp_path):
    torch.manual_seed(0)
    path = tmp_path / FILE_NAME
    torch.jit.save(torch.jit.script(StandInInception().eval()), str(path))
    return path


@pytest.fixture
def no_network(monkeypatch):
    """Any download attempt (clean-fid uses urllib) fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("the inception extractor tried to download")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)


def images(n: int, channels: int, seed: int = 0) -> Tensor:
    """uint8-valued float images, (n, channels, 32, 32)."""
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, channels, 32, 32), generator=g).float()


def test_inception_is_registered():
    assert "inception" in EXTRACTORS.names()


@pytest.mark.parametrize("channels", [1, 3])
def test_features_of_small_images_are_2048_wide(weights, no_network, channels):
    extractor = load_extractor("inception", weights)
    feats = extract(extractor, images(5, channels), batch_size=2)
    assert feats.shape == (5, 2048) and torch.isfinite(feats).all()
    assert extractor.net.layers.seen_shape.tolist() == [1, 3, 299, 299]  # the last batch of 1
    assert not torch.allclose(feats[0], feats[1])  # the features depend on the image


def test_layers_see_pixels_normalised_as_clean_fid_does(weights):
    extractor = load_extractor("inception", weights)
    black_and_white = torch.stack([torch.zeros(3, 32, 32), torch.full((3, 32, 32), 255.0)])
    extract(extractor, black_and_white)
    low, high = extractor.net.layers.seen_range.tolist()
    assert low == pytest.approx(-1.0, abs=1e-5) and high == pytest.approx(127 / 128, abs=1e-5)


def test_a_grey_image_scores_as_its_rgb_repeat(weights):
    extractor = load_extractor("inception", weights)
    grey = images(3, 1)
    assert torch.equal(extract(extractor, grey), extract(extractor, grey.repeat(1, 3, 1, 1)))


def test_clean_resize_is_pil_bicubic_on_float_channels():
    x = images(2, 3, seed=1)
    out = clean_resize(x)
    assert out.shape == (2, 3, 299, 299) and out.dtype == torch.float32
    channel = Image.fromarray(x[1, 2].numpy().astype(np.float32), mode="F")
    expected = np.asarray(channel.resize((299, 299), resample=Image.BICUBIC)).clip(0, 255)
    np.testing.assert_array_equal(out[1, 2].numpy(), expected)


def test_pixels_outside_0_255_are_refused(weights):
    extractor = load_extractor("inception", weights)
    with pytest.raises(ValueError, match=r"\[0, 255\]"):
        extractor(images(2, 3) / 127.5 - 1.0)


@torch.no_grad()
def test_features_and_probabilities_match_the_files_own_forward(weights):
    extractor = load_extractor("inception", weights)
    x = images(4, 3, seed=2)
    resized = clean_resize(x)
    feats = extractor(x)
    torch.testing.assert_close(feats, extractor.net(resized, return_features=True))
    probs = extractor.probabilities()(x)
    assert probs.shape == (4, 1008)
    torch.testing.assert_close(probs.sum(1), torch.ones(4))
    torch.testing.assert_close(probs, extractor.net(resized, no_output_bias=True))
    assert not torch.allclose(probs, extractor.net(resized), atol=1e-3)  # the bias is dropped


def test_a_folder_holding_the_file_is_accepted(weights, no_network):
    extractor = load_extractor("inception", weights.parent)
    assert extract(extractor, images(1, 3)).shape == (1, 2048)


def test_missing_file_names_it_its_source_and_destination(tmp_path, no_network):
    target = tmp_path / "weights" / FILE_NAME
    with pytest.raises(DataError) as err:
        load_extractor("inception", target)
    message = str(err.value)
    assert FILE_NAME in message and str(target) in message
    assert "https://nvlabs-fi-cdn.nvidia.com/stylegan2-ada-pytorch/pretrained/metrics/" in message
    with pytest.raises(DataError, match="evaluation.extractor_path"):
        load_extractor("inception", "")


def test_source_url_is_the_one_clean_fid_downloads():
    from cleanfid.downloads_helper import inception_url

    assert inception_url == SOURCE_URL


def test_a_file_that_is_not_torchscript_is_named(tmp_path, no_network):
    bad = tmp_path / FILE_NAME
    bad.write_bytes(b"<html>a proxy's error page</html>")
    with pytest.raises(DataError, match="not a readable TorchScript"):
        load_extractor("inception", bad)


def test_inception_score_of_uniform_predictions_is_one():
    mean, std = inception_score(np.full((50, 10), 0.1), splits=5)
    assert mean == pytest.approx(1.0) and std == pytest.approx(0.0, abs=1e-12)


def test_inception_score_of_confident_balanced_predictions_is_the_class_count():
    probs = np.eye(4)[np.arange(40) % 4]  # one-hot, every split holds each class once
    mean, std = inception_score(probs, splits=10)
    assert mean == pytest.approx(4.0) and std == pytest.approx(0.0, abs=1e-12)


def test_inception_score_by_hand_and_over_splits():
    # p(y) = (3/4, 1/4); KL = log(4/3) for the one-hot row and log(4/3)/2 for the even one.
    mean, _ = inception_score(np.array([[1.0, 0.0], [0.5, 0.5]]), splits=1)
    assert mean == pytest.approx((4 / 3) ** 0.75)
    # split one scores 2 (confident over 2 classes), split two 1 (uniform): mean 1.5, std 0.5
    probs = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5], [0.5, 0.5]])
    assert inception_score(probs, splits=2) == pytest.approx((1.5, 0.5))


def test_inception_score_refuses_logits_and_too_many_splits():
    with pytest.raises(ValueError, match="probability"):
        inception_score(np.random.default_rng(0).normal(size=(20, 5)), splits=2)
    with pytest.raises(ValueError, match="splits"):
        inception_score(np.full((3, 2), 0.5), splits=4)


def test_a_run_scored_with_inception_reports_fid_kid_and_is(weights, no_network, tmp_path):
    """The whole evaluation path on the Inception extractor, with the stand-in file."""
    from sagan.config import DataConfig, EvalConfig, ModelConfig, RunConfig, TrainConfig
    from sagan.data import load_prepared, prepare
    from sagan.metrics.evaluate import evaluate
    from sagan.metrics.reference import compute_reference
    from sagan.train.trainer import train

    # a small generated set: Inception on every image of the pool is the test's whole cost
    data_path = tmp_path / "pairs.pt"
    prepare("pairs", 16, data_path, heldout=40, options={"count": 100})
    data = load_prepared(data_path)
    refs = {s: tmp_path / f"{s}.pt" for s in ("heldout", "train")}
    for split, out in refs.items():
        compute_reference(data, split, "inception", weights, out)
    cfg = RunConfig(
        variant="dcgan",
        data=DataConfig(path=str(data_path), size=40, resolution=16),
        model=ModelConfig(width=4, z_dim=8),
        train=TrainConfig(iterations=2, batch_size=8),
        eval=EvalConfig(
            extractor="inception",
            extractor_path=str(weights),
            num_samples=30,
            reference_path=str(refs["heldout"]),
            train_reference_path=str(refs["train"]),
        ),
    )
    train(cfg, tmp_path / "run", progress=False)
    metrics = evaluate(tmp_path / "run")["metrics"]
    assert {"fid", "kid", "fid_train", "is", "precision"} <= set(metrics)
    assert not any("inception" in name for name in metrics)  # FID is called FID, once
    assert metrics["fid"]["value"] > 0 and metrics["is"]["value"] >= 1.0


def test_a_study_naming_inception_without_its_file_stops_with_the_source(tmp_path, no_network):
    import copy
    from pathlib import Path

    import yaml

    from sagan.errors import DataError
    from sagan.study import validate_study

    root = Path(__file__).parents[1]
    study = copy.deepcopy(yaml.safe_load((root / "config/default.yaml").read_text()))
    study["evaluation"] |= {"extractor": "inception", "extractor_path": str(tmp_path / "x.pt")}
    validate_study(parse_study(study))  # names and options are fine without the file...
    with pytest.raises(DataError, match=r"inception-2015-12-05\.pt.*https://"):
        validate_study(parse_study(study), check_files=True)  # ...but the workflow needs it
