"""Numbers the docs and config comments quote that the code can give: job counts (from a real
dry run, or the study expansion that test_estimate ties to one), the video backbone's
attention maps, the GPU check's budget, and the layout's paths."""

from __future__ import annotations

import re
import sys

import yaml
from snakemake.cli import parse_config

from sagan.forecast.estimate import job_counts
from sagan.models.video import Video
from sagan.study import parse_study
from sagan.study.overrides import retype_overrides
from tests.docs_blocks import REPO, all_blocks, commands_in
from tests.docs_run import DEFAULT_STUDY, dry_run

README = (REPO / "README.md").read_text()
CLUSTERS = (REPO / "docs/gpu-and-clusters.md").read_text()
PAPER = yaml.safe_load((REPO / "config/paper.yaml").read_text())


def planned(study: dict) -> dict[str, int]:
    """Jobs per rule as `snakemake -n` plans them (job_counts leaves out rule all)."""
    return {**job_counts(parse_study(study)), "all": 1}


def test_default_study_job_count_is_its_dry_run():
    """The README's first command, dry-run: the job count it quotes."""
    quoted = re.search(r"embedded default study \(offline, CPU only, (\d+) jobs\)", README)
    assert quoted, "the README no longer quotes the default study's job count"
    jobs = dry_run()
    assert jobs["total"] == int(quoted[1])
    # and the forecast's counts of every job (sagan estimate --all-jobs) are its own, per rule
    counted = {rule: n for rule, n in planned(DEFAULT_STUDY).items() if n}
    assert counted == {rule: n for rule, n in jobs.items() if rule != "total"}


def test_default_study_trained_and_copied_runs():
    quoted = re.search(r"\((\d+) runs are trained, (\d+) are copies\)", README)
    jobs = job_counts(parse_study(DEFAULT_STUDY))
    assert (jobs["train"], jobs["share_run"]) == (int(quoted[1]), int(quoted[2]))


def test_table1_job_count_is_its_dry_run():
    quoted = re.search(r"weights: (\d+) jobs, (\d+) of them `train`", CLUSTERS)
    assert quoted, "docs/gpu-and-clusters.md no longer quotes table1's job count"
    jobs = dry_run("--configfile", str(REPO / "config/table1.yaml"))
    assert (jobs["total"], jobs["train"]) == (int(quoted[1]), int(quoted[2]))


def test_paper_job_table_is_the_study_expansion():
    table = CLUSTERS[CLUSTERS.index("| job | count |") :].split("\n\n")[0]
    rows = re.findall(r"^\| (.+?) \| (.+?) \|$", table, re.M)[1:]  # less the header
    jobs = planned(PAPER)
    quoted = {}
    for rules, counts in rows:
        if "total" in rules:
            assert int(counts.strip("*")) == sum(jobs.values())
            continue
        quoted |= dict(zip(rules.split(" / "), map(int, counts.split(" / ")), strict=True))
    assert quoted == {rule: n for rule, n in jobs.items() if n}


def test_cut_down_paper_study_trains_what_the_docs_say():
    quoted = re.search(r"plan (\d+) training runs instead of (\d+)", CLUSTERS)
    commands = [w for b in all_blocks("bash") for w in commands_in(b.text)]
    words = next(w for w in commands if "--config" in w and "config/paper.yaml" in w)
    overrides = parse_config(words[words.index("--config") + 1 : words.index("--configfile")])
    cut = yaml.safe_load(yaml.safe_dump(PAPER))
    # --config gives strings; the workflow re-reads them as a study file would
    retype_overrides(cut, yaml.safe_load(yaml.safe_dump(overrides)))
    trained = (job_counts(parse_study(cut))["train"], job_counts(parse_study(PAPER))["train"])
    assert trained == tuple(map(int, quoted.groups()))


def test_video_attention_maps_in_config_comments():
    """`... at the (T, H, W) maps[, N tokens]` beside a study's video arms."""
    checked = 0
    for path in sorted((REPO / "config").glob("*.yaml")):
        text = path.read_text()
        study = yaml.safe_load(text)
        for m in re.finditer(r"\((\d+), (\d+), (\d+)\) maps(?:, ([\d,]+) tokens)?", text):
            entry = next(d for d in study["datasets"].values() if "frames" in d.get("options", {}))
            video = Video(image_size=entry["resolution"], frames=entry["options"]["frames"])
            side = study["variants"]["video3d"]["g_resolutions"][0]
            shape = tuple(map(int, m.groups()[:3]))
            assert shape == video.slot_shapes()["g"][side], f"{path.name}: {m[0]}"
            if m[4]:
                assert int(m[4].replace(",", "")) == shape[0] * shape[1] * shape[2]
            checked += 1
    assert checked >= 2  # video.yaml and paper.yaml


def test_gpu_check_budget_is_the_steps_budgets():
    sys.path.insert(0, str(REPO / "tools"))
    try:
        from gpu_check import BUDGETS
    finally:
        sys.path.remove(str(REPO / "tools"))
    quoted = re.search(r"under 9 minutes on one H100 \((\d+) s", CLUSTERS)
    assert int(quoted[1]) == sum(full for full, _ in BUDGETS.values()) < 9 * 60
