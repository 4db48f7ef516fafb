"""The report's plan: which figures and tables a study draws, and a line for each left out,
the same from the study config (the workflow) and from a results folder (sagan report)."""

from pathlib import Path

import pandas as pd
import yaml

from sagan.report.figure_plan import StudyFacts, index_text, report_plan
from sagan.report.outputs import FIGURES, TABLES
from sagan.study import study_facts
from sagan.study.model import parse_study

IMAGE_ONLY = StudyFacts(kinds=frozenset({"image"}), during=True, profile=True)


def test_figures_without_data_are_left_out_with_a_reason():
    plan = report_plan(IMAGE_ONLY, FIGURES, TABLES)
    gone = {"probe_coherence", "video_temporal", "attention_maps", "sensitivity"}
    assert set(plan.figures) == set(FIGURES) - gone
    assert plan.left_out["figures/video_temporal"] == "no video runs"
    assert plan.left_out["figures/probe_coherence"] == "no pairs-probe runs"
    assert "sensitivity" not in plan.tables and "sweep" in plan.left_out["tables/sensitivity"]
    index = index_text(plan, "figures")
    assert "- `video_temporal`: left out, no video runs." in index
    assert "- `fd_during`: FD scored while training" in index


def test_every_figure_is_drawn_for_a_study_that_has_everything():
    facts = StudyFacts(
        kinds=frozenset({"image", "video"}),
        probe_metrics=frozenset({"pairs_agreement"}),
        during=True,
        sweep=True,
        profile=True,
        attention_maps=True,
    )
    plan = report_plan(facts, FIGURES, TABLES)
    assert (plan.figures, plan.tables, plan.left_out) == (FIGURES, TABLES, {})


def test_a_video_only_study_leaves_out_the_image_figures():
    facts = StudyFacts(kinds=frozenset({"video"}), during=True, profile=True)
    plan = report_plan(facts, FIGURES, TABLES)
    assert "video_temporal" in plan.figures
    assert "video" in plan.left_out["figures/quality_cost_pareto"]


def test_facts_round_trip_through_yaml():
    facts = StudyFacts(kinds=frozenset({"image", "video"}), sweep=True)
    text = yaml.safe_dump(facts.to_dict())
    assert StudyFacts.from_dict(yaml.safe_load(text)) == facts


def test_the_default_study_facts_come_from_its_config():
    study = yaml.safe_load(Path("config/default.yaml").read_text())
    facts = study_facts(parse_study(study))
    assert facts.kinds == {"image"} and facts.sweep and facts.attention_maps and facts.during
    assert facts.probe_metrics == frozenset()
    study["variants"].pop("place")
    for entry in study["datasets"].values():
        entry["variants"] = [v for v in entry["variants"] if v != "place"]
    study["datasets"]["pairs"] = {"resolution": 32, "heldout": 40, "variants": ["dcgan"]}
    study["evaluation"] = {**(study.get("evaluation") or {}), "during": []}
    facts = study_facts(parse_study(study))
    assert not facts.sweep and not facts.during
    assert facts.probe_metrics == {"pairs_agreement"}


def test_a_results_folder_gives_the_facts_the_study_config_gave(tmp_path):
    from sagan.report.build import Results, write_tables

    rows = [
        {"study": "s", "dataset": "d", "arm": "v", "variant": "v",
         "status": "done", "reason": "", "run_dir": "runs/a", "size": "full", "seed": 0,
         "train_images": 10, "fd_domain": 1.0, "it_per_s": 5.0, "sweep": "", "sweep_point": ""}
    ]  # fmt: skip
    (tmp_path / "runs/a").mkdir(parents=True)
    pd.DataFrame(rows).to_csv(tmp_path / "summary.csv", index=False)
    facts = Results(tmp_path).facts
    assert facts == StudyFacts(kinds=frozenset({"image"}))
    write_tables(Results(tmp_path), tmp_path / "tables")
    assert not (tmp_path / "tables/sensitivity.md").exists()  # left out, not an empty file
    assert "`sensitivity`: left out, no sweep" in (tmp_path / "tables/README.md").read_text()
    # the workflow's facts file wins over what the folder shows
    (tmp_path / "study_facts.yaml").write_text(yaml.safe_dump({"kinds": ["video"]}))
    assert Results(tmp_path).facts.kinds == {"video"}
