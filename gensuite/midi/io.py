"""MIDI files <-> NoteSequence protos, and folder ingest into a TFRecord.

The TFRecord holds serialized ``note_seq.NoteSequence`` protos with ``id``,
``filename`` and ``collection_name`` set exactly as Magenta's
``convert_dir_to_note_sequences`` set them, so files written here feed
Magenta-era tools and vice versa.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import time
import warnings
from collections.abc import Iterator, Sequence

from gensuite.common.beam import LOCAL, Converted
from gensuite.common.errors import (InputFileError, InvalidMidiError, ParameterError,
                                    check_input_file)
from gensuite.common.fileio import atomic_path, write_text_atomic
from gensuite.common.parallel import map_in_processes
from gensuite.common.tfrecord import read_messages, write_records
from gensuite.midi.proto import NoteSequence
from gensuite.midi.smf import smf_to_sequence

MIDI_SUFFIXES = (".mid", ".midi")
# Past these a file is "absurd": it would stall training and is almost always
# a generator bug or a corrupt delta time, not music.
MAX_NOTES = 100_000
MAX_DURATION_SECONDS = 6 * 3600.0


def find_midi_files(midi_dir: str | os.PathLike) -> list[str]:
    """List the MIDI files under a folder, recursively.

    Parameters
    ----------
    midi_dir : str or os.PathLike
        Folder to search. Files ending in ``.mid`` or ``.midi`` (any case)
        count; hidden files and folders are ignored.

    Returns
    -------
    list of str
        Paths, sorted, so that runs are reproducible.

    Raises
    ------
    InputFileError
        If ``midi_dir`` does not exist or is not a folder.
    """
    midi_dir = os.fspath(midi_dir)
    if not os.path.exists(midi_dir):
        raise InputFileError(midi_dir, "no such folder")
    if not os.path.isdir(midi_dir):
        raise InputFileError(midi_dir, "is not a folder")
    found = []
    for root, dirs, files in os.walk(midi_dir):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(
            os.path.join(root, f) for f in files
            if not f.startswith(".") and f.lower().endswith(MIDI_SUFFIXES))
    return sorted(found)


def midi_bytes_to_sequence(
    data: bytes,
    *,
    path: str = "<bytes>",
    max_notes: int = MAX_NOTES,
) -> NoteSequence:
    """Parse MIDI bytes into a NoteSequence, rejecting unusable files.

    The result is what ``note_seq.midi_to_note_sequence`` gives for
    ``pretty_midi.PrettyMIDI`` of the bytes. The fast reader
    :func:`gensuite.midi.smf.smf_to_sequence` makes it; files that reader
    declines go through pretty_midi itself, which also decides the error for
    a broken file.

    Parameters
    ----------
    data : bytes
        Content of a Standard MIDI File.
    path : str
        Name used in error messages.
    max_notes : int
        Files with more notes are rejected as absurd.

    Raises
    ------
    InvalidMidiError
        If the data is empty, not MIDI, corrupt, holds no notes, or is absurd.
    """
    if not data:
        raise InvalidMidiError(path, "empty file (0 bytes)")
    if not data.startswith(b"MThd"):
        raise InvalidMidiError(path, "not a MIDI file (no 'MThd' header)")
    try:
        sequence = smf_to_sequence(data=data)
    except Exception:  # noqa: BLE001 - any doubt, even a bug here: pretty_midi decides
        sequence = None
    if sequence is None:
        sequence = _pretty_midi_to_sequence(data, path=path)
    n_notes = len(sequence.notes)
    if n_notes == 0:
        raise InvalidMidiError(path, "contains no notes")
    if n_notes > max_notes:
        raise InvalidMidiError(
            path, f"absurd: {n_notes} notes, over the limit of {max_notes}")
    if sequence.total_time > MAX_DURATION_SECONDS:
        raise InvalidMidiError(
            path, f"absurd: lasts {sequence.total_time:.0f} s, over the limit "
                  f"of {MAX_DURATION_SECONDS:.0f} s")
    return sequence


def _pretty_midi_to_sequence(data: bytes, *, path: str) -> NoteSequence:
    """The reference path: pretty_midi, then note_seq; errors as InvalidMidiError."""
    import note_seq  # noqa: PLC0415  (slow to import: see gensuite.midi.proto)
    import pretty_midi  # noqa: PLC0415

    try:
        with warnings.catch_warnings():
            # pretty_midi warns about meta events on non-zero tracks, which is
            # common in real files and harmless.
            warnings.simplefilter("ignore")
            midi = pretty_midi.PrettyMIDI(io.BytesIO(data))
            return note_seq.midi_to_note_sequence(midi)
    except EOFError as exc:
        raise InvalidMidiError(path, "truncated MIDI (data ends inside a track)") from exc
    except Exception as exc:  # parsers raise anything from KeyError to OSError
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InvalidMidiError(path, f"corrupt MIDI ({detail})") from exc


def read_midi(path: str | os.PathLike, *, max_notes: int = MAX_NOTES) -> NoteSequence:
    """Read a MIDI file into a NoteSequence.

    ``filename`` is set to the file's base name.

    Raises
    ------
    InputFileError
        If the path is missing or a folder.
    InvalidMidiError
        If the file is not usable MIDI (see :func:`midi_bytes_to_sequence`).
    """
    path = check_input_file(path, missing="no such file", expected="a MIDI file")
    with open(path, "rb") as f:
        data = f.read()
    sequence = midi_bytes_to_sequence(data, path=path, max_notes=max_notes)
    sequence.filename = os.path.basename(path)
    return sequence


def write_midi(sequence: NoteSequence, path: str | os.PathLike) -> None:
    """Write a NoteSequence as a Standard MIDI File, atomically."""
    import note_seq  # noqa: PLC0415

    with atomic_path(path) as tmp:
        note_seq.sequence_proto_to_midi_file(sequence, tmp)


def note_sequence_id(filename: str, collection_name: str, source_type: str = "midi") -> str:
    """Magenta's sequence id: ``/id/<type>/<collection>/<sha1 of filename>``."""
    digest = hashlib.sha1(filename.encode("utf-8")).hexdigest()
    return f"/id/{source_type.lower()}/{collection_name}/{digest}"


