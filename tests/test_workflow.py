"""The Snakemake workflow end to end on a tiny study, in a temporary folder."""

import copy
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sagan.registry import VARIANTS
from sagan.report.verdict_rules import VERDICTS
from tests.test_resume import NAN_PLUGIN

REPO = Path(__file__).resolve().parents[1]
TINY = {
    "study": "tiny",
    "datasets": {
        "digits": {"resolution": 16, "heldout": 200},
        "pairs": {"resolution": 16, "heldout": 90, "options": {"count": 300}},
    },
    # every registered image variant, placed where a 16 px model has feature maps
    "variants": {
        "dcgan": {},
        "sagan": {"g_resolutions": [8], "d_resolutions": [8]},
        "multiscale": {"g_resolutions": [4, 8], "d_resolutions": [8, 4]},
        "topk": {"g_resolutions": [8], "d_resolutions": [8], "top_k": 0.25},
        "linear": {"g_resolutions": [8], "d_resolutions": [8]},
        "se_spatial": {"g_resolutions": [8], "d_resolutions": [8], "channel": "cbam"},
        # its blocks condition on class ids: a class-conditional arm
        "label_attention": {
            "g_resolutions": [8],
            "d_resolutions": [8],
            "model": {"conditional": True, "backbone": "resnet"},
        },
    },
    "sizes": [100, "full"],
    "seeds": [0],
    "model": {"width": 8, "z_dim": 32},
    "train": {"iterations": 20, "batch_size": 16, "sample_every": 10},
    "evaluation": {"num_samples": 200},
    "extractor": {"epochs": 1},
    "profile": {
        "repeats": 1,
        "warmup": 0,
        "memory": False,
        "scaling": {"resolutions": [16, 32], "batch": 2},
    },
}


def snakemake_cmd(workdir: Path, study: dict, *args: str) -> list[str]:
    config = workdir / "study.yaml"
    config.write_text(yaml.safe_dump(study))
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(config),
        "--cores",
        "2",
        *args,
    ]
    return cmd


def snakemake(workdir: Path, study: dict, *args: str, **kw) -> subprocess.CompletedProcess:
    cmd = snakemake_cmd(workdir, study, *args)
    # a guard against a hang, not a time limit: under `pytest -n auto` two studies share the
    # cores, and the tiny one took ~10 minutes when the machine was loaded
    return subprocess.run(cmd, capture_output=True, text=True, timeout=1500, **kw)


# A tiny clip dataset: 80 clips of 4 frames at 16 px
MOVING_DIGITS = {
    "resolution": 16,
    "heldout": 20,
    "options": {"count": 80, "frames": 4},
    "sizes": ["full"],
    "model": {"width": 4},
    "train": {"batch_size": 8},
    "evaluation": {"num_samples": 40},
}

# One study runs the whole workflow once for every end-to-end check below (a study's fixed
# cost, data, extractors, profile and notebooks, is paid once): every image variant and one
# that diverges on digits, the probe at two sizes, and every video variant.
E2E = {
    **TINY,
    "plugins": ["nan_bomb_plugin"],
    "datasets": {
        "digits": {**TINY["datasets"]["digits"], "sizes": ["full"]},
        "pairs": {**TINY["datasets"]["pairs"], "variants": ["dcgan", "sagan"]},
        "moving-digits": {
            **MOVING_DIGITS,
            "train": {**MOVING_DIGITS["train"], "iterations": 10, "sample_every": 5},
        },
    },
    "variants": {
        **TINY["variants"],
        "nan_bomb": {"after": 15},  # G's output turns NaN after 15 training forwards
        "video_baseline": {},
        "video3d": {"g_resolutions": [8], "d_resolutions": [8]},
        "video_factorized": {"g_resolutions": [8], "d_resolutions": [8]},
    },
    "train": {**TINY["train"], "log_every": 2},
}
IMAGE_ARMS = set(TINY["variants"])


