"""Interpolating between two real songs: choose a window of each, slerp, write the steps.

Real songs are longer than a model's 2 or 16 bars and often polyphonic. The
converter (in evaluation mode) extracts monophonic melodies per track
(highest note under polyphony); :func:`find_windows` lists every window of
the model's length with where it lies in the song (seconds and the song's own
notated bar numbers, counted from 1), and :func:`choose_window` picks one.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
import os
from collections import Counter

import numpy as np
from note_seq import NoteSequence
from note_seq.sequences_lib import concatenate_sequences

from gensuite.common.arrays import one_hot
from gensuite.common.errors import NoExamplesError, ParameterError
from gensuite.common.slerp import slerp
from gensuite.midi.io import write_midi
from gensuite.midi.pianoroll import compute_bar_times, plot_pianoroll
from gensuite.midi.sequences import (
    UnusableSequenceError,
    check_steps_per_bar,
    extract_melodies,
    quantize_sequence,
    rank_tracks_by_pitch,
    replace_time_signatures,
    split_on_time_changes,
)
from gensuite.music_vae.converters import N_SPECIAL_CLASSES, OUTPUT_QPM, MelodyConverter
from gensuite.music_vae.data import describe_examples, tensors_to_classes

# Default "enough notes" for a window: this many note onsets per bar.
MIN_NOTES_PER_BAR = 2
# Tolerance when placing a window start on the song's bar grid.
EPS_SECONDS = 1e-6


@dataclasses.dataclass(frozen=True, eq=False)
class Window:
    """One candidate window of a song.

    Attributes
    ----------
    classes : np.ndarray, shape (n_steps, n_outputs), int
        The converter's classes (what the model should reproduce).
    inputs : np.ndarray, shape (n_steps, input_depth), float32
        Encoder input.
    n_notes : int
        Note onsets in the window (melody classes), or active steps otherwise.
    start_seconds, end_seconds : float or None
        Where the window lies in the song (None when unknown).
    first_bar, last_bar : int or None
        Notated bars of the song it spans, counted from 1.
    index : int
        Position in the list of candidates.
    """

    classes: np.ndarray
    inputs: np.ndarray
    n_notes: int
    start_seconds: float | None = None
    end_seconds: float | None = None
    first_bar: int | None = None
    last_bar: int | None = None
    index: int = 0

    @property
    def bars(self) -> str:
        """``"bars 5-6"``, ``"bar 5"``, or ``""`` when unknown."""
        if self.first_bar is None:
            return ""
        if self.last_bar == self.first_bar:
            return f"bar {self.first_bar}"
        return f"bars {self.first_bar}-{self.last_bar}"

    def describe(self, n_windows: int | None = None) -> str:
        """``"bars 5-6 (8.00-12.00 s), 11 notes"`` or ``"window 2 of 7, 11 notes"``."""
        if self.first_bar is not None:
            where = (f"{self.bars} ({self.start_seconds:.2f}-{self.end_seconds:.2f} s)")
        elif self.start_seconds is not None:
            where = f"{self.start_seconds:.2f}-{self.end_seconds:.2f} s"
        else:
            where = f"window {self.index + 1}" + (f" of {n_windows}" if n_windows else "")
        return f"{where}, {self.n_notes} notes"


def find_windows(sequence: NoteSequence, converter, *, name: str, n_steps: int,
                 output_depths) -> list[Window]:
    """Every window of ``n_steps`` steps the converter would extract from ``sequence``.

    Melody converters give windows with their place in the song, in time
    order; other converters give their evaluation-mode examples in order.

    Raises
    ------
    NoExamplesError
        If there is none, with the converter's reason, e.g.
        ``"a.mid: no two-bar melody: only drum tracks (no pitched notes)"``.
    """
    if isinstance(converter, MelodyConverter):
        windows, reasons = _melody_windows(sequence, converter, n_steps=n_steps)
    else:
        tensors = converter.to_tensors(sequence)
        reasons = Counter(tensors.rejections)
        classes = tensors_to_classes(tensors.outputs[:, :n_steps], output_depths)
        windows = [Window(classes=c, inputs=np.asarray(x[:n_steps], np.float32),
                          n_notes=int((c >= 0).all(-1).sum()))
                   for c, x in zip(classes, tensors.inputs)]
    if not windows:
        why = "; ".join(sorted(reasons)) or "no examples"
        raise NoExamplesError(
            f"{name}: no {describe_examples(converter, plural=False)} found: {why}")
    return [dataclasses.replace(w, index=i) for i, w in enumerate(windows)]


def _melody_windows(sequence: NoteSequence, converter: MelodyConverter, *,
                    n_steps: int) -> tuple[list[Window], Counter]:
    # Mirrors MelodyConverter.to_tensors (evaluation mode, every window, no
    # dedupe) but keeps each melody's start step, to place windows in the song.
    reasons: Counter = Counter()
    try:
        usable = converter.usable_notes(sequence)
    except UnusableSequenceError as exc:
        reasons[exc.reason] += 1
        return [], reasons
    if converter.ignore_time_signatures:
        usable = replace_time_signatures(usable, numerator=converter.quarters_per_bar,
                                         denominator=4)
    parts = split_on_time_changes(usable) if converter.presplit_on_time_changes else [usable]
    spb = converter.steps_per_bar
    found = []
    for part in parts:
        if not part.notes:
            continue
        try:
            quantized = quantize_sequence(part, steps_per_quarter=converter.steps_per_quarter)
            check_steps_per_bar(quantized, spb)
        except UnusableSequenceError as exc:
            reasons[exc.reason] += 1
            continue
        melodies, _ = extract_melodies(
            quantized, min_bars=1, gap_bars=converter.gap_bars or math.inf,
            max_steps_truncate=converter.max_bars * spb if converter.max_bars else None,
            min_unique_pitches=1, ignore_polyphonic_notes=not converter.skip_polyphony,
            pad_end=True)
        qpm = quantized.tempos[0].qpm if quantized.tempos else 120.0
        seconds_per_step = 60.0 / qpm / converter.steps_per_quarter
        offset = part.subsequence_info.start_time_offset
        n_found = len(found)
        for melody in melodies:
            rows = converter.encode_melody(melody)
            for end in range(n_steps, len(rows) + 1, spb):
                start = offset + (melody.start_step + end - n_steps) * seconds_per_step
                found.append((start, start + n_steps * seconds_per_step, rows[end - n_steps:end]))
        if not melodies:
            reasons["no melody found"] += 1
        elif len(found) == n_found:
            reasons[f"melodies shorter than {converter.slice_bars} bars"] += 1
    if not found:
        return [], reasons
    end_seconds = max([sequence.total_time] + [e for _, e, _ in found])
    bar_times = compute_bar_times(sequence, end_seconds=end_seconds)
    windows = []
    for start, end, rows in sorted(found, key=lambda f: (f[0], -_count_notes(f[2]))):
        classes = rows.astype(np.int64)[:, None]
        first = last = None
        if bar_times:
            first = bisect.bisect_right(bar_times, start + EPS_SECONDS)
            last = max(first, bisect.bisect_left(bar_times, end - EPS_SECONDS))
        windows.append(Window(
            classes=classes, inputs=one_hot(classes[None], (converter.output_depth,), dtype=np.float32)[0],
            n_notes=_count_notes(rows), start_seconds=start, end_seconds=end,
            first_bar=first, last_bar=last))
    return windows, reasons


def _count_notes(melody_classes: np.ndarray) -> int:
    return int(np.count_nonzero(np.asarray(melody_classes) >= N_SPECIAL_CLASSES))


def choose_window(windows: list[Window], *, start_bar: int | None = None,
                  min_notes: int, option: str = "--start-bar") -> tuple[Window, str]:
    """Pick a window: the first starting in ``start_bar``, else the first with
    ``min_notes`` notes (else the one with most notes).

    Returns
    -------
    Window
    str
        Why it was chosen, for the user.

    Raises
    ------
    ParameterError
        If ``start_bar`` is given and no window starts in that bar (the
        message lists the bars where windows start).
    """
    if start_bar is not None:
        if windows and windows[0].first_bar is None:
            raise ParameterError(f"{option}: window positions are unknown for this model; "
                                 f"omit {option}")
        for w in windows:
            if w.first_bar == start_bar:
                return w, f"starts in bar {start_bar} ({option})"
        starts = sorted({w.first_bar for w in windows})
        raise ParameterError(
            f"{option}: no window starts in bar {start_bar}; windows start in bars "
            f"{_format_bars(starts)}")
    for w in windows:
        if w.n_notes >= min_notes:
            return w, f"first window with at least {min_notes} notes"
    best = max(windows, key=lambda w: (w.n_notes, -w.index))
    return best, f"no window has {min_notes} notes; the fullest one"


def _format_bars(bars: list[int], limit: int = 20) -> str:
    shown = ", ".join(str(b) for b in bars[:limit])
    return shown + (f", ... ({len(bars)} in all)" if len(bars) > limit else "")


def default_min_notes(converter) -> int:
    """"Enough notes" for a window of this converter: 2 onsets per bar."""
    return MIN_NOTES_PER_BAR * (getattr(converter, "slice_bars", None) or 1)


def step_accuracy(decoded: np.ndarray, target: np.ndarray) -> float:
    """Fraction of (step, output) classes of ``decoded`` equal to ``target``."""
    decoded, target = np.asarray(decoded), np.asarray(target)
    if decoded.shape != target.shape:
        raise ParameterError(f"decoded: shape {decoded.shape} differs from target {target.shape}")
    return float(np.mean(decoded == target))


def concatenate_steps(sequences: list[NoteSequence], *, step_seconds: float) -> NoteSequence:
    """One sequence playing ``sequences`` one after another, each ``step_seconds`` long.

    A fixed duration per step (the model's window), not each step's last
    note, keeps the bar grid when a step ends in a rest.
    """
    if not sequences:
        raise ParameterError("sequences: need at least one, got none")
    return concatenate_sequences(list(sequences), [step_seconds] * len(sequences))


@dataclasses.dataclass
class Interpolation:
    """The result of :func:`interpolate_windows`.

    Attributes
    ----------
    steps : list of NoteSequence
        ``num_steps`` decoded melodies, A's end first, B's end last.
    inputs : tuple of NoteSequence
        The two windows as the model sees them (converter round trip).
    endpoint_accuracy : tuple of float
        Per-step class accuracy of the first and last steps against A and B.
    step_seconds : float
        Duration of one step at the converter's output tempo.
    """

    steps: list[NoteSequence]
    inputs: tuple[NoteSequence, NoteSequence]
    endpoint_accuracy: tuple[float, float]
    step_seconds: float


def interpolate_windows(model, converter, a: Window, b: Window, *, num_steps: int,
                        temperature: float, seed: int | None = None) -> Interpolation:
    """Encode two windows (posterior means), slerp, and decode ``num_steps`` melodies.

    Parameters
    ----------
    model : MusicVAE or LatentHierarchyVAE
    converter : the model's converter (with the checkpoint's options applied)
    a, b : Window
        From :func:`find_windows` / :func:`choose_window`.
    num_steps : int
        Steps including both ends, >= 2.
    """
    z = model.interpolate_z(a.inputs, b.inputs, num_steps=num_steps)
    one_hots = model.decode_to_tensors(z, temperature=temperature, seed=seed)
    decoded = tensors_to_classes(one_hots, model.output_depths)
    inputs = converter.from_tensors(one_hot(np.stack([a.classes, b.classes]),
                                            model.output_depths))
    return Interpolation(
        steps=list(converter.from_tensors(one_hots)),
        inputs=(inputs[0], inputs[1]),
        endpoint_accuracy=(step_accuracy(decoded[0], a.classes),
                           step_accuracy(decoded[-1], b.classes)),
        step_seconds=model.n_steps * 60.0 / OUTPUT_QPM / converter.steps_per_quarter)


def write_interpolation(result: Interpolation, out_dir: str, *, labels: tuple[str, str],
                        title: str) -> list[str]:
    """Write each step, the joined A -> B MIDI, both inputs and a piano-roll PNG.

    Files: ``interpolate_000.mid`` ..., ``interpolate_all.mid``,
    ``input_a.mid``, ``input_b.mid``, ``interpolate.png`` (panels: input A,
    every step, input B; ``labels`` name the inputs). Returns the names.
    """
    os.makedirs(out_dir, exist_ok=True)
    names = []
    for i, sequence in enumerate(result.steps):
        names.append(f"interpolate_{i:03d}.mid")
        write_midi(sequence, os.path.join(out_dir, names[-1]))
    joined = concatenate_steps(result.steps, step_seconds=result.step_seconds)
    for name, sequence in (("interpolate_all.mid", joined), ("input_a.mid", result.inputs[0]),
                           ("input_b.mid", result.inputs[1])):
        write_midi(sequence, os.path.join(out_dir, name))
        names.append(name)
    n = len(result.steps)
    titles = ([f"input A: {labels[0]}"]
              + [f"step {i}" + (" (A)" if i == 0 else " (B)" if i == n - 1 else "")
                 for i in range(n)]
              + [f"input B: {labels[1]}"])
    plot_pianoroll([result.inputs[0], *result.steps, result.inputs[1]], titles=titles,
                   path=os.path.join(out_dir, "interpolate.png"), title=title)
    return names + ["interpolate.png"]


# --------------------------------------------------------------------------
# Whole songs: a latent per segment, moving from A's to B's as the piece advances


@dataclasses.dataclass(frozen=True)
class SongLine:
    """The melody of one song, cut into consecutive model windows.

    Attributes
    ----------
    windows : list of Window
        Back to back, each starting where the previous one ends.
    track : str
        Which track the melody came from, in words.
    """

    windows: list[Window]
    track: str

    @property
    def bars(self) -> str:
        first, last = self.windows[0].first_bar, self.windows[-1].last_bar
        return f"bars {first}-{last}" if first and last else f"{len(self.windows)} windows"


def melody_tracks(sequence: NoteSequence) -> list[tuple[int, str, float]]:
    """Pitched tracks as (instrument, name, mean pitch), highest line first."""
    names = {info.instrument: info.name for info in sequence.instrument_infos}
    return [(i, names.get(i, "") or f"track {i}", mean)
            for i, mean in rank_tracks_by_pitch(sequence.notes)]


def select_track(sequence: NoteSequence, *, name: str, track: str | None = None
                 ) -> tuple[NoteSequence, str]:
    """Keep one pitched track: the one named ``track`` (ignoring case), else the highest line.

    Returns the sequence with only that track's notes and a description.

    Raises
    ------
    NoExamplesError
        No pitched notes, or no track of that name (the names are listed).
    """
    tracks = melody_tracks(sequence)
    if not tracks:
        raise NoExamplesError(f"{name}: no pitched notes (only drums, or empty)")
    if track is None:
        chosen = tracks[0]
        how = ("the only track" if len(tracks) == 1
               else f"the highest of {len(tracks)} tracks; --track to choose another")
    else:
        matches = [t for t in tracks if t[1].lower() == track.lower()]
        if not matches:
            raise NoExamplesError(f"{name}: no track named {track!r} (tracks: "
                                  + ", ".join(repr(t[1]) for t in tracks) + ")")
        chosen, how = matches[0], "chosen with --track"
    line = NoteSequence()
    line.CopyFrom(sequence)
    del line.notes[:]
    line.notes.extend(n for n in sequence.notes if n.instrument == chosen[0] and not n.is_drum)
    return line, f"track {chosen[1]!r} ({how})"


def song_line(sequence: NoteSequence, converter, *, name: str, n_steps: int,
              track: str | None = None) -> SongLine:
    """The longest run of back-to-back windows of a song's melody track.

    Raises
    ------
    NoExamplesError
        No window at all (e.g. a song shorter than one window), with the reason.
    """
    if not isinstance(converter, MelodyConverter):
        raise ParameterError("whole-song interpolation reads melodies; this model is not one")
    line, described = select_track(sequence, name=name, track=track)
    windows = find_windows(line, converter, name=name, n_steps=n_steps,
                           output_depths=(converter.output_depth,))
    # Windows start every bar; a chain takes the one starting where the last ended.
    by_start = {round(w.start_seconds, 3): w for w in windows if w.start_seconds is not None}
    best: list[Window] = []
    for first in windows:
        chain = [first]
        while chain[-1].end_seconds is not None and (
                following := by_start.get(round(chain[-1].end_seconds, 3))) is not None:
            chain.append(following)
        if len(chain) > len(best):
            best = chain
    return SongLine(windows=best, track=described)


@dataclasses.dataclass
class SongInterpolation:
    """The result of :func:`interpolate_songs`.

    Attributes
    ----------
    song : NoteSequence
        The morph: segment i decoded from a latent that is A's at the start
        and B's at the end.
    inputs : tuple of NoteSequence
        A's and B's aligned melody lines as the model sees them.
    segment_accuracy : np.ndarray, shape (n_segments, 2)
        Class accuracy of each decoded segment against A's and B's segment.
    """

    song: NoteSequence
    inputs: tuple[NoteSequence, NoteSequence]
    segment_accuracy: np.ndarray

    @property
    def opening_accuracy(self) -> float:
        """The first segment against song A's."""
        return float(self.segment_accuracy[0, 0])

    @property
    def ending_accuracy(self) -> float:
        """The last segment against song B's."""
        return float(self.segment_accuracy[-1, 1])


