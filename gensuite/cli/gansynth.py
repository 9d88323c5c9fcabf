"""``gensuite gansynth``: train GANSynth, play pitched notes, morph timbres, evaluate.

``train`` owns a run folder (see :mod:`gensuite.gansynth.trainer`);
running the same command again resumes from the newest checkpoint.
``--checkpoint`` takes an exported folder or the name of a shipped checkpoint.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from gensuite.cli._args import (
    add_strategy_option,
    format_midi_list,
    hidden_alias,
    midi_list,
    positive_float,
    positive_int,
    seed,
    writes_outputs,
)

KIND = "gansynth"
# Steps a new discriminator trains alone before a saved generator follows it:
# a few minutes on 2 cores, after which its Wasserstein estimate has settled.
DISCRIMINATOR_WARMUP_STEPS = 500
# Interpolation notes are made and joined in memory (morph.wav): 256 4-s notes
# at 16 kHz are 65 MB of float32 audio.
MAX_INTERPOLATION_STEPS = 256


def add_parser(subparsers) -> None:
    """Add the ``gansynth`` group and its sub-commands to the top-level parser."""
    parser = subparsers.add_parser(
        "gansynth", help="GANSynth: train, generate notes, interpolate timbres, evaluate",
        description="Train GANSynth on NSynth-format notes, play pitched notes with one "
                    "instrument, morph one note between two instruments, and evaluate pitch "
                    "accuracy and timbre.")
    group = parser.add_subparsers(dest="gansynth_command", metavar="SUBCOMMAND", required=True)
    for add in SUBCOMMANDS:
        add(group)


def _add_checkpoint(parser) -> None:
    parser.add_argument("--checkpoint", required=True, metavar="C",
                        help="exported model folder or shipped name (gensuite checkpoints)")


def _add_train(group) -> None:
    parser = group.add_parser(
        "train", help="train on NSynth-format TFRecords (ours or the real NSynth)",
        description="Train a progressive GANSynth on the notes of DIR (NSynth TFRecords, "
                    "e.g. from gensuite data nsynth). Notes outside the config's pitch range "
                    "are left out. Run the same command again to resume.")
    parser.add_argument("--config", required=True, metavar="NAME",
                        help="preset: gansynth_mel_prog_hires (GPU), cpu-gansynth_mel, "
                             "cpu-gansynth_instruments (conditioned on the data's instruments: "
                             "each --data folder's instrument ids are its own), tiny-gansynth, "
                             "tiny-gansynth_instruments")
    parser.add_argument("--data", required=True, nargs="+", metavar="DIR",
                        help="folders (or files) of NSynth-format TFRecords; several are "
                             "trained on as one set")
    parser.add_argument("--run-dir", required=True, metavar="RUN",
                        help="run folder: checkpoints, logs, export (created; an existing run "
                             "of the same config resumes)")
    parser.add_argument("--num-steps", type=positive_int, metavar="N",
                        help="total training steps of the run (default: the config's "
                             "total_images / batch)")
    parser.add_argument("--acoustic-only", action="store_true",
                        help="keep only instrument_source acoustic notes (GANSynth's filter)")
    parser.add_argument("--seed", type=seed, default=0, metavar="S",
                        help="seeds the weights, batches and latents")
    parser.add_argument("--save-every-minutes", type=positive_float, default=5.0, metavar="M",
                        help="minutes between checkpoints; also at the end and on Ctrl-C")
    parser.add_argument("--export", metavar="DIR",
                        help="where to write the trained model (default: RUN/export, which the "
                             "periodic checkpoints also refresh)")
    parser.add_argument("--init-from", metavar="RUN",
                        help="start a new run from another run's latest checkpoint (weights, "
                             "optimizer, step) or from a saved, fully grown model (a shipped "
                             "name such as gansynth_gm, or an export folder: the "
                             "generator and its step; a new discriminator first trains "
                             f"alone for {DISCRIMINATOR_WARMUP_STEPS} steps), e.g. to continue "
                             "it with other loss weights or data; the configs may differ only "
                             "in loss weights, max_output_hz, total_images and ema_decay, and "
                             "a saved model may gain an instrument table (n_instruments, "
                             "zeros at first, so it plays as before); "
                             "--num-steps is the total, counting the steps before")
    add_strategy_option(parser)
    parser.set_defaults(func=run_train)


def _add_generate(group) -> None:
    parser = group.add_parser(
        "generate", help="one 4 s WAV per pitch with one instrument",
        description="Play each pitch with one instrument latent and write pitch_NNN.wav files.")
    _add_checkpoint(parser)
    parser.add_argument("--pitches", type=midi_list, default=None, metavar="LIST",
                        help="MIDI pitches as a comma list of N and LOW-HIGH (both ends "
                             "included), e.g. 36-84 or 36,48-50,60 (default: the model's "
                             "whole range)")
    parser.add_argument("--instrument-seed", type=seed, metavar="S",
                        help="picks the timbre (default: --seed)")
    parser.add_argument("--seed", type=seed, default=0, metavar="S",
                        help="picks the timbre when --instrument-seed is not given")
    parser.add_argument("--instrument", metavar="NAME",
                        help="models conditioned on instruments: play this trained instrument "
                             "(its name in the model's meta.json, e.g. "
                             "fluidr3:keyboard_acoustic_000, or its row number) instead of one "
                             "drawn from the seed")
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="output folder (created) for pitch_NNN.wav")
    parser.set_defaults(func=run_generate)


def _add_interpolate(group) -> None:
    parser = group.add_parser(
        "interpolate", help="morph one pitch between two instruments",
        description="Slerp between two instrument latents and play one note per point, "
                    "both instruments included; writes step_NN.wav and morph.wav (all notes "
                    "in a row).")
    _add_checkpoint(parser)
    parser.add_argument("--pitch", type=int, required=True, metavar="P",
                        help="MIDI pitch of every note, within the model's range")
    parser.add_argument("--num-outputs", type=int, default=8, metavar="N",
                        help=f"notes (WAV files) from instrument A to B, both included, "
                             f"2-{MAX_INTERPOLATION_STEPS}")
    hidden_alias(parser, "--num-steps", "--num-outputs")  # its name until now
    parser.add_argument("--seed-a", type=seed, default=0, metavar="S",
                        help="instrument seed of the first note")
    parser.add_argument("--seed-b", type=seed, default=1, metavar="S",
                        help="instrument seed of the last note")
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="output folder (created) for step_NN.wav and morph.wav")
    parser.set_defaults(func=run_interpolate)


def _add_evaluate(group) -> None:
    parser = group.add_parser(
        "evaluate", help="pitch accuracy (librosa.pyin) and distance to real notes",
        description="Share of generated notes within 50 cents of the asked pitch; with --data, "
                    "the same share on real notes (the ceiling) and a spectral distance.")
    _add_checkpoint(parser)
    parser.add_argument("--data", nargs="+", metavar="DIR",
                        help="real notes (NSynth TFRecords) for the ceiling and the spectral "
                             "distance; for a model conditioned on instruments, the training "
                             "folders (same names) also give instrument identification")
    parser.add_argument("--num-notes", type=positive_int, default=98, metavar="N",
                        help="generated notes to score")
    parser.add_argument("--classifier", metavar="C",
                        help="instrument classifier for instrument consistency and the "
                             "embedding Frechet distance (default: instrument_cnn when shipped)")
    parser.add_argument("--seed", type=seed, default=0, metavar="S",
                        help="seeds the latents and the choice of notes")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run_evaluate)


SUBCOMMANDS = (_add_train, _add_generate, _add_interpolate, _add_evaluate)


def read_notes(paths: list[str], config, *, acoustic_only: bool = False):
    """The notes of NSynth folders within the config's pitch range (corrupt shards warn)."""
    from gensuite.audio.nsynth import read_nsynth

    return read_nsynth(paths, pitch_range=(config.min_pitch, config.max_pitch),
                       acoustic_only=acoustic_only, n_samples=config.n_samples)


