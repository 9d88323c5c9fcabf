"""``gensuite rnn``: train, generate with and evaluate MelodyRNN models.

Sub-commands are listed in ``SUBCOMMANDS``. The handlers are thin: reading
sources, melody extraction (Magenta's MelodyRNN pipeline), the run folder's
melody cache and primers come from :mod:`gensuite.melody_rnn.data`, training and
scoring from :mod:`gensuite.melody_rnn.trainer`, generation from
:meth:`gensuite.melody_rnn.model.MelodyRNN.generate`. What lives here is
the argument parsing, which primer the options pick, and what is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings

from gensuite.cli._args import (
    add_runner_options,
    add_strategy_option,
    check_output_folder,
    float_in,
    fraction,
    hidden_alias,
    positive_float,
    positive_int,
    resolve_seed,
    seed,
)
from gensuite.common.beam import check_runner, split_pipeline_options
from gensuite.common.errors import ParameterError

# Magenta's melody_rnn_generate defaults.
DEFAULT_LENGTH_STEPS = 128  # Magenta's --num_steps
# One batch of generation holds at most this many melodies (outputs x beam x
# branch); more outputs run in further batches. Each costs about 150 kB (peak
# memory of 2,048 outputs of attention_rnn, 128 steps: +320 MB over one).
MAX_MELODIES_IN_FLIGHT = 4096
MAX_LENGTH_STEPS = 8192
BYTES_PER_MELODY_IN_FLIGHT = 150_000
DEFAULT_PRIMER = (60,)  # note_seq.Melody([60]): one middle C
DEFAULT_QPM = 120.0
# --qpm bounds: MIDI's slowest tempo is 3.6 qpm (2**24 - 1 microseconds a quarter).
QPM_RANGE = (4.0, 1000.0)
DEFAULT_TRAIN_STEPS = 20_000
DEFAULT_EVAL_RATIO = 0.1
OUTPUT_PREFIX = "generate"
MAX_SKIPPED_SHOWN = 5

LENGTH_STEPS_HELP = (
    "length of each output melody in 16th-note steps (16 per 4/4 bar), the primer's "
    "steps INCLUDED: every output is the primer followed by N minus len(primer) "
    "generated steps, so N must exceed the primer's length")


def add_parser(subparsers) -> None:
    """Add the ``rnn`` group and its sub-commands to the top-level parser."""
    parser = subparsers.add_parser(
        "rnn", help="MelodyRNN: train, continue melodies, evaluate",
        description="Train MelodyRNN models (basic, lookback, attention) on MIDI folders, "
                    "continue primer melodies with them and score them on held-out files.")
    group = parser.add_subparsers(dest="rnn_command", metavar="SUBCOMMAND", required=True)
    for add in SUBCOMMANDS:
        add(group)


def _add_data_source(parser, *, verb: str) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--midi-dir", metavar="DIR",
                        help=f"{verb} the melodies of every .mid/.midi file under DIR "
                             "(recursively; unreadable files are skipped and counted)")
    source.add_argument("--examples", metavar="FILE.tfrecord",
                        help="or read NoteSequences written by gensuite data ingest")


def _add_progress(parser) -> None:
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="report progress on stderr: a bar on a terminal, else a line every 30 s "
                             "(default: on)")


def _add_train(group) -> None:
    parser = group.add_parser(
        "train", help="train a MelodyRNN on a MIDI folder (resumable)",
        description="Extract melodies as Magenta's MelodyRNN pipeline does (split on "
                    "tempo/meter changes, 16th-note grid, >= min_bars bars, >= "
                    "min_unique_pitches distinct pitches, truncated to max_steps, "
                    "transposed to C), hold out about --eval-fraction of the files (by a "
                    "hash of the file's path relative to the folder, so a resumed run "
                    "sees the same split), and train. RUN holds the extracted melodies "
                    "(RUN/melodies.npz), TensorBoard logs (RUN/logs), metrics.jsonl, "
                    "resumable checkpoints and the exported model (a --checkpoint for "
                    "generate/evaluate). Running the same command again resumes up to "
                    "--num-steps in total, on the cached melodies (the source is not read "
                    "again; another source, --eval-fraction or config extraction setting is "
                    "an error).")
    parser.add_argument("--config", required=True, metavar="NAME",
                        help="preset: basic_rnn, lookback_rnn, attention_rnn (Magenta's), "
                             "cpu-* (batch 64, 128-step windows), tiny-* (smoke tests)")
    _add_data_source(parser, verb="train on")
    parser.add_argument("--run-dir", required=True, metavar="RUN",
                        help="run folder (created; an existing run of the same config resumes, "
                             "on the melodies it cached when it started)")
    parser.add_argument("--num-steps", type=positive_int, default=DEFAULT_TRAIN_STEPS,
                        metavar="N", help="optimizer steps to reach in total, across resumes")
    parser.add_argument("--max-minutes", type=positive_float, metavar="M",
                        help="also stop once the run has trained M minutes in total "
                             "(for equal-time comparisons)")
    parser.add_argument("--seed", type=seed, default=0, metavar="S",
                        help="seeds the initial weights and the batches")
    # dest eval_ratio: the name the melody cache and run_train use.
    parser.add_argument("--eval-fraction", dest="eval_ratio", type=fraction,
                        default=DEFAULT_EVAL_RATIO, metavar="F",
                        help="fraction of files held out for evaluation")
    hidden_alias(parser, "--eval-ratio", "--eval-fraction")
    parser.add_argument("--eval-every", type=positive_int, default=500, metavar="N",
                        help="held-out evaluation every N steps and at the end")
    parser.add_argument("--log-every", type=positive_int, default=10, metavar="N",
                        help="training scalars to TensorBoard (RUN/logs) and RUN/metrics.jsonl "
                             "every N steps")
    parser.add_argument("--save-every-minutes", dest="checkpoint_minutes", type=positive_float,
                        default=5.0, metavar="M",
                        help="save the resumable state every M minutes, at the end and on "
                             "Ctrl-C")
    hidden_alias(parser, "--checkpoint-minutes", "--save-every-minutes")
    parser.add_argument("--init-from", metavar="C",
                        help="start from another run folder's checkpoints (weights, optimizer "
                             "and step) or from a saved model's weights (a shipped name or an "
                             "export folder; steps count from 0); its config must equal "
                             "--config. Ignored when --run-dir already has checkpoints")
    add_runner_options(parser, shards=False, what="the melodies of --midi-dir",
                       beam_by_default=False)
    add_strategy_option(parser)
    _add_progress(parser)
    parser.set_defaults(func=run_train)


def _add_generate(group) -> None:
    parser = group.add_parser(
        "generate", help="continue a primer melody",
        description="Continue a primer melody with a MelodyRNN and write one MIDI file "
                    f"per output, OUT/{OUTPUT_PREFIX}_000.mid, ... Every output BEGINS "
                    "WITH THE PRIMER, unchanged, and continues it; --length-steps counts the "
                    "primer's steps too. The primer is transposed to C and into the "
                    "model's note range for the model, and the continuation is moved "
                    "back to the primer's key and register (a one-line warning names "
                    "primer notes outside the model's range). If the primer spans more than "
                    "the model's range (36 semitones for the standard presets), its "
                    "outlying notes are folded by octaves for the model (a one-line "
                    "warning says which); the output still begins with the primer as given.")
    parser.add_argument("--checkpoint", required=True, metavar="C",
                        help="checkpoint folder (a training run folder works) or shipped name")
    primer = parser.add_mutually_exclusive_group()
    primer.add_argument("--primer-midi", metavar="FILE.mid",
                        help="primer: the first melody extracted from this file, Magenta's "
                             "way (highest note where notes start together), from the bar "
                             "of its first note to the end of its last note plus one "
                             "note-off step")
    primer.add_argument("--primer-melody", metavar="EVENTS",
                        help='primer as a list of events, e.g. "[60, -2, 62, -2, 64, -1]": '
                             "one per 16th-note step, 0-127 note-on of that MIDI pitch, "
                             "-1 note-off, -2 no event (hold). Without --primer-midi or "
                             "--primer-melody the primer is [60], one step of middle C "
                             "(Magenta's default)")
    parser.add_argument("--primer-steps", type=positive_int, metavar="N",
                        help="keep only the first N steps of the primer (e.g. 32 for the "
                             "first two bars of a --primer-midi song)")
    parser.add_argument("--length-steps", type=positive_int, default=DEFAULT_LENGTH_STEPS,
                        metavar="N", help=LENGTH_STEPS_HELP)
    hidden_alias(parser, "--num-steps", "--length-steps")  # its name until now
    parser.add_argument("--temperature", type=positive_float, default=1.0, metavar="T",
                        help="softmax temperature, > 0: lower is more conservative. 1.0 "
                             "sounds most like real tunes: on held-out Essen tunes its "
                             "continuations overlap them 0.90 (gensuite metrics) and repeat "
                             "13%% of bars (real 21%%); 0.5 repeats 48%%")
    parser.add_argument("--beam-size", type=positive_int, default=1, metavar="B",
                        help="beam search: keep the B likeliest partial melodies (1: plain "
                             "sampling, the default: the likeliest melodies loop one phrase; "
                             "beam 4 x 2 repeats 61%% of bars and overlaps real tunes 0.84)")
    parser.add_argument("--branch-factor", type=positive_int, default=1, metavar="F",
                        help="beam search: extend each kept melody F ways")
    parser.add_argument("--steps-per-iteration", type=positive_int, default=1, metavar="K",
                        help="beam search: steps generated between prunings")
    parser.add_argument("--num-outputs", type=positive_int, default=1, metavar="K",
                        help="number of melodies (MIDI files) to write")
    parser.add_argument("--seed", type=seed, metavar="S",
                        help="same seed, same melodies (default: a random one, printed)")
    parser.add_argument("--qpm", type=float_in(*QPM_RANGE), metavar="QPM",
                        help=f"tempo of the output in quarter notes per minute, "
                             f"{QPM_RANGE[0]:g}-{QPM_RANGE[1]:g} (default: the primer "
                             f"MIDI's, else {DEFAULT_QPM:g})")
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder (created)")
    parser.set_defaults(func=run_generate)


def _add_evaluate(group) -> None:
    parser = group.add_parser(
        "evaluate", help="log-perplexity and next-step accuracy on a MIDI folder",
        description="Extract melodies from a folder with the checkpoint's own pipeline "
                    "settings and score them teacher-forced: mean log-perplexity per "
                    "predicted step (nats) and next-step accuracy.")
    parser.add_argument("--checkpoint", required=True, metavar="C",
                        help="checkpoint folder or shipped name")
    _add_data_source(parser, verb="score")
    parser.add_argument("--split", choices=("all", "eval", "train"), default="all",
                        help="which files to score: all, or the held-out (eval) or training "
                             "part of the split rnn train makes of the same folder with the "
                             "same --eval-fraction")
    parser.add_argument("--eval-fraction", dest="eval_ratio", type=fraction,
                        default=DEFAULT_EVAL_RATIO, metavar="F",
                        help="with --split: the held-out fraction the run was trained with")
    hidden_alias(parser, "--eval-ratio", "--eval-fraction")
    parser.add_argument("--batch-size", type=positive_int, default=64, metavar="N",
                        help="melodies per batch")
    parser.add_argument("--json", action="store_true",
                        help='print one JSON object {"n_examples", "log_perplexity", '
                             '"accuracy", ...}')
    parser.add_argument("--samples", type=positive_int, metavar="N",
                        help="also continue the first 2 bars of N of the melodies to "
                             "--length-steps (sampling at temperatures 0.5 and 1.0, and beam "
                             "search 4 x 2) and compare the continuations with the real "
                             "ones, window by window (gensuite metrics' figures, with the "
                             "repeated-phrase rate)")
    parser.add_argument("--length-steps", type=positive_int, default=128, metavar="N",
                        help="with --samples: steps of each continued melody, primer "
                             "included (32 + a multiple of 32)")
    parser.add_argument("--seed", type=seed, default=0, metavar="S",
                        help="seed of the --samples continuations")
    _add_progress(parser)
    parser.set_defaults(func=run_evaluate)


SUBCOMMANDS = (_add_train, _add_generate, _add_evaluate)


# ----------------------------------------------------------------------------
# Reporting
# ----------------------------------------------------------------------------

def _report_skipped(skipped: list) -> None:
    for relpath, reason in skipped[:MAX_SKIPPED_SHOWN]:
        print(f"skipped {relpath}: {reason}", file=sys.stderr)
    if len(skipped) > MAX_SKIPPED_SHOWN:
        print(f"... and {len(skipped) - MAX_SKIPPED_SHOWN} more files skipped", file=sys.stderr)


def _show_progress(args) -> bool:
    return True if args.progress is None else args.progress


# ----------------------------------------------------------------------------
# Handlers
# ----------------------------------------------------------------------------

def run_train(args: argparse.Namespace) -> int:
    """Handler of ``gensuite rnn train``."""
    import keras

    from gensuite.melody_rnn import data as melody_data
    from gensuite.melody_rnn import trainer as rnn_trainer
    from gensuite.melody_rnn.configs import get_config
    from gensuite.melody_rnn.model import MelodyRNN
    from gensuite.training.distribute import is_chief, make_strategy

    check_strategy_options(args)
    # First: a multi-worker strategy must start before TensorFlow runs anything.
    strategy = make_strategy(args.strategy)
    chief = is_chief(strategy)
    config = get_config(args.config)
    check_output_folder(args.run_dir, flag="--run-dir")
    # Refuse a mismatched run folder before spending minutes reading data.
    rnn_trainer.check_run_config(args.run_dir, config)
    init_model = start_from(args.run_dir, args.init_from, config) if args.init_from else None
    progress = _show_progress(args)
    data, reused = melody_data.prepare_run_melodies(
        args.run_dir, midi_dir=args.midi_dir, examples=args.examples, config=config,
        eval_ratio=args.eval_ratio, progress=progress, cache=chief,
        runner=check_runner(args.runner),
        pipeline_args=split_pipeline_options(args.pipeline_options))
    train, held_out = data.train, data.held_out
    cache = os.path.join(args.run_dir, melody_data.MELODIES_FILE)
    if reused:
        print(f"data: reusing the {len(train)} training and {len(held_out)} held-out melodies "
              f"cached in {cache} ({data.summary['n_sequences']} sequences read when the run "
              f"started; a new --run-dir reads the source again)", file=sys.stderr)
    else:
        _report_skipped(data.skipped)
        print(f"data: {data.summary['n_sequences']} sequences ({len(data.skipped)} files "
              f"skipped) -> {len(train)} training and {len(held_out)} held-out melodies, "
              f"cached in {cache}", file=sys.stderr)
    if not held_out:
        print("warning: no held-out melodies (too few files for --eval-fraction "
              f"{args.eval_ratio:g}); no held-out figures will be reported", file=sys.stderr)

    keras.utils.set_random_seed(args.seed)
    with strategy.scope():  # the replicas must share the model's variables
        model = MelodyRNN(config)
    if init_model is not None:
        from gensuite.checkpoints import load_model_weights

        load_model_weights(model.network, init_model)
        print(f"starting from the weights of {init_model.path}", file=sys.stderr)
    result = rnn_trainer.train_melody_rnn(
        model, train, held_out, run_dir=args.run_dir, num_steps=args.num_steps,
        max_seconds=None if args.max_minutes is None else 60.0 * args.max_minutes,
        eval_every_steps=args.eval_every, log_every_steps=args.log_every,
        checkpoint_every_seconds=60.0 * args.checkpoint_minutes,
        seed=args.seed, progress=progress, strategy=strategy)
    print(format_train_result(result, run_dir=args.run_dir))
    return 0


def check_strategy_options(args: argparse.Namespace) -> None:
    """Refuse the options a multi-worker run cannot keep in lockstep on every worker."""
    if args.strategy != "multi-worker":
        return
    if args.init_from:
        raise ParameterError(
            "--init-from with --strategy multi-worker: start the run on one host (any "
            "other strategy, a step or more), then go on with multi-worker; the workers "
            "must all restore the same checkpoint")
    if args.max_minutes is not None:
        raise ParameterError(
            "--max-minutes with --strategy multi-worker: each worker would time itself "
            "and stop at its own step; use --num-steps")


def start_from(run_dir: str, source: str, config):
    """Seed a new run from another run's checkpoints or a saved model's weights.

    Returns the saved model's CheckpointInfo when its weights are to be
    loaded; None when checkpoints were copied or ``run_dir`` has its own
    (they win: the run is being resumed).
    """
    from gensuite.checkpoints import resolve_checkpoint
    from gensuite.training.checkpointing import (
        check_run_config,
        copy_run_checkpoints,
        has_checkpoints,
    )

    if has_checkpoints(run_dir):
        return None
    if copy_run_checkpoints(source, run_dir, config):
        print(f"starting from the checkpoints of {source}", file=sys.stderr)
        return None
    info = resolve_checkpoint(source, kind="melody_rnn")
    check_run_config(info.path, config, flag="--init-from")
    return info


def format_train_result(result, *, run_dir: str) -> str:
    """The end-of-training summary: step, time, held-out figures."""
    resumed = f", resumed from step {result.resumed_from}" if result.resumed_from else ""
    line = (f"trained to step {result.step} ({result.train_seconds:.0f} s in total{resumed}, "
            f"{result.examples_per_second:.0f} examples/s); checkpoint {run_dir}")
    if result.eval is None:
        return line + "\nheld-out: none"
    ev = result.eval
    return (line + f"\nheld-out: log-perplexity {ev['log_perplexity']:.4f} nats/step "
                   f"(perplexity {ev['perplexity']:.3f}), accuracy {ev['accuracy']:.4f} "
                   f"on {ev['n_examples']} melodies ({ev['n_steps']} steps)")


def check_melodies_in_flight(beam_size: int, branch_factor: int) -> None:
    """Refuse a beam search whose candidates would not fit in memory, saying how much they need."""
    n = beam_size * branch_factor
    if n > MAX_MELODIES_IN_FLIGHT:
        raise ParameterError(
            f"--beam-size x --branch-factor: at most {MAX_MELODIES_IN_FLIGHT} melodies in "
            f"flight, got {beam_size} x {branch_factor} = {n:,} (about "
            f"{n * BYTES_PER_MELODY_IN_FLIGHT / 1e9:,.1f} GB of memory)")


def run_generate(args: argparse.Namespace) -> int:
    """Handler of ``gensuite rnn generate``."""
    from gensuite.common.batching import batch_seed, batch_spans
    from gensuite.melody_rnn.data import extract_primer, parse_primer_melody, primer_range_warning
    from gensuite.melody_rnn.model import MelodyRNN
    from gensuite.midi.io import read_midi, write_midi
    from gensuite.midi.sequences import melody_events_to_sequence

    # Cheap checks of the user's text first, before loading anything.
    check_output_folder(args.out, flag="--out")
    check_melodies_in_flight(args.beam_size, args.branch_factor)
    if args.length_steps > MAX_LENGTH_STEPS:
        raise ParameterError(f"--length-steps: at most {MAX_LENGTH_STEPS} (512 bars of "
                             f"sixteenths), got {args.length_steps:,}")
    start_step, qpm = 0, args.qpm
    if args.primer_melody is not None:
        primer, source = parse_primer_melody(args.primer_melody), "--primer-melody"
    elif args.primer_midi is None:
        primer, source = list(DEFAULT_PRIMER), "the default primer"
    model = MelodyRNN.load(args.checkpoint)
    steps_per_quarter = model.config.steps_per_quarter
    if args.primer_midi is not None:
        sequence = read_midi(args.primer_midi)
        primer, start_step = extract_primer(sequence, steps_per_quarter=steps_per_quarter,
                                            path=args.primer_midi)
        source = "--primer-midi"
        if qpm is None and sequence.tempos:
            qpm = sequence.tempos[0].qpm
    qpm = qpm or DEFAULT_QPM
    if args.primer_steps is not None:
        primer = primer[:args.primer_steps]
        source += f" (first {len(primer)} steps)"
    if args.length_steps <= len(primer):
        raise ParameterError(
            f"--length-steps: must be greater than the primer's length ({source} has "
            f"{len(primer)} steps) because it counts the primer too, got {args.length_steps}")
    seed_value = resolve_seed(args.seed)

    warning = primer_range_warning(primer, config=model.config, source=source)
    if warning:
        print(f"gensuite rnn generate: warning: {warning}", file=sys.stderr)
    os.makedirs(args.out, exist_ok=True)
    outputs_per_batch = MAX_MELODIES_IN_FLIGHT // (args.beam_size * args.branch_factor)
    for batch, (first, count) in enumerate(batch_spans(args.num_outputs, outputs_per_batch)):
        with warnings.catch_warnings():
            # Said once above, in the command's words.
            warnings.filterwarnings("ignore", message="primer_events: notes outside",
                                    category=UserWarning)
            result = model.generate(
                primer, num_steps=args.length_steps, temperature=args.temperature,
                beam_size=args.beam_size, branch_factor=args.branch_factor,
                steps_per_iteration=args.steps_per_iteration, num_outputs=count,
                seed=batch_seed(seed_value, batch))
        for offset, events in enumerate(result.events):
            path = os.path.join(args.out, f"{OUTPUT_PREFIX}_{first + offset:03d}.mid")
            write_midi(melody_events_to_sequence(events, qpm=qpm,
                                                 steps_per_quarter=steps_per_quarter,
                                                 start_step=start_step), path)
            print(f"{path}: {args.length_steps} steps ({len(primer)} primer), "
                  f"log-likelihood {result.log_likelihood[offset]:.2f}")
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    """Handler of ``gensuite rnn evaluate``."""
    from gensuite.melody_rnn.data import read_melodies
    from gensuite.melody_rnn.model import MelodyRNN
    from gensuite.melody_rnn.trainer import evaluate_melody_rnn

    model = MelodyRNN.load(args.checkpoint)
    melodies, stats, skipped = read_melodies(
        midi_dir=args.midi_dir, examples=args.examples, config=model.config, split=args.split,
        eval_ratio=args.eval_ratio, progress=_show_progress(args))
    _report_skipped(skipped)
    figures = evaluate_melody_rnn(model, melodies, batch_size=args.batch_size)
    report = {**figures, "n_sequences": stats["sequences"], "n_files_skipped": len(skipped),
              "split": args.split, "config": model.config.name, "checkpoint": args.checkpoint}
    if args.samples is not None:
        from gensuite.melody_rnn.samples import continuation_figures

        report["samples"] = continuation_figures(model, melodies, n=args.samples,
                                                 length_steps=args.length_steps,
                                                 seed=args.seed)
    if args.json:
        print(json.dumps(report))
        return 0
    print(f"{report['n_examples']} melodies ({report['n_steps']} steps): log-perplexity "
          f"{report['log_perplexity']:.4f} nats/step (perplexity {report['perplexity']:.3f}), "
          f"accuracy {report['accuracy']:.4f} (always hold: {report['hold_share']:.4f})")
    if args.samples is not None:
        samples = report["samples"]
        print(f"continuations of {samples['n']} primers ({samples['primer_steps']} steps) to "
              f"{samples['length_steps']} steps; real continuations: repeated-phrase rate "
              f"{samples['reference']['repeated_phrase_rate']}, degenerate "
              f"{samples['reference']['degenerate_share']:.1%}")
        for name, row in samples.items():
            if not (isinstance(row, dict) and "mean_overlap" in row):
                continue
            print(f"  {name}: mean overlap {row['mean_overlap']:.3f}, degenerate "
                  f"{row['degenerate_share']:.1%}, repeated-phrase rate "
                  f"{row['repeated_phrase_rate']}")
    return 0
