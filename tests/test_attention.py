import pytest
import torch

from sagan.nn.attention import SelfAttention2d, naive_attention, sdpa_attention, topk_weights


def block(impl="sdpa", channels=16, gamma=0.7, seed=0, **kwargs):
    torch.manual_seed(seed)
    m = SelfAttention2d(channels, impl=impl, **kwargs)
    with torch.no_grad():
        m.gamma.fill_(gamma)
    return m


KERNELS = [("naive", {}), ("sdpa", {}), ("auto", {}), ("topk", {"top_k": 0.25})]


@pytest.mark.parametrize(("impl", "kwargs"), KERNELS)
def test_shape_is_preserved(impl, kwargs):
    x = torch.randn(2, 16, 8, 6)
    assert block(impl, **kwargs)(x).shape == x.shape


@pytest.mark.parametrize(("impl", "kwargs"), KERNELS)
def test_gamma_zero_at_init_makes_the_block_the_identity(impl, kwargs):
    m = SelfAttention2d(16, impl=impl, **kwargs)
    assert m.gamma.item() == 0.0
    x = torch.randn(2, 16, 8, 8)
    assert torch.equal(m(x), x)


def test_naive_and_sdpa_agree_with_the_same_weights():
    x = torch.randn(3, 16, 8, 8)
    naive, sdpa = block("naive"), block("sdpa")
    sdpa.load_state_dict(naive.state_dict())
    torch.testing.assert_close(sdpa(x), naive(x), atol=1e-5, rtol=1e-5)
    assert not torch.allclose(naive(x), x)  # the attention term is really there


def test_attention_rows_sum_to_one_and_match_the_full_matrix():
    m, x = block("naive"), torch.randn(2, 16, 4, 4)
    queries = torch.tensor([0, 5, 15])
    maps = m.attention_maps(x, queries)  # (B, Q, H, W)
    assert maps.shape == (2, 3, 4, 4)
    torch.testing.assert_close(maps.sum(dim=(2, 3)), torch.ones(2, 3))
    q, k, _ = m._qkv(x)
    full = torch.softmax(q @ k.transpose(1, 2), dim=-1)  # (B, N, N)
    torch.testing.assert_close(maps.flatten(2), full[:, queries])


def test_gradients_reach_every_parameter():
    m, x = block("sdpa"), torch.randn(2, 16, 4, 4)
    m(x).square().sum().backward()
    for name, p in m.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0, name


def test_unknown_arguments_raise():
    with pytest.raises(TypeError):
        SelfAttention2d(16, heads=4)
    with pytest.raises(ValueError, match="impl"):
        SelfAttention2d(16, impl="flash")


def test_official_form_pools_keys_and_matches_between_kernels():
    torch.manual_seed(0)
    naive = SelfAttention2d(16, impl="naive", form="official")
    sdpa = SelfAttention2d(16, impl="sdpa", form="official")
    with torch.no_grad():
        naive.gamma.fill_(1.0)
    sdpa.load_state_dict(naive.state_dict())
    assert naive.value.out_channels == 8 and naive.out is not None  # C/2 values, 1x1 out conv
    x = torch.randn(2, 16, 8, 8)
    torch.testing.assert_close(sdpa(x), naive(x), atol=1e-5, rtol=1e-5)
    maps = naive.attention_maps(x, torch.tensor([0, 63]))
    assert maps.shape == (2, 2, 4, 4)  # keys on the 2x2 max-pooled grid
    torch.testing.assert_close(maps.sum(dim=(2, 3)), torch.ones(2, 2))


# 0.2 x 64 = 12.8 keeps 13 (not 12, rounded down); 0.3 x 64 = 19.2 keeps 19 (not 20)
@pytest.mark.parametrize(("top_k", "kept"), [(5, 5), (0.25, 16), (1, 1), (0.2, 13), (0.3, 19)])
def test_topk_keeps_exactly_k_weights_per_row(top_k, kept):
    m, x = block("topk", top_k=top_k), torch.randn(2, 16, 8, 8)
    maps = m.attention_maps(x, torch.arange(64)).flatten(2)  # (B, N, N)
    assert ((maps > 0).sum(-1) == kept).all()
    torch.testing.assert_close(maps.sum(-1), torch.ones(2, 64))


