"""MIDI folders, NoteSequence TFRecords and primers -> MelodyRNN melody events.

The data side of ``gensuite rnn``::

    MIDI dir | TFRecord --(read; unreadable files skipped and listed)--> NoteSequences
        --(split by a hash of each file name)--> training | held-out sequences
        --(extract_melody_events: Magenta's melody_rnn_pipeline)--> event arrays
        --> RUN/melodies.npz + RUN/melodies.json (cache: a resumed run does not
            read the folder again)
    --primer-melody text | --primer-midi file --> primer events

Choices a newcomer must know:

* Extraction is Magenta's ``melody_rnn_pipeline``: each sequence is cut on
  tempo / meter changes, quantized (``steps_per_quarter``), its melodies
  extracted (``min_bars``, truncated to ``max_steps``, ``min_unique_pitches``,
  ``gap_bars``, polyphonic tracks skipped unless ``ignore_polyphonic_notes``)
  and squashed to C within ``[min_note, max_note)``. A melody is an int64
  event array: -2 no event, -1 note-off, 0-127 note-on.
* The split is by sequence, on a stable hash of its name (the path relative
  to the folder, as ``gensuite data ingest`` names it), so a folder and its
  TFRecord split alike and ``gensuite rnn evaluate --split eval`` scores the
  files a run held out.
* The run-folder cache (:class:`TrainingMelodies`) names what made it: the
  source (absolute path), the config's extraction settings
  (``EXTRACTION_FIELDS``) and the eval ratio. A run resumes on it only when
  all of them match the command (:func:`check_cached_melodies`); a changed
  folder under the same path is not noticed (a new run folder reads it).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence

import numpy as np

from gensuite.common.beam import LOCAL
from gensuite.common.errors import InputFileError, NoExamplesError, ParameterError
from gensuite.common.fileio import read_array_cache, write_array_cache
from gensuite.melody_rnn import encodings as ee

MELODIES_FILE = "melodies.npz"
SUMMARY_FILE = "melodies.json"
# MelodyRNNConfig fields that change which melodies a folder gives.
EXTRACTION_FIELDS = ("steps_per_quarter", "min_bars", "max_steps", "min_unique_pitches",
                     "gap_bars", "ignore_polyphonic_notes", "min_note", "max_note",
                     "transpose_to_key")
SPLITS = ("all", "train", "eval")
_INT_TOKEN = re.compile(r"[+-]?\d+")


# ----------------------------------------------------------------------------
# Reading a data source
# ----------------------------------------------------------------------------

def iter_folder_sequences(midi_dir: str, *, skipped: list,
                          progress: bool = False) -> Iterator:
    """Yield the NoteSequences of a MIDI folder, appending unusable files to ``skipped``.

    ``filename`` is the path relative to ``midi_dir``, as ``gensuite data
    ingest`` sets it, so a folder and its ingested TFRecord split alike.

    Parameters
    ----------
    midi_dir : str
        Searched recursively for ``.mid`` / ``.midi`` files.
    skipped : list
        Receives ``(relative path, reason)`` of every file that cannot be read.
    progress : bool
        Show a tqdm bar on stderr.

    Yields
    ------
    note_seq.NoteSequence

    Raises
    ------
    InputFileError
        Missing folder, or one without MIDI files (on the first ``next``).
    """
    from gensuite.common.progress import track
    from gensuite.midi.io import find_midi_files, read_midi

    paths = find_midi_files(midi_dir)
    if not paths:
        raise InputFileError(midi_dir, "holds no .mid or .midi files")
    for path in track(paths, unit="file", desc="read", enabled=progress):
        try:
            sequence = read_midi(path)
        except (InputFileError, OSError) as exc:
            skipped.append((os.path.relpath(path, midi_dir), getattr(exc, "rule", str(exc))))
            continue
        sequence.filename = os.path.relpath(path, midi_dir)
        yield sequence


def iter_source_sequences(*, midi_dir: str | None = None, examples: str | None = None,
                          skipped: list, progress: bool = False) -> Iterator:
    """NoteSequences of a MIDI folder or of a NoteSequence TFRecord (exactly one given).

    Parameters
    ----------
    midi_dir : str, optional
        Read with :func:`iter_folder_sequences`.
    examples : str, optional
        TFRecord written by ``gensuite data ingest``.
    skipped : list
        Receives ``(file, reason)`` of unreadable files (folders only).
    progress : bool
        Show a tqdm bar while reading a folder.

    Raises
    ------
    ParameterError
        Neither or both sources given.
    InputFileError
        Missing or empty source, or a TFRecord that is not of NoteSequences
        (see :func:`gensuite.common.tfrecord.read_messages`; raised as it is read).
    """
    source_name(midi_dir=midi_dir, examples=examples)  # exactly one
    if midi_dir is not None:
        return iter_folder_sequences(midi_dir, skipped=skipped, progress=progress)
    from note_seq import NoteSequence

    from gensuite.common.tfrecord import read_messages

    if not os.path.isfile(examples):
        raise InputFileError(examples, "no such file")
    return read_messages(examples, NoteSequence)


def source_name(*, midi_dir: str | None, examples: str | None) -> str:
    """The source as the user named it (for messages).

    Raises
    ------
    ParameterError
        Neither or both of ``midi_dir`` and ``examples`` given.
    """
    if (midi_dir is None) == (examples is None):
        raise ParameterError("--midi-dir or --examples: exactly one is required")
    return midi_dir if midi_dir is not None else examples


def source_identity(*, midi_dir: str | None, examples: str | None) -> dict:
    """How a run's cache names its source: ``{"midi_dir" or "examples": absolute path}``."""
    name = source_name(midi_dir=midi_dir, examples=examples)
    return {"midi_dir" if midi_dir is not None else "examples": os.path.abspath(name)}


