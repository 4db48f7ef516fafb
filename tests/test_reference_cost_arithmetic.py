"""The MAC counts of sagan.cost.flops against closed forms on hand-built modules: a conv's
H_out W_out C_out C_in k^2 per image, a linear's C_in C_out, an attention block's N M (Ck + Cv);
FLOPs = 2 x MACs, element ops never in MACs, and a batch's count divided by the batch once.
A count off by a factor (batch twice, MACs reported as FLOPs) still looks plausible, so only a
count worked out by hand catches it."""

import logging

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from sagan.cost.flops import (
    attention_block_macs,
    attention_modules,
    count_macs,
    is_attention,
    model_costs,
)
from sagan.nn.attention import SelfAttention2d
from sagan.nn.channel import GatedResidual

FEW = settings(max_examples=12, deadline=None)


@FEW
@given(
    batch=st.integers(1, 3),
    c_in=st.integers(1, 4),
    c_out=st.integers(1, 4),
    k=st.sampled_from([1, 3]),
    stride=st.sampled_from([1, 2]),
    pad=st.integers(0, 1),
    side=st.integers(3, 7),
)
def test_a_conv_counts_h_out_w_out_c_out_c_in_k2_per_image(
    batch, c_in, c_out, k, stride, pad, side
):
    conv = nn.Conv2d(c_in, c_out, k, stride, pad)
    out = (side + 2 * pad - k) // stride + 1  # the output side, by the conv's arithmetic
    cost = count_macs(conv, (torch.randn(batch, c_in, side, side),))
    per_image = out * out * c_out * c_in * k * k  # the bias is no multiply-accumulate
    assert cost.macs == batch * per_image and cost.flops == 2 * batch * per_image
    assert cost.per_image(batch).macs == per_image
    assert cost.per_image(batch).flops == 2 * per_image


def test_grouped_transposed_conv_linear_and_bmm_by_their_closed_forms():
    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.grouped = nn.Conv2d(4, 6, 3, padding=1, groups=2)  # 6 x (4/2) x 9 per pixel
            self.up = nn.ConvTranspose2d(6, 2, 4, 2, 1)  # each input pixel: 6 x 2 x 16
            self.fc = nn.Linear(2 * 10 * 10, 12)

        def forward(self, x):
            h = self.fc(self.up(self.grouped(x)).flatten(1)).view(-1, 3, 4)
            return torch.bmm(h, h.transpose(1, 2))  # (B, 3, 4) x (B, 4, 3)

    cost = count_macs(Net(), (torch.randn(2, 4, 5, 5),))
    conv = 25 * 6 * 2 * 9 + 25 * 6 * 2 * 16  # per image; the transposed one over its inputs
    linear, bmm = 200 * 12, 3 * 3 * 4
    assert cost.by_operator["conv"] == 2 * conv
    assert cost.by_operator["linear"] + cost.by_operator.get("addmm", 0) == 2 * linear
    assert cost.by_operator["bmm"] == 2 * bmm
    assert cost.macs == 2 * (conv + linear + bmm) and cost.flops == 4 * (conv + linear + bmm)
    assert cost.attention_macs == 0 and cost.other_macs == cost.macs and cost.other_ops == 0


