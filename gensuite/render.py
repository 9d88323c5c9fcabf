"""Render a NoteSequence (or MIDI file) to audio through GANSynth timbres or a soundfont.

GANSynth rendering (Magenta's ``gansynth_generate`` MIDI mode, with its bugs
fixed; docs/decisions.md lists them):

* every pitched note gets an instrument latent: one per track (from ``seed``,
  or pinned per track with ``timbres``), or, with ``secs_per_instrument``,
  latents placed every S seconds (at least two, whatever the file's length)
  and each note's latent slerped between its two neighbours; a model
  conditioned on instruments plays each track with the trained instrument
  nearest its General MIDI program
  (:func:`gensuite.gansynth.timbres.instrument_for_program`), the seed giving
  z (with ``secs_per_instrument``, the anchors draw their instruments too);
* pitches outside the model's range move by octaves into it (counted and
  reported, never dropped);
* each distinct (pitch, latent) is generated once, in batches, and reused
  for every note that needs it; slerp positions are rounded to
  ``1 / INTERPOLATION_LEVELS`` so nearby notes share a generation;
* with a note cache (``cache_dir``; the command line's default), generated
  notes are kept on disk (:mod:`gensuite.audio.note_cache`) and later runs read
  them: the latents, pitches and keys come from the checkpoint's
  ``config.json`` with numpy alone, and the model (TensorFlow) is loaded only
  when a note is missing. The output is bit-identical with and without it;
* each note plays the generated timbre under the level curve of its General
  MIDI program (:mod:`gensuite.audio.envelopes`: the programs' balance and
  a piano's decay, measured from soundfonts), with a 10 ms attack, sustain
  for its duration (at most the generated length minus the release) and a
  linear release over its program's release time (:func:`program_release_s`),
  scaled by velocity / 127, added into the mix; the mix is peak-normalised
  (by the absolute maximum) so nothing clips;
* drum tracks go through the soundfont renderer, or are skipped.

Memory stays bounded on long files: notes are generated and mixed one batch
of distinct keys at a time, and only the mix (n_samples floats) is kept. A
batch is 64 notes on a CPU and every distinct note (at most 1,024) where
TensorFlow sees a GPU (:func:`note_batch_size`); notes are mixed in the same
order whatever the batch, so the batch never changes the output.
"""

from __future__ import annotations

import dataclasses
import math
import os
import warnings

import numpy as np

from gensuite.common.errors import InputFileError, ParameterError

SYNTHS = ("gansynth", "soundfont")
DRUM_MODES = ("soundfont", "skip")
ATTACK_S = 0.010
RELEASE_S = 0.3
MAX_RELEASE_S = 1.0
INTERPOLATION_LEVELS = 32
DEFAULT_CHECKPOINT = "gansynth_instruments"
# Distinct notes per generator call. On a CPU a larger batch is no faster and
# only holds more waveforms; a GPU plays a whole file's notes in one call,
# capped for memory. The cap is an estimate, not measured on a GPU: a note of
# the shipped model peaks at about 10 MB (its 128 x 256 x 8 last block, the
# STFT, the wave), so 1,024 take about 10 GB; Magenta's full-size config
# (128 x 1024 x 32) needs about ten times that and a smaller cap.
CPU_BATCH = 64
GPU_BATCH_CAP = 1024
# TensorFlow's CPU kernels compute the rows of a batch in full groups of 8
# differently, in the last bits, from the rows left over (measured on AVX-512;
# docs/decisions.md). Every generator call is padded to a multiple of this, so
# that each note's samples depend on its pitch and latent alone, whatever else
# was generated with it: a note from the cache is then the note the model
# would generate now, and a render is bit-identical with and without the cache.
ROW_GROUP = 16


