"""The GPU pool, with fake GPUs (SAGAN_GPU_COUNT) and real processes: N x K slots on the
user's devices, shared by every study of the machine, freed however a job ends."""

import errno
import getpass
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from sagan import gpu_pool
from sagan.errors import ConfigError
from sagan.gpu_pool import acquire, default_pool_dir, pool_devices, visible_devices

# A job that says where it runs, then waits for the test's go file (at most 30 s).
JOB = (
    "import os, sys, time; from pathlib import Path; d = Path(sys.argv[1]); "
    "(d / f'{os.getpid()}.start').write_text("
    "os.environ['CUDA_VISIBLE_DEVICES'] + ' ' + os.environ['SAGAN_GPU_SLOT']); "
    "t = time.time()\n"
    "while not (d / 'go').exists() and time.time() - t < 30: time.sleep(0.02)"
)


def wrapper(pool: Path, gpus: int, *command: str, per_gpu: int = 1) -> list[str]:
    head = [sys.executable, "-m", "sagan.gpu_pool", "--gpus", str(gpus)]
    return [*head, "--jobs-per-gpu", str(per_gpu), "--dir", str(pool), "--", *command]


def fake_gpus(count: int, visible: str | None = None, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "CUDA_VISIBLE_DEVICES"}
    env.update(SAGAN_GPU_COUNT=str(count), PYTHONPATH=str(Path(__file__).parents[1]), **extra)
    if visible is not None:
        env["CUDA_VISIBLE_DEVICES"] = visible
    return env


