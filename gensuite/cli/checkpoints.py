"""gensuite checkpoints: list shipped models with their data and headline figure.

Reads each shipped folder's meta.json (no TensorFlow). Nothing printed is a
path of the machine that trained a model: meta.json may hold one (a run
folder, a data folder, a command line), and those are left out.
"""

from __future__ import annotations

import json
import os
import re

# The figure the table shows for each model kind: (figure key, label, digits).
HEADLINES = {
    "music_vae": ("held_out_sampled_accuracy", "held-out sampled accuracy", 4),
    "latent_hierarchy": ("held_out_sampled_accuracy", "held-out sampled accuracy", 4),
    "melody_rnn": ("eval_log_perplexity", "held-out log-perplexity", 4),
    "gansynth": ("pitch_accuracy", "pitch accuracy", 4),
    "audio_cnn": ("test_track_accuracy", "held-out track accuracy", 4),
}
COLUMNS = ("name", "kind", "data", "headline figure")
# An absolute path inside a text: at its start or after a space, = or quote.
_ABSOLUTE_PATH = re.compile(r"(?:^|[\s='\"])(?:/|~/|[A-Za-z]:[\\/])")


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "checkpoints", help="list shipped checkpoints: kind, data, headline figure",
        description="List the shipped checkpoints as a table: name, model kind, the data it "
                    "was trained on and its headline figure (held-out sampled accuracy for "
                    "music_vae, held-out log-perplexity per step for melody_rnn, pitch "
                    "accuracy for gansynth, held-out per-track accuracy for classifiers). "
                    "Pass a name wherever a command takes --checkpoint; each folder's "
                    "card.md has the rest.")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object instead: name -> kind, data, headline "
                             "(the figure's key) and every figure")
    parser.set_defaults(func=run)


def run(args) -> None:
    from gensuite.checkpoints import list_shipped

    infos = list_shipped()
    if args.json:
        print(json.dumps({c.name: {"kind": c.kind, "data": describe_data(c),
                                   "headline": HEADLINES.get(c.kind, (None,))[0],
                                   "figures": public_figures(c.figures)}
                          for c in infos}))
        return
    if not infos:
        print("no shipped checkpoints yet")
        return
    for line in format_table([(c.name, c.kind, describe_data(c), headline(c)) for c in infos]):
        print(line)


def format_table(rows: list[tuple[str, ...]]) -> list[str]:
    """``rows`` under a header, each column padded to its widest cell."""
    rows = [COLUMNS, *rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip()
            for row in rows]


def headline(info) -> str:
    """The kind's headline figure, e.g. ``held-out sampled accuracy 0.955``; ``-`` if absent."""
    key, label, digits = HEADLINES.get(info.kind, (None, None, 0))
    value = info.figures.get(key) if key else None
    if not isinstance(value, (int, float)):
        return "-"
    return f"{label} {value:.{digits}f}"


def describe_data(info) -> str:
    """The training data in a few words, e.g. ``essen, 8514 files``; ``-`` if meta.json has none.

    Folder names only, never their paths.
    """
    meta, figures = info.meta, info.figures
    source, count = None, None
    if info.kind in ("music_vae", "latent_hierarchy"):
        data = meta.get("data") or {}
        folder = next(iter((data.get("source") or {}).values()), None)
        source = _base_name(folder)
        count = _count(data.get("n_files"), "files")
    elif info.kind == "melody_rnn":
        count = _count(_sum(figures.get("train_melodies"), figures.get("eval_melodies")),
                       "melodies")
    elif info.kind == "gansynth":
        config = meta.get("config") or {}
        count = _count(figures.get("n_training_notes"), "notes")
        if "min_pitch" in config and "max_pitch" in config:
            count = (count or "notes") + f", MIDI {config['min_pitch']}-{config['max_pitch']}"
    elif info.kind == "audio_cnn":
        source = _base_name(figures.get("data"))
        count = _count(_sum(figures.get("n_train_tracks"), figures.get("n_test_tracks")),
                       "clips")
    return ", ".join(part for part in (source, count) if part) or "-"


def public_figures(figures: dict) -> dict:
    """``figures`` without the values that hold an absolute path (data folders, commands)."""
    return {key: value for key, value in figures.items()
            if not (isinstance(value, str) and _ABSOLUTE_PATH.search(value))}


def _base_name(path) -> str | None:
    if not isinstance(path, str) or not path:
        return None
    return os.path.basename(os.path.normpath(path.replace("\\", "/")))


def _sum(*values):
    return sum(values) if all(isinstance(v, int) for v in values) else None


def _count(value, what: str) -> str | None:
    return f"{value} {what}" if isinstance(value, int) else None
