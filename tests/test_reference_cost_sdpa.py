"""The sdpa handle of sagan.cost.flops by hand: B N M (D_qk + D_v) MACs and an N x M softmax,
with q's and k's widths taken before zero padding (sdpa_attention pads them on the CPU only, and
zero columns add nothing to a logit), but after any other padding."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from sagan.cost.flops import count_macs


class Attend(nn.Module):
    """sdpa on (B, N, D) operands, each first sent through ``prepare``."""

    def __init__(self, prepare) -> None:
        super().__init__()
        self.prepare = prepare

    def forward(self, q, k, v):
        return F.scaled_dot_product_attention(*self.prepare(q, k, v))


def _pad(mode="constant", value=0.0, sides=(0, 2)):
    kw = {"value": value} if mode == "constant" else {}
    return lambda t: F.pad(t, sides, mode=mode, **kw)


def _nd(value):
    return lambda t: torch.constant_pad_nd(t, (0, 2), value)


@pytest.mark.parametrize(
    "pad, width",
    [
        (_pad(), 3),  # zero columns add nothing to a logit: the unpadded width
        (_pad(value=1.0), 5),  # ones do
        (_pad("reflect"), 5),  # so do reflected
        (_pad("replicate"), 5),
        (_nd(0.0), 3),
        (_nd(1.0), 5),
    ],
)
def test_sdpa_counts_b_n_m_of_qk_width_plus_v_width_widths_before_zero_padding(pad, width):
    q, k, v = torch.randn(2, 6, 3), torch.randn(2, 4, 3), torch.randn(2, 4, 5)
    cost = count_macs(Attend(lambda q, k, v: (pad(q), pad(k), v)), (q, k, v))
    assert cost.macs == 2 * 6 * 4 * (width + 5) and cost.by_operator["softmax"] == 2 * 6 * 4


def test_sdpa_takes_the_narrower_unpadded_of_q_and_k_and_walks_back_only_through_views():
    v = torch.randn(2, 4, 4)
    q_padded = Attend(lambda q, k, v: (_pad()(q), k, v))  # q 3 wide padded to 5, k 5 wide
    assert count_macs(q_padded, (torch.randn(2, 6, 3), torch.randn(2, 4, 5), v)).macs == (
        2 * 6 * 4 * (3 + 4)
    )
    k_padded = Attend(lambda q, k, v: (q, _nd(0.0)(k), v))  # k 3 wide padded to 5
    assert count_macs(k_padded, (torch.randn(2, 6, 5), torch.randn(2, 4, 3), v)).macs == (
        2 * 6 * 4 * (3 + 4)
    )
    # a pad that adds rows too is not a padding of the width alone: the padded width counts
    rows = _pad(sides=(0, 2, 0, 1))
    rows_too = Attend(lambda q, k, v: (rows(q), rows(k), v))
    q, k = torch.randn(2, 6, 3), torch.randn(2, 4, 3)
    assert count_macs(rows_too, (q, k, torch.randn(2, 5, 4))).macs == 2 * 7 * 5 * (5 + 4)
    # (B, N, D) -> (B, 1, N, D) keeps the width: back through it to the pad; a new last dim
    # of 1 is the width itself
    heads = Attend(lambda q, k, v: (_pad()(q).unsqueeze(1), _pad()(k).unsqueeze(1), v[:, None]))
    assert count_macs(heads, (torch.randn(2, 6, 3), torch.randn(2, 4, 3), v)).macs == (
        2 * 6 * 4 * (3 + 4)
    )
    ones = Attend(lambda q, k, v: (q.unsqueeze(-1), k.unsqueeze(-1), v.unsqueeze(-1)))
    q, k = torch.randn(2, 3, 4), torch.randn(2, 3, 5)
    assert count_macs(ones, (q, k, k)).macs == 2 * 3 * 4 * 5 * (1 + 1)
