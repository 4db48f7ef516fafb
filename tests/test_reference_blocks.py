"""Each attention block against a plain reference written here from its paper's equations,
with the block's own weights: SAGAN (paper and official forms), top-k, efficient (linear),
SE, CBAM, and full and factorized 3D attention. Loops and einsum, nothing shared with the
library's kernels."""

import math

import pytest
import torch
import torch.nn.functional as F

from sagan.nn.attention import SelfAttention2d
from sagan.nn.channel import CBAM, SqueezeExcitation
from sagan.nn.video_attention import FactorizedAttention3d, SelfAttention3d


def _conv1x1(conv: torch.nn.Conv2d, x: torch.Tensor) -> torch.Tensor:
    """A 1x1 conv as a per-position matrix product: (B, C, H, W) -> (B, C', H*W)."""
    w = conv.weight[:, :, 0, 0]
    return torch.einsum("oc,bcn->bon", w, x.flatten(2)) + conv.bias[None, :, None]


def _gated(block, x):
    """The block with a nonzero gate, so its attention shows in the output."""
    with torch.no_grad():
        block.gamma.fill_(0.7)
    return block


def _sagan_reference(block: SelfAttention2d, x: torch.Tensor, keep: int | None = None):
    """Zhang et al. 2019 eq. 1-3: s_nm = q_n . k_m, beta_n = softmax_m(s_n), o_n = sum_m
    beta_nm v_m, y = gamma o + x; ``keep``: only each row's ``keep`` largest logits."""
    b, c, h, w = x.shape
    q, k, v = (_conv1x1(conv, x) for conv in (block.query, block.key, block.value))
    out = torch.zeros(b, v.shape[1], h * w)
    for i in range(b):
        for n in range(h * w):
            logits = torch.stack([q[i, :, n] @ k[i, :, m] for m in range(h * w)])
            if keep is not None:
                cut = logits.sort(descending=True).values[keep - 1]
                logits = torch.where(logits >= cut, logits, torch.tensor(-math.inf))
            beta = torch.exp(logits - logits.max())
            beta = beta / beta.sum()
            out[i, :, n] = (beta[None, :] * v[i]).sum(1)
    return block.gamma * out.reshape(b, -1, h, w) + x


@pytest.mark.parametrize("impl", ["naive", "sdpa", "auto"])
def test_sagan_block_is_softmax_of_query_key_products_over_values(impl):
    torch.manual_seed(0)
    block = _gated(SelfAttention2d(16, impl=impl), None)
    x = torch.randn(2, 16, 3, 4)
    assert torch.allclose(block(x), _sagan_reference(block, x), atol=1e-5)


def test_topk_block_is_the_softmax_over_each_rows_k_largest_logits():
    torch.manual_seed(1)
    block = _gated(SelfAttention2d(16, impl="topk", top_k=3), None)
    x = torch.randn(2, 16, 3, 3)
    assert torch.allclose(block(x), _sagan_reference(block, x, keep=3), atol=1e-5)


def test_official_form_pools_keys_and_values_and_projects_back():
    torch.manual_seed(2)
    block = _gated(SelfAttention2d(16, impl="naive", form="official"), None)
    x = torch.randn(1, 16, 4, 4)
    q = _conv1x1(block.query, x)  # (1, Ck, 16)
    k = F.max_pool2d(block.key(x), 2).flatten(2)  # (1, Ck, 4): keys 2x2 max-pooled
    v = F.max_pool2d(block.value(x), 2).flatten(2)  # (1, C/2, 4)
    beta = torch.softmax(torch.einsum("bcn,bcm->bnm", q, k), dim=-1)
    o = torch.einsum("bnm,bcm->bcn", beta, v).reshape(1, -1, 4, 4)
    expected = block.gamma * block.out(o) + x
    assert torch.allclose(block(x), expected, atol=1e-5)


def test_linear_block_is_efficient_attention_rows_over_channels_cols_over_positions():
    """Shen et al. 2021 eq. 2: E = rho_q(Q) (rho_k(K)^T V), rho_q a softmax over each
    query's channels and rho_k a softmax over the positions of each key channel."""
    torch.manual_seed(3)
    block = _gated(SelfAttention2d(16, impl="linear"), None)
    x = torch.randn(2, 16, 3, 4)
    q, k, v = (_conv1x1(conv, x) for conv in (block.query, block.key, block.value))
    rho_q = torch.softmax(q, dim=1)  # (B, Ck, N): over channels
    rho_k = torch.softmax(k, dim=2)  # over positions
    context = torch.einsum("bcm,bdm->bcd", rho_k, v)  # (B, Ck, Cv)
    o = torch.einsum("bcn,bcd->bdn", rho_q, context).reshape(2, -1, 3, 4)
    assert torch.allclose(block(x), block.gamma * o + x, atol=1e-5)


