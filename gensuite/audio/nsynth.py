"""NSynth-format note data sets: render them from soundfonts, write them, read them.

The format is the real NSynth's (https://magenta.tensorflow.org/datasets/nsynth):
TFRecord files of ``tf.train.Example`` with the features below, plus an
``examples.json`` index keyed by ``note_str`` holding every feature but the
audio. Files written here train GANSynth like the real data set, and the
reader takes the real data set's TFRecords unchanged.

==========================  =========  ======================================
feature                     type       meaning
==========================  =========  ======================================
note                        int64      unique id of the note
note_str                    bytes      ``<instrument_str>-<pitch:03>-<velocity:03>``
instrument                  int64      instrument id
instrument_str              bytes      ``<family>_<source>_<index:03>``
pitch, velocity             int64      MIDI 0-127
sample_rate                 int64      16000
audio                       float      64,000 samples in [-1, 1]
instrument_family(_str)     int64      0-10: bass, brass, flute, guitar, ...
instrument_source(_str)     int64      0 acoustic, 1 electronic, 2 synthetic
qualities                   int64 x10  0/1 per quality (bright ... tempo-synced)
qualities_str               bytes x n  names of the qualities present
==========================  =========  ======================================

Rendered notes use ``soundfont_index * 128 + program`` as the instrument id and
index: one instrument is one (soundfont, GM program) pair, as one NSynth
instrument is one recorded instrument. With one soundfont that is the program
(``keyboard_acoustic_000`` is its program 0); built from several, the second
soundfont's program 0 is ``keyboard_acoustic_128``, and ``examples.json``
names each note's soundfont file. Every quality is left 0: NSynth's qualities
were human-annotated, and we do not guess them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import glob
import itertools
import json
import math
import os
import re
import shutil
import tempfile
import time
import warnings
from collections.abc import Iterable, Sequence

import numpy as np

from gensuite.common.beam import LOCAL, Converted
from gensuite.common.errors import InputFileError, NoExamplesError, ParameterError
from gensuite.common.fileio import atomic_path, write_text_atomic
from gensuite.common.parallel import map_in_processes
from gensuite.common.tfrecord import CORRUPT, parse_message, read_records

NSYNTH_SAMPLE_RATE = 16000
NSYNTH_N_SAMPLES = 64000

INSTRUMENT_FAMILIES = ("bass", "brass", "flute", "guitar", "keyboard", "mallet", "organ",
                       "reed", "string", "synth_lead", "vocal")
INSTRUMENT_SOURCES = ("acoustic", "electronic", "synthetic")
QUALITIES = ("bright", "dark", "distortion", "fast_decay", "long_release", "multiphonic",
             "nonlinear_env", "percussive", "reverb", "tempo-synced")
ACOUSTIC = INSTRUMENT_SOURCES.index("acoustic")

# GANSynth trains on MIDI 24-84 (61 pitch classes).
GANSYNTH_PITCH_RANGE = (24, 84)
# NSynth's five velocities.
NSYNTH_VELOCITIES = (25, 50, 75, 100, 127)

# Acoustic General MIDI programs covering every acoustic NSynth family, two
# or three per family so that a GAN sees timbre variety within each.
DEFAULT_PROGRAMS: dict[int, str] = {
    0: "keyboard",     # Acoustic Grand Piano
    6: "keyboard",     # Harpsichord
    11: "mallet",      # Vibraphone
    12: "mallet",      # Marimba
    19: "organ",       # Church Organ
    20: "organ",       # Reed Organ
    24: "guitar",      # Acoustic Guitar (nylon)
    25: "guitar",      # Acoustic Guitar (steel)
    32: "bass",        # Acoustic Bass
    40: "string",      # Violin
    42: "string",      # Cello
    48: "string",      # String Ensemble 1
    52: "vocal",       # Choir Aahs
    53: "vocal",       # Voice Oohs
    56: "brass",       # Trumpet
    57: "brass",       # Trombone
    60: "brass",       # French Horn
    65: "reed",        # Alto Sax
    68: "reed",        # Oboe
    71: "reed",        # Clarinet
    73: "flute",       # Flute
    75: "flute",       # Pan Flute
}

# Family of every GM program: (first, last, family), by GM's groups of 8
# with the exceptions NSynth's families call for (accordions and harmonica
# are free reeds, timpani and kalimba are struck, sitar to koto are plucked).
_GM_FAMILY_RANGES = (
    (0, 7, "keyboard"), (8, 15, "mallet"), (16, 20, "organ"), (21, 23, "reed"),
    (24, 31, "guitar"), (32, 39, "bass"), (40, 46, "string"), (47, 47, "mallet"),
    (48, 51, "string"), (52, 54, "vocal"), (55, 63, "brass"), (64, 71, "reed"),
    (72, 79, "flute"), (80, 103, "synth_lead"), (104, 107, "guitar"), (108, 108, "mallet"),
    (109, 109, "reed"), (110, 110, "string"), (111, 111, "reed"), (112, 117, "mallet"),
    (118, 127, "synth_lead"),
)
# Programs sampled from electric instruments (NSynth "electronic") and from
# synthesizers ("synthetic"); every other program is an acoustic recording.
_GM_ELECTRONIC = frozenset({2, 4, 5, 16, 17, 18, 26, 27, 28, 29, 30, 31, 33, 34, 35, 36, 37})
_GM_SYNTHETIC = frozenset({38, 39, 50, 51, 54, 55, 62, 63, *range(80, 104), *range(118, 128)})

# A note is audible when its peak reaches -60 dBFS; soundfonts that cannot
# play a key give exact silence, so the bar only needs to clear float noise.
DEFAULT_MIN_PEAK = 1e-3
DEFAULT_TOLERANCE_CENTS = 50.0
DEFAULT_EXAMPLES_PER_SHARD = 1000
SHARD_PREFIX = "nsynth"
INDEX_NAME = "examples.json"
REPORT_NAME = "report.json"
_TFRECORD_PATTERN = "*.tfrecord*"
_READ_BATCH = 128
_READ_BUFFER_BYTES = 1 << 22
# Instrument ids a soundfont spans: one per GM program.
INSTRUMENTS_PER_SOUNDFONT = 128


def gm_family_and_source(program: int) -> tuple[int, int]:
    """NSynth (instrument_family, instrument_source) ids of a General MIDI program 0-127."""
    if not 0 <= program <= 127:
        raise ParameterError(f"program: must be in [0, 127], got {program!r}")
    family = next(name for first, last, name in _GM_FAMILY_RANGES if first <= program <= last)
    source = ("electronic" if program in _GM_ELECTRONIC
              else "synthetic" if program in _GM_SYNTHETIC else "acoustic")
    return INSTRUMENT_FAMILIES.index(family), INSTRUMENT_SOURCES.index(source)


def program_family(program: int) -> int:
    """Family id of a program: :data:`DEFAULT_PROGRAMS`' choice, else the GM group's."""
    if program in DEFAULT_PROGRAMS:
        return INSTRUMENT_FAMILIES.index(DEFAULT_PROGRAMS[program])
    return gm_family_and_source(program)[0]


def format_instrument_str(family: int, source: int, index: int) -> str:
    """NSynth's instrument name, e.g. ``keyboard_acoustic_000``."""
    return f"{INSTRUMENT_FAMILIES[family]}_{INSTRUMENT_SOURCES[source]}_{index:03d}"