def test_element_ops_count_elements_and_never_add_to_macs():
    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv, self.norm = nn.Conv2d(2, 3, 1, bias=False), nn.BatchNorm2d(3)
            self.group, self.layer = nn.GroupNorm(1, 3), nn.LayerNorm(4)
            self.instance = nn.InstanceNorm2d(3)

        def forward(self, x):  # x: (B, 2, 4, 4)
            h = self.instance(self.layer(self.group(self.norm(self.conv(x)))))  # (B, 3, 4, 4)
            up = F.interpolate(h, scale_factor=2.0)  # (B, 3, 8, 8): 192 out per image
            bi = F.interpolate(h, scale_factor=2.0, mode="bilinear")  # 192 out
            pooled = F.adaptive_avg_pool2d(up, 2)  # reads 192 in
            flat = h.flatten(2)  # (B, 3, 16)
            top = flat.topk(5, dim=-1)  # reads 48
            picked = flat.gather(2, top.indices[..., :2])  # moves 6 (the index)
            spread = torch.zeros_like(flat).scatter(2, top.indices, top.values)  # moves 15
            added = torch.zeros_like(flat).scatter_add(2, top.indices, top.values)  # 15
            probs = flat.softmax(-1) + flat.log_softmax(-1)  # 48 + 48
            return pooled.sum() + bi.sum() + picked.sum() + spread.sum() + added.sum() + probs

    batch = 3
    cost = count_macs(Net().eval(), (torch.randn(batch, 2, 4, 4),))
    per_image = {
        "batch_norm": 48,
        "group_norm": 48,
        "layer_norm": 48,
        "instance_norm": 48,
        "upsample_nearest2d": 192,
        "upsample_bilinear2d": 192,
        "adaptive_avg_pool2d": 192,
        "topk": 48,
        "gather": 6,
        "scatter": 15,
        "scatter_add": 15,
        "softmax": 48,
        "log_softmax": 48,
    }
    conv = 16 * 3 * 2
    for op, count in per_image.items():
        assert cost.by_operator[op] == batch * count, op
    assert cost.macs == batch * conv and cost.other_ops == batch * sum(per_image.values())
    one = cost.per_image(batch)
    assert (one.macs, one.flops, one.other_ops) == (conv, 2 * conv, sum(per_image.values()))
    assert one.by_operator == {"conv": conv, **per_image}
    assert all(type(v) is int for v in (one.macs, one.attention_macs, one.other_ops))
    assert all(type(v) is int for v in one.by_operator.values())


def test_private_in_place_and_sampling_forms_count_their_elements_too():
    class Net(nn.Module):
        def forward(self, x, grid):  # x: (B, 3, 5), grid: (B, 4, 4, 2)
            index = torch.zeros(x.shape[0], 3, 2, dtype=torch.long)
            probs = torch._softmax(x, -1, False)  # reads 15 per image
            put = torch.zeros_like(x).scatter_(2, index, 1.0)  # moves 6
            added = torch.zeros_like(x).scatter_add_(2, index, torch.ones(index.shape))  # 6
            sampled = F.grid_sample(x.unsqueeze(2), grid, align_corners=False)  # 3 x 16 out
            return probs.sum() + put.sum() + added.sum() + sampled.sum()

    cost = count_macs(Net(), (torch.randn(2, 3, 5), torch.rand(2, 4, 4, 2)))
    per_image = {"_softmax": 15, "scatter_": 6, "scatter_add_": 6, "grid_sampler": 48}
    assert cost.per_image(2).by_operator == per_image and cost.macs == 0


def test_ops_without_a_handle_are_listed_by_occurrence_not_divided_by_the_batch(caplog):
    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.unused = nn.Linear(3, 3)  # never called: fvcore would warn of it

        def forward(self, x):
            return x * x + x * 2  # two muls and an add: element-wise, no handle

    with caplog.at_level(logging.WARNING):
        cost = count_macs(Net(), (torch.randn(4, 3),))
    assert not caplog.records  # listed in the count, not logged
    assert cost.unsupported == {"aten::mul": 2, "aten::add": 1}
    assert cost.macs == cost.other_ops == 0
    assert cost.per_image(4).unsupported == cost.unsupported  # occurrences, not per image