# ----------------------------------------------------------------------------
# Extraction and the train / eval split
# ----------------------------------------------------------------------------

def extract_melody_events(sequence, config) -> tuple[list[np.ndarray], Counter]:
    """Melodies of one NoteSequence, squashed into the model's key and range.

    Parameters
    ----------
    sequence : note_seq.NoteSequence
        Unquantized (as read from MIDI).
    config : MelodyRNNConfig
        Extraction settings (``EXTRACTION_FIELDS``) and note range.

    Returns
    -------
    melodies : list of numpy.ndarray of int64, shape (n_steps,)
    stats : collections.Counter
        ``extract_melodies`` counters plus ``parts_unusable`` (parts that
        cannot be quantized) and ``melodies``.
    """
    from gensuite.midi import sequences as seqlib

    stats: Counter = Counter()
    melodies: list[np.ndarray] = []
    for part in seqlib.split_on_time_changes(sequence):
        try:
            quantized = seqlib.quantize_sequence(part, steps_per_quarter=config.steps_per_quarter)
            found, part_stats = seqlib.extract_melodies(
                quantized, min_bars=config.min_bars, max_steps_truncate=config.max_steps,
                min_unique_pitches=config.min_unique_pitches, gap_bars=config.gap_bars,
                ignore_polyphonic_notes=config.ignore_polyphonic_notes)
        except seqlib.UnusableSequenceError:
            stats["parts_unusable"] += 1
            continue
        stats.update({k: v for k, v in part_stats.items() if k != "melodies"})
        for melody in found:
            events, _ = ee.squash_melody(
                np.asarray(list(melody), np.int64), min_note=config.min_note,
                max_note=config.max_note, transpose_to_key=config.transpose_to_key)
            if events.size >= 2:
                melodies.append(events)
    stats["melodies"] = len(melodies)
    return melodies, stats


