"""Checks of what the studio is sent: sizes, MIDI headers, zip members.

Every rejection is an :class:`UploadError` carrying the HTTP status to answer
with and a one-line reason; nothing is written before a check passes, and
nothing is ever written outside the folder given.
"""

from __future__ import annotations

import os
import posixpath
import zipfile

from gensuite.common.errors import GensuiteError
from gensuite.common.fileio import write_bytes_atomic
from gensuite.midi.io import MIDI_SUFFIXES

MAX_MIDI_BYTES = 2 * 1024 * 1024
MAX_ZIP_BYTES = 50 * 1024 * 1024
MAX_ZIP_MIDI_FILES = 500
MAX_ZIP_MEMBERS = 2000  # every entry, folders and skipped files included
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024  # a zip bomb stops here


class UploadError(GensuiteError):
    """An upload refused: ``status`` is the HTTP status (413 too large, 415 wrong type, 400)."""

    def __init__(self, message: str, *, status: int = 400):
        super().__init__(message)
        self.status = status


def check_size(n_bytes: int, *, limit: int, what: str) -> None:
    """Refuse ``n_bytes`` over ``limit`` (HTTP 413)."""
    if n_bytes > limit:
        raise UploadError(f"{what}: over the limit of {limit // (1024 * 1024)} MB "
                          f"({n_bytes:,} bytes)", status=413)


def check_midi_bytes(data: bytes, *, name: str) -> None:
    """Refuse what is not a Standard MIDI File of at most ``MAX_MIDI_BYTES`` (413/415)."""
    check_size(len(data), limit=MAX_MIDI_BYTES, what=name)
    if not data.startswith(b"MThd"):
        raise UploadError(f"{name}: not a MIDI file (no 'MThd' header)", status=415)


def _member_path(name: str) -> str | None:
    """The relative path a zip member unpacks to, or None when it would leave the folder."""
    normal = posixpath.normpath(name.replace("\\", "/"))
    if (normal.startswith(("/", "../")) or normal == ".." or ":" in normal.split("/")[0]
            or "\x00" in normal):
        return None
    return normal


def extract_midi_zip(zip_path: str, out_dir: str, *, name: str) -> list[str]:
    """Unpack the MIDI files of a zip into ``out_dir``; every member is checked first.

    Parameters
    ----------
    zip_path : str
        The uploaded zip (already within its size limit).
    out_dir : str
        New folder receiving the ``.mid``/``.midi`` members; other members are skipped.
    name : str
        The upload's name in messages.

    Returns
    -------
    list of str
        The paths written.

    Raises
    ------
    UploadError
        Not a zip (415); a member whose path leaves the folder (zip-slip), too
        many members or MIDI files, too many unpacked bytes, no MIDI file, or a
        member that is not MIDI (400).
    """
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError):
        raise UploadError(f"{name}: not a zip file", status=415) from None
    with archive:
        members = archive.infolist()
        if len(members) > MAX_ZIP_MEMBERS:
            raise UploadError(f"{name}: {len(members):,} entries, over the limit of "
                              f"{MAX_ZIP_MEMBERS:,}")
        chosen = []
        for member in members:
            path = _member_path(member.filename)
            if path is None:
                raise UploadError(f"{name}: member {member.filename!r} would be written "
                                  f"outside the upload's folder")
            if not member.is_dir() and path.lower().endswith(MIDI_SUFFIXES):
                chosen.append((member, path))
        if not chosen:
            raise UploadError(f"{name}: holds no .mid or .midi file")
        if len(chosen) > MAX_ZIP_MIDI_FILES:
            raise UploadError(f"{name}: {len(chosen):,} MIDI files, over the limit of "
                              f"{MAX_ZIP_MIDI_FILES:,}")
        total = sum(member.file_size for member, _ in chosen)
        if total > MAX_UNZIPPED_BYTES:
            raise UploadError(f"{name}: unpacks to {total:,} bytes, over the limit of "
                              f"{MAX_UNZIPPED_BYTES // (1024 * 1024)} MB")
        root = os.path.realpath(out_dir)
        written = []
        for member, path in chosen:
            target = os.path.realpath(os.path.join(root, *path.split("/")))
            if os.path.commonpath([root, target]) != root:  # belt and braces
                raise UploadError(f"{name}: member {member.filename!r} would be written "
                                  f"outside the upload's folder")
            # The header said file_size; read one byte more so a lying header cannot
            # unpack more than the limits allow.
            with archive.open(member) as f:
                data = f.read(MAX_MIDI_BYTES + 1)
            check_midi_bytes(data, name=f"{name}: {path}")
            write_bytes_atomic(target, data)
            written.append(target)
    return written
