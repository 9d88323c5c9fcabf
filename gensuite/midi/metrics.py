"""Sample-quality figures for melodies: per-window features and set-to-set overlap.

A melody is judged the way Yang & Lerch (2018, "On the evaluation of
generative models in music") judge one: compute simple musical features on
every window of a set of melodies, then ask how much the distribution of each
feature over a *generated* set overlaps the one over a *reference* set. An
overlap of 1.0 means the generated windows look like the reference windows on
that feature; near 0 means they never do.

Melody and windows
------------------
Every pitched (non-drum) note of every track counts; where several notes start
on the same 16th-note step the highest is kept, and each kept note is cut
short at the next kept onset, so a melody is monophonic. Times become 16th-note
steps at the sequence's first tempo (120 qpm when it has none; later tempo
changes are ignored) and bars are 16 steps (4/4 assumed, whatever the file's
meter). A file at most ``bars`` bars long is one window (MusicVAE samples are
one 2-bar window); a longer one is cut into consecutive ``bars``-bar windows
from time 0, keeping the windows holding at least one onset and dropping a
trailing part shorter than a window.

Features of one window (:func:`window_features`)
------------------------------------------------
Scalars (``SCALAR_FEATURES``):

- ``onsets_per_bar``: kept onsets / bars.
- ``pitch_range``: highest minus lowest pitch, semitones.
- ``pitch_class_entropy``: Shannon entropy of the 12-bin pitch-class
  histogram, bits (0 to log2 12 = 3.585).
- ``in_scale_rate``: share of notes inside the best-fitting major or natural
  minor scale (a minor scale holds the pitch classes of its relative major, so
  the 12 major scales cover all 24).
- ``repeated_phrase_rate``: share of bars that repeat an earlier bar of the
  same file, counted over the bars that have an earlier bar to repeat. A bar's
  pattern is its onsets (steps from the bar line) with pitches relative to its
  first note; empty bars take no part. In a one-window file this compares the
  window's own bars (two equal bars give 1.0, two different ones 0.0); in a
  longer file every bar is compared with all earlier bars of the file, or, read
  with ``repeats_within="window"``, only with the earlier bars of its window
  (how a 2-bar model's samples must be compared with real music: they have no
  song before them). NaN when no bar has an earlier one.

Histograms (``HISTOGRAM_FEATURES``, counts):

- ``pitch_class_histogram``: 12 bins, C to B.
- ``interval_histogram``: absolute intervals between consecutive notes of the
  window, bins 0 to 12 semitones and a 14th bin for larger ones.
- ``ioi_histogram``: inter-onset intervals inside the window, 16 bins for 1 to
  15 steps and 16 or more.
- ``note_length_histogram``: note lengths in steps (after the cut at the next
  onset, at least 1), same 16 bins.

Undefined scalars (e.g. the pitch range of an empty window) are NaN and take
no part in :func:`compare`.

Degenerate windows (:func:`is_degenerate`)
------------------------------------------
At most one onset per bar (2 in 2 bars), or at least 12 onsets per bar (24 in
2 bars) spanning more than 24 semitones: silence-like and noise-like output.

Comparing two sets (:func:`compare`)
------------------------------------
For a scalar feature, each set's values get a Gaussian KDE
(``scipy.stats.gaussian_kde``, Scott's bandwidth); both densities are
evaluated on one grid covering both sets plus 4 bandwidths, normalised to
area 1 on it, and the overlap is the area under their pointwise minimum.
Where a set has fewer than 2 values or is constant (no KDE exists) both sets
are compared as histograms on common bins: the distinct values when there are
at most 50 of them, else numpy's "auto" bins. For a histogram feature, each
window's histogram is normalised to sum 1, the windows' histograms are
averaged, and the overlap is the sum of the pointwise minimum of the two mean
histograms. The mean overlap averages every feature's overlap.

Why not MusPy
-------------
MusPy 0.5.0 (the latest release) installs beside our stack: it needs
miditoolkit, pypianoroll and bidict, none of which pins TensorFlow, protobuf or
numpy. But its metrics cover only three of the features here (pitch range,
pitch-class entropy and scale consistency), each a few lines of numpy, work on
its own ``Music`` objects (a conversion per window), and it has no windowing,
no interval / IOI / length histograms, no repeated-phrase measure and no
overlap computation (that lives in the unpackaged mgeval scripts). Three new
dependencies for three one-liners is a poor trade, so everything here is
numpy, with scipy for the KDE.
"""

