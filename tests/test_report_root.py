"""Where a summary's relative run paths start: found from the results folder as given."""

import pandas as pd
import pytest

from sagan.errors import DataError
from sagan.report.build import find_root


def test_a_results_folder_without_its_runs_is_one_line_naming_a_run(tmp_path):
    summary = pd.DataFrame({"run_dir": ["results/runs/tiny/a", "results/runs/tiny/b"]})
    (tmp_path / "results" / "tiny").mkdir(parents=True)
    with pytest.raises(DataError, match="results/runs/tiny/a.*beside its runs"):
        find_root(tmp_path / "results" / "tiny", summary)