def instrument_id(*, soundfont_index: int, program: int) -> int:
    """Instrument id of GM ``program`` from soundfont ``soundfont_index`` (0 first) of a build.

    ``soundfont_index * 128 + program``: the program itself for the first (or
    only) soundfont, so ``instrument // 128`` tells a note's soundfont.
    """
    if not 0 <= program <= 127:
        raise ParameterError(f"program: must be in [0, 127], got {program!r}")
    if not soundfont_index >= 0:
        raise ParameterError(f"soundfont_index: must be >= 0, got {soundfont_index!r}")
    return soundfont_index * INSTRUMENTS_PER_SOUNDFONT + program


def format_note_str(instrument_str: str, pitch: int, velocity: int) -> str:
    """NSynth's note name, e.g. ``keyboard_acoustic_000-060-100``."""
    return f"{instrument_str}-{pitch:03d}-{velocity:03d}"


@dataclasses.dataclass(frozen=True, eq=False)
class NSynthNote:
    """One NSynth example: a note's audio and its labels.

    ``audio`` is float32 [n_samples] (64,000 in NSynth); ``qualities`` holds
    ten 0/1 flags in :data:`QUALITIES` order. ``soundfont`` is the file name a
    note of a several-soundfont build was rendered from: it goes into
    ``examples.json`` only (the TFRecords keep NSynth's features), and is None
    otherwise, so that one-soundfont and real NSynth indexes stay NSynth's.
    """

    note: int
    instrument: int
    instrument_family: int
    instrument_source: int
    pitch: int
    velocity: int
    audio: np.ndarray
    sample_rate: int = NSYNTH_SAMPLE_RATE
    qualities: tuple[int, ...] = (0,) * len(QUALITIES)
    soundfont: str | None = None

    @property
    def instrument_str(self) -> str:
        return format_instrument_str(self.instrument_family, self.instrument_source,
                                     self.instrument)

    @property
    def note_str(self) -> str:
        return format_note_str(self.instrument_str, self.pitch, self.velocity)

    @property
    def qualities_str(self) -> list[str]:
        return [name for name, flag in zip(QUALITIES, self.qualities) if flag]

    def index_entry(self) -> dict:
        """The note's ``examples.json`` entry: every feature but the audio (and its soundfont)."""
        entry = {
            "note": self.note, "note_str": self.note_str,
            "instrument": self.instrument, "instrument_str": self.instrument_str,
            "pitch": self.pitch, "velocity": self.velocity, "sample_rate": self.sample_rate,
            "qualities": list(self.qualities), "qualities_str": self.qualities_str,
            "instrument_family": self.instrument_family,
            "instrument_family_str": INSTRUMENT_FAMILIES[self.instrument_family],
            "instrument_source": self.instrument_source,
            "instrument_source_str": INSTRUMENT_SOURCES[self.instrument_source],
        }
        if self.soundfont is not None:
            entry["soundfont"] = self.soundfont
        return entry


def rendered_note(*, program: int, family: int, pitch: int, velocity: int,
                  audio: np.ndarray, sample_rate: int = NSYNTH_SAMPLE_RATE,
                  soundfont_index: int = 0, soundfont: str | None = None) -> NSynthNote:
    """An :class:`NSynthNote` for a soundfont rendering of GM ``program``.

    The note id packs (instrument, pitch, velocity), so it is unique within a build.

    Parameters
    ----------
    soundfont_index : int
        Position of the soundfont among those a data set is built from; the
        instrument id is :func:`instrument_id` of it and ``program``.
    soundfont : str, optional
        File name for ``examples.json`` (see :class:`NSynthNote`).
    """
    source = gm_family_and_source(program)[1]
    instrument = instrument_id(soundfont_index=soundfont_index, program=program)
    return NSynthNote(note=(instrument * 128 + pitch) * 128 + velocity, instrument=instrument,
                      instrument_family=family, instrument_source=source, pitch=pitch,
                      velocity=velocity, audio=audio, sample_rate=sample_rate,
                      soundfont=soundfont)


def note_to_example_bytes(note: NSynthNote) -> bytes:
    """Serialize a note as NSynth's ``tf.train.Example``."""
    from gensuite.common.tfutil import import_tensorflow

    tf = import_tensorflow()

    def ints(*values):
        return tf.train.Feature(int64_list=tf.train.Int64List(value=list(values)))

    def strings(*values):
        return tf.train.Feature(bytes_list=tf.train.BytesList(
            value=[v.encode("utf-8") for v in values]))

    entry = note.index_entry()
    feature = {
        "note": ints(entry["note"]),
        "note_str": strings(entry["note_str"]),
        "instrument": ints(entry["instrument"]),
        "instrument_str": strings(entry["instrument_str"]),
        "pitch": ints(entry["pitch"]),
        "velocity": ints(entry["velocity"]),
        "sample_rate": ints(entry["sample_rate"]),
        "audio": tf.train.Feature(float_list=tf.train.FloatList(
            value=np.asarray(note.audio, np.float32).tolist())),
        "qualities": ints(*entry["qualities"]),
        "qualities_str": strings(*entry["qualities_str"]),
        "instrument_family": ints(entry["instrument_family"]),
        "instrument_family_str": strings(entry["instrument_family_str"]),
        "instrument_source": ints(entry["instrument_source"]),
        "instrument_source_str": strings(entry["instrument_source_str"]),
    }
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def shard_name(index: int, n_shards: int, *, prefix: str = SHARD_PREFIX) -> str:
    """``nsynth-00000-of-00004.tfrecord``."""
    return f"{prefix}-{index:05d}-of-{n_shards:05d}.tfrecord"


