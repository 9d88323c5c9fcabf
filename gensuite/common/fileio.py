"""Atomic file writing shared by every command that writes output.

A reader never sees a half-written file: output goes to a temporary name in
the destination folder and is renamed over the final name only once complete.
A temporary name carries its writer's process id, so that a later command
writing the same output can remove what a killed writer left (``kill -9`` runs
no cleanup) without touching a live writer's file.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator

from gensuite.common.errors import InputFileError

_IS_A_FOLDER = "is a folder; expected a file path"


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, suffix: str = ".tmp") -> Iterator[str]:
    """Yield a temporary path that replaces ``path`` when the block succeeds.

    Parameters
    ----------
    path : str or os.PathLike
        Final destination. Its parent folder is created if needed.
    suffix : str
        Ending of the temporary name, for writers that insist on one
        (Keras weights must end in ``.weights.h5``).

    Yields
    ------
    str
        A path in the same folder (so the final rename is atomic). If the block
        raises, the temporary file is removed and ``path`` is left untouched.

    Raises
    ------
    InputFileError
        ``path`` is an existing folder (checked before the block runs, and
        again at the rename), or its folder cannot be written.
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        raise InputFileError(path, _IS_A_FOLDER)
    folder = os.path.dirname(os.path.abspath(path))
    prefix = f".{os.path.basename(path)}."
    try:
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f"{prefix}{os.getpid()}-", suffix=suffix)
    except OSError as exc:
        raise InputFileError(path, f"cannot write here ({exc.strerror})") from exc
    os.close(fd)
    try:
        yield tmp
        # mkstemp makes the file private (0600); output gets the usual mode.
        os.chmod(tmp, 0o666 & ~_current_umask())
        try:
            os.replace(tmp, path)
        except IsADirectoryError:  # the folder appeared while the block ran
            raise InputFileError(path, _IS_A_FOLDER) from None
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


def check_writable(path: str | os.PathLike, *, flag: str) -> None:
    """Raise InputFileError unless ``path`` can be written or created.

    Checked before any work, so that a run does not fail at its first save.
    Whether ``path`` should be a file or a folder is the command's to check.
    """
    path = os.fspath(path)
    target = os.path.abspath(path)
    while not os.path.lexists(target):
        target = os.path.dirname(target)
    if target != os.path.abspath(path) and not os.path.isdir(target):
        raise InputFileError(path, f"{flag} cannot be created: {target} is a file, not a folder")
    if not os.access(target, os.W_OK | (os.X_OK if os.path.isdir(target) else 0)):
        raise InputFileError(path, f"{flag} cannot be written: no permission to write in "
                                   f"{target}")


# ".NAME.{pid}-{8 random characters from mkstemp}{suffix}": what atomic_path creates,
# with the suffixes its callers pass; nothing else is ever removed.
_TEMP_NAME = re.compile(r"^\..+\.(\d+)-[a-z0-9_]{8}(\.tmp|\.wav|\.png|\.npz|\.weights\.h5)$")
# Outputs write at most two folders deep (RUN/export/bottom); a folder named by
# mistake (a home folder) is not searched further.
_MAX_DEPTH = 2


def remove_orphan_temp_files(path: str | os.PathLike) -> list[str]:
    """Remove the temporary files that dead writers left for an output.

    Parameters
    ----------
    path : str or os.PathLike
        An output file (its folder is searched for its temporary names) or
        folder (searched two levels deep). Nothing happens if it does not exist.

    Returns
    -------
    list of str
        The paths removed: those of :func:`atomic_path` whose process is gone.
    """
    path = os.path.abspath(os.fspath(path))
    if os.path.isdir(path):
        candidates = []
        for root, folders, names in os.walk(path):
            candidates += [(root, name) for name in names]
            depth = 0 if root == path else os.path.relpath(root, path).count(os.sep) + 1
            if depth >= _MAX_DEPTH:
                folders.clear()
    else:
        folder, base = os.path.split(path)
        prefix = f".{base}."
        candidates = [(folder, name) for name in _list_folder(folder)
                      if name.startswith(prefix)]
    removed = []
    for folder, name in candidates:
        match = _TEMP_NAME.match(name)
        if match and not _is_running(int(match.group(1))):
            with contextlib.suppress(FileNotFoundError):
                os.remove(os.path.join(folder, name))
                removed.append(os.path.join(folder, name))
    return removed


def _list_folder(folder: str) -> list[str]:
    try:
        return os.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return []


def _is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_path`)."""
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        f.write(data)


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_array_cache(run_dir: str | os.PathLike, *, arrays_file: str, summary_file: str,
                      arrays: dict, summary: dict) -> None:
    """Cache arrays of a run: ``RUN/arrays_file`` (npz), then ``RUN/summary_file`` (JSON).

    Both are written atomically and the JSON last, so its presence marks a
    complete cache.
    """
    import json  # noqa: PLC0415

    import numpy as np  # noqa: PLC0415

    with atomic_path(os.path.join(run_dir, arrays_file)) as tmp, open(tmp, "wb") as f:
        np.savez_compressed(f, **arrays)
    write_text_atomic(os.path.join(run_dir, summary_file), json.dumps(summary, indent=2) + "\n")


def read_array_cache(run_dir: str | os.PathLike, *, arrays_file: str, summary_file: str,
                     build, what: str):
    """``build(summary, arrays)`` from a cache of :func:`write_array_cache`, or None without one.

    Raises
    ------
    InputFileError
        The cache exists but cannot be read (or ``build`` misses a key in it);
        the message says to delete it, so that the data are made again.
    """
    import json  # noqa: PLC0415

    import numpy as np  # noqa: PLC0415

    summary_path = os.path.join(run_dir, summary_file)
    arrays_path = os.path.join(run_dir, arrays_file)
    if not (os.path.isfile(summary_path) and os.path.isfile(arrays_path)):
        return None
    try:
        with open(summary_path, encoding="utf-8") as f:
            summary = json.load(f)
        with np.load(arrays_path) as arrays:
            return build(summary, arrays)
    except (OSError, ValueError, KeyError) as exc:
        raise InputFileError(arrays_path, f"unreadable {what} ({exc}); delete it to rebuild "
                                          f"it from the source") from exc
