"""Forward compute of G and D per image: multiply-accumulates (MACs) by fvcore, split by module.

fvcore's FlopCountAnalysis calls its count "flops", but for conv and matmul it counts one per
multiply-accumulate; we name it MACs and report FLOPs = 2 x MACs (what
``torch.utils.flop_counter`` counts). fvcore skips ``scaled_dot_product_attention``, softmax,
top-k, gather, scatter and embedding_bag; we add handles for them. Only conv / matmul-like ops
(embedding_bag with per-sample weights is a sparse x dense product) are MACs;
softmax, top-k, gather, scatter, norms, pooling and upsampling are counted apart, in
``other_ops``, as *element operations* (elements processed), never added to MACs. Ops with no
handle (elementwise add, mul, activations, max-pool, spectral norm's weight-only ``mv``) are
listed in ``unsupported`` rather than dropped in silence.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from math import prod
from typing import Any

import torch
from fvcore.nn import FlopCountAnalysis
from fvcore.nn.jit_handles import get_shape
from torch import nn

from sagan.nn.attention import SelfAttention2d
from sagan.nn.channel import GatedResidual

SDPA = "scaled_dot_product_attention"
# by_operator() names (fvcore drops the "aten::" prefix) whose counts are multiply-accumulates
BAG = "embedding_bag"
MAC_OPS = frozenset({"conv", "addmm", "bmm", "einsum", "matmul", "mm", "linear", SDPA, BAG})
_PADS = ("aten::pad", "aten::constant_pad_nd")
_PASS_THROUGH = ("aten::contiguous", "aten::unsqueeze")


def _numel(value: Any) -> int:
    return prod(get_shape(value))


def _elements(arg: int | None = None) -> Any:
    """Handle counting the elements of input ``arg`` (None: of the first output)."""

    def handle(inputs: list[Any], outputs: list[Any]) -> int:
        return _numel(outputs[0] if arg is None else inputs[arg])

    return handle


def _unpadded_width(value: Any) -> int:
    """Last-dim width of an sdpa operand before any zero padding on that dim fed it.

    ``sagan.nn.attention.sdpa_attention`` zero-pads q and k to v's width on the CPU only; the
    padded columns add nothing to any logit, so they are not counted as work.
    """
    node = value.node()
    while node.kind() in _PASS_THROUGH:
        source = list(node.inputs())[0]
        if get_shape(source)[-1] != get_shape(node.output())[-1]:
            break
        node = source.node()
    if node.kind() in _PADS:
        args = list(node.inputs())
        value_arg = args[3] if node.kind() == "aten::pad" else args[2]
        is_zero = value_arg.toIValue() in (None, 0, 0.0)
        constant = node.kind() != "aten::pad" or args[2].toIValue() == "constant"
        before, after = get_shape(args[0]), get_shape(node.output())
        if is_zero and constant and before[:-1] == after[:-1]:
            return before[-1]
    return get_shape(value)[-1]


def _sdpa(inputs: list[Any], outputs: list[Any]) -> Counter[str]:
    """(..., N, D) x (..., M, D) -> (..., N, Dv): N*M*(D + Dv) MACs and a softmax of N*M.

    Widths are taken before zero padding (see ``_unpadded_width``), so the count is the
    block's work and the same on every device: equal to the naive bmm-softmax-bmm form.
    """
    q, k, v = (get_shape(t) for t in inputs[:3])
    batch, n, m = prod(q[:-2]), q[-2], k[-2]
    d_qk = min(_unpadded_width(inputs[0]), _unpadded_width(inputs[1]))
    d_v = _unpadded_width(inputs[2])
    return Counter({SDPA: batch * n * m * (d_qk + d_v), "softmax": batch * n * m})


def _embedding_bag(inputs: list[Any], outputs: list[Any]) -> int:
    """Weighted sums of rows of a (rows, D) table: one MAC per index per column, indices x D.

    Top-k attention sums each query's kept value rows this way (sagan.nn.attention), so its
    value product counts N k Cv, not N M Cv. An unweighted bag (per-sample weights None)
    adds without multiplying; no kernel here makes one, and it counts the same.
    """
    table, indices = get_shape(inputs[0]), get_shape(inputs[1])
    return prod(indices) * table[-1]


def _handles() -> dict[str, Any]:
    inputs0, index = _elements(0), _elements(2)  # gather / scatter: elements moved = index
    handles: dict[str, Any] = {f"aten::{op}": inputs0 for op in ("softmax", "_softmax")}
    handles |= {"aten::log_softmax": inputs0, "aten::topk": inputs0, "aten::gather": index}
    handles |= {f"aten::{op}": index for op in ("scatter", "scatter_", "scatter_add")}
    handles |= {"aten::scatter_add_": index, f"aten::{SDPA}": _sdpa, f"aten::{BAG}": _embedding_bag}
    # fvcore weighs these by a guessed per-element cost; count elements, like the rest
    norms = ("batch_norm", "group_norm", "layer_norm", "instance_norm", "adaptive_avg_pool2d")
    handles |= {f"aten::{op}": inputs0 for op in norms}
    resample = ("upsample_nearest2d", "upsample_bilinear2d", "grid_sampler")
    return handles | {f"aten::{op}": _elements() for op in resample}


def is_attention(module: nn.Module) -> bool:
    """Attention blocks: SAGAN self-attention, SE / CBAM gates, or a class with is_attention."""
    kind = type(module)
    return issubclass(kind, SelfAttention2d | GatedResidual) or bool(
        getattr(kind, "is_attention", False)
    )


def attention_modules(model: nn.Module) -> list[str]:
    """Names of the outermost attention modules (nested ones are inside them, not extra)."""
    names: list[str] = []
    for name, module in model.named_modules():
        inside = any(outer == "" or name.startswith(f"{outer}.") for outer in names)
        if is_attention(module) and not inside:
            names.append(name)
    return names


@dataclass(frozen=True)
class CostCount:
    """One forward pass. MACs are multiply-accumulates; ``other_ops`` counts elements
    processed by softmax, top-k, gather, scatter, norms and resampling (not MACs)."""

    macs: int
    attention_macs: int  # inside attention blocks (``is_attention``); the rest is other_macs
    other_ops: int
    by_operator: dict[str, int]
    unsupported: dict[str, int]  # "aten::op" -> occurrences with no handle (not counted)

    @property
    def flops(self) -> int:
        return 2 * self.macs

    @property
    def other_macs(self) -> int:
        return self.macs - self.attention_macs

    def per_image(self, batch: int) -> CostCount:
        """Counts of a batch of ``batch`` images divided per image (every count is linear in
        the batch); ``unsupported`` counts op occurrences, so it is kept as it is."""
        per = {k: v // batch for k, v in self.by_operator.items()}
        return CostCount(
            self.macs // batch,
            self.attention_macs // batch,
            self.other_ops // batch,
            per,
            self.unsupported,
        )


def _macs(ops: Counter[str]) -> int:
    return int(sum(v for k, v in ops.items() if k in MAC_OPS))


def count_macs(module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> CostCount:
    """Trace ``module(*inputs)`` once and count its forward work (for the whole batch)."""
    analysis = (
        FlopCountAnalysis(module, inputs)
        .set_op_handle(**_handles())
        .unsupported_ops_warnings(False)
        .uncalled_modules_warnings(False)
        .tracer_warnings("none")
    )
    with torch.no_grad():  # no autograd state, so top-k attention does not checkpoint
        ops = analysis.by_operator()
        per_module = analysis.by_module_and_operator()
    macs = _macs(ops)
    return CostCount(
        macs=macs,
        attention_macs=sum(_macs(per_module[n]) for n in attention_modules(module)),
        other_ops=int(sum(ops.values())) - macs,
        by_operator={k: int(v) for k, v in ops.items()},
        unsupported=dict(analysis.unsupported_ops()),
    )


def attention_block_macs(
    channels: int,
    tokens: int,
    key_channels: int | None = None,
    form: str = "paper",
    linear: bool = False,
    top_k: int | None = None,
) -> int:
    """Closed-form MACs of one ``SelfAttention2d`` on one image of ``tokens`` = H*W positions.

    1x1 convs q, k (Ck each) and v (Cv; C in the paper form, C/2 in the official one, which
    adds an output conv Cv -> C), then Q K^T and A V over M keys (M = N, or N/4 for the
    official form's 2x2 max-pooled keys; H and W even): N M (Ck + Cv). With ``linear``
    (impl "linear"), K^T V and Q (K^T V) instead: (M + N) Ck Cv, no N x M term. With
    ``top_k`` (impl "topk", keys kept per query) the scores stay dense and the value product
    runs over the kept keys: N M Ck + N top_k Cv.
    Biases are not multiply-accumulates.
    """
    ck = key_channels or max(1, channels // 8)
    cv = channels if form == "paper" else max(1, channels // 2)
    keys = tokens if form == "paper" else tokens // 4
    convs = tokens * channels * (2 * ck + cv) + (tokens * cv * channels if form != "paper" else 0)
    if linear:
        return convs + (keys + tokens) * ck * cv
    kept = keys if top_k is None else top_k
    return convs + tokens * keys * ck + tokens * kept * cv


def _eval_count(model: nn.Module, inputs: tuple[torch.Tensor, ...], batch: int) -> CostCount:
    """Count in eval mode (BatchNorm takes a batch of 1), then restore every module's mode."""
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        return count_macs(model, inputs).per_image(batch)
    finally:
        for m, training in modes:
            m.training = training


def model_costs(
    G: nn.Module,
    D: nn.Module,
    z_dim: int,
    resolution: int,
    channels: int,
    classes: int = 0,
    batch: int = 1,
    frames: int = 0,
) -> dict[str, int]:
    """Per-image forward costs of G (from z, and y if ``classes``) and D (from an image, or
    a clip of ``frames`` frames: then per clip).

    Columns: macs, flops (= 2 x macs), attention_macs, other_ops (element ops, not MACs) for
    _g and _d, and params_g, params_d.
    """
    z = torch.randn(batch, z_dim)
    x = torch.randn(batch, channels, *((frames,) if frames else ()), resolution, resolution)
    y = (torch.randint(classes, (batch,)),) if classes else ()
    row: dict[str, int] = {}
    for net, model, inputs in (("g", G, (z, *y)), ("d", D, (x, *y))):
        device = next(model.parameters()).device
        cost = _eval_count(model, tuple(t.to(device) for t in inputs), batch)
        row |= {f"macs_{net}": cost.macs, f"flops_{net}": cost.flops}
        row |= {f"attention_macs_{net}": cost.attention_macs, f"other_ops_{net}": cost.other_ops}
    row["params_g"] = sum(p.numel() for p in G.parameters())
    row["params_d"] = sum(p.numel() for p in D.parameters())
    return row
