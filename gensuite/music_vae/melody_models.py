"""Melody checkpoints as the commands and the studio use them.

What ``gensuite vae`` sample, interpolate and personalize do between parsing
their options and printing, so that every front end (the command line,
:mod:`gensuite.studio`) resolves checkpoints, picks windows and personalises
models the same way. Nothing here prints: each function returns what the
caller may want to say.
"""

from __future__ import annotations

import dataclasses
import os
import time

import numpy as np

from gensuite.common.errors import InputFileError, NoExamplesError, ParameterError

KIND = "music_vae"
LATENT_KIND = "latent_hierarchy"
MAX_SONG_BARS = 256


@dataclasses.dataclass(frozen=True)
class Windows:
    """What a melody checkpoint reads, known without TensorFlow."""

    name: str
    converter: object
    converter_name: str
    options: object
    n_steps: int
    output_depths: tuple[int, ...]
    batch_size: int
    n_chunks: int = 1  # a latent hierarchy's windows are n_chunks of its bottom model's

    @property
    def window_bars(self) -> int:
        """Bars of one window."""
        return self.n_steps // self.converter.steps_per_bar


def read_checkpoint(checkpoint: str):
    """Resolve a MusicVAE or latent-hierarchy checkpoint and what it reads (no TensorFlow).

    Parameters
    ----------
    checkpoint : str
        Exported model folder or shipped checkpoint name.

    Returns
    -------
    (CheckpointInfo, Windows)

    Raises
    ------
    InputFileError
        The folder holds another kind of model (or none).
    """
    from gensuite.checkpoints import BOTTOM_DIR, read_model_config, resolve_checkpoint
    from gensuite.music_vae.configs import LatentHierarchyConfig, MusicVAEConfig
    from gensuite.music_vae.converters import ConverterOptions, build_converter

    info = resolve_checkpoint(checkpoint)
    folder, steps_factor, name = info.path, 1, info.meta.get("config", {}).get("name", "")
    if info.kind == LATENT_KIND:
        info, top = read_model_config(info.path, kind=LATENT_KIND,
                                      config_type=LatentHierarchyConfig)
        folder, steps_factor = os.path.join(info.path, BOTTOM_DIR), top.n_chunks
    elif info.kind != KIND:
        raise InputFileError(checkpoint, f"holds a {info.kind} model, expected {KIND} "
                                         f"(or {LATENT_KIND})")
    bottom, config = read_model_config(folder, kind=KIND, config_type=MusicVAEConfig)
    options = ConverterOptions.from_dict(bottom.meta.get("converter_options"))
    converter = build_converter(config.converter, options)
    if steps_factor > 1:
        converter = dataclasses.replace(converter, slice_bars=converter.slice_bars * steps_factor)
    return info, Windows(name=name or config.name, converter=converter,
                         converter_name=config.converter, options=options,
                         n_steps=config.n_steps * steps_factor,
                         output_depths=config.output_depths, batch_size=config.batch_size,
                         n_chunks=steps_factor)


def load_model(info):
    """The model of a resolved checkpoint: a MusicVAE or a latent hierarchy."""
    from gensuite.music_vae.latent_hierarchy import load_melody_model

    return load_melody_model(info.path)


def with_data_hint(message: str, options) -> str:
    """``message`` with the data flag that would have kept the files it rejects."""
    if "no pitched notes in programs" in message and not options.any_program:
        message += "; pass --any-program to use every program"
    if " meter: " in message and not options.any_meter:
        message += "; pass --any-meter to read every meter as 4/4"
    return message


# --------------------------------------------------------------------------
# interpolate


