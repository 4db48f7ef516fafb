"""MAC counts: closed form of the attention block, torch's FlopCounterMode, every variant."""

from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from sagan.config import ModelConfig
from sagan.cost.flops import attention_block_macs, count_macs, model_costs
from sagan.models import build_backbone, build_models, build_variant
from sagan.nn.attention import SelfAttention2d
from sagan.registry import VARIANTS

# ops that must never be left uncounted ("mm" also covers addmm, bmm, baddbmm)
MUST_COUNT = ("attention", "softmax", "mm", "matmul", "topk", "gather", "scatter", "bag", "conv")
MODEL = ModelConfig(backbone="dcgan", width=8, z_dim=8)


def torch_flops(module: nn.Module, *inputs: torch.Tensor) -> int:
    with FlopCounterMode(display=False) as mode, torch.no_grad():
        module(*inputs)
    return mode.get_total_flops()


@pytest.mark.parametrize("form", ["paper", "official"])
@pytest.mark.parametrize("impl", ["naive", "sdpa"])
def test_attention_block_matches_the_closed_form(impl, form):
    """The sdpa handle counts the block's work, N*M*(Ck + Cv): on the CPU sdpa_attention
    zero-pads q and k to Cv (the trace holds that pad), and the padding is not counted, so the
    count is the naive form's and does not depend on the device."""
    blk = SelfAttention2d(32, impl=impl, form=form)
    cost = count_macs(blk, (torch.randn(2, 32, 8, 8),))
    assert cost.macs == 2 * attention_block_macs(32, 64, form=form)
    assert cost.attention_macs == cost.macs and cost.flops == 2 * cost.macs
    keys = 64 if form == "paper" else 16
    assert cost.by_operator["softmax"] == cost.other_ops == 2 * 64 * keys  # not in MACs
    assert not any(op in name for name in cost.unsupported for op in MUST_COUNT)


def test_sdpa_handle_counts_unpadded_multi_head_shapes():
    class Attend(nn.Module):
        def forward(self, q, k, v):
            return F.scaled_dot_product_attention(q, k, v)

    q, k, v = torch.randn(2, 3, 16, 4), torch.randn(2, 3, 8, 4), torch.randn(2, 3, 8, 6)
    cost = count_macs(Attend(), (q, k, v))
    assert cost.macs == 2 * 3 * 16 * 8 * (4 + 6)
    assert torch_flops(Attend(), q, k, v) == 2 * cost.macs  # CPU math path: two bmm


@pytest.mark.parametrize(("top_k", "per_image"), [(16, 131072), (4, 106496)])
def test_topk_block_macs_fall_with_the_keys_kept(top_k, per_image):
    """N = M = 64, C = 32 (Ck = 4, Cv = 32), by hand: convs 64 x 32 x (4 + 4 + 32) = 81,920;
    scores, dense, 64 x 64 x 4 = 16,384; values over the kept keys 64 x k x 32 = 32,768 at
    k = 16 and 8,192 at k = 4 (all 64 keys: 131,072; the old masked kernel counted that)."""
    blk = SelfAttention2d(32, impl="topk", top_k=top_k, chunk_size=16)
    cost = count_macs(blk, (torch.randn(2, 32, 8, 8),))
    assert cost.macs == cost.attention_macs == 2 * per_image
    assert per_image == attention_block_macs(32, 64, top_k=top_k)
    ops = cost.by_operator
    assert ops["embedding_bag"] == 2 * 64 * top_k * 32
    assert (ops["topk"], ops["softmax"]) == (2 * 64 * 64, 2 * 64 * top_k)  # element ops
    assert cost.other_ops == ops["topk"] + ops["softmax"]
    assert "scatter" not in ops  # the dense weights are never formed