class NSynthWriter:
    """Write notes round-robin into ``n_shards`` TFRecord files plus ``examples.json``.

    Use as a context manager. Every file appears at once when the block ends
    without error (see :func:`gensuite.common.fileio.atomic_path`); on error none
    does and older files are left as they were. Shards left over from an
    earlier run with another shard count are removed.
    """

    def __init__(self, out_dir: str | os.PathLike, *, n_shards: int = 1,
                 prefix: str = SHARD_PREFIX):
        if n_shards < 1:
            raise ParameterError(f"n_shards: must be >= 1, got {n_shards!r}")
        self.out_dir = os.fspath(out_dir)
        self.paths = tuple(os.path.join(self.out_dir, shard_name(i, n_shards, prefix=prefix))
                           for i in range(n_shards))
        self.index_path = os.path.join(self.out_dir, INDEX_NAME)
        self._prefix = prefix
        self._index: dict[str, dict] = {}
        self._stack = contextlib.ExitStack()
        self._writers = []

    def __enter__(self) -> NSynthWriter:
        from gensuite.common.tfutil import import_tensorflow

        tf = import_tensorflow()
        with self._stack as stack:
            for path in self.paths:
                tmp = stack.enter_context(atomic_path(path))
                self._writers.append(stack.enter_context(tf.io.TFRecordWriter(tmp)))
            self._stack = stack.pop_all()
        return self

    def write(self, note: NSynthNote) -> None:
        """Append one note; raises ParameterError on a repeated ``note_str``."""
        entry = note.index_entry()
        if entry["note_str"] in self._index:
            raise ParameterError(f"note_str: must be unique, {entry['note_str']!r} repeats")
        self._writers[len(self._index) % len(self._writers)].write(note_to_example_bytes(note))
        self._index[entry["note_str"]] = entry

    @property
    def n_written(self) -> int:
        return len(self._index)

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            # The index joins the shards' commit: written before they are renamed.
            with contextlib.ExitStack() as guard:
                guard.push(self._stack)
                write_text_atomic(self.index_path, format_index(self._index))
            remove_stale_shards(self.out_dir, keep=self.paths, prefix=self._prefix)
            return False
        return self._stack.__exit__(exc_type, exc, tb)


def remove_stale_shards(out_dir: str, *, keep: Sequence[str], prefix: str = SHARD_PREFIX) -> None:
    """Remove shards of an earlier run with another shard count from ``out_dir``."""
    pattern = re.compile(re.escape(prefix) + r"-\d{5}-of-\d{5}\.tfrecord")
    keep = {os.path.basename(p) for p in keep}
    for name in os.listdir(out_dir):
        if pattern.fullmatch(name) and name not in keep:
            os.remove(os.path.join(out_dir, name))


def format_index(index: dict[str, dict]) -> str:
    """``examples.json`` text: one note per line, so that it diffs and greps well."""
    lines = [f"  {json.dumps(key)}: {json.dumps(entry)}" for key, entry in index.items()]
    return "{\n" + ",\n".join(lines) + "\n}\n"


def write_nsynth(notes: Iterable[NSynthNote], out_dir: str | os.PathLike, *,
                 n_shards: int = 1, prefix: str = SHARD_PREFIX) -> tuple[str, ...]:
    """Write notes as NSynth TFRecord shards plus ``examples.json``; returns the shard paths.

    Raises
    ------
    NoExamplesError
        If ``notes`` is empty (nothing is written).
    """
    with NSynthWriter(out_dir, n_shards=n_shards, prefix=prefix) as writer:
        for note in notes:
            writer.write(note)
        if writer.n_written == 0:
            raise NoExamplesError(f"{out_dir}: no notes to write")
    return writer.paths


# ---------------------------------------------------------------- reading


@dataclasses.dataclass(frozen=True, eq=False)
class NSynthArrays:
    """Notes read by :func:`read_nsynth`, one row per note.

    Attributes
    ----------
    audio : np.ndarray
        float32 [n, n_samples].
    pitch, velocity, instrument, instrument_family, instrument_source : np.ndarray
        int64 [n].
    note_str : np.ndarray
        str [n].
    files : tuple of str
        Every file read in full.
    file_index : np.ndarray
        int64 [n]: which of ``files`` each note came from.
    skipped : tuple of dict
        ``{"file", "reason"}`` for each file skipped as unreadable; none of
        its notes are in the arrays.
    n_filtered_out : int
        Notes read but left out by the filters.
    """

    audio: np.ndarray
    pitch: np.ndarray
    velocity: np.ndarray
    instrument: np.ndarray
    instrument_family: np.ndarray
    instrument_source: np.ndarray
    note_str: np.ndarray
    files: tuple[str, ...]
    file_index: np.ndarray
    skipped: tuple[dict, ...]
    n_filtered_out: int

    def __len__(self) -> int:
        return len(self.pitch)


def find_nsynth_files(paths_or_dir) -> list[str]:
    """Expand folders (their ``*.tfrecord*`` files, sorted) and check files exist.

    Raises
    ------
    InputFileError
        If a path is missing, or a folder holds no TFRecord files.
    """
    items = [paths_or_dir] if isinstance(paths_or_dir, (str, os.PathLike)) else list(paths_or_dir)
    if not items:
        raise ParameterError("paths_or_dir: must name at least one file or folder, got none")
    files = []
    for item in map(os.fspath, items):
        if os.path.isdir(item):
            found = sorted(glob.glob(os.path.join(glob.escape(item), _TFRECORD_PATTERN)))
            if not found:
                raise InputFileError(item, "holds no *.tfrecord files")
            files.extend(found)
        elif os.path.isfile(item):
            files.append(item)
        else:
            raise InputFileError(item, "no such file or folder")
    return files