def instrument_rows(notes, paths: list[str]):
    """Each note's instrument row and the rows' descriptions, for a conditioned config.

    An instrument is one (``--data`` folder, NSynth instrument id): folders
    built apart from one soundfont each reuse the same ids for different
    sounds. Rows are numbered in order of first appearance. The General MIDI
    program is known where the folder's ``report.json`` names a soundfont (our
    builder: id = soundfont index x 128 + program).

    Returns
    -------
    rows : np.ndarray, int32, shape (n,)
    names : list of dict
        ``{"name", "family", "program"}`` per row.
    """
    import numpy as np

    from gensuite.audio.nsynth import INSTRUMENT_FAMILIES, INSTRUMENTS_PER_SOUNDFONT

    def data_entry(file: str) -> int:
        """The ``--data`` entry that names this file or a folder holding it."""
        file = os.path.abspath(file)
        return next(i for i, path in enumerate(paths) if os.path.abspath(path) in (
            file, os.path.dirname(file)))

    entry_of_file = [data_entry(f) for f in notes.files]
    rows, names, index = np.zeros(len(notes.pitch), np.int32), [], {}
    for i, (file, instrument, family, note_str) in enumerate(zip(
            notes.file_index.tolist(), notes.instrument.tolist(),
            notes.instrument_family.tolist(), notes.note_str)):
        key = (entry_of_file[file], instrument)
        if key not in index:
            folder = paths[key[0]]
            if not os.path.isdir(folder):
                folder = os.path.dirname(folder)
            index[key] = len(names)
            names.append({"name": f"{os.path.basename(os.path.normpath(folder))}:"
                                  f"{note_str.rsplit('-', 2)[0]}",
                          "family": INSTRUMENT_FAMILIES[family],
                          "program": (instrument % INSTRUMENTS_PER_SOUNDFONT
                                      if _built_from_soundfont(folder) else None)})
        rows[i] = index[key]
    return rows, names


