"""``gensuite checkpoints``: list shipped models with their card figures."""

from __future__ import annotations

import json


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "checkpoints", help="list shipped checkpoints with their card figures",
        description="List shipped checkpoints: name, model kind and the evaluation "
                    "figures from each model card. Pass a name wherever a command "
                    "takes --checkpoint.")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run, preload_tensorflow=False)


def run(args) -> None:
    from gensuite.checkpoints import list_shipped

    infos = list_shipped()
    if args.json:
        print(json.dumps({c.name: {"kind": c.kind, "path": c.path, "figures": c.figures}
                          for c in infos}))
        return
    if not infos:
        print("no shipped checkpoints yet")
        return
    for c in infos:
        figures = ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}"
                            for k, v in c.figures.items())
        print(f"{c.name:<20} {c.kind:<12} {figures}")