def resolve_families(instrument_families) -> frozenset[int] | None:
    """Family ids from ids or names (``"guitar"``); None passes through."""
    if instrument_families is None:
        return None
    if isinstance(instrument_families, (str, int)):
        instrument_families = [instrument_families]
    ids = set()
    for family in instrument_families:
        if isinstance(family, str) and family in INSTRUMENT_FAMILIES:
            ids.add(INSTRUMENT_FAMILIES.index(family))
        elif isinstance(family, (int, np.integer)) and 0 <= family < len(INSTRUMENT_FAMILIES):
            ids.add(int(family))
        else:
            raise ParameterError(
                f"instrument_families: {family!r} is not a family id 0-10 or one of "
                f"{', '.join(INSTRUMENT_FAMILIES)}")
    return frozenset(ids)


def _check_pitch_range(pitch_range) -> tuple[int, int] | None:
    if pitch_range is None:
        return None
    try:
        low, high = (int(v) for v in pitch_range)
    except (TypeError, ValueError):
        raise ParameterError(f"pitch_range: must be (low, high) or None, got {pitch_range!r}") \
            from None
    if not 0 <= low <= high <= 127:
        raise ParameterError(
            f"pitch_range: must satisfy 0 <= low <= high <= 127, got {pitch_range!r}")
    return low, high


def _parse_spec(tf):
    # Only what training needs is required; the rest has defaults so that
    # NSynth-like files written by other tools still read.
    return {
        "pitch": tf.io.FixedLenFeature([1], tf.int64),
        "audio": tf.io.VarLenFeature(tf.float32),
        "instrument_family": tf.io.FixedLenFeature([1], tf.int64),
        "instrument_source": tf.io.FixedLenFeature([1], tf.int64),
        "velocity": tf.io.FixedLenFeature([1], tf.int64, default_value=[0]),
        "instrument": tf.io.FixedLenFeature([1], tf.int64, default_value=[-1]),
        "note_str": tf.io.FixedLenFeature([], tf.string, default_value=""),
    }


# What the reader asks of each feature (see _parse_spec): the list kind, the
# number of values (None: any), and whether a note must have it. Checked in
# Python only to say why TensorFlow refused a file.
_FEATURES = {
    "pitch": ("int64_list", 1, True),
    "audio": ("float_list", None, True),
    "instrument_family": ("int64_list", 1, True),
    "instrument_source": ("int64_list", 1, True),
    "velocity": ("int64_list", 1, False),
    "instrument": ("int64_list", 1, False),
    "note_str": ("bytes_list", 1, False),
}
_NOT_NSYNTH = "records are not NSynth examples"


def _read_checked(tf, path: str, *, n_samples: int, keep) -> tuple[dict, int]:
    """:func:`_read_file`, raising InputFileError with why a file is not NSynth examples."""
    if os.path.getsize(path) == 0:
        # TensorFlow reads an empty file as zero notes, which would fail far
        # from here (or train on nothing).
        raise InputFileError(path, "is empty, not an NSynth example TFRecord")
    try:
        return _read_file(tf, path, n_samples=n_samples, keep=keep)
    except tf.errors.DataLossError:
        raise InputFileError(path, CORRUPT) from None
    # TensorFlow quotes the refused record in its message and fails to decode
    # binary bytes there as UTF-8: the UnicodeDecodeError is that refusal too.
    except (tf.errors.InvalidArgumentError, UnicodeDecodeError) as exc:
        detail = _first_bad_record(tf, path) or _first_line(exc)
        raise InputFileError(path, f"{_NOT_NSYNTH} ({detail})") from None


def _first_bad_record(tf, path: str) -> str | None:
    """Why the first record that is not an NSynth example is not one (None: all are)."""
    for index, data in enumerate(read_records(path)):
        try:
            example = parse_message(data, tf.train.Example)
        except ValueError as exc:
            return f"record {index} is not a tf.train.Example: {exc}"
        features = example.features.feature
        for name, (kind, count, required) in _FEATURES.items():
            if name not in features:
                if required:
                    return f"record {index} has no {name!r} feature"
                continue
            found = features[name].WhichOneof("kind")
            if found != kind:
                return f"record {index}'s {name!r} feature is a {found}, not a {kind}"
            n_values = len(getattr(features[name], kind).value)
            if count is not None and n_values != count:
                return f"record {index}'s {name!r} feature holds {n_values} values, not {count}"
    return None


def _first_line(exc: Exception) -> str:
    lines = (getattr(exc, "message", "") or str(exc)).strip().splitlines()
    return lines[0][:200] if lines else type(exc).__name__


def _read_file(tf, path: str, *, n_samples: int, keep) -> tuple[dict, int]:
    """Every note of one file that ``keep`` accepts, as arrays; raises TF errors."""
    spec = _parse_spec(tf)
    parts: dict[str, list] = {k: [] for k in
                              ("audio", "pitch", "velocity", "instrument", "instrument_family",
                               "instrument_source", "note_str")}
    n_filtered_out = 0
    def parse(records):
        parsed = tf.io.parse_example(records, spec)
        # Zero-pads rows shorter than the batch's longest, like NSynth's crop_or_pad.
        return parsed | {"audio": tf.sparse.to_dense(parsed["audio"])}

    dataset = tf.data.TFRecordDataset(path, buffer_size=_READ_BUFFER_BYTES).batch(
        _READ_BATCH).map(parse)
    for batch in dataset.as_numpy_iterator():
        columns = {k: v[:, 0] for k, v in batch.items()
                   if k not in ("audio", "note_str")}
        mask = keep(columns)
        n_filtered_out += int(np.size(mask) - np.count_nonzero(mask))
        if not mask.any():
            continue
        for key, column in columns.items():
            parts[key].append(column[mask])
        parts["note_str"].append(batch["note_str"][mask].astype(str))
        parts["audio"].append(_dense_audio(batch["audio"], n_samples=n_samples)[mask])
    return parts, n_filtered_out


