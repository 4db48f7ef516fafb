"""A machine-wide pool of GPU slots: each job gets one GPU (shared by at most K jobs).

Snakemake's ``--resources gpu=N`` caps how many GPU jobs run at once but does not say which
GPU each should use. The pool has K slots on each of the first N visible GPUs. Each device
has a folder, named by the device (so pools of other studies, other ``CUDA_VISIBLE_DEVICES``
or other K on this machine see the same locks), with a folder per slot in it; the locks are
``sagan.locks`` folder locks (no link is followed, deleting a note frees nothing). A job
holds its device folder shared and its slot folder exclusive; a whole-GPU job (one that
times itself) holds the device folder exclusive, so nothing shares its GPU, whatever K the
other jobs were given. A job runs under a small wrapper process that takes a free slot
without blocking, starts the job as its child with ``CUDA_VISIBLE_DEVICES`` set to the
slot's one device, waits for it and exits with its code:

    python -m sagan.gpu_pool --gpus 2 --jobs-per-gpu 3 -- python -m sagan.cli train ...

Only the wrapper holds the lock (its descriptor is close-on-exec), so the slot is freed when
the job ends, however it ends, even if it left a background child behind. If the wrapper is
killed, the kernel frees its lock and kills the job (Linux: PR_SET_PDEATHSIG).

The folder is machine-wide: $SAGAN_GPU_POOL_DIR, else /tmp/sagan-gpu-pool-<user>; it must be
the user's own and writable by no one else (in a shared /tmp, another user could otherwise
plant links or hold the slots). The GPUs
present are counted by ``nvidia-smi -L`` (else torch, in a child process);
$SAGAN_GPU_COUNT overrides that count (tests, or a box without nvidia-smi).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import getpass
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from sagan.errors import ConfigError
from sagan.locks import hold_folder, release, write_note

POOL_DIR_ENV = "SAGAN_GPU_POOL_DIR"
GPU_COUNT_ENV = "SAGAN_GPU_COUNT"
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def default_pool_dir(env: Mapping[str, str] = os.environ) -> Path:
    """The machine-wide pool folder: the same for every study and working folder of a user.
    Fixed /tmp, not $TMPDIR: cluster jobs and some logins set their own."""
    if env.get(POOL_DIR_ENV):
        return Path(env[POOL_DIR_ENV]).expanduser().absolute()
    user = next((env[k] for k in ("LOGNAME", "USER") if env.get(k)), None)
    return Path("/tmp") / f"sagan-gpu-pool-{user or getpass.getuser()}"


def count_gpus(env: Mapping[str, str] = os.environ) -> int:
    """GPUs the driver would show this process, before CUDA_VISIBLE_DEVICES picks among
    them; torch runs in a child so that the wrapper stays small for a job's whole life."""
    if env.get(GPU_COUNT_ENV):
        return int(env[GPU_COUNT_ENV])
    if shutil.which("nvidia-smi"):
        listed = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True)
        if listed.returncode == 0:
            return sum(line.startswith("GPU ") for line in listed.stdout.splitlines())
    clean = {k: v for k, v in env.items() if k != "CUDA_VISIBLE_DEVICES"}
    torch_count = subprocess.run(
        [sys.executable, "-c", "import torch; print(torch.cuda.device_count())"],
        capture_output=True,
        text=True,
        env=clean,
    )
    return int(torch_count.stdout.strip() or 0) if torch_count.returncode == 0 else 0


def visible_devices(
    env: Mapping[str, str] = os.environ, count: Callable[[], int] | None = None
) -> list[str]:
    """The devices a job may be given, as CUDA_VISIBLE_DEVICES names them: the user's list
    (up to the first index the machine lacks, where CUDA stops reading it), else 0 .. n-1."""
    present = count() if count else count_gpus(env)
    listed = env.get("CUDA_VISIBLE_DEVICES")
    if listed is None:
        return [str(i) for i in range(present)]
    devices = []
    for name in (d.strip() for d in listed.split(",") if d.strip()):
        if name.lstrip("-").isdigit() and not 0 <= int(name) < present:
            break
        devices.append(name)
    return devices


def pool_devices(gpus: int, env: Mapping[str, str] = os.environ, count=None) -> list[str]:
    """The first ``gpus`` visible devices; a ConfigError when fewer are visible."""
    if gpus < 1:
        raise ConfigError(f"a GPU pool needs at least 1 GPU, got {gpus}: give --resources gpu=N")
    devices = visible_devices(env, count)
    if gpus > len(devices):
        shown = env.get("CUDA_VISIBLE_DEVICES")
        where = f"CUDA_VISIBLE_DEVICES={shown}" if shown is not None else "nvidia-smi -L"
        fix = (
            f"give --resources gpu={len(devices)} or fewer"
            if devices
            else "run without --resources gpu (CPU) or where GPUs are visible"
        )
        raise ConfigError(
            f"--resources gpu={gpus} asks for {gpus} GPUs but this machine shows"
            f" {len(devices)} ({where}): {fix}"
        )
    return devices[:gpus]


MAX_JOBS_PER_GPU = 64  # more processes than this on one GPU is a typo, not a plan


