"""The demo: the main job end to end on real corpus data and shipped checkpoints.

Today it covers the symbolic data layer: two tunes exported from the music21
corpus (a Bach chorale and an Essen folk song), ingested into a NoteSequence
TFRecord, each summarised and drawn as a piano roll, with an index.html to
look at them. Later stages (sampling, interpolation, rendering) add sections.
"""

from __future__ import annotations

import html
import json
import os

from gensuite import corpus, midi_io, plots, summary
from gensuite.fileio import write_text_atomic

# (collection, how many pieces) exported for the demo: small and fast.
DEMO_TUNES = (("bach-chorales", 1), ("essen", 1))


def run_demo(*, out_dir: str | os.PathLike, progress: bool = False) -> str:
    """Run the demo into ``out_dir`` and return the path of its index.html."""
    out_dir = os.fspath(out_dir)
    midi_dir = os.path.join(out_dir, "midi")
    for name, limit in DEMO_TUNES:
        corpus.export_collection(name, out_dir=os.path.join(midi_dir, name), limit=limit)

    report = midi_io.ingest_midi_dir(
        midi_dir, os.path.join(out_dir, "notes.tfrecord"),
        report_path=os.path.join(out_dir, "ingest_report.json"), progress=progress)

    sections = []
    for sequence in midi_io.read_tfrecord(os.path.join(out_dir, "notes.tfrecord")):
        stem = os.path.splitext(sequence.filename)[0].replace(os.sep, "__")
        info = summary.summarize_sequence(sequence)
        write_text_atomic(os.path.join(out_dir, f"{stem}.json"), json.dumps(info, indent=2) + "\n")
        plots.plot_pianoroll(sequence, path=os.path.join(out_dir, f"{stem}.png"),
                             title=sequence.filename)
        sections.append((sequence.filename, f"{stem}.png", summary.format_summary(info)))
        print(f"{sequence.filename}: {len(sequence.notes)} notes, "
              f"{sequence.total_time:.1f} s -> {stem}.png")

    index = os.path.join(out_dir, "index.html")
    write_text_atomic(index, render_index(sections, report))
    return index


def render_index(sections, report: midi_io.IngestReport) -> str:
    """A self-contained HTML page showing each tune's summary and piano roll."""
    parts = [
        "<!doctype html><meta charset='utf-8'><title>gensuite demo</title>",
        "<h1>gensuite demo</h1>",
        f"<p>Ingested {report.n_read} of {report.n_files} MIDI files "
        f"({report.n_notes} notes) into notes.tfrecord.</p>",
    ]
    for filename, png, text in sections:
        parts += [f"<h2>{html.escape(filename)}</h2>",
                  f"<img src='{html.escape(png)}' style='max-width:100%'>",
                  f"<pre>{html.escape(text)}</pre>"]
    return "\n".join(parts) + "\n"
