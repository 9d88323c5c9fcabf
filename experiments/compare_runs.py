"""Held-out figures of several run folders side by side, one Markdown row per step.

    python experiments/compare_runs.py RUN [RUN ...] [--figures NAME ...]

Reads each run's ``metrics.jsonl`` (``vae``, ``rnn`` or ``gansynth train``) and
prints, for every step at which any run was evaluated, each run's figures there
(blank where a run has none), then each run's logged training time: the sum
over training log rows of the steps since the previous row at that row's
logged speed (``--until N``: up to step N). The cards' equal-step tables and
training times come from this.
"""

from __future__ import annotations

import argparse
import json
import os


def eval_rows(run_dir: str) -> dict[int, dict]:
    """Step -> the last evaluation record logged at that step."""
    return {int(r["step"]): r for r in read_records(run_dir) if r["split"] == "eval"}


def read_records(run_dir: str) -> list[dict]:
    # Read here rather than with gensuite.training.checkpointing, which imports TensorFlow.
    with open(os.path.join(run_dir, "metrics.jsonl"), encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def logged_hours(run_dir: str, *, until: int | None = None) -> float:
    """Training time implied by the logged speeds of the training rows up to ``until``."""
    with open(os.path.join(run_dir, "config.json"), encoding="utf-8") as f:
        batch_size = json.load(f)["batch_size"]
    seconds, previous = 0.0, None
    for r in read_records(run_dir):
        if r["split"] != "train" or (until is not None and r["step"] > until):
            continue
        if previous is not None and r["step"] > previous:
            steps = r["step"] - previous
            seconds += (steps / r["steps_per_second"] if "steps_per_second" in r
                        else steps * batch_size / r["examples_per_second"])
        previous = r["step"]
    return seconds / 3600.0


def markdown_table(runs: dict[str, dict[int, dict]], figures: list[str]) -> str:
    steps = sorted(set().union(*(rows.keys() for rows in runs.values())))
    header = ["step"] + [f"{os.path.basename(os.path.normpath(name))} {figure}"
                         for name in runs for figure in figures]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for step in steps:
        cells = [f"{step:,}"]
        for rows in runs.values():
            row = rows.get(step, {})
            cells += [f"{row[f]:.3f}" if f in row else "" for f in figures]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", metavar="RUN")
    parser.add_argument("--figures", nargs="+",
                        default=["teacher_forced_accuracy", "sampled_accuracy"],
                        help="eval record keys (rnn runs: log_perplexity accuracy)")
    parser.add_argument("--until", type=int, metavar="N",
                        help="training time up to step N only")
    args = parser.parse_args()
    print(markdown_table({run: eval_rows(run) for run in args.runs}, args.figures))
    for run in args.runs:
        print(f"{run}: {logged_hours(run, until=args.until):.2f} h logged training time")


if __name__ == "__main__":
    main()
