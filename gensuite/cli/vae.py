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
import dataclasses
import json
import os
import sys
import time

from gensuite.cli._args import (
    add_runner_options,
    add_strategy_option,
    check_output_folder,
    fraction,
    positive_float,
    positive_int,
    resolve_seed,
    seed,
    writes_outputs,
)
from gensuite.common.beam import check_runner, split_pipeline_options
from gensuite.common.errors import InputFileError, NoExamplesError, ParameterError
from gensuite.music_vae.melody_models import (
    KIND,
    LATENT_KIND,
    MAX_SONG_BARS,
    Windows,
    describe_song_line,
    load_model,
    pick_window,
    read_checkpoint,
    read_folder_windows,
    song_lines,
    song_morph_spec,
    with_data_hint,
)
from gensuite.music_vae.midime import MidiMeConfig

MAX_INTERPOLATION_STEPS = 256
SAMPLE_BATCH = 1024  # samples decoded at once: bounded memory for any --num-outputs
DEFAULT_NUM_STEPS = 20_000
DEFAULT_EVAL_FRACTION = 0.05
DEFAULT_TEMPERATURE = 0.5  # Magenta's music_vae_generate default
EXPORT_DIR = "export"


def add_parser(subparsers) -> None:
    """Add the ``vae`` group and its sub-commands to the top-level parser."""
    parser = subparsers.add_parser(
        "vae", help="MusicVAE: train, sample, interpolate, evaluate",
        description="Train MusicVAE models on MIDI folders, sample melodies from them, "
                    "interpolate between two songs and evaluate reconstructions.")
    group = parser.add_subparsers(dest="vae_command", metavar="SUBCOMMAND", required=True)
    for add in SUBCOMMANDS:
        add(group)


def _add_data_options(parser, *, what: str = "saved with the model") -> None:
    """The flags that say how a folder's music is read; ``what`` ends each help text."""
    parser.add_argument(
        "--any-meter", action="store_true",
        help="read every meter on 16-step (4/4) bars instead of skipping non-4/4 music "
             f"(folk collections need it); {what}")
    parser.add_argument(
        "--any-program", action="store_true",
        help="melody models: use notes of every MIDI program, not only 0-31 (piano to "
             f"guitar); {what}")
    parser.add_argument(
        "--track-name", action="append", default=[], metavar="NAME",
        help="melody models: use only tracks with this name, ignoring case (repeatable), "
             f"e.g. --track-name soprano for the top line of the chorales; {what}")
    parser.add_argument(
        "--top-track", action="store_true",
        help="melody models: use only each file's highest track by mean pitch (a "
             f"chorale's soprano, a quartet's violin I); {what}")


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
                        help="NoteSequence TFRecord from gensuite data ingest")
    parser.add_argument("--run-dir", required=True, metavar="RUN",
                        help="run folder: checkpoints, logs, cached examples, export")
    parser.add_argument("--num-steps", type=positive_int, default=DEFAULT_NUM_STEPS,
                        metavar="N", help="total training steps of the run")
    parser.add_argument("--eval-fraction", type=fraction, default=DEFAULT_EVAL_FRACTION,
                        metavar="F", help="fraction of files held out for evaluation "
                                          "(0: none)")
    parser.add_argument("--seed", type=seed, default=0, metavar="S",
                        help="seeds the split, weights, shuffling and sampling")
    parser.add_argument("--save-every-minutes", type=positive_float, default=5.0,
                        metavar="M", help="minutes between checkpoints; also at every "
                                          "evaluation, at the end and on Ctrl-C")
    parser.add_argument("--eval-every", type=positive_int, default=1000, metavar="N",
                        help="steps between held-out evaluations")
    parser.add_argument("--eval-batches", type=positive_int, default=16, metavar="N",
                        help="batches per periodic evaluation (the final evaluation "
                             "uses every held-out example)")
    parser.add_argument("--export", metavar="DIR",
                        help=f"where to export the trained model (default: RUN/{EXPORT_DIR})")
    parser.add_argument("--init-from", metavar="RUN",
                        help="start a new run from another run's latest checkpoint "
                             "(weights, optimizer, step) or from a saved model (a shipped "
                             "name such as mel_2bar, or an export folder: weights and "
                             "step), e.g. to fine-tune on one artist; the configs may "
                             "differ only in free bits, beta and scheduled sampling; "
                             "training goes on from that step, so --num-steps is the "
                             "total (e.g. 16000 to add 4000 to a model at step 12000)")
    parser.add_argument("--workers", type=positive_int, metavar="N",
                        help="processes reading MIDI files (default: every core)")
    add_runner_options(parser, shards=False, what="the examples of --midi-dir",
                       beam_by_default=False)
    add_strategy_option(parser)
    _add_data_options(parser)
    # Not preloaded: reading files forks workers first, cheapest without TF.
    parser.set_defaults(func=run_train)


