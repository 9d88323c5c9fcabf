"""Piano-roll PNGs of NoteSequences.

matplotlib is imported inside the functions (it costs about a second) and
used through its object API with the Agg canvas, never through pyplot, so no
global figure state or interactive backend is involved. Every picture is
written atomically (see :mod:`gensuite.common.fileio`).
"""

from __future__ import annotations

import bisect
import math
import os
from collections.abc import Sequence

from note_seq import NoteSequence

from gensuite.common.errors import ParameterError
from gensuite.common.fileio import atomic_path
from gensuite.midi.summary import name_pitch, name_program

# MIDI's defaults when a file states no tempo or time signature.
DEFAULT_QPM = 120.0
DEFAULT_TIME_SIGNATURE = (4, 4)
# tab10 without its grey, which reads as "disabled" next to the bar lines.
TRACK_COLOURS = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#bcbd22", "#17becf",
)


def compute_bar_times(
    sequence: NoteSequence,
    *,
    end_seconds: float | None = None,
    max_bars: int = 1000,
) -> list[float]:
    """Times of the bar lines implied by a sequence's tempos and time signatures.

    Parameters
    ----------
    sequence : note_seq.NoteSequence
        Its ``tempos`` and ``time_signatures`` are used; MIDI's defaults
        (120 qpm, 4/4) apply before the first of each.
    end_seconds : float, optional
        Last time of interest; default the sequence's ``total_time``.
    max_bars : int
        Past this many bars the list is not worth drawing; an empty list is
        returned instead.

    Returns
    -------
    list of float
        Bar start times in seconds, ascending, from 0 up to (excluding)
        ``end_seconds``. A time signature change that falls inside a bar
        starts a new bar there, as notation programs do.
    """
    end_seconds = sequence.total_time if end_seconds is None else end_seconds
    tempo_times, tempo_quarters, tempo_qpms = _build_tempo_map(sequence)

    def to_quarters(seconds: float) -> float:
        i = bisect.bisect_right(tempo_times, seconds) - 1
        return tempo_quarters[i] + (seconds - tempo_times[i]) * tempo_qpms[i] / 60.0

    def to_seconds(quarters: float) -> float:
        i = bisect.bisect_right(tempo_quarters, quarters) - 1
        return tempo_times[i] + (quarters - tempo_quarters[i]) * 60.0 / tempo_qpms[i]

    signatures = sorted(
        (ts.time, ts.numerator, ts.denominator) for ts in sequence.time_signatures
        if ts.numerator > 0 and ts.denominator > 0)
    if not signatures or signatures[0][0] > 0:
        signatures.insert(0, (0.0, *DEFAULT_TIME_SIGNATURE))
    end_quarters = to_quarters(end_seconds)
    starts = [to_quarters(t) for t, _, _ in signatures] + [end_quarters]
    eps = 1e-6
    bars: list[float] = []
    for (_, numerator, denominator), start, stop in zip(signatures, starts, starts[1:]):
        bar_quarters = numerator * 4.0 / denominator
        n_bars = math.ceil((min(stop, end_quarters) - start) / bar_quarters - eps)
        if len(bars) + max(n_bars, 0) > max_bars:
            return []
        bars.extend(start + k * bar_quarters for k in range(max(n_bars, 0)))
    return [round(to_seconds(q), 9) for q in bars]


def _build_tempo_map(sequence: NoteSequence) -> tuple[list[float], list[float], list[float]]:
    """(change times in seconds, quarters elapsed at each, qpm from each)."""
    tempos = sorted((t.time, t.qpm) for t in sequence.tempos if t.qpm > 0)
    if not tempos or tempos[0][0] > 0:
        tempos.insert(0, (0.0, DEFAULT_QPM))
    times, quarters, qpms = [], [], []
    for time, qpm in tempos:
        if times:
            elapsed = quarters[-1] + (time - times[-1]) * qpms[-1] / 60.0
            if time == times[-1]:  # two tempos at one instant: the later wins
                times.pop(), quarters.pop(), qpms.pop()
            quarters.append(elapsed)
        else:
            quarters.append(0.0)
        times.append(time)
        qpms.append(qpm)
    return times, quarters, qpms


