"""Labelled audio for the analysis classifiers, rendered from real corpus pieces.

``build_dataset`` turns MIDI folders (``gensuite corpus export`` output) into
WAV clips through the soundfont renderer (:mod:`gensuite.audio.soundfont`) and writes::

    DATA/audio/<label>/<source>__<piece>__<clip>.wav   16-bit mono clips
    DATA/manifest.csv   file,label,split,piece,source,program,start_s,duration_s,transpose,
                        soundfont
    DATA/dataset.json   task, class names, counts per split (and per soundfont), settings,
                        failures

Two tasks:

* ``instrument``: every piece is played by one instrument class (piano,
  acoustic and electric guitar, synthesizer, strings, flute, organ, brass;
  each a small pool of General MIDI programs), moved by octaves into the
  instrument's range. Pieces are drawn in turn from every folder and shuffled
  before classes are dealt out, so no class favours a collection.
* ``collection``: the label is the folder a piece comes from (Bach chorales,
  Palestrina, Essen, ...); every piece, whatever its label, is played by a
  program drawn from one shared pool, so timbre says nothing about the label.

The train/test split is by piece, never by window or clip: every clip of a
piece lands in the same split. With several soundfonts every piece is rendered
with one of them, dealt in turn within each class and split, so every class x
soundfont x split holds about the same number of pieces; the manifest's
``soundfont`` column (the file name) lets training hold one soundfont out.
Each piece's clips, program, velocity and octave come from a random stream
seeded by ``seed`` and the piece, so a rerun with the same arguments plans the
same clips and skips the WAVs already written (every file is written
atomically).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import os
import re
import time
import zlib

import numpy as np

from gensuite.common.errors import GensuiteError, InputFileError, NoExamplesError, ParameterError
from gensuite.common.fileio import write_text_atomic

TASKS = ("instrument", "collection")
MANIFEST_FILE = "manifest.csv"
INFO_FILE = "dataset.json"
AUDIO_DIR = "audio"
MANIFEST_COLUMNS = ("file", "label", "split", "piece", "source", "program", "start_s",
                    "duration_s", "transpose", "soundfont")
SPLITS = ("train", "test")
# Rendered clips are scaled to this peak; training varies the level anyway.
CLIP_PEAK = 0.9
# Per-piece velocity shift range and per-note jitter (music21 writes velocity 90 throughout).
VELOCITY_SHIFT = (-30, 25)
VELOCITY_JITTER = 8
CLIPS_PER_BATCH = 16


@dataclasses.dataclass(frozen=True)
class InstrumentClass:
    """One label of the instrument task.

    Attributes
    ----------
    name : str
    programs : tuple of int
        General MIDI programs (0-127) it is played with; one per piece.
    low_pitch, high_pitch : int
        The instrument's usual range; pieces move by octaves to fit it best.
    """

    name: str
    programs: tuple[int, ...]
    low_pitch: int
    high_pitch: int


INSTRUMENT_CLASSES: dict[str, InstrumentClass] = {c.name: c for c in (
    InstrumentClass("piano", (0, 1), 21, 108),
    InstrumentClass("acoustic_guitar", (24, 25), 40, 84),
    InstrumentClass("electric_guitar", (26, 27, 28, 29, 30), 40, 86),
    InstrumentClass("synthesizer", (80, 81, 84, 87, 88, 90), 36, 96),
    InstrumentClass("strings", (40, 41, 42, 48, 49), 36, 96),
    InstrumentClass("flute", (72, 73, 74, 75), 60, 96),
    InstrumentClass("organ", (16, 17, 18, 19), 36, 96),
    InstrumentClass("brass", (56, 57, 60, 61), 40, 82),
)}
# The collection task's single pool: piano, church organ, string ensemble, choir.
SHARED_TIMBRES = InstrumentClass("shared", (0, 19, 48, 52), 21, 108)


# ----------------------------------------------------------------------------
# Pure planning steps


def stable_seed(*parts) -> int:
    """A 32-bit seed from strings and numbers (stable across processes and runs)."""
    return zlib.crc32("\x1f".join(str(p) for p in parts).encode("utf-8"))


def choose_clip_starts(duration_s: float, *, clip_s: float, n_clips: int,
                       rng: np.random.Generator) -> list[float]:
    """Start times of up to ``n_clips`` non-overlapping clips of ``clip_s`` seconds.

    A piece no longer than one clip gives ``[0.0]``. Otherwise the piece is cut
    into ``min(n_clips, floor(duration_s / clip_s))`` equal parts and one clip
    starts at a random point of each part, so clips never overlap.
    """
    if duration_s <= clip_s:
        return [0.0]
    n = max(1, min(n_clips, int(duration_s // clip_s)))
    part = duration_s / n
    return [float(i * part + rng.uniform(0.0, part - clip_s)) for i in range(n)]


def split_pieces(pieces: list[str], *, test_fraction: float,
                 rng: np.random.Generator) -> dict[str, str]:
    """Piece id -> "train" or "test"; ``round(test_fraction * n)`` pieces go to test.

    At least one piece goes to each split when there are two or more pieces
    and ``test_fraction > 0``.
    """
    order = list(dict.fromkeys(pieces))  # files of one piece count once
    rng.shuffle(order)
    n_test = round(test_fraction * len(order))
    if test_fraction > 0 and len(order) >= 2:
        n_test = min(max(n_test, 1), len(order) - 1)
    return {piece: ("test" if i < n_test else "train") for i, piece in enumerate(order)}


def octave_shift(pitches, *, low: int, high: int) -> int:
    """Semitones (a multiple of 12) that put the most ``pitches`` inside [low, high].

    Ties go to the smallest move. Returns 0 for no pitches.
    """
    pitches = np.asarray(list(pitches), dtype=np.int64)
    if pitches.size == 0:
        return 0
    best, best_inside = 0, -1
    for shift in sorted(range(-48, 49, 12), key=abs):
        moved = pitches + shift
        if moved.min() < 0 or moved.max() > 127:
            continue
        inside = int(np.count_nonzero((moved >= low) & (moved <= high)))
        if inside > best_inside:
            best, best_inside = shift, inside
    return best


def clip_sequence(sequence, *, start_s: float, duration_s: float):
    """The notes sounding in [start_s, start_s + duration_s), moved to start at 0.

    Notes that began earlier start at 0, notes that go on are cut at the end;
    controllers and bends are dropped (the renderer plays each clip fresh).
    """
    from note_seq import NoteSequence  # noqa: PLC0415

    end_s = start_s + duration_s
    clip = NoteSequence(ticks_per_quarter=sequence.ticks_per_quarter or 220)
    clip.filename = sequence.filename
    for note in sequence.notes:
        if note.end_time <= start_s or note.start_time >= end_s or note.is_drum:
            continue
        new = clip.notes.add()
        new.CopyFrom(note)
        new.start_time = max(note.start_time, start_s) - start_s
        new.end_time = min(note.end_time, end_s) - start_s
        clip.total_time = max(clip.total_time, new.end_time)
    return clip


def voice_sequence(sequence, *, program: int, transpose: int, velocity_shift: int,
                   rng: np.random.Generator):
    """A copy with every note on ``program``, moved ``transpose`` semitones, velocities varied."""
    voiced = type(sequence)()
    voiced.CopyFrom(sequence)
    for note in voiced.notes:
        note.program = program
        note.is_drum = False
        note.pitch = int(np.clip(note.pitch + transpose, 0, 127))
        jitter = int(rng.integers(-VELOCITY_JITTER, VELOCITY_JITTER + 1))
        note.velocity = int(np.clip(note.velocity + velocity_shift + jitter, 1, 127))
    return voiced


# ----------------------------------------------------------------------------
# Finding and probing pieces


@dataclasses.dataclass(frozen=True)
class SourcePiece:
    """A usable MIDI file: where it is, which folder it came from, how long it lasts."""

    path: str
    source: str
    duration_s: float

    @property
    def name(self) -> str:
        return os.path.splitext(os.path.basename(self.path))[0]

    @property
    def piece_id(self) -> str:
        """``source/piece``: the unit of the train/test split (see :func:`piece_group`)."""
        return f"{self.source}/{piece_group(self.name)}"


_EDITION_SUFFIX = re.compile(r"(_old|_[a-z])$")


def piece_group(name: str) -> str:
    """The piece a file belongs to: other editions and sections share a split.

    music21's corpus holds some pieces twice or in parts: ``madrigal.3.1_old``
    is ``madrigal.3.1`` at another tempo, ``Benedictus_68_a`` and ``_b`` are
    sections of one movement. Dropping those suffixes keeps each such family
    on one side of the split.
    """
    return _EDITION_SUFFIX.sub("", name)


def parse_midi_dirs(specs) -> dict[str, str]:
    """``["DIR", "NAME=DIR", ...]`` -> {source name: folder}; the name defaults to the folder's.

    Raises
    ------
    ParameterError
        If two folders get the same name.
    InputFileError
        If a folder is missing.
    """
    dirs: dict[str, str] = {}
    for spec in specs:
        name, sep, folder = str(spec).partition("=")
        if not sep or os.sep in name or not name:
            name, folder = os.path.basename(os.path.normpath(str(spec))), str(spec)
        if name in dirs:
            raise ParameterError(
                f"--midi-dir: two folders are both named {name!r}; name them NAME=DIR")
        if not os.path.isdir(folder):
            raise InputFileError(folder, "no such folder of MIDI files")
        dirs[name] = folder
    if not dirs:
        raise ParameterError("--midi-dir: give at least one folder of MIDI files")
    return dirs


def probe_piece(path: str) -> tuple[str, float, str]:
    """Worker: (path, duration in seconds, "" or why the file cannot be used)."""
    from gensuite.midi.io import read_midi  # noqa: PLC0415

    try:
        sequence = read_midi(path)
    except GensuiteError as exc:
        return path, 0.0, str(exc)
    return path, float(max(n.end_time for n in sequence.notes)), ""


def probe_in_turn(candidates: dict[str, list[str]], *, needed: dict[str, int], min_s: float,
                  num_workers: int | None, progress: bool) -> tuple[dict[str, list[SourcePiece]],
                                                                   list[dict]]:
    """Read candidate files until each source has ``needed[source]`` usable pieces (or runs out).

    Files are probed in each list's order, a batch at a time, in parallel.
    """
    from gensuite.common.parallel import map_in_processes  # noqa: PLC0415

    usable: dict[str, list[SourcePiece]] = {s: [] for s in candidates}
    position = {s: 0 for s in candidates}
    rejected: list[dict] = []
    while True:
        batch = []
        for source, paths in candidates.items():
            missing = needed[source] - len(usable[source])
            if missing > 0 and position[source] < len(paths):
                # Over-ask a little: some files are short or unreadable.
                take = paths[position[source]:position[source] + math.ceil(missing * 1.2) + 2]
                position[source] += len(take)
                batch.extend((source, p) for p in take)
        if not batch:
            return usable, rejected
        owners = dict((p, s) for s, p in batch)
        with map_in_processes(probe_piece, [p for _, p in batch], num_workers=num_workers,
                              progress=progress, desc="reading MIDI", unit="file",
                              min_jobs_per_worker=8) as results:
            for path, duration_s, reason in results:
                source = owners[path]
                if reason or duration_s < min_s:
                    rejected.append({"file": path, "reason": reason or
                                     f"lasts {duration_s:.1f} s, under --min-s {min_s:g}"})
                elif len(usable[source]) < needed[source]:
                    usable[source].append(SourcePiece(path, source, duration_s))


def list_midi_candidates(midi_dirs: dict[str, str], *, seed: int) -> dict[str, list[str]]:
    """Every MIDI file of each folder, shuffled by a seed of its own."""
    from gensuite.midi.io import find_midi_files  # noqa: PLC0415

    shuffled = {}
    for source, folder in midi_dirs.items():
        paths = find_midi_files(folder)
        np.random.default_rng(stable_seed(seed, "pieces", source)).shuffle(paths)
        shuffled[source] = paths
    return shuffled


def share_out(total: int, capacities: dict[str, int]) -> dict[str, int]:
    """Split ``total`` as evenly as possible over sources holding ``capacities`` items.

    A source with fewer items than its share gives them all and leaves the
    rest to the others (water filling); shares sum to ``min(total, sum(capacities))``.
    """
    shares = {s: 0 for s in capacities}
    left = total
    open_ = sorted(capacities, key=lambda s: capacities[s])
    while left > 0 and open_:
        each = math.ceil(left / len(open_))
        source = open_.pop(0)
        take = min(each, capacities[source], left)
        shares[source] = take
        left -= take
    return shares


def interleave(lists: list[list]) -> list:
    """[a1, b1, c1, a2, b2, ...]: one from each list in turn."""
    out = []
    for i in range(max((len(x) for x in lists), default=0)):
        out.extend(x[i] for x in lists if i < len(x))
    return out


# ----------------------------------------------------------------------------
# Planning and rendering clips


@dataclasses.dataclass(frozen=True)
class ClipJob:
    """One clip to render: a piece, a time span, a label and how to play it."""

    midi_path: str
    piece: str
    source: str
    label: str
    split: str
    program: int
    transpose_low: int
    transpose_high: int
    start_s: float
    duration_s: float
    velocity_shift: int
    file: str  # relative to the data folder
    seed: int
    soundfont: str = ""  # path; the manifest records its file name


def plan_clips(assignments: list[tuple[SourcePiece, str, InstrumentClass]], *,
               splits: dict[str, str], clip_s: float, clips_per_piece: int,
               seed: int, soundfonts: dict[str, str] | None = None) -> list[ClipJob]:
    """ClipJobs for (piece, label, timbre pool) assignments.

    Clips of a piece share its split and its soundfont (``soundfonts``: MIDI
    path -> soundfont path, from :func:`deal_soundfonts`; default: none recorded).
    """
    jobs = []
    for piece, label, timbre in assignments:
        rng = np.random.default_rng(stable_seed(seed, "clips", piece.piece_id))
        program = int(rng.choice(timbre.programs))
        velocity_shift = int(rng.integers(VELOCITY_SHIFT[0], VELOCITY_SHIFT[1] + 1))
        starts = choose_clip_starts(piece.duration_s, clip_s=clip_s, n_clips=clips_per_piece,
                                    rng=rng)
        for k, start_s in enumerate(starts):
            stem = f"{piece.source}__{piece.name}__{k:02d}"  # the file's name: unique
            jobs.append(ClipJob(
                midi_path=piece.path, piece=piece.piece_id, source=piece.source, label=label,
                split=splits[piece.piece_id], program=program,
                transpose_low=timbre.low_pitch, transpose_high=timbre.high_pitch,
                start_s=round(start_s, 3), duration_s=clip_s, velocity_shift=velocity_shift,
                file=f"{AUDIO_DIR}/{label}/{stem}.wav",
                seed=stable_seed(seed, "voice", piece.piece_id, k),
                soundfont=(soundfonts or {}).get(piece.path, "")))
    return jobs


def render_clip(renderer, job: ClipJob, *, out_dir: str, sample_rate: int) -> dict:
    """Render one clip to its WAV and return its manifest row (without the time it took).

    Raises
    ------
    NoExamplesError
        If the clip holds no notes or renders silent.
    """
    from gensuite.audio.io import peak_normalize, write_wav  # noqa: PLC0415
    from gensuite.midi.io import read_midi  # noqa: PLC0415

    sequence = clip_sequence(read_midi(job.midi_path), start_s=job.start_s,
                             duration_s=job.duration_s)
    if not sequence.notes:
        raise NoExamplesError(f"{job.piece}: no notes between {job.start_s:.1f} s and "
                              f"{job.start_s + job.duration_s:.1f} s")
    transpose = octave_shift((n.pitch for n in sequence.notes), low=job.transpose_low,
                             high=job.transpose_high)
    voiced = voice_sequence(sequence, program=job.program, transpose=transpose,
                            velocity_shift=job.velocity_shift,
                            rng=np.random.default_rng(job.seed))
    wave = renderer.render_sequence(voiced)
    if wave.size == 0 or float(np.max(np.abs(wave))) < 1e-4:
        raise NoExamplesError(f"{job.piece}: renders silent with program {job.program}")
    write_wav(os.path.join(out_dir, job.file), peak_normalize(wave, peak=CLIP_PEAK),
              sample_rate=sample_rate)
    return manifest_row(job, duration_s=wave.size / sample_rate, transpose=transpose)


def manifest_row(job: ClipJob, *, duration_s: float, transpose: int) -> dict:
    return {"file": job.file, "label": job.label, "split": job.split, "piece": job.piece,
            "source": job.source, "program": job.program, "start_s": job.start_s,
            "duration_s": round(duration_s, 3), "transpose": transpose,
            "soundfont": os.path.basename(job.soundfont)}


def batch_jobs(jobs: list[ClipJob], *, size: int = CLIPS_PER_BATCH) -> list[list[ClipJob]]:
    """Jobs in batches of up to ``size``, each of one soundfont (in the order soundfonts appear).

    A worker then loads one soundfont per batch; with one soundfont the
    batches are the plan's order cut every ``size`` jobs.
    """
    by_soundfont: dict[str, list[ClipJob]] = {}
    for job in jobs:
        by_soundfont.setdefault(job.soundfont, []).append(job)
    return [group[i:i + size] for group in by_soundfont.values()
            for i in range(0, len(group), size)]


def _render_batch(args: tuple[list[ClipJob], str, int, bool]) -> list[tuple[dict, str]]:
    """Worker: render a batch of clips of one soundfont -> [(row or job info, failure reason)]."""
    from gensuite.audio.soundfont import SoundfontRenderer  # noqa: PLC0415

    jobs, out_dir, sample_rate, overwrite = args
    results = []
    renderer = None
    try:
        for job in jobs:
            path = os.path.join(out_dir, job.file)
            try:
                if not overwrite and os.path.exists(path):
                    results.append((_existing_row(job, path), ""))
                    continue
                if renderer is None:  # loading FluidR3 takes 0.3 s: once per batch
                    renderer = SoundfontRenderer(job.soundfont or None, sample_rate=sample_rate)
                results.append((render_clip(renderer, job, out_dir=out_dir,
                                            sample_rate=sample_rate), ""))
            except GensuiteError as exc:
                results.append(({"file": job.file, "piece": job.piece,
                                 "soundfont": os.path.basename(job.soundfont)}, str(exc)))
    finally:
        if renderer is not None:
            renderer.close()
    return results


def _existing_row(job: ClipJob, path: str) -> dict:
    import soundfile  # noqa: PLC0415

    info = soundfile.info(path)
    # The octave move is a pure function of the clip's notes; recompute it.
    from gensuite.midi.io import read_midi  # noqa: PLC0415

    clip = clip_sequence(read_midi(job.midi_path), start_s=job.start_s, duration_s=job.duration_s)
    transpose = octave_shift((n.pitch for n in clip.notes), low=job.transpose_low,
                             high=job.transpose_high)
    return manifest_row(job, duration_s=info.frames / info.samplerate, transpose=transpose)


# ----------------------------------------------------------------------------
# The whole build


@dataclasses.dataclass
class DatasetReport:
    """What :func:`build_dataset` wrote."""

    task: str
    out_dir: str
    class_names: list[str]
    counts: dict[str, dict[str, int]]  # split -> label -> clips
    counts_by_soundfont: dict[str, dict[str, dict[str, int]]]  # soundfont -> split -> label
    pieces: dict[str, int]  # split -> pieces
    audio_s: float
    seconds: float
    settings: dict
    short_classes: dict[str, int]  # label -> pieces found, where fewer than asked
    failed: list[dict]  # {"file" or "piece", "reason"}
    rejected_files: int  # MIDI files passed over: unreadable or shorter than min_s

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)


def build_dataset(*, task: str, midi_dirs: dict[str, str], out_dir: str | os.PathLike,
                  pieces_per_class: int, instruments=None, clip_s: float = 20.0,
                  clips_per_piece: int = 1, min_s: float = 6.0, test_fraction: float = 0.2,
                  sample_rate: int = 16000, seed: int = 0,
                  soundfont: str | os.PathLike | list | tuple | None = None,
                  num_workers: int | None = None, overwrite: bool = False,
                  progress: bool = False) -> DatasetReport:
    """Render labelled clips of corpus pieces and write the manifest.

    Parameters
    ----------
    task : {"instrument", "collection"}
    midi_dirs : dict of str to str
        Source name -> folder of MIDI files (see :func:`parse_midi_dirs`). In the
        collection task each source is a class.
    out_dir : str or os.PathLike
        The data folder (created if needed).
    pieces_per_class : int
        Pieces per class (fewer where a collection runs out; the report says so).
    instruments : sequence of str, optional
        Instrument class names (default: all of ``INSTRUMENT_CLASSES``).
    clip_s : float
        Longest clip in seconds; a clip gets up to 1 s of release after it.
    clips_per_piece : int
        Non-overlapping clips taken from pieces long enough.
    min_s : float
        Pieces shorter than this many seconds are passed over.
    test_fraction : float
        Share of each class's pieces (instrument task: of all pieces) held out.
    sample_rate : int
        Hz of the WAVs.
    seed : int
        Decides the pieces, splits, clips, programs, velocities and soundfonts.
    soundfont : str, os.PathLike or a list of them, optional
        One soundfont, or several: each piece is rendered with one of them,
        dealt in turn within each class and split (:func:`deal_soundfonts`).
        Default: FluidR3_GM when installed
        (:func:`gensuite.audio.soundfont.find_soundfont`).
    num_workers : int, optional
        Processes (default: every core).
    overwrite : bool
        Render clips whose WAV already exists instead of keeping them.

    Raises
    ------
    ParameterError
        Unknown task or instrument, bad sizes, fewer than two classes, a
        soundfont given twice (or two with one file name), or an ``out_dir``
        rendered with other soundfonts (without ``overwrite``).
    InputFileError
        A soundfont that is missing or not SF2/SF3.
    NoExamplesError
        If a class ends up with no clips.
    """
    from gensuite.audio.soundfont import check_sample_rate  # noqa: PLC0415
    from gensuite.common.parallel import map_in_processes  # noqa: PLC0415
    from gensuite.midi.corpus import prepare_out_dir  # noqa: PLC0415

    started = time.perf_counter()
    _check_build_args(task=task, pieces_per_class=pieces_per_class, clip_s=clip_s,
                      clips_per_piece=clips_per_piece, test_fraction=test_fraction, min_s=min_s)
    sample_rate = check_sample_rate(sample_rate)
    soundfonts = resolve_soundfonts(soundfont)
    if not overwrite:
        check_same_soundfonts(out_dir, soundfonts)
    out_dir = prepare_out_dir(out_dir)
    candidates = list_midi_candidates(midi_dirs, seed=seed)

    if task == "instrument":
        classes = [get_instrument(n) for n in (instruments or list(INSTRUMENT_CLASSES))]
        if len(classes) < 2:
            raise ParameterError(f"--instruments: need at least 2, got {[c.name for c in classes]}")
        total = pieces_per_class * len(classes)
        needed = share_out(total, {s: len(paths) for s, paths in candidates.items()})
        usable, rejected = probe_in_turn(candidates, needed=needed, min_s=min_s,
                                         num_workers=num_workers, progress=progress)
        pool = interleave(list(usable.values()))[:total]
        rng = np.random.default_rng(stable_seed(seed, "deal"))
        rng.shuffle(pool)
        splits = split_pieces([p.piece_id for p in pool], test_fraction=test_fraction,
                              rng=np.random.default_rng(stable_seed(seed, "split")))
        assignments = deal_classes(pool, classes=classes, splits=splits)
        class_names = [c.name for c in classes]
        short = {c.name: len(pool) // len(classes) for c in classes
                 if len(pool) < total}
    else:
        if len(candidates) < 2:
            raise ParameterError(
                f"--midi-dir: the collection task needs at least 2 folders (one per class), "
                f"got {list(candidates)}")
        needed = {s: pieces_per_class for s in candidates}
        usable, rejected = probe_in_turn(candidates, needed=needed, min_s=min_s,
                                         num_workers=num_workers, progress=progress)
        splits = {}
        for source, pieces in usable.items():
            splits.update(split_pieces([p.piece_id for p in pieces], test_fraction=test_fraction,
                                       rng=np.random.default_rng(stable_seed(seed, "split",
                                                                             source))))
        assignments = [(p, source, SHARED_TIMBRES) for source, pieces in usable.items()
                       for p in pieces]
        class_names = list(candidates)
        short = {s: len(p) for s, p in usable.items() if len(p) < pieces_per_class}

    dealt = deal_soundfonts(assignments, splits=splits, soundfonts=soundfonts, seed=seed)
    jobs = plan_clips(assignments, splits=splits, clip_s=clip_s, clips_per_piece=clips_per_piece,
                      seed=seed, soundfonts=dealt)
    batches = [(batch, out_dir, sample_rate, overwrite) for batch in batch_jobs(jobs)]
    rows, failed = [], []
    with map_in_processes(_render_batch, batches, num_workers=num_workers, progress=progress,
                          desc="rendering", unit="batch", min_jobs_per_worker=1,
                          max_chunksize=1) as results:
        for batch in results:
            for row, reason in batch:
                (failed.append({**row, "reason": reason}) if reason else rows.append(row))

    counts = {split: {name: 0 for name in class_names} for split in SPLITS}
    by_soundfont = {os.path.basename(path): {split: {name: 0 for name in class_names}
                                             for split in SPLITS} for path in soundfonts}
    for row in rows:
        counts[row["split"]][row["label"]] += 1
        by_soundfont[row["soundfont"]][row["split"]][row["label"]] += 1
    empty = [name for name in class_names if not any(counts[s][name] for s in SPLITS)]
    if empty:
        raise NoExamplesError(f"--midi-dir: no clip rendered for class(es) {', '.join(empty)}")
    write_manifest(os.path.join(out_dir, MANIFEST_FILE), rows)
    report = DatasetReport(
        task=task, out_dir=out_dir, class_names=class_names, counts=counts,
        counts_by_soundfont=by_soundfont,
        pieces={s: len({r["piece"] for r in rows if r["split"] == s}) for s in SPLITS},
        audio_s=round(sum(r["duration_s"] for r in rows), 1),
        seconds=round(time.perf_counter() - started, 1),
        settings={"midi_dirs": dict(midi_dirs), "pieces_per_class": pieces_per_class,
                  "clip_s": clip_s, "clips_per_piece": clips_per_piece, "min_s": min_s,
                  "test_fraction": test_fraction, "sample_rate": sample_rate, "seed": seed,
                  # One soundfont: its path, as before; several: None, and the list below.
                  "soundfont": soundfonts[0] if len(soundfonts) == 1 else None,
                  "soundfonts": list(soundfonts),
                  "programs": {c.name: list(c.programs) for c in classes}
                  if task == "instrument" else {"shared": list(SHARED_TIMBRES.programs)}},
        short_classes=short, failed=failed, rejected_files=len(rejected))
    write_text_atomic(os.path.join(out_dir, INFO_FILE), report.to_json() + "\n")
    return report


def _check_build_args(*, task, pieces_per_class, clip_s, clips_per_piece, test_fraction, min_s):
    if task not in TASKS:
        raise ParameterError(f"--task: must be one of {', '.join(TASKS)}, got {task!r}")
    if not (isinstance(pieces_per_class, int) and pieces_per_class >= 1):
        raise ParameterError(
            f"--pieces-per-class: must be an integer >= 1, got {pieces_per_class!r}")
    if not clip_s > 0:
        raise ParameterError(f"--clip-s: must be > 0, got {clip_s!r}")
    if not (isinstance(clips_per_piece, int) and clips_per_piece >= 1):
        raise ParameterError(f"--clips-per-piece: must be an integer >= 1, got {clips_per_piece!r}")
    if not 0 <= test_fraction < 1:
        raise ParameterError(f"--eval-fraction: must be in [0, 1), got {test_fraction!r}")
    if not min_s >= 0:
        raise ParameterError(f"--min-s: must be >= 0, got {min_s!r}")


def get_instrument(name: str) -> InstrumentClass:
    """The instrument class called ``name``; ParameterError lists the valid names."""
    try:
        return INSTRUMENT_CLASSES[name]
    except KeyError:
        raise ParameterError(f"--instruments: unknown instrument {name!r}; valid names: "
                             f"{', '.join(INSTRUMENT_CLASSES)}") from None


def resolve_soundfonts(soundfont) -> list[str]:
    """The soundfonts to render with, checked, in the order given; two files with one
    name are refused too, since the manifest tells soundfonts apart by file name
    (:func:`gensuite.audio.soundfont.find_soundfonts`)."""
    from gensuite.audio.soundfont import find_soundfonts  # noqa: PLC0415

    return find_soundfonts(soundfont, flag="--soundfont", distinct_names=True)


def check_same_soundfonts(out_dir: str | os.PathLike, soundfonts: list[str]) -> None:
    """Refuse to add clips to a data folder rendered with other soundfonts.

    A rerun keeps the WAVs already written, and another soundfont list deals
    pieces differently: the kept clips would then be labelled with a soundfont
    that did not render them.

    Raises
    ------
    ParameterError
        If ``out_dir/dataset.json`` records other soundfont file names (or
        another order).
    """
    path = os.path.join(os.fspath(out_dir), INFO_FILE)
    if not os.path.isfile(path):
        return
    try:
        with open(path, encoding="utf-8") as f:
            settings = json.load(f).get("settings") or {}
    except (OSError, ValueError, AttributeError):
        return  # not ours to judge: the build rewrites it
    recorded = settings.get("soundfonts") or [settings.get("soundfont")]
    old = [os.path.basename(str(p)) for p in recorded if p]
    new = [os.path.basename(p) for p in soundfonts]
    if old and old != new:
        raise ParameterError(
            f"--soundfont: {os.fspath(out_dir)} holds clips rendered with {', '.join(old)}, "
            f"not {', '.join(new)}; use another --out, or --overwrite to render every clip "
            f"again")


def deal_soundfonts(assignments: list[tuple[SourcePiece, str, InstrumentClass]], *,
                    splits: dict[str, str], soundfonts: list[str],
                    seed: int) -> dict[str, str]:
    """MIDI path -> the soundfont that renders it, dealt in turn within each class and split.

    Within a split, the soundfonts take an order seeded by ``seed`` and the
    split; the k-th piece of the c-th class (in order of appearance) gets
    ``order[(c + k) % n]``. Every class x split then holds each soundfont
    about equally, and because each class starts one soundfont further on,
    the extra pieces of an uneven deal go to different soundfonts, so the
    split's totals per soundfont stay even too.
    """
    dealt: dict[str, str] = {}
    orders: dict[str, list[str]] = {}
    classes: dict[str, dict[str, int]] = {}
    seen: dict[tuple[str, str], int] = {}
    for piece, label, _ in assignments:
        split = splits[piece.piece_id]
        if split not in orders:
            rng = np.random.default_rng(stable_seed(seed, "soundfonts", split))
            orders[split] = [soundfonts[i] for i in rng.permutation(len(soundfonts))]
        offset = classes.setdefault(split, {}).setdefault(label, len(classes[split]))
        k = seen.get((split, label), 0)
        seen[(split, label)] = k + 1
        dealt[piece.path] = orders[split][(offset + k) % len(soundfonts)]
    return dealt


def deal_classes(pieces: list[SourcePiece], *, classes: list[InstrumentClass],
                 splits: dict[str, str]) -> list[tuple[SourcePiece, str, InstrumentClass]]:
    """Deal pieces to classes in turn, separately within each split (equal counts per class)."""
    assignments = []
    for split in SPLITS:
        members = [p for p in pieces if splits[p.piece_id] == split]
        assignments.extend((p, classes[i % len(classes)].name, classes[i % len(classes)])
                           for i, p in enumerate(members))
    return assignments


def write_manifest(path: str, rows: list[dict]) -> None:
    """Write manifest rows as CSV (``MANIFEST_COLUMNS``), sorted by file, atomically."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=MANIFEST_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in sorted(rows, key=lambda r: r["file"]):
        writer.writerow(row)
    write_text_atomic(path, buffer.getvalue())