from __future__ import annotations

import dataclasses
import math
import os

import numpy as np
from note_seq import NoteSequence

from gensuite.common.errors import InputFileError, InvalidMidiError, ParameterError
from gensuite.midi.sequences import rank_tracks_by_pitch

STEPS_PER_QUARTER = 4
STEPS_PER_BAR = 16  # 4/4 assumed
DEFAULT_QPM = 120.0
INTERVAL_BINS = 14  # 0..12 semitones, then > 12
STEP_BINS = 16  # 1..15 steps, then >= 16
KDE_GRID_POINTS = 1024
REPEATS_WITHIN = ("file", "window")
MAX_DISCRETE_VALUES = 50

SCALAR_FEATURES = ("onsets_per_bar", "pitch_range", "pitch_class_entropy", "in_scale_rate",
                   "repeated_phrase_rate")
HISTOGRAM_FEATURES = ("pitch_class_histogram", "interval_histogram", "ioi_histogram",
                      "note_length_histogram")

# Pitch classes of C major; the other 11 majors (and so all 12 natural
# minors) are its rotations.
_MAJOR_SCALE = np.array([1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1], dtype=bool)
_SCALES = np.stack([np.roll(_MAJOR_SCALE, root) for root in range(12)])  # (12, 12)

# read_midi's rule for a well-formed file without notes (an all-rest sample).
_NO_NOTES_RULE = "contains no notes"


@dataclasses.dataclass(frozen=True)
class MelodyWindow:
    """``bars`` bars of a monophonic melody on a 16th-note grid.

    Attributes
    ----------
    pitches : numpy.ndarray
        MIDI pitches of the notes starting in the window, shape (n,), int, in
        onset order.
    onsets : numpy.ndarray
        Onsets in steps (16th notes) from the window's start, shape (n,), int,
        strictly increasing, each in ``[0, bars * 16)``.
    lengths : numpy.ndarray
        Note lengths in steps, shape (n,), int, each >= 1.
    bars : int
        Window length in bars of 16 steps.
    start_bar : int
        Bar of the file where the window starts (0 = the first).
    earlier_patterns : frozenset
        Patterns (see :func:`bar_pattern`) of the non-empty bars of the file
        before the window, for the repeated-phrase rate.
    qpm : float
        Tempo used to place the notes on the grid.
    """

    pitches: np.ndarray
    onsets: np.ndarray
    lengths: np.ndarray
    bars: int
    start_bar: int = 0
    earlier_patterns: frozenset = frozenset()
    qpm: float = DEFAULT_QPM

    @property
    def n_onsets(self) -> int:
        return int(self.pitches.size)


def _check_bars(bars) -> int:
    if isinstance(bars, bool) or not isinstance(bars, (int, np.integer)) or bars < 1:
        raise ParameterError(f"bars: must be an integer >= 1, got {bars!r}")
    return int(bars)


def sequence_qpm(sequence: NoteSequence) -> float:
    """The sequence's first tempo in quarter notes per minute (120 when it has none)."""
    tempos = [t for t in sequence.tempos if t.qpm > 0]
    if not tempos:
        return DEFAULT_QPM
    return float(min(tempos, key=lambda t: t.time).qpm)


