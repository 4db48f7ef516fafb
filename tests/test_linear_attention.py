"""The linear variant (efficient attention, Shen et al. 2021): its kernel against the
equation, its counted MACs against the closed form, their slope in tokens N against sagan's,
the scaling sweep over a list of variants, the attention benchmark's row, a short run, and
claim 5d."""

import csv

import pandas as pd
import pytest
import torch

from sagan.bench.attention import needed_bytes, run_attention_bench
from sagan.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from sagan.cost.flops import attention_block_macs, count_macs
from sagan.cost.plan import check_profile, scaling_specs
from sagan.cost.profile import loglog_slope, scaling, scaling_slopes
from sagan.data import load_prepared
from sagan.errors import ConfigError
from sagan.metrics.evaluate import load_generator
from sagan.models import build_variant
from sagan.nn.attention import SelfAttention2d, linear_attention
from sagan.report.claims import claims_table, evaluate_claim
from sagan.report.tables import to_markdown
from sagan.study.model import parse_study
from sagan.train.trainer import train
from tests.design_claims import design_claims, spec

TOKENS = (256, 1024, 4096)  # 16x16, 32x32, 64x64 maps


def test_linear_attention_is_the_papers_equation():
    torch.manual_seed(0)
    q, k, v = torch.randn(2, 12, 4), torch.randn(2, 12, 4), torch.randn(2, 12, 16)
    # eq. 2 with softmax normalisation, by hand: rho_q over channels, rho_k over positions
    rho_q = q.exp() / q.exp().sum(dim=2, keepdim=True)  # (B, N, Ck)
    rho_k = k.exp() / k.exp().sum(dim=1, keepdim=True)  # (B, N, Ck)
    weights = torch.einsum("bnc,bmc->bnm", rho_q, rho_k)  # (B, N, N), materialised
    torch.testing.assert_close(linear_attention(q, k, v), weights @ v)
    torch.testing.assert_close(weights.sum(dim=2), torch.ones(2, 12))  # rows sum to 1


@pytest.mark.parametrize("form", ["paper", "official"])
def test_counted_macs_equal_the_closed_form(form):
    block = SelfAttention2d(32, impl="linear", form=form)
    for side in (8, 16):
        cost = count_macs(block, (torch.randn(2, 32, side, side),))
        expected = attention_block_macs(32, side * side, form=form, linear=True)
        assert cost.macs == cost.attention_macs == 2 * expected
        assert cost.by_operator["bmm"] > 0  # the two products are counted, not skipped


def block_macs(variant: str, tokens: int, channels: int = 32) -> int:
    """Counted MACs of the variant's own block on one (1, C, sqrt N, sqrt N) map."""
    block = build_variant(variant).g_slots[16](channels)
    side = int(tokens**0.5)
    return count_macs(block, (torch.randn(1, channels, side, side),)).attention_macs


@pytest.mark.parametrize(("variant", "slope"), [("linear", 1.0), ("sagan", 2.0)])
def test_attention_macs_grow_linearly_for_linear_and_quadratically_for_sagan(variant, slope):
    fitted = loglog_slope(list(TOKENS), [block_macs(variant, n) for n in TOKENS])
    assert abs(fitted - slope) < 0.15, fitted


SWEEP = {
    "study": "t",
    "datasets": {"digits": {"resolution": 16, "heldout": 200}},
    "variants": {"dcgan": {}, "sagan": {"g_resolutions": [8], "d_resolutions": [8]}},
    "sizes": ["full"],
    "seeds": [0],
    "model": {"width": 4, "z_dim": 8},
    "train": {"batch_size": 2},
    "profile": {
        "repeats": 1,
        "warmup": 0,
        "memory": False,
        "scaling": {"variant": ["sagan", "linear"], "divisors": [2], "batch": 1},
    },
}


