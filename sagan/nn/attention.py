"""The SAGAN self-attention block (Zhang et al. 2019, eq. 1-3) and its kernels.

From a feature map x (B, C, H, W): 1x1 convs give query and key with C/8 channels (C //
key_ratio; key_ratio = 8 by default) and value with C channels; A = softmax(Q^T K) over the
N = H*W positions; o = V A^T; y = gamma * o + x, with gamma a learned scalar that starts at 0
(so the block starts as the identity). SAGAN does not scale the logits by 1/sqrt(d);
neither do we.

form="official" is the authors' TensorFlow code (copied by BigGAN and StudioGAN): value with
C/2 channels and an output 1x1 conv back to C, keys and values 2x2 max-pooled (N/4 keys).

impl="linear" swaps the N x N softmax for efficient attention (Shen et al. 2021), whose cost
is linear in N; same parameters, so it compares kernel against kernel (see linear_attention).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

from sagan.errors import ConfigError
from sagan.nn.options import check_choice, check_positive_int, is_int

IMPLS = ("auto", "naive", "sdpa", "topk", "linear")
# auto on CPU: weights up to this size are materialised, in pieces of CHUNK_BYTES
MATERIALISE_BYTES = 256 * 2**20
CHUNK_BYTES = 8 * 2**20
FORMS = ("paper", "official")
KEY_RATIO = 8  # query/key channels C // 8, as in the paper


def check_top_k(top_k: int | float) -> int | float:
    """Keys kept per query: an int >= 1, or a fraction of the keys in (0, 1]."""
    fraction = isinstance(top_k, float) and 0 < top_k <= 1
    if not (fraction or (is_int(top_k) and top_k >= 1)):
        raise ConfigError(f"top_k must be an int >= 1 or a fraction in (0, 1]; got {top_k!r}")
    return top_k


def check_attention(
    *,
    impl: str = "auto",
    form: str = "paper",
    key_ratio: int = KEY_RATIO,
    top_k: int | float | None = None,
    chunk_size: int = 512,
) -> None:
    """Raise a ConfigError naming the first bad option of a ``SelfAttention2d``.

    Variant builders call it with their options, so a bad value fails when the variant is
    built, not later when its blocks are placed into a model.
    """
    check_choice("impl", impl, IMPLS)
    check_choice("form", form, FORMS)
    check_positive_int("key_ratio", key_ratio, "query/key channels are C // key_ratio")
    if (impl == "topk") != (top_k is not None):
        raise ConfigError("top_k is required with impl='topk' and only allowed with it")
    if top_k is not None:
        check_top_k(top_k)
    check_positive_int("chunk_size", chunk_size, "queries per top-k chunk")


def key_channels_of(channels: int, key_ratio: int = KEY_RATIO) -> int:
    """Query/key width of a block on ``channels``: C // key_ratio, at least 1."""
    return max(1, channels // key_ratio)


def naive_attention(q: Tensor, k: Tensor, v: Tensor) -> Tensor:
    """softmax(q k^T) v with the (B, N, M) matrix materialised: the reference."""
    return torch.bmm(torch.softmax(torch.bmm(q, k.transpose(1, 2)), dim=-1), v)


def sdpa_attention(q: Tensor, k: Tensor, v: Tensor) -> Tensor:
    """torch's fused kernel (flash / memory-efficient); unscaled logits as in SAGAN.

    SAGAN's q and k have C/8 channels and v has C. CUDA's memory-efficient kernel takes that
    as it is. The CPU flash kernel needs one head size for q, k and v; zero-padding q and k to
    v's width leaves every logit unchanged and lets it run instead of the math fallback, which
    would materialise the N x M matrix like the naive form (measured at N = 4096: padded 1.5x
    faster than naive and 1/14 of its memory, unpadded 1.1x slower). On an H100 the padding
    would cost 8 %, so it is skipped there.
    """
    cv = v.shape[-1]
    if q.device.type == "cpu":
        width = max(q.shape[-1], v.shape[-1])
        q, k, v = (F.pad(t, (0, width - t.shape[-1])) for t in (q, k, v))
    heads = [t.contiguous().unsqueeze(1) for t in (q, k, v)]
    out = F.scaled_dot_product_attention(*heads, scale=1.0)  # (B, 1, N, width)
    return out.squeeze(1)[..., :cv]  # (B, N, Cv)


def chunked_attention(q: Tensor, k: Tensor, v: Tensor, chunk_bytes: int = CHUNK_BYTES) -> Tensor:
    """The naive form in pieces of about ``chunk_bytes`` of weights: groups of samples, or
    rows of queries of one sample. Each piece's matrix stays in cache and no huge buffer is
    allocated (and page-faulted) per call; outputs equal the naive form's. Under autograd the
    pieces' softmax outputs are kept for backward, B x N x M in all, as naive keeps them."""
    b, n, m = q.shape[0], q.shape[1], k.shape[1]
    per_sample = n * m * q.element_size()
    kt = k.transpose(1, 2)
    if per_sample <= chunk_bytes:  # whole samples, several at a time
        group = max(1, chunk_bytes // per_sample)
        return torch.cat(
            [
                naive_attention(q[i : i + group], k[i : i + group], v[i : i + group])
                for i in range(0, b, group)
            ]
        )
    rows = max(1, chunk_bytes // (m * q.element_size()))
    return torch.cat(
        [
            torch.cat(
                [
                    torch.bmm(
                        torch.softmax(torch.bmm(q[i : i + 1, r : r + rows], kt[i : i + 1]), -1),
                        v[i : i + 1],
                    )
                    for r in range(0, n, rows)
                ],
                dim=1,
            )
            for i in range(b)
        ]
    )


def auto_attention(q: Tensor, k: Tensor, v: Tensor) -> Tensor:
    """The faster exact kernel for the device and size: torch's fused kernel on CUDA and for
    large maps; on CPU, the naive form in cache-sized pieces while the (B, N, M) weights fit
    in MATERIALISE_BYTES.

    Measured forward + backward on 2 cores, 64 images at N = 1,024, C = 64: pieces 297 ms vs
    fused 331 ms vs naive 502 ms in fp32; 117 vs 239 vs 214 ms in bf16; forward alone in bf16
    29 vs 95 vs 96 ms. The CPU fused kernel pads q/k to v's width and loops in blocks; it wins
    on memory (O(N)), which is what the larger maps need.
    """
    weights = q.shape[0] * q.shape[1] * k.shape[1] * q.element_size()
    if q.device.type == "cpu" and weights <= MATERIALISE_BYTES:
        return chunked_attention(q, k, v)
    return sdpa_attention(q, k, v)


def linear_attention(q: Tensor, k: Tensor, v: Tensor) -> Tensor:
    """Efficient attention (Shen et al. 2021, "Efficient Attention: Attention with Linear
    Complexities", eq. 2 with softmax normalisation): softmax_rows(q) (softmax_cols(k)^T v).

    Each query is a softmax over its Ck channels, each key channel a softmax over the M
    positions (a global attention map), so the Ck x Cv context is formed first and the N x M
    matrix never is: O((N + M) Ck Cv) MACs and memory, linear in tokens. The implied weights
    softmax_rows(q) softmax_cols(k)^T are >= 0 and each row sums to 1 (linear_weights).
    """
    context = torch.bmm(torch.softmax(k, dim=1).transpose(1, 2), v)  # (B, Ck, Cv)
    return torch.bmm(torch.softmax(q, dim=-1), context)  # (B, N, Cv)


def linear_weights(q: Tensor, k: Tensor) -> Tensor:
    """(B, c, M) weights that linear attention applies to v: softmax_rows(q) softmax_cols(k)^T.

    k must hold all M positions (its softmax runs over them); q may be any rows."""
    return torch.bmm(torch.softmax(q, dim=-1), torch.softmax(k, dim=1).transpose(1, 2))


def topk_kept(q: Tensor, k: Tensor, top_k: int) -> tuple[Tensor, Tensor]:
    """Each query's top_k largest logits as softmax weights, and the keys they belong to:
    (B, c, top_k) each. The softmax runs over the kept logits only.

    The logits themselves are all computed (B, c, M): the score product is dense, c M Ck MACs,
    whatever top_k is. Ck = C/8, so it is the cheap part; the value product (Cv = C wide) is
    what top_k shrinks (see topk_attention).
    """
    logits = torch.bmm(q, k.transpose(1, 2))  # (B, c, M)
    top, idx = logits.topk(top_k, dim=-1, sorted=False)  # order is not needed
    return torch.softmax(top, dim=-1), idx  # fp32 under CUDA autocast, whatever the logits are


def topk_weights(q: Tensor, k: Tensor, top_k: int) -> Tensor:
    """(B, c, M) attention weights with only the top_k largest logits of each row kept: the
    others are exactly 0 and get no gradient. For attention maps; the kernel never forms it."""
    weights, idx = topk_kept(q, k, top_k)
    return weights.new_zeros(q.shape[0], q.shape[1], k.shape[1]).scatter(-1, idx, weights)


def _topk_chunk(q: Tensor, k: Tensor, flat_v: Tensor, top_k: int) -> Tensor:
    """Top-k attention of the queries q (B, c, Ck) over k (B, M, Ck) and the values flattened
    to flat_v (B*M, Cv): each output row is the weighted sum of its top_k value rows only.

    embedding_bag does that sum without gathering the kept rows into a (B, c, top_k, Cv)
    tensor, and its backward adds into a (B*M, Cv) gradient: c top_k Cv MACs each way, memory
    O(c x top_k). Measured on 2 shared (loaded) cores, C = 64, k = N/8, chunks of 256,
    forward + backward: index_select of the kept rows + bmm was the slowest sparse form (the
    gathered rows go through memory; 1.5-2.9 s vs the old scattered-dense form's 0.8-1.3 s at
    8 images x N = 1,024); a sparse CSR product took 2.0 s there and its q/k gradients came
    out wrong. embedding_bag's forward is the fastest (1 image, N = 1,024: 22 ms vs 60 ms
    for the old form), but its backward sorts the indices of each chunk, which costs more
    than the dense product it saves (146 vs 51 ms; at N = 4,096 forward + backward 4.4 s vs
    2.2 s at k = N/32). It is kept because its cost is the one that falls with k; a backward
    that adds into the value gradient without sorting is the next step.
    """
    b, c, m = q.shape[0], q.shape[1], k.shape[1]
    weights, idx = topk_kept(q, k, top_k)
    first_row = torch.arange(b, device=idx.device).view(b, 1, 1) * m  # sample i's keys in flat_v
    rows = (idx + first_row).view(b * c, top_k)
    per_row = weights.reshape(b * c, top_k).to(flat_v.dtype)  # one dtype, as autocast's bmm
    out = F.embedding_bag(rows, flat_v, per_sample_weights=per_row, mode="sum")
    return out.view(b, c, -1)  # (B, c, Cv)


def topk_attention(q: Tensor, k: Tensor, v: Tensor, top_k: int, chunk_size: int) -> Tensor:
    """Top-k attention over query chunks: peak memory O(chunk x M), never O(N x M).

    Per query, the scores are dense (M Ck MACs: Q K^T, C/8 wide) and the value product runs
    over the top_k kept keys only (top_k Cv MACs instead of M Cv), so the block's MACs fall
    with top_k. Each chunk holds its (B, chunk, M) logits and (B, chunk, top_k) kept weights
    and indices; the kept value rows are never gathered, so top_k adds no chunk x top_k x Cv
    tensor and the chunk size need not shrink as top_k grows.

    Under autograd each chunk is checkpointed (recomputed in backward), so the saved state
    is the inputs, not a (B, N, M) matrix summed over chunks. A single chunk is O(N x M)
    either way, so it skips the recomputation.
    """
    chunks = q.split(chunk_size, dim=1)  # each (B, c, Ck)
    flat_v = v.reshape(-1, v.shape[-1])  # (B*M, Cv), made contiguous once for every chunk
    grad = torch.is_grad_enabled() and any(t.requires_grad for t in (q, k, v))
    outs = []
    for qc in chunks:
        if grad and len(chunks) > 1:
            outs.append(checkpoint(_topk_chunk, qc, k, flat_v, top_k, use_reentrant=False))
        else:
            outs.append(_topk_chunk(qc, k, flat_v, top_k))
    return torch.cat(outs, dim=1)  # (B, N, Cv)


class SelfAttention2d(nn.Module):
    """Self-attention over the H*W positions of a (B, C, H, W) map; output has the same shape.

    impl: "naive" materialises the N x N matrix (the reference); "sdpa" calls torch's
    scaled_dot_product_attention; "auto" (default) is sdpa, except small maps on CPU where
    naive is faster (see auto_attention); "topk" keeps the ``top_k`` largest logits per query
    (an int, or a float in (0, 1] as a fraction of the keys), in chunks of ``chunk_size``
    queries; "linear" is efficient attention, O(N) (see linear_attention: another function
    of the same weights, not an approximation of the others). All impls share the
    parameters query, key, value (and out), gamma.

    Query and key have ``key_channels`` channels, by default C // ``key_ratio`` (at least 1;
    key_ratio 8 is the paper's C/8).
    """

    def __init__(
        self,
        channels: int,
        *,
        impl: str = "auto",
        form: str = "paper",
        key_channels: int | None = None,
        key_ratio: int = KEY_RATIO,
        top_k: int | float | None = None,
        chunk_size: int = 512,
    ) -> None:
        super().__init__()
        check_attention(
            impl=impl, form=form, key_ratio=key_ratio, top_k=top_k, chunk_size=chunk_size
        )
        self.impl, self.form, self.top_k, self.chunk_size = impl, form, top_k, chunk_size
        key_channels = key_channels or key_channels_of(channels, key_ratio)
        value_channels = channels if form == "paper" else max(1, channels // 2)
        self.query = nn.Conv2d(channels, key_channels, 1)
        self.key = nn.Conv2d(channels, key_channels, 1)
        self.value = nn.Conv2d(channels, value_channels, 1)
        self.out = nn.Conv2d(value_channels, channels, 1) if form == "official" else None
        self.gamma = nn.Parameter(torch.zeros(()))

    def _qkv(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """q (B, N, Ck); k (B, M, Ck) and v (B, M, Cv), with M = N/4 in the official form."""
        k, v = self.key(x), self.value(x)
        if self.form == "official":
            k, v = F.max_pool2d(k, 2), F.max_pool2d(v, 2)
        q = self.query(x).flatten(2).transpose(1, 2)
        return q, k.flatten(2).transpose(1, 2), v.flatten(2).transpose(1, 2)

    def keys_kept(self, num_keys: int) -> int:
        """How many keys each query attends to under top-k."""
        num_keys = int(num_keys)  # a traced shape (fvcore's FLOP count) is a tensor
        k = self.top_k if isinstance(self.top_k, int) else round(self.top_k * num_keys)
        return max(1, min(int(k), num_keys))

    def forward(self, x: Tensor) -> Tensor:
        return self.attend(x, *self._qkv(x))

    def attend(self, x: Tensor, q: Tensor, k: Tensor, v: Tensor) -> Tensor:
        """gamma * (attention of q over k, v, back to a map) + x: the block after its 1x1
        convs, so a subclass can change q, k or v (e.g. add a class embedding) and keep the
        kernels. q (B, N, Ck); k (B, M, Ck); v (B, M, Cv)."""
        b, _, h, w = x.shape
        if self.impl == "auto":
            out = auto_attention(q, k, v)
        elif self.impl == "naive":
            out = naive_attention(q, k, v)
        elif self.impl == "sdpa":
            out = sdpa_attention(q, k, v)
        elif self.impl == "linear":
            out = linear_attention(q, k, v)
        else:
            out = topk_attention(q, k, v, self.keys_kept(k.shape[1]), self.chunk_size)
        out = out.transpose(1, 2).reshape(b, -1, h, w)  # (B, Cv, H, W)
        if self.out is not None:
            out = self.out(out)
        return self.gamma * out + x

    @torch.no_grad()
    def attention_maps(self, x: Tensor, queries: Tensor) -> Tensor:
        """Attention weights of the chosen query positions over the key grid: (B, Q, h, w).

        queries: (Q,) flat indices into the H*W positions. Only Q rows are computed, so the
        N x N matrix is never materialised. Rows sum to 1. The key grid is H x W (H/2 x W/2
        in the official form).
        """
        q, k, _ = self._qkv(x)
        return self.weights_of(x, q[:, queries], k)

    def weights_of(self, x: Tensor, q: Tensor, k: Tensor) -> Tensor:
        """(B, Q, h, w) attention weights of the queries q (B, Q, Ck) over the keys k of the
        map x (what ``attention_maps`` returns)."""
        b, _, h, w = x.shape
        queries = q.shape[1]
        if self.impl == "topk":
            weights = topk_weights(q, k, self.keys_kept(k.shape[1]))
        elif self.impl == "linear":
            weights = linear_weights(q, k)
        else:
            weights = torch.softmax(torch.bmm(q, k.transpose(1, 2)), dim=-1)  # (B, Q, M)
        side = 2 if self.form == "official" else 1
        return weights.reshape(b, queries, h // side, w // side)
