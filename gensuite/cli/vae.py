"""``gensuite vae``: train, sample, interpolate and evaluate MusicVAE models.

``train`` owns a run folder (see :mod:`gensuite.music_vae.trainer` and
:mod:`gensuite.music_vae.data`)::

    RUN/config.json, RUN/checkpoints/, RUN/logs/, RUN/metrics.jsonl   (trainer)
    RUN/examples.npz, RUN/data.json     converted examples and their summary
    RUN/export/                         the small shipped format, with figures

Running the same command again resumes from the newest checkpoint and the
cached examples. ``--checkpoint`` takes an exported folder or the name of a
shipped checkpoint.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from gensuite.cli._args import fraction, positive_float, positive_int, seed
from gensuite.common.errors import InputFileError, NoExamplesError, ParameterError

KIND = "music_vae"
DEFAULT_NUM_STEPS = 20_000
DEFAULT_EVAL_FRACTION = 0.05
DEFAULT_TEMPERATURE = 0.5  # Magenta's music_vae_generate default
EXPORT_DIR = "export"


def add_parser(subparsers) -> None:
    """Add the ``vae`` group and its sub-commands to the top-level parser."""
    parser = subparsers.add_parser(
        "vae", help="MusicVAE: train, sample, interpolate, evaluate",
        description=__doc__.splitlines()[0])
    group = parser.add_subparsers(dest="vae_command", metavar="SUBCOMMAND", required=True)
    for add in SUBCOMMANDS:
        add(group)


def _add_data_options(parser) -> None:
    parser.add_argument(
        "--any-meter", action="store_true",
        help="read every meter on 16-step (4/4) bars instead of skipping non-4/4 music "
             "(folk collections need it); saved with the model")
    parser.add_argument(
        "--any-program", action="store_true",
        help="melody models: use notes of every MIDI program, not only 0-31 (piano to "
             "guitar); saved with the model")
    parser.add_argument(
        "--track-name", action="append", default=[], metavar="NAME",
        help="melody models: use only tracks with this name, ignoring case (repeatable), "
             "e.g. --track-name soprano for the top line of the chorales; saved with "
             "the model")


def _add_train(group) -> None:
    parser = group.add_parser(
        "train", help="train a MusicVAE on a MIDI folder or a NoteSequence TFRecord",
        description="Convert a MIDI folder (or TFRecord) with the config's converter, hold "
                    "out files for evaluation, train with TensorBoard logs and atomic "
                    "checkpoints, and export the weights with held-out figures. Run the "
                    "same command again to resume.")
    parser.add_argument("--config", required=True, metavar="NAME",
                        help="preset name, e.g. cpu-mel_2bar or cat-mel_2bar_small")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--midi-dir", metavar="DIR",
                        help="folder of .mid/.midi files, searched recursively")
    source.add_argument("--examples", metavar="FILE.tfrecord",
                        help="NoteSequence TFRecord from `gensuite data ingest`")
    parser.add_argument("--run-dir", required=True, metavar="RUN",
                        help="run folder: checkpoints, logs, cached examples, export")
    parser.add_argument("--num-steps", type=positive_int, default=DEFAULT_NUM_STEPS,
                        metavar="N", help=f"total training steps of the run "
                                          f"(default {DEFAULT_NUM_STEPS})")
    parser.add_argument("--eval-fraction", type=fraction, default=DEFAULT_EVAL_FRACTION,
                        metavar="F", help="fraction of files held out for evaluation "
                                          f"(default {DEFAULT_EVAL_FRACTION}; 0: none)")
    parser.add_argument("--seed", type=seed, default=0, metavar="S",
                        help="seeds the split, weights, shuffling and sampling (default 0)")
    parser.add_argument("--save-every-minutes", type=positive_float, default=5.0,
                        metavar="M", help="checkpoint interval (default 5); also at every "
                                          "evaluation, at the end and on Ctrl-C")
    parser.add_argument("--eval-every", type=positive_int, default=1000, metavar="N",
                        help="steps between held-out evaluations (default 1000)")
    parser.add_argument("--eval-batches", type=positive_int, default=16, metavar="N",
                        help="batches per periodic evaluation (default 16; the final "
                             "evaluation uses every held-out example)")
    parser.add_argument("--export", metavar="DIR",
                        help=f"where to export the trained model (default RUN/{EXPORT_DIR})")
    parser.add_argument("--init-from", metavar="RUN",
                        help="start a new run from another run's latest checkpoint "
                             "(weights, optimizer, step) or from a saved model (a shipped "
                             "name such as mel_2bar, or an export folder: weights and "
                             "step), e.g. to fine-tune on one artist; the configs may "
                             "differ only in free bits, beta and scheduled sampling; "
                             "--num-steps counts from that step")
    parser.add_argument("--workers", type=positive_int, metavar="N",
                        help="processes reading MIDI files (default: every core)")
    _add_data_options(parser)
    # Not preloaded: reading files forks workers first, cheapest without TF.
    parser.set_defaults(func=run_train, preload_tensorflow=False)


def _add_sample(group) -> None:
    parser = group.add_parser(
        "sample", help="draw melodies from the prior",
        description="Decode N latent vectors drawn from N(0, I) into MIDI files "
                    "sample_000.mid, ...; the same seed gives the same files.")
    _add_checkpoint(parser)
    parser.add_argument("--num-outputs", type=positive_int, required=True, metavar="N")
    _add_temperature(parser)
    parser.add_argument("--seed", type=seed, metavar="S",
                        help="random seed (default: a random one, printed)")
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder")
    parser.set_defaults(func=run_sample)


def _add_interpolate(group) -> None:
    parser = group.add_parser(
        "interpolate", help="morph between two songs",
        description="Extract one window of each song's melody (the first with enough "
                    "notes, or the one starting in --start-bar-a/-b), encode both (mu), "
                    "slerp, and decode N steps including both ends. Writes "
                    "interpolate_000.mid ..., interpolate_all.mid (A -> B in one file), "
                    "input_a.mid, input_b.mid and interpolate.png.")
    _add_checkpoint(parser)
    parser.add_argument("song_a", metavar="A.mid")
    parser.add_argument("song_b", metavar="B.mid")
    parser.add_argument("--num-outputs", type=int, required=True, metavar="N",
                        help="steps including both ends, >= 2")
    _add_temperature(parser)
    parser.add_argument("--start-bar-a", type=positive_int, metavar="K",
                        help="use A's window starting in its bar K (counted from 1)")
    parser.add_argument("--start-bar-b", type=positive_int, metavar="K",
                        help="use B's window starting in its bar K (counted from 1)")
    parser.add_argument("--seed", type=seed, default=0, metavar="S",
                        help="seed of the decoding samples (default 0)")
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder")
    parser.set_defaults(func=run_interpolate)


def _add_evaluate(group) -> None:
    parser = group.add_parser(
        "evaluate", help="reconstruction accuracy and KL on a MIDI folder",
        description="Teacher-forced and sampled reconstruction accuracy (per step, padding "
                    "excluded) and mean KL of a checkpoint on a folder's examples (at most "
                    "5 evenly spaced windows per file, as the held-out split), beside "
                    "greedy_accuracy (z = mu, each step fed the previous argmax: what a "
                    "reconstruction at low temperature gets) and the accuracy of always "
                    "predicting the most frequent class (constant_accuracy: for melodies, "
                    "always 'hold').")
    _add_checkpoint(parser)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--midi-dir", metavar="DIR")
    source.add_argument("--examples", metavar="FILE.tfrecord")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--workers", type=positive_int, metavar="N",
                        help="processes reading MIDI files (default: every core)")
    parser.set_defaults(func=run_evaluate, preload_tensorflow=False)


def _add_checkpoint(parser) -> None:
    parser.add_argument("--checkpoint", required=True, metavar="C",
                        help="exported model folder or shipped checkpoint name")


def _add_temperature(parser) -> None:
    parser.add_argument("--temperature", type=positive_float, default=DEFAULT_TEMPERATURE,
                        metavar="T", help=f"softmax temperature > 0 "
                                          f"(default {DEFAULT_TEMPERATURE})")


SUBCOMMANDS = (_add_train, _add_sample, _add_interpolate, _add_evaluate)


# --------------------------------------------------------------------------
# Checkpoints


def read_checkpoint(checkpoint: str):
    """Resolve a checkpoint and read its config and converter options (no TensorFlow).

    Returns
    -------
    (CheckpointInfo, MusicVAEConfig, ConverterOptions, dict meta)
    """
    from gensuite.checkpoints import META_FILE, resolve_checkpoint
    from gensuite.music_vae.configs import MusicVAEConfig
    from gensuite.music_vae.data import ConverterOptions

    info = resolve_checkpoint(checkpoint, kind=KIND)
    meta_path = os.path.join(info.path, META_FILE)
    try:
        with open(meta_path, encoding="utf-8") as f:
            meta = json.load(f)
        config = MusicVAEConfig.from_dict(meta["config"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputFileError(meta_path, f"unreadable MusicVAE metadata ({exc})") from exc
    return info, config, ConverterOptions.from_dict(meta.get("converter_options")), meta


def load_model(info, config, options):
    """The MusicVAE of a resolved checkpoint, with its converter options applied."""
    from gensuite.common.tfutil import import_tensorflow

    import_tensorflow()
    from gensuite.music_vae.data import build_converter
    from gensuite.music_vae.model import MusicVAE

    converter = build_converter(config.converter, options)
    return MusicVAE.load(info.path, converter=converter), converter


# --------------------------------------------------------------------------
# train


def run_train(args: argparse.Namespace) -> int:
    """Handler of ``gensuite vae train``."""
    from gensuite.music_vae.configs import get_config
    from gensuite.music_vae.data import (
        ConverterOptions,
        TrainingData,
        build_converter,
        check_cached_data,
        prepare_training_data,
        source_of,
    )
    from gensuite.training.checkpointing import check_run_config

    config = get_config(args.config)
    options = ConverterOptions(any_meter=args.any_meter, any_program=args.any_program,
                               track_names=tuple(args.track_name))
    converter = build_converter(config.converter, options)
    run_dir = args.run_dir
    if os.path.exists(run_dir) and not os.path.isdir(run_dir):
        raise InputFileError(run_dir, "is not a folder")
    # The trainer checks this too, but only after the (slow) data conversion.
    check_run_config(run_dir, config, flag="--run-dir")
    source = (source_of(midi_dir=args.midi_dir, examples=args.examples)
              if (args.midi_dir or args.examples) else None)
    data = TrainingData.load(run_dir) if os.path.isdir(run_dir) else None
    if data is not None:
        check_cached_data(data, source=source, converter_name=config.converter,
                          options=options, eval_fraction=args.eval_fraction, seed=args.seed)
        print(f"using the examples cached in {os.path.join(run_dir, 'examples.npz')}")
    else:
        if source is None:
            raise ParameterError(
                f"--midi-dir or --examples: one is required ({run_dir} holds no cached "
                f"examples to resume from)")
        started = time.monotonic()
        try:
            data = prepare_training_data(
                midi_dir=args.midi_dir, examples=args.examples, converter=converter,
                converter_name=config.converter, options=options, n_steps=config.n_steps,
                output_depths=config.output_depths, eval_fraction=args.eval_fraction,
                seed=args.seed, num_workers=args.workers, progress=sys.stderr.isatty())
        except NoExamplesError as exc:
            raise NoExamplesError(_with_hint(str(exc), options)) from None
        os.makedirs(run_dir, exist_ok=True)
        data.save(run_dir)
        print(f"converted {data.summary['n_files']} files in "
              f"{time.monotonic() - started:.1f} s")
    for line in format_data_summary(data.summary, converter):
        print(line)
    init_model = start_from_run(run_dir, args.init_from, config) if args.init_from else None
    sys.stdout.flush()
    return _train(args, config, converter, options, data, init_model=init_model)


def _with_hint(message: str, options) -> str:
    if "no pitched notes in programs" in message and not options.any_program:
        message += "; pass --any-program to use every program"
    if " meter: " in message and not options.any_meter:
        message += "; pass --any-meter to read every meter as 4/4"
    return message


def start_from_run(run_dir: str, source: str, config) -> str | None:
    """Seed a new run from another run's checkpoints or from a saved model.

    A run folder (``RUN/checkpoints``): its latest checkpoint (weights,
    optimizer and step) is copied, so every schedule (learning rate, beta,
    scheduled sampling) continues where it left off. A saved model (a
    shipped name or an export folder): returns the folder, whose weights the
    trainer loads, with the step it was trained to (Adam's moments restart).
    Returns None when nothing is to be loaded: copied, or ``run_dir`` already
    has checkpoints of its own, which win. The configs may differ only in
    ``CONTINUABLE_FIELDS`` (losses and schedules, no weights).
    """
    from gensuite.checkpoints import resolve_checkpoint
    from gensuite.music_vae.configs import CONTINUABLE_FIELDS
    from gensuite.training.checkpointing import (
        check_run_config,
        copy_run_checkpoints,
        has_checkpoints,
    )

    if has_checkpoints(run_dir):
        return None
    if copy_run_checkpoints(source, run_dir, config, may_differ=CONTINUABLE_FIELDS):
        print(f"starting from the checkpoints of {source}")
        return None
    try:
        info = resolve_checkpoint(source, kind=KIND)
    except InputFileError:
        raise InputFileError(source, "holds no training checkpoints (checkpoints/) and is "
                                     "not a saved MusicVAE") from None
    check_run_config(info.path, config, flag="--init-from", may_differ=CONTINUABLE_FIELDS)
    return info.path


def format_data_summary(summary: dict, converter) -> list[str]:
    """Lines saying what the data gave: examples per split, files skipped and why."""
    from gensuite.music_vae.data import describe_examples, format_reasons

    what = describe_examples(converter)
    train, held = summary["train"], summary["held_out"]
    lines = [f"{train['n_examples'] + held['n_examples']} {what} from "
             f"{train['n_files'] + held['n_files']} of {summary['n_files']} files: "
             f"train {train['n_examples']} ({train['n_files']} files), "
             f"held out {held['n_examples']} ({held['n_files']} files)"]
    if summary.get("rejections"):
        lines.append(f"files without examples: {format_reasons(summary['rejections'])}")
    return lines


def _train(args, config, converter, options, data, *, init_model: str | None = None) -> int:
    from gensuite.common.tfutil import import_tensorflow

    import_tensorflow()
    from gensuite.music_vae.converters import MelodyConverter
    from gensuite.music_vae.model import count_parameters
    from gensuite.music_vae.trainer import VAETrainer

    trainer = VAETrainer(config, args.run_dir, seed=args.seed,
                         checkpoint_every_minutes=args.save_every_minutes,
                         progress=sys.stderr.isatty())
    print(f"model {config.name}: {count_parameters(trainer.network):,} parameters, "
          f"batch {config.batch_size}")
    if init_model is not None and not trainer.restored_step:
        with open(os.path.join(init_model, "meta.json"), encoding="utf-8") as f:
            step = json.load(f).get("training", {}).get("steps", 0)
        trainer.network.load_weights(os.path.join(init_model, "model.weights.h5"))
        trainer.optimizer.iterations.assign(step)
        print(f"starting from the weights of {init_model} at step {step}")
    elif trainer.restored_step:
        print(f"resuming from step {trainer.restored_step}")
    held_out = (data.held_out.to_arrays(config.output_depths)
                if data.held_out is not None else None)
    transpose = (converter.transpose_range
                 if isinstance(converter, MelodyConverter) else None)
    batches = data.train.iterate_batches(
        batch_size=config.batch_size, output_depths=config.output_depths,
        seed=[args.seed, trainer.step], transpose_range=transpose)
    num_steps = args.num_steps
    if trainer.step >= num_steps:
        print(f"already at step {trainer.step} (--num-steps {num_steps}); exporting")
    try:
        while trainer.step < num_steps:
            # Train in chunks of --eval-every steps: one evaluation and one log
            # line (and a checkpoint, written by fit) after each.
            target = min(num_steps, (trainer.step // args.eval_every + 1) * args.eval_every)
            first, started = trainer.step, time.monotonic()
            train_metrics = trainer.fit(batches, num_steps=target)
            seconds = time.monotonic() - started
            eval_metrics = None
            if held_out is not None and trainer.step < num_steps:
                eval_metrics = trainer.evaluate(held_out, max_batches=args.eval_batches)
                trainer.logger.log("eval", trainer.step, eval_metrics)
            steps_per_s = (trainer.step - first) / max(seconds, 1e-9)
            print(format_progress(trainer.step, num_steps, train_metrics, eval_metrics,
                                  steps_per_s, config.batch_size), flush=True)
    except KeyboardInterrupt:
        print(f"interrupted at step {trainer.step}: checkpoint saved in "
              f"{os.path.join(args.run_dir, 'checkpoints')}; run the same command to resume",
              file=sys.stderr)
        raise
    figures = _final_figures(trainer, held_out, data)
    export_dir = args.export or os.path.join(args.run_dir, EXPORT_DIR)
    trainer.export(export_dir, figures=figures)
    _add_meta(export_dir, converter_options=options.to_dict(),
              data={k: v for k, v in data.summary.items() if k != "rejections"},
              training={"steps": trainer.step, "seed": args.seed, "run_dir":
                        os.path.abspath(args.run_dir)})
    print(f"exported {export_dir}: " + ", ".join(f"{k} {v}" for k, v in figures.items()))
    return 0


def format_progress(step, num_steps, train, held_out, steps_per_s, batch_size) -> str:
    """One log line per training chunk."""
    line = (f"step {step}/{num_steps}  loss {train.get('loss', float('nan')):.3f}  "
            f"kl {train.get('kl_bits', float('nan')):.1f} bits  "
            f"beta {train.get('beta', float('nan')):.3f}  "
            f"p_sample {train.get('p_sample', float('nan')):.2f}  "
            f"acc {train.get('accuracy', float('nan')):.3f}")
    if held_out is not None:
        line += (f" | held out: teacher-forced {held_out['teacher_forced_accuracy']:.3f}  "
                 f"sampled {held_out['sampled_accuracy']:.3f}  "
                 f"constant {held_out['constant_accuracy']:.3f}")
    return line + f" | {steps_per_s:.2f} steps/s ({steps_per_s * batch_size:.0f} ex/s)"


def _final_figures(trainer, held_out, data) -> dict:
    figures = {"steps": trainer.step, "train_examples": len(data.train),
               "train_files": len(data.train.files)}
    if held_out is None:
        return figures
    result = trainer.evaluate(held_out)
    trainer.logger.log("eval", trainer.step, result)
    figures.update({
        "held_out_teacher_forced_accuracy": round(result["teacher_forced_accuracy"], 4),
        "held_out_sampled_accuracy": round(result["sampled_accuracy"], 4),
        "held_out_greedy_accuracy": round(result["greedy_accuracy"], 4),
        "held_out_constant_accuracy": round(result["constant_accuracy"], 4),
        "held_out_kl_bits": round(result["kl_bits"], 2),
        "held_out_examples": result["n_examples"],
        "held_out_files": len(data.held_out.files),
    })
    return figures


def _add_meta(export_dir: str, **extra) -> None:
    """Add keys to an exported checkpoint's meta.json (rewritten atomically)."""
    from gensuite.checkpoints import META_FILE
    from gensuite.common.fileio import write_text_atomic

    path = os.path.join(export_dir, META_FILE)
    with open(path, encoding="utf-8") as f:
        meta = json.load(f)
    meta.update(extra)
    write_text_atomic(path, json.dumps(meta, indent=2))


# --------------------------------------------------------------------------
# sample


def run_sample(args: argparse.Namespace) -> int:
    """Handler of ``gensuite vae sample``."""
    import numpy as np

    from gensuite.midi.io import write_midi

    info, config, options, _ = read_checkpoint(args.checkpoint)
    model, _ = load_model(info, config, options)
    chosen_seed = (args.seed if args.seed is not None
                   else int(np.random.default_rng().integers(2**31)))
    sequences = model.sample(args.num_outputs, temperature=args.temperature, seed=chosen_seed)
    os.makedirs(args.out, exist_ok=True)
    for i, sequence in enumerate(sequences):
        write_midi(sequence, os.path.join(args.out, f"sample_{i:03d}.mid"))
    print(f"wrote {len(sequences)} samples to {args.out} (seed {chosen_seed}, "
          f"temperature {args.temperature:g})")
    return 0


# --------------------------------------------------------------------------
# interpolate


def run_interpolate(args: argparse.Namespace) -> int:
    """Handler of ``gensuite vae interpolate``."""
    from gensuite.midi.io import read_midi
    from gensuite.music_vae import interpolation
    from gensuite.music_vae.data import build_converter

    if args.num_outputs < 2:
        raise ParameterError(
            f"--num-outputs: must be >= 2 for interpolate (both ends), got {args.num_outputs}")
    info, config, options, _ = read_checkpoint(args.checkpoint)
    songs = [read_midi(args.song_a), read_midi(args.song_b)]
    # Windows first: bad songs fail before TensorFlow starts (and logs).
    converter = build_converter(config.converter, options)
    min_notes = interpolation.default_min_notes(converter)
    chosen = []
    for label, path, song, start_bar in (("A", args.song_a, songs[0], args.start_bar_a),
                                         ("B", args.song_b, songs[1], args.start_bar_b)):
        windows = interpolation.find_windows(song, converter, name=path, n_steps=config.n_steps,
                                             output_depths=config.output_depths)
        window, why = interpolation.choose_window(
            windows, start_bar=start_bar, min_notes=min_notes,
            option=f"--start-bar-{label.lower()}")
        print(f"{label}: {path}: {window.describe(len(windows))} ({why})")
        chosen.append(window)
    a, b = chosen
    model, _ = load_model(info, config, options)
    result = interpolation.interpolate_windows(model, converter, a, b,
                                               num_steps=args.num_outputs,
                                               temperature=args.temperature, seed=args.seed)
    names = interpolation.write_interpolation(
        result, args.out,
        labels=(f"{os.path.basename(args.song_a)} {a.bars}",
                f"{os.path.basename(args.song_b)} {b.bars}"),
        title=f"{config.name}: {args.num_outputs} steps, temperature {args.temperature:g}")
    accuracy = result.endpoint_accuracy
    print(f"endpoint reconstruction accuracy: A {accuracy[0]:.3f}, B {accuracy[1]:.3f} "
          f"(temperature {args.temperature:g})")
    print(f"wrote {names[0]} .. {names[args.num_outputs - 1]}, "
          f"{', '.join(names[args.num_outputs:])} to {args.out}")
    return 0


# --------------------------------------------------------------------------
# evaluate


def run_evaluate(args: argparse.Namespace) -> int:
    """Handler of ``gensuite vae evaluate``."""
    from gensuite.music_vae.data import (
        ExampleSet,
        build_converter,
        convert_midi_dir,
        convert_tfrecord,
        count_reasons,
        no_examples_message,
    )

    info, config, options, _ = read_checkpoint(args.checkpoint)
    converter = build_converter(config.converter, options)
    kwargs = {"n_steps": config.n_steps, "output_depths": config.output_depths}
    if args.midi_dir is not None:
        results = convert_midi_dir(args.midi_dir, converter, num_workers=args.workers,
                                   progress=sys.stderr.isatty() and not args.json, **kwargs)
    else:
        results = convert_tfrecord(args.examples, converter, **kwargs)
    if not any(len(r) for r in results):
        raise NoExamplesError(_with_hint(no_examples_message(results, converter), options))
    examples = ExampleSet.from_files(results)

    model, _ = load_model(info, config, options)
    from gensuite.music_vae.trainer import Evaluator

    metrics = Evaluator(model.network).evaluate(examples.to_arrays(config.output_depths),
                                                batch_size=config.batch_size)
    report = {
        "checkpoint": info.path,
        "n_examples": metrics["n_examples"],
        "n_files": len(results),
        "n_files_used": len(examples.files),
        "n_unreadable": sum(1 for r in results if r.unreadable is not None),
        "teacher_forced_accuracy": metrics["teacher_forced_accuracy"],
        "sampled_accuracy": metrics["sampled_accuracy"],
        "greedy_accuracy": metrics["greedy_accuracy"],
        "constant_accuracy": metrics["constant_accuracy"],
        "kl_bits": metrics["kl_bits"],
        "r_loss": metrics["r_loss"],
        "sampled_r_loss": metrics["sampled_r_loss"],
        "rejections": dict(count_reasons(results).most_common()),
    }
    if args.json:
        print(json.dumps(report))
    else:
        for key, value in report.items():
            print(f"{key}: {value:.4f}" if isinstance(value, float) else f"{key}: {value}")
    return 0