def _built_from_soundfont(folder: str) -> bool:
    from gensuite.audio.nsynth import REPORT_NAME

    try:
        with open(os.path.join(folder, REPORT_NAME), encoding="utf-8") as f:
            report = json.load(f)
    except (OSError, ValueError):
        return False
    return isinstance(report, dict) and ("soundfont" in report or "soundfonts" in report)


def saved_init_model(source: str, config):
    """(CheckpointInfo, GANSynth) of the saved model ``--init-from`` names, checked.

    Raises
    ------
    InputFileError
        If ``source`` holds neither training checkpoints nor a saved GANSynth.
    ParameterError
        If its config differs from ``config`` beyond the continuable fields.
    """
    from gensuite.gansynth.configs import ADDABLE_FIELDS, CONTINUABLE_FIELDS
    from gensuite.gansynth.model import GANSynth
    from gensuite.training.checkpointing import saved_model_to_start_from

    info = saved_model_to_start_from(source, config, kind=KIND, what="GANSynth",
                                     may_differ=CONTINUABLE_FIELDS + ADDABLE_FIELDS)
    return info, GANSynth.load(info.path)


def run_train(args: argparse.Namespace) -> int:
    """Handler of ``gensuite gansynth train``."""
    from gensuite.common.errors import ParameterError
    from gensuite.common.tfutil import count_parameters
    from gensuite.gansynth.configs import CONTINUABLE_FIELDS, get_config
    from gensuite.gansynth.trainer import EXPORT_DIR, GANTrainer, waves_to_images
    from gensuite.training.checkpointing import copy_run_checkpoints, has_checkpoints
    from gensuite.training.distribute import make_strategy

    # First: a multi-worker strategy must start before TensorFlow runs anything.
    strategy = make_strategy(args.strategy)
    config = get_config(args.config)
    if args.init_from and args.strategy == "multi-worker":
        raise ParameterError(
            "--init-from with --strategy multi-worker: start the run on one host, then go on "
            "with multi-worker; the workers resume from the chief's checkpoints")
    init_model = None
    if args.init_from and not has_checkpoints(args.run_dir):
        if copy_run_checkpoints(args.init_from, args.run_dir, config,
                                may_differ=CONTINUABLE_FIELDS):
            print(f"starting from the checkpoints of {args.init_from}")
        else:
            init_model = saved_init_model(args.init_from, config)
    notes = read_notes(args.data, config, acoustic_only=args.acoustic_only)
    started = time.monotonic()
    images = waves_to_images(notes.audio, config=config)
    pitches, n_notes = notes.pitch, len(notes.pitch)
    rows, names = instrument_rows(notes, args.data)
    print(f"{n_notes} notes, pitches {pitches.min()}-{pitches.max()}, "
          f"{len(names)} instruments; spectrograms "
          f"{images.shape[1:]} in {time.monotonic() - started:.1f} s")
    del notes  # the images are all training needs
    if config.n_instruments and len(names) > config.n_instruments:
        raise ParameterError(f"--data: {len(names)} instruments (folder x instrument id), but "
                             f"config {config.name} has {config.n_instruments} instrument rows")
    conditioned = {"instruments": rows, "instrument_names": names} if config.n_instruments else {}
    trainer = GANTrainer(config, args.run_dir, specgrams=images, pitches=pitches,
                         seed=args.seed, checkpoint_every_minutes=args.save_every_minutes,
                         progress=True, strategy=strategy, **conditioned)
    print(f"model {config.name}: generator {count_parameters(trainer.generator):,} / "
          f"discriminator {count_parameters(trainer.discriminator):,} parameters, "
          f"batch {config.batch_size}")
    if trainer.restored_step:
        print(f"resuming from step {trainer.restored_step}")
    elif init_model is not None:
        info, model = init_model
        trainer.start_from_saved(model, step=int(info.figures.get("steps", 0)))
        print(f"starting from the generator of {info.path} at step {trainer.step}; "
              f"training a new discriminator alone for {DISCRIMINATOR_WARMUP_STEPS} steps",
              flush=True)
        metrics = trainer.warm_up_discriminator(DISCRIMINATOR_WARMUP_STEPS)
        print(f"discriminator warmed up: d {metrics['d_loss']:.3f}  "
              f"wasserstein {metrics['wasserstein']:.3f}", flush=True)
    num_steps = args.num_steps or config.total_steps
    report_every, first, t0 = 500, trainer.step, time.monotonic()

    def report(step, metrics):
        # One line per 500 steps for logs, where there is no progress bar.
        nonlocal first, t0
        if step % report_every and step < num_steps:
            return
        rate = (step - first) / max(time.monotonic() - t0, 1e-9)
        first, t0 = step, time.monotonic()
        # The trainer reports the classifier head only when a pitch loss trains it.
        pitch = (f"  real pitch acc {metrics['real_pitch_accuracy']:.2f}"
                 if "real_pitch_accuracy" in metrics else "")
        print(f"step {step}/{num_steps}  blocks {int(metrics['n_blocks'])} "
              f"alpha {metrics['alpha']:.2f}  d {metrics['d_loss']:.3f}  "
              f"g {metrics['g_loss']:.3f}{pitch} | {rate:.2f} steps/s", flush=True)

    try:
        trainer.fit(num_steps=num_steps, after_step=report)
    except KeyboardInterrupt:
        print(f"interrupted at step {trainer.step}: checkpoint saved in "
              f"{os.path.join(args.run_dir, 'checkpoints')}; run the same command to resume",
              file=sys.stderr)
        raise
    if not writes_outputs(args):
        print(f"worker done at step {trainer.step}; the chief exports the model")
        return 0
    export_dir = args.export or os.path.join(args.run_dir, EXPORT_DIR)
    figures = {"steps": trainer.step, "images": trainer.step * config.batch_size,
               "n_training_notes": n_notes}
    trainer.export(export_dir, figures=figures)
    print(f"exported {export_dir}")
    return 0


