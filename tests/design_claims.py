"""The design's claims (config/claims.yaml) and one-claim shorthands for the claim tests."""

from dataclasses import replace
from pathlib import Path

import pandas as pd

from sagan.report.claims import ClaimSpec, Verdict, evaluate_claim, evaluate_claims, load_claims

DESIGN = load_claims(Path(__file__).resolve().parents[1] / "config/claims.yaml")


def spec(cid: str) -> ClaimSpec:
    return next(c for c in DESIGN if c.id == cid)


def design_claims(summary: pd.DataFrame, profile: pd.DataFrame | None = None) -> pd.DataFrame:
    return evaluate_claims(summary, profile, DESIGN)


def fd_gain_verdict(summary: pd.DataFrame) -> Verdict:
    """Claim 1: attention improves FD by 12-18 % (sagan vs dcgan, paired)."""
    return evaluate_claim(summary, spec("1"))[0]


def mid_placement_verdicts(summary: pd.DataFrame) -> list[Verdict]:
    """Claim 2: attention works best at mid-level feature maps (a placement sweep)."""
    return evaluate_claim(summary, spec("2"))


def time_overhead_verdicts(summary: pd.DataFrame, profile: pd.DataFrame | None) -> list[Verdict]:
    """Claim 3: attention adds about 40 % training time (the step profile, then the runs)."""
    return [*evaluate_claim(summary, spec("3"), profile), *evaluate_claim(summary, spec("3-runs"))]


def overfitting_gap_verdict(summary: pd.DataFrame) -> Verdict:
    """Claim 4: below ~100k images attention amplifies overfitting (the FD gap)."""
    return evaluate_claim(summary, spec("4"))[0]


def video_consistency_verdicts(summary: pd.DataFrame, baseline: str | None = None) -> list[Verdict]:
    """Claim 6: 3D attention improves frame-to-frame consistency (video)."""
    six = spec("6") if baseline is None else replace(spec("6"), baseline=baseline)
    return evaluate_claim(summary, six)
