"""Forward+backward time and peak memory of the self-attention kernels, side by side.

For each token count N (a square H x W map, N = H*W) one block per impl is built with the same
weights and gamma = 1 (so the attention path is live, not the identity at init). Timings are
interleaved in this process (naive, sdpa, topk, linear, naive, ...) after a warm-up, so drifts in
clock speed or background load hit every impl alike; we report medians. Peak memory is
torch.cuda.max_memory_allocated on CUDA and, on CPU, the RSS delta of one step in a fresh child
process (see sagan.cost.memory).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

from sagan.cost.memory import peak_memory_deltas
from sagan.cost.timing import cuda_peak_bytes, time_interleaved
from sagan.errors import ConfigError
from sagan.nn.attention import SelfAttention2d

IMPLS = ("naive", "sdpa", "auto", "topk", "linear")  # every kernel, the reference first
PRECISIONS = {"fp32": None, "bf16": torch.bfloat16}  # autocast dtype (None: plain fp32)
MIB = 2**20
GIB = 2**30
SEED = 0


def square_side(tokens: int) -> int:
    """Side of the square map with ``tokens`` positions; raises if there is none."""
    side = math.isqrt(tokens)
    if side * side != tokens:
        raise ValueError(f"token counts must be square numbers (H = W), got {tokens}")
    return side


def token_map(spec: int | str) -> tuple[int, tuple[int, int], str]:
    """A token count N (a square H x W map) or a clip "TxHxW" -> (N, the 2D map the block
    sees, label). A video block attends over T*H*W tokens through the image block on a
    (T*H, W) view (sagan.nn.video_attention), so its kernel cost is exactly this map's."""
    text = str(spec)
    if text.isdigit():
        side = square_side(int(text))
        return side * side, (side, side), f"{side}x{side}"
    parts = text.lower().split("x")
    if len(parts) != 3 or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise ValueError(
            f"tokens are a square count (4096) or a clip TxHxW (16x16x16), got {spec!r}"
        )
    t, h, w = map(int, parts)
    return t * h * w, (t * h, w), f"{t}x{h}x{w} (3D)"


def needed_bytes(impl: str, tokens: int, batch: int, chunk_size: int, itemsize: int = 4) -> int:
    """Rough peak of the N x M attention weights an impl holds during forward+backward.

    Naive keeps the softmax output for backward and briefly holds the logits beside it, and
    backward adds their two gradients: about 3 full (B, N, N) matrices at once. Top-k holds the
    same for one chunk of queries; sdpa's weights are never a single tensor we can size, and
    linear attention has none (its Ck x Cv context is small).
    """
    rows = {"naive": tokens, "topk": min(chunk_size, tokens)}.get(impl, 0)
    return 3 * batch * rows * tokens * itemsize


def default_cap_gib(device: str) -> float:
    """4 GiB on CPU (a shared laptop or CI box); 80 % of the card's memory on CUDA."""
    if device.startswith("cuda"):
        return 0.8 * torch.cuda.get_device_properties(device).total_memory / GIB
    return 4.0


Arm = tuple[str, float | None]  # (impl, fraction of keys kept: top-k only)


def arms_of(impls: Sequence[str], top_ks: Sequence[float]) -> list[Arm]:
    """What to time: each impl once, except topk, once per fraction of keys kept."""
    return [(i, k) for i in impls for k in (top_ks if i == "topk" else [None])]


def arm_label(arm: Arm) -> str:
    impl, top_k = arm
    return impl if top_k is None else f"{impl} k={top_k:g}"


def build_blocks(
    arms: Sequence[Arm], channels: int, chunk_size: int, device: str
) -> dict[Arm, SelfAttention2d]:
    """One block per arm, all with the weights of one seeded block and gamma = 1."""
    torch.manual_seed(SEED)
    reference = SelfAttention2d(channels, impl="naive")
    with torch.no_grad():
        reference.gamma.fill_(1.0)
    blocks = {}
    for impl, top_k in arms:
        kwargs = {"top_k": top_k, "chunk_size": chunk_size} if impl == "topk" else {}
        blocks[impl, top_k] = SelfAttention2d(channels, impl=impl, **kwargs)
        blocks[impl, top_k].load_state_dict(reference.state_dict())
    return {arm: block.to(device) for arm, block in blocks.items()}


def make_input(batch: int, channels: int, tokens: int | str, device: str) -> torch.Tensor:
    """(B, C, H, W) input that needs a gradient, as a feature map inside a network does."""
    _, (h, w), _ = token_map(tokens)
    gen = torch.Generator().manual_seed(SEED)
    x = torch.randn(batch, channels, h, w, generator=gen)
    return x.to(device).requires_grad_(True)


