"""sagan estimate: job counts from the study expansion, the arithmetic with a fixed timer,
and one real short timing."""

import math
from collections import Counter
from pathlib import Path

import pytest
import yaml

from sagan.cli import main
from sagan.config import RunConfig, from_dict
from sagan.data import prepare
from sagan.forecast.dry_run import parse_job_stats
from sagan.forecast.estimate import (
    NOTEBOOK_CELLS,
    QUIET_REPORT_START,
    REPORT_SECONDS,
    DataShape,
    data_shape,
    forecast,
    format_forecast,
    job_counts,
)
from sagan.forecast.progress import PIECES
from sagan.forecast.timer import MeasuredTimer
from sagan.study import dataset_study, dataset_variants, derived_paths, runs
from sagan.study.model import parse_study

# Two entries over the same data (they share prepare, extractor and reference jobs; digits-b's
# runs are digits' dcgan runs at full size, so they are shared, not trained), one at its own
# resolution with its own iterations; tiny widths everywhere.
STUDY = {
    "study": "tiny",
    "datasets": {
        "digits": {"resolution": 16, "heldout": 400, "variants": ["dcgan", "sagan"]},
        "digits-b": {
            "dataset": "digits",
            "resolution": 16,
            "heldout": 400,
            "sizes": ["full"],
            "variants": ["dcgan"],
        },
        "pairs": {
            "resolution": 32,
            "heldout": 100,
            "options": {"count": 400},
            "sizes": ["full"],
            "variants": ["sagan"],
            "train": {"iterations": 30},
        },
    },
    "variants": {"dcgan": {}, "sagan": {"g_resolutions": [8], "d_resolutions": [8]}},
    "sizes": [100, "full"],
    "seeds": [0, 1],
    "model": {"width": 4, "z_dim": 8},
    "train": {"iterations": 10, "batch_size": 8},
    "evaluation": {"num_samples": 40, "batch_size": 20},
    "profile": {"repeats": 2, "scaling": {"resolutions": [16], "batch": 2}},
    "extractor": {"epochs": 2},
}
SHAPES = {
    "digits": DataShape(16, channels=1, pool=1397, heldout=400),
    "digits-b": DataShape(16, channels=1, pool=1397, heldout=400),
    "pairs": DataShape(32, pool=300, heldout=100),
}


class FixedTimer:
    """Fixed seconds per piece; counts what it was asked."""

    def __init__(self) -> None:
        self.asked = Counter()

    def startup(self, cfg, shape) -> float:
        self.asked["startup"] += 1
        return 2.0

    def report_startup(self) -> float:
        self.asked["report_startup"] += 1
        return QUIET_REPORT_START  # the quiet CPU's: the fixed seconds unscaled

    def notebook_startup(self) -> float:
        self.asked["notebook_startup"] += 1
        return 4.0

    def during_score(self, cfg, shape) -> float:
        self.asked["during_score"] += 1
        return 0.0

    def train_iteration(self, cfg, shape) -> float:
        self.asked["train_iteration"] += 1
        return 0.5 if cfg.variant == "sagan" else 0.25

    def evaluation(self, cfg, shape, train_count) -> float:
        self.asked["evaluation"] += 1
        return 3.0

    def extractor(self, shape, epochs) -> float:
        self.asked["extractor"] += 1
        return 5.0 * epochs

    def reference(self, cfg, shape, count) -> float:
        self.asked["reference"] += 1
        return count / 100

    def step(self, spec) -> float:
        self.asked["step"] += 1
        return 0.1


def tiny_forecast(timer=None, **kw):
    return forecast(parse_study(STUDY), timer or FixedTimer(), shape_of=SHAPES.__getitem__, **kw)


