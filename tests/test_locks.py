"""Locks that cannot be turned against files: a link planted where a lock or its note should
be is never written through, and deleting a note while its lock is held frees nothing (the
run lock here; the GPU pool's slots in ``test_gpu_pool.py``)."""

import errno
import fcntl
import os
import stat

import pytest

from sagan import locks
from sagan.errors import ConfigError
from sagan.locks import hold_folder, release
from sagan.train.lock import run_lock


def refused(state) -> bool:
    try:
        with run_lock(state):
            return False
    except ConfigError as err:
        assert f"trained by process {os.getpid()}" in str(err)
        return True


def test_a_second_trainer_is_refused_while_the_first_holds_the_run(tmp_path):
    with run_lock(tmp_path / "state"):
        assert refused(tmp_path / "state")
    assert not refused(tmp_path / "state")  # released on exit


def test_deleting_train_lock_while_held_does_not_free_the_run(tmp_path):
    state = tmp_path / "state"
    with run_lock(state):
        (state / "train.lock").unlink()
        with pytest.raises(ConfigError, match="trained by process unknown"), run_lock(state):
            pass


def test_a_train_lock_planted_as_a_link_is_replaced_not_written_through(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    state = tmp_path / "state"
    state.mkdir()
    (state / "train.lock").symlink_to(victim)
    with run_lock(state):
        assert (state / "train.lock").read_text() == f"{os.getpid()}\n"
        assert not (state / "train.lock").is_symlink()
    assert victim.read_text() == "precious\n"


def test_a_state_folder_that_is_a_link_is_refused(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "state").symlink_to(tmp_path / "real", target_is_directory=True)
    with (
        pytest.raises(ConfigError, match="is a link or not a folder"),
        run_lock(tmp_path / "state"),
    ):
        pass


@pytest.fixture
def no_folder_locks(monkeypatch):
    """A file system that cannot flock folders (NFS): EBADF for a folder's descriptor."""
    flock = fcntl.flock

    def files_only(fd, op):
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise OSError(errno.EBADF, "Bad file descriptor")
        return flock(fd, op)

    monkeypatch.setattr(locks.fcntl, "flock", files_only)


def test_without_folder_locks_a_lock_file_in_the_folder_holds_it(tmp_path, no_folder_locks):
    fd = hold_folder(tmp_path)
    assert fd is not None and (tmp_path / locks.FALLBACK_LOCK).is_file()
    assert hold_folder(tmp_path) is None
    release(fd)
    release(hold_folder(tmp_path))


def test_without_folder_locks_a_linked_lock_file_is_refused(tmp_path, no_folder_locks):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    (tmp_path / "held").mkdir()
    (tmp_path / "held" / locks.FALLBACK_LOCK).symlink_to(victim)
    with pytest.raises(ConfigError, match="is a link or not a regular file"):
        hold_folder(tmp_path / "held")
    (tmp_path / "held" / locks.FALLBACK_LOCK).unlink()
    os.link(victim, tmp_path / "held" / locks.FALLBACK_LOCK)  # a hard link: the same file
    with pytest.raises(ConfigError, match="not a plain file of its own"):
        hold_folder(tmp_path / "held")
    assert victim.read_text() == "precious\n"


def test_without_folder_locks_a_lock_file_replaced_while_locking_is_opened_again(
    tmp_path, no_folder_locks, monkeypatch
):
    # the first lock taken is on a file that is replaced before the name is checked: the
    # holder must end up on the file the name points to now, not the orphan
    path = tmp_path / locks.FALLBACK_LOCK
    stat_ = os.stat
    replaced = []

    def replace_once(p, *args, **kwargs):
        if not replaced:
            replaced.append(True)
            os.unlink(path)
            path.write_text("")
        return stat_(p, *args, **kwargs)

    monkeypatch.setattr(locks.os, "stat", replace_once)
    fd = hold_folder(tmp_path)
    assert (os.fstat(fd).st_ino, replaced) == (stat_(path).st_ino, [True])
    release(fd)