def check_folder(folder: str | Path) -> Path:
    """The pool folder, made if need be; a ConfigError naming it when it is not writable,
    not a real folder of this user's, or writable by others."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        info = folder.lstat()
        probe = folder / f".probe-{os.getpid()}"
        os.close(os.open(probe, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600))
        probe.unlink()
    except OSError as err:
        raise ConfigError(
            f"GPU pool folder {folder} is not writable ({err.strerror}): set"
            f" {POOL_DIR_ENV}=/a/writable/folder or --config gpu_pool_dir=/a/writable/folder"
        ) from None
    fix = f"set {POOL_DIR_ENV} (or --config gpu_pool_dir) to a folder of your own"
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        raise ConfigError(f"GPU pool folder {folder} is a link or not your own folder: {fix}")
    if info.st_mode & 0o022:
        raise ConfigError(
            f"GPU pool folder {folder} is writable by others (mode {stat.S_IMODE(info.st_mode):o}):"
            f" another user could plant links or hold its slots; chmod 700 it, or {fix}"
        )
    return folder


@dataclass
class Slot:
    """A slot held by this process: its device, its name (device.k) and its locks."""

    device: str
    name: str
    fds: list[int]


def _made(path: Path) -> Path:
    """``path`` made as a folder of this user's if nothing is there; something else there
    (a link, a file) is left for ``hold_folder`` to refuse by name."""
    with contextlib.suppress(FileExistsError):
        path.mkdir(mode=0o700)
    return path


def _try_slot(folder: Path, device: str, k: int | None) -> Slot | None:
    """Slot k of ``device`` (None: the whole device), held, or None where it is taken."""
    gpu = _made(folder / f"cuda{device.replace('/', '_')}")
    whole = k is None
    device_fd = hold_folder(gpu, shared=not whole)
    if device_fd is None:
        return None
    if whole:
        write_note(gpu, "holder", _holder())
        return Slot(device, f"{device}.all", [device_fd])
    slot = _made(gpu / f"slot{k}")
    slot_fd = hold_folder(slot)
    if slot_fd is None:
        release(device_fd)
        return None
    write_note(slot, "holder", _holder())
    return Slot(device, f"{device}.{k}", [device_fd, slot_fd])


def _holder() -> str:
    return f"pid {os.getpid()} in {os.getcwd()}\n"


def acquire(
    folder: str | Path,
    devices: list[str],
    jobs_per_gpu: int = 1,
    *,
    whole_gpu: bool = False,
    timeout_s: float = 7 * 86400.0,
) -> Slot:
    """A free slot, waiting until one is. Slots fill the devices in turn (one job on each
    before a second on any). ``whole_gpu``: a whole device, for a job that times itself
    (nothing beside it on its GPU, whatever K other jobs use)."""
    if not 1 <= jobs_per_gpu <= MAX_JOBS_PER_GPU:
        raise ConfigError(
            f"jobs_per_gpu must be between 1 and {MAX_JOBS_PER_GPU}, got {jobs_per_gpu}"
        )
    folder = check_folder(folder)
    deadline = time.monotonic() + timeout_s
    tries = [None] if whole_gpu else range(jobs_per_gpu)
    while True:
        for k in tries:
            for device in devices:
                if (slot := _try_slot(folder, device, k)) is not None:
                    return slot
        if time.monotonic() > deadline:
            raise TimeoutError(f"no free GPU slot in {folder} after {timeout_s:.0f} s")
        time.sleep(0.1)


def _die_with(parent: int) -> Callable[[], None]:
    """A preexec_fn: the child gets SIGKILL when the wrapper dies (Linux), even before
    it could forward a signal (the wrapper SIGKILLed)."""

    def arm() -> None:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):
            return  # not Linux: the job outlives a killed wrapper
        if os.getppid() != parent:  # the wrapper died before prctl took effect
            os.kill(os.getpid(), signal.SIGKILL)

    return arm


def run_in_slot(command: list[str], device: str, slot: str) -> int:
    """Run ``command`` on ``device`` as a child, forward stop signals to it, return its exit
    code (128 + signal when a signal ended it, as a shell reports it)."""
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": device, "SAGAN_GPU_SLOT": slot}
    job = subprocess.Popen(command, env=env, preexec_fn=_die_with(os.getpid()))
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda signum, frame: job.send_signal(signum))
    code = job.wait()
    return 128 - code if code < 0 else code


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m sagan.gpu_pool", description=__doc__)
    p.add_argument("--gpus", type=int, required=True, help="N: the first N visible GPUs")
    p.add_argument("--jobs-per-gpu", type=int, default=1, help="K: jobs sharing one GPU")
    p.add_argument("--dir", help=f"the pool's folder (default: {default_pool_dir()})")
    p.add_argument("--whole-gpu", action="store_true", help="take all K slots of one GPU")
    p.add_argument("command", nargs=argparse.REMAINDER, help="-- then the command to run")
    args = p.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        p.error("give the command to run after --")
    folder = Path(args.dir) if args.dir else default_pool_dir()
    try:
        devices = pool_devices(args.gpus)
        slot = acquire(folder, devices, args.jobs_per_gpu, whole_gpu=args.whole_gpu)
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"gpu_pool: GPU {slot.device}, slot {slot.name} of {folder}", file=sys.stderr)
    sys.stderr.flush()
    return run_in_slot(command, slot.device, slot.name)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