def _load(args):
    from gensuite.gansynth.model import GANSynth

    return GANSynth.load(args.checkpoint)


def run_generate(args: argparse.Namespace) -> int:
    """Handler of ``gensuite gansynth generate``."""
    import numpy as np

    from gensuite.audio.io import limit_peak, write_wav

    model = _load(args)
    c = model.config
    pitches = np.array(args.pitches or range(c.min_pitch, c.max_pitch + 1))
    instrument_seed = args.seed if args.instrument_seed is None else args.instrument_seed
    rows = None if args.instrument is None else [instrument_row(model, args.instrument)]
    z = model.make_latents(1, seed=instrument_seed, instruments=rows)
    waves = model.generate(pitches, z)
    for pitch, wave in zip(pitches, waves):
        write_wav(os.path.join(args.out, f"pitch_{pitch:03d}.wav"), limit_peak(wave),
                  sample_rate=model.sample_rate)
    played = ""
    if model.instruments:
        played = f", {model.instruments[int(z[0, c.latent_size:].argmax())]['name']}"
    print(f"wrote {len(pitches)} notes (pitches {format_midi_list(pitches)}, instrument seed "
          f"{instrument_seed}{played}) to {args.out}")
    return 0


def instrument_row(model, name: str) -> int:
    """The row of the trained instrument ``name`` (a name or a row number)."""
    from gensuite.common.errors import ParameterError

    names = [item["name"] for item in model.instruments]
    if not names:
        raise ParameterError(f"--instrument: model {model.config.name} is not conditioned on "
                             "instruments; its timbre comes from the seed alone")
    if name in names:
        return names.index(name)
    if name.isdigit() and int(name) < len(names):
        return int(name)
    raise ParameterError(f"--instrument: no trained instrument {name!r}; this model has rows "
                         f"0-{len(names) - 1}, {names[0]} to {names[-1]} (meta.json lists them)")


