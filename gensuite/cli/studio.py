"""``gensuite studio``: a local web page over the models (see docs/studio.md)."""

from __future__ import annotations

import argparse
import os

from gensuite.cli._args import positive_int
from gensuite.common.errors import ParameterError

DEFAULT_PORT = 8765
DEFAULT_HOST = "127.0.0.1"
DEFAULT_WORK_DIR = "studio-work"
STUDIO_EXTRA_HINT = 'pip install "gensuite[studio]"'


def add_parser(subparsers) -> None:
    """Add ``studio`` to the top-level parser."""
    parser = subparsers.add_parser(
        "studio", help="a local web page: sample, interpolate, continue, render, listen",
        description="Serve a page (and its JSON API, docs/studio.md) to choose melodies "
                    "(upload a MIDI file or pick a corpus example), sample from a MusicVAE, "
                    "interpolate between two clips or songs, continue a primer with the "
                    "attention MelodyRNN, personalise a model on a zip of MIDI files, and "
                    "render any result through GANSynth or the soundfont to play it. "
                    "Results, uploads and personalised models are kept in --work-dir.")
    parser.add_argument("--port", type=positive_int, default=DEFAULT_PORT, metavar="N",
                        help="TCP port to listen on")
    parser.add_argument("--host", default=DEFAULT_HOST, metavar="ADDR",
                        help="address to listen on; anything but 127.0.0.1 or localhost lets "
                             "other machines use the models and write to --work-dir")
    parser.add_argument("--work-dir", default=DEFAULT_WORK_DIR, metavar="DIR",
                        help="folder of clips, results and personalised models")
    parser.add_argument("--jobs", type=positive_int, default=2, metavar="N",
                        help="renders and personalisations running at once")
    parser.set_defaults(func=run_studio)


def run_studio(args: argparse.Namespace) -> int:
    """Handler of ``gensuite studio``."""
    if args.port > 65535:
        raise ParameterError(f"--port: must be in [1, 65535], got {args.port}")
    try:
        import uvicorn

        from gensuite.studio.app import create_app
    except ImportError as exc:
        raise ParameterError(f"gensuite studio needs {exc.name}: {STUDIO_EXTRA_HINT}") from None
    app = create_app(work_dir=args.work_dir, workers=args.jobs)
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"gensuite studio: http://{host}:{args.port}/ (work folder "
          f"{os.path.abspath(args.work_dir)}; Ctrl-C stops)", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0