# ----------------------------------------------------------------------------
# Reading a data folder back


def read_manifest(data_dir: str | os.PathLike) -> list[dict]:
    """The rows of ``DATA/manifest.csv`` (``file`` relative to the folder).

    Raises
    ------
    InputFileError
        If the folder has no manifest or it lacks the needed columns.
    """
    path = os.path.join(os.fspath(data_dir), MANIFEST_FILE)
    if not os.path.isdir(os.fspath(data_dir)):
        raise InputFileError(data_dir, "no such data folder")
    if not os.path.isfile(path):
        raise InputFileError(data_dir, f"not a data folder: no {MANIFEST_FILE} "
                                       f"(make one with `gensuite analyze build-dataset`)")
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        missing = {"file", "label", "split", "piece"} - set(reader.fieldnames or ())
        if missing:
            raise InputFileError(path, f"manifest lacks column(s) {', '.join(sorted(missing))}")
        return list(reader)


def read_class_names(data_dir: str | os.PathLike, rows: list[dict]) -> list[str]:
    """Class names in ``dataset.json``'s order, else sorted labels of the manifest."""
    path = os.path.join(os.fspath(data_dir), INFO_FILE)
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            names = json.load(f).get("class_names")
        if names:
            return list(names)
    return sorted({r["label"] for r in rows})