def plot_pianoroll(
    sequences: NoteSequence | Sequence[NoteSequence],
    *,
    path: str | os.PathLike,
    title: str | None = None,
    titles: Sequence[str] | None = None,
    n_columns: int = 1,
    bar_lines: bool = True,
    dpi: int = 100,
) -> None:
    """Draw one or several NoteSequences as piano rolls into one PNG.

    Time in seconds runs along x, MIDI pitch along y. Each track (instrument,
    program, drum flag) has one colour, the same in every panel, named in a
    legend; pitched notes are bars, drum hits diamonds at their onsets. Bar
    lines follow the tempo map and time signatures. Panels share both axes so
    that, e.g., the steps of an interpolation compare at a glance.

    Parameters
    ----------
    sequences : NoteSequence or sequence of NoteSequence
        One sequence, or several drawn as panels in row-major order.
        Sequences without notes draw an empty panel saying so.
    path : str or os.PathLike
        PNG file to write (atomically; folders are created).
    title : str, optional
        Title over the whole figure.
    titles : sequence of str, optional
        One title per panel, e.g. ``["A", "step 1", ..., "B"]``.
    n_columns : int
        Panels per row: 1 stacks them, ``len(sequences)`` puts them side by
        side.
    bar_lines : bool
        Draw bar lines (skipped anyway when there are over 1000 bars).
    dpi : int
        Resolution; a single panel is 11 inches wide.

    Raises
    ------
    ParameterError
        If no sequence is given, ``titles`` has the wrong length, or
        ``n_columns`` or ``dpi`` is < 1.
    """
    panels = [sequences] if isinstance(sequences, NoteSequence) else list(sequences)
    if not panels:
        raise ParameterError("sequences: must hold at least one NoteSequence, got none")
    if titles is not None and len(titles) != len(panels):
        raise ParameterError(
            f"titles: must give one title per sequence ({len(panels)}), got {len(titles)}")
    if n_columns < 1:
        raise ParameterError(f"n_columns: must be >= 1, got {n_columns}")
    if dpi < 1:
        raise ParameterError(f"dpi: must be >= 1, got {dpi}")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import PolyCollection
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    n_columns = min(n_columns, len(panels))
    n_rows = math.ceil(len(panels) / n_columns)
    tracks = _collect_tracks(panels)
    pitches = [n.pitch for seq in panels for n in seq.notes]
    low, high = (min(pitches), max(pitches)) if pitches else (60, 72)
    low, high = low - 1, high + 1  # room so edge notes are not clipped
    end_seconds = max([seq.total_time for seq in panels]
                      + [n.end_time for seq in panels for n in seq.notes] + [1e-3])

    panel_width = 11.0 if n_columns == 1 else max(3.5, 16.0 / n_columns)
    panel_height = min(5.0, max(2.2, 0.07 * (high - low) + 1.2))
    legend_width = 2.6 if tracks else 0.0
    fig = Figure(figsize=(panel_width * n_columns + legend_width,
                          panel_height * n_rows + (0.4 if title else 0.0)),
                 layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(n_rows, n_columns, sharex=True, sharey=True, squeeze=False)
    for index, ax in enumerate(axes.flat):
        if index >= len(panels):
            ax.set_visible(False)
            continue
        seq = panels[index]
        if bar_lines:
            bars = compute_bar_times(seq, end_seconds=end_seconds)
            ax.vlines(bars, low, high, colors="#c8c8c8", linewidths=0.6, zorder=0)
        by_track: dict[tuple[int, int, bool], list] = {}
        for note in seq.notes:
            by_track.setdefault((note.instrument, note.program, note.is_drum), []).append(note)
        for key, notes in by_track.items():
            colour = tracks[key][0]
            if key[2]:
                ax.scatter([n.start_time for n in notes], [n.pitch for n in notes],
                           marker="D", s=18, facecolors=colour, edgecolors="black",
                           linewidths=0.4, zorder=3)
            else:
                boxes = [[(n.start_time, n.pitch - 0.4), (n.end_time, n.pitch - 0.4),
                          (n.end_time, n.pitch + 0.4), (n.start_time, n.pitch + 0.4)]
                         for n in notes]
                ax.add_collection(PolyCollection(
                    boxes, facecolors=colour, edgecolors="black", linewidths=0.3,
                    zorder=2))
        if not seq.notes:
            ax.text(0.5, 0.5, "no notes", transform=ax.transAxes,
                    ha="center", va="center", color="grey")
        if titles is not None:
            ax.set_title(titles[index], fontsize=10)
        # a small margin so notes and drum hits at 0 s are not cut in half
        ax.set_xlim(-0.01 * end_seconds, 1.01 * end_seconds)
        ax.set_ylim(low, high)
        if index // n_columns == n_rows - 1 or index + n_columns >= len(panels):
            ax.set_xlabel("time (s)")
        if index % n_columns == 0:
            ax.set_ylabel("MIDI pitch")
    _label_pitch_axis(axes.flat[0], low, high)
    if tracks:
        handles = [
            Line2D([], [], marker="D", linestyle="", markerfacecolor=colour,
                   markeredgecolor="black", label=label) if key[2]
            else Patch(facecolor=colour, edgecolor="black", label=label)
            for key, (colour, label) in tracks.items()]
        fig.legend(handles=handles, loc="outside right upper", fontsize=8, frameon=False)
    if title:
        fig.suptitle(title)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi)


def _collect_tracks(panels: list[NoteSequence]) -> dict[tuple[int, int, bool], tuple[str, str]]:
    """Track key -> (colour, legend label), in order of first appearance."""
    tracks: dict[tuple[int, int, bool], tuple[str, str]] = {}
    for seq in panels:
        names = {info.instrument: info.name for info in seq.instrument_infos}
        for note in seq.notes:
            key = (note.instrument, note.program, note.is_drum)
            if key in tracks:
                continue
            program = name_program(note.program, is_drum=note.is_drum)
            name = names.get(note.instrument, "")
            label = (f"{note.instrument}: {name} ({program})" if name and name != program
                     else f"{note.instrument}: {program}")
            tracks[key] = (TRACK_COLOURS[len(tracks) % len(TRACK_COLOURS)], label)
    return tracks


def _label_pitch_axis(ax, low: int, high: int) -> None:
    """Ticks at every C (every F# too when the range is narrow), named."""
    step = 6 if high - low <= 24 else 12
    ticks = [p for p in range(math.ceil(low), math.floor(high) + 1) if p % step == 0]
    ax.set_yticks(ticks, [f"{name_pitch(p)} {p}" for p in ticks])
