"""A run's config crosses the shell once, as a file: `sagan run-config` resolves it from the
study document the workflow wrote, and a config once written is no job's output, so no
change of the study or of the rule reruns a run."""

import subprocess
import sys
from pathlib import Path

import yaml

from sagan.cli import main
from sagan.config import config_digest, load_run_config, save_run_config
from sagan.forecast.dry_run import parse_job_stats
from sagan.study import parse_study, run_config, run_dir, runs
from tests.test_estimate import JOBS_STUDY

REPO = Path(__file__).resolve().parents[1]
STUDY = JOBS_STUDY  # two datasets over one data, two arms, two seeds


def test_run_config_resolves_the_run_from_the_study_file_into_its_own_folder(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    Path("study.yaml").write_text(yaml.safe_dump(STUDY))
    study = parse_study(STUDY)
    run = runs(study)[-1]
    out = f"{run_dir(study, run)}/config.yaml"
    assert main(["run-config", "study.yaml", "--run", run.path, "--out", out]) == 0
    assert load_run_config(out) == run_config(study, run)
    assert config_digest(load_run_config(out)) == config_digest(run_config(study, run))
    # a folder the study does not give this run (a study file edited since): refused
    other = f"{run_dir(study, runs(study)[0])}/config.yaml"
    assert main(["run-config", "study.yaml", "--run", run.path, "--out", other]) == 2
    assert "resolves to" in capsys.readouterr().err
    assert not Path(other).exists()


def dry_run(workdir: Path, *args: str) -> dict[str, int]:
    (workdir / "s.yaml").write_text(yaml.safe_dump(STUDY))
    done = subprocess.run(
        [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile")]
        + ["--directory", str(workdir), "--configfile", str(workdir / "s.yaml"), "-n", *args],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return parse_job_stats(done.stdout)


def test_a_written_config_is_no_jobs_output_even_when_the_rule_is_forced(tmp_path):
    study = parse_study(STUDY)
    first = runs(study)[0]
    written = tmp_path / run_dir(study, first) / "config.yaml"
    written.parent.mkdir(parents=True)
    save_run_config(run_config(study, first), written)
    # `--forcerun run_config` stands for any change to the rule (its shell line: Snakemake's
    # code trigger): the written config is a plain input, not rewritten, so its run stays
    jobs = dry_run(tmp_path, "--forcerun", "run_config")
    assert jobs["run_config"] == len(runs(study)) - 1
    assert jobs["study_document"] == 1  # what the other runs' configs are resolved from