def test_attention_block_macs_worked_by_hand():
    # C = 16: Ck = 2; paper form Cv = 16, M = N = 64
    # convs 64 x 16 x (2 + 2 + 16) = 20480; Q K^T and A V 64 x 64 x (2 + 16) = 73728
    assert attention_block_macs(16, 64) == 20480 + 73728
    # official form: Cv = 8, an output conv 8 -> 16, M = 64 / 4 = 16 pooled keys
    # convs 64 x 16 x (2 + 2 + 8) + 64 x 8 x 16 = 12288 + 8192; matmuls 64 x 16 x 10
    assert attention_block_macs(16, 64, form="official") == 12288 + 8192 + 10240
    assert type(attention_block_macs(16, 64, form="official")) is int  # M = N // 4, a count
    # linear: K^T V over M keys and Q (K^T V) over N queries, (64 + 64) x 2 x 16
    assert attention_block_macs(16, 64, linear=True) == 20480 + 4096
    assert attention_block_macs(16, 64, form="official", linear=True) == 20480 + 80 * 2 * 8
    # Ck given: 64 x 16 x (4 + 4 + 16) + 64 x 64 x (4 + 16)
    assert attention_block_macs(16, 64, key_channels=4) == 24576 + 81920
    # C = 4: Ck = max(1, 4 // 8) = 1; C = 1, official: Cv = max(1, 0) = 1, M = 16 / 4
    assert attention_block_macs(4, 16) == 16 * 4 * 6 + 16 * 16 * 5
    assert attention_block_macs(1, 16, form="official") == 16 * 1 * 3 + 16 + 16 * 4 * 2


@FEW
@given(
    channels=st.sampled_from([8, 16]),
    half_side=st.integers(1, 3),
    batch=st.integers(1, 2),
    form=st.sampled_from(["paper", "official"]),
)
def test_the_traced_block_is_its_closed_form_per_image(channels, half_side, batch, form):
    side = 2 * half_side  # even: the official form pools 2 x 2
    blk = SelfAttention2d(channels, impl="naive", form=form)
    cost = count_macs(blk, (torch.randn(batch, channels, side, side),)).per_image(batch)
    ck, cv = channels // 8, channels if form == "paper" else channels // 2
    n = side * side
    m = n if form == "paper" else n // 4
    out = n * cv * channels if form == "official" else 0
    assert cost.macs == n * channels * (2 * ck + cv) + out + n * m * (ck + cv)
    assert cost.attention_macs == cost.macs and cost.other_macs == 0


@FEW
@given(
    tokens=st.integers(1, 64).map(lambda t: 4 * t),
    channels=st.integers(1, 64),
    form=st.sampled_from(["paper", "official"]),
)
def test_attention_macs_are_quadratic_in_tokens_and_linear_attention_linear(tokens, channels, form):
    """f(N) = a N + b N^2: f(2N) - 2 f(N) = 2 b N^2 with b = (Ck + Cv) M / N; linear: b = 0."""
    ck, cv = max(1, channels // 8), channels if form == "paper" else max(1, channels // 2)
    keys_per_token = 1 if form == "paper" else 1 / 4
    f = lambda n, **kw: attention_block_macs(channels, n, form=form, **kw)  # noqa: E731
    assert f(2 * tokens) - 2 * f(tokens) == 2 * tokens * tokens * keys_per_token * (ck + cv)
    assert f(2 * tokens, linear=True) == 2 * f(tokens, linear=True)


def test_linear_attention_traces_to_its_closed_form():
    blk = SelfAttention2d(16, impl="linear")
    cost = count_macs(blk, (torch.randn(2, 16, 8, 8),)).per_image(2)
    assert cost.macs == 64 * 16 * (2 + 2 + 16) + (64 + 64) * 2 * 16


def test_attention_modules_are_the_outermost_blocks_by_exact_name():
    class Gate(GatedResidual):
        def forward(self, x):
            return x

    class Marked(nn.Identity):
        is_attention = True

    assert is_attention(SelfAttention2d(8)) and is_attention(Gate()) and is_attention(Marked())
    assert not is_attention(nn.Conv2d(1, 1, 1))
    blocks = nn.Sequential(*[SelfAttention2d(8) for _ in range(11)])
    assert attention_modules(blocks) == [str(i) for i in range(11)]  # "10" is not inside "1"
    assert attention_modules(SelfAttention2d(8)) == [""]  # the root: nothing else counts

    class Outer(Marked):
        def __init__(self) -> None:
            super().__init__()
            self.inner = SelfAttention2d(8)

    assert attention_modules(Outer()) == [""]  # its inner block is inside the root


def test_attention_macs_are_the_blocks_and_other_macs_the_rest():
    model = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), SelfAttention2d(16, impl="naive"))
    cost = count_macs(model, (torch.randn(2, 3, 4, 4),)).per_image(2)
    assert cost.attention_macs == attention_block_macs(16, 16)
    assert cost.other_macs == 16 * 16 * 3 * 9 and cost.macs == cost.attention_macs + 16 * 16 * 27