def test_squeeze_excitation_gates_channels_by_their_pooled_descriptor():
    """Hu et al. 2018 eq. 2-4: s = sigmoid(W2 relu(W1 z)), z the channel means; y = s * x,
    behind the gate y = x + gamma (s x - x)."""
    torch.manual_seed(4)
    block = _gated(SqueezeExcitation(16, reduction=4), None)
    x = torch.randn(2, 16, 5, 5)
    w1, w2 = block.mlp[0], block.mlp[2]
    z = x.mean(dim=(2, 3))  # (B, C)
    s = torch.sigmoid(F.linear(F.relu(F.linear(z, w1.weight[:, :, 0, 0], w1.bias)),
                               w2.weight[:, :, 0, 0], w2.bias))  # fmt: skip
    expected = x + block.gamma * (s[:, :, None, None] * x - x)
    assert torch.allclose(block(x), expected, atol=1e-6)


def test_cbam_is_a_channel_gate_from_avg_and_max_then_a_spatial_gate():
    """Woo et al. 2018 eq. 2-3: Mc = sigmoid(MLP(avg) + MLP(max)); F' = Mc * F;
    Ms = sigmoid(conv7x7([mean_c F'; max_c F'])); F'' = Ms * F'."""
    torch.manual_seed(5)
    block = _gated(CBAM(16, reduction=4), None)
    x = torch.randn(2, 16, 6, 6)

    def mlp(d):  # (B, C) -> (B, C) through the block's shared 1x1 convs
        w1, w2 = block.mlp[0], block.mlp[2]
        hidden = F.relu(F.linear(d, w1.weight[:, :, 0, 0], w1.bias))
        return F.linear(hidden, w2.weight[:, :, 0, 0], w2.bias)

    mc = torch.sigmoid(mlp(x.mean(dim=(2, 3))) + mlp(x.amax(dim=(2, 3))))
    f1 = mc[:, :, None, None] * x
    pooled = torch.stack([f1.mean(1), f1.amax(1)], dim=1)  # (B, 2, H, W)
    ms = torch.sigmoid(F.conv2d(pooled, block.spatial.weight, block.spatial.bias, padding=3))
    expected = x + block.gamma * (ms * f1 - x)
    assert torch.allclose(block(x), expected, atol=1e-6)


def _clip_reference(block: SelfAttention2d, x: torch.Tensor, groups) -> torch.Tensor:
    """SAGAN attention within each group of positions of the clip x (B, C, T, H, W): a list
    of lists of (t, y, x) positions that attend to one another."""
    out = x.clone()
    wq, wk, wv = (c.weight[:, :, 0, 0] for c in (block.query, block.key, block.value))
    for i in range(x.shape[0]):
        for group in groups:
            feats = torch.stack([x[i, :, t, r, c] for t, r, c in group])  # (G, C)
            q, k = feats @ wq.T + block.query.bias, feats @ wk.T + block.key.bias
            v = feats @ wv.T + block.value.bias
            o = torch.softmax(q @ k.T, dim=-1) @ v  # (G, C)
            for (t, r, c), row in zip(group, o, strict=True):
                out[i, :, t, r, c] = block.gamma * row + x[i, :, t, r, c]
    return out


def test_3d_attention_attends_over_every_position_of_the_clip():
    torch.manual_seed(6)
    block = SelfAttention3d(16, impl="naive")
    _gated(block.attention, None)
    x = torch.randn(2, 16, 3, 2, 2)
    every = [[(t, r, c) for t in range(3) for r in range(2) for c in range(2)]]
    assert torch.allclose(block(x), _clip_reference(block.attention, x, every), atol=1e-5)


def test_factorized_attention_is_time_per_pixel_then_space_per_frame():
    torch.manual_seed(7)
    block = FactorizedAttention3d(16, impl="naive")
    _gated(block.temporal, None)
    _gated(block.spatial, None)
    x = torch.randn(2, 16, 3, 2, 2)
    per_pixel = [[(t, r, c) for t in range(3)] for r in range(2) for c in range(2)]
    per_frame = [[(t, r, c) for r in range(2) for c in range(2)] for t in range(3)]
    expected = _clip_reference(block.spatial, _clip_reference(block.temporal, x, per_pixel),
                               per_frame)  # fmt: skip
    assert torch.allclose(block(x), expected, atol=1e-5)


@pytest.mark.parametrize("block", [SelfAttention3d, FactorizedAttention3d])
def test_video_blocks_pass_their_options_on_and_refuse_the_official_form(block):
    made = block(16, key_ratio=4, impl="naive")
    inner = [m for m in made.modules() if isinstance(m, SelfAttention2d)]
    assert inner and all(m.query.out_channels == 4 and m.impl == "naive" for m in inner)
    with pytest.raises(ValueError, match="paper form"):
        block(16, form="official")