def is_eval_sequence(key: str, *, eval_ratio: float) -> bool:
    """Stable train / eval assignment of one sequence by a hash of ``key``.

    Raises
    ------
    ParameterError
        ``eval_ratio`` outside [0, 1).
    """
    if not 0 <= eval_ratio < 1:
        raise ParameterError(f"eval_ratio: must be in [0, 1), got {eval_ratio}")
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < eval_ratio


def sequence_key(sequence, index: int) -> str:
    """What the split hashes: ``filename``, else ``id``, else the position."""
    return sequence.filename or sequence.id or str(index)


def _iter_extracted(sequences: Iterable, config, *, eval_ratio: float,
                    split: str) -> Iterator[tuple[bool, list[np.ndarray], Counter]]:
    """(held out?, melodies, stats with ``sequences`` 1) of each sequence in ``split``."""
    if split not in SPLITS:
        raise ParameterError(f"split: must be one of {', '.join(SPLITS)}, got {split!r}")
    for index, sequence in enumerate(sequences):
        held_out = is_eval_sequence(sequence_key(sequence, index), eval_ratio=eval_ratio)
        if split != "all" and held_out != (split == "eval"):
            continue
        melodies, stats = extract_melody_events(sequence, config)
        stats["sequences"] = 1
        yield held_out, melodies, stats


def split_melodies(sequences: Iterable, config, *, eval_ratio: float
                   ) -> tuple[list[np.ndarray], list[np.ndarray], Counter]:
    """Training and held-out melodies of NoteSequences (split by sequence); never raises
    for want of melodies (see :func:`build_melody_datasets`).

    Returns
    -------
    train, held_out : list of numpy.ndarray of int64
    stats : collections.Counter
        Summed extraction counters (over both sides) plus ``sequences``,
        ``train_melodies`` and ``eval_melodies``.
    """
    train: list[np.ndarray] = []
    held_out: list[np.ndarray] = []
    stats: Counter = Counter()
    for is_held_out, melodies, seq_stats in _iter_extracted(
            sequences, config, eval_ratio=eval_ratio, split="all"):
        stats.update(seq_stats)
        (held_out if is_held_out else train).extend(melodies)
    stats["train_melodies"], stats["eval_melodies"] = len(train), len(held_out)
    return train, held_out, stats


def build_melody_datasets(sequences: Iterable, config, *, eval_ratio: float = 0.1
                          ) -> tuple[list[np.ndarray], list[np.ndarray], Counter]:
    """Training and evaluation melodies from NoteSequences (split by sequence).

    Parameters
    ----------
    sequences : iterable of note_seq.NoteSequence
        Each is keyed by :func:`sequence_key` for the split.
    config : MelodyRNNConfig
    eval_ratio : float
        Expected fraction of sequences held out.

    Returns
    -------
    train, eval : list of numpy.ndarray of int64
    stats : collections.Counter
        As :func:`split_melodies`.

    Raises
    ------
    NoExamplesError
        If no training melody survives extraction.
    """
    train, held_out, stats = split_melodies(sequences, config, eval_ratio=eval_ratio)
    if not train:
        raise NoExamplesError(
            f"no training melodies: {stats['sequences']} sequences gave {stats['melodies']} "
            f"melodies of >= {config.min_bars} bars with >= {config.min_unique_pitches} pitches "
            f"({dict(stats)})")
    return train, held_out, stats


def collect_melodies(sequences: Iterable, config, *, split: str = "all",
                     eval_ratio: float = 0.0) -> tuple[list[np.ndarray], Counter]:
    """Melodies of every sequence, or of one side of the train / eval split.

    Parameters
    ----------
    sequences : iterable of note_seq.NoteSequence
    config : MelodyRNNConfig
    split : {"all", "train", "eval"}
    eval_ratio : float
        The split's ratio (ignored with ``split="all"``).

    Returns
    -------
    melodies : list of numpy.ndarray
    stats : collections.Counter
        Extraction counters plus ``sequences`` (in the chosen split).
    """
    melodies: list[np.ndarray] = []
    stats: Counter = Counter()
    for _, found, seq_stats in _iter_extracted(sequences, config, eval_ratio=eval_ratio,
                                               split=split):
        stats.update(seq_stats)
        melodies.extend(found)
    return melodies, stats


