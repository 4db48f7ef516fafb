"""Each GAN loss and the gradient penalty against its closed form, on hand-built logits and a
linear D: values and gradients. A flipped sign or a swapped argument still trains to finite
numbers, so only a reference catches it."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from sagan.train.losses import (
    LOSSES,
    gradient_penalty,
    hinge_d,
    hinge_g,
    ns_d,
    ns_g,
    wgan_d,
)

REAL = [2.0, 0.5, -1.5]
FAKE = [-3.0, 0.25, 1.0]


def _softplus(x: float) -> float:
    return math.log1p(math.exp(x))


def _grads(loss, *logits):
    xs = [torch.tensor(v, requires_grad=True) for v in logits]
    value = loss(*xs)
    value.backward()
    return float(value), [x.grad.tolist() for x in xs]


def test_hinge_d_is_relu_1_minus_real_plus_relu_1_plus_fake():
    value, (g_real, g_fake) = _grads(hinge_d, REAL, FAKE)
    # real: relu(1-2)=0, relu(0.5)=0.5, relu(2.5)=2.5 -> 1.0; fake: 0, 1.25, 2.0 -> 3.25/3
    assert value == pytest.approx(3.0 / 3 + 3.25 / 3)
    assert g_real == pytest.approx([0.0, -1 / 3, -1 / 3])  # only margins inside push
    assert g_fake == pytest.approx([0.0, 1 / 3, 1 / 3])


def test_hinge_g_raises_ds_score_of_fakes():
    value, (g_fake,) = _grads(hinge_g, FAKE)
    assert value == pytest.approx(-sum(FAKE) / 3)
    assert g_fake == pytest.approx([-1 / 3] * 3)  # descent raises every fake logit


def test_non_saturating_losses_are_softplus_of_the_right_signs():
    value, (g_real, g_fake) = _grads(ns_d, REAL, FAKE)
    expected = sum(_softplus(-r) for r in REAL) / 3 + sum(_softplus(f) for f in FAKE) / 3
    assert value == pytest.approx(expected)
    sigmoid = [1 / (1 + math.exp(-v)) for v in REAL]
    assert g_real == pytest.approx([-(1 - s) / 3 for s in sigmoid])
    value, (g_fake,) = _grads(ns_g, FAKE)
    assert value == pytest.approx(sum(_softplus(-f) for f in FAKE) / 3)
    assert all(g < 0 for g in g_fake)  # G's descent raises D's score of its samples


def test_wgan_critic_is_fake_mean_minus_real_mean():
    value, (g_real, g_fake) = _grads(wgan_d, REAL, FAKE)
    assert value == pytest.approx(sum(FAKE) / 3 - sum(REAL) / 3)
    assert g_real == pytest.approx([-1 / 3] * 3) and g_fake == pytest.approx([1 / 3] * 3)
    assert LOSSES["wgan-gp"].generator is hinge_g  # -E[D(G(z))], WGAN's G loss


class _Linear(torch.nn.Module):
    """D(x) = <w, x> + b: its input gradient is w everywhere."""

    def __init__(self, w: torch.Tensor) -> None:
        super().__init__()
        self.w = torch.nn.Parameter(w.clone())

    def forward(self, x: torch.Tensor, y=None) -> torch.Tensor:
        return (x.flatten(1) * self.w).sum(1) + 0.3


class _Square(torch.nn.Module):
    """D(x) = sum(x^2) / 2: its input gradient is x itself, so the norm depends on where
    the interpolate lies between real and fake."""

    def forward(self, x: torch.Tensor, y=None) -> torch.Tensor:
        return 0.5 * x.flatten(1).pow(2).sum(1)


def test_gradient_penalty_of_a_linear_d_is_norm_minus_one_squared_with_its_gradient():
    w = torch.tensor([3.0, 4.0, 0.0, 0.0])  # |w| = 5, over the 4 pixels of a (1, 2, 2) image
    D = _Linear(w)
    real, fake = torch.randn(6, 1, 2, 2), torch.randn(6, 1, 2, 2)
    gp = gradient_penalty(D, real, fake, None)
    assert float(gp) == pytest.approx((5 - 1) ** 2)
    gp.backward()  # d/dw (|w| - 1)^2 = 2 (|w| - 1) w / |w|: create_graph keeps it
    assert D.w.grad.flatten().tolist() == pytest.approx([2 * 4 * 3 / 5, 2 * 4 * 4 / 5, 0, 0])


def test_gradient_penalty_mixes_each_sample_once_between_its_real_and_fake():
    torch.manual_seed(0)
    real, fake = torch.full((4, 1, 3, 3), 2.0), torch.zeros(4, 1, 3, 3)
    gp = gradient_penalty(_Square(), real, fake, None)
    torch.manual_seed(0)
    alpha = torch.rand(4)  # the penalty's draw: one weight per sample
    norms = alpha * 2.0 * 3.0  # the interpolate alpha*2 in each of 9 pixels: norm 6 alpha
    assert float(gp) == pytest.approx(float(((norms - 1) ** 2).mean()), rel=1e-5)
    clips = gradient_penalty(_Square(), torch.ones(2, 1, 2, 3, 3), torch.ones(2, 1, 2, 3, 3), None)
    assert float(clips) == pytest.approx((math.sqrt(18) - 1) ** 2, rel=1e-5)  # (B,C,T,H,W)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(-20, 20), min_size=1, max_size=8),
    st.lists(st.floats(-20, 20), min_size=1, max_size=8),
)
def test_every_d_loss_falls_when_real_logits_rise_or_fake_logits_fall(real, fake):
    r, f = torch.tensor(real), torch.tensor(fake)
    for name, loss in LOSSES.items():
        base = float(loss.discriminator(r, f))
        assert float(loss.discriminator(r + 1, f)) <= base + 1e-6, name
        assert float(loss.discriminator(r, f - 1)) <= base + 1e-6, name
        assert float(loss.generator(f + 1)) <= float(loss.generator(f)) + 1e-6, name


class _PerClass(torch.nn.Module):
    """D(x, y) = <w_y, x>: a conditional D whose input gradient is its class's w."""

    def __init__(self) -> None:
        super().__init__()
        self.w = torch.nn.Parameter(torch.tensor([[3.0, 4.0], [0.6, 0.8]]))

    def forward(self, x: torch.Tensor, y=None) -> torch.Tensor:
        w = self.w[y] if y is not None else self.w.sum(0, keepdim=True)
        return (x.flatten(1) * w).sum(1)


def test_gradient_penalty_passes_the_class_labels_to_a_conditional_d():
    real, fake = torch.randn(4, 2), torch.randn(4, 2)
    y = torch.tensor([0, 0, 1, 1])  # |w_0| = 5, |w_1| = 1: penalties 16 and 0
    gp = gradient_penalty(_PerClass(), real, fake, y)
    assert float(gp) == pytest.approx((16 + 16 + 0 + 0) / 4)
