"""One D step and one G step of the training loop against updates computed by hand.

G is a linear map z -> z A and D a linear critic x -> x . w + b, trained with plain SGD at
learning rate 1, so a step moves each weight by exactly minus its gradient, and every
gradient has a closed form. A step that swaps real and fake, drops the penalty, updates the
wrong network or leaves D's weights trainable after G's step fails here.
"""

import pytest
import torch
from torch import nn

from sagan.train.precision import Precision
from sagan.train.trainer import (
    Models,
    _log_row,
    _weights_finite,
    d_step,
    frozen,
    g_step,
    gammas,
)

R, B, Z, X = 6, 4, 3, 2  # real batch, fake batch, latent width, "image" width
# R != B: a small dataset gives fewer real images per batch than latents, and the two
# halves of D's joint batch must still be told apart


class LinearG(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.A = nn.Parameter(torch.tensor([[1.0, -0.5], [0.25, 2.0], [-1.0, 0.5]]))

    def forward(self, z, y):
        return z @ self.A


class LinearD(nn.Module):
    def __init__(self, w=(0.6, -0.8), b=0.1) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.tensor(w))
        self.b = nn.Parameter(torch.tensor(b))

    def forward(self, x, y):
        return x.flatten(1) @ self.w + self.b


class ConditionalG(LinearG):
    """z A plus a class's offset: G's output depends on the class it is asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.E = nn.Parameter(torch.tensor([[0.0, 0.0], [3.0, -1.0], [-2.0, 4.0]]))

    def forward(self, z, y):
        return z @ self.A + self.E[y]


class ProjectionD(LinearD):
    """x . (w + V[y]) + b, a projection critic: its input gradient depends on the class, so
    the penalty does too."""

    def __init__(self) -> None:
        super().__init__((0.6, -0.8), 0.1)
        self.V = nn.Parameter(torch.tensor([[0.5, 0.5], [-1.0, 2.0], [1.5, 0.0]]))

    def forward(self, x, y):
        return (x.flatten(1) * (self.w + self.V[y])).sum(1) + self.b


def models(loss: str, gp_weight: float = 10.0, w=(0.6, -0.8)) -> Models:
    G, D = LinearG(), LinearD(w)
    sgd = lambda net: torch.optim.SGD(net.parameters(), lr=1.0)  # noqa: E731
    return Models(G, D, sgd(G), sgd(D), Precision("fp32", "cpu"), loss, gp_weight)


def batch():
    g = torch.Generator().manual_seed(0)
    real = torch.randn(R, X, generator=g) * 2
    z = torch.randn(B, Z, generator=g)
    return real, z


def relu(t):
    return t.clamp(min=0)


@pytest.mark.parametrize("loss", ["hinge", "ns", "wgan-gp"])
def test_a_d_step_moves_d_by_its_losss_gradient_and_leaves_g(loss):
    m = models(loss, gp_weight=0.0)
    real, z = batch()
    w, b, A = m.D.w.detach().clone(), m.D.b.detach().clone(), m.G.A.detach().clone()
    fake = z @ A
    r, f = real @ w + b, fake @ w + b  # logits before the step
    # dL/dlogit per sample, by hand, for each loss's D part
    if loss == "hinge":
        gr, gf = -(1 - r > 0).float() / R, (1 + f > 0).float() / B
        value = relu(1 - r).mean() + relu(1 + f).mean()
    elif loss == "ns":
        gr, gf = -torch.sigmoid(-r) / R, torch.sigmoid(f) / B
        value = torch.log1p(torch.exp(-r)).mean() + torch.log1p(torch.exp(f)).mean()
    else:
        gr, gf = -torch.ones(R) / R, torch.ones(B) / B
        value = f.mean() - r.mean()
    grad_w = gr @ real + gf @ fake
    grad_b = gr.sum() + gf.sum()
    out = d_step(m, real, None, z, None)
    torch.testing.assert_close(m.D.w.detach(), w - grad_w)
    torch.testing.assert_close(m.D.b.detach(), b - grad_b)
    torch.testing.assert_close(m.G.A.detach(), A)  # G is not trained by D's step
    torch.testing.assert_close(out["loss_d"], value)
    torch.testing.assert_close(out["d_real"], r.mean())
    torch.testing.assert_close(out["d_fake"], f.mean())
    torch.testing.assert_close(out["real_logits"], r)


@pytest.mark.parametrize("gp_weight", [1.0, 10.0])
def test_wgan_gp_adds_its_weight_times_the_penalty_of_a_linear_critic(gp_weight):
    # a linear critic's input gradient is w at every interpolate: the penalty is (|w| - 1)^2
    w = (1.5, 2.0)  # |w| = 2.5
    m = models("wgan-gp", gp_weight, w)
    real, z = batch()
    fake = z @ m.G.A.detach()
    wt = torch.tensor(w)
    critic = (fake @ wt).mean() - (real @ wt).mean()
    out = d_step(m, real, None, z, None)
    torch.testing.assert_close(out["loss_d"], critic + gp_weight * (2.5 - 1) ** 2)
    # the penalty's gradient in w: gp_weight * 2 (|w| - 1) w / |w|, beside the critic's
    grad_w = (fake.mean(0) - real.mean(0)) + gp_weight * 2 * (2.5 - 1) * wt / 2.5
    torch.testing.assert_close(m.D.w.detach(), wt - grad_w)


def test_hinge_and_ns_add_no_penalty():
    for loss in ("hinge", "ns"):
        with_gp, without = models(loss, 10.0), models(loss, 0.0)
        real, z = batch()
        assert d_step(with_gp, real, None, z, None)["loss_d"] == pytest.approx(
            d_step(without, real, None, z, None)["loss_d"].item()
        )


@pytest.mark.parametrize("loss", ["hinge", "ns", "wgan-gp"])
def test_a_g_step_moves_g_by_its_losss_gradient_and_leaves_d(loss):
    m = models(loss)
    _, z = batch()
    w, b, A = m.D.w.detach().clone(), m.D.b.detach().clone(), m.G.A.detach().clone()
    f = z @ A @ w + b
    # dL/dlogit per sample: hinge and wgan -1/B; non-saturating -sigmoid(-f)/B
    gf = -torch.sigmoid(-f) / B if loss == "ns" else -torch.ones(B) / B
    grad_A = torch.outer(gf @ z, w)  # d logit_i / dA = z_i w^T
    out = g_step(m, z, None)
    torch.testing.assert_close(m.G.A.detach(), A - grad_A)
    torch.testing.assert_close(m.D.w.detach(), w)
    torch.testing.assert_close(m.D.b.detach(), b)
    value = torch.log1p(torch.exp(-f)).mean() if loss == "ns" else -f.mean()
    torch.testing.assert_close(out["loss_g"], value)


def test_d_is_trainable_again_after_a_g_step_but_gets_no_gradient_in_it():
    m = models("hinge")
    _, z = batch()
    g_step(m, z, None)
    assert all(p.grad is None for p in m.D.parameters())  # no D weight gradients computed
    assert all(p.requires_grad for p in m.D.parameters())


def test_frozen_restores_only_what_was_trainable_even_after_an_error():
    net = LinearD()
    net.b.requires_grad_(False)
    with pytest.raises(RuntimeError), frozen(net):
        assert not any(p.requires_grad for p in net.parameters())
        raise RuntimeError
    assert net.w.requires_grad and not net.b.requires_grad


def test_gammas_names_each_scalar_gamma_by_its_network_and_place():
    m = models("hinge")
    m.G.block = nn.Module()
    m.G.block.gamma = nn.Parameter(torch.tensor(0.25))
    m.D.attn, m.D.channel = nn.Module(), nn.Module()
    m.D.attn.gamma = nn.Parameter(torch.tensor(-0.5))
    m.D.channel.gamma = nn.Parameter(torch.zeros(2))  # a vector, not a residual weight
    assert gammas(m) == {"gamma:G.block": 0.25, "gamma:D.attn": -0.5}


def test_a_log_row_rates_the_interval_since_the_last_row_and_reads_the_learning_rates():
    m = models("hinge")
    m.opt_d.param_groups[0]["lr"] = 4e-4
    m.G.attn = nn.Module()
    m.G.attn.gamma = nn.Parameter(torch.tensor(0.5))
    rows = [{"iteration": 10, "seconds": 2.0}]
    row = _log_row(m, 20, 4.56789, rows, {"loss_d": torch.tensor(1.25), "d_real": 0.5})
    assert row == {
        "iteration": 20,
        "seconds": 4.568,  # ms
        "it_per_s": 3.894,  # 10 iterations in 2.56789 s, to 3 decimals
        "loss_d": 1.25,
        "d_real": 0.5,
        "lr_g": 1.0,
        "lr_d": 4e-4,
        "gamma:G.attn": 0.5,
    }
    assert type(row["loss_d"]) is float  # a tensor in the CSV would print as "tensor(1.25)"
    assert _log_row(m, 5, 2.0, [], {})["it_per_s"] == 2.5  # the first row: since 0
    assert _log_row(m, 15, 2.25, rows, {})["it_per_s"] == 20.0  # 5 in a quarter second


def test_weights_are_finite_until_one_weight_of_either_network_is_not():
    m = models("hinge")
    assert _weights_finite(m)
    with torch.no_grad():
        m.D.b.fill_(float("inf"))
    assert not _weights_finite(m)
    m = models("hinge")
    with torch.no_grad():
        m.G.A[1, 0] = float("nan")
    assert not _weights_finite(m)


def test_a_conditional_d_step_gives_each_image_its_own_class():
    G, D = ConditionalG(), ProjectionD()
    sgd = lambda net: torch.optim.SGD(net.parameters(), lr=1.0)  # noqa: E731
    m = Models(G, D, sgd(G), sgd(D), Precision("fp32", "cpu"), "wgan-gp", 1.0)
    real, z = batch()
    y_real, y_fake = torch.tensor([0, 1, 2, 0, 1, 2]), torch.tensor([2, 2, 1, 0])
    with torch.no_grad():
        fake = G(z, y_fake)
        wr, wf = D.w + D.V[y_real], D.w + D.V[y_fake]  # each image's critic direction
        critic = (fake * wf).sum(1).mean() - (real * wr).sum(1).mean()
        # the penalty pairs real i with fake i and takes real i's class: its gradient there
        penalty = ((wr[:B].norm(dim=1) - 1) ** 2).mean()
    out = d_step(m, real, y_real, z, y_fake)
    torch.testing.assert_close(out["loss_d"], critic + penalty)


def test_a_conditional_g_step_asks_g_and_d_for_the_same_class():
    G, D = ConditionalG(), ProjectionD()
    sgd = lambda net: torch.optim.SGD(net.parameters(), lr=1.0)  # noqa: E731
    m = Models(G, D, sgd(G), sgd(D), Precision("fp32", "cpu"), "hinge", 1.0)
    _, z = batch()
    y = torch.tensor([1, 2, 0, 1])
    with torch.no_grad():
        logits = ((G(z, y)) * (D.w + D.V[y])).sum(1) + D.b
    torch.testing.assert_close(g_step(m, z, y)["loss_g"], -logits.mean())