@dataclasses.dataclass
class LabelledTracks:
    """Log-mel features of labelled tracks, kept whole; windows are cut when sampled.

    Attributes
    ----------
    files, pieces : list of str
    labels : np.ndarray, int32 (n_tracks,)
        Index into the class names.
    log_mel : list of np.ndarray, float16 (n_frames_i, n_mels)
        dB.
    valid_starts : list of np.ndarray, int32
        Frames where an audible window may start.
    soundfonts : list of str, optional
        The file name of the soundfont that rendered each track ("" where the
        manifest does not say); None: unknown for every track.
    """

    files: list[str]
    pieces: list[str]
    labels: np.ndarray
    log_mel: list[np.ndarray]
    valid_starts: list[np.ndarray]
    soundfonts: list[str] | None = None

    def __len__(self) -> int:
        return len(self.files)

    def subset(self, index) -> "LabelledTracks":
        index = list(index)
        return LabelledTracks([self.files[i] for i in index], [self.pieces[i] for i in index],
                              self.labels[index], [self.log_mel[i] for i in index],
                              [self.valid_starts[i] for i in index],
                              None if self.soundfonts is None
                              else [self.soundfonts[i] for i in index])


def track_features(args: tuple[str, object]) -> tuple[np.ndarray | None, np.ndarray | None, str]:
    """Worker: (log-mel float16, audible window starts, "" or why the file is unusable)."""
    from gensuite.analysis.features import (
        audible_starts,
        check_analysable,
        frame_rms_dbfs,
        log_mel_spectrogram,
    )
    from gensuite.audio.io import read_audio

    path, features = args
    try:
        wave = read_audio(path, sample_rate=features.sample_rate)
        check_analysable(wave, features=features, name=path)
    except GensuiteError as exc:
        return None, None, str(exc)
    with _one_blas_thread():
        log_mel = log_mel_spectrogram(wave, features=features)
    every = np.arange(0, len(log_mel) - features.window_frames + 1)
    starts = every[audible_starts(frame_rms_dbfs(wave, features=features), every,
                                  features=features)]
    if starts.size == 0:
        return None, None, f"{path}: silent: no window reaches {features.silence_dbfs:.0f} dBFS"
    return log_mel.astype(np.float16), starts.astype(np.int32), ""