@dataclasses.dataclass
class IngestReport:
    """What :func:`ingest_midi_dir` read and skipped."""

    midi_dir: str
    output: str
    n_files: int
    n_read: int
    n_notes: int
    seconds: float
    skipped: list[dict[str, str]]  # {"file": relative path, "reason": rule broken}

    @property
    def n_skipped(self) -> int:
        return len(self.skipped)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self) | {"n_skipped": self.n_skipped}, indent=2)


def _convert_one(args: tuple[str, str, str, int]) -> tuple[str, bytes | None, int, str]:
    """Worker: one file -> (relative path, serialized proto or None, notes, reason)."""
    path, root, collection, max_notes = args
    relpath = os.path.relpath(path, root)
    try:
        sequence = read_midi(path, max_notes=max_notes)
    except (InputFileError, OSError) as exc:
        return relpath, None, 0, getattr(exc, "rule", str(exc))
    sequence.collection_name = collection
    sequence.filename = relpath
    sequence.id = note_sequence_id(relpath, collection)
    return relpath, sequence.SerializeToString(), len(sequence.notes), ""


def ingest_midi_dir(
    midi_dir: str | os.PathLike,
    out_path: str | os.PathLike,
    *,
    report_path: str | os.PathLike | None = None,
    num_workers: int | None = None,
    max_notes: int = MAX_NOTES,
    progress: bool = False,
    runner: str = LOCAL,
    num_shards: int = 1,
    pipeline_args: Sequence[str] = (),
) -> IngestReport:
    """Read every MIDI file under a folder into a TFRecord of NoteSequences.

    Files that cannot be used are skipped and listed in the report with the
    rule they broke; they never stop the run. The TFRecord and the report are
    written atomically. The local pool writes records in file order; a Beam
    runner writes the same records in the order its workers finish.

    Parameters
    ----------
    midi_dir : str or os.PathLike
        Folder searched recursively (see :func:`find_midi_files`).
    out_path : str or os.PathLike
        TFRecord file to write.
    report_path : str or os.PathLike, optional
        Where to write the :class:`IngestReport` as JSON.
    num_workers : int, optional
        Parallel processes; default: every core.
    max_notes : int
        Files with more notes are skipped as absurd.
    progress : bool
        Show a progress bar on stderr (local pool only).
    runner : str
        ``"local"`` (this machine's process pool) or a Beam runner name
        (:mod:`gensuite.common.beam`).
    num_shards : int
        Beam runners: 1 writes ``out_path`` itself; N writes
        ``out_path-00000-of-0000N`` ... (readers take the prefix); 0 lets the
        runner choose.
    pipeline_args : sequence of str
        Beam pipeline options, passed through.

    Raises
    ------
    InputFileError
        If ``midi_dir`` is missing, not a folder, or holds no MIDI files, or
        none of its files could be read (nothing is written then, with
        one output file).
    """
    started = time.perf_counter()
    midi_dir = os.path.normpath(os.fspath(midi_dir))
    paths = find_midi_files(midi_dir)
    if not paths:
        raise InputFileError(midi_dir, "holds no .mid or .midi files")
    collection = os.path.basename(os.path.abspath(midi_dir))
    jobs = [(p, midi_dir, collection, max_notes) for p in paths]

    def make_report(n_read, n_notes, skipped):
        return IngestReport(
            midi_dir=midi_dir, output=os.fspath(out_path), n_files=len(paths),
            n_read=n_read, n_notes=n_notes,
            seconds=round(time.perf_counter() - started, 3), skipped=skipped)

    if runner != LOCAL:
        return _ingest_with_beam(jobs, out_path, make_report, report_path=report_path,
                                 runner=runner, num_shards=num_shards,
                                 num_workers=num_workers, pipeline_args=pipeline_args)
    if num_shards != 1:
        raise ParameterError(f"--num-shards: the local pool writes one file; shards need a "
                             f"Beam runner, got {num_shards}")
    skipped, n_read, n_notes = [], 0, 0
    with map_in_processes(_convert_one, jobs, num_workers=num_workers, progress=progress,
                          desc="ingest") as results:
        with atomic_path(out_path) as tmp, open(tmp, "wb") as writer:
            for relpath, record, notes, reason in results:
                if record is None:
                    skipped.append({"file": relpath, "reason": reason})
                    continue
                write_records(writer, [record])
                n_read += 1
                n_notes += notes
            report = make_report(n_read, n_notes, skipped)
            _finish_ingest(report, report_path)
    return report


