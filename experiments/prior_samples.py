"""Samples from a melody model's fitted prior against samples from N(0, I), one JSON object.

The figures behind the cards' "Sampling prior" tables: ``--num-outputs``
samples at temperatures 0.5 and 1.0, drawn once from the prior the checkpoint
ships (``prior.npz``) and once from N(0, I) (the same model with its prior
removed), each compared with a folder of real melodies window by window
(``gensuite metrics``' figures).

Usage::

    python experiments/prior_samples.py --checkpoint mel_2bar --reference DIR \\
        [--num-outputs 128] [--seed 11] [--bars 2] [--top-track] [--repeats-within file]
"""

from __future__ import annotations

import argparse
import json

from gensuite.common.tfutil import import_tensorflow
from gensuite.midi import metrics

FEATURES = ("pitch_range", "onsets_per_bar", "repeated_phrase_rate")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--reference", required=True, help="folder of real melodies")
    parser.add_argument("--num-outputs", type=int, default=128)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--bars", type=int, default=2, help="window length compared")
    parser.add_argument("--top-track", action="store_true",
                        help="read each reference file's highest track only")
    parser.add_argument("--repeats-within", choices=("file", "window"), default="window",
                        help="count a reference bar's repeats within its file or its window "
                             "(a one-window sample has no song before it)")
    args = parser.parse_args()

    import_tensorflow()
    from gensuite.music_vae.latent_hierarchy import load_melody_model

    model = load_melody_model(args.checkpoint)
    reference = list(metrics.folder_features(args.reference, bars=args.bars,
                                             top_track=args.top_track,
                                             repeats_within=args.repeats_within))
    fitted = model.prior
    result = {"checkpoint": args.checkpoint, "reference_windows": len(reference),
              "top_track": args.top_track, "repeats_within": args.repeats_within,
              "num_outputs": args.num_outputs, "seed": args.seed, "bars": args.bars}
    for label, prior in (("fitted", fitted), ("standard_normal", None)):
        if label == "fitted" and prior is None:
            continue
        model.prior = prior
        for temperature in (0.5, 1.0):
            compared = metrics.compare(
                metrics.sample_features(
                    model.sample(args.num_outputs, temperature=temperature, seed=args.seed),
                    bars=args.bars), reference)
            result[f"{label}_t{temperature:.1f}"] = {
                "mean_overlap": round(compared["mean_overlap"], 3),
                "degenerate_share": compared["degenerate_share"],
                **{f"{name}_mean": [round(compared["features"][name][k], 2)
                                    for k in ("generated_mean", "reference_mean")]
                   for name in FEATURES}}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