def _one_blas_thread():
    """Limit BLAS to one thread: workers run side by side, and OpenBLAS threads
    fighting over busy cores made the mel product 10x slower here."""
    try:
        from threadpoolctl import threadpool_limits  # noqa: PLC0415  (comes with librosa)
    except ImportError:
        import contextlib  # noqa: PLC0415

        return contextlib.nullcontext()
    return threadpool_limits(1)


def load_tracks(data_dir: str | os.PathLike, *, split: str, features, class_names,
                num_workers: int | None = None, progress: bool = False,
                rows: list[dict] | None = None) -> tuple[LabelledTracks, list[str]]:
    """Compute the features of every track of one split.

    Returns
    -------
    (LabelledTracks, list of str)
        The tracks, and one line per file left out (unreadable, silent, too short).

    Raises
    ------
    InputFileError
        No manifest, or a label outside ``class_names``.
    """
    from gensuite.common.parallel import map_in_processes  # noqa: PLC0415

    data_dir = os.fspath(data_dir)
    rows = [r for r in (rows if rows is not None else read_manifest(data_dir))
            if r["split"] == split]
    index = {name: i for i, name in enumerate(class_names)}
    unknown = sorted({r["label"] for r in rows} - set(index))
    if unknown:
        raise InputFileError(os.path.join(data_dir, MANIFEST_FILE),
                             f"labels {unknown} are not among the model's classes "
                             f"{list(class_names)}")
    jobs = [(os.path.join(data_dir, r["file"]), features) for r in rows]
    kept, skipped, log_mel, starts = [], [], [], []
    with map_in_processes(track_features, jobs, num_workers=num_workers, progress=progress,
                          desc=f"features ({split})", unit="track") as results:
        for row, (mel, valid, reason) in zip(rows, results):
            if reason:
                skipped.append(reason)
                continue
            kept.append(row)
            log_mel.append(mel)
            starts.append(valid)
    tracks = LabelledTracks(
        files=[r["file"] for r in kept], pieces=[r["piece"] for r in kept],
        labels=np.array([index[r["label"]] for r in kept], np.int32),
        log_mel=log_mel, valid_starts=starts,
        soundfonts=[r.get("soundfont") or "" for r in kept])
    return tracks, skipped


