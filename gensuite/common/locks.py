"""One writer per output: a lock on each output path while a command runs.

Two trainers on one run folder would both save checkpoints and log every
metric twice; two commands writing one ``--out`` would interleave their
files. A command therefore holds an exclusive ``flock`` on a small file named
after each output's real path, in the system's temporary folder (nothing is
written beside the user's files, and a failed command leaves nothing behind).
The kernel drops the lock when its process ends, however it ends, so a lock
of a killed command is never stale. The file holds the holder's pid and
command line, which the refusal quotes.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import tempfile
from collections.abc import Iterator

from gensuite.common.errors import InputFileError

LOCK_FOLDER = "gensuite-locks"


def lock_file_for(path: str | os.PathLike) -> str:
    """The lock file of an output path (the same for every spelling of it)."""
    real = os.path.realpath(os.fspath(path))
    digest = hashlib.sha256(real.encode("utf-8", "surrogateescape")).hexdigest()[:24]
    return os.path.join(tempfile.gettempdir(), LOCK_FOLDER, f"{digest}.lock")


@contextlib.contextmanager
def output_lock(path: str | os.PathLike, *, flag: str, holder: str) -> Iterator[None]:
    """Hold the lock of output ``path`` for the block.

    Parameters
    ----------
    path : str or os.PathLike
        The output (file or folder; it need not exist).
    flag : str
        The option that named it, for the message (``--run-dir``, ``--out``).
    holder : str
        What this process is doing (e.g. ``gensuite vae train``), recorded for
        the message a second writer gets.

    Raises
    ------
    InputFileError
        Another live process holds the lock; the message gives its pid.
    """
    lock_path = lock_file_for(path)
    os.makedirs(os.path.dirname(lock_path), exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            other = os.pread(fd, 512, 0).decode("utf-8", "replace").strip() or "another process"
            raise InputFileError(
                path, f"{flag} is in use by {other}; wait for it to end or choose another "
                      f"{flag}") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} ({holder})".encode(), 0)
        yield
    finally:
        # Closing releases the lock. The file stays: unlinking it would let a
        # third process lock a new file while a second still holds the old one.
        os.close(fd)
