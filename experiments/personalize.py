"""One artist, three ways: the base model, MidiMe (`vae personalize`), fine-tuning (`vae train
--init-from`), judged on the artist's held-out files. One JSON object.

The artist's files are split by a seeded permutation (``--eval-fraction`` held
out); the personaliser and the fine-tuned model learn from the rest. Each of the
three models draws ``--samples`` melodies at temperatures 0.5 and 1.0 and
`gensuite vae evaluate --samples` compares them window by window with the
held-out files (read as the base model reads music, e.g. each file's highest
track). Wall times are whole commands, start-up included.

Usage::

    python experiments/personalize.py --checkpoint mel_2bar --artist DIR --work DIR \\
        [--finetune-steps 1000] [--samples 256] [--eval-fraction 0.1] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np

from gensuite.checkpoints import resolve_checkpoint
from gensuite.midi.io import find_midi_files


def gensuite(*args) -> tuple[float, str]:
    """Run one gensuite command; (wall seconds, stdout)."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "gensuite.cli.main", *map(str, args)],
                          capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"gensuite {' '.join(map(str, args))} failed:\n{done.stderr}")
    return time.perf_counter() - start, done.stdout


def split_files(artist: str, work: str, *, eval_fraction: float, seed: int) -> tuple[str, str]:
    files = find_midi_files(artist)
    order = np.random.default_rng(seed).permutation(len(files))
    n_held = max(1, round(len(files) * eval_fraction))
    folders = {"train": os.path.join(work, "train"), "held": os.path.join(work, "held")}
    for name, folder in folders.items():
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder)
    for rank, index in enumerate(order):
        side = "held" if rank < n_held else "train"
        source = files[index]
        target = os.path.join(folders[side], os.path.relpath(source, artist).replace(os.sep, "__"))
        shutil.copyfile(source, target)
    return folders["train"], folders["held"]


def sample_row(checkpoint: str, held: str, *, samples: int, seed: int) -> dict:
    _, out = gensuite("vae", "evaluate", "--checkpoint", checkpoint, "--midi-dir", held,
                      "--samples", samples, "--seed", seed, "--json")
    figures = json.loads(out)["samples"]
    return {t: {"mean_overlap": round(figures[f"temperature_{t}"]["mean_overlap"], 3),
                "degenerate": round(figures[f"temperature_{t}"]["degenerate_share"]
                                    ["generated"], 3)}
            for t in ("0.5", "1.0")} | {"reference_windows": figures["reference_windows"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--artist", required=True, help="the artist's MIDI folder")
    parser.add_argument("--work", required=True, help="scratch folder")
    parser.add_argument("--finetune-steps", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=256)
    parser.add_argument("--eval-fraction", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    info = resolve_checkpoint(args.checkpoint)
    options = info.meta.get("converter_options", {})
    data_flags = ([f for f in ("any_meter", "any_program", "top_track") if options.get(f)])
    data_flags = ["--" + f.replace("_", "-") for f in data_flags]
    for name in options.get("track_names", []):
        data_flags += ["--track-name", name]
    os.makedirs(args.work, exist_ok=True)
    train, held = split_files(args.artist, args.work, eval_fraction=args.eval_fraction,
                              seed=args.seed)
    personal = os.path.join(args.work, "personal")
    shutil.rmtree(personal, ignore_errors=True)
    personal_s, out = gensuite("vae", "personalize", "--checkpoint", args.checkpoint,
                               "--midi-dir", train, "--out", personal, "--seed", args.seed,
                               "--json")
    run_dir = os.path.join(args.work, "finetune")
    shutil.rmtree(run_dir, ignore_errors=True)
    step = int(info.figures.get("steps", 0))
    finetune_s, _ = gensuite(
        "vae", "train", "--config", info.meta["config"]["name"], "--midi-dir", train,
        "--run-dir", run_dir, "--init-from", args.checkpoint, "--eval-fraction", 0,
        "--num-steps", step + args.finetune_steps, "--eval-every", args.finetune_steps,
        "--seed", args.seed, *data_flags)
    result = {
        "checkpoint": args.checkpoint, "artist": os.path.basename(os.path.abspath(args.artist)),
        "train_files": len(find_midi_files(train)), "held_files": len(find_midi_files(held)),
        "personalize": {"seconds": round(personal_s, 1), **json.loads(out)},
        "finetune": {"seconds": round(finetune_s, 1), "steps": args.finetune_steps},
        "speedup": round(finetune_s / personal_s, 1),
        "samples": {label: sample_row(path, held, samples=args.samples, seed=args.seed)
                    for label, path in (("base", args.checkpoint), ("personalized", personal),
                                        ("finetuned", os.path.join(run_dir, "export")))}}
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