def _dense_audio(audio: np.ndarray, *, n_samples: int) -> np.ndarray:
    """[batch, any length] -> float32 [batch, n_samples], cropped or zero-padded."""
    audio = audio[:, :n_samples].astype(np.float32, copy=False)
    if audio.shape[1] < n_samples:
        audio = np.pad(audio, ((0, 0), (0, n_samples - audio.shape[1])))
    return audio


def read_nsynth(paths_or_dir, *, pitch_range: tuple[int, int] | None = GANSYNTH_PITCH_RANGE,
                acoustic_only: bool = False, instrument_families=None,
                n_samples: int = NSYNTH_N_SAMPLES) -> NSynthArrays:
    """Read NSynth TFRecords (ours or the real data set) into numpy arrays.

    Parameters
    ----------
    paths_or_dir : str, os.PathLike or sequence of them
        TFRecord files and/or folders (each folder's ``*.tfrecord*`` files).
    pitch_range : (int, int) or None
        Inclusive MIDI range kept; GANSynth's 24-84 by default, None keeps all.
    acoustic_only : bool
        Keep only ``instrument_source == 0`` (acoustic), as the GANSynth paper
        trained. Magenta's code filtered on source 1 (electronic) by mistake
        (magenta/magenta#1607); this is the paper's intent.
    instrument_families : iterable of int or str, optional
        Family ids or names to keep (e.g. ``["guitar", 4]``); None keeps all.
    n_samples : int
        Audio is cropped or zero-padded to this length.

    Returns
    -------
    NSynthArrays
        Notes in file order. Among several files (a folder or a list), one
        that cannot be read (corrupt or truncated TFRecord, empty, records
        that are not NSynth examples) is skipped as a whole, listed in
        ``skipped`` and warned about with ``warnings.warn``.

    Raises
    ------
    InputFileError
        If a path is missing, a folder holds no TFRecord files, or
        ``paths_or_dir`` names one file and it cannot be read (e.g.
        "F.tfrecord: records are not NSynth examples (record 0 has no 'pitch'
        feature)").
    NoExamplesError
        If no file of a folder or list could be read at all, or no note read
        passes the filters.
    """
    pitch_range = _check_pitch_range(pitch_range)
    families = resolve_families(instrument_families)
    if not (isinstance(n_samples, (int, np.integer)) and n_samples >= 1):
        raise ParameterError(f"n_samples: must be an integer >= 1, got {n_samples!r}")
    files = find_nsynth_files(paths_or_dir)
    # One file named on its own (alone or as a list of one) is the whole data
    # set: skipping it would only end in "none could be read" after a warning,
    # two lines for one problem.
    named = [paths_or_dir] if isinstance(paths_or_dir, (str, os.PathLike)) else list(paths_or_dir)
    strict = len(named) == 1 and os.path.isfile(named[0])

    def keep(columns: dict) -> np.ndarray:
        mask = np.ones(len(columns["pitch"]), bool)
        if pitch_range is not None:
            mask &= (columns["pitch"] >= pitch_range[0]) & (columns["pitch"] <= pitch_range[1])
        if acoustic_only:
            mask &= columns["instrument_source"] == ACOUSTIC
        if families is not None:
            mask &= np.isin(columns["instrument_family"], list(families))
        return mask

    from gensuite.common.tfutil import import_tensorflow

    tf = import_tensorflow()
    read, skipped, parts_per_file, n_filtered_out = [], [], [], 0
    for path in files:
        try:
            parts, n_out = _read_checked(tf, path, n_samples=int(n_samples), keep=keep)
        except InputFileError as exc:
            if strict:
                raise
            skipped.append({"file": path, "reason": exc.rule})
            warnings.warn(f"{path}: skipped, {exc.rule}", stacklevel=2)
            continue
        read.append(path)
        parts_per_file.append(parts)
        n_filtered_out += n_out
    if not read:
        first = skipped[0]
        raise NoExamplesError(f"none of the {len(files)} NSynth files could be read "
                              f"(e.g. {first['file']}: {first['reason']})")
    if not any(p["pitch"] for p in parts_per_file):
        # Empty arrays would fail deep inside training or evaluation instead.
        source = read[0] if len(read) == 1 else f"the {len(read)} NSynth files read"
        raise NoExamplesError(
            f"{source}: no note passes the filters "
            f"({_describe_filters(pitch_range, acoustic_only, families)}), of {n_filtered_out} "
            f"read")
    return NSynthArrays(
        audio=_concat([p["audio"] for p in parts_per_file], np.float32, (0, int(n_samples))),
        **{key: _concat([p[key] for p in parts_per_file], np.int64, (0,))
           for key in ("pitch", "velocity", "instrument", "instrument_family",
                       "instrument_source")},
        note_str=_concat([p["note_str"] for p in parts_per_file], str, (0,)),
        files=tuple(read), skipped=tuple(skipped), n_filtered_out=n_filtered_out,
        file_index=_concat([[np.full(sum(map(len, p["pitch"])), i)]
                            for i, p in enumerate(parts_per_file)], np.int64, (0,)))


def _describe_filters(pitch_range, acoustic_only: bool, families) -> str:
    """``"pitches 24-84, acoustic only, families guitar, keyboard"`` (the filters set)."""
    parts = []
    if pitch_range is not None:
        parts.append(f"pitches {pitch_range[0]}-{pitch_range[1]}")
    if acoustic_only:
        parts.append("acoustic only")
    if families is not None:
        parts.append("families " + ", ".join(INSTRUMENT_FAMILIES[i] for i in sorted(families)))
    return ", ".join(parts)


def _concat(per_file: list[list[np.ndarray]], dtype, empty_shape) -> np.ndarray:
    chunks = [chunk for chunks in per_file for chunk in chunks]
    if not chunks:
        return np.zeros(empty_shape, dtype)
    return np.concatenate(chunks).astype(dtype, copy=False)


# ---------------------------------------------------------------- building


@dataclasses.dataclass(frozen=True)
class NoteCheck:
    """What rendering and checking one (soundfont, program, pitch, velocity) gave.

    ``reason`` is empty for a kept note, else the rule it broke;
    ``soundfont_index`` is the soundfont's position in the build's list.
    """

    program: int
    pitch: int
    velocity: int
    peak: float
    cents: float
    reason: str = ""
    soundfont_index: int = 0