def test_topk_with_every_key_kept_equals_full_attention_in_chunks():
    naive = block("naive")
    full = block("topk", top_k=1.0, chunk_size=7)  # chunks that do not divide N
    full.load_state_dict(naive.state_dict())
    x = torch.randn(2, 16, 8, 8, requires_grad=True)
    torch.testing.assert_close(full(x), naive(x), atol=1e-5, rtol=1e-5)
    full(x).square().sum().backward()  # checkpointed chunks still give gradients
    assert x.grad is not None and torch.isfinite(x.grad).all()


def test_topk_gradient_flows_through_the_kept_entries_only():
    q = torch.randn(1, 6, 4)
    k = torch.randn(1, 20, 4, requires_grad=True)
    weights = topk_weights(q, k, 2)  # (1, 6, 20)
    (weights * torch.randn_like(weights)).sum().backward()
    kept = (weights[0] > 0).any(0)  # keys in some query's top 2
    assert (~kept).any(), "every key kept: the test would prove nothing"
    assert torch.all(k.grad[0][~kept] == 0) and k.grad[0][kept].abs().sum() > 0


def test_topk_argument_rules():
    with pytest.raises(ValueError, match="top_k is required"):
        SelfAttention2d(16, impl="topk")
    with pytest.raises(ValueError, match="only allowed"):
        SelfAttention2d(16, impl="sdpa", top_k=4)
    with pytest.raises(ValueError, match="fraction"):
        SelfAttention2d(16, impl="topk", top_k=1.5)


def test_sdpa_matches_naive_when_keys_are_wider_than_values():
    naive, sdpa = block("naive", key_channels=32), block("sdpa", key_channels=32)
    sdpa.load_state_dict(naive.state_dict())
    x = torch.randn(2, 16, 4, 4)
    torch.testing.assert_close(sdpa(x), naive(x), atol=1e-5, rtol=1e-5)


def test_sdpa_runs_on_the_fused_flash_kernel_not_the_math_fallback():
    from torch.nn.attention import SDPBackend, sdpa_kernel

    q, k, v = torch.randn(2, 64, 2), torch.randn(2, 64, 2), torch.randn(2, 16, 64).transpose(1, 2)
    with sdpa_kernel(SDPBackend.FLASH_ATTENTION):  # raises if the inputs need the fallback
        out = sdpa_attention(q, k, v)
    torch.testing.assert_close(out, naive_attention(q, k, v), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("budget", [0, 2**40])  # 0: always the fused kernel; huge: in pieces
def test_auto_matches_naive_on_either_path(monkeypatch, budget):
    import sagan.nn.attention as attention

    calls = []
    monkeypatch.setattr(attention, "MATERIALISE_BYTES", budget)
    for name in ("chunked_attention", "sdpa_attention"):
        real = getattr(attention, name)
        monkeypatch.setattr(
            attention, name, lambda *a, _f=real, _n=name: calls.append(_n) or _f(*a)
        )
    naive, auto = block("naive"), block("auto")
    auto.load_state_dict(naive.state_dict())
    x = torch.randn(2, 16, 8, 8)
    calls.clear()
    out = auto(x)
    assert calls == ["sdpa_attention" if budget == 0 else "chunked_attention"]
    torch.testing.assert_close(out, naive(x), atol=1e-5, rtol=1e-5)


def test_auto_is_the_default_impl():
    assert SelfAttention2d(16).impl == "auto"


@pytest.mark.parametrize("chunk_bytes", [1, 64 * 64 * 4, 3 * 64 * 64 * 4, 2**30])
def test_chunked_attention_equals_naive_with_gradients(chunk_bytes):
    from sagan.nn.attention import chunked_attention

    torch.manual_seed(0)
    # 1 byte: one query row at a time; 64 x 64 x 4: one sample; 3 samples: uneven groups
    q, k, v = (torch.randn(5, 64, c, requires_grad=True) for c in (4, 4, 16))
    g = torch.randn(5, 64, 16)
    naive_attention(q, k, v).backward(g)
    expected = [t.grad.clone() for t in (q, k, v)]
    for t in (q, k, v):
        t.grad = None
    out = chunked_attention(q, k, v, chunk_bytes=chunk_bytes)
    out.backward(g)
    torch.testing.assert_close(out, naive_attention(q, k, v), atol=1e-6, rtol=1e-6)
    for t, e in zip((q, k, v), expected, strict=True):
        torch.testing.assert_close(t.grad, e, atol=1e-5, rtol=1e-5)