@dataclasses.dataclass
class RenderReport:
    """What a render did: counts for the user and the benchmark."""

    n_notes: int = 0
    n_drum_notes: int = 0
    n_distinct_generated: int = 0  # distinct notes the model generated in this run
    n_from_note_cache: int = 0  # distinct notes read from the persistent note cache
    n_cache_hits: int = 0  # notes that reused another note's waveform within this run
    n_moved_into_range: int = 0
    drums: str = "soundfont"
    duration_s: float = 0.0
    warnings: list[str] = dataclasses.field(default_factory=list)


def read_sequence(source):
    """A NoteSequence from a MIDI path or a NoteSequence (returned as is)."""
    if isinstance(source, (str, os.PathLike)):
        from gensuite.midi.io import read_midi  # noqa: PLC0415

        return read_midi(source)
    return source


def fold_into_range(pitches: np.ndarray, *, low: int, high: int) -> np.ndarray:
    """Move each pitch by whole octaves into ``[low, high]``.

    A range narrower than an octave cannot hold every pitch class; a pitch left
    outside takes the octave nearest the range and is clamped to its nearer end.
    """
    pitches = np.asarray(pitches, dtype=np.int64).copy()
    below, above = pitches < low, pitches > high
    pitches[below] += 12 * np.ceil((low - pitches[below]) / 12).astype(np.int64)
    pitches[above] -= 12 * np.ceil((pitches[above] - high) / 12).astype(np.int64)
    # Only possible for narrow ranges: the fold overshot to the other side.
    over, under = pitches > high, pitches < low
    pitches[over & (pitches - high > low - (pitches - 12))] -= 12
    pitches[under & (low - pitches > (pitches + 12) - high)] += 12
    return np.clip(pitches, low, high)


def note_envelope(n_sustain: int, *, sample_rate: int, release_s: float = RELEASE_S) -> np.ndarray:
    """Gain per sample: linear attack, flat sustain of ``n_sustain`` samples, linear release."""
    n_attack = max(1, int(round(ATTACK_S * sample_rate)))
    n_release = max(1, int(round(release_s * sample_rate)))
    n_sustain = max(n_sustain, n_attack)
    envelope = np.ones(n_sustain + n_release, dtype=np.float32)
    envelope[:n_attack] = np.linspace(0.0, 1.0, n_attack, endpoint=False)
    envelope[n_sustain:] = np.linspace(1.0, 0.0, n_release, endpoint=False)
    return envelope


def parse_timbres(text: str) -> dict[int, int]:
    """``"0=3,2=11"`` -> {track 0: seed 3, track 2: seed 11}.

    Tracks are >= 0 and seeds in [0, 2**63), like ``--seed``.
    """
    pins = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        track, sep, seed = item.partition("=")
        try:
            if not sep:
                raise ValueError
            track_n, seed_n = int(track), int(seed)
        except ValueError:
            raise ParameterError(
                f"--timbre: must be TRACK=SEED[,TRACK=SEED...] with integers, got {text!r}"
            ) from None
        if track_n < 0:
            raise ParameterError(f"--timbre: a track must be >= 0, got {item!r}")
        if not 0 <= seed_n < 2**63:
            raise ParameterError(f"--timbre: a seed must be in [0, 2**63), got {item!r}")
        pins[track_n] = seed_n
    return pins


def check_timbre_tracks(timbres: dict[int, int], notes, *, name: str) -> None:
    """Raise InputFileError if ``timbres`` pins a track that has no pitched note in ``notes``."""
    tracks = sorted({n.instrument for n in notes})
    missing = sorted(set(timbres) - set(tracks))
    if missing:
        have = ", ".join(map(str, tracks)) if tracks else "none"
        raise InputFileError(
            name, f"--timbre names track {', '.join(map(str, missing))}, which has no pitched "
                  f"notes in this file; its tracks are: {have}")