@dataclasses.dataclass(frozen=True)
class NSynthBuildReport:
    """What :func:`build_nsynth` rendered, kept and dropped.

    ``soundfont`` is the soundfont's path when the build had one, None when it
    had several; ``soundfonts`` lists them either way. ``per_program`` and
    ``dropped`` entries name their soundfont file and instrument id.
    """

    out_dir: str
    soundfont: str | None
    soundfonts: tuple[dict, ...]   # {index, name, path, instruments: [first, last]}
    sample_rate: int
    shards: tuple[str, ...]
    index: str
    n_planned: int
    n_kept: int
    seconds: float
    # One entry per instrument, i.e. per (soundfont, program):
    # {program, name, preset, family, kept, dropped, soundfont, instrument}
    per_program: tuple[dict, ...]
    # {program, pitch, velocity, reason, peak, cents, soundfont, instrument}
    dropped: tuple[dict, ...]
    drop_reasons: dict             # reason kind -> count
    max_abs_cents_kept: float
    median_abs_cents_kept: float
    # |cents| of kept notes rounded to pYIN's 10-cent bins -> count, e.g. {"0": 2900, "10": 300}
    abs_cents_kept_counts: dict

    @property
    def n_dropped(self) -> int:
        return len(self.dropped)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self) | {"n_dropped": self.n_dropped}, indent=1)


def _reason_kind(reason: str) -> str:
    return reason.split(":", 1)[0]


# Synthesizers of this process, least recently used first: (soundfont, sample_rate) -> renderer.
_RENDERERS: dict[tuple[str, int], object] = {}


def _worker_renderer(soundfont: str, sample_rate: int, *, keep: int = 1):
    """This process's synthesizer for ``soundfont``, loaded once (FluidR3 takes 0.1-0.8 s).

    At most ``keep`` stay cached, the least recently used going first: each
    holds its soundfont's samples in memory (150 MB for FluidR3), so the pool
    keeps one and hands its workers the jobs grouped by soundfont, while Beam,
    which shuffles the jobs, keeps one per soundfont. Cleared by
    :func:`_clear_worker_renderers` when build_nsynth ran the jobs in its own process.
    """
    from gensuite.audio.soundfont import SoundfontRenderer

    key = (soundfont, sample_rate)
    renderer = _RENDERERS.pop(key, None)
    if renderer is None:
        # Dropped, not closed: a runner thread may still be rendering with it,
        # and its finalizer frees the synthesizer once nothing does.
        while _RENDERERS and len(_RENDERERS) >= keep:
            del _RENDERERS[next(iter(_RENDERERS))]
        renderer = SoundfontRenderer(soundfont, sample_rate=sample_rate)
    _RENDERERS[key] = renderer  # (re)inserted last: the most recently used
    return renderer


def _clear_worker_renderers() -> None:
    _RENDERERS.clear()


@dataclasses.dataclass(frozen=True)
class _PitchJob:
    soundfont: str
    sample_rate: int
    program: int
    pitch: int
    velocities: tuple[int, ...]
    min_peak: float
    tolerance_cents: float
    soundfont_index: int = 0
    # The file name examples.json gives the notes (None: one soundfont, NSynth's entries).
    soundfont_label: str | None = None
    renderers_kept: int = 1


def _render_and_check(job: _PitchJob) -> list[tuple[NoteCheck, np.ndarray | None]]:
    """Worker: render one program at one pitch at every velocity, and check each note."""
    from gensuite.audio.pitch import cents_between, estimate_note_f0_hz

    renderer = _worker_renderer(job.soundfont, job.sample_rate, keep=job.renderers_kept)
    results = []
    for velocity in job.velocities:
        audio = renderer.render_note(program=job.program, pitch=job.pitch, velocity=velocity)
        peak = float(np.max(np.abs(audio)))
        cents, reason = math.nan, ""
        if peak < job.min_peak:
            reason = f"silent: peak {peak:.1e} below {job.min_peak:.0e}"
        else:
            f0_hz = estimate_note_f0_hz(audio, sample_rate=job.sample_rate, midi_pitch=job.pitch)
            cents = cents_between(f0_hz, job.pitch)
            if math.isnan(cents):
                reason = "unpitched: no voiced frame in the first second"
            elif abs(cents) > job.tolerance_cents:
                reason = f"off pitch: {cents:+.0f} cents, over {job.tolerance_cents:g}"
        check = NoteCheck(job.program, job.pitch, velocity, round(peak, 5),
                          round(cents, 1) if not math.isnan(cents) else math.nan, reason,
                          soundfont_index=job.soundfont_index)
        results.append((check, None if reason else audio))
    return results


def _kept_note(check: NoteCheck, audio: np.ndarray, *, sample_rate: int,
               soundfont_label: str | None) -> NSynthNote:
    return rendered_note(program=check.program, family=program_family(check.program),
                         pitch=check.pitch, velocity=check.velocity, audio=audio,
                         sample_rate=sample_rate, soundfont_index=check.soundfont_index,
                         soundfont=soundfont_label)


def check_build_args(*, programs: Sequence[int], pitches: Sequence[int],
                     velocities: Sequence[int]) -> None:
    """Raise :class:`ParameterError` for an empty or out-of-range list."""
    for name, values, low in (("programs", programs, 0), ("pitches", pitches, 0),
                              ("velocities", velocities, 1)):
        if len(values) == 0:
            raise ParameterError(f"{name}: must not be empty")
        bad = [v for v in values if not (isinstance(v, (int, np.integer)) and low <= v <= 127)]
        if bad:
            raise ParameterError(f"{name}: must be integers in [{low}, 127], got {bad[0]!r}")
        if len(set(values)) != len(values):
            raise ParameterError(f"{name}: must not repeat a value, got {list(values)}")