def test_job_counts_follow_the_study_expansion():
    jobs = job_counts(parse_study(STUDY))
    by_hand = sum(
        len(dataset_variants(parse_study(STUDY), d))
        * len(dataset_study(parse_study(STUDY), d).sizes)
        * 2
        for d in STUDY["datasets"]
    )
    assert by_hand == 2 * 2 * 2 + 1 * 1 * 2 + 1 * 1 * 2 == len(runs(parse_study(STUDY)))
    shared = 1 * 1 * 2  # digits-b: dcgan at full size, two seeds
    assert jobs["train"] == jobs["evaluate"] == by_hand - shared and jobs["share_run"] == shared
    # digits and digits-b share their data: two prepared sets, two extractors
    assert jobs["prepare_dataset"] == jobs["train_extractor"] == 2
    assert jobs["reference_features"] == 4
    assert jobs["profile"] == 3 and jobs["scaling"] == 1 and jobs["notebook"] == 5


def test_default_study_counts_match_its_dry_run():
    """The job stats `snakemake -n` prints for config/default.yaml (the docs' counts are
    checked against a real dry run in tests/test_docs_numbers.py)."""
    study = yaml.safe_load(Path("config/default.yaml").read_text())
    jobs = job_counts(parse_study(study))
    assert (jobs["train"], jobs["evaluate"], jobs["profile"]) == (21, 21, 3)
    # digits-place's dcgan and place.g8, digits-topk's sagan: digits' own runs
    assert jobs["share_run"] == 9
    assert (jobs["noise_floor"], jobs["floor_tables"]) == (1, 1)  # one prepared set
    assert (jobs["prepare_dataset"], jobs["train_extractor"], jobs["reference_features"]) == (
        1,
        1,
        2,
    )


def test_train_and_evaluate_seconds_are_runs_times_per_run_time():
    f = tiny_forecast()
    expected = sum(
        2.0 + it * (0.5 if r.arm == "sagan" else 0.25)
        for r in runs(parse_study(STUDY))
        for it in [30 if r.dataset == "pairs" else 10]
        if r.dataset != "digits-b"  # shared, not trained
    )
    assert f.seconds["train"] == pytest.approx(expected)
    assert f.seconds["evaluate"] == pytest.approx(f.runs * (2.0 + 3.0))
    # shared data counted once: two prepares, two extractors (2 epochs), four reference jobs
    assert f.seconds["prepare_dataset"] == pytest.approx(2 * 2.0)
    assert f.seconds["train_extractor"] == pytest.approx(2 * (2.0 + 10.0))
    refs = (2.0 + 4.0) + (2.0 + 13.97) + (2.0 + 1.0) + (2.0 + 3.0)
    assert f.seconds["reference_features"] == pytest.approx(refs)
    for rule, each in REPORT_SECONDS.items():
        if rule != "notebook":
            assert f.seconds[rule] == pytest.approx(each * f.jobs[rule])
    # a notebook: a report job's start, papermill and nbconvert, the templates' cells
    notebook = QUIET_REPORT_START + 4.0 + NOTEBOOK_CELLS
    assert f.seconds["notebook"] == pytest.approx(notebook * f.jobs["notebook"])


def test_each_distinct_piece_is_timed_once():
    timer = FixedTimer()
    tiny_forecast(timer)
    assert timer.asked["startup"] == 2  # once per prepared data: digits (and digits-b), pairs
    assert timer.asked["report_startup"] == timer.asked["notebook_startup"] == 1
    # (digits, dcgan) serves digits-b too; (digits, sagan); (pairs, sagan) at 30 iterations
    assert timer.asked["train_iteration"] == 3
    assert timer.asked["evaluation"] == 2  # one per data shape and evaluation settings
    assert timer.asked["extractor"] == 2


def test_profile_rows_count_warmup_repeats_and_the_memory_probe():
    f = tiny_forecast()
    steps = 2 + 2 + 1  # warm-up (default), repeats, the FLOPs pass
    row = steps * 0.1 + 2 * 0.1  # and a CPU row's memory probe takes two steps
    probes = 2.0  # the probes' processes start at once: one start-up per job
    rows = 2 + 1 + 1  # digits: dcgan, sagan; digits-b: dcgan; pairs: sagan
    assert f.seconds["profile"] == pytest.approx(3 * (2.0 + probes) + rows * row)
    assert f.seconds["scaling"] == pytest.approx(2.0 + probes + 3 * row)  # baseline, two sides


