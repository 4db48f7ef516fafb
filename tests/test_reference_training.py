"""The training loop's arithmetic against hand-computed values: EMA of parameters and
buffers, the optimisers as configured (two time-scales, betas), spectral norm on and off,
and n_dis D updates per G update."""

from dataclasses import replace

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

from sagan.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from sagan.data import DataMeta
from sagan.streams import LATENTS
from sagan.streams import generator as stream_generator
from sagan.train.ema import EMA
from sagan.train.trainer import build

META = DataMeta(resolution=16, channels=1, num_classes=10)


def config(**train) -> RunConfig:
    return RunConfig(
        variant="dcgan",
        data=DataConfig(size=64, resolution=16),
        model=ModelConfig(width=4, z_dim=8),
        train=TrainConfig(batch_size=4, **train),
    )


class _Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(2, 2)
        self.bn = nn.BatchNorm1d(2)


def test_ema_averages_parameters_after_its_start_and_copies_buffers():
    g = _Net()
    ema = EMA(g, decay=0.9, start=3)
    with torch.no_grad():
        g.lin.weight.fill_(1.0)
        g.bn.running_mean.fill_(5.0)
    ema.update(g, iteration=2)  # before the start: the average is G itself
    assert torch.equal(ema.model.lin.weight, g.lin.weight)
    with torch.no_grad():
        g.lin.weight.fill_(2.0)
        g.bn.running_mean.fill_(7.0)
    ema.update(g, iteration=3)  # 0.9 * 1 + 0.1 * 2
    assert torch.allclose(ema.model.lin.weight, torch.full((2, 2), 1.1))
    assert torch.equal(ema.model.bn.running_mean, torch.full((2,), 7.0))  # copied, not averaged
    assert not any(p.requires_grad for p in ema.model.parameters())


@pytest.mark.parametrize(
    ("recipe", "ema", "latents"),
    [
        ({"loss": "wgan-gp", "gp_weight": 3.5, "ema_decay": 0.0, "streams": "paired"}, None, True),
        (
            {"loss": "ns", "ema_decay": 0.999, "ema_start": 7, "streams": "global"},
            (0.999, 7),
            False,
        ),
        ({"channels_last": True}, None, True),
    ],
)
def test_build_wires_the_recipe_into_the_training_step(recipe, ema, latents):
    t = TrainConfig(batch_size=4, seed=5, precision="bf16", **recipe)
    m = build(replace(config(), train=t), META, torch.device("cpu"))
    assert (m.loss, m.gp_weight, m.precision.name) == (t.loss, t.gp_weight, "bf16")
    assert ((m.ema.decay, m.ema.start) if m.ema else None) == ema
    if m.ema is not None:  # a copy of this G, not of D or of nothing
        for a, b in zip(m.ema.model.state_dict().values(), m.G.state_dict().values(), strict=True):
            assert torch.equal(a, b)
    if latents:  # the run's own latent stream, seeded from its seed
        expected = torch.randn(3, generator=stream_generator(5, LATENTS))
        assert torch.equal(torch.randn(3, generator=m.latents), expected)
    else:
        assert m.latents is None
    assert m.opt_g.defaults["fused"] and m.opt_d.defaults["fused"]  # one kernel per step
    layout = torch.channels_last if t.channels_last else torch.contiguous_format
    for net in (m.G, m.D):  # NHWC weights where asked for, in both networks
        convs = [p for p in net.parameters() if p.dim() == 4 and p.shape[-1] > 1]
        assert convs and all(p.is_contiguous(memory_format=layout) for p in convs)


def test_optimisers_take_the_two_time_scales_and_betas_as_configured():
    m = build(config(lr_g=1e-4, lr_d=4e-4, betas=(0.0, 0.9)), META, torch.device("cpu"))
    g, d = m.opt_g.param_groups[0], m.opt_d.param_groups[0]
    assert (g["lr"], d["lr"]) == (1e-4, 4e-4)  # G slower than D (TTUR), not swapped
    assert g["betas"] == d["betas"] == (0.0, 0.9)
    assert {id(p) for p in g["params"]} == {id(p) for p in m.G.parameters()}
    assert {id(p) for p in d["params"]} == {id(p) for p in m.D.parameters()}


@pytest.mark.parametrize("setting, expected", [("on", True), ("off", False)])
def test_spectral_norm_of_g_follows_its_setting(setting, expected):
    cfg = config()
    cfg = replace(cfg, model=replace(cfg.model, g_spectral_norm=setting))
    m = build(cfg, META, torch.device("cpu"))
    normed = [mod for mod in m.G.modules() if parametrize.is_parametrized(mod, "weight")]
    assert bool(normed) == expected
    assert any(parametrize.is_parametrized(mod, "weight") for mod in m.D.modules())  # D always


def test_spectral_norm_bounds_each_layers_largest_singular_value_by_one():
    m = build(config(), META, torch.device("cpu"))
    layers = [mod for mod in m.D.modules() if parametrize.is_parametrized(mod, "weight")]
    assert len(layers) >= 3
    for module in layers:
        with torch.no_grad():
            module.parametrizations.weight.original.mul_(7.0)  # far from norm 1 first
        for _ in range(30):  # let the power iteration settle
            module(torch.zeros(1, *_input_shape(module)))
        w = module.weight.detach().flatten(1)
        assert float(torch.linalg.matrix_norm(w, ord=2)) == pytest.approx(1.0, abs=0.05)


def _input_shape(module: nn.Module) -> tuple:
    if isinstance(module, nn.Conv2d):
        return (module.in_channels, 8, 8)
    return (module.in_features,)


@pytest.mark.parametrize("n_dis", [1, 3])
def test_n_dis_d_updates_per_g_update(n_dis, digits16, tmp_path):
    from sagan.train import trainer

    cfg = config(iterations=2, n_dis=n_dis, log_every=1, sample_every=2)
    cfg = replace(cfg, data=replace(cfg.data, path=str(digits16)))
    calls = {"d": 0, "g": 0}
    d_step, g_step = trainer.d_step, trainer.g_step

    def count(name, step):
        def counted(*args):
            calls[name] += 1
            return step(*args)

        return counted

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(trainer, "d_step", count("d", d_step))
        mp.setattr(trainer, "g_step", count("g", g_step))
        trainer.train(cfg, tmp_path, progress=False)
    assert calls == {"d": 2 * n_dis, "g": 2}