def _add_sample(group) -> None:
    parser = group.add_parser(
        "sample", help="draw melodies from the prior",
        description="Decode N latent vectors drawn from the model's prior into MIDI files "
                    "sample_000.mid, ...: N(0, I), the Gaussian of fit-prior (prior.npz) or "
                    "a personaliser (midime.npz), whichever the model folder holds; the "
                    "same seed gives the same files.")
    _add_checkpoint(parser)
    parser.add_argument("--num-outputs", type=positive_int, default=4, metavar="N",
                        help="number of melodies (MIDI files) to write")
    _add_temperature(parser)
    parser.add_argument("--seed", type=seed, metavar="S",
                        help="random seed (default: a random one, printed)")
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder")
    parser.set_defaults(func=run_sample)


def _add_interpolate(group) -> None:
    parser = group.add_parser(
        "interpolate", help="morph between two songs",
        description="Two modes. song (the default): take each song's melody (its highest "
                    "track, or --track), cut both into back-to-back windows of the model's "
                    "length (2 bars for mel_16bar, whose 2-bar model decodes each chunk), "
                    "aligned from their starts, and decode window i from the slerp "
                    "of A's and B's i-th latents at i / (n - 1): one piece that opens with "
                    "A's melody and ends with B's. Writes interpolate_song.mid, input_a.mid, "
                    "input_b.mid and interpolate.png, and prints how well the opening "
                    "reproduces A and the ending B. steps: extract one window of each "
                    "song (the first with enough notes, or the one starting in "
                    "--start-bar-a/-b), slerp between their latents and decode N outputs "
                    "(--num-outputs), both ends included; writes interpolate_000.mid ..., "
                    "interpolate_all.mid, input_a.mid, input_b.mid and interpolate.png.")
    _add_checkpoint(parser)
    parser.add_argument("song_a", metavar="A.mid", help="the song to start from")
    parser.add_argument("song_b", metavar="B.mid", help="the song to end on")
    parser.add_argument("--mode", choices=("song", "steps"), default="song",
                        help="song: one piece morphing A's melody into B's; steps: "
                             "--num-outputs interpolations of one window")
    parser.add_argument("--bars", type=positive_int, metavar="N",
                        help=f"song mode: bars of the piece (default: as many as the shorter "
                             f"melody has, at most {MAX_SONG_BARS})")
    parser.add_argument("--track", metavar="NAME",
                        help="take each melody from the track of this name (default: the "
                             "highest line)")
    parser.add_argument("--num-outputs", type=int, default=5, metavar="N",
                        help=f"steps mode: interpolation points (MIDI files) from A to B, "
                             f"both ends included, 2-{MAX_INTERPOLATION_STEPS}")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object of the figures")
    _add_temperature(parser)
    parser.add_argument("--start-bar-a", type=positive_int, metavar="K",
                        help="use A's window starting in its bar K (counted from 1)")
    parser.add_argument("--start-bar-b", type=positive_int, metavar="K",
                        help="use B's window starting in its bar K (counted from 1)")
    parser.add_argument("--seed", type=seed, default=0, metavar="S",
                        help="seed of the decoding samples")
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
    source.add_argument("--midi-dir", metavar="DIR",
                        help="folder of .mid/.midi files to score, searched recursively")
    source.add_argument("--examples", metavar="FILE.tfrecord",
                        help="or a NoteSequence TFRecord from gensuite data ingest")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--workers", type=positive_int, metavar="N",
                        help="processes reading MIDI files (default: every core)")
    parser.add_argument("--samples", type=positive_int, metavar="N",
                        help="also draw N samples at temperatures 0.5 and 1.0 and compare "
                             "them with the folder's melodies, window by window (gensuite "
                             "metrics' figures: feature overlaps, degenerate share); needs "
                             "--midi-dir")
    parser.add_argument("--seed", type=seed, default=0, metavar="S",
                        help="seed of the --samples draws")
    _add_data_options(parser, what="read the folder this way too (beside the model's own "
                                   "settings)")
    parser.set_defaults(func=run_evaluate)


def _add_checkpoint(parser) -> None:
    parser.add_argument("--checkpoint", required=True, metavar="C",
                        help="exported model folder or shipped checkpoint name")


