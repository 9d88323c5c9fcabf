"""Held-out figures of several run folders side by side, one Markdown row per step.

    python experiments/compare_runs.py RUN [RUN ...] [--figures NAME ...]

Reads each run's ``metrics.jsonl`` (``vae train`` or ``rnn train``) and prints,
for every step at which any run was evaluated, each run's figures there
(blank where a run has none). The cards' equal-step tables come from this.
"""

from __future__ import annotations

import argparse
import json
import os


def eval_rows(run_dir: str) -> dict[int, dict]:
    """Step -> the last evaluation record logged at that step."""
    # Read here rather than with gensuite.training.checkpointing, which imports TensorFlow.
    with open(os.path.join(run_dir, "metrics.jsonl"), encoding="utf-8") as f:
        records = [json.loads(line) for line in f if line.strip()]
    return {int(r["step"]): r for r in records if r["split"] == "eval"}


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
    args = parser.parse_args()
    print(markdown_table({run: eval_rows(run) for run in args.runs}, args.figures))


if __name__ == "__main__":
    main()