def explain_no_melodies(stats: Counter, config, *, source: str, skipped: Sequence) -> str:
    """Why a data source gave no melodies, in one line.

    Parameters
    ----------
    stats : collections.Counter
        Of :func:`collect_melodies` or :func:`split_melodies`.
    config : MelodyRNNConfig
    source : str
        The folder or file, as the user named it.
    skipped : sequence of (str, str)
        (file, reason) of the files that could not be read.
    """
    if not stats.get("sequences"):
        if skipped:
            detail = (f"none of its {len(skipped)} files could be read (e.g. {skipped[0][0]}: "
                      f"{skipped[0][1]})")
        else:
            detail = "it holds no sequences"
        return f"{source}: no melodies: {detail}"
    dropped = {
        "melodies_discarded_too_short": f"shorter than {config.min_bars} bars",
        "melodies_discarded_too_few_pitches":
            f"fewer than {config.min_unique_pitches} distinct pitches",
        "polyphonic_tracks_discarded": "polyphonic tracks (notes starting together)",
        "parts_unusable": "parts that cannot be quantized (e.g. odd time signatures)",
    }
    reasons = [f"{stats[key]} {text}" for key, text in dropped.items() if stats.get(key)]
    reason = "; ".join(reasons) if reasons else "no pitched notes"
    return (f"{source}: no melodies for config {config.name!r} in {stats['sequences']} "
            f"sequences ({reason})")


def read_melodies(*, midi_dir: str | None = None, examples: str | None = None, config,
                  split: str = "all", eval_ratio: float = 0.0, progress: bool = False
                  ) -> tuple[list[np.ndarray], Counter, list]:
    """Melodies of a data source, for scoring (``gensuite rnn evaluate``).

    Parameters
    ----------
    midi_dir, examples : str, optional
        Exactly one: a MIDI folder or a NoteSequence TFRecord.
    config : MelodyRNNConfig
    split : {"all", "train", "eval"}
        Every sequence, or one side of the split ``gensuite rnn train`` makes.
    eval_ratio : float
        That split's ratio.
    progress : bool
        Progress bar while reading a folder.

    Returns
    -------
    melodies : list of numpy.ndarray
    stats : collections.Counter
        As :func:`collect_melodies`.
    skipped : list of (str, str)
        Files that could not be read, with the reason.

    Raises
    ------
    NoExamplesError
        No melody, with :func:`explain_no_melodies`'s reason.
    InputFileError
        Missing or empty source.
    """
    skipped: list = []
    sequences = iter_source_sequences(midi_dir=midi_dir, examples=examples, skipped=skipped,
                                      progress=progress)
    melodies, stats = collect_melodies(sequences, config, split=split, eval_ratio=eval_ratio)
    if not melodies:
        raise NoExamplesError(explain_no_melodies(
            stats, config, source=source_name(midi_dir=midi_dir, examples=examples),
            skipped=skipped))
    return melodies, stats, skipped