def _add_temperature(parser) -> None:
    parser.add_argument("--temperature", type=positive_float, default=DEFAULT_TEMPERATURE,
                        metavar="T", help="softmax temperature > 0: lower is more "
                                          "conservative")


def _add_fit_prior(group) -> None:
    parser = group.add_parser(
        "fit-prior", help="sample from where real music lies, not from N(0, I)",
        description="Encode every window of a MIDI folder with a 2-bar or 16-bar MusicVAE, "
                    "fit a full-covariance Gaussian to the posterior means, and write a "
                    "copy of the model that samples from it (prior.npz). A model that "
                    "reconstructs well spends more information than N(0, I) allows, so "
                    "many N(0, I) samples land where its decoder never trained (held notes, "
                    "scatters over seven octaves); fit on the data the model learnt from, or on "
                    "the music whose style samples should take. A 16-bar latent hierarchy's "
                    "repeat rule is calibrated on the folder too.")
    _add_checkpoint(parser)
    parser.add_argument("--midi-dir", required=True, metavar="DIR",
                        help="folder of .mid/.midi files, searched recursively")
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="folder for the model with its fitted prior")
    parser.add_argument("--workers", type=positive_int, metavar="N",
                        help="processes reading MIDI files (default: every core)")
    parser.set_defaults(func=run_fit_prior)


def _add_personalize(group) -> None:
    parser = group.add_parser(
        "personalize", help="tune a 2-bar model's samples to one artist's folder in a minute",
        description="MidiMe: encode every window of an artist's MIDI folder with a 2-bar "
                    "MusicVAE and train a small VAE of dense layers on those latent "
                    "vectors (the base model's weights stay as they are). Writes a copy of "
                    "the model whose samples go through the small VAE (midime.npz); vae "
                    "sample, interpolate and evaluate read it like any MusicVAE. Seconds "
                    "to a minute where fine-tuning (vae train --init-from) takes many "
                    "minutes.")
    _add_checkpoint(parser)
    parser.add_argument("--midi-dir", required=True, metavar="DIR",
                        help="the artist's .mid/.midi files, searched recursively")
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="folder for the personalised model")
    parser.add_argument("--num-steps", type=positive_int, default=MidiMeConfig.num_steps,
                        metavar="N", help="training steps of the small VAE")
    parser.add_argument("--latent-size", type=positive_int,
                        default=MidiMeConfig.latent_size, metavar="N",
                        help="dimensions of the small VAE's latent")
    parser.add_argument("--seed", type=seed, default=0, metavar="S",
                        help="seed of the training")
    parser.add_argument("--workers", type=positive_int, metavar="N",
                        help="processes reading MIDI files (default: every core)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    _add_data_options(parser, what="read the folder this way too (beside the model's own "
                                   "settings); saved with the personalised model")
    parser.set_defaults(func=run_personalize)


SUBCOMMANDS = (_add_train, _add_sample, _add_interpolate, _add_evaluate, _add_fit_prior,
               _add_personalize)


# --------------------------------------------------------------------------
# Checkpoints


def merge_data_options(saved, args):
    """A model's converter options with a command's data flags added (a flag given wins)."""
    from gensuite.music_vae.converters import ConverterOptions

    return ConverterOptions(any_meter=saved.any_meter or args.any_meter,
                            any_program=saved.any_program or args.any_program,
                            track_names=tuple(args.track_name) or saved.track_names,
                            top_track=saved.top_track or args.top_track)


# --------------------------------------------------------------------------
# train


def run_train(args: argparse.Namespace) -> int:
    """Handler of ``gensuite vae train``."""
    from gensuite.music_vae import latent_hierarchy
    from gensuite.training.distribute import is_chief, make_strategy

    if args.init_from and args.strategy == "multi-worker":
        raise ParameterError(
            "--init-from with --strategy multi-worker: start the run on one host (any "
            "other strategy, a step or more), then go on with multi-worker; the workers "
            "must all restore the same checkpoint")
    # First: a multi-worker strategy must start before TensorFlow runs anything.
    strategy = make_strategy(args.strategy)
    if args.config in latent_hierarchy.PRESETS:
        return run_train_latent_hierarchy(args, strategy)
    chief = is_chief(strategy)
    from gensuite.music_vae.configs import get_config
    from gensuite.music_vae.converters import ConverterOptions, build_converter
    from gensuite.music_vae.data import (
        TrainingData,
        check_cached_data,
        prepare_training_data,
        source_of,
    )
    from gensuite.training.checkpointing import check_run_config

    config = get_config(args.config)
    options = ConverterOptions(any_meter=args.any_meter, any_program=args.any_program,
                               track_names=tuple(args.track_name),
                               top_track=args.top_track)
    converter = build_converter(config.converter, options)
    run_dir = args.run_dir
    if os.path.exists(run_dir) and not os.path.isdir(run_dir):
        raise InputFileError(run_dir, "is not a folder")
    # The trainer checks these too, but only after the (slow) data conversion.
    check_run_config(run_dir, config, flag="--run-dir")
    if args.init_from:
        check_init_from(run_dir, args.init_from, config)
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
                seed=args.seed, num_workers=args.workers, progress=True,
                runner=check_runner(args.runner),
                pipeline_args=split_pipeline_options(args.pipeline_options))
        except NoExamplesError as exc:
            raise NoExamplesError(with_data_hint(str(exc), options)) from None
        if chief:  # every worker converts the same files; the chief keeps them
            os.makedirs(run_dir, exist_ok=True)
            data.save(run_dir)
        print(f"converted {data.summary['n_files']} files in "
              f"{time.monotonic() - started:.1f} s")
    for line in format_data_summary(data.summary, converter):
        print(line)
    init_model = start_from_run(run_dir, args.init_from, config) if args.init_from else None
    sys.stdout.flush()
    return _train(args, config, converter, options, data, init_model=init_model,
                  strategy=strategy)