def instrument_times(duration_s: float, secs_per_instrument: float) -> np.ndarray:
    """Times (s) of the instrument latents: every S seconds, at least two, covering the end.

    Magenta placed ``int(duration / S)`` latents, which gives one (or none) on
    a file shorter than 2 S and leaves the last notes past the last latent.
    """
    n = max(2, int(np.ceil(duration_s / secs_per_instrument)) + 1)
    return np.arange(n) * secs_per_instrument


class _LatentTable:
    """Latents by key, so that each distinct (pitch, latent) is generated once."""

    def __init__(self, spec: NoteSpec):
        self.spec = spec
        self.vectors: dict[tuple, np.ndarray] = {}
        self._rows: dict[int, int] = {}

    def seeded(self, seed: int, *, program: int | None = None) -> tuple:
        """The latent of ``seed``: z, and for a conditioned model the instrument of
        ``program`` (None: drawn from the seed)."""
        from gensuite.gansynth.timbres import draw_timbres, instrument_for_program  # noqa: PLC0415

        s = self.spec
        row = None
        if s.n_instruments and program is not None:
            if program not in self._rows:
                self._rows[program] = instrument_for_program(program, list(s.instruments))
            row = self._rows[program]
        key = ("seed", int(seed), row)
        if key not in self.vectors:
            self.vectors[key] = draw_timbres(
                1, latent_size=s.latent_size, n_instruments=s.n_instruments,
                n_trained=len(s.instruments), seed=int(seed),
                instruments=None if row is None else [row])[0]
        return key

    def between(self, a: tuple, b: tuple, level: int) -> tuple:
        from gensuite.common.slerp import slerp  # noqa: PLC0415

        if level == 0:
            return a
        if level == INTERPOLATION_LEVELS:
            return b
        key = ("slerp", a, b, level)
        if key not in self.vectors:
            self.vectors[key] = slerp(self.vectors[a], self.vectors[b],
                                      level / INTERPOLATION_LEVELS).astype(np.float32)
        return key