# ----------------------------------------------------------------------------
# A training run's melodies and their cache in the run folder
# ----------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True, eq=False)
class TrainingMelodies:
    """The two sides of a training run and what was read to make them.

    Attributes
    ----------
    train, held_out : list of numpy.ndarray of int64
        Squashed melodies (``held_out`` may be empty).
    summary : dict
        JSON-ready: ``source`` (:func:`source_identity`), ``extraction`` (the
        config's ``EXTRACTION_FIELDS``), ``eval_ratio``, ``n_sequences``,
        ``files_skipped`` ([file, reason] pairs), ``train_melodies``,
        ``eval_melodies`` and the extraction ``stats``.
    """

    train: list
    held_out: list
    summary: dict

    @property
    def skipped(self) -> list[tuple[str, str]]:
        """(file, reason) of the source's files that could not be read."""
        return [tuple(pair) for pair in self.summary.get("files_skipped", [])]

    def save(self, run_dir: str | os.PathLike) -> None:
        """Write ``RUN/melodies.npz``, then ``RUN/melodies.json`` (the marker), atomically.

        Melodies are stored concatenated as int8 (events lie in -2..127) with
        their lengths.
        """
        arrays = {}
        for prefix, melodies in (("train", self.train), ("eval", self.held_out)):
            arrays[f"{prefix}_events"] = (np.concatenate(melodies).astype(np.int8)
                                          if melodies else np.zeros(0, np.int8))
            arrays[f"{prefix}_lengths"] = np.array([len(m) for m in melodies], np.int64)
        write_array_cache(run_dir, arrays_file=MELODIES_FILE, summary_file=SUMMARY_FILE,
                          arrays=arrays, summary=self.summary)

    @classmethod
    def load(cls, run_dir: str | os.PathLike) -> "TrainingMelodies | None":
        """The melodies cached in a run folder, or None when there are none.

        Raises
        ------
        InputFileError
            The cache exists but cannot be read.
        """
        def build(summary, arrays):
            train, held_out = (_split_events(arrays[f"{prefix}_events"],
                                             arrays[f"{prefix}_lengths"])
                               for prefix in ("train", "eval"))
            return cls(train, held_out, summary)

        return read_array_cache(run_dir, arrays_file=MELODIES_FILE, summary_file=SUMMARY_FILE,
                                build=build, what="melody cache")


def _split_events(events: np.ndarray, lengths: np.ndarray) -> list[np.ndarray]:
    if int(lengths.sum()) != events.size:
        raise ValueError(f"lengths sum to {int(lengths.sum())}, events hold {events.size}")
    return np.split(events.astype(np.int64), np.cumsum(lengths)[:-1]) if lengths.size else []


def extraction_settings(config) -> dict:
    """The config's settings that decide which melodies a source gives (JSON-ready)."""
    return {field: getattr(config, field) for field in EXTRACTION_FIELDS}


def extract_training_melodies(*, midi_dir: str | None = None, examples: str | None = None,
                              config, eval_ratio: float, progress: bool = False,
                              runner: str = LOCAL, num_workers: int | None = None,
                              pipeline_args: Sequence[str] = ()) -> TrainingMelodies:
    """Read a data source, extract its melodies and split them (see the module docstring).

    The source is read once, streaming: only melodies stay in memory. A
    folder with ``runner`` other than ``"local"`` is read and extracted file
    by file on that Beam runner (:func:`gensuite.common.beam.map_with_beam`);
    the results are joined in file order, so the melodies are the same.

    Parameters
    ----------
    midi_dir, examples : str, optional
        Exactly one: a MIDI folder or a NoteSequence TFRecord.
    config : MelodyRNNConfig
    eval_ratio : float
        Expected fraction of sequences held out, in [0, 1).
    progress : bool
        Progress bar while reading a folder (in this process).
    runner : str
        ``"local"`` or a Beam runner name, for a folder.
    num_workers : int, optional
        DirectRunner worker processes (default every core; 1 runs in this process).
    pipeline_args : sequence of str
        Beam pipeline options, passed through.

    Returns
    -------
    TrainingMelodies

    Raises
    ------
    NoExamplesError
        No training melody: why in one line (nothing readable, what the
        extraction dropped, or every melody fell on the held-out side).
    InputFileError
        Missing or empty source.
    """
    name = source_name(midi_dir=midi_dir, examples=examples)
    skipped: list = []
    if midi_dir is not None and runner != LOCAL:
        train, held_out, stats = _split_folder_with_beam(
            midi_dir, config, eval_ratio=eval_ratio, skipped=skipped, runner=runner,
            num_workers=num_workers, pipeline_args=pipeline_args)
    else:
        sequences = iter_source_sequences(midi_dir=midi_dir, examples=examples,
                                          skipped=skipped, progress=progress)
        train, held_out, stats = split_melodies(sequences, config, eval_ratio=eval_ratio)
    if not train:
        if stats.get("melodies"):
            raise NoExamplesError(
                f"{name}: all {stats['melodies']} melodies fell in the held-out split "
                f"(--eval-fraction {eval_ratio:g}); add files or lower --eval-fraction")
        raise NoExamplesError(explain_no_melodies(stats, config, source=name, skipped=skipped))
    summary = {
        "source": source_identity(midi_dir=midi_dir, examples=examples),
        "extraction": extraction_settings(config),
        "eval_ratio": eval_ratio,
        "n_sequences": stats["sequences"],
        "files_skipped": [list(pair) for pair in skipped],
        "train_melodies": len(train),
        "eval_melodies": len(held_out),
        "stats": dict(stats.most_common()),
    }
    return TrainingMelodies(train, held_out, summary)