def run_train_latent_hierarchy(args: argparse.Namespace, strategy) -> int:
    """``vae train`` of a latent hierarchy: a top level over a trained 2-bar model."""
    from gensuite.common.tfutil import count_parameters
    from gensuite.music_vae import latent_hierarchy as lh
    from gensuite.music_vae.data import TrainingData, prepare_training_data
    from gensuite.training.distribute import is_chief

    chief = is_chief(strategy)
    config = lh.get_config(args.config)
    if args.track_name or args.any_meter or args.any_program or args.top_track:
        raise ParameterError("--track-name, --top-track, --any-meter, --any-program: a "
                             "latent hierarchy reads music as its 2-bar model was trained to")
    os.makedirs(args.run_dir, exist_ok=True)
    from gensuite.checkpoints import BOTTOM_DIR, META_FILE, load_model_weights, resolve_checkpoint
    from gensuite.music_vae.model import MusicVAE
    from gensuite.training.checkpointing import has_checkpoints

    # The 2-bar model: the run's own copy when resuming; else --init-from's
    # (a 2-bar MusicVAE, or a latent hierarchy whose top level comes along
    # too, so a run continues from a committed export); else the preset's.
    own_copy = os.path.join(args.run_dir, BOTTOM_DIR)
    init = resolve_checkpoint(args.init_from) if args.init_from else None
    if os.path.isfile(os.path.join(own_copy, META_FILE)):
        bottom_source = own_copy
    elif init is not None and init.kind == LATENT_KIND:
        bottom_source = os.path.join(init.path, BOTTOM_DIR)
    else:
        bottom_source = init.path if init is not None else config.bottom
    import keras

    keras.utils.set_random_seed(args.seed)  # the top level's initial weights
    with strategy.scope():  # the replicas must share the model's variables
        model = lh.LatentHierarchyVAE(config, bottom=MusicVAE.load(bottom_source))
    if bottom_source != own_copy and chief:
        model.bottom.save(own_copy, meta=model.bottom.provenance)
    if init is not None and init.kind == LATENT_KIND and not has_checkpoints(args.run_dir):
        load_model_weights(model.top, init)
        print(f"starting from the top level of {init.path}")
    data = TrainingData.load(args.run_dir)
    if data is None:
        started = time.monotonic()
        data = prepare_training_data(
            midi_dir=args.midi_dir, examples=args.examples, converter=model.converter,
            converter_name=f"{model.bottom.config.converter} ({model.n_steps} steps)",
            options=model.bottom.converter_options, n_steps=model.n_steps,
            output_depths=model.output_depths, eval_fraction=args.eval_fraction,
            seed=args.seed, num_workers=args.workers, progress=True,
            runner=check_runner(args.runner),
            pipeline_args=split_pipeline_options(args.pipeline_options))
        if chief:  # every worker converts the same files; the chief keeps them
            data.save(args.run_dir)
        print(f"converted {data.summary['n_files']} files in "
              f"{time.monotonic() - started:.1f} s")
    for line in format_data_summary(data.summary, model.converter):
        print(line)
    splits = {"train": lh.add_transposed_copies(
        data.train.classes, copies=config.transposed_copies,
        transpose_range=config.transpose_range, depth=model.output_depths[0], seed=args.seed)}
    if data.held_out is not None:
        splits["eval"] = data.held_out.classes
    started = time.monotonic()
    latents = lh.cached_chunk_latents(model, args.run_dir, splits, write=chief)
    print(f"chunk latents of {sum(len(v) for v in splits.values())} windows from "
          f"{bottom_source} ({time.monotonic() - started:.0f} s)")
    print(f"model {config.name}: {count_parameters(model.top):,} top-level parameters over "
          f"the {count_parameters(model.bottom.network):,} of the 2-bar model, "
          f"batch {config.batch_size}", flush=True)
    held_out = data.held_out.classes if data.held_out is not None else None
    lh.train_latent_hierarchy(
        model, latents["train"], run_dir=args.run_dir, num_steps=args.num_steps,
        held_out_classes=held_out, train_classes=splits["train"],
        eval_every=args.eval_every, seed=args.seed,
        checkpoint_every_s=60.0 * args.save_every_minutes, progress=True, strategy=strategy)
    if not writes_outputs(args):
        print("worker done; the chief fits the prior and exports the model")
        return 0
    model.fit_prior(*latents["train"], data.train.classes, seed=args.seed)
    print(f"samples repeat a 2-bar phrase where two conducted chunk latents lie within "
          f"{model.repeats.max_distance:.3f} (the training windows repeat "
          f"{model.repeats.pair_repeat_rate:.1%} of chunk pairs)")
    figures = {"steps": int(args.num_steps), "train_examples": len(data.train),
               "train_files": len(data.train.files)}
    if held_out is not None:
        result = lh.accuracies(model, held_out, seed=args.seed)
        figures.update({f"held_out_{k}": round(v, 4) if isinstance(v, float) else v
                        for k, v in result.items()})
        figures["held_out_files"] = len(data.held_out.files)
    export_dir = args.export or os.path.join(args.run_dir, EXPORT_DIR)
    model.save(export_dir, figures=figures, meta={
        "data": {k: v for k, v in data.summary.items() if k != "rejections"},
        "training": {"steps": int(args.num_steps), "seed": args.seed}})
    print(f"exported {export_dir}: " + ", ".join(f"{k} {v}" for k, v in figures.items()))
    return 0


