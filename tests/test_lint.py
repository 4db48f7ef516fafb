"""`snakemake --lint` finds nothing to say about the workflow.

workflow/rules/report.smk is being rewritten on another branch; its lints are left out here
until that lands (the fixes to apply there: `conda: ENV`, `params: sagan=SAGAN` /
`python=PYTHON` used as {params.sagan} / {params.python}, and named inputs instead of
{input[0]}).
"""

import re
import subprocess
import sys

from tests.test_workflow import REPO

PENDING = "workflow/rules/report.smk"


def test_snakemake_lint_reports_nothing(tmp_path):
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile")]
    cmd += ["--directory", str(tmp_path), "--lint"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    out = done.stdout + done.stderr
    headers = re.findall(r"^Lints for .*$", out, flags=re.MULTILINE)
    assert not [h for h in headers if PENDING not in h], out[-5000:]
    # --lint exits 1 when it has anything to say; any other failure has no lint headers
    assert done.returncode == (1 if headers else 0), out[-3000:]
    assert not (tmp_path / "results").exists()