def build_nsynth(*, out_dir: str | os.PathLike,
                 soundfont: str | os.PathLike | Sequence[str | os.PathLike] | None = None,
                 programs: Sequence[int] | None = None,
                 pitches: Sequence[int] = range(GANSYNTH_PITCH_RANGE[0],
                                                GANSYNTH_PITCH_RANGE[1] + 1),
                 velocities: Sequence[int] = NSYNTH_VELOCITIES,
                 sample_rate: int = NSYNTH_SAMPLE_RATE, min_peak: float = DEFAULT_MIN_PEAK,
                 tolerance_cents: float = DEFAULT_TOLERANCE_CENTS,
                 examples_per_shard: int = DEFAULT_EXAMPLES_PER_SHARD,
                 num_workers: int | None = None, progress: bool = False,
                 runner: str = LOCAL, pipeline_args: Sequence[str] = ()) -> NSynthBuildReport:
    """Render soundfonts x programs x pitches x velocities into one NSynth data set.

    Each note is rendered the NSynth way (held 3 s, recorded 4 s, 16 kHz mono)
    and kept only if it is audible (peak >= ``min_peak``) and within
    ``tolerance_cents`` of its pitch (pYIN searching 11 semitones either side,
    see :mod:`gensuite.audio.pitch`). Notes of programs a soundfont lacks, silent
    notes and off-pitch notes are dropped and listed in the report, which is
    also written as ``report.json`` next to the shards and ``examples.json``.

    One instrument is one (soundfont, program) pair: its id is
    ``soundfont_index * 128 + program`` (:func:`instrument_id`), so a single
    soundfont gives the ids, names and bytes it always gave, and the second
    soundfont's program 0 is instrument 128, ``keyboard_acoustic_128``. With
    several soundfonts, ``examples.json`` entries also name their soundfont
    file (``"soundfont"``); ``report.json`` lists the soundfonts with their
    index either way.

    Parameters
    ----------
    out_dir : str or os.PathLike
        Folder for ``nsynth-NNNNN-of-NNNNN.tfrecord`` shards (about
        ``examples_per_shard`` notes, 256 kB each, per shard).
    soundfont : str, os.PathLike or sequence of them, optional
        SF2/SF3 file, or several (none twice), in the order that numbers them;
        default see :func:`gensuite.audio.soundfont.find_soundfont`.
    programs : sequence of int, optional
        GM programs 0-127, rendered from every soundfont; default :data:`DEFAULT_PROGRAMS`.
    pitches, velocities : sequence of int
        MIDI pitches (default 24-84) and velocities (default NSynth's five).
    num_workers : int, optional
        Processes; default every core.
    progress : bool
        Show a progress bar on stderr (local pool only).
    runner : str
        ``"local"`` (this machine's process pool) or a Beam runner name
        (:mod:`gensuite.common.beam`): the same notes, shards filled in the
        order the workers finish.
    pipeline_args : sequence of str
        Beam pipeline options, passed through.

    Raises
    ------
    ParameterError
        If a list is empty or out of range, or a soundfont is named twice.
    InputFileError
        If a soundfont is missing or not SF2/SF3 (checked before anything is written).
    SynthUnavailableError
        If FluidSynth is not installed.
    NoExamplesError
        If no note passes the checks (nothing is written).
    """
    from gensuite.audio.soundfont import SoundfontRenderer, check_sample_rate, find_soundfonts

    started = time.perf_counter()
    programs = list(DEFAULT_PROGRAMS) if programs is None else list(programs)
    pitches, velocities = list(pitches), list(velocities)
    check_build_args(programs=programs, pitches=pitches, velocities=velocities)
    check_sample_rate(sample_rate)
    if examples_per_shard < 1:
        raise ParameterError(f"examples_per_shard: must be >= 1, got {examples_per_shard!r}")
    soundfonts = [os.path.abspath(path) for path in find_soundfonts(soundfont)]
    # One soundfont's index entries stay NSynth's own; several name their file.
    labels = ([None] if len(soundfonts) == 1
              else [os.path.basename(path) for path in soundfonts])
    n_planned = len(soundfonts) * len(programs) * len(pitches) * len(velocities)

    # Ask each soundfont once, here, which programs it has; closed before the
    # workers fork so that none inherits a live synthesizer.
    names: dict[tuple[int, int], str | None] = {}
    for i, path in enumerate(soundfonts):
        with SoundfontRenderer(path, sample_rate=sample_rate) as renderer:
            names.update({(i, p): renderer.preset_name(p) for p in programs})
    checks: list[NoteCheck] = [
        NoteCheck(p, pitch, v, 0.0, math.nan,
                  "no preset: the soundfont has no bank 0 preset for this program",
                  soundfont_index=i)
        for (i, p), name in names.items() if name is None for pitch in pitches
        for v in velocities]
    # Grouped by soundfont (the pool hands jobs out in order), so that a pool
    # worker loads each soundfont at most once while keeping only one loaded;
    # Beam shuffles them, so its workers keep every soundfont loaded.
    renderers_kept = 1 if runner == LOCAL else len(soundfonts)
    jobs = [_PitchJob(soundfonts[i], sample_rate, p, pitch, tuple(velocities), min_peak,
                      tolerance_cents, soundfont_index=i, soundfont_label=labels[i],
                      renderers_kept=renderers_kept)
            for (i, p), name in names.items() if name is not None for pitch in pitches]

    n_shards = max(1, math.ceil(n_planned / examples_per_shard))

    def make_report(shards, index_path):
        report = _build_report(
            checks, names=names, out_dir=os.fspath(out_dir), soundfonts=soundfonts,
            sample_rate=sample_rate, shards=shards, index=index_path, n_planned=n_planned,
            seconds=time.perf_counter() - started)
        if report.n_kept == 0:
            raise NoExamplesError(
                f"{', '.join(soundfonts)}: none of the {n_planned} notes passed the checks "
                f"(e.g. {report.dropped[0]['reason']})")
        return report

    if runner != LOCAL:
        order = {key: i for i, key in enumerate(itertools.product(
            range(len(soundfonts)), programs, pitches, velocities))}
        return _build_nsynth_with_beam(
            jobs, os.fspath(out_dir), checks=checks, make_report=make_report,
            note_order=order, n_shards=n_shards, runner=runner, num_workers=num_workers,
            pipeline_args=pipeline_args)
    try:
        with map_in_processes(_render_and_check, jobs, num_workers=num_workers,
                              progress=progress, desc="nsynth", unit="pitch") as results, \
                NSynthWriter(out_dir, n_shards=n_shards) as writer:
            for job_results in results:
                for check, audio in job_results:
                    checks.append(check)
                    if audio is not None:
                        writer.write(_kept_note(check, audio, sample_rate=sample_rate,
                                                soundfont_label=labels[check.soundfont_index]))
            report = make_report(writer.paths, writer.index_path)
            write_text_atomic(os.path.join(os.fspath(out_dir), REPORT_NAME),
                              report.to_json() + "\n")
    finally:
        _clear_worker_renderers()
    return report