def start_from_run(run_dir: str, source: str, config):
    """Seed a new run from another run's checkpoints or from a saved model.

    A run folder (``RUN/checkpoints``): its latest checkpoint (weights,
    optimizer and step) is copied, so every schedule (learning rate, beta,
    scheduled sampling) continues where it left off. A saved model (a
    shipped name or an export folder): returns the folder, whose weights the
    trainer loads, with the step it was trained to (Adam's moments restart):
    returns its CheckpointInfo. Returns None when nothing is to be loaded: copied, or ``run_dir`` already
    has checkpoints of its own, which win. The configs may differ only in
    ``CONTINUABLE_FIELDS`` (losses and schedules, no weights).
    """
    from gensuite.music_vae.configs import CONTINUABLE_FIELDS
    from gensuite.training.checkpointing import copy_run_checkpoints, has_checkpoints

    if has_checkpoints(run_dir):
        return None
    if copy_run_checkpoints(source, run_dir, config, may_differ=CONTINUABLE_FIELDS):
        print(f"starting from the checkpoints of {source}")
        return None
    return saved_init_model(source, config)


def saved_init_model(source: str, config):
    """The saved MusicVAE ``--init-from`` names, checked against the run's config."""
    from gensuite.music_vae.configs import CONTINUABLE_FIELDS
    from gensuite.training.checkpointing import saved_model_to_start_from

    return saved_model_to_start_from(source, config, kind=KIND, what="MusicVAE",
                                     may_differ=CONTINUABLE_FIELDS)


def check_init_from(run_dir: str, source: str, config) -> None:
    """Fail before the slow data conversion when ``--init-from`` cannot start this run."""
    from gensuite.music_vae.configs import CONTINUABLE_FIELDS
    from gensuite.training.checkpointing import check_run_config, has_checkpoints

    if has_checkpoints(run_dir):
        return
    if has_checkpoints(source):
        check_run_config(source, config, flag="--init-from", may_differ=CONTINUABLE_FIELDS)
    else:
        saved_init_model(source, config)


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


