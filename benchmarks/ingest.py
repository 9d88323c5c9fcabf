"""Ingest throughput: gensuite's process pool and Beam's DirectRunner vs a plain note_seq loop.

All three read the same folder of real MIDI files in the same run. The
baseline is Magenta's way: one process calling
``note_seq.midi_file_to_note_sequence`` per file. gensuite validates, sets
Magenta's id/filename/collection and writes the TFRecord, on every core,
either with its own process pool (``--runner local``) or as an Apache Beam
pipeline on the DirectRunner's worker processes (when Beam is installed;
its start-up, a few seconds, is part of the time).

Usage::

    python benchmarks/ingest.py [--midi-dir DIR] [--repeats 3] [--workers N]

Without --midi-dir the Bach chorales are exported from the music21 corpus into
a cache folder first (not timed). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import warnings


def time_best(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def baseline(paths: list[str]) -> None:
    import note_seq

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for path in paths:
            try:
                note_seq.midi_file_to_note_sequence(path)
            except Exception:  # the baseline skips bad files too
                pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--midi-dir", help="folder of MIDI files (default: Bach chorales)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()

    from gensuite.midi import io as midi_io

    midi_dir = args.midi_dir
    if midi_dir is None:
        from gensuite.midi.corpus import export_collection

        midi_dir = os.path.join(tempfile.gettempdir(), "gensuite-bench", "bach-chorales")
        export_collection("bach-chorales", out_dir=midi_dir)
    paths = midi_io.find_midi_files(midi_dir)
    import tensorflow  # noqa: F401  (imported once, outside the timed region)

    from gensuite.common.beam import beam_installed

    def ingest(runner):
        return midi_io.ingest_midi_dir(midi_dir, out, num_workers=args.workers, runner=runner)

    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "notes.tfrecord")
        report = ingest("local")
        ours_s = time_best(lambda: ingest("local"), args.repeats)
        beam_s = time_best(lambda: ingest("DirectRunner"), args.repeats) if beam_installed() \
            else None
    base_s = time_best(lambda: baseline(paths), args.repeats)
    result = {
        "benchmark": "ingest",
        "midi_dir": midi_dir,
        "n_files": len(paths),
        "n_read": report.n_read,
        "n_notes": report.n_notes,
        "cpu_count": os.cpu_count(),
        "gensuite_files_per_s": round(len(paths) / ours_s, 1),
        "beam_direct_runner_files_per_s": round(len(paths) / beam_s, 1) if beam_s else None,
        "baseline_files_per_s": round(len(paths) / base_s, 1),
        "ratio": round(base_s / ours_s, 2),
        "beam_ratio": round(base_s / beam_s, 2) if beam_s else None,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
