"""`snakemake --lint` finds nothing to say about the workflow."""

import re
import subprocess
import sys

from tests.test_workflow import REPO


def test_snakemake_lint_reports_nothing(tmp_path):
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile")]
    cmd += ["--directory", str(tmp_path), "--lint"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    out = done.stdout + done.stderr
    headers = re.findall(r"^Lints for .*$", out, flags=re.MULTILINE)
    assert not headers, out[-5000:]
    assert done.returncode == 0, out[-3000:]
    assert not (tmp_path / "results").exists()