def make_step(block: nn.Module, x: torch.Tensor, precision: str = "fp32") -> Callable[[], None]:
    """One forward+backward of sum(block(x)); gradients are dropped, not accumulated.
    bf16: the forward under autocast, as a bf16 training step runs it."""
    dtype = PRECISIONS[precision]

    def step() -> None:
        block.zero_grad(set_to_none=True)
        x.grad = None
        with torch.autocast(x.device.type, dtype=dtype, enabled=dtype is not None):
            out = block(x)
        out.sum().backward()

    return step


def cpu_memory_step(
    impl: str,
    tokens: int,
    batch: int,
    channels: int,
    top_k: float | None,
    chunk_size: int,
    threads: int,
    precision: str = "fp32",
) -> Callable[[], None]:
    """Setup for the CPU memory probe (runs in the child): the step of one (impl, N)."""
    torch.set_num_threads(threads)
    block = build_blocks([(impl, top_k)], channels, chunk_size, "cpu")[impl, top_k]
    # one step on a tiny map first: thread pools and kernel caches are one-time costs,
    # not the step's memory, and the tiny step's own peak is far below the real one
    make_step(block, make_input(batch, channels, 16, "cpu"), precision)()
    # the tiny map is one top-k chunk, which skips checkpointing; checkpoint's first call
    # imports torch._dynamo (~150 MiB of modules), also not the step's memory
    x = torch.zeros(1, requires_grad=True)
    checkpoint(torch.sin, x, use_reentrant=False).sum().backward()
    return make_step(block, make_input(batch, channels, tokens, "cpu"), precision)


def peak_memories(
    arms: Sequence[Arm],
    tokens: int | str,
    steps: dict[Arm, Callable[[], None]],
    config: dict,
    device: str,
) -> dict[Arm, int]:
    """Peak memory (bytes) of one forward+backward of each arm at ``tokens``: on CUDA one
    after another in this process, on a CPU in child processes, all at once."""
    if device.startswith("cuda"):
        return {arm: cuda_peak_bytes(steps[arm], device) for arm in arms}
    threads = torch.get_num_threads()
    kwargs = [
        {"impl": i, "top_k": k, "tokens": tokens, "threads": threads, **config} for i, k in arms
    ]
    return dict(zip(arms, peak_memory_deltas(cpu_memory_step, kwargs), strict=True))


def device_name(device: str) -> str:
    """'cpu' or the CUDA card's name, for the table header."""
    if device.startswith("cuda"):
        return f"{device} ({torch.cuda.get_device_name(device)})"
    threads = torch.get_num_threads()
    return f"cpu ({threads} thread{'s' if threads > 1 else ''})"


def bench_tokens(
    spec: int | str,
    arms: Sequence[Arm],
    config: dict,
    repeats: int,
    warmup: int,
    device: str,
    measure_memory: bool,
    memory_cap_gib: float,
) -> list[dict]:
    """Rows (one per arm) for one token count; arms over the memory cap are skipped."""
    batch, channels = config["batch"], config["channels"]
    tokens, _, label = token_map(spec)
    need = {arm: needed_bytes(arm[0], tokens, batch, config["chunk_size"]) for arm in arms}
    run = [arm for arm in arms if need[arm] <= memory_cap_gib * GIB]
    blocks = build_blocks(run, channels, config["chunk_size"], device)
    x = make_input(batch, channels, spec, device)
    steps = {arm: make_step(blocks[arm], x, config["precision"]) for arm in run}
    ms = time_interleaved(steps, repeats, warmup, device)
    peaks = peak_memories(run, spec, steps, config, device) if measure_memory else {}
    rows = []
    for arm in arms:
        row = {"tokens": tokens, "map": label, "impl": arm[0], "top_k": arm[1], "ms": None}
        row |= {"peak_mib": None, "skipped": None}
        if arm not in run:
            row["skipped"] = f"needs {_size(need[arm])}"
        else:
            row["ms"] = ms[arm]
            if measure_memory:
                row["peak_mib"] = peaks[arm] / MIB
        rows.append(row)
    return add_ratios(rows)


def add_ratios(rows: list[dict]) -> list[dict]:
    """time_ratio and mem_ratio of each row against naive at the same token count (or None)."""
    naive = next((r for r in rows if r["impl"] == "naive"), {})
    for row in rows:
        for value, ratio in (("ms", "time_ratio"), ("peak_mib", "mem_ratio")):
            base, mine = naive.get(value), row[value]
            row[ratio] = mine / base if base and mine is not None else None
    return rows