def _extract_file(job) -> dict:
    """Beam worker: one file's melodies and split side, or why it could not be read."""
    from gensuite.midi.io import read_midi

    path, midi_dir, config, eval_ratio = job
    relpath = os.path.relpath(path, midi_dir)
    try:
        sequence = read_midi(path)
    except (InputFileError, OSError) as exc:
        return {"file": relpath, "unreadable": getattr(exc, "rule", str(exc))}
    sequence.filename = relpath
    (held_out, melodies, stats), = _iter_extracted([sequence], config, eval_ratio=eval_ratio,
                                                   split="all")
    return {"file": relpath, "held_out": held_out, "melodies": melodies, "stats": stats}


def _encode_extracted(result: dict) -> bytes:
    """A file's result as ``.npz`` bytes (melodies concatenated, facts as JSON)."""
    melodies = result.get("melodies", [])
    facts = {k: dict(v) if k == "stats" else v for k, v in result.items() if k != "melodies"}
    buffer = io.BytesIO()
    np.savez(buffer, events=np.concatenate(melodies) if melodies else np.zeros(0, np.int64),
             lengths=np.array([len(m) for m in melodies], np.int64),
             facts=np.array(json.dumps(facts)))
    return buffer.getvalue()


def _decode_extracted(data: bytes) -> dict:
    with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
        result = json.loads(str(arrays["facts"]))
        result["melodies"] = _split_events(arrays["events"], arrays["lengths"])
    result["stats"] = Counter(result.get("stats", {}))
    return result


def _split_folder_with_beam(midi_dir: str, config, *, eval_ratio: float, skipped: list,
                            runner: str, num_workers, pipeline_args) -> tuple[list, list, Counter]:
    """:func:`split_melodies` of a folder's files, extracted on a Beam runner."""
    from gensuite.common.beam import map_with_beam
    from gensuite.midi.io import find_midi_files

    paths = find_midi_files(midi_dir)
    if not paths:
        raise InputFileError(midi_dir, "holds no .mid or .midi files")
    results = map_with_beam(_extract_file, [(p, midi_dir, config, eval_ratio) for p in paths],
                            encode=_encode_extracted, decode=_decode_extracted, runner=runner,
                            num_workers=num_workers, pipeline_args=pipeline_args)
    train: list[np.ndarray] = []
    held_out: list[np.ndarray] = []
    stats: Counter = Counter()
    for result in results:
        if "unreadable" in result:
            skipped.append((result["file"], result["unreadable"]))
            continue
        stats.update(result["stats"])
        (held_out if result["held_out"] else train).extend(result["melodies"])
    stats["train_melodies"], stats["eval_melodies"] = len(train), len(held_out)
    return train, held_out, stats