def with_plugins(root: Path) -> dict[str, str]:
    """The environment of a workflow that imports the plug-ins written to ``root``."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), *sys.path])}


@pytest.fixture(scope="module")
def e2e(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("e2e")
    (root / "nan_bomb_plugin.py").write_text(NAN_PLUGIN)
    done = snakemake(root, E2E, env=with_plugins(root))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return root


@pytest.mark.slow
def test_tiny_study_end_to_end_then_nothing_to_do(e2e):
    tmp_path = e2e
    summary = pd.read_csv(tmp_path / "results/tiny/summary.csv", dtype={"size": str})
    images = summary[summary["dataset"] != "moving-digits"]
    healthy = images[images["arm"] != "nan_bomb"]
    assert len(summary) == len(IMAGE_ARMS) + 1 + 2 * 2 + 3
    assert set(healthy["status"]) == {"done"}
    pairs = summary[summary["dataset"] == "pairs"]
    assert pairs["pairs_agreement"].between(0, 1).all()
    assert summary.loc[summary["dataset"] == "digits", "pairs_agreement"].isna().all()
    digits = healthy[healthy["dataset"] == "digits"]
    assert set(digits["arm"]) == IMAGE_ARMS == set(VARIANTS.names("image"))
    assert set(pairs["size"]) == {"100", "full"}
    assert healthy["fd_domain"].notna().all() and healthy["kid_domain"].notna().all()
    for column in ("train_seconds", "it_per_s", "params_g", "params_d", "iterations"):
        assert (healthy[column] > 0).all(), column
    # quality, fidelity/diversity, the small-data gap and D's overfitting signal for every run
    for column in ("precision_domain", "recall_domain", "fd_domain_gap", "r_t", "d_gap"):
        assert healthy[column].notna().all(), column
    assert healthy["r_t"].between(-1, 1).all()
    assert (tmp_path / "reports/tiny/figures/quality_vs_size.png").stat().st_size > 10_000
    html = (tmp_path / "reports/tiny/overview.html").read_text()
    assert "fd_domain" in html and "Traceback" not in html
    assert "data:image/png;base64" in html  # the figure is drawn, not just its repr
    # the report: tidy tables, per-cell statistics, paper tables, figures, claims, notebooks
    for table in ("summary", "summary_stats", "training_log"):
        assert len(pd.read_parquet(tmp_path / f"results/tiny/{table}.parquet")) > 0, table
    for table in ("ablation", "small_data", "video", "cost_scaling", "learned", "claims"):
        md = (tmp_path / f"reports/tiny/tables/{table}.md").read_text()
        assert md and (tmp_path / f"reports/tiny/tables/{table}.tex").stat().st_size > 0
    assert "**" in (tmp_path / "reports/tiny/tables/ablation.md").read_text()  # a best value
    claims = pd.read_csv(tmp_path / "reports/tiny/tables/claims.csv")
    assert claims["verdict"].isin(VERDICTS).all()
    assert (claims["n"] > 0).any()  # a row was measured
    assert claims.loc[claims["seeds"] >= 2, "tests"].notna().all()  # each tested row's tests
    for name in ("training_curves", "quality_cost_pareto", "probe_coherence", "attention_maps"):
        assert (tmp_path / f"reports/tiny/figures/{name}.png").stat().st_size > 10_000, name
    for name in ("overview", "ablation", "small_data", "cost", "video"):
        html = (tmp_path / f"reports/tiny/{name}.html").read_text()
        assert "Traceback" not in html, name
        assert "data:image/png;base64" in html, name
    # cost: every arm profiled per dataset, the scaling sweep, its slopes and figures
    arms = {"digits": IMAGE_ARMS | {"nan_bomb"}, "pairs": {"dcgan", "sagan"}}
    for dataset, expected in arms.items():
        profile = pd.read_csv(tmp_path / f"results/tiny/cost/profile_{dataset}.csv")
        assert set(profile["arm"]) == expected and len(profile) == len(expected)
        assert (profile["ms_per_step"] > 0).all() and (profile["macs_g"] > 0).all()
    slopes = pd.read_csv(tmp_path / "results/tiny/cost/scaling_slopes.csv")
    macs = slopes["slope_attention_macs"]  # no slope through fewer than 3 points
    assert len(slopes) == 2 and (macs.isna() == (slopes["points"] < 3)).all()
    assert macs.dropna().between(1, 2.5).all()
    for name in ("step_overhead", "cost_scaling"):
        assert (tmp_path / f"reports/tiny/figures/{name}.png").stat().st_size > 10_000
    again = snakemake(tmp_path, E2E, "--dry-run", env=with_plugins(tmp_path))
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr
    # the study as the workflow read it, beside its results: every run's config came from it
    document = yaml.safe_load((tmp_path / "results/tiny/study.yaml").read_text())
    assert document == E2E
    # the HTML report: the workflow's description and each output's one-line caption
    made = snakemake(tmp_path, E2E, "--report", "reports/report.html", env=with_plugins(tmp_path))
    assert made.returncode == 0, made.stderr[-3000:]
    report = (tmp_path / "reports/report.html").read_text()
    assert "SAGAN Bench study" in report
    assert "Training-step cost of every arm on digits" in report
    assert "claims.csv" in report and "overview.html" in report  # tables, notebooks too


@pytest.mark.slow
def test_a_finished_file_deleted_by_hand_is_noticed_and_rebuilt(e2e):
    """Snakemake reruns a job for a missing file only when a job that has to run wants it:
    without `rule all` asking for every run's files and results, a finished study whose
    metrics.json, samples.png or profile was deleted read "Nothing to be done"."""
    run = next((e2e / "results/runs/tiny/digits").glob("sagan-*/nfull/s0/i20"))
    gone = [run / "metrics.json", run / "samples.png", e2e / "results/tiny/cost/profile_pairs.csv"]
    for path in gone:
        os.replace(path, f"{path}.aside")  # keeps its time: put back, nothing is newer
    try:
        dry = snakemake(e2e, E2E, "--dry-run", env=with_plugins(e2e))
        narrow = snakemake(e2e, E2E, "--dry-run", "results/tiny/summary.csv", env=with_plugins(e2e))
    finally:
        for path in gone:
            os.replace(f"{path}.aside", path)
    out = dry.stdout + dry.stderr
    assert dry.returncode == 0, out[-3000:]
    jobs = dict(re.findall(r"^(\w+)\s+(\d+)$", out, flags=re.M))
    # the run's train re-emits from its state, its evaluate restores its kept scores
    assert jobs.get("train") == "1" and jobs.get("evaluate") == "1", jobs
    assert jobs.get("profile") == "1" and jobs.get("aggregate") == "1", jobs
    assert f"Missing output files: {run.relative_to(e2e)}/samples.png" in out
    # a narrower target cannot rebuild them: it says how
    said = narrow.stdout + narrow.stderr
    assert "finished file(s) of this study's runs are missing" in said, said[-3000:]
    assert "`snakemake` (the default target) rebuilds them" in said


@pytest.mark.slow
def test_a_diverged_run_is_a_result_and_the_study_completes(e2e):
    summary = pd.read_csv(e2e / "results/tiny/summary.csv")
    bomb = summary[summary["arm"] == "nan_bomb"]
    assert len(bomb) == 1 and set(bomb["status"]) == {"diverged"}
    assert bomb["fd_domain"].isna().all() and bomb["diverged_at"].between(2, 10).all()
    assert set(summary.loc[summary["arm"] == "dcgan", "status"]) == {"done"}


@pytest.mark.slow
def test_a_study_with_video_scores_every_video_variant_and_reports_them(e2e):
    summary = pd.read_csv(e2e / "results/tiny/summary.csv", dtype={"size": str})
    video = summary[summary["dataset"] == "moving-digits"]
    assert set(video["arm"]) == set(VARIANTS.names("video")) and len(video) == 3
    for column in ("fd_frame_domain", "fd_video_domain3d", "temporal_consistency"):
        assert video[column].notna().all(), column
    assert summary.loc[summary["dataset"] == "digits", "fd_video_domain3d"].isna().all()
    profile = pd.read_csv(e2e / "results/tiny/cost/profile_moving-digits.csv")
    assert sorted(profile["arm"]) == sorted(VARIANTS.names("video"))
    assert (profile["macs_g"] > 0).all() and set(profile["baseline"]) == {"video_baseline"}
    assert set(profile["width"]) == {4} and set(profile["backbone"]) == {"video"}
    table = (e2e / "reports/tiny/tables/video.md").read_text()
    assert "video3d" in table and "No video runs" not in table
    assert (e2e / "reports/tiny/figures/video_temporal.png").stat().st_size > 10_000
    assert "Traceback" not in (e2e / "reports/tiny/video.html").read_text()


@pytest.mark.slow
def test_every_variant_trains_on_the_resnet_backbone(tmp_path):
    study = {**TINY, "study": "tiny_resnet", "sizes": [100]}
    study["datasets"] = {"digits": TINY["datasets"]["digits"]}
    study["model"] = {**TINY["model"], "backbone": "resnet", "width": 4}
    done = snakemake(tmp_path, study, "results/tiny_resnet/summary.csv")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    summary = pd.read_csv(tmp_path / "results/tiny_resnet/summary.csv")
    assert set(summary["arm"]) == set(TINY["variants"])
    assert set(summary["status"]) == {"done"} and summary["fd_domain"].notna().all()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda s: s["variants"].update(nope={}), "unknown variant 'nope'; registered"),
        (lambda s: s["variants"].update(sagan={"g_resolutions": [64]}), "G resolutions [4, 8, 16]"),
        (lambda s: s.update(epochs=3), "unknown key(s) 'epochs' in the study config; allowed"),
    ],
)
def test_bad_study_fails_before_any_job(tmp_path, edit, message):
    study = yaml.safe_load(yaml.safe_dump(TINY))
    edit(study)
    failed = snakemake(tmp_path, study, "--dry-run")
    assert failed.returncode != 0
    assert message in failed.stdout + failed.stderr
    assert not (tmp_path / "results").exists()


@pytest.mark.slow
def test_the_workflow_reads_a_study_file_as_sagan_validate_does(tmp_path):
    # a quoted number stays a string (only --config values are re-typed) ...
    study = {**copy.deepcopy(TINY), "study": "2024"}
    (tmp_path / "quoted").mkdir()
    (tmp_path / "duplicate").mkdir()
    planned = snakemake(tmp_path / "quoted", study, "--dry-run")
    assert planned.returncode == 0, planned.stderr
    assert "results/runs/2024/" in planned.stdout
    # ... and a duplicate key is refused, as the file says it, not as Snakemake kept it
    text = yaml.safe_dump(TINY) + "train: {batch_size: 8}\n"
    cmd = snakemake_cmd(tmp_path / "duplicate", TINY, "--dry-run")
    (tmp_path / "duplicate" / "study.yaml").write_text(text)
    failed = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert failed.returncode != 0
    assert "duplicate key 'train'" in failed.stdout + failed.stderr


@pytest.mark.slow
def test_a_config_override_of_the_default_study_changes_one_key_of_its_section(tmp_path):
    def planned(*config: str) -> set[str]:
        cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile")]
        cmd += ["--directory", str(tmp_path), "--cores", "1", "-n", *config]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        return set(re.findall(r"results/runs/default/[^ ]*/i\d+/", done.stdout))

    default = planned()
    shorter = planned("--config", "train={iterations: 30}")
    # the same run folders (batch size, learning rates... kept), only the iteration count
    assert {re.sub(r"i\d+/$", "i30/", p) for p in default} == shorter


def one_run_study(variant: dict, **train) -> dict:
    study = copy.deepcopy(TINY)
    study["datasets"] = {"digits": TINY["datasets"]["digits"]}
    study["variants"] = variant
    study["sizes"], study["seeds"] = ["full"], [0, 1]
    study["train"] = dict(TINY["train"], **train)
    return study


@pytest.mark.slow
def test_killed_workflow_resumes_every_run_from_its_checkpoints(tmp_path):
    study = one_run_study(
        {"sagan": TINY["variants"]["sagan"]},
        iterations=2000,
        checkpoint_every=20,
        sample_every=1000,
    )
    proc = subprocess.Popen(
        snakemake_cmd(tmp_path, study, "results/tiny/summary.csv"),
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    states = "results/runs/tiny/digits/sagan-*/nfull/s{}"
    while not all(list(tmp_path.glob(states.format(s) + "/checkpoints/iter_*.pt")) for s in (0, 1)):
        assert proc.poll() is None and time.monotonic() < deadline, "finished before the kill"
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)  # the whole job tree, as a lost machine would
    proc.wait()
    runs = [next(tmp_path.glob(states.format(s) + "/i2000")) for s in (0, 1)]
    assert not any((r / "checkpoint.pt").exists() for r in runs)
    assert snakemake(tmp_path, study, "--unlock").returncode == 0
    done = snakemake(tmp_path, study, "results/tiny/summary.csv", "--rerun-incomplete")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    for run in runs:
        status = json.loads((run / "status.json").read_text())
        assert status["state"] == "done" and status["resumed_from"] >= 20, status


GPU_SLOTS = re.compile(r"\bgpu=[1-9]")  # a job's resources that hold pool slots
MODEL_RULES = {
    "train",
    "evaluate",
    "attention_maps",
    "reference_features",
    "train_extractor",
    "profile",
    "scaling",
    "noise_floor",  # the extractor scores real images
}


def planned_jobs(stdout: str) -> list[dict]:
    """Each job of a `snakemake -n -p` plan: its rule, input, output, resources and shell
    command."""
    jobs = []
    for block in stdout.split("\n\n"):
        lines = block.strip().splitlines()
        heads = [line for line in lines if line.startswith(("rule ", "localrule "))]
        if not heads:
            continue
        field = {
            line.split(":", 1)[0].strip(): line.split(":", 1)[1].strip()
            for line in lines
            if ":" in line
        }
        jobs.append(
            {
                "rule": heads[0].split()[1].rstrip(":"),
                "input": field.get("input", "").split(", "),
                "output": field.get("output", "").split(", "),
                "resources": field.get("resources", ""),
                "shell": field.get("Shell command", ""),
            }
        )
    return jobs


def test_gpus_route_every_model_job_and_no_cpu_job_through_the_pool(tmp_path):
    """The default study with `--resources gpu=2 --config jobs_per_gpu=3`: 6 slots."""
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile")]
    cmd += ["--directory", str(tmp_path), "--cores", "2", "-n", "-p"]
    cmd += ["--resources", "gpu=2", "--config", "jobs_per_gpu=3"]
    env = {**os.environ, "SAGAN_GPU_COUNT": "2"}
    env.pop("SAGAN_GPU_POOL_DIR", None)
    plan = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
    assert plan.returncode == 0, plan.stderr[-3000:]
    assert "GPU pool: 6 slots, 3 jobs on each of 2 GPUs, in /tmp/sagan-gpu-pool-" in plan.stdout
    jobs = planned_jobs(plan.stdout)
    assert {job["rule"] for job in jobs} >= MODEL_RULES
    for job in jobs:
        if job["rule"] in MODEL_RULES:
            assert "-m sagan.gpu_pool --gpus 2 --jobs-per-gpu 3 --dir /tmp/" in job["shell"], job
            assert "--device cuda " in job["shell"] and GPU_SLOTS.search(job["resources"]), job
        else:
            assert "gpu_pool" not in job["shell"], job
            assert not GPU_SLOTS.search(job["resources"]), job
    # the cost profile times itself alone on its GPU: all three slots of one
    assert all(
        "--whole-gpu" in job["shell"] and "gpu=3" in job["resources"]
        for job in jobs
        if job["rule"] in ("profile", "scaling")
    )


def test_without_gpus_no_job_takes_the_pool(tmp_path):
    cpu = snakemake(tmp_path, TINY, "-n", "-p")
    assert cpu.returncode == 0, cpu.stderr[-3000:]
    jobs = planned_jobs(cpu.stdout)
    assert {job["rule"] for job in jobs} >= MODEL_RULES
    assert not any("gpu_pool" in job["shell"] or GPU_SLOTS.search(job["resources"]) for job in jobs)
    model_jobs = [job for job in jobs if job["rule"] in MODEL_RULES]
    assert all("--device cpu " in job["shell"] for job in model_jobs)


def test_attention_maps_are_a_job_on_declared_inputs_that_the_report_waits_for(tmp_path):
    """A dry run: per image dataset one job makes a run's attention maps from its checkpoint,
    config and prepared data; the figures and every notebook read that file, no checkpoint."""
    plan = snakemake(tmp_path, TINY, "-n", "-p")
    assert plan.returncode == 0, plan.stderr[-3000:]
    jobs = planned_jobs(plan.stdout)
    maps = [job for job in jobs if job["rule"] == "attention_maps"]
    assert sorted(job["output"][0].split("/")[3] for job in maps) == list(TINY["datasets"])
    for job in maps:
        run = job["output"][0].rsplit("/", 1)[0]
        assert "/nfull/s0/" in run  # the largest size, the first seed
        assert set(job["input"]) == {f"{run}/checkpoint.pt", f"{run}/config.yaml"} | {
            path for path in job["input"] if path.endswith("/images.pt")
        }
        assert len(job["input"]) == 3
    readers = [job for job in jobs if job["rule"] in ("report_build", "notebook")]
    assert len(readers) == 1 + 5
    for job in readers:
        assert {m["output"][0] for m in maps} <= set(job["input"])
        assert not any(path.endswith("checkpoint.pt") for path in job["input"])


VIDEO_TINY = {
    **TINY,  # its model, evaluation, extractor and profile settings
    "study": "tiny_video",
    "datasets": {
        "digits": TINY["datasets"]["digits"],
        "moving-digits": MOVING_DIGITS,
    },
    "variants": {
        "dcgan": {},
        "sagan": TINY["variants"]["sagan"],
        "video_baseline": {},
        "video3d": {"g_resolutions": [8], "d_resolutions": [8]},
        "video_factorized": {"g_resolutions": [8], "d_resolutions": [8]},
    },
    "sizes": [100],
    "train": {**TINY["train"], "iterations": 10, "sample_every": 5},
}


def test_a_progressive_arm_scoring_fd_while_training_plans_its_inputs(tmp_path):
    """A dry run: the progressive arm is its own run folder, and a run scoring FD while
    training waits for the extractor and the held-out reference features it reads."""
    study = copy.deepcopy(TINY)
    grow = {"start_resolution": 4, "phase_iterations": 4, "fade_iterations": 4}
    study["variants"] = {
        "sagan": TINY["variants"]["sagan"],
        "sagan-prog": {
            **TINY["variants"]["sagan"],
            "variant": "sagan",
            "train": {"progressive": grow},
        },
    }
    study["datasets"] = {"digits": TINY["datasets"]["digits"]}
    study["evaluation"] = {**TINY["evaluation"], "during": [5, 20], "during_samples": 64}
    planned = snakemake(tmp_path, study, "-n")
    assert planned.returncode == 0, planned.stdout[-3000:] + planned.stderr[-3000:]
    lines = planned.stdout.splitlines()
    trains = [lines[i + 1] for i, line in enumerate(lines) if line.startswith("rule train:")]
    assert len(trains) == 4 and sum("/sagan-prog-" in t for t in trains) == 2
    assert all("/heldout.pt" in t and "/extractors/" in t for t in trains)


CRASH_PLUGIN = NAN_PLUGIN.replace("nan_bomb", "crash").replace(
    'return x * (self.scale if self.calls < self.after else float("nan"))',
    'if self.calls >= self.after:\n            raise RuntimeError("crash on demand")\n'
    "        return x * self.scale",
)


@pytest.mark.slow
def test_failed_runs_under_keep_going_still_get_a_summary_and_tables(tmp_path):
    (tmp_path / "crash_plugin.py").write_text(CRASH_PLUGIN)
    study = one_run_study({"dcgan": {}, "crash": {"after": 5}})
    study["plugins"], study["seeds"] = ["crash_plugin"], [0]
    env = with_plugins(tmp_path)
    # up to the summary: its failed run sends the workflow to the partial report
    done = snakemake(tmp_path, study, "results/tiny/summary.csv", "--keep-going", env=env)
    assert done.returncode != 0  # the failures stay visible to Snakemake and the shell
    summary = pd.read_csv(tmp_path / "results/tiny/summary.csv")
    assert set(summary.loc[summary["arm"] == "crash", "status"]) == {"failed"}
    assert summary.loc[summary["arm"] == "crash", "reason"].str.contains("crash").all()
    assert set(summary.loc[summary["arm"] == "dcgan", "status"]) == {"done"}
    assert (tmp_path / "reports/tiny/tables/ablation.md").is_file()


SHARING = {
    **TINY,
    "datasets": {
        "digits": {"resolution": 16, "heldout": 200, "variants": ["dcgan", "sagan"]},
        # the same data again, for a placement sweep whose g8 point is the sagan arm
        "digits-place": {
            "dataset": "digits",
            "resolution": 16,
            "heldout": 200,
            "variants": ["dcgan", "place"],
        },
    },
    "variants": {
        "dcgan": {},
        "sagan": TINY["variants"]["sagan"],
        "place": {"variant": "sagan", "d_resolutions": [8], "sweep": {"g_resolutions": [[4], [8]]}},
    },
    "sizes": ["full"],
}


def test_runs_that_differ_only_by_labels_are_trained_once_and_their_results_shared(tmp_path):
    plan = snakemake(tmp_path, SHARING, "-n", "-p")
    assert plan.returncode == 0, plan.stderr[-3000:]
    jobs = planned_jobs(plan.stdout)
    folder = {job["rule"]: set() for job in jobs}
    for job in jobs:
        folder[job["rule"]] |= {path.rsplit("/", 1)[0] for path in job["output"]}
    trained = {
        path.split("/")[3] + "/" + path.split("/")[4].rsplit("-", 1)[0] for path in folder["train"]
    }
    assert trained == {"digits/dcgan", "digits/sagan", "digits-place/place.g4"}
    shared = {
        path.split("/")[3] + "/" + path.split("/")[4].rsplit("-", 1)[0]
        for path in folder["share_run"]
    }
    assert shared == {"digits-place/dcgan", "digits-place/place.g8"}
    assert not folder["share_run"] & (folder["train"] | folder["evaluate"])
    assert folder["share_run"] <= folder["run_config"]  # each keeps its own labels
    # Run the sharing alone, over results of the first runs made by hand
    sources = {
        job["shell"].split(" share-run ")[1].split(" --out ")[0]
        for job in jobs
        if job["rule"] == "share_run"
    }
    for source in map(Path, sources):
        source = tmp_path / source
        source.mkdir(parents=True)
        for name in ("checkpoint.pt", "log.csv", "samples.png"):
            (source / name).write_bytes(b"weights")
        (source / "status.json").write_text(json.dumps({"state": "done", "iterations": 20}))
        (source / "metrics.json").write_text(json.dumps({"run": str(source), "metrics": {}}))
    targets = [f"{path}/metrics.json" for path in folder["share_run"]]
    only = [*targets, "--allowed-rules", "share_run", "run_config", "study_document"]
    done = snakemake(tmp_path, SHARING, *only)
    assert done.returncode == 0, done.stderr[-3000:]
    for path in folder["share_run"]:
        status = json.loads((tmp_path / path / "status.json").read_text())
        config = yaml.safe_load((tmp_path / path / "config.yaml").read_text())
        assert status["shared_from"] in sources and config["data"]["dataset"] == "digits-place"
    again = snakemake(tmp_path, SHARING, "-n", *only)
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr
