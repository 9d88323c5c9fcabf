"""``gensuite analyze``: audio classifiers, track composition, embeddings, similar tracks.

``build-dataset`` renders labelled clips of corpus MIDI through the soundfont;
``train`` fits a mel-spectrogram CNN on them (see
:mod:`gensuite.analysis.trainer`; rerun to resume); ``evaluate``
gives held-out figures; ``classify`` tells what share of a track sounds like
each class (also live with ``--stream``); ``index`` and ``similar`` find
similar tracks by embedding. ``--checkpoint`` takes a model folder or a
shipped name (``gensuite checkpoints``).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time

from gensuite.cli._args import (
    add_strategy_option,
    check_output_file,
    fraction,
    hidden_alias,
    non_negative_float,
    positive_float,
    positive_int,
    seed,
    writes_outputs,
)

EXPORT_DIR = "export"
DEFAULT_CLASSIFIER = "instrument_cnn"
# --stream with no value: stream the positional FILE.
_STREAM_THE_FILE = object()


def add_parser(subparsers) -> None:
    """Add the ``analyze`` group and its sub-commands to the top-level parser."""
    parser = subparsers.add_parser(
        "analyze", help="audio classifiers: composition of a track, similar tracks",
        description="Build labelled audio data sets from MIDI, train and evaluate audio "
                    "classifiers (instrument, collection), tell what a track sounds like "
                    "(also live), and find similar tracks by embedding.")
    group = parser.add_subparsers(dest="analyze_command", metavar="SUBCOMMAND", required=True)
    for add in SUBCOMMANDS:
        add(group)


def _add_checkpoint(parser, *, default: str | None = DEFAULT_CLASSIFIER) -> None:
    parser.add_argument("--checkpoint", default=default, required=default is None, metavar="C",
                        help="classifier folder or shipped name"
                             + (" (default: the classifier the index was built with)"
                                if default == "" else ""))


def _add_build_dataset(group) -> None:
    parser = group.add_parser(
        "build-dataset", help="render corpus MIDI into labelled WAV clips + manifest.csv",
        description="Render pieces of MIDI folders (e.g. from gensuite corpus export) through "
                    "the soundfont into labelled WAV clips. --task instrument plays each piece "
                    "with one instrument class; --task collection labels each piece by its "
                    "folder and plays every class with the same pool of timbres. Train/test "
                    "split by piece; with several soundfonts, each piece is rendered with one. "
                    "Rerunning with the same arguments keeps finished clips.")
    parser.add_argument("--task", choices=("instrument", "collection"), default="instrument",
                        help="instrument: label each clip by the instrument playing it; "
                             "collection: by the folder its piece comes from")
    parser.add_argument("--midi-dir", action="append", required=True, metavar="[NAME=]DIR",
                        help="folder of MIDI files; repeat for more. NAME (default: the "
                             "folder's name) is the source, and the class in --task collection")
    parser.add_argument("--out", required=True, metavar="DATA", help="data folder to write")
    parser.add_argument("--pieces-per-class", type=positive_int, default=100, metavar="N",
                        help="pieces rendered for each class")
    parser.add_argument("--instruments", metavar="LIST",
                        help="comma-separated instrument classes (default: piano, "
                             "acoustic_guitar, electric_guitar, synthesizer, strings, flute, "
                             "organ, brass)")
    parser.add_argument("--clip-s", type=positive_float, default=20.0, metavar="S",
                        help="longest clip, seconds")
    parser.add_argument("--clips-per-piece", type=positive_int, default=1, metavar="N",
                        help="non-overlapping clips from pieces long enough")
    parser.add_argument("--min-s", type=positive_float, default=6.0, metavar="S",
                        help="skip pieces shorter than this many seconds")
    parser.add_argument("--eval-fraction", type=fraction, default=0.2, metavar="F",
                        help="fraction of the pieces held out as the test split")
    hidden_alias(parser, "--test-fraction", "--eval-fraction")  # its name until now
    parser.add_argument("--sample-rate", type=positive_int, default=16000, metavar="HZ",
                        help="sample rate of the clips")
    parser.add_argument("--soundfont", nargs="+", metavar="SF2",
                        help="one or more SoundFont 2/3 files, none twice (default: "
                             "FluidR3_GM when installed, else pretty_midi's TimGM6mb); with "
                             "several, each piece is rendered with one, dealt in turn within "
                             "each class and split, and manifest.csv names it")
    parser.add_argument("--seed", type=seed, default=0, metavar="S",
                        help="seeds the choice of pieces, the split and the timbres")
    parser.add_argument("--workers", type=positive_int, metavar="N",
                        help="parallel processes (default: every core)")
    parser.add_argument("--overwrite", action="store_true", help="re-render existing clips")
    parser.set_defaults(func=run_build_dataset)


def _add_train(group) -> None:
    parser = group.add_parser(
        "train", help="train a mel-spectrogram CNN on a data folder",
        description="Train a classifier on the train split of DATA, evaluating on its test "
                    "split (per window and per track); TensorBoard logs in RUN/logs. Run the "
                    "same command again to resume. Exports RUN/export (model, evaluation.json, "
                    "confusion.png). --hold-out-soundfont leaves one soundfont out: train on "
                    "the others, and also score the held-out one's test clips (unseen pieces, "
                    "unseen timbres).")
    parser.add_argument("--config", required=True, metavar="NAME",
                        help="preset: cpu-cnn, cnn (GPU), tiny-cnn")
    parser.add_argument("--data", required=True, metavar="DATA",
                        help="folder from gensuite analyze build-dataset")
    parser.add_argument("--run-dir", required=True, metavar="RUN",
                        help="run folder: checkpoints, logs, export (created; an existing run "
                             "of the same config resumes)")
    parser.add_argument("--num-steps", type=positive_int, metavar="N",
                        help="total training steps (default: the config's); part of the "
                             "run's config")
    parser.add_argument("--hold-out-soundfont", metavar="NAME",
                        help="leave this soundfont out (its file name as manifest.csv records "
                             "it, e.g. TimGM6mb.sf2): train on the other soundfonts' clips and "
                             "report its test clips under leave_one_soundfont_out in "
                             "evaluation.json; recorded in RUN/options.json, so a resume must "
                             "give the same")
    parser.add_argument("--seed", type=seed, default=0, metavar="S",
                        help="seeds the weights and the batches")
    parser.add_argument("--save-every-minutes", type=positive_float, default=5.0, metavar="M",
                        help="minutes between checkpoints; also at the end and on Ctrl-C")
    parser.add_argument("--workers", type=positive_int, metavar="N",
                        help="processes computing features (default: every core)")
    parser.add_argument("--export", metavar="DIR",
                        help=f"where to write the trained model (default: RUN/{EXPORT_DIR})")
    add_strategy_option(parser)
    parser.set_defaults(func=run_train)


def _add_evaluate(group) -> None:
    parser = group.add_parser(
        "evaluate", help="per-track and per-window accuracy on a data folder's split",
        description="Score every track of one split of DATA: per-window accuracy, per-track "
                    "accuracy (mean of window probabilities), per-class accuracy, confusion "
                    "matrix; per-soundfont track accuracy when DATA was rendered with several.")
    _add_checkpoint(parser, default=None)
    parser.add_argument("--data", required=True, metavar="DATA",
                        help="folder from gensuite analyze build-dataset")
    parser.add_argument("--split", choices=("train", "test"), default="test",
                        help="which split of DATA to score")
    parser.add_argument("--confusion", metavar="PNG", help="draw the confusion matrix here")
    parser.add_argument("--workers", type=positive_int, metavar="N",
                        help="processes computing features (default: every core)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run_evaluate)


def _add_classify(group) -> None:
    parser = group.add_parser(
        "classify", help="what share of a track sounds like each class",
        description="Classify every window of a track and report the mean of the window "
                    "probabilities, e.g. 'piano 64%, synthesizer 20%'. With --stream, print "
                    "a running estimate as audio arrives: from FILE played in real time, from "
                    "raw 16-bit PCM on stdin (--stream -), or from the microphone.")
    parser.add_argument("file", nargs="?", metavar="FILE",
                        help="audio file (WAV, FLAC, OGG, MP3, AIFF; any rate, mono or stereo)")
    _add_checkpoint(parser)
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object (with --stream: one per line, per window)")
    parser.add_argument("--timeline", metavar="PNG", help="draw the per-window probabilities")
    parser.add_argument("--stream", nargs="?", const=_STREAM_THE_FILE, metavar="FILE|-",
                        help="live mode: FILE (or the positional FILE) in real time, or - for "
                             "raw s16le PCM on stdin")
    parser.add_argument("--microphone", action="store_true",
                        help="live mode from the default input device (needs sounddevice)")
    parser.add_argument("--speed", type=non_negative_float, default=1.0, metavar="X",
                        help="file playback speed in live mode, >= 0; 0: as fast as possible")
    parser.add_argument("--stream-rate", type=positive_int, metavar="HZ",
                        help="sample rate of PCM on stdin (default: the model's)")
    parser.add_argument("--channels", type=positive_int, default=1, metavar="N",
                        help="interleaved channels of PCM on stdin")
    parser.set_defaults(func=run_classify)


def _add_index(group) -> None:
    parser = group.add_parser(
        "index", help="embed every track of a folder into a search index",
        description="Embed every audio file under AUDIO_DIR (mean of its window embeddings) "
                    "and save vectors, metadata and the checkpoint's identity to INDEX (.npz). "
                    "Files that cannot be used are reported and skipped.")
    parser.add_argument("audio_dir", metavar="AUDIO_DIR",
                        help="folder of audio files, searched recursively")
    _add_checkpoint(parser)
    parser.add_argument("--out", required=True, metavar="INDEX",
                        help="index file to write (.npz)")
    parser.add_argument("--tags", metavar="CSV",
                        help="CSV with a 'file' column (relative to AUDIO_DIR); every other "
                             "column's value is a tag (';' separates several). A data "
                             "folder's manifest.csv works.")
    parser.add_argument("--auto-tag", action="store_true",
                        help="also tag each track with its dominant class")
    parser.set_defaults(func=run_index)


def _add_similar(group) -> None:
    parser = group.add_parser(
        "similar", help="the indexed tracks most similar to a query track",
        description="Embed QUERY with the index's classifier and print the top-k indexed "
                    "tracks by cosine similarity, optionally only those with given tags.")
    parser.add_argument("query", metavar="QUERY", help="audio file to find similar tracks to")
    parser.add_argument("--index", required=True, metavar="INDEX",
                        help="index from gensuite analyze index")
    parser.add_argument("--top-k", type=positive_int, default=5, metavar="K",
                        help="how many tracks to print")
    parser.add_argument("--tag", action="append", default=[], metavar="TAG",
                        help="keep tracks with this tag; repeat to require several")
    _add_checkpoint(parser, default="")
    parser.add_argument("--include-self", action="store_true",
                        help="keep the query file itself if it is indexed")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run_similar)


SUBCOMMANDS = (_add_build_dataset, _add_train, _add_evaluate, _add_classify, _add_index,
               _add_similar)


def run_build_dataset(args: argparse.Namespace) -> int:
    """Handler of ``gensuite analyze build-dataset``."""
    from gensuite.analysis.data import build_dataset, parse_midi_dirs, resolve_soundfonts

    # The cheap checks first: a missing soundfont is news even without FluidSynth.
    resolve_soundfonts(args.soundfont)
    _require_fluidsynth()
    instruments = ([n.strip() for n in args.instruments.split(",") if n.strip()]
                   if args.instruments else None)
    report = build_dataset(
        task=args.task, midi_dirs=parse_midi_dirs(args.midi_dir), out_dir=args.out,
        pieces_per_class=args.pieces_per_class, instruments=instruments, clip_s=args.clip_s,
        clips_per_piece=args.clips_per_piece, min_s=args.min_s, test_fraction=args.eval_fraction,
        sample_rate=args.sample_rate, seed=args.seed, soundfont=args.soundfont,
        num_workers=args.workers, overwrite=args.overwrite, progress=True)
    for failure in report.failed[:10]:
        print(f"failed {failure.get('file', '?')}: {failure['reason']}", file=sys.stderr)
    if len(report.failed) > 10:
        print(f"... and {len(report.failed) - 10} more failures (see dataset.json)",
              file=sys.stderr)
    for name, found in report.short_classes.items():
        print(f"warning: class {name} got {found} pieces, fewer than "
              f"--pieces-per-class {args.pieces_per_class}", file=sys.stderr)
    n_clips = sum(sum(c.values()) for c in report.counts.values())
    print(f"{n_clips} clips, {report.audio_s / 3600:.2f} h of audio, {len(report.class_names)} "
          f"classes ({', '.join(report.class_names)}); pieces train {report.pieces['train']} / "
          f"test {report.pieces['test']}; {report.seconds:.0f} s "
          f"({report.audio_s / max(report.seconds, 1e-9):.0f}x real time)")
    print(f"wrote {os.path.join(report.out_dir, 'manifest.csv')}")
    return 0


def _require_fluidsynth() -> None:
    """Raise SynthUnavailableError with the install hint of gensuite render --synth soundfont.

    Before anything is rendered: without FluidSynth every clip would fail.
    """
    from gensuite.audio import soundfont
    from gensuite.common.errors import SynthUnavailableError

    if soundfont.fluidsynth_available():
        return
    soundfont.import_fluidsynth()  # raises, with the reason and the install hint
    raise SynthUnavailableError(f"soundfont rendering needs FluidSynth: {soundfont.INSTALL_HINT}")


def _load_split(data_dir, split, config, class_names, workers, rows=None):
    from gensuite.analysis.data import load_tracks

    tracks, skipped = load_tracks(data_dir, split=split, features=config.features,
                                  class_names=class_names, num_workers=workers,
                                  progress=True, rows=rows)
    for line in skipped:
        print(f"skipped {line}", file=sys.stderr)
    return tracks


def run_train(args: argparse.Namespace) -> int:
    """Handler of ``gensuite analyze train``."""
    import dataclasses

    from gensuite.analysis.configs import get_config
    from gensuite.analysis.data import hold_out_soundfont, read_class_names, read_manifest
    from gensuite.analysis.trainer import (
        ClassifierTrainer,
        check_run_config,
        record_run_options,
    )
    from gensuite.common.errors import NoExamplesError
    from gensuite.common.tfutil import count_parameters

    from gensuite.training.distribute import make_strategy

    # First: a multi-worker strategy must start before TensorFlow runs anything.
    strategy = make_strategy(args.strategy)
    config = get_config(args.config)
    if args.num_steps:
        config = dataclasses.replace(config, num_steps=args.num_steps)
    rows = read_manifest(args.data)
    config = config.with_classes(read_class_names(args.data, rows))
    held_rows = None
    if args.hold_out_soundfont is not None:
        rows, held_rows = hold_out_soundfont(rows, args.hold_out_soundfont, data_dir=args.data)
    # Before minutes of feature extraction.
    check_run_config(args.run_dir, config)
    record_run_options(args.run_dir, hold_out_soundfont=args.hold_out_soundfont)
    started = time.monotonic()
    train = _load_split(args.data, "train", config, config.class_names, args.workers, rows)
    test = _load_split(args.data, "test", config, config.class_names, args.workers, rows)
    hold_out = None
    if held_rows is not None:
        # Only its test split: those pieces are unseen too, not just the timbres.
        hold_out = _load_split(args.data, "test", config, config.class_names, args.workers,
                               held_rows)
        if len(hold_out) == 0:
            raise NoExamplesError(f"--hold-out-soundfont: {args.data} has no usable test clip "
                                  f"rendered with {args.hold_out_soundfont}")
    if len(train) == 0:
        raise NoExamplesError(f"{args.data}: no usable training tracks")
    held = (f" / {len(hold_out)} test tracks of held-out {args.hold_out_soundfont}"
            if hold_out is not None else "")
    print(f"{len(train)} train / {len(test)} test tracks{held}, classes "
          f"{', '.join(config.class_names)}; features in {time.monotonic() - started:.0f} s")
    trainer = ClassifierTrainer(config, args.run_dir, train=train, test=test if len(test) else None,
                                hold_out=hold_out, seed=args.seed,
                                checkpoint_every_minutes=args.save_every_minutes,
                                progress=True, strategy=strategy)
    print(f"model {config.name}: {count_parameters(trainer.network):,} parameters, "
          f"windows {config.features.window_s:.2f} s, batch {config.batch_size}")
    if trainer.restored_step:
        print(f"resuming from step {trainer.restored_step}")
    t0, first = time.monotonic(), trainer.step

    def report(step, metrics):
        rate = (step - first) / max(time.monotonic() - t0, 1e-9)
        line = (f"step {step}/{config.num_steps}  loss {metrics.get('loss', float('nan')):.3f}  "
                f"train acc {metrics.get('accuracy', float('nan')):.2f}")
        if "test_track_accuracy" in metrics:
            line += (f"  held-out window acc {metrics['test_window_accuracy']:.3f}  track acc "
                     f"{metrics['test_track_accuracy']:.3f}")
        if "hold_out_track_accuracy" in metrics:
            line += f"  held-out soundfont track acc {metrics['hold_out_track_accuracy']:.3f}"
        print(f"{line} | {rate:.2f} steps/s", flush=True)

    try:
        trainer.fit(on_eval=report)
    except KeyboardInterrupt:
        print(f"interrupted at step {trainer.step}: checkpoint saved in "
              f"{os.path.join(args.run_dir, 'checkpoints')}; run the same command to resume",
              file=sys.stderr)
        raise
    if not writes_outputs(args):
        print(f"worker done at step {trainer.step}; the chief exports the model")
        return 0
    evaluation = trainer.evaluate() if len(test) else None
    held_out = trainer.evaluate(hold_out) if hold_out is not None else None
    export_dir = args.export or os.path.join(args.run_dir, EXPORT_DIR)
    figures = {"n_test_pieces": len(set(test.pieces)), "data": os.path.abspath(args.data),
               "command": train_command(args)}
    trainer.export(export_dir, figures=figures, evaluation=evaluation, hold_out=held_out,
                   hold_out_soundfont=args.hold_out_soundfont)
    if evaluation is not None:
        print(f"held-out: track accuracy {evaluation.track_accuracy:.3f} "
              f"({evaluation.n_tracks} tracks), window accuracy "
              f"{evaluation.window_accuracy:.3f} ({evaluation.n_windows} windows)")
    if held_out is not None:
        print(f"held-out soundfont {args.hold_out_soundfont}: track accuracy "
              f"{held_out.track_accuracy:.3f} ({held_out.n_tracks} tracks), window accuracy "
              f"{held_out.window_accuracy:.3f} ({held_out.n_windows} windows)")
    print(f"exported {export_dir}")
    return 0


def train_command(args: argparse.Namespace) -> str:
    """The ``gensuite analyze train`` command line that reproduces this run (for the model card)."""
    words = ["gensuite", "analyze", "train", "--config", args.config, "--data", args.data,
             "--run-dir", args.run_dir]
    if args.num_steps:
        words += ["--num-steps", str(args.num_steps)]
    if args.hold_out_soundfont is not None:
        words += ["--hold-out-soundfont", args.hold_out_soundfont]
    if args.seed:
        words += ["--seed", str(args.seed)]
    return shlex.join(words)


def run_evaluate(args: argparse.Namespace) -> int:
    """Handler of ``gensuite analyze evaluate``."""
    from gensuite.analysis.classification import plot_confusion_matrix
    from gensuite.analysis.model import AudioClassifier
    from gensuite.analysis.trainer import evaluate_tracks

    check_output_file(args.confusion, flag="--confusion")
    model = AudioClassifier.load(args.checkpoint)
    tracks = _load_split(args.data, args.split, model.config, model.class_names, args.workers)
    evaluation = evaluate_tracks(lambda w: model.predict_windows(w)[0], tracks,
                                 config=model.config)
    if args.confusion:
        plot_confusion_matrix(evaluation.confusion, class_names=model.class_names,
                              path=args.confusion,
                              title=f"{args.split} tracks: accuracy "
                                    f"{evaluation.track_accuracy:.1%}")
    if args.json:
        print(json.dumps({"checkpoint": args.checkpoint, "split": args.split,
                          **evaluation.to_dict()}))
        return 0
    print(f"{args.split}: track accuracy {evaluation.track_accuracy:.3f} ({evaluation.n_tracks} "
          f"tracks), window accuracy {evaluation.window_accuracy:.3f} "
          f"({evaluation.n_windows} windows), loss {evaluation.loss:.3f}")
    for name, accuracy in evaluation.per_class_track_accuracy.items():
        print(f"  {name:<18} {accuracy:.3f}")
    for name, accuracy in (evaluation.track_accuracy_by_soundfont or {}).items():
        print(f"  soundfont {name}: {accuracy:.3f} "
              f"({evaluation.n_tracks_by_soundfont[name]} tracks)")
    return 0


def run_classify(args: argparse.Namespace) -> int:
    """Handler of ``gensuite analyze classify``."""
    from gensuite.common.errors import ParameterError

    live = args.stream is not None or args.microphone
    source = args.file if args.stream in (None, _STREAM_THE_FILE) else args.stream
    if args.microphone and args.stream is not None and args.stream is not _STREAM_THE_FILE:
        raise ParameterError("--microphone: give either --microphone or --stream SOURCE")
    if source is None and not args.microphone:
        raise ParameterError("FILE: give an audio file, or --stream - for PCM on stdin")
    check_output_file(args.timeline, flag="--timeline")
    # After the cheap checks: these import TensorFlow.
    from gensuite.analysis.classification import format_composition, plot_timeline
    from gensuite.analysis.model import AudioClassifier

    model = AudioClassifier.load(args.checkpoint)
    if live:
        return _classify_stream(args, model, source)
    analysis = model.analyze_file(source)
    if args.timeline:
        plot_timeline(analysis, path=args.timeline, title=f"{os.path.basename(source)}: "
                      f"{format_composition(analysis.composition, min_share=0.05)}")
    if args.json:
        print(json.dumps({
            "file": source, "checkpoint": args.checkpoint, "class_names": list(model.class_names),
            "composition": analysis.composition, "top_class": analysis.top_class,
            "n_windows": len(analysis.start_s), "n_audible_windows": analysis.n_audible,
            "window_s": round(analysis.window_s, 4), "hop_s": model.features.window_hop_s,
            "timeline": {"start_s": [round(float(s), 3) for s in analysis.start_s],
                         "audible": analysis.audible.tolist(),
                         "probabilities": [[round(float(p), 4) for p in row]
                                           for row in analysis.probabilities]}}))
        return 0
    print(f"{source}: {format_composition(analysis.composition)}")
    print(f"({len(analysis.start_s)} windows of {analysis.window_s:.2f} s every "
          f"{model.features.window_hop_s:.2f} s, {analysis.n_audible} audible)")
    if args.timeline:
        print(f"timeline: {args.timeline}")
    return 0


def _classify_stream(args, model, source) -> int:
    from gensuite.analysis.classification import format_composition
    from gensuite.analysis.streaming import (
        StreamingClassifier,
        file_chunks,
        microphone_chunks,
        pcm_chunks,
    )
    from gensuite.common.errors import InputFileError

    rate = model.sample_rate
    if args.microphone:
        chunks, name = microphone_chunks(sample_rate=rate), "microphone"
    elif source == "-":
        chunks, name = pcm_chunks(sys.stdin.buffer, input_rate=args.stream_rate or rate,
                                  sample_rate=rate, channels=args.channels), "stdin"
    else:
        chunks, name = file_chunks(source, sample_rate=rate, speed=args.speed), source
    live = StreamingClassifier(model)
    for chunk in chunks:
        for window in live.push(chunk):
            composition = live.composition
            if args.json:
                print(json.dumps({"time_s": round(live.elapsed_s, 3),
                                  "window_start_s": round(window.start_s, 3),
                                  "audible": window.audible,
                                  "window": dict(zip(model.class_names,
                                                     (round(float(p), 4)
                                                      for p in window.probabilities))),
                                  "composition": composition}), flush=True)
            else:
                now = model.class_names[int(window.probabilities.argmax())] \
                    if window.audible else "(silence)"
                print(f"{live.elapsed_s:7.1f} s  now: {now:<16} running: "
                      f"{format_composition(composition) if composition else '(silence)'}",
                      flush=True)
    if live.n_windows == 0:
        raise InputFileError(name, f"too short: {live.elapsed_s:.2f} s, shorter than one "
                                   f"analysis window ({model.features.window_s:.2f} s)")
    if live.n_audible == 0:
        raise InputFileError(name, f"silent: no window reaches "
                                   f"{model.features.silence_dbfs:.0f} dBFS")
    if not args.json:
        print(f"{name}: {format_composition(live.composition)} "
              f"({live.n_windows} windows, {live.elapsed_s:.1f} s)")
    return 0


def run_index(args: argparse.Namespace) -> int:
    """Handler of ``gensuite analyze index``."""
    check_output_file(args.out, flag="--out")
    from gensuite.analysis.model import AudioClassifier  # imports TensorFlow
    from gensuite.analysis.search import build_index, read_tags_csv

    tags = read_tags_csv(args.tags) if args.tags else None
    model = AudioClassifier.load(args.checkpoint)
    skipped = []

    def skip(reason):
        skipped.append(reason)
        print(f"skipped {reason}", file=sys.stderr)

    started = time.monotonic()
    index = build_index(model, args.audio_dir, tags=tags, auto_tag=args.auto_tag,
                        progress=True, on_skip=skip)
    seconds = time.monotonic() - started
    index.save(args.out)
    audio_s = sum(item["duration_s"] for item in index.items)
    print(f"indexed {len(index)} tracks ({audio_s / 60:.1f} min of audio, "
          f"{audio_s / max(seconds, 1e-9):.0f}x real time), skipped {len(skipped)}; "
          f"{index.vectors.shape[1]}-d embeddings of {args.checkpoint} -> {args.out}")
    return 0


def run_similar(args: argparse.Namespace) -> int:
    """Handler of ``gensuite analyze similar``."""
    from gensuite.analysis.search import EmbeddingIndex

    index = EmbeddingIndex.load(args.index)
    from gensuite.analysis.model import AudioClassifier  # imports TensorFlow

    checkpoint = args.checkpoint or index.checkpoint.get("name")
    model = AudioClassifier.load(checkpoint)
    index.check_model(fingerprint=model.fingerprint, name=checkpoint)
    query = model.analyze_file(args.query).embedding
    matches = index.search(query, top_k=args.top_k, tags=args.tag,
                           exclude_paths=() if args.include_self else (args.query,))
    if args.json:
        print(json.dumps({"query": args.query, "index": args.index, "tags": args.tag,
                          "results": [{"rank": m.rank, "score": round(m.score, 4),
                                       "file": m.item["file"], "path": m.item["path"],
                                       "tags": m.item.get("tags", [])} for m in matches]}))
        return 0
    if not matches:
        print("no indexed track matches" + (f" tags {', '.join(args.tag)}" if args.tag else ""))
        return 0
    for m in matches:
        tags = f"  [{', '.join(m.item.get('tags', []))}]" if m.item.get("tags") else ""
        print(f"{m.rank:>3}. {m.score:+.4f}  {m.item['file']}{tags}")
    return 0