def check_cached_melodies(cached: TrainingMelodies, *, run_dir: str,
                          midi_dir: str | None = None, examples: str | None = None, config,
                          eval_ratio: float) -> None:
    """Refuse to resume a run on melodies cached from another source or with other settings.

    Raises
    ------
    ParameterError
        One line naming the first setting that differs, the run folder and
        the rule.
    """
    saved = cached.summary
    saved_extraction = saved.get("extraction", {})
    wanted_source = source_identity(midi_dir=midi_dir, examples=examples)
    checks = [(saved.get("source"), wanted_source, lambda s: f"from {_describe_source(s)}"),
              (saved.get("eval_ratio"), eval_ratio, lambda r: f"with --eval-fraction {r}")]
    checks += [(saved_extraction.get(field), value,
                lambda v, field=field: f"with {field}={v!r}")
               for field, value in extraction_settings(config).items()]
    for before, now, describe in checks:
        if before != now:
            raise ParameterError(
                f"--run-dir: {run_dir} holds melodies extracted {describe(before)}, not "
                f"{describe(now)}: a run resumes only on the melodies it started with; use "
                f"the same data settings or a new --run-dir")


def _describe_source(source: dict | None) -> str:
    if not source:
        return "an unknown source"
    (kind, path), = source.items()
    return f"--{kind.replace('_', '-')} {path}"


def prepare_run_melodies(run_dir: str, *, midi_dir: str | None = None,
                         examples: str | None = None, config, eval_ratio: float,
                         progress: bool = False, cache: bool = True, runner: str = LOCAL,
                         pipeline_args: Sequence[str] = ()) -> tuple[TrainingMelodies, bool]:
    """The melodies of a training run: from its cache, else extracted and cached.

    Parameters
    ----------
    run_dir : str
        Run folder (created if needed).
    midi_dir, examples : str, optional
        Exactly one: the data source.
    config : MelodyRNNConfig
    eval_ratio : float
    progress : bool
        Progress bar while reading a folder.
    cache : bool
        Write the extracted melodies to the run folder (False on a non-chief
        worker of a multi-worker run: the chief writes them).
    runner, pipeline_args
        Where a folder is extracted (:func:`extract_training_melodies`).

    Returns
    -------
    melodies : TrainingMelodies
    reused : bool
        True when they came from ``RUN/melodies.npz``.

    Raises
    ------
    ParameterError
        The cache was made from another source or with other settings.
    NoExamplesError, InputFileError
        As :func:`extract_training_melodies`.
    """
    cached = TrainingMelodies.load(run_dir) if os.path.isdir(run_dir) else None
    if cached is not None:
        check_cached_melodies(cached, run_dir=run_dir, midi_dir=midi_dir, examples=examples,
                              config=config, eval_ratio=eval_ratio)
        return cached, True
    melodies = extract_training_melodies(midi_dir=midi_dir, examples=examples, config=config,
                                         eval_ratio=eval_ratio, progress=progress,
                                         runner=runner, pipeline_args=pipeline_args)
    if cache:
        melodies.save(run_dir)
    return melodies, False


# ----------------------------------------------------------------------------
# Primers
# ----------------------------------------------------------------------------

def parse_primer_melody(text: str, *, flag: str = "--primer-melody") -> list[int]:
    """Parse ``"[60, -2, 62]"`` (brackets optional, commas or spaces) into events.

    Parameters
    ----------
    text : str
    flag : str
        Named in error messages.

    Returns
    -------
    list of int
        Events -2..127.

    Raises
    ------
    ParameterError
        Empty list, a token that is not an integer, or an event outside -2..127;
        the message names ``flag`` and the bad token.
    """
    body = text.strip()
    if body.startswith("[") and body.endswith("]"):
        body = body[1:-1]
    tokens = [t for t in re.split(r"[\s,]+", body.strip()) if t]
    if not tokens:
        raise ParameterError(
            f'{flag}: must hold at least one event, e.g. "[60, -2, 62]", got {text!r}')
    events = []
    for token in tokens:
        if not _INT_TOKEN.fullmatch(token):
            raise ParameterError(
                f'{flag}: {token!r} is not an integer event (expected a list such as '
                f'"[60, -2, 62]"), in {text!r}')
        value = int(token)
        if not ee.NO_EVENT <= value <= ee.MAX_PITCH:
            raise ParameterError(
                f"{flag}: event {token} is outside -2..127 (-2 no event, -1 note-off, "
                f"0-127 note-on)")
        events.append(value)
    return events