def run_interpolate(args: argparse.Namespace) -> int:
    """Handler of ``gensuite gansynth interpolate``."""
    import numpy as np

    from gensuite.audio.io import limit_peak, peak_normalize, write_wav
    from gensuite.common.errors import ParameterError
    from gensuite.gansynth.model import slerp_latents

    if args.num_outputs < 2:
        raise ParameterError(
            f"--num-outputs: must be >= 2 for interpolate (both ends), got {args.num_outputs}")
    model = _load(args)
    if args.num_outputs > MAX_INTERPOLATION_STEPS:
        n_samples = model.config.n_samples
        raise ParameterError(
            f"--num-outputs: at most {MAX_INTERPOLATION_STEPS} notes for interpolate, got "
            f"{args.num_outputs:,} (each is a {n_samples / model.sample_rate:g}-s note: "
            f"morph.wav alone would hold {args.num_outputs * n_samples * 4 / 1e9:,.1f} GB "
            f"of audio)")
    z = slerp_latents(model.make_latents(1, seed=args.seed_a)[0],
                      model.make_latents(1, seed=args.seed_b)[0], num_steps=args.num_outputs)
    waves = model.generate([args.pitch] * args.num_outputs, z)
    for i, wave in enumerate(waves):
        write_wav(os.path.join(args.out, f"step_{i:02d}.wav"), limit_peak(wave),
                  sample_rate=model.sample_rate)
    write_wav(os.path.join(args.out, "morph.wav"), peak_normalize(np.concatenate(waves)),
              sample_rate=model.sample_rate)
    print(f"wrote {args.num_outputs} notes at pitch {args.pitch} from instrument seed "
          f"{args.seed_a} to {args.seed_b} in {args.out}")
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    """Handler of ``gensuite gansynth evaluate``."""
    import numpy as np

    from gensuite.analysis.model import AudioClassifier
    from gensuite.checkpoints import list_shipped
    from gensuite.gansynth.evaluation import evaluate_gansynth

    model = _load(args)
    real = read_notes(args.data, model.config) if args.data else None
    name = args.classifier or ("instrument_cnn" if "instrument_cnn" in
                               {c.name for c in list_shipped()} else None)
    classifier = AudioClassifier.load(name) if name else None
    real_rows = None
    if real is not None and model.instruments:
        # The data's instruments, named as training named them, on the model's rows.
        names = [item["name"] for item in model.instruments]
        rows, described = instrument_rows(real, args.data)
        real_rows = np.array([names.index(d["name"]) if d["name"] in names else -1
                              for d in described])[rows]
    figures = evaluate_gansynth(
        model, real_waves=None if real is None else real.audio,
        real_pitches=None if real is None else real.pitch, real_rows=real_rows,
        n_notes=args.num_notes, seed=args.seed, classifier=classifier)
    if args.json:
        print(json.dumps(figures, sort_keys=True))
    else:
        for name, value in figures.items():
            print(f"{name}: {value:.4g}" if isinstance(value, float) else f"{name}: {value}")
    return 0