def interpolate_songs(model, converter, a: SongLine, b: SongLine, *, n_segments: int,
                      temperature: float, seed: int | None = None,
                      greedy: bool = False) -> SongInterpolation:
    """Morph song A into song B over ``n_segments`` windows.

    Segment i is decoded from ``slerp(z_A[i], z_B[i], i / (n_segments - 1))``,
    the posterior means of both songs' i-th windows: the piece opens on A's
    own first window and closes on B's own window at the same position.
    """
    if n_segments < 2 or n_segments > min(len(a.windows), len(b.windows)):
        raise ParameterError(
            f"n_segments: must be 2-{min(len(a.windows), len(b.windows))}, got {n_segments}")
    inputs = np.stack([w.inputs for w in a.windows[:n_segments]]
                      + [w.inputs for w in b.windows[:n_segments]])
    _, mu, _ = model.encode(inputs)
    mu_a, mu_b = mu[:n_segments], mu[n_segments:]
    z = np.stack([slerp(mu_a[i], mu_b[i], i / (n_segments - 1))
                  for i in range(n_segments)]).astype(np.float32)
    decoded = tensors_to_classes(model.decode_to_tensors(
        z, temperature=temperature, seed=seed, greedy=greedy), model.output_depths)
    targets = [np.stack([w.classes for w in s.windows[:n_segments]]) for s in (a, b)]
    accuracy = np.array([[step_accuracy(decoded[i], t[i]) for t in targets]
                         for i in range(n_segments)])
    whole = [one_hot(np.concatenate(list(c))[None], model.output_depths)
             for c in (decoded, *targets)]
    song, input_a, input_b = (converter.from_tensors(w)[0] for w in whole)
    return SongInterpolation(song=song, inputs=(input_a, input_b), segment_accuracy=accuracy)


def write_song_interpolation(result: SongInterpolation, out_dir: str, *,
                             labels: tuple[str, str], title: str) -> list[str]:
    """``interpolate_song.mid``, ``input_a.mid``, ``input_b.mid`` and ``interpolate.png``
    (A, the morph and B, aligned bar by bar). Returns the names."""
    os.makedirs(out_dir, exist_ok=True)
    names = ["interpolate_song.mid", "input_a.mid", "input_b.mid"]
    for name, sequence in zip(names, (result.song, *result.inputs)):
        write_midi(sequence, os.path.join(out_dir, name))
    plot_pianoroll([result.inputs[0], result.song, result.inputs[1]],
                   titles=[f"A: {labels[0]}", "A -> B, one latent per segment",
                           f"B: {labels[1]}"],
                   path=os.path.join(out_dir, "interpolate.png"), title=title)
    return names + ["interpolate.png"]
