import pytest
import torch

from sagan.bench.attention import format_table, needed_bytes, run_attention_bench
from sagan.cost.memory import peak_memory_delta, peak_memory_deltas

IMPLS = ("naive", "sdpa", "auto", "topk", "linear")
TINY = {"tokens": (16, 64), "batch": 2, "channels": 16, "repeats": 2}


@pytest.fixture(scope="module")
def rows():
    return run_attention_bench(**TINY)


def test_every_impl_and_token_count_has_a_positive_median(rows):
    assert sorted((r["tokens"], r["impl"]) for r in rows) == sorted(
        (n, impl) for n in TINY["tokens"] for impl in IMPLS
    )
    assert all(r["ms"] > 0 and r["skipped"] is None for r in rows)
    assert all(r["peak_mib"] is not None and r["peak_mib"] >= 0 for r in rows)


def test_ratios_are_against_naive_at_the_same_token_count(rows):
    for n in TINY["tokens"]:
        by_impl = {r["impl"]: r for r in rows if r["tokens"] == n}
        assert by_impl["naive"]["time_ratio"] == 1.0
        sdpa = by_impl["sdpa"]
        assert sdpa["time_ratio"] == pytest.approx(sdpa["ms"] / by_impl["naive"]["ms"])


def test_format_table_has_the_settings_and_every_impl(rows):
    table = format_table(rows)
    assert "median ms" in table and "mem vs naive" in table
    assert f"torch {torch.__version__}" in table and "cpu" in table
    for impl in IMPLS:
        assert f" {impl} " in table
    assert len(table.splitlines()) == 2 + 2 + len(rows)  # header, blank, names, rule, rows


def test_naive_above_the_memory_cap_is_skipped_not_run():
    cap = needed_bytes("naive", 64, batch=2, chunk_size=8) / 2**30 * 0.99  # 64 tokens: over
    rows = run_attention_bench(**TINY, chunk_size=8, measure_memory=False, memory_cap_gib=cap)
    by_key = {(r["tokens"], r["impl"]): r for r in rows}
    assert by_key[(16, "naive")]["ms"] > 0
    skipped = by_key[(64, "naive")]
    assert skipped["ms"] is None and skipped["skipped"].startswith("needs ")
    assert by_key[(64, "sdpa")]["ms"] > 0 and by_key[(64, "sdpa")]["time_ratio"] is None
    assert "skipped (needs " in format_table(rows)


def allocate_nothing():
    return lambda: None


def allocate_mib(mib: int):
    # ones, not empty: untouched pages are not resident
    return lambda: torch.ones(mib * 2**20 // 4)


def test_memory_probe_sees_a_64_mib_allocation():
    idle = peak_memory_delta(allocate_nothing)
    busy = peak_memory_delta(allocate_mib, mib=64)
    assert busy - idle > 56 * 2**20


def test_memory_probes_run_at_once_each_read_its_own_peak():
    small, big, small_again = peak_memory_deltas(
        allocate_mib, [{"mib": 8}, {"mib": 96}, {"mib": 8}]
    )
    assert big - small > 80 * 2**20 and abs(small_again - small) < 8 * 2**20


def test_memory_probe_rejects_a_closure():
    with pytest.raises(ValueError, match="module-level"):
        peak_memory_delta(lambda: lambda: None)


def test_a_token_count_that_is_not_square_fails_before_any_work():
    with pytest.raises(ValueError, match="square"):
        run_attention_bench(tokens=(16, 50), batch=1, channels=8, repeats=1)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_rows_have_time_and_memory():
    rows = run_attention_bench(**TINY, device="cuda")
    assert all(r["ms"] > 0 and r["peak_mib"] > 0 for r in rows)
    assert "cuda" in format_table(rows)


def test_several_top_k_fractions_give_one_topk_row_each():
    rows = run_attention_bench(
        tokens=(16, 64),
        batch=1,
        channels=8,
        repeats=1,
        warmup=0,
        impls=("naive", "topk"),
        top_k=(0.125, 0.03125),
        measure_memory=False,
    )
    kept = [(r["tokens"], r["impl"], r["top_k"]) for r in rows]
    assert kept == [
        (n, impl, k)
        for n in (16, 64)
        for impl, k in (("naive", None), ("topk", 0.125), ("topk", 0.03125))
    ]
    assert all(r["ms"] > 0 for r in rows)
    table = format_table(rows)
    assert " topk k=0.125 " in table and " topk k=0.03125 " in table
    assert "(0.125, 0.03125)" in table.splitlines()[0]