def run_attention_bench(
    tokens: Sequence[int | str] = (256, 1024, 4096),
    batch: int = 8,
    channels: int = 64,
    impls: Sequence[str] = IMPLS,
    top_k: float | Sequence[float] = 0.125,
    chunk_size: int = 256,
    repeats: int = 10,
    device: str = "cpu",
    measure_memory: bool = True,
    memory_cap_gib: float | None = None,
    warmup: int = 2,
    precision: str = "fp32",
) -> list[dict]:
    """Median forward+backward ms and peak MiB of each impl at each token count (or clip
    "TxHxW", see token_map).

    ``top_k``: the fraction of keys top-k keeps, or several (one topk row each).
    ``precision``: fp32, or bf16 (the forward under autocast).

    Returns one dict per (tokens, impl, top_k): tokens, side, impl, top_k (None but for
    topk), ms, peak_mib, time_ratio, mem_ratio (vs naive at the same tokens), skipped (None,
    or why it was not run), plus the settings (batch, channels, precision, top_ks, chunk_size,
    repeats, device, torch). An impl whose
    attention weights would need more than ``memory_cap_gib`` (default: see default_cap_gib)
    is skipped, not run.
    """
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(f"device {device!r} asked for, but torch sees no CUDA device")
    for n in tokens:
        token_map(n)  # fail on a bad token count before minutes of work
    if unknown := [i for i in impls if i not in IMPLS]:
        raise ConfigError(f"unknown attention impl(s) {unknown}; pick from {', '.join(IMPLS)}")
    cap = default_cap_gib(device) if memory_cap_gib is None else memory_cap_gib
    top_ks = tuple(top_k) if isinstance(top_k, Sequence) else (top_k,)
    if precision not in PRECISIONS:
        raise ConfigError(f"precision {precision!r}: pick one of {', '.join(PRECISIONS)}")
    config = {"batch": batch, "channels": channels, "chunk_size": chunk_size}
    config |= {"precision": precision}
    settings = config | {"top_ks": top_ks, "repeats": repeats, "device": device_name(device)}
    settings |= {"torch": torch.__version__}
    rows = []
    for n in tokens:
        args = (arms_of(impls, top_ks), config, repeats, warmup, device, measure_memory, cap)
        rows += [settings | row for row in bench_tokens(n, *args)]
    return rows


def _size(nbytes: int) -> str:
    return f"{nbytes / GIB:.1f} GiB" if nbytes >= GIB else f"{nbytes / MIB:.1f} MiB"


def _cells(row: dict) -> list[str]:
    def num(value: float | None, fmt: str) -> str:
        return "-" if value is None else format(value, fmt)

    side = row["map"]
    if row["skipped"]:
        return [str(row["tokens"]), side, _label(row), f"skipped ({row['skipped']})"] + ["-"] * 3
    return [
        str(row["tokens"]),
        side,
        _label(row),
        num(row["ms"], ".1f"),
        num(row["peak_mib"], ".1f"),
        num(row["time_ratio"], ".2f"),
        num(row["mem_ratio"], ".2f"),
    ]


def _label(row: dict) -> str:
    return arm_label((row["impl"], row["top_k"]))


def format_table(rows: list[dict]) -> str:
    """A Markdown table (aligned, so it also reads as plain text) under a settings line."""
    if not rows:
        return "(no rows)"
    r = rows[0]
    header = (
        f"Self-attention forward+backward on {r['device']}, torch {r['torch']}: "
        f"batch {r['batch']}, {r['channels']} channels, {r['precision']}, "
        f"top-k k = fraction of keys kept ({', '.join(f'{k:g}' for k in r['top_ks'])}), "
        f"chunk {r['chunk_size']}, median of {r['repeats']}"
    )
    names = ["tokens", "map", "impl", "median ms", "peak MiB", "time vs naive", "mem vs naive"]
    body = [_cells(row) for row in rows]
    widths = [max(len(cells[i]) for cells in [names, *body]) for i in range(len(names))]
    rule = [("-" * w) if i in TEXT_COLUMNS else ("-" * (w - 1) + ":") for i, w in enumerate(widths)]
    lines = [_line(cells, widths) for cells in [names, rule, *body]]
    return "\n".join([header, "", *lines])


TEXT_COLUMNS = {1, 2}  # map, impl: left-aligned; numbers align right


def _line(cells: list[str], widths: list[int]) -> str:
    padded = [
        c.ljust(w) if i in TEXT_COLUMNS else c.rjust(w)
        for i, (c, w) in enumerate(zip(cells, widths, strict=True))
    ]
    return "| " + " | ".join(padded) + " |"
