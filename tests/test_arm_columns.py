"""The results tables name a run's arm ``arm`` and its registered variant ``variant``; tables
written before (the arm under ``variant``, the registered variant under
``registered_variant``) still read, through the one upgrade of ``sagan.report.outputs``."""

import pandas as pd

from sagan.report.build import Results, report_colors
from sagan.report.outputs import upgrade_arm_columns

ARMS = {"base": "dcgan", "place.g4": "sagan", "place.g8": "sagan"}  # arm -> registered


def old_summary() -> pd.DataFrame:
    """A summary as aggregate wrote it before: ``variant`` the arm."""
    return pd.DataFrame(
        [
            {"study": "s", "dataset": "d", "variant": arm, "registered_variant": registered,
             "size": "full", "seed": seed, "status": "done", "fd_domain": 10.0 + i + 0.1 * seed,
             "run_dir": f"results/runs/s/{arm}/{seed}"}
            for i, (arm, registered) in enumerate(ARMS.items())
            for seed in range(3)
        ]
    )  # fmt: skip


def old_profile() -> pd.DataFrame:
    return pd.DataFrame(
        {"label": list(ARMS), "variant": list(ARMS), "registered_variant": list(ARMS.values()),
         "dataset": "d", "precision": "fp32", "ms_per_step": [1.0, 2.0, 3.0]}
    )  # fmt: skip


def test_an_old_results_folder_reads_with_the_arm_under_arm_and_the_model_under_variant(
    tmp_path,
):
    results = tmp_path / "results" / "s"
    (results / "cost").mkdir(parents=True)
    old_summary().to_csv(results / "summary.csv", index=False)
    old_profile().to_csv(results / "cost" / "profile_d.csv", index=False)
    old_profile().assign(tokens=16).to_csv(results / "cost" / "scaling.csv", index=False)
    logs = old_summary()[["study", "dataset", "variant", "size", "seed"]].assign(iteration=10)
    logs.to_csv(results / "training_log.csv", index=False)  # the arm under `variant`, alone
    r = Results(results)
    for table in (r.summary, r.profile, r.scaling):
        assert "registered_variant" not in table
        assert list(dict.fromkeys(table["arm"])) == list(ARMS)
        assert list(dict.fromkeys(table["variant"])) == ["dcgan", "sagan"]
    assert list(dict.fromkeys(r.logs["arm"])) == list(ARMS) and "variant" not in r.logs
    assert list(report_colors(r)) == list(ARMS)  # one colour per arm, not per variant
    stats = r.cell_stats()
    assert sorted(stats["arm"].unique()) == sorted(ARMS)


def test_the_upgrade_leaves_a_new_table_as_it_is_and_is_idempotent():
    new = upgrade_arm_columns(old_summary())
    assert list(new.columns[:4]) == ["study", "dataset", "arm", "variant"]
    assert upgrade_arm_columns(new) is new  # already new: untouched
    no_arm_column = pd.DataFrame({"dataset": ["d"], "fd_domain": [1.0]})  # e.g. a noise floor
    assert upgrade_arm_columns(no_arm_column) is no_arm_column


def test_sagan_pairing_and_cost_figures_read_old_tables_from_their_csvs(tmp_path, capsys):
    from sagan.cli import main

    old_summary().to_csv(tmp_path / "summary.csv", index=False)
    argv = ["pairing", str(tmp_path / "summary.csv"), "--arm", "place.g4", "--baseline", "base"]
    assert main([*argv, "--metric", "fd_domain"]) == 0
    assert "3 seed pairs" in capsys.readouterr().out
    # a real profile's rows, written as an older version wrote them
    from sagan.cost.plan import profile_specs
    from sagan.cost.profile import profile
    from sagan.study import parse_study
    from tests.test_profile import STUDY

    study = parse_study({**STUDY, "profile": {**STUDY["profile"], "precisions": ["fp32"]}})
    rows = pd.DataFrame(profile(profile_specs(study, 16, 3), repeats=1, warmup=0, memory=False))
    old = rows.rename(columns={"variant": "registered_variant", "arm": "variant"})
    old.assign(dataset="digits").to_csv(tmp_path / "profile_d.csv", index=False)
    argv = ["cost-figures", str(tmp_path / "profile_d.csv"), "--out-dir", str(tmp_path / "f")]
    assert main(argv) == 0
    assert (tmp_path / "f" / "step_overhead.png").stat().st_size > 10_000
