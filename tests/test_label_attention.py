"""Label-conditioned attention (variants/label_attention.py) and the conditional accuracy metric:
the block's embedding steers attention by class, a tiny conditional run trains and is scored,
and the metric reads a class-obeying G at the classifier's own accuracy and a G that ignores
its labels at chance."""

import json
from dataclasses import replace

import pytest
import torch
from torch import nn

from sagan.config import DataConfig, EvalConfig, ModelConfig, RunConfig, TrainConfig
from sagan.data import load_prepared
from sagan.images import to_pixel_range
from sagan.metrics.attention_maps import generator_attention
from sagan.metrics.domain import conditional_accuracy, train_domain_classifier
from sagan.metrics.evaluate import evaluate
from sagan.metrics.extractors import extract, load_extractor
from sagan.metrics.reference import compute_reference
from sagan.models import build_variant
from sagan.models.latents import generate, generate_labelled
from sagan.nn.attention import SelfAttention2d
from sagan.study.model import parse_study
from sagan.train.trainer import train

CLASSES = 10  # digits


@pytest.fixture(scope="module")
def scored(digits16, tmp_path_factory):
    """A domain classifier of the 16 px digits, its accuracy and the reference features."""
    root = tmp_path_factory.mktemp("label")
    data = load_prepared(digits16)
    extractor = root / "domain.pt"
    info = train_domain_classifier(data, extractor, epochs=1)
    paths = {"extractor": extractor, "accuracy": info["heldout_accuracy"]}
    for split in ("heldout", "train"):
        paths[split] = root / f"{split}.pt"
        compute_reference(data, split, "domain", extractor, paths[split])
    return paths


def block(seed=0):
    torch.manual_seed(seed)
    return build_variant("label_attention").g_slots[16](16, CLASSES)


def test_the_class_embedding_steers_attention_and_starts_as_sagans_block():
    blk = block()
    sagan = SelfAttention2d(16)
    sagan.load_state_dict({k: v for k, v in blk.state_dict().items() if not k.startswith("label")})
    with torch.no_grad():
        blk.gamma.fill_(0.5)
        sagan.gamma.fill_(0.5)
    x = torch.randn(2, 16, 8, 8)
    a, b = torch.tensor([0, 0]), torch.tensor([3, 7])
    # zero-initialised embedding: SAGAN's output for every class
    torch.testing.assert_close(blk(x, a), sagan(x))
    torch.testing.assert_close(blk(x, b), sagan(x))
    with torch.no_grad():
        blk.label.weight.normal_()
    assert not torch.allclose(blk(x, a), blk(x, b))  # another class, another output
    assert torch.equal(blk(x, b), blk(x, b))
    queries = torch.tensor([0, 9, 63])
    assert not torch.allclose(blk.attention_maps(x, queries, a), blk.attention_maps(x, queries, b))


def test_the_block_refuses_missing_or_misshapen_labels():
    x = torch.randn(2, 16, 8, 8)
    with pytest.raises(ValueError, match="needs y"):
        block()(x)
    with pytest.raises(ValueError, match="needs y"):
        block()(x, torch.zeros(2, 1, dtype=torch.long))


def test_generate_labelled_returns_generates_images_and_their_labels():
    real = torch.randint(256, (20, 1, 4, 4)), torch.arange(20) % 4
    images, labels = generate_labelled(
        RealImagesByClass(*real), 10, seed=3, batch_size=4, num_classes=4
    )
    again = generate(RealImagesByClass(*real), 10, seed=3, batch_size=4, num_classes=4)
    assert torch.equal(images, again)
    assert labels.shape == (10,) and torch.equal(
        RealImagesByClass(*real).classes_of(images), labels
    )
    assert generate_labelled(RealImagesByClass(*real), 10, seed=3, batch_size=4)[1] is None


class RealImagesByClass(nn.Module):
    """A stand-in G: for class y, the next real image of class y (cycling), in [-1, 1]; with
    ``ignore_labels``, an image of a class drawn at random instead."""

    z_dim = 4

    def __init__(self, pixels: torch.Tensor, labels: torch.Tensor, ignore_labels=False):
        super().__init__()
        self.pixels, self.labels, self.ignore = pixels.float(), labels, ignore_labels
        self.by_class = {int(c): (labels == c).nonzero().flatten() for c in labels.unique()}
        self.served = dict.fromkeys(self.by_class, 0)
        self.rng = torch.Generator().manual_seed(0)

    def forward(self, z, y):
        if y is None:
            return self.pixels[: len(z)] / 127.5 - 1
        picks = []
        for c in y.tolist():
            if self.ignore:
                c = int(torch.randint(len(self.by_class), (1,), generator=self.rng))
            pool = self.by_class[c]
            picks.append(pool[self.served[c] % len(pool)])
            self.served[c] += 1
        return self.pixels[torch.stack(picks)] / 127.5 - 1

    def classes_of(self, images):
        match = (to_pixel_range(images)[:, None] - self.pixels[None]).abs().flatten(2).amax(2)
        return self.labels[match.argmin(1)]  # (n,): each image's class, by its nearest real