def _finish_ingest(report: IngestReport, report_path) -> None:
    """Write the report; InputFileError if nothing was read.

    Called inside the output's atomic block: an empty TFRecord would only
    fail later, far from its cause, and must not replace old output.
    """
    if report_path is not None:
        write_text_atomic(report_path, report.to_json() + "\n")
    if report.n_read == 0:
        first = report.skipped[0]
        raise InputFileError(
            report.midi_dir, f"none of its {report.n_files} MIDI files could be read "
                             f"(e.g. {first['file']}: {first['reason']})")


def _convert_for_beam(job) -> Converted:
    relpath, record, notes, reason = _convert_one(job)
    if record is None:
        return Converted(reports=({"file": relpath, "reason": reason},))
    return Converted(records=(record,), counts={"notes": notes})


def _ingest_with_beam(jobs, out_path, make_report, *, report_path, runner, num_shards,
                      num_workers, pipeline_args) -> IngestReport:
    """:func:`ingest_midi_dir` on a Beam runner (same records, same report)."""
    from gensuite.common.beam import run_records_pipeline  # noqa: PLC0415

    def run(path):
        outcome = run_records_pipeline(
            _convert_for_beam, jobs, out_path=path, runner=runner, num_shards=num_shards,
            num_workers=num_workers, pipeline_args=pipeline_args)
        report = make_report(outcome.n_records, outcome.counts.get("notes", 0), outcome.reports)
        _finish_ingest(report, report_path)
        return report

    if num_shards == 1 and "://" not in os.fspath(out_path):
        with atomic_path(out_path) as tmp:
            return run(tmp)
    return run(os.fspath(out_path))


def read_tfrecord(path: str | os.PathLike) -> Iterator[NoteSequence]:
    """Yield the NoteSequences stored in a TFRecord file.

    Raises
    ------
    InputFileError
        If the file is missing or empty, or a record is corrupt or not a
        NoteSequence (:func:`gensuite.common.tfrecord.read_messages`).
    """
    yield from read_messages(path, NoteSequence)