def manifest_soundfonts(rows: list[dict]) -> list[str]:
    """The soundfont file names a manifest records, sorted (none for manifests before them)."""
    return sorted({r.get("soundfont") or "" for r in rows} - {""})


def hold_out_soundfont(rows: list[dict], soundfont: str, *,
                       data_dir: str | os.PathLike) -> tuple[list[dict], list[dict]]:
    """Split manifest rows into those of the other soundfonts and those of ``soundfont``.

    Parameters
    ----------
    rows : list of dict
        From :func:`read_manifest`.
    soundfont : str
        A file name as the manifest's ``soundfont`` column records it, e.g.
        ``TimGM6mb.sf2``.
    data_dir : str or os.PathLike
        Named in errors.

    Returns
    -------
    (list of dict, list of dict)
        Rows rendered with another soundfont (to train on), rows rendered with
        ``soundfont`` (to test on).

    Raises
    ------
    ParameterError
        If no clip was rendered with ``soundfont`` (the message lists those
        that were), or it is the only soundfont (nothing left to train on).
    """
    present = manifest_soundfonts(rows)
    if soundfont not in present:
        names = (", ".join(present) if present else
                 "none recorded (built before build-dataset recorded them; rebuild it)")
        raise ParameterError(f"--hold-out-soundfont: no clip of {os.fspath(data_dir)} was "
                             f"rendered with {soundfont!r}; its soundfonts: {names}")
    others = [r for r in rows if (r.get("soundfont") or "") != soundfont]
    if not others:
        raise ParameterError(f"--hold-out-soundfont: every clip of {os.fspath(data_dir)} was "
                             f"rendered with {soundfont}: nothing is left to train on")
    return others, [r for r in rows if r.get("soundfont") == soundfont]
