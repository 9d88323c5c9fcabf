"""Render a NoteSequence (or MIDI file) to audio through GANSynth timbres or a soundfont.

GANSynth rendering (Magenta's ``gansynth_generate`` MIDI mode, with its bugs
fixed; docs/decisions.md lists them):

* every pitched note gets an instrument latent: one per track (from ``seed``,
  or pinned per track with ``timbres``), or, with ``secs_per_instrument``,
  latents placed every S seconds (at least two, whatever the file's length)
  and each note's latent slerped between its two neighbours;
* pitches outside the model's range move by octaves into it (counted and
  reported, never dropped);
* each distinct (pitch, latent) is generated once, in batches, and reused
  for every note that needs it; slerp positions are rounded to
  ``1 / INTERPOLATION_LEVELS`` so nearby notes share a generation;
* each note: 10 ms attack, sustain for its duration (at most the generated
  length minus the release), 0.3 s linear release, scaled by velocity / 127,
  added into the mix; the mix is peak-normalised (by the absolute maximum) so
  nothing clips;
* drum tracks go through the soundfont renderer, or are skipped.

Memory stays bounded on long files: notes are generated and mixed one batch
of distinct keys at a time, and only the mix (n_samples floats) is kept.
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
INTERPOLATION_LEVELS = 32
DEFAULT_CHECKPOINT = "gansynth_fluidr3"


@dataclasses.dataclass
class RenderReport:
    """What a render did: counts for the user and the benchmark."""

    n_notes: int = 0
    n_drum_notes: int = 0
    n_distinct_generated: int = 0
    n_cache_hits: int = 0
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

    def __init__(self, size: int):
        self.size = size
        self.vectors: dict[tuple, np.ndarray] = {}

    def seeded(self, seed: int) -> tuple:
        key = ("seed", int(seed))
        if key not in self.vectors:
            self.vectors[key] = np.random.default_rng(int(seed)).standard_normal(
                self.size).astype(np.float32)
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
        return [table.seeded(timbres.get(n.instrument, seed * 1000 + n.instrument))
                for n in notes]
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
    """The release: 0.3 s, or a quarter of the generated note if that is shorter."""
    return min(RELEASE_S, config.n_samples / config.sample_rate / 4)


def render_gansynth_notes(notes, *, model, seed: int = 0, secs_per_instrument=None,
                          timbres=None, duration_s: float, n_samples: int,
                          batch_size: int = 64, progress: bool = False,
                          report: RenderReport, on_progress=None) -> np.ndarray:
    """Mix pitched notes through a GANSynth model into a float32 buffer of ``n_samples``.

    ``on_progress(done, total)`` is called with the notes mixed after each batch;
    what it raises stops the render (a server cancelling a job).
    """
    from gensuite.common.progress import progress_bar  # noqa: PLC0415

    c = model.config
    rate = c.sample_rate
    mix = np.zeros(n_samples, dtype=np.float32)
    if not notes:
        return mix
    pitches = np.array([n.pitch for n in notes])
    folded = fold_into_range(pitches, low=c.min_pitch, high=c.max_pitch)
    report.n_moved_into_range = int(np.sum(folded != pitches))
    table = _LatentTable(c.latent_size)
    latent_keys = assign_latents(notes, table, seed=seed, secs_per_instrument=secs_per_instrument,
                                 timbres=timbres or {}, duration_s=duration_s)
    by_key: dict[tuple, list[int]] = {}
    for i, key in enumerate(zip(folded.tolist(), latent_keys)):
        by_key.setdefault(key, []).append(i)
    keys = list(by_key)
    report.n_distinct_generated = len(keys)
    report.n_cache_hits = len(notes) - len(keys)
    release_s = release_seconds(c)
    max_sustain = c.n_samples - int(round(release_s * rate))
    bar = progress_bar(total=len(notes), enabled=progress, desc="render", unit="note")
    done = 0
    for first in range(0, len(keys), batch_size):
        batch = keys[first:first + batch_size]
        waves = model.generate([k[0] for k in batch],
                               np.stack([table.vectors[k[1]] for k in batch]),
                               batch_size=batch_size)
        for wave, key in zip(waves, batch):
            for i in by_key[key]:
                note = notes[i]
                start = int(round(note.start_time * rate))
                n_sustain = min(int(round((note.end_time - note.start_time) * rate)), max_sustain)
                envelope = note_envelope(n_sustain, sample_rate=rate, release_s=release_s)
                stop = min(start + len(envelope), n_samples)
                if stop > start:
                    gain = note.velocity / 127.0
                    mix[start:stop] += gain * envelope[:stop - start] * wave[:stop - start]
            bar.update(len(by_key[key]))
            done += len(by_key[key])
        if on_progress is not None:
            on_progress(done, len(notes))
    bar.close()
    return mix


def render_sequence_audio(source, *, synth: str = "gansynth", checkpoint=DEFAULT_CHECKPOINT,
                          model=None, seed: int = 0, secs_per_instrument: float | None = None,
                          timbres: dict[int, int] | None = None, drums: str = "soundfont",
                          sample_rate: int | None = None, soundfont=None,
                          progress: bool = False,
                          on_progress=None) -> tuple[np.ndarray, int, RenderReport]:
    """Render a MIDI file or NoteSequence; see :func:`render_midi` (this also returns the report).

    ``on_progress(done, total)``, if given, follows GANSynth's notes (see
    :func:`render_gansynth_notes`).
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
        if model is None:
            from gensuite.gansynth.model import GANSynth  # noqa: PLC0415

            model = GANSynth.load(checkpoint)
        rate = model.config.sample_rate
        n_samples = int(np.ceil((end_s + release_seconds(model.config)) * rate)) + 1
        mix = render_gansynth_notes(
            pitched, model=model, seed=seed, secs_per_instrument=secs_per_instrument,
            timbres=timbres, duration_s=end_s, n_samples=n_samples, progress=progress,
            report=report, on_progress=on_progress)
        if drum_notes and drums == "soundfont":
            drum_audio = soundfont_synth.render_sequence(
                _sub_sequence(sequence, drum_notes), sample_rate=rate, soundfont=soundfont)
            mix = _add_aligned(mix, drum_audio, reference=mix if pitched else None)
        if report.n_moved_into_range:
            report.warnings.append(
                f"{name}: {report.n_moved_into_range} of {len(pitched)} notes lie outside the "
                f"model's pitches {model.config.min_pitch}-{model.config.max_pitch} and were "
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
                progress: bool = False) -> tuple[np.ndarray, int]:
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

    Returns
    -------
    waveform : np.ndarray, shape (n_samples,), float32, peak 0.99
    sample_rate : int
    """
    wave, rate, report = render_sequence_audio(
        source, synth=synth, checkpoint=checkpoint, model=model, seed=seed,
        secs_per_instrument=secs_per_instrument, timbres=timbres, drums=drums,
        sample_rate=sample_rate, soundfont=soundfont, progress=progress)
    for line in report.warnings:
        warnings.warn(line, stacklevel=2)
    return wave, rate
