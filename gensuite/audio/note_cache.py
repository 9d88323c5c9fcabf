"""A persistent cache of generated note waveforms, shared by runs and processes.

``gensuite render --synth gansynth`` plays each distinct (pitch, instrument
latent) of a file once. The same file, or another with the same timbre seed,
needs the same notes again; this cache keeps them on disk so that a later run
reads them instead of loading the model and generating them.

Layout: ``ROOT/<model identity>/<pitch>-<latent digest>.note``, where the
model identity (:func:`identity_of_files`, :func:`identity_of_arrays`) is a
digest of everything a note depends on: the model's weights and config files
and the gensuite version (whose code turns a spectrogram into audio). A file
is an 8-byte magic, a 32-byte BLAKE2b digest of the samples, then the
samples (float32, little-endian).

Concurrency: each file is written to a temporary name and renamed
(:func:`gensuite.common.fileio.atomic_path`), so two runs writing one note
never show a reader half a file; a file that is unreadable, of the wrong
length or whose digest does not match is a miss and is written again.

Size: after a run that wrote notes, the least recently used files (a hit
refreshes a file's time) are removed until the whole cache holds at most
``max_bytes`` (default :data:`DEFAULT_MAX_BYTES`, 2 GiB: about 8,000 notes of
the shipped model, 256 kB each). Deleting the folder clears it at any time.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from collections.abc import Iterable

import numpy as np

from gensuite.common.errors import InputFileError, ParameterError

DEFAULT_MAX_BYTES = 2 * 1024**3
# Changes whenever the file layout or what a note depends on changes.
FORMAT = b"GSNOTE4\n"
_DIGEST_BYTES = 32
_SUFFIX = ".note"
_SAMPLE_DTYPE = np.dtype("<f4")
# Only names of these forms are ever removed, so that a --cache-dir naming a
# folder of the user's own loses nothing but notes.
_MODEL_FOLDER = re.compile(r"^[0-9a-f]{32}$")
_NOTE_FILE = re.compile(r"^\d+-[0-9a-f]{32}\.note$")


def default_cache_dir() -> str:
    """``$XDG_CACHE_HOME/gensuite/notes``, or ``~/.cache/gensuite/notes``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "gensuite", "notes")


def _digest(parts: Iterable[bytes]) -> str:
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        # Length-prefixed, so that ("ab", "c") and ("a", "bc") differ.
        h.update(len(part).to_bytes(8, "little"))
        h.update(part)
    return h.hexdigest()


def identity_of_files(paths: Iterable[str | os.PathLike]) -> str:
    """Identity of a model saved in ``paths`` (weights, config, metadata): a hex digest.

    Reads every byte of each file: a few milliseconds for the shipped model.

    Raises
    ------
    OSError
        A file cannot be read.
    """
    from gensuite import __version__  # noqa: PLC0415

    parts = [FORMAT, __version__.encode()]
    for path in paths:
        with open(path, "rb") as f:
            parts.append(f.read())
    return _digest(parts)


def identity_of_arrays(*, description: bytes, arrays: Iterable[np.ndarray]) -> str:
    """Identity of a model in memory: its ``description`` (config JSON) and weight arrays."""
    from gensuite import __version__  # noqa: PLC0415

    parts = [FORMAT, __version__.encode(), description]
    for array in arrays:
        array = np.ascontiguousarray(array)
        parts += [str((array.dtype.str, array.shape)).encode(), array.tobytes()]
    return _digest(parts)


