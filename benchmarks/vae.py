"""MusicVAE speed: training examples/s of the CPU presets and sampling latency, one JSON object.

Training: optimizer steps of each preset on random one-hot batches (speed
does not depend on the data or the weights), after two warm-up steps.

Sampling (targets on 2 cores: 64 two-bar samples < 1 s, one 5-step 16-bar
interpolation < 3 s): ``MusicVAE.sample_tensors`` decodes the whole batch in
one compiled loop. Baselines measured in the same run:

- 64 samples drawn one at a time (batch 1, 64 calls), the way a per-request
  server would do it;
- the same 5-step interpolation with the flat 16-bar model, which decodes 256
  steps one after another where the hierarchical one runs 16 bars as a batch.

Song scale (targets: one 16-bar window encoded and decoded by the latent
hierarchy well under a second; two 64-bar songs morphed into one piece
under 5 s, MIDI reading included): the latent hierarchy (``latent-mel_16bar``
over a ``cpu-mel_2bar`` bottom) against the from-scratch hierarchical
``cpu-mel_16bar`` on one window; the whole-song morph (32 two-bar segments,
decoded as one batch) against the same segments decoded one call each.

Usage::

    python benchmarks/vae.py [--repeats 3] [--train-steps 10]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

import numpy as np
from timing import best_seconds

TRAIN_CONFIGS = ("cpu-mel_2bar", "cpu-mel_16bar", "cpu-flat-mel_16bar")


def random_arrays(config, n: int, rng: np.random.Generator):
    from gensuite.music_vae.trainer import VAEArrays

    x = np.eye(config.input_depth, dtype=bool)[
        rng.integers(0, config.input_depth, (n, config.n_steps))]
    return VAEArrays(x, x, np.full(n, config.n_steps))


def train_examples_per_second(name: str, n_steps: int, rng) -> float:
    from gensuite.music_vae.configs import get_config
    from gensuite.music_vae.trainer import VAETrainer

    config = get_config(name)
    data = random_arrays(config, config.batch_size, rng)
    with tempfile.TemporaryDirectory() as run_dir:
        trainer = VAETrainer(config, run_dir, progress=False)
        batch = (data.inputs.astype(np.float32), data.outputs.astype(np.float32),
                 data.lengths.astype(np.int32))
        for _ in range(2):
            trainer.train_step(*batch)
        started = time.perf_counter()
        for _ in range(n_steps):
            trainer.train_step(*batch)
        seconds = time.perf_counter() - started
    return n_steps * config.batch_size / seconds


def write_song(path: str, *, n_bars: int, seed: int) -> None:
    """A random stepwise melody of ``n_bars`` 4/4 bars in eighth notes, at 120 qpm."""
    from note_seq import NoteSequence

    from gensuite.midi.io import write_midi

    rng = np.random.default_rng(seed)
    sequence = NoteSequence(ticks_per_quarter=220)
    sequence.tempos.add(qpm=120.0)
    sequence.time_signatures.add(numerator=4, denominator=4)
    pitch = 67
    for i in range(n_bars * 8):
        pitch = int(np.clip(pitch + rng.integers(-3, 4), 55, 84))
        sequence.notes.add(pitch=pitch, velocity=90, start_time=0.25 * i,
                           end_time=0.25 * i + 0.24)
    sequence.total_time = n_bars * 2.0
    write_midi(sequence, path)


def song_scale(repeats: int, rng) -> dict:
    from gensuite.common.slerp import slerp
    from gensuite.midi.io import read_midi
    from gensuite.music_vae import interpolation
    from gensuite.music_vae.latent_hierarchy import LatentHierarchyVAE
    from gensuite.music_vae.model import MusicVAE

    two_bar = MusicVAE("cpu-mel_2bar")
    hierarchy = LatentHierarchyVAE("latent-mel_16bar", bottom=two_bar)
    window = rng.integers(0, 90, (1, hierarchy.n_steps, 1))

    def latent_round_trip():
        mu, _ = hierarchy.encode_chunks(window)
        return hierarchy.decode_chunks(mu, greedy=True)

    scratch = MusicVAE("cpu-mel_16bar")
    x = random_arrays(scratch.config, 1, rng).inputs.astype(np.float32)

    def scratch_round_trip():
        _, mu, _ = scratch.encode(x)
        return scratch.decode_to_tensors(mu, greedy=True)

    with tempfile.TemporaryDirectory() as folder:
        paths = [os.path.join(folder, f"{k}.mid") for k in "ab"]
        for seed, path in enumerate(paths):
            write_song(path, n_bars=64, seed=seed)
        converter = two_bar.converter

        def morph(one_call_per_segment: bool = False):
            lines = [interpolation.song_line(read_midi(p), converter, name=p, n_steps=32)
                     for p in paths]
            n = min(len(line.windows) for line in lines)
            if not one_call_per_segment:
                interpolation.interpolate_songs(two_bar, converter, *lines, n_segments=n,
                                                temperature=0.5, seed=1)
                return n
            for i in range(n):
                _, mu, _ = two_bar.encode(np.stack([line.windows[i].inputs for line in lines]))
                z = slerp(mu[0], mu[1], i / (n - 1)).astype(np.float32)
                two_bar.decode_to_tensors(z[None], temperature=0.5, seed=i)
            return n

        song = best_seconds(morph, repeats)
        per_segment = best_seconds(lambda: morph(True), repeats)
        n_segments = morph()
    round_trip = best_seconds(latent_round_trip, repeats)
    scratch_trip = best_seconds(scratch_round_trip, repeats)
    return {
        "encode_decode_16_bar_latent_hierarchy_s": round(round_trip, 3),
        "encode_decode_16_bar_from_scratch_s": round(scratch_trip, 3),
        "song_morph_64_bars_s": round(song, 3),
        "song_morph_segments": n_segments,
        "song_morph_one_call_per_segment_s": round(per_segment, 3),
        "song_targets_met": song < 5.0 and round_trip < 1.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--train-steps", type=int, default=10)
    args = parser.parse_args()

    from gensuite.music_vae.model import MusicVAE

    rng = np.random.default_rng(0)
    result = {"benchmark": "vae", "cpu_count": os.cpu_count(), "train_examples_per_s": {}}
    for name in TRAIN_CONFIGS:
        result["train_examples_per_s"][name] = round(
            train_examples_per_second(name, args.train_steps, rng), 1)

    two_bar = MusicVAE("cpu-mel_2bar")
    batched = best_seconds(lambda: two_bar.sample_tensors(64, temperature=0.5, seed=1),
                           args.repeats)
    one_by_one = best_seconds(
        lambda: [two_bar.sample_tensors(1, temperature=0.5, seed=i) for i in range(64)],
        args.repeats)

    hier, flat = MusicVAE("cpu-mel_16bar"), MusicVAE("cpu-flat-mel_16bar")
    a, b = random_arrays(hier.config, 2, rng).inputs.astype(np.float32)
    interpolate = {}
    for label, model in (("hierarchical", hier), ("flat", flat)):
        interpolate[label] = best_seconds(
            lambda: model.interpolate_tensors(a, b, num_steps=5, temperature=0.5, seed=1),
            args.repeats)

    result.update({
        "sample_64_two_bar_s": round(batched, 3),
        "sample_64_two_bar_one_at_a_time_s": round(one_by_one, 3),
        "sample_batching_ratio": round(one_by_one / batched, 1),
        "interpolate_5_steps_16_bar_s": round(interpolate["hierarchical"], 3),
        "interpolate_5_steps_16_bar_flat_s": round(interpolate["flat"], 3),
        "hierarchical_vs_flat_ratio": round(interpolate["flat"] / interpolate["hierarchical"], 1),
        "targets_met": batched < 1.0 and interpolate["hierarchical"] < 3.0,
        **song_scale(args.repeats, rng),
        "timing": "best of --repeats after one tracing call; untrained weights",
    })
    print(json.dumps(result))


if __name__ == "__main__":
    main()
