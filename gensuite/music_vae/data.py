"""MIDI folders or NoteSequence TFRecords -> MusicVAE training and evaluation examples.

The pipeline behind ``gensuite vae train`` and ``gensuite vae evaluate``::

    MIDI dir --(parallel read_midi + converter.to_tensors)--> FileExamples per file
             --(split by file)--> ExampleSet (train) + ExampleSet (held out)
             --> RUN/examples.npz (cache: a resumed run does not re-read the folder)
    ExampleSet.iterate_batches(...) -> endless shuffled, transposed float batches
    ExampleSet.to_arrays(...)       -> VAEArrays for the Evaluator

Choices a newcomer must know:

* Every file is converted once, deterministically, keeping **every** window
  (``max_tensors_per_notesequence=None``, duplicates removed per file) and no
  transposition. Training augmentation then happens per batch on class
  indices: each melody window is transposed by a uniform whole number of
  semitones in the converter's ``transpose_range``, narrowed per window so no
  note leaves the modelled range (the converter does the same per sequence).
  Magenta re-sampled at most 5 windows per sequence per epoch; over many
  epochs both see every window, ours without re-reading files.
* Held-out examples are what the converter gives in evaluation mode: at most
  ``max_tensors_per_notesequence`` evenly spaced windows per file, so
  ``gensuite vae evaluate`` on the same files gives the same set.
* The split is by file (a piece is never on both sides), seeded, among the
  files that gave examples.
* Examples are stored as class indices ``(n, n_steps, n_outputs)`` int16
  (-1 past the end), 90x smaller than one-hots: all 2-bar windows of the
  Essen collection take a few MB.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence

import numpy as np
from note_seq import NoteSequence

from gensuite.common.arrays import one_hot
from gensuite.common.beam import LOCAL
from gensuite.common.errors import InputFileError, NoExamplesError, ParameterError
from gensuite.common.fileio import read_array_cache, write_array_cache
from gensuite.common.parallel import map_in_processes
from gensuite.common.tfrecord import read_messages
from gensuite.midi.io import find_midi_files, read_midi
from gensuite.music_vae.converters import (
    N_SPECIAL_CLASSES,
    ConverterOptions,
    DrumsConverter,
    TrioConverter,
    select_indices,
)

EXAMPLES_FILE = "examples.npz"
DATA_FILE = "data.json"
# Below this many files per worker a pool costs more than it saves.
MIN_FILES_PER_WORKER = 4
NUMBER_WORDS = {1: "one", 2: "two", 3: "three", 4: "four"}


def describe_examples(converter, *, plural: bool = True) -> str:
    """What one example is, in words: ``"two-bar melodies"``, ``"16-bar trio"``."""
    bars = getattr(converter, "slice_bars", None)
    prefix = f"{NUMBER_WORDS.get(bars, bars)}-bar " if bars else ""
    if isinstance(converter, DrumsConverter):
        noun = ("drum patterns", "drum pattern")
    elif isinstance(converter, TrioConverter):
        noun = ("trios (melody, bass, drums)", "trio (melody, bass, drums)")
    else:
        noun = ("melodies", "melody")
    return prefix + noun[0 if plural else 1]


def all_windows_converter(converter):
    """The same converter keeping every window of a sequence (training extraction)."""
    return dataclasses.replace(converter, max_tensors_per_notesequence=None)


# --------------------------------------------------------------------------
# Compact examples


def tensors_to_classes(outputs: np.ndarray, output_depths: Sequence[int]) -> np.ndarray:
    """Concatenated one-hots ``(n, T, sum(depths))`` -> class indices ``(n, T, k)`` int16.

    All-zero (padding) rows of a part become -1.
    """
    outputs = np.asarray(outputs, bool)
    parts, start = [], 0
    for depth in output_depths:
        block = outputs[..., start:start + depth]
        parts.append(np.where(block.any(-1), block.argmax(-1), -1))
        start += depth
    return np.stack(parts, axis=-1).astype(np.int16)


@dataclasses.dataclass(frozen=True, eq=False)
class FileExamples:
    """What one file (or TFRecord entry) gave.

    Attributes
    ----------
    name : str
        Path relative to the folder, or the record's filename / id.
    classes : np.ndarray, shape (n, n_steps, n_outputs), int16
        Decoder targets as class indices, -1 past ``lengths``.
    lengths : np.ndarray, shape (n,), int32
    inputs : np.ndarray or None, shape (n, n_steps, input_depth), bool
        Encoder inputs when they are not the targets' one-hots (drum rolls).
    reasons : tuple of str
        Why parts of it gave nothing (converter rejections), sorted.
    unreadable : str or None
        Why the file could not be read at all.
    """

    name: str
    classes: np.ndarray
    lengths: np.ndarray
    inputs: np.ndarray | None = None
    reasons: tuple[str, ...] = ()
    unreadable: str | None = None

    def __len__(self) -> int:
        return int(len(self.lengths))


def convert_sequence(sequence: NoteSequence, converter, *, name: str,
                     n_steps: int, output_depths: Sequence[int]) -> FileExamples:
    """Every window of one sequence (converter in evaluation mode, rng=None)."""
    tensors = converter.to_tensors(sequence)
    reasons = tuple(sorted(tensors.rejections))
    n = len(tensors)
    if not n:
        return FileExamples(name, np.zeros((0, n_steps, len(output_depths)), np.int16),
                            np.zeros(0, np.int32), None, reasons or ("no examples",))
    classes = np.full((n, n_steps, len(output_depths)), -1, np.int16)
    found = tensors_to_classes(tensors.outputs[:, :n_steps], output_depths)
    classes[:, :found.shape[1]] = found
    inputs = None
    if tensors.inputs is not tensors.outputs and not np.array_equal(
            tensors.inputs, tensors.outputs):
        inputs = np.zeros((n, n_steps, tensors.inputs.shape[-1]), bool)
        inputs[:, :tensors.inputs.shape[1]] = tensors.inputs[:, :n_steps]
    lengths = np.minimum(tensors.lengths, n_steps).astype(np.int32)
    return FileExamples(name, classes, lengths, inputs, reasons)


def _convert_job(job) -> FileExamples:
    """Worker: (name, MIDI path, converter, n_steps, depths)."""
    name, path, converter, n_steps, output_depths = job
    empty = np.zeros((0, n_steps, len(output_depths)), np.int16)
    try:
        sequence = read_midi(path)
    except (InputFileError, OSError) as exc:
        return FileExamples(name, empty, np.zeros(0, np.int32),
                            unreadable=getattr(exc, "rule", str(exc)))
    return convert_sequence(sequence, converter, name=name, n_steps=n_steps,
                            output_depths=output_depths)


def convert_midi_dir(midi_dir: str | os.PathLike, converter, *, n_steps: int,
                     output_depths: Sequence[int], num_workers: int | None = None,
                     progress: bool = False, meanwhile=None, runner: str = LOCAL,
                     pipeline_args: Sequence[str] = ()) -> list[FileExamples]:
    """Read and convert every MIDI file under ``midi_dir`` (recursively), in parallel.

    Unreadable files are kept in the result with ``unreadable`` set, never raised.
    ``meanwhile`` runs in a thread while the workers read (see
    :func:`gensuite.common.parallel.map_in_processes`). ``runner`` other than
    ``"local"`` converts on that Beam runner instead (see
    :func:`gensuite.common.beam.map_with_beam`): the same results, in file order.

    Raises
    ------
    InputFileError
        If the folder is missing or holds no MIDI files.
    """
    midi_dir = os.path.normpath(os.fspath(midi_dir))
    paths = find_midi_files(midi_dir)
    if not paths:
        raise InputFileError(midi_dir, "holds no .mid or .midi files")
    jobs = [(os.path.relpath(p, midi_dir), p, converter, n_steps, tuple(output_depths))
            for p in paths]
    if runner != LOCAL:
        from gensuite.common.beam import map_with_beam  # noqa: PLC0415

        if meanwhile is not None:
            meanwhile()
        return map_with_beam(_convert_job, jobs, encode=file_examples_to_bytes,
                             decode=file_examples_from_bytes, runner=runner,
                             num_workers=num_workers, pipeline_args=pipeline_args)
    with map_in_processes(_convert_job, jobs, num_workers=num_workers, progress=progress,
                          desc="convert", min_jobs_per_worker=MIN_FILES_PER_WORKER,
                          meanwhile=meanwhile) as results:
        return list(results)


def file_examples_to_bytes(result: FileExamples) -> bytes:
    """An ``.npz`` of the arrays and a JSON text of the rest (no pickle)."""
    facts = {"name": result.name, "reasons": list(result.reasons),
             "unreadable": result.unreadable}
    arrays = {"classes": result.classes, "lengths": result.lengths,
              "facts": np.array(json.dumps(facts))}
    if result.inputs is not None:
        arrays["inputs"] = result.inputs
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def file_examples_from_bytes(data: bytes) -> FileExamples:
    """Inverse of :func:`file_examples_to_bytes`."""
    with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
        facts = json.loads(str(arrays["facts"]))
        return FileExamples(facts["name"], arrays["classes"], arrays["lengths"],
                            arrays["inputs"] if "inputs" in arrays else None,
                            tuple(facts["reasons"]), facts["unreadable"])


def convert_tfrecord(path: str | os.PathLike, converter, *, n_steps: int,
                     output_depths: Sequence[int]) -> list[FileExamples]:
    """Convert every NoteSequence of a TFRecord (one entry per record).

    Raises
    ------
    InputFileError
        If the file is missing, corrupt, empty, or a record is not a
        NoteSequence (see :func:`gensuite.common.tfrecord.read_messages`).
    """
    results = []
    for i, sequence in enumerate(read_messages(path, NoteSequence)):
        name = sequence.filename or sequence.id or f"record {i}"
        results.append(convert_sequence(sequence, converter, name=name, n_steps=n_steps,
                                        output_depths=output_depths))
    return results


# --------------------------------------------------------------------------
# Why nothing came out


def count_reasons(results: Iterable[FileExamples]) -> Counter:
    """Reason -> number of files that gave no example for it.

    Unreadable files count under their rule without the detail in
    parentheses ("corrupt MIDI", "empty file"), so they group.
    """
    counts: Counter = Counter()
    for r in results:
        if r.unreadable is not None:
            counts[r.unreadable.split(" (")[0]] += 1
        elif not len(r):
            counts.update(set(r.reasons))
    return counts


def format_reasons(counts: Counter) -> str:
    """``"only drum tracks (12 files); contains no notes (1 file)"``, most frequent first."""
    items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return "; ".join(f"{reason} ({n} file{'s' if n != 1 else ''})" for reason, n in items)


def no_examples_message(results: Sequence[FileExamples], converter) -> str:
    """One line: how many examples came from how many files, and why not more."""
    n_examples = sum(len(r) for r in results)
    what = describe_examples(converter)
    line = f"{n_examples} {what} found in {len(results)} file{'s' if len(results) != 1 else ''}"
    reasons = format_reasons(count_reasons(results))
    return f"{line}: {reasons}" if reasons else line


# --------------------------------------------------------------------------
# Example sets


@dataclasses.dataclass(frozen=True, eq=False)
class ExampleSet:
    """Examples of one split, as class indices.

    Attributes
    ----------
    classes : np.ndarray, shape (n, n_steps, n_outputs), int16, -1 past the end
    lengths : np.ndarray, shape (n,), int32
    file_ids : np.ndarray, shape (n,), int32
        Index into ``files`` of each example's source.
    files : tuple of str
        The files of this split (those that gave examples).
    inputs : np.ndarray or None, shape (n, n_steps, input_depth), bool
        Encoder inputs when they are not the targets' one-hots.
    """

    classes: np.ndarray
    lengths: np.ndarray
    file_ids: np.ndarray
    files: tuple[str, ...]
    inputs: np.ndarray | None = None

    def __len__(self) -> int:
        return int(len(self.lengths))

    @classmethod
    def from_files(cls, results: Sequence[FileExamples], *,
                   max_per_file: int | None = None) -> "ExampleSet":
        """Concatenate files' examples, keeping at most ``max_per_file`` evenly spaced
        windows of each (the converter's deterministic evaluation selection)."""
        results = [r for r in results if len(r)]
        if not results:
            raise NoExamplesError("no examples in this split")
        picks = [select_indices(len(r), max_per_file, None) for r in results]
        with_inputs = [r.inputs is not None for r in results]
        if any(with_inputs) and not all(with_inputs):
            raise ParameterError("results: mix of files with and without separate inputs")
        return cls(
            classes=np.concatenate([r.classes[p] for r, p in zip(results, picks)]),
            lengths=np.concatenate([r.lengths[p] for r, p in zip(results, picks)]),
            file_ids=np.concatenate([np.full(len(p), i, np.int32) for i, p in enumerate(picks)]),
            files=tuple(r.name for r in results),
            inputs=(np.concatenate([r.inputs[p] for r, p in zip(results, picks)])
                    if all(with_inputs) else None))

    def to_arrays(self, output_depths: Sequence[int]):
        """The one-hot :class:`~gensuite.music_vae.trainer.VAEArrays` (bool)."""
        from gensuite.music_vae.trainer import VAEArrays  # noqa: PLC0415 (imports TF)

        outputs = one_hot(self.classes, output_depths)
        inputs = outputs if self.inputs is None else self.inputs
        return VAEArrays(inputs, outputs, self.lengths)

    def iterate_batches(self, *, batch_size: int, output_depths: Sequence[int], seed: int,
                        transpose_range: tuple[int, int] | None = None
                        ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Endless shuffled batches ``(inputs, outputs, lengths)``, float32 / int32.

        Each pass is a new permutation (batches never straddle passes; a set
        smaller than a batch is repeated within one). With ``transpose_range``
        the first output (a melody) of each example is shifted by a uniform
        whole number of semitones, narrowed so its notes stay in range.
        """
        rng = np.random.default_rng(seed)
        n = len(self)
        if not n:
            raise NoExamplesError("no training examples")
        while True:
            order = np.concatenate([rng.permutation(n)
                                    for _ in range(-(-batch_size // n))])
            for start in range(0, len(order) - batch_size + 1, batch_size):
                index = np.sort(order[start:start + batch_size])
                classes = self.classes[index]
                if transpose_range is not None:
                    classes = transpose_melody_classes(
                        classes, rng=rng, transpose_range=transpose_range,
                        depth=output_depths[0])
                outputs = one_hot(classes, output_depths, dtype=np.float32)
                inputs = outputs if self.inputs is None else self.inputs[index].astype(
                    np.float32)
                yield inputs, outputs, self.lengths[index]


def transpose_melody_classes(classes: np.ndarray, *, rng: np.random.Generator,
                             transpose_range: tuple[int, int], depth: int) -> np.ndarray:
    """Shift the pitch classes of output 0 by a random amount per example.

    Parameters
    ----------
    classes : np.ndarray, shape (n, T, k), int
        Class ``>= N_SPECIAL_CLASSES`` is a note-on; others (no event, note
        off, -1 padding) do not move.
    transpose_range : (int, int)
        Inclusive semitone bounds; each example's bounds are narrowed so that
        its notes stay within classes ``[N_SPECIAL_CLASSES, depth - 1]``.
    depth : int
        Classes of output 0.

    Returns
    -------
    np.ndarray, same shape, a new array
    """
    melody = classes[..., 0].astype(np.int32)
    notes = melody >= N_SPECIAL_CLASSES
    has_notes = notes.any(axis=1)
    lowest = np.where(notes, melody, depth).min(axis=1)
    highest = np.where(notes, melody, -1).max(axis=1)
    low = np.where(has_notes, np.maximum(transpose_range[0], N_SPECIAL_CLASSES - lowest), 0)
    high = np.where(has_notes, np.minimum(transpose_range[1], depth - 1 - highest), 0)
    # As the converter does: a window that cannot move within the range stays put.
    movable = low <= high
    low, high = np.where(movable, low, 0), np.where(movable, high, 0)
    shift = low + np.floor(rng.random(len(melody)) * (high - low + 1)).astype(np.int32)
    out = classes.copy()
    out[..., 0] = np.where(notes, melody + shift[:, None], melody)
    return out


def split_by_file(results: Sequence[FileExamples], *, eval_fraction: float,
                  seed: int) -> tuple[list[FileExamples], list[FileExamples]]:
    """Seeded (train, held-out) split of the files that gave examples.

    The held-out side gets ``round(n * eval_fraction)`` files, at least one
    when ``eval_fraction > 0``, and the training side keeps at least one.

    Raises
    ------
    NoExamplesError
        If a held-out split is asked for but fewer than two files gave examples.
    """
    if not 0 <= eval_fraction < 1:
        raise ParameterError(f"--eval-fraction: must be in [0, 1), got {eval_fraction!r}")
    usable = [r for r in results if len(r)]
    if eval_fraction == 0:
        return usable, []
    if len(usable) < 2:
        raise NoExamplesError(
            f"a held-out split needs examples from at least 2 files, got {len(usable)}; "
            f"add files or pass --eval-fraction 0")
    order = np.random.default_rng(seed).permutation(len(usable))
    n_eval = min(len(usable) - 1, max(1, int(round(len(usable) * eval_fraction))))
    held_out = set(order[:n_eval].tolist())
    return ([r for i, r in enumerate(usable) if i not in held_out],
            [r for i, r in enumerate(usable) if i in held_out])


# --------------------------------------------------------------------------
# The run-folder cache


@dataclasses.dataclass(frozen=True, eq=False)
class TrainingData:
    """The two splits of a run and what was read to make them."""

    train: ExampleSet
    held_out: ExampleSet | None
    summary: dict

    def save(self, run_dir: str | os.PathLike) -> None:
        """Write ``RUN/examples.npz`` then ``RUN/data.json`` (the marker), atomically."""
        arrays = {}
        for prefix, split in (("train", self.train), ("eval", self.held_out)):
            if split is None:
                continue
            arrays.update({f"{prefix}_classes": split.classes,
                           f"{prefix}_lengths": split.lengths,
                           f"{prefix}_file_ids": split.file_ids,
                           f"{prefix}_files": np.array(split.files, dtype=str)})
            if split.inputs is not None:
                arrays[f"{prefix}_inputs"] = split.inputs
        write_array_cache(run_dir, arrays_file=EXAMPLES_FILE, summary_file=DATA_FILE,
                          arrays=arrays, summary=self.summary)

    @classmethod
    def load(cls, run_dir: str | os.PathLike) -> "TrainingData | None":
        """The cached data of a run, or None when there is none yet."""
        def build(summary, arrays):
            splits = {}
            for prefix in ("train", "eval"):
                if f"{prefix}_classes" not in arrays:
                    splits[prefix] = None
                    continue
                splits[prefix] = ExampleSet(
                    classes=arrays[f"{prefix}_classes"], lengths=arrays[f"{prefix}_lengths"],
                    file_ids=arrays[f"{prefix}_file_ids"],
                    files=tuple(arrays[f"{prefix}_files"].tolist()),
                    inputs=arrays[f"{prefix}_inputs"] if f"{prefix}_inputs" in arrays else None)
            return cls(splits["train"], splits["eval"], summary)

        return read_array_cache(run_dir, arrays_file=EXAMPLES_FILE, summary_file=DATA_FILE,
                                build=build, what="example cache")


def source_of(*, midi_dir: str | None, examples: str | None) -> dict:
    """How a run names its data source (absolute path), for the resume check."""
    if midi_dir is not None:
        return {"midi_dir": os.path.abspath(midi_dir)}
    return {"examples": os.path.abspath(examples)}


def prepare_training_data(*, midi_dir: str | None, examples: str | None, converter,
                          converter_name: str, options: ConverterOptions, n_steps: int,
                          output_depths: Sequence[int], eval_fraction: float, seed: int,
                          num_workers: int | None = None, progress: bool = False,
                          runner: str = LOCAL,
                          pipeline_args: Sequence[str] = ()) -> TrainingData:
    """Read, convert and split a data source (see the module docstring).

    A folder is converted on ``runner`` (:func:`convert_midi_dir`).

    Raises
    ------
    NoExamplesError
        If nothing usable came out, with the reasons per file.
    """
    extract = all_windows_converter(converter)
    if midi_dir is not None:
        results = convert_midi_dir(midi_dir, extract, n_steps=n_steps,
                                   output_depths=output_depths, num_workers=num_workers,
                                   progress=progress, runner=runner,
                                   pipeline_args=pipeline_args)
    else:
        results = convert_tfrecord(examples, extract, n_steps=n_steps,
                                   output_depths=output_depths)
    if not any(len(r) for r in results):
        raise NoExamplesError(no_examples_message(results, converter))
    train_files, eval_files = split_by_file(results, eval_fraction=eval_fraction, seed=seed)
    train = ExampleSet.from_files(train_files)
    held_out = (ExampleSet.from_files(
        eval_files, max_per_file=converter.max_tensors_per_notesequence)
        if eval_files else None)
    unreadable = [r for r in results if r.unreadable is not None]
    summary = {
        "source": source_of(midi_dir=midi_dir, examples=examples),
        "converter": converter_name,
        "converter_options": options.to_dict(),
        "eval_fraction": eval_fraction,
        "seed": seed,
        "n_files": len(results),
        "n_unreadable": len(unreadable),
        "n_files_without_examples": sum(1 for r in results if not len(r)),
        "train": {"n_files": len(train.files), "n_examples": len(train)},
        "held_out": {"n_files": len(held_out.files) if held_out else 0,
                     "n_examples": len(held_out) if held_out else 0},
        "rejections": dict(count_reasons(results).most_common()),
    }
    return TrainingData(train, held_out, summary)


def check_cached_data(cached: TrainingData, *, source: dict | None, converter_name: str,
                      options: ConverterOptions, eval_fraction: float, seed: int) -> None:
    """Refuse to resume a run with another data source or extraction settings.

    ``source`` None means "whatever the run used" (resuming without naming it).
    """
    # Options are compared parsed, so a run saved before an option existed
    # still matches that option's default.
    s = dict(cached.summary, converter_options=ConverterOptions.from_dict(
        cached.summary.get("converter_options")).to_dict())
    wanted = {"converter": converter_name, "converter_options": options.to_dict(),
              "eval_fraction": eval_fraction, "seed": seed}
    if source is not None:
        wanted["source"] = source
    for key, value in wanted.items():
        if s.get(key) != value:
            raise ParameterError(
                f"--run-dir: the run's cached examples were made with {key}={s.get(key)!r}, "
                f"this command asks for {value!r}; use a new --run-dir or the same settings")
