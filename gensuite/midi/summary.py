"""Summaries of NoteSequences: what ``gensuite data inspect`` prints.

:func:`summarize_sequence` turns a sequence into a plain, JSON-serialisable
dict (units in the key names); :func:`format_summary` renders that dict as the
text the command prints. Both are pure.
"""

from __future__ import annotations

from typing import Any

from note_seq import NoteSequence

# note_seq stores key signatures as a pitch class 0-11 (MIDI's sharps/flats
# count is lost), so one spelling per class is all we can honestly print.
KEY_NAMES = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
DRUM_PROGRAM_NAME = "Drums"
# Times are floats from tick arithmetic (0.49999999...); microseconds are far
# below anything audible and keep the JSON readable and comparable.
TIME_DECIMALS = 6


def summarize_sequence(sequence: NoteSequence) -> dict[str, Any]:
    """Describe a NoteSequence as a JSON-serialisable dict.

    Parameters
    ----------
    sequence : note_seq.NoteSequence
        Any sequence, quantized or not, possibly without notes.

    Returns
    -------
    dict
        ``filename`` (str), ``duration_seconds`` (the sequence's total time),
        ``n_notes``, ``n_pitched_notes``, ``n_drum_notes``, ``pitch_min`` /
        ``pitch_max`` (MIDI note numbers over the pitched, i.e. non-drum,
        notes; None when there are none), ``n_tracks``, ``tracks`` (list of
        dicts, see below), ``tempos`` (``time_seconds``, ``qpm``),
        ``time_signatures`` (``time_seconds``, ``numerator``,
        ``denominator``), ``key_signatures`` (``time_seconds``, ``key`` such
        as ``"Eb"``, ``mode`` such as ``"minor"``), ``ticks_per_quarter``, and
        ``steps_per_quarter`` / ``n_quantized_steps`` (None unless the
        sequence is quantized).

        A track is one (instrument, program, is_drum) triple, as note_seq
        splits MIDI tracks: ``instrument`` (index), ``name`` (track name or
        ""), ``program`` (0-127), ``program_name`` (General MIDI name, or
        "Drums"), ``is_drum``, ``n_notes``, ``pitch_min``, ``pitch_max``,
        ``start_seconds`` (first onset), ``end_seconds`` (last release).
        Tracks are sorted by instrument index, then program.
    """
    names = {info.instrument: info.name for info in sequence.instrument_infos}
    pitched = [n.pitch for n in sequence.notes if not n.is_drum]
    quantized = sequence.quantization_info.steps_per_quarter > 0
    tracks = _group_tracks(sequence)
    return {
        "filename": sequence.filename,
        "duration_seconds": _round_time(sequence.total_time),
        "n_notes": len(sequence.notes),
        "n_pitched_notes": len(pitched),
        "n_drum_notes": len(sequence.notes) - len(pitched),
        "pitch_min": min(pitched) if pitched else None,
        "pitch_max": max(pitched) if pitched else None,
        "n_tracks": len(tracks),
        "tracks": [
            _summarize_track(key, notes, names.get(key[0], ""))
            for key, notes in sorted(tracks.items())
        ],
        "tempos": [
            {"time_seconds": _round_time(t.time), "qpm": round(t.qpm, TIME_DECIMALS)}
            for t in sorted(sequence.tempos, key=lambda t: t.time)
        ],
        "time_signatures": [
            {"time_seconds": _round_time(ts.time), "numerator": ts.numerator,
             "denominator": ts.denominator}
            for ts in sorted(sequence.time_signatures, key=lambda ts: ts.time)
        ],
        "key_signatures": [
            {"time_seconds": _round_time(ks.time), "key": KEY_NAMES[ks.key % 12],
             "mode": NoteSequence.KeySignature.Mode.Name(ks.mode).lower()}
            for ks in sorted(sequence.key_signatures, key=lambda ks: ks.time)
        ],
        "ticks_per_quarter": sequence.ticks_per_quarter,
        "steps_per_quarter": sequence.quantization_info.steps_per_quarter if quantized else None,
        "n_quantized_steps": sequence.total_quantized_steps if quantized else None,
    }


