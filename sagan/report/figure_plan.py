"""Which figures and tables a report draws, and why it leaves out the others.

A figure with nothing to show is left out, with one line saying why, instead of drawn as a
placeholder. The workflow declares its outputs before any job runs, so the choice is made
from facts about the study (``StudyFacts``), which the workflow reads from the study config
(``sagan.study.study_facts``) and ``sagan report`` from the results folder; both call
``report_plan``. A light module: the workflow imports it, no drawing code.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

PAIRS_METRIC = "pairs_agreement"  # the probe score the probe_coherence figure draws


@dataclass(frozen=True)
class StudyFacts:
    kinds: frozenset[str] = frozenset({"image"})  # its datasets' kinds: "image", "video"
    probe_metrics: frozenset[str] = frozenset()  # probe scores of its datasets
    during: bool = False  # FD scored while training (evaluation.during)
    sweep: bool = False  # arms expanded from a ``sweep:``
    profile: bool = False  # a training-step profile (rule profile)
    attention_maps: bool = False  # a run whose G gives attention maps (rule attention_maps)

    def to_dict(self) -> dict[str, Any]:
        """Plain YAML/JSON values: sets as sorted lists."""
        return {k: sorted(v) if isinstance(v, frozenset) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StudyFacts:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        for key in ("kinds", "probe_metrics"):
            if key in known:
                known[key] = frozenset(known[key])
        return cls(**known)


# What each output shows, in one line (the figures' index, figures/README.md)
CAPTIONS = {
    "quality_vs_size": "FD, KID and probe scores against training-set size per arm.",
    "sample_grids": "A real row, then each arm's final samples (largest size, first seed).",
    "training_curves": "D's overfitting signals and the losses over training.",
    "fd_during": "FD scored while training, against iterations and seconds.",
    "quality_cost_pareto": "FD against ms per training step; the Pareto front dashed.",
    "probe_coherence": "Pairs-probe agreement against its real and chance levels.",
    "attention_maps": "G's attention for three query points; share on the partner object.",
    "video_temporal": "Temporal consistency and motion smoothness of the video arms.",
    "extractor_checks": "FD of noise, blur and mode dropping against the noise floor.",
    "sensitivity": "FD and ms per step against each swept option's values.",
}


TABLE_CAPTIONS = {
    "ablation": "Quality and cost per arm at each dataset's largest training set.",
    "small_data": "Quality and overfitting against training-set size.",
    "video": "The video arms' scores and cost.",
    "cost_scaling": "Attention cost against tokens N (the scaling sweep).",
    "learned": "Which runs converged and which collapsed.",
    "sensitivity": "FD and ms per step per value of each swept option.",
    "claims": "Each claim's measured effect, interval and verdict.",
}


@dataclass
class ReportPlan:
    figures: list[str]  # drawn, in FIGURES order
    tables: list[str]  # written, in TABLES order
    left_out: dict[str, str] = field(default_factory=dict)  # "figures/x" or "tables/x" -> why


def _figure_reasons(facts: StudyFacts) -> dict[str, str | None]:
    """Each conditional figure: None where it is drawn, else why not."""
    image, video = "image" in facts.kinds, "video" in facts.kinds
    return {
        "fd_during": None if facts.during else "no FD scored while training (evaluation.during)",
        "quality_cost_pareto": (
            None
            if facts.profile and image
            else "no image runs (video: the video table)"
            if facts.profile
            else "no training-step profile in this results folder (rule profile)"
        ),
        "probe_coherence": None if PAIRS_METRIC in facts.probe_metrics else "no pairs-probe runs",
        "attention_maps": (
            None if facts.attention_maps else "no image run whose G gives attention maps"
        ),
        "video_temporal": None if video else "no video runs",
        "sensitivity": None if facts.sweep else "no sweep (an arm with `sweep:`) in this study",
    }


def report_plan(facts: StudyFacts, figures: list[str], tables: list[str]) -> ReportPlan:
    """Of ``figures`` and ``tables`` (the report's names), those drawn for a study with these
    facts, and a reason for each left out. Only the sensitivity table is conditional; the
    other tables say in a line when they have nothing to show."""
    reasons = _figure_reasons(facts)
    left_out = {f"figures/{n}": reasons[n] for n in figures if reasons.get(n)}
    if "sensitivity" in tables and reasons["sensitivity"]:
        left_out["tables/sensitivity"] = reasons["sensitivity"]
    return ReportPlan(
        figures=[n for n in figures if f"figures/{n}" not in left_out],
        tables=[n for n in tables if f"tables/{n}" not in left_out],
        left_out=left_out,
    )


def index_text(plan: ReportPlan, part: str = "figures") -> str:
    """``part``/README.md: each drawn figure with its caption, each left-out one with why."""
    drawn, captions = (
        (plan.figures, CAPTIONS) if part == "figures" else (plan.tables, TABLE_CAPTIONS)
    )
    lines = [f"# {part.capitalize()}", ""]
    lines += [f"- `{n}`: {captions.get(n, '')}".rstrip(": ") for n in drawn]
    gone = {k.split("/", 1)[1]: v for k, v in plan.left_out.items() if k.startswith(f"{part}/")}
    if gone:
        lines += ["", "Left out:", ""]
        lines += [f"- `{n}`: left out, {why}." for n, why in gone.items()]
    return "\n".join(lines) + "\n"