def wait_for(predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def alive(pid: int) -> bool:
    """Running (a zombie nobody reaped yet counts as dead)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in "ZX"
    except FileNotFoundError:
        return False


def started(folder: Path) -> list[str]:
    return sorted(p.read_text() for p in folder.glob("*.start"))


def test_slots_are_n_times_k_on_the_users_devices(tmp_path):
    env = fake_gpus(4, visible="2,3")
    jobs = [
        subprocess.Popen(
            wrapper(tmp_path / "pool", 2, sys.executable, "-c", JOB, str(tmp_path), per_gpu=3),
            env=env,
        )
        for _ in range(7)
    ]
    wait_for(lambda: len(started(tmp_path)) == 6)
    time.sleep(0.5)  # the seventh waits for a slot: all six are held
    running = started(tmp_path)
    assert len(running) == 6
    assert sorted(r.split()[1] for r in running) == ["2.0", "2.1", "2.2", "3.0", "3.1", "3.2"]
    assert all(r.split()[0] == r.split()[1][0] for r in running)  # the slot's one device
    (tmp_path / "go").touch()
    assert [job.wait(timeout=30) for job in jobs] == [0] * 7
    assert len(started(tmp_path)) == 7


def test_the_pool_folder_is_machine_wide_by_default(tmp_path, monkeypatch):
    monkeypatch.delenv("SAGAN_GPU_POOL_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    here = default_pool_dir()
    monkeypatch.chdir("/")
    assert here == default_pool_dir() and here.is_absolute()
    assert getpass.getuser() in here.name
    monkeypatch.setenv("SAGAN_GPU_POOL_DIR", str(tmp_path / "shared"))
    assert default_pool_dir() == tmp_path / "shared"


def test_two_studies_in_two_folders_share_the_slots(tmp_path):
    # no --dir: each wrapper finds the default folder, from its own working folder
    user = f"pooltest-{uuid.uuid4().hex[:8]}"
    env = fake_gpus(1, USER=user, LOGNAME=user)
    env.pop("SAGAN_GPU_POOL_DIR", None)
    pool = default_pool_dir(env)
    try:
        studies = []
        for name in ("a", "b"):
            (tmp_path / name).mkdir()
            command = wrapper(pool, 1, sys.executable, "-c", JOB, str(tmp_path))
            del command[command.index("--dir") : command.index("--dir") + 2]
            studies.append(subprocess.Popen(command, env=env, cwd=tmp_path / name))
            wait_for(lambda: len(started(tmp_path)) == 1)
        time.sleep(0.5)
        assert len(started(tmp_path)) == 1  # the second study waits for the one GPU
        (tmp_path / "go").touch()
        assert [s.wait(timeout=30) for s in studies] == [0, 0]
        assert started(tmp_path) == ["0 0.0", "0 0.0"]
    finally:
        shutil.rmtree(pool)


def test_visible_devices_follow_cuda_visible_devices():
    assert visible_devices({}, count=lambda: 3) == ["0", "1", "2"]
    assert visible_devices({"CUDA_VISIBLE_DEVICES": "3,1"}, count=lambda: 4) == ["3", "1"]
    # CUDA reads the list up to the first device the machine lacks
    assert visible_devices({"CUDA_VISIBLE_DEVICES": "1,7,2"}, count=lambda: 4) == ["1"]
    assert visible_devices({"CUDA_VISIBLE_DEVICES": ""}, count=lambda: 4) == []


def test_more_gpus_than_visible_are_refused_with_the_count_seen(tmp_path):
    with pytest.raises(ConfigError, match=r"gpu=3 asks for 3 GPUs .* shows 2 .*gpu=2 or fewer"):
        pool_devices(3, {"CUDA_VISIBLE_DEVICES": "2,3"}, count=lambda: 4)
    assert pool_devices(2, {"CUDA_VISIBLE_DEVICES": "2,3"}, count=lambda: 4) == ["2", "3"]
    with pytest.raises(ConfigError, match="at least 1 GPU"):
        pool_devices(0, {}, count=lambda: 4)
    done = subprocess.run(
        wrapper(tmp_path, 3, "touch", str(tmp_path / "ran")),
        env=fake_gpus(2),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and not (tmp_path / "ran").exists()
    assert done.stderr.count("\n") == 1 and "shows 2" in done.stderr


def test_a_background_child_of_the_job_does_not_keep_the_slot(tmp_path):
    job = f"sleep 30 & echo $! > {tmp_path}/child"
    done = subprocess.run(wrapper(tmp_path / "pool", 1, "sh", "-c", job), env=fake_gpus(1))
    assert done.returncode == 0
    child = int((tmp_path / "child").read_text())
    try:
        assert alive(child)  # the stray child lives on...
        slot = acquire(tmp_path / "pool", ["0"], timeout_s=0.5)  # ...without the slot
        assert slot.name == "0.0"
    finally:
        os.kill(child, signal.SIGKILL)


def test_a_killed_job_frees_its_slot(tmp_path):
    job = f"echo $$ > {tmp_path}/pid; exec sleep 60"
    pool = subprocess.Popen(wrapper(tmp_path / "pool", 1, "sh", "-c", job), env=fake_gpus(1))
    wait_for(lambda: (tmp_path / "pid").is_file() and (tmp_path / "pid").read_text())
    with pytest.raises(TimeoutError):
        acquire(tmp_path / "pool", ["0"], timeout_s=0.3)
    os.kill(int((tmp_path / "pid").read_text()), signal.SIGKILL)
    assert pool.wait(timeout=10) == 128 + signal.SIGKILL
    assert acquire(tmp_path / "pool", ["0"], timeout_s=2).name == "0.0"


def test_killing_the_pool_wrapper_kills_its_job(tmp_path):
    job = f"echo $$ > {tmp_path}/pid; exec sleep 60"
    pool = subprocess.Popen(wrapper(tmp_path / "pool", 1, "sh", "-c", job), env=fake_gpus(1))
    wait_for(lambda: (tmp_path / "pid").is_file() and (tmp_path / "pid").read_text())
    pid = int((tmp_path / "pid").read_text())
    pool.kill()
    pool.wait(timeout=10)
    wait_for(lambda: not alive(pid), timeout=5)
    assert acquire(tmp_path / "pool", ["0"], timeout_s=2).name == "0.0"


def test_a_whole_gpu_job_takes_every_slot_of_one_device(tmp_path):
    one = acquire(tmp_path, ["0", "1"], 3)
    assert one.name == "0.0"
    whole = acquire(tmp_path, ["0", "1"], 3, whole_gpu=True)  # GPU 0 is not free
    assert whole.name == "1.all"
    others = [acquire(tmp_path, ["0", "1"], 3, timeout_s=0.1) for _ in range(2)]
    assert [s.name for s in others] == ["0.1", "0.2"]
    with pytest.raises(TimeoutError):
        acquire(tmp_path, ["0", "1"], 3, timeout_s=0.1)


def test_a_whole_gpu_job_keeps_jobs_of_any_k_off_its_gpu(tmp_path):
    whole = acquire(tmp_path, ["0"], 1, whole_gpu=True)  # a profile, in a K = 1 pool
    with pytest.raises(TimeoutError):
        acquire(tmp_path, ["0"], 2, timeout_s=0.1)  # a model job of a K = 2 pool
    shared = [acquire(tmp_path, ["1"], 2, timeout_s=0.1) for _ in range(2)]
    with pytest.raises(TimeoutError):  # and a whole-GPU job waits for every shared one
        acquire(tmp_path, ["1"], 4, whole_gpu=True, timeout_s=0.1)
    for slot in (whole, *shared):
        for fd in slot.fds:
            os.close(fd)
    assert acquire(tmp_path, ["0"], 2, timeout_s=0.1).name == "0.0"


def test_deleting_a_held_slots_note_does_not_free_the_slot(tmp_path):
    held = acquire(tmp_path, ["0"], 1)
    note = tmp_path / "cuda0" / "slot0" / "holder"
    assert note.read_text().startswith(f"pid {os.getpid()} ")
    note.unlink()
    with pytest.raises(TimeoutError):
        acquire(tmp_path, ["0"], 1, timeout_s=0.2)
    os.close(held.fds[-1])


def test_a_slot_planted_as_a_link_is_refused_and_its_target_untouched(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    pool = tmp_path / "pool"
    (pool / "cuda0").mkdir(parents=True, mode=0o700)
    (pool / "cuda0" / "slot0").symlink_to(victim)
    with pytest.raises(ConfigError, match=r"slot0 is a link .* remove it"):
        acquire(pool, ["0"], 1, timeout_s=0.1)
    assert victim.read_text() == "precious\n"
    os.chmod(pool, 0o700)
    (pool / "cuda0" / "slot0").unlink()
    (pool / "cuda0" / "slot0").symlink_to(tmp_path, target_is_directory=True)  # a folder, too
    with pytest.raises(ConfigError, match="is a link"):
        acquire(pool, ["0"], 1, timeout_s=0.1)
    assert not (tmp_path / "holder").exists()


def test_a_pool_folder_others_can_write_is_refused_naming_the_fix(tmp_path):
    pool = tmp_path / "pool"
    pool.mkdir()
    pool.chmod(0o777)
    with pytest.raises(ConfigError, match=r"writable by others \(mode 777\).*chmod 700"):
        acquire(pool, ["0"], 1, timeout_s=0.1)
    link = tmp_path / "link"
    link.symlink_to(pool, target_is_directory=True)
    pool.chmod(0o700)
    with pytest.raises(ConfigError, match="is a link or not your own folder"):
        acquire(link, ["0"], 1, timeout_s=0.1)


@pytest.mark.parametrize("k", [0, 65, 10**9])
def test_jobs_per_gpu_out_of_range_is_refused_at_once(tmp_path, k):
    with pytest.raises(ConfigError, match="jobs_per_gpu must be between 1 and 64"):
        acquire(tmp_path, ["0"], k, timeout_s=0.1)
    assert not any(tmp_path.iterdir())


def test_a_read_only_pool_folder_is_one_line_naming_it_and_the_fix(tmp_path, monkeypatch, capsys):
    def refuse(path, *args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setenv("SAGAN_GPU_COUNT", "1")
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.setattr(gpu_pool.os, "open", refuse)
    assert gpu_pool.main(["--gpus", "1", "--dir", str(tmp_path), "--", "true"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"GPU pool folder {tmp_path} is not writable" in err and "SAGAN_GPU_POOL_DIR=" in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to a read-only folder")
def test_a_read_only_pool_folder_for_real(tmp_path):
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(ConfigError, match="not writable"):
            acquire(tmp_path / "pool", ["0"])
    finally:
        tmp_path.chmod(0o700)


def test_the_study_schema_refuses_the_jobs_per_gpu_the_pool_refuses():
    import yaml

    from sagan.schema import check_schema

    study = yaml.safe_load((Path(__file__).parents[1] / "config" / "default.yaml").read_text())
    check_schema({**study, "jobs_per_gpu": gpu_pool.MAX_JOBS_PER_GPU})
    with pytest.raises(ConfigError, match="jobs_per_gpu"):
        check_schema({**study, "jobs_per_gpu": gpu_pool.MAX_JOBS_PER_GPU + 1})