class ConvLinearBmm(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.up = nn.ConvTranspose2d(8, 4, 4, 2, 1)
        self.fc = nn.Linear(4 * 8 * 8, 24)

    def forward(self, x):
        h = self.fc(self.up(torch.relu(self.conv(x))).flatten(1)).view(-1, 4, 6)
        return torch.bmm(h, h.transpose(1, 2))


@pytest.mark.parametrize(
    "module, shape",
    [(ConvLinearBmm(), (2, 3, 4, 4)), (SelfAttention2d(16, impl="naive"), (2, 16, 8, 8))],
)
def test_flops_are_exactly_twice_macs_as_flop_counter_mode_counts(module, shape):
    x = torch.randn(shape)
    assert torch_flops(module, x) == 2 * count_macs(module, (x,)).macs


@pytest.mark.parametrize("form", ["paper", "official"])
def test_attention_matmuls_grow_with_the_square_of_tokens(form):
    """f(N) = a N + b N^2 (convs, matmuls): f(4N) - 4 f(N) = 12 b N^2, exactly."""
    blk = SelfAttention2d(32, impl="naive", form=form)
    small, large = (count_macs(blk, (torch.randn(1, 32, s, s),)).macs for s in (8, 16))
    assert small == attention_block_macs(32, 64, form=form)
    assert large == attention_block_macs(32, 256, form=form)
    keys = 64 if form == "paper" else 16
    assert large - 4 * small == 12 * 64 * keys * (4 + (32 if form == "paper" else 16))


def test_nested_attention_modules_are_counted_once():
    class Wrapper(nn.Module):
        is_attention = True

        def __init__(self) -> None:
            super().__init__()
            self.inner, self.mix = SelfAttention2d(16, impl="naive"), nn.Conv2d(16, 16, 1)

        def forward(self, x):
            return self.mix(self.inner(x))

    model = nn.Sequential(nn.Conv2d(3, 16, 1), Wrapper())
    cost = count_macs(model, (torch.randn(1, 3, 4, 4),))
    assert cost.attention_macs == cost.macs - 3 * 16 * 16


NAMES = VARIANTS.names("image")


@pytest.mark.parametrize("name", NAMES)
def test_every_variant_counts_attention_apart_from_the_backbone(name):
    torch.manual_seed(0)
    spec = build_variant(name)
    # blocks that condition on class ids: a conditional backbone, G and D given y
    model = replace(MODEL, backbone="resnet", conditional=True) if spec.labels else MODEL
    k = 3 if spec.labels else 0
    G, D = build_models(model, name, {}, image_size=32, channels=3, num_classes=k)
    cost = model_costs(G, D, z_dim=8, resolution=32, channels=3, classes=k)
    assert G.training and D.training  # counted in eval mode, modes restored
    backbone = build_backbone(model, image_size=32, channels=3, num_classes=k)
    bare = model_costs(backbone.generator({}), backbone.discriminator({}), 8, 32, 3, k)
    for net, slots in (("g", spec.g_slots), ("d", spec.d_slots)):
        assert cost[f"macs_{net}"] > 0 and cost[f"flops_{net}"] == 2 * cost[f"macs_{net}"]
        assert (cost[f"attention_macs_{net}"] > 0) == bool(slots)
        # every MAC outside the attention blocks is the backbone's: no block missed or twice
        assert cost[f"macs_{net}"] - cost[f"attention_macs_{net}"] == bare[f"macs_{net}"]
        assert (cost[f"other_ops_{net}"] > bare[f"other_ops_{net}"]) == bool(slots)
    y = (torch.zeros(1, dtype=torch.long),) if k else ()
    for net, x in ((G, torch.randn(1, 8)), (D, torch.randn(1, 3, 32, 32))):
        counted = count_macs(net.eval(), (x, *y))
        missed = counted.unsupported
        assert not any(op in kind for kind in missed for op in MUST_COUNT), missed
        topk = any(getattr(m, "impl", None) == "topk" for m in net.modules())
        assert topk == ("topk" in counted.by_operator) == ("embedding_bag" in counted.by_operator)
