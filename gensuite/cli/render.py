"""``gensuite render``: a MIDI file through GANSynth timbres (or a soundfont) to a WAV."""

from __future__ import annotations

import argparse
import os
import sys
import time

from gensuite.cli._args import positive_float, positive_int, seed


def add_parser(subparsers) -> None:
    """Add ``render`` to the top-level parser."""
    from gensuite.render import DEFAULT_CHECKPOINT, DRUM_MODES, SYNTHS

    parser = subparsers.add_parser(
        "render", help="render a MIDI file to WAV through GANSynth or a soundfont",
        description="Render every note of FILE.mid (all tracks, tempo changes) to a mono WAV. "
                    "GANSynth gives each track its own instrument latent from --seed (a model "
                    "conditioned on instruments plays each track's General MIDI program on its "
                    "nearest trained instrument); drum tracks go through the soundfont. Notes outside the model's pitch range "
                    "move by octaves into range (with a warning).")
    parser.add_argument("midi_file", metavar="FILE.mid", help="MIDI file to render")
    parser.add_argument("--out", required=True, metavar="FILE.wav", help="WAV file to write")
    parser.add_argument("--synth", choices=SYNTHS, default="gansynth",
                        help="gansynth: GANSynth timbres; soundfont: FluidSynth and a soundfont")
    parser.add_argument("--checkpoint", default=DEFAULT_CHECKPOINT, metavar="C",
                        help="GANSynth model folder or shipped name")
    parser.add_argument("--seed", type=seed, default=0, metavar="S",
                        help="seeds the instrument latent of each track")
    parser.add_argument("--secs-per-instrument", type=positive_float, metavar="S",
                        help="Magenta's mode: a new instrument every S seconds, each note "
                             "slerped between its two neighbours")
    parser.add_argument("--timbre", default="", metavar="TRACK=SEED,...",
                        help="pin the timbre of some tracks (track = instrument number)")
    parser.add_argument("--drums", choices=DRUM_MODES, default="soundfont",
                        help="drum tracks: through the soundfont, or skip them")
    parser.add_argument("--sample-rate", type=positive_int, metavar="HZ",
                        help="resample the output (default: the model's 16000)")
    parser.add_argument("--soundfont", metavar="SF2",
                        help="soundfont for --synth soundfont and drums (default: FluidR3_GM "
                             "when installed, else TimGM6mb)")
    cache = parser.add_mutually_exclusive_group()
    cache.add_argument("--cache-dir", metavar="DIR",
                       help="keep generated GANSynth notes here and reuse them in later runs "
                            "(default: $XDG_CACHE_HOME/gensuite/notes, else "
                            "~/.cache/gensuite/notes; cut back to 2 GiB, least recently used "
                            "first; delete it to clear it)")
    cache.add_argument("--no-cache", action="store_true",
                       help="generate every note; read and write no note cache")
    parser.set_defaults(func=run_render)


def run_render(args: argparse.Namespace) -> int:
    """Handler of ``gensuite render``."""
    from gensuite.audio.io import write_wav
    from gensuite.common.errors import InputFileError
    from gensuite.render import parse_timbres, render_sequence_audio

    out_dir = os.path.dirname(os.path.abspath(args.out))
    if os.path.isdir(args.out):
        raise InputFileError(args.out, "is a folder, expected a .wav file path")
    if os.path.exists(out_dir) and not os.access(out_dir, os.W_OK):
        raise InputFileError(args.out, "cannot write here (folder not writable)")
    cache_dir = note_cache_dir(args)
    started = time.monotonic()
    wave, rate, report = render_sequence_audio(
        args.midi_file, synth=args.synth, checkpoint=args.checkpoint, seed=args.seed,
        secs_per_instrument=args.secs_per_instrument, timbres=parse_timbres(args.timbre),
        drums=args.drums, sample_rate=args.sample_rate, soundfont=args.soundfont,
        progress=True, cache_dir=cache_dir)
    for line in report.warnings:
        print(f"warning: {line}", file=sys.stderr)
    write_wav(args.out, wave, sample_rate=rate)
    seconds = time.monotonic() - started
    generated = (f", {report.n_distinct_generated + report.n_from_note_cache} distinct notes "
                 f"({report.n_distinct_generated} generated, {report.n_from_note_cache} from the "
                 f"note cache; {report.n_cache_hits} reused)" if args.synth == "gansynth" else "")
    print(f"wrote {args.out}: {report.duration_s:.1f} s at {rate} Hz, {report.n_notes} notes"
          f" + {report.n_drum_notes} drum notes ({report.drums}){generated}, "
          f"{seconds:.1f} s ({report.duration_s / max(seconds, 1e-9):.0f}x real time)")
    return 0


def note_cache_dir(args: argparse.Namespace) -> str | None:
    """The note cache folder of this run, or None (``--no-cache``, or the soundfont synth).

    A ``--cache-dir`` that cannot be a writable folder is an error before any
    work; an unusable default only turns the cache off, with a warning.
    """
    from gensuite.audio.note_cache import default_cache_dir
    from gensuite.common.errors import InputFileError
    from gensuite.common.fileio import check_writable

    if args.no_cache or (args.synth != "gansynth" and args.cache_dir is None):
        return None
    path = args.cache_dir or default_cache_dir()
    try:
        if os.path.exists(path) and not os.path.isdir(path):
            raise InputFileError(path, "--cache-dir is a file, expected a folder")
        check_writable(path, flag="--cache-dir")
    except InputFileError as exc:
        if args.cache_dir is not None:
            raise
        print(f"gensuite render: warning: note cache off: {exc}", file=sys.stderr)
        return None
    return path if args.synth == "gansynth" else None