def _train(args, config, converter, options, data, *, init_model=None, strategy=None) -> int:
    from gensuite.common.tfutil import count_parameters
    from gensuite.music_vae.converters import MelodyConverter
    from gensuite.music_vae.trainer import VAETrainer

    trainer = VAETrainer(config, args.run_dir, seed=args.seed,
                         checkpoint_every_minutes=args.save_every_minutes,
                         progress=True, strategy=strategy)
    print(f"model {config.name}: {count_parameters(trainer.network):,} parameters, "
          f"batch {config.batch_size}")
    if init_model is not None and not trainer.restored_step:
        from gensuite.checkpoints import load_model_weights

        step = init_model.meta.get("training", {}).get("steps", 0)
        load_model_weights(trainer.network, init_model)
        trainer.optimizer.iterations.assign(step)
        print(f"starting from the weights of {init_model.path} at step {step}")
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
    if not trainer.chief:
        return 0
    figures = _final_figures(trainer, held_out, data)
    export_dir = args.export or os.path.join(args.run_dir, EXPORT_DIR)
    prior = None
    if data.train.inputs is None:  # melodies: inputs are the outputs' one-hots
        from gensuite.music_vae.model import MusicVAE

        fitted = MusicVAE(config, network=trainer.network)
        fitted.fit_prior(data.train.classes, data.train.lengths)
        prior = fitted.prior
    trainer.export(export_dir, figures=figures, converter_options=options, prior=prior, meta={
        "data": {k: v for k, v in data.summary.items() if k != "rejections"},
        "training": {"steps": trainer.step, "seed": args.seed,
                     "run_dir": os.path.abspath(args.run_dir)}})
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


# --------------------------------------------------------------------------
# sample


def run_sample(args: argparse.Namespace) -> int:
    """Handler of ``gensuite vae sample``."""
    from gensuite.common.batching import batch_seed, batch_spans
    from gensuite.midi.io import write_midi

    check_output_folder(args.out, flag="--out")
    info, _ = read_checkpoint(args.checkpoint)
    model = load_model(info)
    chosen_seed = resolve_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    for batch, (first, count) in enumerate(batch_spans(args.num_outputs, SAMPLE_BATCH)):
        sequences = model.sample(count, temperature=args.temperature,
                                 seed=batch_seed(chosen_seed, batch))
        for offset, sequence in enumerate(sequences):
            write_midi(sequence, os.path.join(args.out, f"sample_{first + offset:03d}.mid"))
    print(f"wrote {args.num_outputs} samples to {args.out} (seed {chosen_seed}, "
          f"temperature {args.temperature:g})")
    return 0


# --------------------------------------------------------------------------
# interpolate


def run_interpolate(args: argparse.Namespace) -> int:
    """Handler of ``gensuite vae interpolate``."""
    check_output_folder(args.out, flag="--out")
    if args.mode == "song":
        return run_interpolate_songs(args)
    from gensuite.midi.io import read_midi
    from gensuite.music_vae import interpolation

    if not 2 <= args.num_outputs <= MAX_INTERPOLATION_STEPS:
        raise ParameterError(
            f"--num-outputs: must be in [2, {MAX_INTERPOLATION_STEPS}] for interpolate (both "
            f"ends; each step is one MIDI file and one row of the piano roll), got "
            f"{args.num_outputs:,}")
    info, spec = read_checkpoint(args.checkpoint)
    songs = [read_midi(args.song_a), read_midi(args.song_b)]
    # Windows first: bad songs fail before TensorFlow starts.
    chosen = []
    for label, path, song, start_bar in (("A", args.song_a, songs[0], args.start_bar_a),
                                         ("B", args.song_b, songs[1], args.start_bar_b)):
        window, described = pick_window(spec, song, name=path, track=args.track,
                                        start_bar=start_bar,
                                        option=f"--start-bar-{label.lower()}")
        print(f"{label}: {path}: {described}")
        chosen.append(window)
    a, b = chosen
    model = load_model(info)
    result = interpolation.interpolate_windows(model, spec.converter, a, b,
                                               num_steps=args.num_outputs,
                                               temperature=args.temperature, seed=args.seed)
    names = interpolation.write_interpolation(
        result, args.out,
        labels=(f"{os.path.basename(args.song_a)} {a.bars}",
                f"{os.path.basename(args.song_b)} {b.bars}"),
        title=f"{spec.name}: {args.num_outputs} steps, temperature {args.temperature:g}")
    accuracy = result.endpoint_accuracy
    print(f"endpoint reconstruction accuracy: A {accuracy[0]:.3f}, B {accuracy[1]:.3f} "
          f"(temperature {args.temperature:g})")
    print(f"wrote {names[0]} .. {names[args.num_outputs - 1]}, "
          f"{', '.join(names[args.num_outputs:])} to {args.out}")
    return 0