def extract_primer(sequence, *, steps_per_quarter: int, path: str) -> tuple[list[int], int]:
    """The primer melody of a NoteSequence, as Magenta's MelodyRNN generator takes it.

    The first part with one tempo and meter is quantized, its melodies are
    extracted with Magenta's generator settings (any length, any number of
    pitches, no gap splitting, highest note where notes start together) and
    the first one is kept, extended by one step so its last note ends with a
    note-off (Magenta's ``melody.set_length``).

    Parameters
    ----------
    sequence : note_seq.NoteSequence
    steps_per_quarter : int
        The model's grid.
    path : str
        Named in the error.

    Returns
    -------
    events : list of int
    start_step : int
        Step of the primer's first event in the file (the bar of its first note).

    Raises
    ------
    InputFileError
        No melody in the file (only drums, or no part that can be quantized).
    """
    from gensuite.midi import sequences as seqlib

    reasons = []
    for part in seqlib.split_on_time_changes(sequence):
        try:
            quantized = seqlib.quantize_sequence(part, steps_per_quarter=steps_per_quarter)
            melodies, _ = seqlib.extract_melodies(
                quantized, min_bars=0, min_unique_pitches=1, gap_bars=float("inf"),
                ignore_polyphonic_notes=True)
        except seqlib.UnusableSequenceError as exc:
            reasons.append(exc.reason)
            continue
        if melodies:
            melody = melodies[0]
            melody.set_length(len(melody) + 1)
            return [int(e) for e in melody], int(melody.start_step)
    why = f" ({'; '.join(sorted(set(reasons)))})" if reasons else " (only drums or silence)"
    raise InputFileError(path, f"no melody found to use as a primer{why}")


def find_folded_notes(primer, *, config) -> list[int]:
    """Primer notes the model must fold by octaves to fit its range (distinct, sorted).

    The model transposes a primer to its key and the middle of its range
    (:meth:`gensuite.melody_rnn.model.MelodyRNN.prepare_melody`); notes that
    still fall outside move by octaves and do not come back.
    """
    primer = ee.as_event_array(primer, name="primer")
    squashed, amount = ee.squash_melody(primer, min_note=config.min_note,
                                        max_note=config.max_note,
                                        transpose_to_key=config.transpose_to_key)
    moved = ee.transpose_melody_back(squashed, amount) != primer
    return sorted({int(p) for p in primer[moved]})


def primer_range_warning(primer, *, config, source: str) -> str | None:
    """A one-line warning when a primer has notes outside the model's range, else None.

    A primer that fits the range once transposed is moved into it for the
    model and its continuation moved back (nothing lost); one wider than the
    range has notes folded by octaves (the output still begins with the
    primer as given).

    Parameters
    ----------
    primer : sequence of int
        Events -2..127.
    config : MelodyRNNConfig
    source : str
        Where the primer came from, e.g. ``"--primer-melody"``.
    """
    folded = find_folded_notes(primer, config=config)
    if folded:
        return (f"{source}: notes {', '.join(map(str, folded))} lie outside the model's "
                f"{config.max_note - config.min_note}-semitone range around the primer and "
                f"were moved by octaves for the model; the output keeps the primer as given")
    outside = sorted({int(p) for p in primer
                      if p >= ee.MIN_PITCH and not config.min_note <= p < config.max_note})
    if outside:
        return (f"{source}: notes {', '.join(map(str, outside))} lie outside the model's range "
                f"{config.min_note}-{config.max_note - 1}; the primer was transposed into it "
                f"for the model and the continuation moved back to the primer's register")
    return None
