"""Harmony of GANSynth renders against the FluidR3 render, per timbre seed, one JSON object.

    python experiments/render_chroma.py SONG.mid CHECKPOINT [CHECKPOINT ...] [--seeds 0,1,2,3]

For each checkpoint and seed: the chromagram correlation
(:func:`gensuite.audio.pitch.chromagram_correlation`) of ``gensuite render``'s
output (drums skipped) with the FluidR3_GM render; beside them the same figure
for the other real soundfonts installed. The model cards' chorale figures come
from ``/work/data/bach/bwv10.7.mid`` (``gensuite corpus export bach``).
"""

import argparse
import json
import os

from gensuite.audio.pitch import chromagram_correlation
from gensuite.render import render_midi

SOUNDFONTS = {"fluidr3": "/usr/share/sounds/sf2/FluidR3_GM.sf2",
              "timgm6mb": "/usr/share/sounds/sf2/TimGM6mb.sf2",
              "musescore": "/usr/share/sounds/sf3/MuseScore_General_Lite.sf3"}
RATE = 16000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("midi")
    parser.add_argument("checkpoints", nargs="+")
    parser.add_argument("--seeds", default="0,1,2,3")
    args = parser.parse_args()

    def render(**kwargs):
        wave, _ = render_midi(args.midi, drums="skip", sample_rate=RATE, **kwargs)
        return wave

    reference = render(synth="soundfont", soundfont=SOUNDFONTS["fluidr3"])
    figures = {name: round(chromagram_correlation(render(synth="soundfont", soundfont=path),
                                                  reference, sample_rate=RATE), 3)
               for name, path in SOUNDFONTS.items() if name != "fluidr3" and os.path.isfile(path)}
    for checkpoint in args.checkpoints:
        figures[checkpoint] = [
            round(chromagram_correlation(render(checkpoint=checkpoint, seed=int(seed)),
                                         reference, sample_rate=RATE), 3)
            for seed in args.seeds.split(",")]
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
