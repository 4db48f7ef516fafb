"""The GPU pool: no two live jobs share a slot, every slot is used, a killed job frees its slot."""

import json
import signal
import subprocess
import sys
import time

import pytest

from sagan.gpu_pool import acquire

JOB = (
    "import json, os, sys, time; start = time.time(); time.sleep(0.4); "
    "print(json.dumps({'gpu': os.environ['CUDA_VISIBLE_DEVICES'], 'start': start, "
    "'end': time.time()}))"
)


def pooled(pool, slots, *command):
    return [
        sys.executable,
        "-m",
        "sagan.gpu_pool",
        "--slots",
        str(slots),
        "--dir",
        str(pool),
        "--",
        *command,
    ]


def test_eight_jobs_on_four_slots_never_share_and_use_every_slot(tmp_path):
    procs = [
        subprocess.Popen(
            pooled(tmp_path, 4, sys.executable, "-c", JOB), stdout=subprocess.PIPE, text=True
        )
        for _ in range(8)
    ]
    runs = [json.loads(p.communicate(timeout=60)[0]) for p in procs]
    assert {r["gpu"] for r in runs} == {"0", "1", "2", "3"}
    for i, a in enumerate(runs):
        for b in runs[i + 1 :]:
            if a["gpu"] == b["gpu"]:  # same GPU: one must end before the other starts
                assert a["end"] <= b["start"] or b["end"] <= a["start"], (a, b)


def test_a_killed_job_releases_its_slot(tmp_path):
    holder = subprocess.Popen(
        pooled(tmp_path, 1, sys.executable, "-c", "import time; time.sleep(60)")
    )
    time.sleep(1.0)  # it holds slot 0
    with pytest.raises(TimeoutError):
        acquire(tmp_path, 1, timeout_s=0.3)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    slot, _ = acquire(tmp_path, 1, timeout_s=5)
    assert slot == 0


def test_a_pool_needs_a_slot(tmp_path):
    with pytest.raises(ValueError, match="at least 1 slot"):
        acquire(tmp_path, 0)
