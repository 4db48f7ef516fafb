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


def claim_1(summary: pd.DataFrame) -> Verdict:
    return evaluate_claim(summary, spec("1"))[0]


def claim_2(summary: pd.DataFrame) -> list[Verdict]:
    return evaluate_claim(summary, spec("2"))


def claim_3(summary: pd.DataFrame, profile: pd.DataFrame | None) -> list[Verdict]:
    return [*evaluate_claim(summary, spec("3"), profile), *evaluate_claim(summary, spec("3-runs"))]


def claim_4(summary: pd.DataFrame) -> Verdict:
    return evaluate_claim(summary, spec("4"))[0]


def claim_6(summary: pd.DataFrame, baseline: str | None = None) -> list[Verdict]:
    six = spec("6") if baseline is None else replace(spec("6"), baseline=baseline)
    return evaluate_claim(summary, six)