def melody_notes(sequence: NoteSequence) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The monophonic melody of a sequence on a 16th-note grid.

    Every pitched note counts; of the notes starting on one step the highest is
    kept, and each kept note ends at the latest at the next kept onset.

    Returns
    -------
    pitches, onsets, lengths : numpy.ndarray
        Shape (n,) each, int; onsets in steps from time 0, increasing;
        lengths in steps, >= 1.
    end_step : int
        Step where the last pitched note (of all, before the cut) ends,
        rounded up; 0 without pitched notes.
    """
    steps_per_second = sequence_qpm(sequence) / 60.0 * STEPS_PER_QUARTER
    highest: dict[int, tuple[int, int]] = {}
    end_step = 0
    for note in sequence.notes:
        if note.is_drum:
            continue
        onset = max(0, round(note.start_time * steps_per_second))
        end = round(note.end_time * steps_per_second)
        end_step = max(end_step, math.ceil(note.end_time * steps_per_second - 0.01))
        if onset not in highest or note.pitch > highest[onset][0]:
            highest[onset] = (note.pitch, end)
    onsets = np.array(sorted(highest), dtype=np.int64)
    pitches = np.array([highest[o][0] for o in onsets], dtype=np.int64)
    ends = np.array([highest[o][1] for o in onsets], dtype=np.int64)
    if onsets.size:
        ends[:-1] = np.minimum(ends[:-1], onsets[1:])
    lengths = np.maximum(ends - onsets, 1)
    return pitches, onsets, lengths, int(end_step)


def bar_pattern(pitches, onsets) -> tuple | None:
    """A bar's note pattern: ``((onset, pitch - first pitch), ...)``; None when empty.

    ``onsets`` are steps from the bar line, so equal patterns are the same
    rhythm and the same contour in any transposition.
    """
    if len(pitches) == 0:
        return None
    first = int(pitches[0])
    return tuple((int(o), int(p) - first) for p, o in zip(pitches, onsets))


def _bar_patterns(pitches, onsets, n_bars: int) -> list[tuple | None]:
    bar_of = onsets // STEPS_PER_BAR
    return [bar_pattern(pitches[bar_of == b], onsets[bar_of == b] - b * STEPS_PER_BAR)
            for b in range(n_bars)]


def melody_windows(sequence: NoteSequence, *, bars: int = 2,
                   repeats_within: str = "file") -> list[MelodyWindow]:
    """Cut a sequence's melody into windows of ``bars`` bars.

    Parameters
    ----------
    sequence : NoteSequence
        Any sequence; pitched notes of all tracks count (see
        :func:`melody_notes`).
    bars : int
        Window length in 4/4 bars (16 sixteenth-note steps each).
    repeats_within : {"file", "window"}
        Whether a bar's repeat counts against every earlier bar of the file
        or only against the earlier bars of its own window. Compare one-window
        samples (a 2-bar model's) with real windows read "window": a sample
        has no song before it to repeat.

    Returns
    -------
    list of MelodyWindow
        One window when the melody ends within ``bars`` bars; otherwise the
        consecutive full windows from time 0 that hold an onset (a trailing
        part shorter than a window is dropped). Empty without pitched notes.
    """
    bars = _check_bars(bars)
    if repeats_within not in REPEATS_WITHIN:
        raise ParameterError(f"repeats_within: must be one of {', '.join(REPEATS_WITHIN)}, "
                             f"got {repeats_within!r}")
    pitches, onsets, lengths, end_step = melody_notes(sequence)
    if pitches.size == 0:
        return []
    qpm = sequence_qpm(sequence)
    window_steps = bars * STEPS_PER_BAR
    n_windows = 1 if end_step <= window_steps else end_step // window_steps
    patterns = _bar_patterns(pitches, onsets, n_windows * bars)
    windows = []
    for k in range(n_windows):
        start = k * window_steps
        inside = (onsets >= start) & (onsets < start + window_steps)
        if not inside.any():
            continue
        windows.append(MelodyWindow(
            pitches=pitches[inside], onsets=onsets[inside] - start, lengths=lengths[inside],
            bars=bars, start_bar=k * bars,
            earlier_patterns=(frozenset() if repeats_within == "window" else
                              frozenset(p for p in patterns[:k * bars] if p is not None)),
            qpm=qpm))
    return windows


def empty_window(*, bars: int = 2) -> MelodyWindow:
    """A window without notes (what an all-rest sample gives)."""
    none = np.zeros(0, dtype=np.int64)
    return MelodyWindow(pitches=none, onsets=none, lengths=none, bars=_check_bars(bars))


def sample_features(sequences, *, bars: int = 2) -> list[dict]:
    """:func:`window_features` of every window of generated sequences.

    A sequence without notes counts as one empty window, so silent samples are
    judged (degenerate) instead of dropped.
    """
    return [window_features(window) for sequence in sequences
            for window in (melody_windows(sequence, bars=bars) or [empty_window(bars=bars)])]


def _step_histogram(steps: np.ndarray) -> list[int]:
    return np.bincount(np.clip(steps, 1, STEP_BINS) - 1, minlength=STEP_BINS).tolist()


def window_features(window: MelodyWindow) -> dict:
    """Yang & Lerch style features of one window.

    Returns
    -------
    dict
        ``bars``, ``start_bar``, ``n_onsets`` (ints); the scalars of
        ``SCALAR_FEATURES`` (floats: onsets per bar, semitones, bits, shares;
        NaN where undefined); the histograms of ``HISTOGRAM_FEATURES`` (lists
        of int counts: 12 pitch classes, 14 intervals 0-12 and >12 semitones,
        16 inter-onset intervals and 16 note lengths of 1-15 and >=16 steps);
        ``degenerate`` (bool, :func:`is_degenerate`). See the module docstring
        for the definitions.
    """
    pitches = np.asarray(window.pitches, dtype=np.int64)
    onsets = np.asarray(window.onsets, dtype=np.int64)
    lengths = np.asarray(window.lengths, dtype=np.int64)
    n = int(pitches.size)
    pc_counts = np.bincount(pitches % 12, minlength=12)
    if n:
        p = pc_counts[pc_counts > 0] / n
        entropy = float(-(p * np.log2(p)).sum()) + 0.0  # + 0.0: no -0.0
        in_scale = float((_SCALES[:, pitches % 12].sum(axis=1)).max() / n)
        pitch_range = float(pitches.max() - pitches.min())
    else:
        entropy = in_scale = pitch_range = math.nan

    seen = set(window.earlier_patterns)
    eligible = repeats = 0
    for pattern in _bar_patterns(pitches, onsets, window.bars):
        if pattern is None:
            continue
        if seen:
            eligible += 1
            repeats += pattern in seen
        seen.add(pattern)
    repeated = repeats / eligible if eligible else math.nan

    intervals = np.minimum(np.abs(np.diff(pitches)), INTERVAL_BINS - 1)
    features = {
        "bars": int(window.bars),
        "start_bar": int(window.start_bar),
        "n_onsets": n,
        "onsets_per_bar": n / window.bars,
        "pitch_range": pitch_range,
        "pitch_class_entropy": entropy,
        "in_scale_rate": in_scale,
        "repeated_phrase_rate": float(repeated),
        "pitch_class_histogram": pc_counts.tolist(),
        "interval_histogram": np.bincount(intervals, minlength=INTERVAL_BINS).tolist(),
        "ioi_histogram": _step_histogram(np.diff(onsets)),
        "note_length_histogram": _step_histogram(lengths),
    }
    features["degenerate"] = is_degenerate(features)
    return features


def is_degenerate(features: dict) -> bool:
    """Whether a window is silence-like or noise-like.

    Degenerate: at most one onset per bar (2 in 2 bars), or at least 12 onsets
    per bar (24 in 2 bars) spanning more than 24 semitones.

    Parameters
    ----------
    features : dict
        From :func:`window_features`; reads ``n_onsets``, ``pitch_range`` and
        ``bars`` (2 when missing).
    """
    return bool(degenerate_mask(features["n_onsets"], features["pitch_range"],
                                bars=features.get("bars", 2)))


def degenerate_mask(n_onsets, pitch_range, *, bars: int) -> np.ndarray:
    """:func:`is_degenerate` for arrays of windows of ``bars`` bars (NaN range: not noise)."""
    n = np.asarray(n_onsets)
    with np.errstate(invalid="ignore"):
        wide = np.asarray(pitch_range, dtype=np.float64) > 24
    return (n <= bars) | ((n >= 12 * bars) & wide)


# --------------------------------------------------------------------------
# set against set


def _finite(values) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64).ravel()
    return array[np.isfinite(array)]


def _histogram_overlap(a: np.ndarray, b: np.ndarray) -> float:
    both = np.concatenate([a, b])
    distinct = np.unique(both)
    if distinct.size == 1:
        return 1.0
    if distinct.size <= MAX_DISCRETE_VALUES:
        ha = np.searchsorted(distinct, a)
        hb = np.searchsorted(distinct, b)
        ca = np.bincount(ha, minlength=distinct.size) / a.size
        cb = np.bincount(hb, minlength=distinct.size) / b.size
    else:
        edges = np.histogram_bin_edges(both, bins="auto")
        ca = np.histogram(a, bins=edges)[0] / a.size
        cb = np.histogram(b, bins=edges)[0] / b.size
    return float(np.clip(np.minimum(ca, cb).sum(), 0.0, 1.0))


def overlap_area(a, b) -> tuple[float, str]:
    """Overlap of the distributions of two samples of one scalar, in [0, 1].

    Parameters
    ----------
    a, b : array-like
        Values, shape (n,) and (m,); NaN and infinite values are dropped.

    Returns
    -------
    float
        Area under the pointwise minimum of the two densities (NaN when a
        sample is empty).
    str
        ``"kde"`` (Gaussian KDEs on a common grid, each normalised to area 1
        there), ``"histogram"`` (a sample with < 2 values or constant: common
        bins) or ``"none"`` (an empty sample).
    """
    from scipy import stats

    a, b = _finite(a), _finite(b)
    if a.size == 0 or b.size == 0:
        return math.nan, "none"
    if a.size < 2 or b.size < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return _histogram_overlap(a, b), "histogram"
    try:
        kde_a, kde_b = stats.gaussian_kde(a), stats.gaussian_kde(b)
    except (np.linalg.LinAlgError, ValueError):
        return _histogram_overlap(a, b), "histogram"
    bandwidth = math.sqrt(max(kde_a.covariance[0, 0], kde_b.covariance[0, 0]))
    low = min(a.min(), b.min()) - 4 * bandwidth
    high = max(a.max(), b.max()) + 4 * bandwidth
    grid = np.linspace(low, high, KDE_GRID_POINTS)
    density_a, density_b = kde_a(grid), kde_b(grid)
    areas = np.trapezoid(density_a, grid), np.trapezoid(density_b, grid)
    if not all(np.isfinite(area) and area > 0 for area in areas):
        # A KDE narrower than the grid's spacing: the grid misses its mass.
        return _histogram_overlap(a, b), "histogram"
    density_a /= areas[0]
    density_b /= areas[1]
    return float(np.clip(np.trapezoid(np.minimum(density_a, density_b), grid), 0.0, 1.0)), "kde"


def mean_histogram(histograms) -> np.ndarray | None:
    """Average of per-window histograms each normalised to sum 1; None if all are empty.

    Parameters
    ----------
    histograms : sequence of array-like
        Counts, shape (n_windows, n_bins).
    """
    counts = np.asarray(histograms, dtype=np.float64)
    if counts.ndim != 2:
        return None
    totals = counts.sum(axis=1)
    used = totals > 0
    if not used.any():
        return None
    return (counts[used] / totals[used, None]).mean(axis=0)


def _mean_or_none(values) -> float | None:
    values = _finite(values)
    return float(values.mean()) if values.size else None


def compare(generated_features: list[dict], reference_features: list[dict]) -> dict:
    """How closely generated windows match reference windows, feature by feature.

    Parameters
    ----------
    generated_features, reference_features : list of dict
        Windows' features (:func:`window_features` / :func:`folder_features`),
        at least one window each.

    Returns
    -------
    dict
        ``features``: per feature name, ``kind`` ("scalar" or "histogram"),
        ``overlap`` (0-1, None where undefined), ``generated_mean`` and
        ``reference_mean`` (a float for scalars, a list of bin shares for
        histograms, None without data) and, for scalars, ``method`` ("kde",
        "histogram" or "none", see :func:`overlap_area`).
        ``mean_overlap``: average of the defined overlaps.
        ``degenerate_share``: ``{"generated": x, "reference": y}``, shares of
        windows.
        ``windows``: ``{"generated": n, "reference": m}``.
        Values are plain Python (JSON-ready; no NaN).

    Raises
    ------
    ParameterError
        If a set holds no window.
    """
    for name, windows in (("generated_features", generated_features),
                          ("reference_features", reference_features)):
        if not windows:
            raise ParameterError(f"{name}: needs at least one window, got none")
    features: dict[str, dict] = {}
    for name in SCALAR_FEATURES:
        gen = [w[name] for w in generated_features]
        ref = [w[name] for w in reference_features]
        overlap, method = overlap_area(gen, ref)
        features[name] = {
            "kind": "scalar", "overlap": None if math.isnan(overlap) else overlap,
            "method": method, "generated_mean": _mean_or_none(gen),
            "reference_mean": _mean_or_none(ref)}
    for name in HISTOGRAM_FEATURES:
        gen = mean_histogram([w[name] for w in generated_features])
        ref = mean_histogram([w[name] for w in reference_features])
        overlap = None if gen is None or ref is None else float(
            np.clip(np.minimum(gen, ref).sum(), 0.0, 1.0))
        features[name] = {
            "kind": "histogram", "overlap": overlap,
            "generated_mean": None if gen is None else gen.tolist(),
            "reference_mean": None if ref is None else ref.tolist()}
    overlaps = [f["overlap"] for f in features.values() if f["overlap"] is not None]
    return {
        "features": features,
        "mean_overlap": float(np.mean(overlaps)) if overlaps else None,
        "degenerate_share": {
            "generated": degenerate_share(generated_features),
            "reference": degenerate_share(reference_features)},
        "windows": {"generated": len(generated_features),
                    "reference": len(reference_features)},
    }


def degenerate_share(features: list[dict]) -> float:
    """Share of windows that are degenerate (:func:`is_degenerate`), 0-1; 0 for none."""
    if not features:
        return 0.0
    return sum(is_degenerate(w) for w in features) / len(features)


# --------------------------------------------------------------------------
# folders


class FolderFeatures(list):
    """The windows' features of a folder (a list of dicts) and what was read.

    Attributes
    ----------
    folder : str
        The folder searched.
    n_files : int
        MIDI files found.
    skipped : list of dict
        ``{"file": relative path, "reason": rule broken}`` per unreadable file.
    files_without_notes : list of str
        Readable files with no pitched note; each adds one empty (degenerate)
        window, since an all-rest sample is a failed sample.
    files_without_windows : list of str
        Files with notes but no full window holding an onset.
    """

    def __init__(self, windows=(), *, folder: str = "", n_files: int = 0):
        super().__init__(windows)
        self.folder = folder
        self.n_files = n_files
        self.skipped: list[dict[str, str]] = []
        self.files_without_notes: list[str] = []
        self.files_without_windows: list[str] = []

    @property
    def n_skipped(self) -> int:
        return len(self.skipped)

    @property
    def n_files_used(self) -> int:
        """Files that gave at least one window (empty ones included)."""
        return self.n_files - self.n_skipped - len(self.files_without_windows)

    def counts(self) -> dict:
        """JSON-ready counts: folder, files, windows, skipped files with reasons."""
        return {
            "folder": self.folder, "files": self.n_files, "files_used": self.n_files_used,
            "files_skipped": self.n_skipped,
            "files_without_notes": len(self.files_without_notes),
            "files_without_windows": len(self.files_without_windows),
            "windows": len(self), "degenerate_share": degenerate_share(self),
            "skipped": list(self.skipped)}


def folder_features(folder: str | os.PathLike, *, bars: int = 2, top_track: bool = False,
                    repeats_within: str = "file") -> FolderFeatures:
    """Features of every window of every MIDI file under a folder.

    Parameters
    ----------
    folder : str or os.PathLike
        Searched recursively (:func:`gensuite.midi.io.find_midi_files`).
    bars : int
        Window length in bars (:func:`melody_windows`).
    top_track : bool
        Read only each file's highest track (mean pitch): a score's melody
        line instead of the top note of all its parts.
    repeats_within : {"file", "window"}
        See :func:`melody_windows`.

    Returns
    -------
    FolderFeatures
        A list of :func:`window_features` dicts, each with ``file`` (path
        relative to the folder) added, in file then time order; its attributes
        count the files read, skipped (unreadable, with the reason), without
        notes and without windows.

    Raises
    ------
    InputFileError
        If the folder is missing, holds no MIDI file, or none of its files
        holds a pitched note in a window (the message says why).
    """
    from gensuite.midi.io import find_midi_files, read_midi

    bars = _check_bars(bars)
    folder = os.fspath(folder)
    paths = find_midi_files(folder)
    if not paths:
        raise InputFileError(folder, "holds no .mid or .midi files")
    result = FolderFeatures(folder=folder, n_files=len(paths))
    for path in paths:
        relpath = os.path.relpath(path, folder)
        try:
            sequence = read_midi(path)
        except InvalidMidiError as exc:
            if exc.rule != _NO_NOTES_RULE:
                result.skipped.append({"file": relpath, "reason": exc.rule})
                continue
            sequence = NoteSequence()
        except (InputFileError, OSError) as exc:
            result.skipped.append({"file": relpath, "reason": getattr(exc, "rule", str(exc))})
            continue
        if top_track and any(not n.is_drum for n in sequence.notes):
            top = rank_tracks_by_pitch(sequence.notes)[0][0]
            kept = [n for n in sequence.notes if n.instrument == top and not n.is_drum]
            del sequence.notes[:]
            sequence.notes.extend(kept)
        windows = melody_windows(sequence, bars=bars, repeats_within=repeats_within)
        if not windows:
            if any(not n.is_drum for n in sequence.notes):
                result.files_without_windows.append(relpath)
                continue
            result.files_without_notes.append(relpath)
            windows = [empty_window(bars=bars)]
        for window in windows:
            result.append(window_features(window) | {"file": relpath})
    if not any(w["n_onsets"] for w in result):
        raise InputFileError(folder, _why_no_windows(result, bars))
    return result


def _why_no_windows(result: FolderFeatures, bars: int) -> str:
    parts = []
    if result.skipped:
        first = result.skipped[0]
        parts.append(f"{result.n_skipped} unreadable, e.g. {first['file']}: {first['reason']}")
    if result.files_without_notes:
        parts.append(f"{len(result.files_without_notes)} without pitched notes")
    if result.files_without_windows:
        parts.append(f"{len(result.files_without_windows)} with notes only in a trailing part "
                     f"shorter than {bars} bars")
    return (f"none of its {result.n_files} MIDI files gave a window with notes "
            f"({'; '.join(parts)})")