def sweep_row(variant: str, resolution: int, macs: float) -> dict:
    side = resolution // 2
    return {"arm": variant, "resolution": resolution, "attention_side": side} | {
        "tokens": side * side,
        "overhead_ms": 1.0,
        "overhead_mem_mib": 1.0,
        "attention_macs": macs,
    }


def test_the_scaling_sweep_places_and_fits_each_listed_variant_apart():
    assert [s.label for s in scaling_specs(parse_study(SWEEP), 32)] == [
        "dcgan@32",
        "sagan@32:16x16",
        "linear@32:16x16",
    ]
    rows = [sweep_row("dcgan", r, 0) | {"tokens": 0} for r in (16, 32, 64)]
    rows += [sweep_row("sagan", r, 3 * (r // 2) ** 4) for r in (16, 32, 64)]  # 3 N^2
    rows += [sweep_row("linear", r, 5 * (r // 2) ** 2) for r in (16, 32, 64)]  # 5 N
    slopes = {s["arm"]: s for s in scaling_slopes(rows)}
    assert list(slopes) == ["sagan", "linear"] and slopes["linear"]["tokens"] == "64 256 1024"
    assert slopes["sagan"]["slope_attention_macs"] == pytest.approx(2.0)
    assert slopes["linear"]["slope_attention_macs"] == pytest.approx(1.0)


@pytest.mark.slow  # profiles 6 training steps (10-30 s on 2 shared cores)
def test_the_real_scaling_sweep_finds_linear_macs_linear_in_tokens():
    rows = pd.DataFrame(scaling(parse_study(SWEEP), [16, 32], memory=False))
    rows = rows[rows["tokens"] > 0]
    fit = {  # two sizes: the slopes file fits none (3 points needed), so fit the MACs here
        v: loglog_slope(g["tokens"].tolist(), g["attention_macs"].tolist())
        for v, g in rows.groupby("arm")
    }
    assert abs(fit["linear"] - 1) < 0.15
    assert fit["sagan"] > 1.5


def test_a_listed_scaling_variant_must_be_registered_and_not_the_baseline():
    bad = {**SWEEP, "profile": {"scaling": {"variant": ["sagan", "lineer"]}}}
    with pytest.raises(ConfigError, match="'lineer' is not a registered variant"):
        check_profile(parse_study(bad))
    same = {**SWEEP, "profile": {"scaling": {"variant": ["linear", "dcgan"]}}}
    with pytest.raises(ConfigError, match="are both 'dcgan'"):
        check_profile(parse_study(same))


def test_the_attention_benchmark_has_a_linear_row_that_holds_no_n_by_n_matrix():
    rows = run_attention_bench(
        tokens=(64,),
        batch=1,
        channels=16,
        repeats=1,
        impls=("naive", "linear"),
        measure_memory=False,
    )
    linear = next(r for r in rows if r["impl"] == "linear")
    assert linear["ms"] > 0 and linear["time_ratio"] is not None
    assert needed_bytes("linear", 16384, batch=8, chunk_size=256) == 0  # never skipped
    with pytest.raises(ConfigError, match="unknown attention impl"):
        run_attention_bench(tokens=(64,), impls=("lineer",))


def test_a_short_run_of_the_linear_variant_trains_and_generates_finite_images(digits16, tmp_path):
    cfg = RunConfig(
        variant="linear",
        variant_options={"g_resolutions": [8], "d_resolutions": [8]},
        data=DataConfig(path=str(digits16), size=64, resolution=16),
        model=ModelConfig(width=8, z_dim=16),
        train=TrainConfig(iterations=4, batch_size=16, log_every=2, sample_every=4),
    )
    status = train(cfg, tmp_path, progress=False)
    assert status["state"] == "done" and status["iterations"] == 4
    last = list(csv.DictReader((tmp_path / "log.csv").open()))[-1]
    gammas = [float(v) for k, v in last.items() if k.startswith("gamma:")]
    assert gammas and any(g != 0 for g in gammas)  # the attention path got gradients
    G, _ = load_generator(cfg, tmp_path, load_prepared(digits16).meta)
    with torch.no_grad():
        images = G(torch.randn(8, 16))
    assert images.shape == (8, 1, 16, 16) and torch.isfinite(images).all()


def timed(variant: str, rounds: list[float]) -> dict:
    """A profile row of dataset "a" whose ms/step in each interleaved round is ``rounds``."""
    return {"dataset": "a", "arm": variant, "precision": "fp32", "device": "cpu"} | {
        "resolution": 64,
        "ms_repeats": " ".join(f"{t:.3f}" for t in rounds),
        "loaded": False,
    }


def paired_fd(linear_change_pct: list[float]) -> pd.DataFrame:
    """sagan and linear runs paired by seed; linear's FD worse by the given % per seed."""
    rows = []
    for seed, change in enumerate(linear_change_pct):
        for variant, fd in (("sagan", 50.0), ("linear", 50.0 * (1 + change / 100))):
            rows.append(
                {"study": "s", "dataset": "a", "size": "full", "seed": seed, "status": "done"}
                | {"arm": variant, "fd_domain": fd, "resolution": 64, "iterations": 10}
            )
    return pd.DataFrame(rows)


def test_claim_5d_is_not_measured_without_a_linear_arm_and_says_what_would_measure_it():
    summary = paired_fd([1.0] * 6).replace({"arm": {"linear": "topk"}})
    table = design_claims(summary).set_index("claim")
    for title in (
        "5d: linear attention cuts cost at large N",
        "5d: ... with little loss in quality",
    ):
        row = table.loc[title]
        assert row["verdict"] == "not measured in this study" and "linear" in row["needs"]
        assert row["comparison"].startswith("linear vs sagan")
    md = to_markdown(claims_table(design_claims(summary)))
    assert "5d: linear attention cuts cost at large N" in md


def test_claim_5d_reads_a_saving_from_the_profile_and_little_loss_from_paired_runs():
    profile = pd.DataFrame([timed("sagan", [40.0] * 9), timed("linear", [30.0] * 9)])
    (cost,) = evaluate_claim(pd.DataFrame(columns=["arm", "status"]), spec("5d-cost"), profile)
    assert cost.verdict == "inside the claimed range" and cost.mean == pytest.approx(
        25.0
    )  # 25 % saved
    (loss,) = evaluate_claim(paired_fd([1.0, 2.0, 1.5, 0.5, 1.0, 2.5]), spec("5d-loss"))
    assert loss.n == 6 and loss.mean == pytest.approx(-1.4167, abs=1e-3)  # FD 1.4 % worse
    assert loss.verdict == "inside the claimed range"  # within the claimed 'no worse than -5 %'
    (much,) = evaluate_claim(paired_fd([20.0, 22.0, 21.0, 19.0, 20.5, 21.5]), spec("5d-loss"))
    assert much.verdict == "smaller than claimed"


def test_the_scaling_table_and_figure_give_each_variant_its_own_slope():
    from sagan.report.cost_figures import cost_scaling
    from sagan.report.paper_tables import scaling_table

    rows = [sweep_row("sagan", r, 3 * (r // 2) ** 4) for r in (16, 32, 64)]
    rows += [sweep_row("linear", r, 5 * (r // 2) ** 2) for r in (16, 32, 64)]
    scaling_rows = pd.DataFrame(rows).assign(device="cpu")
    text = scaling_table(scaling_rows).text
    fits = text[text["image px"] == "slope"].set_index("arm")["attention MMACs"]
    assert fits.to_dict() == {"sagan": "2", "linear": "1"}
    fig = cost_scaling(scaling_rows)
    labels = {t.get_text() for ax in fig.axes for t in ax.get_legend().get_texts()}
    assert {"sagan, side / 2: slope 2.00", "linear, side / 2: slope 1.00"} <= labels
