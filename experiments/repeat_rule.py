"""How a latent hierarchy's repeat rule sees real songs and its own samples, one JSON object.

The figures behind the mel_16bar card's "Repeated phrases" and docs/decisions.md's
entry on it. On the windows of a folder of real songs: how far apart the
conductor puts the chunk latents (from each window's song latent) of chunk
pairs whose notes are identical and of pairs that differ, and how well that
distance tells them apart (ROC area). On ``--num-outputs`` samples: how often
a chunk pair falls within the rule's distance, at which positions compared
with the real repeats, and how often the decoded samples repeat a chunk.

Usage::

    python experiments/repeat_rule.py --checkpoint mel_16bar --reference DIR \\
        [--num-outputs 512] [--seed 11] [--temperature 0.5]
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from gensuite.music_vae.data import ExampleSet, all_windows_converter, convert_midi_dir
from gensuite.music_vae.latent_hierarchy import load_melody_model
from gensuite.music_vae.prior import chunk_pair_distances, pair_repeat_rate


def identical_pairs(chunk_classes: np.ndarray) -> np.ndarray:
    """(n, n_pairs) bool: chunk pairs i < j of each window with identical steps."""
    i, j = np.triu_indices(chunk_classes.shape[1], k=1)
    return np.all(chunk_classes[:, i] == chunk_classes[:, j], axis=-1)


def roc_area(positive: np.ndarray, negative: np.ndarray) -> float:
    """P(a positive scores lower than a negative): lower distance means "repeat"."""
    scores = np.concatenate([positive, negative])
    ranks = scores.argsort().argsort() + 1.0
    u = ranks[len(positive):].sum() - len(negative) * (len(negative) + 1) / 2
    return float(u / (len(positive) * len(negative)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--reference", required=True, help="folder of real songs")
    parser.add_argument("--num-outputs", type=int, default=512)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--temperature", type=float, default=0.5)
    args = parser.parse_args()

    model = load_melody_model(args.checkpoint)
    results = convert_midi_dir(args.reference, all_windows_converter(model.converter),
                               n_steps=model.n_steps, output_depths=model.output_depths)
    classes = ExampleSet.from_files(results).classes.reshape(-1, model.n_steps)
    real_chunks = classes.reshape(len(classes), model.config.n_chunks, -1)
    mu, sigma = model.encode_chunks(classes)
    song_mu = model.top.encode(mu, sigma)[0].numpy()
    real_distances = chunk_pair_distances(model.conduct(song_mu))
    repeats = identical_pairs(real_chunks)

    sampled_z = model.conduct(model.draw_song_latents(args.num_outputs, seed=args.seed))
    flagged = chunk_pair_distances(sampled_z) < model.repeats.max_distance
    decoded = model.sample_tensors(args.num_outputs, seed=args.seed,
                                   temperature=args.temperature).argmax(-1)
    sample_chunks = decoded.reshape(args.num_outputs, model.config.n_chunks, -1)
    print(json.dumps({
        "real_windows": len(classes),
        "real_identical_pair_distance_median": round(float(np.median(real_distances[repeats])), 3),
        "real_identical_pair_distance_p90": round(float(np.percentile(real_distances[repeats], 90)), 3),
        "real_different_pair_distance_p10": round(float(np.percentile(real_distances[~repeats], 10)), 3),
        "roc_area": round(roc_area(real_distances[repeats], real_distances[~repeats]), 3),
        "rule_max_distance": round(model.repeats.max_distance, 3),
        "position_correlation": round(float(np.corrcoef(repeats.mean(0), flagged.mean(0))[0, 1]), 2),
        "samples_with_a_flagged_pair": round(float(flagged.any(1).mean()), 3),
        "real_windows_with_a_repeat": round(float(repeats.any(1).mean()), 3),
        "sample_pair_repeat_rate": round(pair_repeat_rate(sample_chunks), 4),
        "real_pair_repeat_rate": round(pair_repeat_rate(real_chunks), 4),
        "samples_with_a_repeated_chunk": round(float(identical_pairs(sample_chunks).any(1).mean()), 3),
    }))


if __name__ == "__main__":
    main()
