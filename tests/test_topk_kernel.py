"""The top-k kernel (value product over the kept keys only) against the masked reference."""

import pytest
import torch

from sagan.nn.attention import topk_attention, topk_weights


def masked_topk(q, k, v, top_k):
    """The old kernel: the kept weights scattered back into a dense (B, N, M) matrix, times v."""
    return torch.bmm(topk_weights(q, k, top_k), v)


def inputs(b, n, m, ck=4, cv=12, seed=0):
    gen = torch.Generator().manual_seed(seed)
    shapes = ((b, n, ck), (b, m, ck), (b, m, cv))
    return [torch.randn(s, generator=gen, dtype=torch.float64).float() for s in shapes]


def grads(fn, q, k, v):
    q, k, v = (t.clone().requires_grad_(True) for t in (q, k, v))
    out = fn(q, k, v)
    weights = torch.linspace(-1, 1, out.numel()).view(out.shape)  # every output counts
    (out * weights).sum().backward()
    return out.detach(), q.grad, k.grad, v.grad


# (B, N, M, kept keys, queries per chunk): k = 1, a fraction, every key; chunks that do not
# divide N, one chunk, and fewer keys than queries (the official form's pooled keys)
CASES = [
    (2, 16, 16, 1, 5),
    (2, 16, 16, 4, 16),
    (1, 20, 20, 7, 6),
    (3, 16, 16, 16, 7),
    (2, 24, 6, 3, 8),
    (2, 24, 6, 6, 24),
]


@pytest.mark.parametrize(("b", "n", "m", "top_k", "chunk"), CASES)
def test_forward_and_gradients_equal_the_masked_form(b, n, m, top_k, chunk):
    q, k, v = inputs(b, n, m)
    new = grads(lambda *t: topk_attention(*t, top_k, chunk), q, k, v)
    old = grads(lambda *t: masked_topk(*t, top_k), q, k, v)
    for mine, reference in zip(new, old, strict=True):
        torch.testing.assert_close(mine, reference, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize(("b", "n", "m", "top_k", "chunk"), CASES)
def test_no_grad_forward_equals_the_masked_form(b, n, m, top_k, chunk):
    q, k, v = inputs(b, n, m, seed=1)
    with torch.no_grad():
        out = topk_attention(q, k, v, top_k, chunk)
    torch.testing.assert_close(out, masked_topk(q, k, v, top_k), atol=1e-5, rtol=1e-5)


def test_values_that_are_a_transposed_view_give_the_same_result():
    q, k, v = inputs(2, 16, 16)
    view = v.transpose(1, 2).contiguous().transpose(1, 2)  # as the block's v: not contiguous
    assert not view.is_contiguous()
    torch.testing.assert_close(topk_attention(q, k, view, 3, 5), masked_topk(q, k, v, 3))


def test_bf16_values_give_a_bf16_output_close_to_fp32():
    q, k, v = inputs(2, 16, 16)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = topk_attention(q.bfloat16(), k.bfloat16(), v.bfloat16(), 4, 8)
    assert out.dtype == torch.bfloat16
    torch.testing.assert_close(out.float(), masked_topk(q, k, v, 4), atol=0.1, rtol=0.05)
