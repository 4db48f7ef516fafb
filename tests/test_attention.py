import pytest
import torch

from sagan.nn.attention import SelfAttention2d


def block(impl="sdpa", channels=16, gamma=0.7, seed=0):
    torch.manual_seed(seed)
    m = SelfAttention2d(channels, impl=impl)
    with torch.no_grad():
        m.gamma.fill_(gamma)
    return m


@pytest.mark.parametrize("impl", ["naive", "sdpa"])
def test_shape_is_preserved(impl):
    x = torch.randn(2, 16, 8, 6)
    assert block(impl)(x).shape == x.shape


@pytest.mark.parametrize("impl", ["naive", "sdpa"])
def test_gamma_zero_at_init_makes_the_block_the_identity(impl):
    m = SelfAttention2d(16, impl=impl)
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
