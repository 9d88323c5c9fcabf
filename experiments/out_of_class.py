"""What a classifier says of timbres outside its classes, one JSON object.

    python experiments/out_of_class.py CHECKPOINT SONG.mid [--programs 52,53,68,33]

Plays every note of SONG.mid with one General MIDI program through FluidR3_GM
(``gensuite render --synth soundfont``) and prints the classifier's three
largest composition shares for each program. The instrument_cnn card's figures
come from ``/work/data/bach/bwv10.7.mid`` with Choir Aahs, Voice Oohs, oboe
and acoustic bass.
"""

import argparse
import json

import pretty_midi

from gensuite.analysis.model import AudioClassifier
from gensuite.midi.io import midi_bytes_to_sequence
from gensuite.render import render_midi


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("checkpoint")
    parser.add_argument("midi")
    parser.add_argument("--programs", default="52,53,68,33")
    args = parser.parse_args()
    classifier = AudioClassifier.load(args.checkpoint)
    figures = {}
    for program in map(int, args.programs.split(",")):
        sequence = midi_bytes_to_sequence(open(args.midi, "rb").read(), path=args.midi)
        for note in sequence.notes:
            note.program = program
        wave, rate = render_midi(sequence, synth="soundfont")
        shares = classifier.classify(wave=wave, sample_rate=rate)
        top = sorted(shares.items(), key=lambda item: -item[1])[:3]
        figures[pretty_midi.program_to_instrument_name(program)] = {
            name: round(share, 2) for name, share in top}
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