def test_wall_clock_divides_the_shared_work_by_devices_times_jobs():
    one, many = tiny_forecast(), tiny_forecast(devices=2, jobs_per_device=2)
    exclusive = one.cost_seconds  # on a CPU: alone, never divided
    shared = one.device_seconds - exclusive
    assert one.wall_seconds == pytest.approx(
        max(shared, one.critical_seconds) + exclusive + one.report_wall_seconds
    )
    assert many.wall_seconds == pytest.approx(
        max(shared / 4, many.critical_seconds) + exclusive + many.report_wall_seconds
    )
    assert shared / 4 > many.critical_seconds  # the division shows
    slower = tiny_forecast(devices=2, jobs_per_device=2, speedup=1.5)  # measured overlap
    assert slower.wall_seconds - many.wall_seconds == pytest.approx(shared / 3 - shared / 4)


def test_the_critical_path_bounds_the_wall_clock_from_below():
    f = tiny_forecast(devices=100, jobs_per_device=8)
    # digits: prepare, then its extractor (2 epochs) and the training pool's features (longer
    # than a 10-iteration run), then an evaluation
    assert f.critical_seconds == pytest.approx(2.0 + (2.0 + 10.0) + (2.0 + 13.97) + (2.0 + 3.0))
    shared = f.device_seconds - f.cost_seconds
    assert shared / 800 < f.critical_seconds
    assert f.wall_seconds == pytest.approx(
        f.critical_seconds + f.cost_seconds + f.report_wall_seconds
    )


def test_format_prints_every_job_type_and_the_totals():
    text = format_forecast(tiny_forecast(devices=2, jobs_per_device=2), "test CPU")
    assert text.startswith("10 runs (and 2 that copy a run with the same config) on test CPU")
    for label in ("| train |", "| evaluate |", "| extractor/reference/prepare |"):
        assert label in text
    assert "total device-hours" in text and "2 device(s) x 2 job(s)" in text


def test_an_unprepared_dataset_of_unknown_size_is_noted():
    shapes = SHAPES | {"pairs": DataShape(32, pool=100, heldout=100, counted=False)}
    f = forecast(parse_study(STUDY), FixedTimer(), shape_of=shapes.__getitem__)
    assert any(n.startswith("pairs: its training pool is unknown") for n in f.notes)


def test_a_datasets_shape_comes_from_its_prepared_file_else_the_study(tmp_path, monkeypatch):
    study = STUDY | {"datasets": STUDY["datasets"] | {"cifar10": {"resolution": 32, "heldout": 50}}}
    monkeypatch.chdir(tmp_path)  # the workflow's results/ folder, empty
    digits, cifar = (
        data_shape(parse_study(study), "digits"),
        data_shape(parse_study(study), "cifar10"),
    )
    assert (digits.channels, digits.pool, digits.counted) == (3, 1797 - 400, True)  # known count
    assert (cifar.pool, cifar.counted) == (100, False)  # its largest listed size
    path = Path(derived_paths(parse_study(study), "digits")["data"])
    path.parent.mkdir(parents=True)
    prepare("digits", 16, path, heldout=400)
    prepared = data_shape(parse_study(study), "digits")
    assert (prepared.channels, prepared.num_classes, prepared.pool) == (1, 10, 1797 - 400)


def tiny_run() -> RunConfig:
    return from_dict(
        RunConfig,
        {
            "variant": "sagan",
            "variant_options": {"g_resolutions": [8], "d_resolutions": [8]},
            "model": {"width": 4, "z_dim": 8},
            "train": {"batch_size": 4, "ema_decay": 0.9},
            "eval": {"num_samples": 16, "batch_size": 8},
        },
    )


def test_a_real_timing_of_an_iteration_and_an_evaluation():
    timer = MeasuredTimer("cpu", warmup=1, steps=1)
    shape = DataShape(16, pool=64, heldout=32)
    cfg = tiny_run()
    per_it = timer.train_iteration(cfg, shape)
    evaluation = timer.evaluation(cfg, shape, train_count=64)
    assert 0 < per_it < 5 and 0 < evaluation < 30
    assert math.isfinite(timer.reference(cfg, shape, 64))