def pick_window(spec: Windows, song, *, name: str, track: str | None = None,
                start_bar: int | None = None, option: str = "--start-bar"):
    """The window of one song that ``vae interpolate --mode steps`` morphs from or to.

    Parameters
    ----------
    spec : Windows
        From :func:`read_checkpoint`.
    song : NoteSequence
    name : str
        The song's name in messages.
    track : str, optional
        Melody models: the track to take (default: the highest line).
    start_bar : int, optional
        Use the window starting in this bar (counted from 1); default: the
        first with enough notes.
    option : str
        What ``start_bar`` is called in messages.

    Returns
    -------
    window : Window
    description : str
        Which track and bars, and why, e.g.
        ``"track 'Soprano' (the highest of 4 tracks; ...), bars 1-2 (...), 9 notes (...)"``.
    """
    from gensuite.music_vae import interpolation
    from gensuite.music_vae.converters import MelodyConverter

    converter, track_text = spec.converter, ""
    if isinstance(converter, MelodyConverter):
        song, described = interpolation.select_track(song, name=name, track=track)
        track_text = f"{described}, "
    windows = interpolation.find_windows(song, converter, name=name, n_steps=spec.n_steps,
                                         output_depths=spec.output_depths)
    window, why = interpolation.choose_window(
        windows, start_bar=start_bar, min_notes=interpolation.default_min_notes(converter),
        option=option)
    return window, f"{track_text}{window.describe(len(windows))} ({why})"