def obeyed_accuracy(G, net, n=400):
    """What evaluation computes: labelled samples -> domain classifier -> accuracy."""
    images, labels = generate_labelled(G, n, seed=0, batch_size=100, num_classes=CLASSES)
    feats = extract(net, to_pixel_range(images))
    probs = net.predict_classes(feats.float()).detach().double().numpy()
    return conditional_accuracy(probs, labels.numpy())


def test_conditional_accuracy_is_the_classifiers_for_a_g_that_obeys_and_chance_otherwise(
    digits16, scored
):
    data = load_prepared(digits16)
    held = data.images[data.heldout], data.labels[data.heldout]
    net = load_extractor("domain", scored["extractor"])
    assert scored["accuracy"] > 0.6  # a classifier that can tell digits apart
    obeyed = obeyed_accuracy(RealImagesByClass(*held), net)
    assert obeyed == pytest.approx(scored["accuracy"], abs=0.04)
    ignored = obeyed_accuracy(RealImagesByClass(*held, ignore_labels=True), net)
    assert ignored == pytest.approx(1 / CLASSES, abs=0.05)


def test_a_tiny_conditional_label_attention_run_trains_and_reports_conditional_accuracy(
    digits16, scored, tmp_path, monkeypatch
):
    import sagan.metrics.image_evaluate as scoring

    monkeypatch.setattr(scoring, "feature_metrics", lambda *a, **k: {})  # KID: 8 s, not tested
    cfg = RunConfig(
        variant="label_attention",
        variant_options={"g_resolutions": [8], "d_resolutions": [8]},
        data=DataConfig(path=str(digits16), size=64, resolution=16),
        model=ModelConfig(backbone="resnet", width=8, z_dim=16, conditional=True),
        train=TrainConfig(iterations=3, batch_size=8, log_every=1, sample_every=3),
        eval=EvalConfig(
            extractor_path=str(scored["extractor"]),
            reference_path=str(scored["heldout"]),
            train_reference_path=str(scored["train"]),
            num_samples=100,
        ),
    )
    assert train(cfg, tmp_path / "c", progress=False)["state"] == "done"
    evaluate(tmp_path / "c")
    metrics = json.loads((tmp_path / "c/metrics.json").read_text())["metrics"]
    metric = metrics["conditional_accuracy_domain"]
    assert 0 <= metric["value"] <= 1 and metric["chance"] == 1 / CLASSES
    assert metric["real_heldout"] == pytest.approx(scored["accuracy"])
    assert metric["num_samples"] == 100 and metric["extractor"] == "domain"
    # the attention maps read G's label block with the labels it was called with
    maps = generator_attention(tmp_path / "c", images=2)["maps"]  # (B, Q, H, W)
    assert maps.shape == (2, 3, 16, 16)
    # an unconditional run has no labels to be accurate about: no such metric
    plain = replace(cfg, variant="sagan", model=replace(cfg.model, conditional=False))
    train(plain, tmp_path / "u", progress=False)
    assert "conditional_accuracy_domain" not in evaluate(tmp_path / "u")["metrics"]


def test_a_conditional_arm_is_profiled_with_class_ids():
    from sagan.cost.step import StepSpec, build_step

    spec = StepSpec(
        label="label_attention",
        variant="label_attention",
        variant_options={"g_resolutions": [8], "d_resolutions": [8]},
        model=ModelConfig(backbone="resnet", width=4, z_dim=8, conditional=True),
        resolution=16,
        batch=4,
    )
    step, m = build_step(spec)
    step()  # D and G updates with labels: the label blocks would refuse y = None
    assert m.G.num_classes == spec.classes > 1


def test_claim_9_is_measured_from_conditional_accuracy_when_the_study_has_both_arms():
    import pandas as pd

    from sagan.report.claims import evaluate_claim
    from tests.design_claims import spec

    nine = spec("9")
    rows = [
        {"study": "s", "dataset": "digits", "size": "full", "seed": seed, "status": "done"}
        | {"arm": arm, "conditional_accuracy_domain": acc + 0.001 * seed}
        for seed in range(6)
        for arm, acc in (("sagan-cond", 0.60), ("label_attention", 0.70))
    ]
    measured = evaluate_claim(pd.DataFrame(rows), nine)[0]
    assert measured.verdict == "inside the claimed range" and measured.n == 6
    assert measured.mean == pytest.approx(0.10)  # accuracy points, not % of the baseline
    without = [r for r in rows if r["arm"] != "label_attention"]
    missing = evaluate_claim(pd.DataFrame(without), nine)[0]
    assert missing.verdict == "not measured in this study" and "label_attention" in missing.needs


def test_the_scaling_sweep_never_picks_a_variant_that_needs_labels():
    from sagan.cost.plan import profile_settings

    conditional = {"model": {"conditional": True, "backbone": "resnet"}}
    study = {
        "study": "labels",
        "datasets": {"digits": {"resolution": 16, "heldout": 100}},
        "variants": {
            "label_attention": {"g_resolutions": [8], "d_resolutions": [8], **conditional},
            "sagan-cond": {"variant": "sagan", "g_resolutions": [8], **conditional},
        },
    }
    # the sweep runs the study's (unconditional) model, where label blocks are refused
    assert profile_settings(parse_study(study)).scaling.variants == ("sagan",)