def format_summary(summary: dict[str, Any]) -> str:
    """Render a :func:`summarize_sequence` dict as human-readable text.

    Returns
    -------
    str
        Several lines, no trailing newline: a headline, a table of tracks, and
        one line each for tempos, time signatures and key signatures.
    """
    pitch = _format_pitch_range(summary["pitch_min"], summary["pitch_max"])
    headline = (
        f"{summary['filename'] or '<sequence>'}: {summary['duration_seconds']:.2f} s, "
        f"{summary['n_tracks']} track{'s' * (summary['n_tracks'] != 1)}, "
        f"{summary['n_notes']} notes"
        + (f" ({summary['n_drum_notes']} drum)" if summary["n_drum_notes"] else "")
        + f", pitch {pitch}")
    lines = [headline]
    if summary["steps_per_quarter"] is not None:
        lines.append(f"quantized: {summary['steps_per_quarter']} steps per quarter, "
                     f"{summary['n_quantized_steps']} steps")
    rows = [("inst", "name", "program", "drum", "notes", "pitch", "seconds")]
    for track in summary["tracks"]:
        rows.append((
            str(track["instrument"]),
            track["name"] or "-",
            f"{track['program']} {track['program_name']}",
            "yes" if track["is_drum"] else "no",
            str(track["n_notes"]),
            _format_pitch_range(track["pitch_min"], track["pitch_max"],
                                names=not track["is_drum"]),
            f"{track['start_seconds']:.2f}-{track['end_seconds']:.2f}",
        ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines.append("tracks:")
    lines.extend("  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip()
                 for row in rows)
    lines.append("tempos: " + _format_events(
        summary["tempos"], lambda e: f"{e['qpm']:g} qpm"))
    lines.append("time signatures: " + _format_events(
        summary["time_signatures"], lambda e: f"{e['numerator']}/{e['denominator']}"))
    lines.append("key signatures: " + _format_events(
        summary["key_signatures"], lambda e: f"{e['key']} {e['mode']}"))
    return "\n".join(lines)


def _group_tracks(sequence: NoteSequence) -> dict[tuple[int, int, bool], list]:
    tracks: dict[tuple[int, int, bool], list] = {}
    for note in sequence.notes:
        tracks.setdefault((note.instrument, note.program, note.is_drum), []).append(note)
    return tracks


def _summarize_track(key: tuple[int, int, bool], notes: list, name: str) -> dict[str, Any]:
    instrument, program, is_drum = key
    pitches = [n.pitch for n in notes]
    return {
        "instrument": instrument,
        "name": name,
        "program": program,
        "program_name": name_program(program, is_drum=is_drum),
        "is_drum": is_drum,
        "n_notes": len(notes),
        "pitch_min": min(pitches),
        "pitch_max": max(pitches),
        "start_seconds": _round_time(min(n.start_time for n in notes)),
        "end_seconds": _round_time(max(n.end_time for n in notes)),
    }


def name_program(program: int, *, is_drum: bool = False) -> str:
    """General MIDI name of a program number (0-127), or "Drums" for drum notes."""
    if is_drum:
        return DRUM_PROGRAM_NAME
    import pretty_midi

    return pretty_midi.program_to_instrument_name(program)


def name_pitch(pitch: int) -> str:
    """Scientific pitch name of a MIDI note number, e.g. 60 -> "C4"."""
    import pretty_midi

    return pretty_midi.note_number_to_name(pitch)


def _format_pitch_range(low: int | None, high: int | None, *, names: bool = True) -> str:
    if low is None:
        return "none"
    text = f"{low}-{high}"
    return f"{text} ({name_pitch(low)}-{name_pitch(high)})" if names else text


def _format_events(events: list[dict[str, Any]], describe) -> str:
    if not events:
        return "none"
    return ", ".join(f"{describe(e)} at {e['time_seconds']:.2f} s" for e in events)


def _round_time(seconds: float) -> float:
    return round(float(seconds), TIME_DECIMALS)