def run_interpolate_songs(args: argparse.Namespace) -> int:
    """``vae interpolate`` of whole songs: one latent per window, A's at the start, B's at the end."""
    from gensuite.midi.io import read_midi
    from gensuite.music_vae import interpolation

    info, spec = read_checkpoint(args.checkpoint)
    spec = song_morph_spec(info, spec)
    window_bars = spec.window_bars
    lines, n_segments = song_lines(spec, [read_midi(args.song_a), read_midi(args.song_b)],
                                   names=(args.song_a, args.song_b), track=args.track,
                                   bars=args.bars)
    for label, path, line in (("A", args.song_a, lines[0]), ("B", args.song_b, lines[1])):
        print(f"{label}: {path}: "
              + describe_song_line(line, n_segments=n_segments, window_bars=window_bars),
              file=sys.stderr)
    model = load_model(info)
    model = getattr(model, "bottom", model)
    result = interpolation.interpolate_songs(
        model, spec.converter, lines[0], lines[1], n_segments=n_segments,
        temperature=args.temperature, seed=args.seed)
    names = interpolation.write_song_interpolation(
        result, args.out, labels=(os.path.basename(args.song_a), os.path.basename(args.song_b)),
        title=f"{spec.name}: {n_segments * window_bars} bars, temperature {args.temperature:g}")
    figures = {"bars": n_segments * window_bars, "segments": n_segments,
               "window_bars": window_bars, "opening_accuracy": round(result.opening_accuracy, 4),
               "ending_accuracy": round(result.ending_accuracy, 4),
               "track_a": lines[0].track, "track_b": lines[1].track,
               "files": [os.path.join(args.out, n) for n in names]}
    if args.json:
        print(json.dumps(figures))
    else:
        print(f"opening reproduces A at {result.opening_accuracy:.3f}, ending reproduces B at "
              f"{result.ending_accuracy:.3f} (per-step accuracy of the first and last "
              f"{window_bars} bars, temperature {args.temperature:g})")
        print(f"wrote {', '.join(names)} to {args.out}")
    return 0


def run_fit_prior(args: argparse.Namespace) -> int:
    """Handler of ``gensuite vae fit-prior``."""
    import numpy as np

    info, spec = read_checkpoint(args.checkpoint)
    if info.kind not in (KIND, LATENT_KIND):
        raise ParameterError(f"--checkpoint: fit-prior takes a MusicVAE; {info.path} holds a "
                             f"{info.kind}")
    check_output_folder(args.out, flag="--out")
    examples = read_folder_windows(args.midi_dir, spec, spec.converter, spec.options,
                                   command="fit-prior", workers=args.workers)
    model = load_model(info)
    if info.kind == LATENT_KIND:
        # A song prior over the top level's z, and the repeat rule calibrated on
        # how often this folder's windows repeat a 2-bar phrase.
        model.fit_prior(*model.encode_chunks(examples.classes), examples.classes)
        fitted, dropped = len(examples), ""
        rule = (f"; samples repeat a 2-bar phrase where two conducted chunk latents lie "
                f"within {model.repeats.max_distance:.3f} (the folder repeats "
                f"{model.repeats.pair_repeat_rate:.1%} of chunk pairs)")
    else:
        fitted = model.fit_prior(examples.classes, examples.lengths)
        dropped, rule = " (degenerate ones left out)", ""
    model.save(args.out, figures=info.figures, meta={
        k: v for k, v in info.meta.items()
        if k not in ("kind", "config", "figures", "converter_options", "repeats")}
        | {"prior": {"midi_dir": os.path.basename(os.path.abspath(args.midi_dir)),
                     "n_windows": fitted, "n_files": len(examples.files)}})
    spread = float(np.trace(model.prior.scale_tril @ model.prior.scale_tril.T))
    print(f"fitted the prior to {fitted} of the {len(examples)} windows of "
          f"{len(examples.files)} files{dropped}: total variance {spread:.1f} (N(0, I): "
          f"{model.config.z_size}){rule}; wrote {args.out}")
    return 0