def assign_latents(notes, table: _LatentTable, *, seed: int,
                   secs_per_instrument: float | None, timbres: dict[int, int],
                   duration_s: float) -> list[tuple]:
    """One latent key per note (see the module docstring for the two modes)."""
    if secs_per_instrument is None:
        return [table.seeded(timbres.get(n.instrument, seed * 1000 + n.instrument),
                             program=n.program) for n in notes]
    times = instrument_times(duration_s, secs_per_instrument)
    anchors = [table.seeded(seed * 1000 + i) for i in range(len(times))]
    keys = []
    for n in notes:
        i = min(int(n.start_time // secs_per_instrument), len(times) - 2)
        frac = (n.start_time - times[i]) / secs_per_instrument
        level = int(round(np.clip(frac, 0.0, 1.0) * INTERPOLATION_LEVELS))
        keys.append(table.between(anchors[i], anchors[i + 1], level))
    return keys


def _check_options(synth: str, drums: str, sample_rate, secs_per_instrument) -> None:
    if synth not in SYNTHS:
        raise ParameterError(f"synth: must be one of {', '.join(SYNTHS)}, got {synth!r}")
    if drums not in DRUM_MODES:
        raise ParameterError(f"drums: must be one of {', '.join(DRUM_MODES)}, got {drums!r}")
    if sample_rate is not None and not (isinstance(sample_rate, int) and sample_rate > 0):
        raise ParameterError(f"sample_rate: must be a positive integer, got {sample_rate!r}")
    if secs_per_instrument is not None and not 0 < secs_per_instrument < math.inf:
        raise ParameterError(
            f"secs_per_instrument: must be finite and > 0 seconds, got {secs_per_instrument!r}")


def _sub_sequence(sequence, notes):
    sub = type(sequence)()
    sub.CopyFrom(sequence)
    del sub.notes[:]
    sub.notes.extend(notes)
    return sub


def release_seconds(config) -> float:
    """The longest release: 1 s, or a quarter of the generated note if that is shorter."""
    return min(MAX_RELEASE_S, config.n_samples / config.sample_rate / 4)


def program_release_s(program: int, *, max_s: float) -> float:
    """Fade-out of a generated note of General MIDI ``program``, s.

    The time the program's soundfont notes take to fall 20 dB after their
    note-off (:func:`gensuite.audio.envelopes.program_release_20db_s`) over
    0.9, since a linear fade is 20 dB down at 90 % of its length; within
    [:data:`ATTACK_S`, ``max_s``]. :data:`RELEASE_S` (or ``max_s``) for a
    program without a release or outside 0-127. A fast flute line then does
    not ring like a choir.
    """
    from gensuite.audio.envelopes import program_release_20db_s  # noqa: PLC0415

    measured = program_release_20db_s(program)
    release_s = RELEASE_S if measured is None else measured / 0.9
    return float(min(max(release_s, ATTACK_S), max_s))


INT_SPEC_FIELDS = ("sample_rate", "n_samples", "min_pitch", "max_pitch", "latent_size")


@dataclasses.dataclass(frozen=True)
class _SpecName:
    """What :func:`check_instruments` reads of a config, from ``config.json``."""

    n_instruments: int
    name: str = "config.json"


@dataclasses.dataclass(frozen=True)
class NoteSpec:
    """What mixing needs to know of a GANSynth (the fields of its config of the same names)."""

    sample_rate: int
    n_samples: int
    min_pitch: int
    max_pitch: int
    latent_size: int
    n_instruments: int = 0
    instruments: tuple = ()  # the model's trained instruments ({name, family, program})


def read_note_spec(checkpoint) -> tuple[NoteSpec, str] | None:
    """The spec and note-cache identity of a GANSynth folder, read with numpy alone.

    Loading the model imports TensorFlow (seconds); this reads ``config.json``
    as plain JSON and digests the folder's files
    (:func:`gensuite.audio.note_cache.identity_of_files`), so that a render
    whose notes are all cached never loads it. A cache hit therefore means
    these exact files once loaded and generated that note.

    Returns
    -------
    (NoteSpec, str) or None
        None when a file is missing or the fields are not plain integers in
        range: the caller then loads the model, which says what is wrong.

    Raises
    ------
    InputFileError
        No such checkpoint, or one of another kind (as :meth:`GANSynth.load`).
    """
    import json  # noqa: PLC0415

    from gensuite import checkpoints  # noqa: PLC0415
    from gensuite.audio.note_cache import identity_of_files  # noqa: PLC0415

    info = checkpoints.resolve_checkpoint(checkpoint, kind="gansynth")
    files = [os.path.join(info.path, name) for name in
             (checkpoints.CONFIG_FILE, checkpoints.META_FILE, checkpoints.WEIGHTS_FILE)]
    try:
        with open(files[0], encoding="utf-8") as f:
            config = json.load(f)
        with open(files[1], encoding="utf-8") as f:
            instruments = json.load(f).get("instruments", [])
        spec = NoteSpec(**{name: config[name] for name in INT_SPEC_FIELDS},
                        n_instruments=config.get("n_instruments", 0),
                        instruments=tuple(instruments))
        identity = identity_of_files(files)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    values = [getattr(spec, name) for name in INT_SPEC_FIELDS] + [spec.n_instruments]
    if (not all(type(v) is int for v in values) or min(spec.sample_rate, spec.n_samples,
                                                       spec.latent_size) < 1
            or not 0 <= spec.min_pitch <= spec.max_pitch <= 127):
        return None
    from gensuite.gansynth.timbres import check_instruments  # noqa: PLC0415

    try:
        check_instruments(list(instruments), _SpecName(spec.n_instruments))
    except (ParameterError, TypeError):
        return None
    return spec, identity


def note_batch_size(*, n_distinct: int, gpu: bool) -> int:
    """Distinct notes per generator call: :data:`CPU_BATCH`, or on a GPU all (at most
    :data:`GPU_BATCH_CAP`)."""
    if gpu:
        return max(1, min(int(n_distinct), GPU_BATCH_CAP))
    return CPU_BATCH


def padded_rows(n_notes: int) -> int:
    """Rows of a generator call for ``n_notes`` notes: the next multiple of :data:`ROW_GROUP`."""
    return -(-int(n_notes) // ROW_GROUP) * ROW_GROUP


def _tensorflow_sees_gpu() -> bool:
    import tensorflow as tf  # noqa: PLC0415

    return bool(tf.config.list_physical_devices("GPU"))


class NoteSource:
    """Note waveforms by (pitch, latent): from the note cache, else generated.

    Parameters
    ----------
    load : callable
        Gives the model (anything with ``generate(pitches, z, batch_size=, compiled=)``);
        called at the first note the cache lacks, so a run whose notes are
        all cached never imports TensorFlow.
    cache : NoteCache, optional
        None: every note is generated.
    """

    def __init__(self, *, load, cache=None):
        self._load = load
        self._model = None
        self.cache = cache
        self.n_generated = 0
        self.n_from_cache = 0

    def load_model(self):
        """The model, loaded on the first call (TensorFlow imported then)."""
        if self._model is None:
            self._model = self._load()
        return self._model

    def n_missing(self, pitches, latents) -> int:
        """How many of the notes have no cache file (cheap: no file is read)."""
        if self.cache is None:
            return len(pitches)
        return sum(not self.cache.has(p, z) for p, z in zip(pitches, latents))

    def waves(self, pitches: list[int], latents: np.ndarray) -> list[np.ndarray]:
        """One waveform per note, each shape (n_samples,) float32.

        The notes the cache lacks are generated in one call (padded to
        :func:`padded_rows` with copies of the last) and stored.
        """
        cache = self.cache
        waves = [cache.get(p, z) if cache is not None else None
                 for p, z in zip(pitches, latents)]
        missing = [i for i, wave in enumerate(waves) if wave is None]
        self.n_from_cache += len(waves) - len(missing)
        if missing:
            rows = missing + missing[-1:] * (padded_rows(len(missing)) - len(missing))
            # Op by op: a render makes one batch or a few, and tracing the
            # graph would cost more than it saves (seconds at start-up).
            made = self.load_model().generate([pitches[i] for i in rows], latents[rows],
                                              batch_size=len(rows), compiled=False)
            for i, wave in zip(missing, made):
                waves[i] = wave
                if cache is not None:
                    cache.put(pitches[i], latents[i], wave)
            self.n_generated += len(missing)
        return waves


def render_gansynth_notes(notes, *, spec: NoteSpec, source: NoteSource, seed: int = 0,
                          secs_per_instrument=None, timbres=None, duration_s: float,
                          n_samples: int, progress: bool = False, report: RenderReport,
                          on_progress=None) -> np.ndarray:
    """Mix pitched notes through a GANSynth into a float32 buffer of ``n_samples``.

    Parameters
    ----------
    notes : list of NoteSequence.Note
        Pitched notes (drums are the caller's).
    spec : NoteSpec
        The model's rates, lengths and pitch range.
    source : NoteSource
        Where the note waveforms come from (the note cache, else the model).
    duration_s : float
        End of the last note, s (places the ``secs_per_instrument`` latents).
    n_samples : int
        Length of the mix.
    on_progress : callable, optional
        ``on_progress(done, total)`` with the notes mixed after each batch;
        what it raises stops the render (a server cancelling a job).

    Returns
    -------
    np.ndarray, shape (n_samples,), float32, not normalised
    """
    from gensuite.audio.envelopes import program_envelope_db, shape_to_envelope  # noqa: PLC0415
    from gensuite.common.progress import progress_bar  # noqa: PLC0415

    rate = spec.sample_rate
    mix = np.zeros(n_samples, dtype=np.float32)
    if not notes:
        return mix
    pitches = np.array([n.pitch for n in notes])
    folded = fold_into_range(pitches, low=spec.min_pitch, high=spec.max_pitch)
    report.n_moved_into_range = int(np.sum(folded != pitches))
    table = _LatentTable(spec)
    latent_keys = assign_latents(notes, table, seed=seed, secs_per_instrument=secs_per_instrument,
                                 timbres=timbres or {}, duration_s=duration_s)
    by_key: dict[tuple, list[int]] = {}
    for i, key in enumerate(zip(folded.tolist(), latent_keys)):
        by_key.setdefault(key, []).append(i)
    keys = list(by_key)
    key_pitches = [k[0] for k in keys]
    key_latents = np.stack([table.vectors[k[1]] for k in keys])
    # Only a miss loads the model, and only then is TensorFlow asked about a
    # GPU. Loading before the progress bar starts lets a broken model folder
    # fail with its one-line error alone.
    gpu = False
    if source.n_missing(key_pitches, key_latents):
        source.load_model()
        gpu = _tensorflow_sees_gpu()
    batch_size = note_batch_size(n_distinct=len(keys), gpu=gpu)
    max_release_s = release_seconds(spec)
    envelopes: dict[tuple, np.ndarray] = {}  # by sustain and release: a score has a few
    bar = progress_bar(total=len(notes), enabled=progress, desc="render", unit="note")
    done = 0
    # Keys, and the notes of each key, are mixed in one fixed order whatever
    # the batch size or the cache holds: float sums depend on their order.
    for first in range(0, len(keys), batch_size):
        batch = keys[first:first + batch_size]
        waves = source.waves(key_pitches[first:first + batch_size],
                             key_latents[first:first + batch_size])
        for wave, key in zip(waves, batch):
            shaped: dict[int, np.ndarray] = {}  # by program: a key's notes share one, mostly
            for i in by_key[key]:
                note = notes[i]
                if note.program not in shaped:
                    times_s, level_db = program_envelope_db(note.program, key[0])
                    shaped[note.program] = shape_to_envelope(
                        wave, times_s=times_s, level_db=level_db, sample_rate=rate)
                played = shaped[note.program]
                start = int(round(note.start_time * rate))
                release_s = program_release_s(note.program, max_s=max_release_s)
                n_sustain = min(int(round((note.end_time - note.start_time) * rate)),
                                spec.n_samples - int(round(release_s * rate)))
                envelope = envelopes.get((n_sustain, release_s))
                if envelope is None:
                    envelope = envelopes[n_sustain, release_s] = note_envelope(
                        n_sustain, sample_rate=rate, release_s=release_s)
                stop = min(start + len(envelope), start + len(played), n_samples)
                if stop > start:
                    gain = note.velocity / 127.0
                    mix[start:stop] += gain * envelope[:stop - start] * played[:stop - start]
            bar.update(len(by_key[key]))
            done += len(by_key[key])
        if on_progress is not None:
            on_progress(done, len(notes))
    bar.close()
    report.n_distinct_generated = source.n_generated
    report.n_from_note_cache = source.n_from_cache
    report.n_cache_hits = len(notes) - len(keys)
    return mix


def _note_source(*, checkpoint, model, cache_dir) -> tuple[NoteSource, NoteSpec]:
    """The source of a render's notes and the spec of its model (loaded only if needed)."""
    from gensuite.audio.note_cache import NoteCache  # noqa: PLC0415

    if model is None and cache_dir is not None:
        peeked = read_note_spec(checkpoint)
        if peeked is not None:
            spec, identity = peeked
            cache = NoteCache(cache_dir, identity=identity, n_samples=spec.n_samples)
            return NoteSource(load=lambda: _load_gansynth(checkpoint), cache=cache), spec
    if model is None:
        model = _load_gansynth(checkpoint)
    cache = None
    if cache_dir is not None:
        cache = NoteCache(cache_dir, identity=_identity_of_model(model),
                          n_samples=model.config.n_samples)
    c = model.config
    spec = NoteSpec(sample_rate=c.sample_rate, n_samples=c.n_samples, min_pitch=c.min_pitch,
                    max_pitch=c.max_pitch, latent_size=c.latent_size,
                    n_instruments=getattr(c, "n_instruments", 0),
                    instruments=tuple(getattr(model, "instruments", ())))
    return NoteSource(load=lambda: model, cache=cache), spec


def _load_gansynth(checkpoint):
    from gensuite.gansynth.model import GANSynth  # noqa: PLC0415

    return GANSynth.load(checkpoint)


def _identity_of_model(model) -> str:
    """Note-cache identity of a model in memory: its config, growth and weights."""
    import json  # noqa: PLC0415

    from gensuite.audio.note_cache import identity_of_arrays  # noqa: PLC0415

    try:
        network, meta = model.saved_network(), model.saved_meta()
    except AttributeError:
        raise ParameterError("cache_dir: the note cache needs a GANSynth model (one with "
                             "saved weights); pass cache_dir=None") from None
    description = model.config.to_json() + json.dumps(meta, sort_keys=True)
    return identity_of_arrays(description=description.encode(), arrays=network.get_weights())


def render_sequence_audio(source, *, synth: str = "gansynth", checkpoint=DEFAULT_CHECKPOINT,
                          model=None, seed: int = 0, secs_per_instrument: float | None = None,
                          timbres: dict[int, int] | None = None, drums: str = "soundfont",
                          sample_rate: int | None = None, soundfont=None,
                          progress: bool = False, on_progress=None,
                          cache_dir=None) -> tuple[np.ndarray, int, RenderReport]:
    """Render a MIDI file or NoteSequence; see :func:`render_midi` (this also returns the report).

    ``on_progress(done, total)``, if given, follows GANSynth's notes (see
    :func:`render_gansynth_notes`). ``cache_dir``, if given, is a note cache
    folder (:mod:`gensuite.audio.note_cache`) that GANSynth notes are read
    from and added to; the output is the same with or without it.
    """
    from gensuite.audio import soundfont as soundfont_synth  # noqa: PLC0415

    _check_options(synth, drums, sample_rate, secs_per_instrument)
    name = os.fspath(source) if isinstance(source, (str, os.PathLike)) else "sequence"
    sequence = read_sequence(source)
    notes = [n for n in sequence.notes if n.end_time > n.start_time]
    if not notes:
        raise InputFileError(name, "holds no notes to render")
    report = RenderReport(drums=drums)
    pitched = [n for n in notes if not n.is_drum]
    drum_notes = [n for n in notes if n.is_drum]
    report.n_notes, report.n_drum_notes = len(pitched), len(drum_notes)
    if not pitched and drums == "skip":
        raise InputFileError(name, "holds only drum notes and --drums skip leaves nothing to render")
    end_s = max(n.end_time for n in notes)
    if timbres and synth == "gansynth":
        check_timbre_tracks(timbres, pitched, name=name)

    if synth == "soundfont":
        rate = sample_rate or soundfont_synth.DEFAULT_SAMPLE_RATE
        kept = notes if drums == "soundfont" else pitched
        mix = soundfont_synth.render_sequence(_sub_sequence(sequence, kept), sample_rate=rate,
                                              soundfont=soundfont)
    else:
        note_source, spec = _note_source(checkpoint=checkpoint, model=model,
                                         cache_dir=cache_dir)
        rate = spec.sample_rate
        max_release_s = release_seconds(spec)
        tail_s = max(n.end_time + program_release_s(n.program, max_s=max_release_s)
                     for n in pitched) if pitched else 0.0
        n_samples = int(np.ceil(max(end_s, tail_s) * rate)) + 1
        mix = render_gansynth_notes(
            pitched, spec=spec, source=note_source, seed=seed,
            secs_per_instrument=secs_per_instrument, timbres=timbres, duration_s=end_s,
            n_samples=n_samples, progress=progress, report=report, on_progress=on_progress)
        cache = note_source.cache
        if cache is not None and cache.bytes_written:
            cache.prune()
        if drum_notes and drums == "soundfont":
            drum_audio = soundfont_synth.render_sequence(
                _sub_sequence(sequence, drum_notes), sample_rate=rate, soundfont=soundfont)
            mix = _add_aligned(mix, drum_audio, reference=mix if pitched else None)
        if report.n_moved_into_range:
            report.warnings.append(
                f"{name}: {report.n_moved_into_range} of {len(pitched)} notes lie outside the "
                f"model's pitches {spec.min_pitch}-{spec.max_pitch} and were "
                f"moved by octaves into range")
        if sample_rate and sample_rate != rate:
            import librosa  # noqa: PLC0415

            mix = librosa.resample(mix, orig_sr=rate, target_sr=sample_rate)
            rate = sample_rate
    from gensuite.audio.io import peak_normalize  # noqa: PLC0415

    mix = peak_normalize(np.asarray(mix, dtype=np.float32))
    report.duration_s = len(mix) / rate
    return mix, rate, report


def _add_aligned(mix: np.ndarray, other: np.ndarray, *, reference) -> np.ndarray:
    # Drums from the soundfont are brought to the pitched mix's loudness so that
    # neither drowns the other after the final peak normalisation.
    n = max(len(mix), len(other))
    out = np.zeros(n, dtype=np.float32)
    out[:len(mix)] += mix
    if reference is not None:
        peak_other, peak_mix = np.max(np.abs(other)), np.max(np.abs(reference))
        if peak_other > 0 and peak_mix > 0:
            other = other * (peak_mix / peak_other)
    out[:len(other)] += other
    return out


def render_midi(source, *, synth: str = "gansynth", checkpoint=DEFAULT_CHECKPOINT, model=None,
                seed: int = 0, secs_per_instrument: float | None = None,
                timbres: dict[int, int] | None = None, drums: str = "soundfont",
                sample_rate: int | None = None, soundfont=None,
                progress: bool = False, cache_dir=None) -> tuple[np.ndarray, int]:
    """Render every note of a MIDI file (or NoteSequence) to a mono waveform.

    Parameters
    ----------
    source : str, os.PathLike or NoteSequence
    synth : {"gansynth", "soundfont"}
    checkpoint : str
        GANSynth model folder or shipped name (ignored when ``model`` is given).
    model : GANSynth, optional
        An already loaded model.
    seed : int
        Instrument latents of the tracks (or of the time anchors).
    secs_per_instrument : float, optional
        Magenta's mode: a new instrument every S seconds, notes slerped between.
    timbres : dict, optional
        ``{track: seed}`` pins the timbre of those tracks.
    drums : {"soundfont", "skip"}
    sample_rate : int, optional
        Output rate (resampled); default: the model's (16 kHz).
    soundfont : str, optional
        SF2/SF3 for the soundfont synth and drums (default: FluidR3_GM if installed).
    progress : bool
        Show a progress bar over notes.
    cache_dir : str or os.PathLike, optional
        Note cache folder (:mod:`gensuite.audio.note_cache`): GANSynth notes
        are read from it and added to it, and with ``checkpoint`` the model is
        loaded only for notes it lacks. None: no cache. The output is the same
        either way.

    Returns
    -------
    waveform : np.ndarray, shape (n_samples,), float32, peak 0.99
    sample_rate : int
    """
    wave, rate, report = render_sequence_audio(
        source, synth=synth, checkpoint=checkpoint, model=model, seed=seed,
        secs_per_instrument=secs_per_instrument, timbres=timbres, drums=drums,
        sample_rate=sample_rate, soundfont=soundfont, progress=progress, cache_dir=cache_dir)
    for line in report.warnings:
        warnings.warn(line, stacklevel=2)
    return wave, rate
