"""Common random numbers: with one seed, an attention arm and the baseline share their
backbone weights, spectral-norm vectors, latents and data order, so at iteration 0 (gamma = 0)
the attention arm is the baseline's function exactly."""

from dataclasses import replace

import pytest
import torch

from sagan.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from sagan.data import DataMeta
from sagan.streams import stream_seed
from sagan.train.trainer import _latents, build, d_step

META = DataMeta(resolution=16, channels=1, num_classes=10)
SLOTS = {"g_resolutions": [8], "d_resolutions": [8]}


def config(variant: str, options: dict, seed: int = 0, streams: str = "paired") -> RunConfig:
    return RunConfig(
        variant=variant,
        variant_options=options,
        data=DataConfig(size=64, resolution=16),
        model=ModelConfig(width=4, z_dim=8),
        train=TrainConfig(batch_size=4, seed=seed, streams=streams),
    )


def models(variant: str, options: dict, **kw):
    return build(config(variant, options, **kw), META, torch.device("cpu"))


def shared_state(a: torch.nn.Module, b: torch.nn.Module) -> dict[str, tuple]:
    """The entries (weights and buffers, spectral norms' u and v among them) both nets have."""
    sa, sb = a.state_dict(), b.state_dict()
    return {k: (sa[k], sb[k]) for k in sa.keys() & sb.keys()}


@pytest.mark.parametrize("variant", ["sagan", "topk"])
def test_one_seed_gives_an_attention_arm_the_baselines_backbone_and_function(variant):
    options = SLOTS | ({"top_k": 0.25} if variant == "topk" else {})
    base, arm = models("dcgan", {}), models(variant, options)
    for net in ("G", "D"):
        shared = shared_state(getattr(base, net), getattr(arm, net))
        if net == "D":  # spectral norm on every D layer: its vectors are compared too
            assert any(k.endswith("_u") for k in shared)
        for k, (x, y) in shared.items():
            assert torch.equal(x, y), f"{net}.{k}"
    z, _ = _latents(base, config("dcgan", {}), 0, torch.device("cpu"))
    z_arm, _ = _latents(arm, config(variant, options), 0, torch.device("cpu"))
    assert torch.equal(z, z_arm)  # the same training latents
    with torch.no_grad():
        assert torch.equal(base.G(z), arm.G(z))
        x = torch.rand(4, 1, 16, 16) * 2 - 1
        assert torch.equal(base.D(x), arm.D(x))


def test_the_first_d_step_gives_the_same_logits_and_loss():
    base, arm = models("dcgan", {}), models("sagan", SLOTS)
    real = torch.rand(4, 1, 16, 16) * 2 - 1
    out = []
    for m, variant, options in ((base, "dcgan", {}), (arm, "sagan", SLOTS)):
        z, y = _latents(m, config(variant, options), 0, torch.device("cpu"))
        out.append(d_step(m, real, None, z, y))
    assert torch.equal(out[0]["real_logits"], out[1]["real_logits"])
    assert torch.equal(out[0]["loss_d"], out[1]["loss_d"])


def test_the_global_generator_shares_nothing_past_the_attention_block():
    """The old path, kept as ``train.streams: global``: the block's init draws from the one
    generator, so G's layers after it differ between the arms."""
    base = models("dcgan", {}, streams="global")
    arm = models("sagan", SLOTS, streams="global")
    shared = shared_state(base.G, arm.G)
    assert any(not torch.equal(x, y) for x, y in shared.values())


def test_seeds_and_streams_are_distinct_and_stable():
    assert stream_seed(0, "latents/train") == stream_seed(0, "latents/train")
    seeds = {stream_seed(s, n) for s in range(3) for n in ("a", "b", "latents/train")}
    assert len(seeds) == 9 and all(0 <= s < 2**63 for s in seeds)
    # different seeds: different backbones (the seed still means something)
    a, b = models("dcgan", {}, seed=0), models("dcgan", {}, seed=1)
    assert not torch.equal(a.G.project.weight, b.G.project.weight)


def test_an_unknown_streams_value_is_refused():
    from sagan.errors import ConfigError

    cfg = config("dcgan", {})
    bad = replace(cfg, train=replace(cfg.train, streams="shared"))
    with pytest.raises(ConfigError, match="train.streams"):
        build(bad, META, torch.device("cpu"))


def test_an_attention_block_is_keyed_by_its_slot_not_by_what_else_the_arm_holds():
    """sagan at G's 8x8 alone and at 4x4 plus 8x8: the 8x8 blocks start the same."""
    one = models("sagan", SLOTS)
    two = models("sagan", SLOTS | {"g_resolutions": [4, 8]})
    block = "body.0.blocks.8."
    shared = {k: v for k, v in shared_state(one.G, two.G).items() if k.startswith(block)}
    assert shared and all(torch.equal(x, y) for x, y in shared.values())
