"""Render speed: GANSynth vs the soundfont on real corpus pieces, one JSON object.

Pieces: one Bach chorale (4 tracks) and a long multi-track file made by
joining chorales end to end (about 10 minutes, thousands of notes). Each is
rendered through GANSynth (model loaded and traced once beforehand: a warm
renderer) and through the FluidSynth soundfont renderer in the same run.
Figures: seconds of audio per second of wall time for each, their ratio,
notes, distinct notes generated and cache hits. Target: GANSynth >= 10x real
time on 2 cores, aiming at the soundfont's ~120x.

Speed does not depend on the weights, so ``--checkpoint untrained`` times an
untrained ``cpu-gansynth_mel`` when no GANSynth is shipped yet.

Usage::

    python benchmarks/render.py --midi-dir /tmp/corpus/bach [--checkpoint gansynth_fluidr3]
"""

from __future__ import annotations

import argparse
import json
import os
import time


def join_sequences(sequences):
    """One NoteSequence playing ``sequences`` one after another, tracks kept apart."""
    from note_seq import sequences_lib

    return sequences_lib.concatenate_sequences(sequences)


def time_render(sequence, **kwargs) -> dict:
    from gensuite.render import render_sequence_audio

    started = time.perf_counter()
    wave, rate, report = render_sequence_audio(sequence, **kwargs)
    seconds = time.perf_counter() - started
    return {"audio_s": round(report.duration_s, 1), "wall_s": round(seconds, 2),
            "realtime_factor": round(report.duration_s / seconds, 1),
            "notes": report.n_notes, "distinct_generated": report.n_distinct_generated,
            "cache_hits": report.n_cache_hits}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--midi-dir", required=True, help="folder of Bach chorale MIDI files")
    parser.add_argument("--checkpoint", default="gansynth_fluidr3",
                        help="GANSynth model, or 'untrained' for cpu-gansynth_mel")
    parser.add_argument("--long-minutes", type=float, default=10.0)
    args = parser.parse_args()

    from gensuite.gansynth.model import GANSynth
    from gensuite.midi.io import find_midi_files, read_midi

    model = (GANSynth("cpu-gansynth_mel") if args.checkpoint == "untrained"
             else GANSynth.load(args.checkpoint))
    files = find_midi_files(args.midi_dir)
    chorale = read_midi(files[0])
    pieces, total = [], 0.0
    for path in files:
        if total >= 60 * args.long_minutes:
            break
        pieces.append(read_midi(path))
        total += pieces[-1].total_time
    long_piece = join_sequences(pieces)
    model.generate([60], seed=0)  # load and trace before timing

    result = {"benchmark": "render", "cpu_count": os.cpu_count(),
              "checkpoint": args.checkpoint, "pieces": {}}
    for label, sequence in (("chorale", chorale), ("long", long_piece)):
        gansynth = time_render(sequence, synth="gansynth", model=model)
        soundfont = time_render(sequence, synth="soundfont")
        result["pieces"][label] = {
            "gansynth": gansynth, "soundfont": soundfont,
            "gansynth_vs_soundfont_speed": round(
                gansynth["realtime_factor"] / soundfont["realtime_factor"], 3)}
    result["target_met"] = all(p["gansynth"]["realtime_factor"] >= 10
                               for p in result["pieces"].values())
    print(json.dumps(result))


if __name__ == "__main__":
    main()