class TinyG(nn.Module):
    """z (B, 6) [, y (B,)] -> (B, 2, 4, 4): one linear, 6 x 32 MACs, and a 3 x 3 conv."""

    def __init__(self, classes: int = 0) -> None:
        super().__init__()
        self.classes, self.seen = classes, []
        self.fc, self.embed = nn.Linear(6, 32), nn.Embedding(max(classes, 1), 6)
        self.norm, self.conv = nn.BatchNorm2d(2), nn.Conv2d(2, 2, 3, padding=1)

    def forward(self, z, y=None):
        self.seen.append((self.training, z.shape, None if y is None else y.shape))
        if self.classes:
            assert int(y.min()) >= 0 and int(y.max()) < self.classes
            z = z * self.embed(y)
        return self.conv(self.norm(self.fc(z).view(-1, 2, 4, 4)))


class TinyD(nn.Module):
    """(B, 2, [T,] 4, 4) [, y] -> (B,): a conv to 3 channels (3-D for clips) and a linear."""

    def __init__(self, frames: int = 0) -> None:
        super().__init__()
        self.conv = nn.Conv3d(2, 3, (2, 3, 3)) if frames else nn.Conv2d(2, 3, 3)
        self.fc = nn.Linear(3 * 2 * 2 * max(frames - 1, 1), 1)

    def forward(self, x, y=None):
        return self.fc(self.conv(x).flatten(1)).squeeze(1)


@pytest.mark.parametrize("classes", [0, 5])
def test_model_costs_are_per_image_of_g_and_d(classes):
    G, D = TinyG(classes), TinyD()
    G.norm.eval()  # a module's own mode is restored, not reset by train()
    row = model_costs(G, D, z_dim=6, resolution=4, channels=2, classes=classes, batch=3)
    g = 6 * 32 + 16 * 2 * 2 * 9  # linear, then the same-size 3 x 3 conv
    d = 2 * 2 * 3 * 2 * 9 + 12  # a valid 3 x 3 conv to 2 x 2 x 3, then 12 -> 1
    assert (row["macs_g"], row["flops_g"], row["macs_d"], row["flops_d"]) == (g, 2 * g, d, 2 * d)
    assert row["attention_macs_g"] == row["attention_macs_d"] == 0
    assert row["other_ops_g"] == 32  # the batch norm's elements, per image
    assert row["other_ops_d"] == 0
    labels = torch.Size([3]) if classes else None
    assert G.seen == [(False, torch.Size([3, 6]), labels)]  # counted in eval mode, once
    assert G.training and D.training and not G.norm.training
    params_g = 6 * 32 + 32 + max(classes, 1) * 6 + 2 * 2 + 2 * 2 * 9 + 2
    assert row["params_g"] == params_g and row["params_d"] == 2 * 3 * 9 + 3 + 12 + 1


def test_model_costs_of_a_clip_are_per_clip():
    G = TinyG()
    row = model_costs(G, TinyD(frames=3), z_dim=6, resolution=4, channels=2, frames=3)
    assert G.seen == [(False, torch.Size([1, 6]), None)]  # by default a batch of 1, no labels
    # (2, 3, 4, 4) -> (3, 2, 2, 2): 8 outputs x 3 channels x 2 in x (2 x 3 x 3), then 24 -> 1
    assert row["macs_d"] == 8 * 3 * 2 * 18 + 24 and row["flops_d"] == 2 * row["macs_d"]