def song_morph_spec(info, spec: Windows) -> Windows:
    """What a whole-song morph cuts songs into: a latent hierarchy morphs its 2-bar chunks."""
    if info.kind != LATENT_KIND:
        return spec
    # A latent hierarchy decodes each 2-bar chunk with its bottom model: the
    # morph moves chunk by chunk, as smoothly as the 2-bar model allows.
    chunks = spec.n_chunks
    return dataclasses.replace(
        spec, n_steps=spec.n_steps // chunks, converter=dataclasses.replace(
            spec.converter, slice_bars=spec.converter.slice_bars // chunks))


def song_lines(spec: Windows, songs, *, names, track: str | None = None,
               bars: int | None = None, option: str = "--bars"):
    """Both songs' melody lines for a whole-song morph and how many windows it spans.

    Parameters
    ----------
    spec : Windows
        From :func:`song_morph_spec`.
    songs, names : pair of NoteSequence, pair of str
    track : str, optional
        Take each melody from the track of this name (default: the highest line).
    bars : int, optional
        Bars of the piece (default: as many as the shorter melody has, at
        most ``MAX_SONG_BARS``).
    option : str
        What ``bars`` is called in messages.

    Returns
    -------
    lines : list of SongLine
    n_segments : int
        Windows of the morph.

    Raises
    ------
    NoExamplesError
        A melody shorter than two windows.
    ParameterError
        ``bars`` out of range.
    """
    from gensuite.music_vae import interpolation

    window_bars = spec.window_bars
    lines = []
    for song, name in zip(songs, names):
        line = interpolation.song_line(song, spec.converter, name=name, n_steps=spec.n_steps,
                                       track=track)
        if len(line.windows) < 2:
            raise NoExamplesError(
                f"{name}: its melody has {len(line.windows) * window_bars} bars in a row; a "
                f"song morph needs at least {2 * window_bars} (two {window_bars}-bar windows)")
        lines.append(line)
    available = min(len(line.windows) for line in lines)
    if bars is not None:
        if bars > min(MAX_SONG_BARS, available * window_bars):
            raise ParameterError(
                f"{option}: must be at most {min(MAX_SONG_BARS, available * window_bars)} (the "
                f"shorter melody has {available * window_bars} bars), got {bars}")
        if bars < 2 * window_bars:
            raise ParameterError(
                f"{option}: must be at least {2 * window_bars} (two windows), got {bars}")
    return lines, min(available, (bars or MAX_SONG_BARS) // window_bars)


def describe_song_line(line, *, n_segments: int, window_bars: int) -> str:
    """Which track and bars of a song a morph over ``n_segments`` windows uses."""
    used = dataclasses.replace(line, windows=line.windows[:n_segments])
    return (f"{line.track}, {used.bars} ({n_segments * window_bars} bars used of "
            f"{len(line.windows) * window_bars})")


# --------------------------------------------------------------------------
# fit-prior, personalize


def evenly_spaced(n: int, at_most: int) -> np.ndarray:
    """Indices of at most ``at_most`` of ``n`` items, evenly spaced, in order."""
    return np.unique(np.linspace(0, n - 1, min(n, at_most)).round().astype(int))


def read_folder_windows(midi_dir: str, spec: Windows, converter, options, *, command: str,
                        workers: int | None, progress: bool = True, meanwhile=None):
    """Every window of a folder's melodies as an ExampleSet (fit-prior, personalize).

    ``meanwhile`` runs in a thread while worker processes read the folder.

    Raises
    ------
    NoExamplesError
        No window, saying why (``DIR: no usable melody: ...``).
    ParameterError
        The checkpoint is not a melody model.
    """
    from gensuite.music_vae.data import (
        ExampleSet,
        all_windows_converter,
        convert_midi_dir,
        no_examples_message,
    )

    results = convert_midi_dir(midi_dir, all_windows_converter(converter),
                               n_steps=spec.n_steps, output_depths=spec.output_depths,
                               num_workers=workers, progress=progress, meanwhile=meanwhile)
    if not any(len(r) for r in results):
        raise NoExamplesError(f"{midi_dir}: no usable melody: " + with_data_hint(
            no_examples_message(results, converter), options))
    examples = ExampleSet.from_files(results)
    if examples.inputs is not None:
        raise ParameterError(f"--checkpoint: {command} reads melody models (their inputs "
                             f"are their outputs' one-hots)")
    return examples


def personalize(info, spec: Windows, *, midi_dir: str, out: str, options=None, model=None,
                latent_size: int | None = None, num_steps: int | None = None, seed: int = 0,
                workers: int | None = None, progress: bool = True,
                on_phase=None) -> dict:
    """MidiMe: train a small VAE on a folder's latents and save a model that samples through it.

    Parameters
    ----------
    info, spec
        A 2-bar MusicVAE from :func:`read_checkpoint`.
    midi_dir : str
        The artist's MIDI files, searched recursively.
    out : str
        Folder for the personalised model.
    options : ConverterOptions, optional
        How to read the folder (default: the model's own).
    model : MusicVAE, optional
        The loaded model of ``info`` (loaded here otherwise). Its ``prior`` and
        ``converter_options`` are not changed.
    latent_size, num_steps : int, optional
        The small VAE's size and training steps (default: MidiMeConfig's).
    seed : int
    workers : int, optional
        Processes reading the folder (default: every core).
    progress : bool
        Show progress bars.
    on_phase : callable, optional
        Called with ``"read"``, ``"encode"``, ``"train"`` and ``"save"`` as each
        phase starts; what it raises stops the work before that phase.

    Returns
    -------
    dict
        The personaliser's figures (``n_vectors``, ``n_files``, ``reconstruction``,
        ``kl_bits``...), ``seconds`` and ``out``.
    """
    from gensuite.music_vae.converters import build_converter
    from gensuite.music_vae.midime import MidiMeConfig, train_midime

    start = time.perf_counter()
    phase = on_phase or (lambda name: None)
    if info.kind != KIND:
        raise ParameterError(f"--checkpoint: personalize takes a 2-bar MusicVAE; {info.path} "
                             f"holds a {info.kind}")
    options = options or spec.options
    phase("read")
    loaded = {"model": model}  # TensorFlow's import, while worker processes read the folder
    examples = read_folder_windows(
        midi_dir, spec, build_converter(spec.converter_name, options), options,
        command="personalize", workers=workers, progress=progress,
        meanwhile=None if model else lambda: loaded.update(model=load_model(info)))
    if len(examples) < 2:
        raise NoExamplesError(f"{midi_dir}: gave 1 window; a personaliser needs at least 2")
    phase("encode")
    defaults = MidiMeConfig()
    config = MidiMeConfig(latent_size=latent_size or defaults.latent_size,
                          num_steps=num_steps or defaults.num_steps)
    model = loaded["model"]
    kept = evenly_spaced(len(examples), config.max_windows)
    z = model.encode_means(examples.classes[kept], examples.lengths[kept])
    phase("train")
    prior = train_midime(z, config, seed=seed, figures={
        "midi_dir": os.path.basename(os.path.abspath(midi_dir)),
        "n_files": len(examples.files), "n_windows": len(examples)})
    phase("save")
    from gensuite.music_vae.model import MusicVAE

    # A new wrapper of the same weights: the caller's model may be shared and keeps its prior.
    personal = MusicVAE(model.config, converter_options=options, network=model.network)
    personal.prior = prior
    personal.save(out, figures=info.figures, meta={
        k: v for k, v in info.meta.items()
        if k not in ("kind", "config", "figures", "converter_options", "prior")}
        | {"personalized_from": info.meta.get("name") or os.path.basename(info.path)})
    return dict(prior.figures, seconds=round(time.perf_counter() - start, 1), out=out)
