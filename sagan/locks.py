"""Advisory locks that cannot be turned against files or double-booked.

A lock is an ``flock`` on a *folder*, opened without following links:
- a symlink planted where the folder should be is refused, never written through;
- deleting the holder's note inside the folder does not free the lock (a folder with a file
  in it cannot be removed by accident, and a new one is not made while it stands);
- the kernel drops the lock when its holder dies, however it dies.

Who holds a lock is told by a small note file in the folder, replaced atomically (a rename
replaces a link planted under its name; it never writes through it).

Where a file system does not lock folders (NFS emulates flock with byte-range locks, which a
read-only folder descriptor cannot take), ``hold_folder`` falls back to a lock file inside
the folder, opened without following links and checked to be the file its name still points
to after the lock is taken.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
from pathlib import Path

from sagan.errors import ConfigError
from sagan.io import atomic_write_text

FALLBACK_LOCK = ".lock"  # the lock file where a folder cannot be flocked
NO_FOLDER_LOCKS = (errno.EBADF, errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL)


def hold_folder(folder: str | Path, *, shared: bool = False) -> int | None:
    """An open descriptor holding ``folder``'s lock (exclusive, or ``shared``), or None when
    another process holds it in a conflicting mode. The folder must exist, be a real folder
    (not a link) and belong to this user; else a ConfigError naming it."""
    folder = Path(folder)
    fd = _open(folder, os.O_RDONLY | os.O_DIRECTORY, "a folder")
    _check_owner(fd, folder)
    try:
        fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    except OSError as err:
        os.close(fd)
        if err.errno not in NO_FOLDER_LOCKS:
            raise
        return hold_file(folder / FALLBACK_LOCK, shared=shared)
    return fd


def hold_file(path: str | Path, *, shared: bool = False) -> int | None:
    """The fallback: a lock on a regular file of this user's, created if need be, that is
    still the file ``path`` names once locked (a file deleted or replaced between the open
    and the lock is opened again)."""
    path = Path(path)
    while True:
        fd = _open(path, os.O_RDWR | os.O_CREAT, "a regular file")
        info = os.fstat(fd)
        _check_owner(fd, path)
        if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
            os.close(fd)
            raise ConfigError(
                f"lock {path} is not a plain file of its own (a hard link or a device): "
                "remove it; it is re-made"
            )
        try:
            fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        try:
            now = os.stat(path, follow_symlinks=False)
        except FileNotFoundError:
            now = None
        if now is not None and (now.st_dev, now.st_ino) == (info.st_dev, info.st_ino):
            return fd
        os.close(fd)  # deleted or replaced while we locked it: lock what it names now


def release(fd: int) -> None:
    os.close(fd)  # closing the descriptor drops the lock


def write_note(folder: str | Path, name: str, text: str) -> None:
    """Who holds the folder's lock, for a user who wonders (``cat`` the note)."""
    atomic_write_text(Path(folder) / name, text)


def read_note(folder: str | Path, name: str) -> str:
    """The note's first line, or "unknown"; a link in its place is not followed."""
    try:
        fd = os.open(Path(folder) / name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return "unknown"
    try:
        text = os.read(fd, 200).decode(errors="replace").strip()
    finally:
        os.close(fd)
    return text.splitlines()[0] if text else "unknown"


def _open(path: Path, flags: int, kind: str) -> int:
    try:
        return os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as err:
        if err.errno in (errno.ELOOP, errno.ENOTDIR):
            raise ConfigError(
                f"lock {path} is a link or not {kind}: a lock is never taken through a link; "
                "remove it and run again"
            ) from None
        raise ConfigError(
            f"lock {path} cannot be opened ({err.strerror}): make its folder writable for "
            "you, or move the folder"
        ) from None


def _check_owner(fd: int, path: Path) -> None:
    if os.fstat(fd).st_uid != os.getuid():
        os.close(fd)
        raise ConfigError(
            f"lock {path} belongs to another user: a lock must be your own; remove it, or "
            "use a folder of your own"
        )
