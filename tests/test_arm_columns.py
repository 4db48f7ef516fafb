"""The results tables name a run's arm ``arm`` and its registered variant ``variant``; tables
written before (the arm under ``variant``, the registered variant under
``registered_variant``) still read, through the one upgrade of ``sagan.report.outputs``."""

import pandas as pd

from sagan.report.build import Results, report_colors
from sagan.report.outputs import upgrade_arm_columns
from sagan.report.pairing import pairing

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


def test_sagan_pairing_reads_an_old_summary_as_read_from_its_csv():
    p = pairing(old_summary(), "place.g4", "base", "fd_domain")  # `sagan pairing`: read_csv
    assert p.n == 3