def run_personalize(args: argparse.Namespace) -> int:
    """Handler of ``gensuite vae personalize``."""
    from gensuite.music_vae.melody_models import personalize

    info, spec = read_checkpoint(args.checkpoint)
    if info.kind != KIND:
        raise ParameterError(f"--checkpoint: personalize takes a 2-bar MusicVAE; {info.path} "
                             f"holds a {info.kind}")
    check_output_folder(args.out, flag="--out")
    figures = personalize(info, spec, midi_dir=args.midi_dir, out=args.out,
                          options=merge_data_options(spec.options, args),
                          latent_size=args.latent_size, num_steps=args.num_steps,
                          seed=args.seed, workers=args.workers)
    if args.json:
        print(json.dumps(figures))
    else:
        print(f"personalised on {figures['n_vectors']} of the {figures['n_windows']} windows "
              f"of {figures['n_files']} files in {figures['seconds']:.0f} s (reconstruction error "
              f"{figures['reconstruction']:.3f} per standardised dimension, KL "
              f"{figures['kl_bits']:.1f} bits); wrote {args.out}")
    return 0


# --------------------------------------------------------------------------
# evaluate


def sample_figures(model, spec: Windows, *, midi_dir: str, n: int, seed: int) -> dict:
    """Samples at temperatures 0.5 and 1.0 against a folder's melodies, per model window."""
    from gensuite.midi import metrics

    bars = spec.n_steps // spec.converter.steps_per_bar
    # A sample is one window with no song before it: real windows' repeated bars are
    # counted within the window too.
    reference = metrics.folder_features(midi_dir, bars=bars, top_track=spec.options.top_track,
                                        repeats_within="window")
    figures = {"n": n, "seed": seed, "window_bars": bars,
               "reference_windows": len(reference), "repeats_within": "window"}
    for temperature in (0.5, 1.0):
        generated = metrics.sample_features(
            model.sample(n, temperature=temperature, seed=seed), bars=bars)
        result = metrics.compare(generated, list(reference))
        figures[f"temperature_{temperature:.1f}"] = {
            "mean_overlap": result["mean_overlap"],
            "degenerate_share": result["degenerate_share"],
            "overlap": {k: v["overlap"] for k, v in result["features"].items()}}
    return figures


def run_evaluate(args: argparse.Namespace) -> int:
    """Handler of ``gensuite vae evaluate``."""
    from gensuite.music_vae.converters import build_converter
    from gensuite.music_vae.data import (
        ExampleSet,
        convert_midi_dir,
        convert_tfrecord,
        count_reasons,
        no_examples_message,
    )

    info, spec = read_checkpoint(args.checkpoint)
    if args.samples is not None and args.midi_dir is None:
        raise ParameterError("--samples: compares samples with a folder's melodies; give "
                             "--midi-dir")
    converter, options = spec.converter, merge_data_options(spec.options, args)
    if options != spec.options:
        if info.kind == LATENT_KIND:
            raise ParameterError("--track-name, --top-track, --any-meter, --any-program: a "
                                 "latent hierarchy reads music as its 2-bar model was "
                                 "trained to")
        converter = build_converter(spec.converter_name, options)
        spec = dataclasses.replace(spec, converter=converter, options=options)
    kwargs = {"n_steps": spec.n_steps, "output_depths": spec.output_depths}
    if args.midi_dir is not None:
        results = convert_midi_dir(args.midi_dir, converter, num_workers=args.workers,
                                   progress=True, **kwargs)
    else:
        results = convert_tfrecord(args.examples, converter, **kwargs)
    if not any(len(r) for r in results):
        raise NoExamplesError(with_data_hint(no_examples_message(results, converter), options))
    examples = ExampleSet.from_files(results)

    model = load_model(info)
    report = {"checkpoint": info.path, "n_files": len(results),
              "n_files_used": len(examples.files),
              "n_unreadable": sum(1 for r in results if r.unreadable is not None)}
    if info.kind == LATENT_KIND:
        from gensuite.music_vae.latent_hierarchy import accuracies

        report.update(accuracies(model, examples.classes))
    else:
        from gensuite.music_vae.trainer import Evaluator

        metrics = Evaluator(model.network).evaluate(
            examples.to_arrays(spec.output_depths), batch_size=spec.batch_size)
        report.update({key: metrics[key] for key in (
            "n_examples", "teacher_forced_accuracy", "sampled_accuracy", "greedy_accuracy",
            "constant_accuracy", "kl_bits", "r_loss", "sampled_r_loss")})
    report["rejections"] = dict(count_reasons(results).most_common())
    if args.samples is not None:
        report["samples"] = sample_figures(model, spec, midi_dir=args.midi_dir, n=args.samples,
                                           seed=args.seed)
    if args.json:
        print(json.dumps(report))
    else:
        for key, value in report.items():
            print(f"{key}: {value:.4f}" if isinstance(value, float) else f"{key}: {value}")
    return 0