def test_the_cli_prints_a_forecast(tmp_path, capsys, monkeypatch):
    for name in PIECES:
        monkeypatch.setattr(MeasuredTimer, name, getattr(FixedTimer, name))
    monkeypatch.setattr(MeasuredTimer, "asked", Counter(), raising=False)
    monkeypatch.setattr("sagan.cost.timing.cores", lambda: 2)
    # two job start-ups at once took twice one alone: each job at half its speed
    monkeypatch.setattr("sagan.forecast.command._first_run_share", lambda *a: (0.5, 2.0, 4.0))
    study = {k: v for k, v in STUDY.items()}
    study["datasets"] = {"digits": STUDY["datasets"]["digits"] | {"sizes": ["full"]}}
    study["seeds"] = [0]
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(study))
    args = ["estimate", str(path), "--devices", "1", "--jobs-per-device", "2", "--all-jobs"]
    code = main(args)
    out, err = capsys.readouterr()
    assert code == 0, out
    counted, share, load = out.splitlines()[:3]
    assert counted == "counted: every job of the study (--all-jobs)"
    assert share.startswith("2 jobs at once on the CPU's 2 cores: each at 0.50 of its speed")
    assert load.startswith("machine load while timing: load average")
    assert "\n2 runs on" in out and "1 device(s) x 2 job(s)" in out
    assert "(1.00x one job's throughput per device)" in out  # 2 jobs at half speed each
    # progress on stderr, counted against the pieces of a first pass that times nothing
    lines = [line for line in err.splitlines() if line.endswith(")...")]
    total = len(lines)
    assert lines[0].endswith(f"(1/{total})...") and lines[-1].endswith(f"({total}/{total})...")
    assert any(line.startswith("timing train on digits/sagan (") for line in lines)
    assert "timing 2 job start-ups at once..." in err
    # a dcgan run of 10 iterations at 0.25 s, a sagan one at 0.5 s, each with 2 s of start-up
    assert "| train | 2 | 0.003 | 5.8 s |" in out


# A study with a shared run (digits-b's arms are digits') and an attention-map run
JOBS_STUDY = {
    "study": "jobs",
    "datasets": {
        "digits": {"resolution": 16, "heldout": 200},
        "digits-b": {"dataset": "digits", "resolution": 16, "heldout": 200},
    },
    "variants": {"dcgan": {}, "sagan": {"g_resolutions": [8], "d_resolutions": [8]}},
    "sizes": [100],
    "seeds": [0, 1],
    "model": {"width": 8, "z_dim": 32},
    "train": {"iterations": 20, "batch_size": 16},
    "evaluation": {"num_samples": 200},
}


def test_job_counts_are_the_workflows_own_dry_run(tmp_path):
    """The forecast restates the job graph by rule name: a real `snakemake -n` of a study
    with a shared run and an attention-map run keeps it from drifting (it had lost
    attention_maps, run_config and study_facts)."""
    import subprocess
    import sys

    study = JOBS_STUDY
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(study))
    dry = subprocess.run(
        [sys.executable, "-m", "snakemake", "--snakefile", str(Path("Snakefile").resolve())]
        + ["--directory", str(tmp_path), "--configfile", str(tmp_path / "s.yaml"), "-n"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert dry.returncode == 0, dry.stderr[-3000:]
    planned = parse_job_stats(dry.stdout)
    counted = {rule: n for rule, n in job_counts(parse_study(study)).items() if n}
    assert counted == planned


def test_a_profiled_step_is_timed_on_the_threads_the_profile_job_takes(monkeypatch):
    """The profile and scaling jobs take every core; a tiny model's step can be slower on
    two threads than on one, so the forecast times it on as many as the job gets."""
    import torch

    from sagan.forecast import timer as timer_module

    seen = []
    monkeypatch.setattr(
        timer_module,
        "build_step",
        lambda spec, device: (lambda: seen.append(torch.get_num_threads()), None),
    )
    before = torch.get_num_threads()
    MeasuredTimer("cpu", threads=1, warmup=0, steps=2, profile_threads=2).step(None)
    assert seen == [2, 2]
    assert torch.get_num_threads() == 1  # a model job's pieces go on timing on one thread
    torch.set_num_threads(before)