class NoteCache:
    """Note waveforms of one model under ``root``.

    Parameters
    ----------
    root : str or os.PathLike
        Cache folder, shared by every model (each has its own subfolder);
        created on the first write.
    identity : str
        The model's identity (:func:`identity_of_files` or :func:`identity_of_arrays`).
    n_samples : int
        Samples of every note of this model; a file of another length is a miss.
    max_bytes : int
        Size the whole cache is cut back to after a run that wrote to it.
    """

    def __init__(self, root: str | os.PathLike, *, identity: str, n_samples: int,
                 max_bytes: int = DEFAULT_MAX_BYTES):
        self.root = os.fspath(root)
        self.folder = os.path.join(self.root, identity)
        self.n_samples = int(n_samples)
        self.max_bytes = int(max_bytes)
        self.bytes_written = 0

    def path(self, pitch: int, latent: np.ndarray) -> str:
        """The file of the note (``pitch``, ``latent``), keyed by the latent's exact float32 bytes."""
        data = np.ascontiguousarray(latent, dtype=_SAMPLE_DTYPE).tobytes()
        return os.path.join(self.folder, f"{int(pitch)}-{_digest([data])}{_SUFFIX}")

    def has(self, pitch: int, latent: np.ndarray) -> bool:
        """Whether a file for the note exists (it may still turn out unreadable)."""
        return os.path.isfile(self.path(pitch, latent))

    def get(self, pitch: int, latent: np.ndarray) -> np.ndarray | None:
        """The note's waveform, shape (n_samples,) float32, or None (a miss).

        Missing, truncated, foreign or corrupt files are all misses.
        """
        path = self.path(pitch, latent)
        header = len(FORMAT) + _DIGEST_BYTES
        size = header + self.n_samples * _SAMPLE_DTYPE.itemsize
        try:
            with open(path, "rb") as f:
                data = f.read(size + 1)  # one byte more tells a too-long file
        except OSError:
            return None
        payload = data[header:]
        if (len(data) != size or not data.startswith(FORMAT)
                or hashlib.blake2b(payload, digest_size=_DIGEST_BYTES).digest()
                != data[len(FORMAT):header]):
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # least recently used goes first when the cache is cut back
        return np.frombuffer(payload, dtype=_SAMPLE_DTYPE).astype(np.float32)

    def put(self, pitch: int, latent: np.ndarray, wave: np.ndarray) -> bool:
        """Store the note's waveform (shape (n_samples,)); False if it could not be written.

        A cache that cannot be written (disk full, no permission) slows later
        runs down but never fails this one.
        """
        wave = np.ascontiguousarray(wave, dtype=_SAMPLE_DTYPE)
        if wave.shape != (self.n_samples,):
            raise ParameterError(f"wave: expected shape ({self.n_samples},), got {wave.shape}")
        payload = wave.tobytes()
        digest = hashlib.blake2b(payload, digest_size=_DIGEST_BYTES).digest()
        from gensuite.common.fileio import atomic_path  # noqa: PLC0415

        try:
            with atomic_path(self.path(pitch, latent)) as tmp, open(tmp, "wb") as f:
                f.write(FORMAT + digest + payload)
        except (OSError, InputFileError):
            return False
        self.bytes_written += len(FORMAT) + len(digest) + len(payload)
        return True

    def prune(self) -> int:
        """Cut the whole cache back to ``max_bytes``, least recently used files first.

        Also removes temporary files of writers that were killed. Safe while
        other runs read and write: a file removed under a reader is a miss.

        Returns
        -------
        int
            Files removed.
        """
        from gensuite.common.fileio import remove_orphan_temp_files  # noqa: PLC0415

        entries = []
        with contextlib.suppress(OSError):
            for model in os.scandir(self.root):
                if not (_MODEL_FOLDER.match(model.name) and model.is_dir(follow_symlinks=False)):
                    continue
                remove_orphan_temp_files(model.path)
                with contextlib.suppress(OSError):
                    for entry in os.scandir(model.path):
                        if _NOTE_FILE.match(entry.name):
                            with contextlib.suppress(OSError):
                                stat = entry.stat(follow_symlinks=False)
                                entries.append((stat.st_mtime, stat.st_size, entry.path))
        total = sum(size for _, size, _ in entries)
        removed = 0
        for _, size, path in sorted(entries):
            if total <= self.max_bytes:
                break
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)
                removed += 1
            total -= size
        return removed