def _render_for_beam(job: _PitchJob) -> Converted:
    """Beam worker: a pitch job's kept notes as records, every note's check as a report."""
    records, reports = [], []
    for check, audio in _render_and_check(job):
        entry = None
        if audio is not None:
            note = _kept_note(check, audio, sample_rate=job.sample_rate,
                              soundfont_label=job.soundfont_label)
            records.append(note_to_example_bytes(note))
            # As text: the pipeline sorts report keys, the index keeps the entry's order.
            entry = json.dumps(note.index_entry())
        reports.append({"check": dataclasses.asdict(check), "entry": entry})
    return Converted(records=tuple(records), reports=tuple(reports))


def _build_nsynth_with_beam(jobs, out_dir: str, *, checks: list[NoteCheck], make_report,
                            note_order: dict, n_shards: int, runner: str, num_workers,
                            pipeline_args) -> NSynthBuildReport:
    """:func:`build_nsynth` on a Beam runner: the same notes, index and report.

    The shards are written into a temporary folder inside ``out_dir`` and
    moved into place only once the report says some note was kept.
    """
    from gensuite.common.beam import run_records_pipeline  # noqa: PLC0415

    os.makedirs(out_dir, exist_ok=True)
    staging = tempfile.mkdtemp(dir=out_dir, prefix=f".beam.{os.getpid()}-")
    try:
        outcome = run_records_pipeline(
            _render_for_beam, jobs, out_path=os.path.join(staging, SHARD_PREFIX),
            runner=runner, num_shards=n_shards, shard_suffix=".tfrecord",
            one_file_unnumbered=False, num_workers=num_workers, pipeline_args=pipeline_args)
        reports = sorted(outcome.reports, key=lambda r: note_order[(
            r["check"]["soundfont_index"], r["check"]["program"], r["check"]["pitch"],
            r["check"]["velocity"])])
        checks.extend(NoteCheck(**r["check"]) for r in reports)
        shards = [os.path.join(out_dir, shard_name(i, n_shards)) for i in range(n_shards)]
        index_path = os.path.join(out_dir, INDEX_NAME)
        report = make_report(shards, index_path)
        entries = [json.loads(r["entry"]) for r in reports if r["entry"]]
        write_text_atomic(index_path, format_index({e["note_str"]: e for e in entries}))
        for shard in shards:
            os.replace(os.path.join(staging, os.path.basename(shard)), shard)
        remove_stale_shards(out_dir, keep=shards)
        write_text_atomic(os.path.join(out_dir, REPORT_NAME), report.to_json() + "\n")
        return report
    finally:
        # In-process runs (DirectRunner with one worker) loaded the soundfonts here.
        _clear_worker_renderers()
        shutil.rmtree(staging, ignore_errors=True)


def _build_report(checks: list[NoteCheck], *, names: dict, out_dir: str,
                  soundfonts: Sequence[str], sample_rate: int, shards, index: str,
                  n_planned: int, seconds: float) -> NSynthBuildReport:
    import pretty_midi

    file_names = [os.path.basename(path) for path in soundfonts]

    def instrument_of(check: NoteCheck) -> dict:
        return {"soundfont": file_names[check.soundfont_index],
                "instrument": instrument_id(soundfont_index=check.soundfont_index,
                                            program=check.program)}

    kept = [c for c in checks if not c.reason]
    dropped = sorted((c for c in checks if c.reason),
                     key=lambda c: (c.soundfont_index, c.program, c.pitch, c.velocity))
    by_instrument: dict[tuple[int, int], list[NoteCheck]] = {key: [] for key in names}
    for check in checks:
        by_instrument[(check.soundfont_index, check.program)].append(check)
    per_program = []
    for (i, program), mine in by_instrument.items():
        n_kept = sum(1 for c in mine if not c.reason)
        per_program.append({
            "program": program, "name": pretty_midi.program_to_instrument_name(program),
            "preset": names[(i, program)],
            "family": INSTRUMENT_FAMILIES[program_family(program)],
            "kept": n_kept, "dropped": len(mine) - n_kept, "soundfont": file_names[i],
            "instrument": instrument_id(soundfont_index=i, program=program)})
    reasons: dict[str, int] = {}
    for check in dropped:
        reasons[_reason_kind(check.reason)] = reasons.get(_reason_kind(check.reason), 0) + 1
    abs_cents = np.abs([c.cents for c in kept]) if kept else np.zeros(0)
    return NSynthBuildReport(
        out_dir=out_dir, soundfont=soundfonts[0] if len(soundfonts) == 1 else None,
        soundfonts=tuple(
            {"index": i, "name": file_names[i], "path": path,
             "instruments": [instrument_id(soundfont_index=i, program=0),
                             instrument_id(soundfont_index=i, program=127)]}
            for i, path in enumerate(soundfonts)),
        sample_rate=sample_rate, shards=tuple(shards),
        index=index, n_planned=n_planned, n_kept=len(kept), seconds=round(seconds, 1),
        per_program=tuple(per_program),
        dropped=tuple({"program": c.program, "pitch": c.pitch, "velocity": c.velocity,
                       "reason": c.reason, "peak": c.peak,
                       "cents": None if math.isnan(c.cents) else c.cents} | instrument_of(c)
                      for c in dropped),
        drop_reasons=reasons,
        abs_cents_kept_counts={str(k): int(n) for k, n in zip(*np.unique(
            np.round(abs_cents, -1).astype(int), return_counts=True))},
        max_abs_cents_kept=round(float(abs_cents.max()), 1) if abs_cents.size else math.nan,
        median_abs_cents_kept=round(float(np.median(abs_cents)), 1) if abs_cents.size
        else math.nan)
