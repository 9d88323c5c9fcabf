"""The demo: the main job end to end on real corpus data and shipped checkpoints.

1. Two tunes exported from the music21 corpus (a Bach chorale and an Essen
   folk song), ingested into a NoteSequence TFRecord, each summarised and drawn
   as a piano roll.
2. Melodies sampled from the shipped 2-bar MusicVAE (``mel_2bar``).
3. The chorale's soprano (its highest line) turning into the folk tune: one
   piece, each 2-bar segment decoded by ``mel_2bar`` from a latent moving from
   the first song's to the second's.
4. 16-bar melodies sampled from the song-scale model (``mel_16bar``).
5. A primer continued by the shipped attention MelodyRNN (``attention_rnn``).
6. Every generated melody rendered to WAV through the shipped GANSynth
   timbres (``gansynth_fluidr3``) and through the soundfont reference, each
   with its own piano roll, and the first of each stage with a spectrogram
   PNG per renderer.
Stages whose checkpoint (or renderer) is missing are skipped and listed.
Everything lands in one folder with an index.html that plays and shows it.
"""

from __future__ import annotations

import dataclasses
import html
import json
import os

from gensuite import checkpoints
from gensuite.audio.plots import plot_spectrogram
from gensuite.common.fileio import write_text_atomic
from gensuite.midi import corpus, pianoroll, summary
from gensuite.midi import io as midi_io

# (collection, how many pieces) exported for the demo: small and fast.
DEMO_TUNES = (("bach-chorales", 1), ("essen", 1))
SEED = 0
TEMPERATURE = 0.5
N_SAMPLES = 4
# Two bars of "Ah vous dirai-je, maman" (events: note on, -2 hold, -1 off).
PRIMER = (60, -2, -2, -2, 60, -2, -2, -2, 67, -2, -2, -2, 67, -2, -2, -2,
          69, -2, -2, -2, 69, -2, -2, -2, 67, -2, -2, -2, -2, -2, -2, -1)
RNN_STEPS = 128
GANSYNTH = "gansynth_fluidr3"


@dataclasses.dataclass
class Section:
    """One block of the index page: a picture, a text and the files it plays.

    ``midis`` are paths under the demo folder, each with a piano roll of the
    same stem (``.png``); ``audio`` maps each to its renderings as (renderer,
    wav, spectrogram png or "" when only the first file has one).
    """

    title: str
    png: str
    text: str
    midis: tuple[str, ...] = ()
    audio: dict[str, list[tuple[str, str, str]]] = dataclasses.field(default_factory=dict)


def run_demo(*, out_dir: str | os.PathLike, progress: bool = False) -> str:
    """Run the demo into ``out_dir`` and return the path of its index.html."""
    out_dir = os.fspath(out_dir)
    midi_dir = os.path.join(out_dir, "midi")
    for name, limit in DEMO_TUNES:
        corpus.export_collection(name, out_dir=os.path.join(midi_dir, name), limit=limit)

    report = midi_io.ingest_midi_dir(
        midi_dir, os.path.join(out_dir, "notes.tfrecord"),
        report_path=os.path.join(out_dir, "ingest_report.json"), progress=progress)

    sections, songs = [], []
    for sequence in midi_io.read_tfrecord(os.path.join(out_dir, "notes.tfrecord")):
        songs.append(os.path.join(midi_dir, sequence.filename))
        stem = os.path.splitext(sequence.filename)[0].replace(os.sep, "__")
        info = summary.summarize_sequence(sequence)
        write_text_atomic(os.path.join(out_dir, f"{stem}.json"), json.dumps(info, indent=2) + "\n")
        pianoroll.plot_pianoroll(sequence, path=os.path.join(out_dir, f"{stem}.png"),
                             title=sequence.filename)
        sections.append(Section(sequence.filename, f"{stem}.png", summary.format_summary(info)))
        print(f"{sequence.filename}: {len(sequence.notes)} notes, "
              f"{sequence.total_time:.1f} s -> {stem}.png")

    shipped = {c.name for c in checkpoints.list_shipped()}
    stages = (("mel_2bar", sample_melodies),
              ("mel_2bar", lambda out: interpolate_songs(out, songs)),
              ("mel_16bar", sample_songs),
              ("attention_rnn", continue_primer))
    skipped = sorted({name for name, _ in stages if name not in shipped})
    for name, stage in stages:
        if name in shipped:
            sections.append(stage(out_dir))
    skipped += render_sections(out_dir, sections, use_gansynth=GANSYNTH in shipped)
    for name in skipped:
        print(f"skipped: {name} is not available")

    index = os.path.join(out_dir, "index.html")
    write_text_atomic(index, render_index(sections, report, skipped=skipped))
    return index


def write_melodies(out_dir: str, melodies, *, stem: str, png: str, title: str,
                   model: str) -> list[str]:
    """Write ``stem_000.mid``, ..., each one's piano roll (``stem_000.png``) and all of
    them in one PNG; return the names."""
    names = [f"{stem}_{i:03d}.mid" for i in range(len(melodies))]
    for name, melody in zip(names, melodies):
        midi_io.write_midi(melody, os.path.join(out_dir, name))
        pianoroll.plot_pianoroll(melody, path=os.path.join(out_dir, _roll_of(name)), title=name)
    pianoroll.plot_pianoroll(melodies, path=os.path.join(out_dir, png), titles=names,
                             title=title)
    print(f"{model}: {', '.join(names)}, {png}")
    return names


def sample_melodies(out_dir: str) -> Section:
    """Sample 2-bar melodies from the shipped ``mel_2bar`` MusicVAE."""
    from gensuite.music_vae.model import MusicVAE

    melodies = MusicVAE.load("mel_2bar").sample(N_SAMPLES, temperature=TEMPERATURE, seed=SEED)
    names = write_melodies(out_dir, melodies, stem="sample", png="samples.png", model="mel_2bar",
                           title=f"mel_2bar samples, temperature {TEMPERATURE}")
    return Section("mel_2bar: sampled melodies", "samples.png",
                   f"{len(melodies)} two-bar melodies, temperature {TEMPERATURE}, seed {SEED}: "
                   + ", ".join(names), midis=tuple(names))


def interpolate_songs(out_dir: str, songs: list[str]) -> Section:
    """Morph the chorale's soprano into the folk tune, two bars at a time, with ``mel_2bar``."""
    from gensuite.music_vae import interpolation
    from gensuite.music_vae.model import MusicVAE

    model = MusicVAE.load("mel_2bar")
    lines = [interpolation.song_line(midi_io.read_midi(path), model.converter, name=path,
                                     n_steps=model.config.n_steps) for path in songs[:2]]
    n_segments = min(len(line.windows) for line in lines)
    result = interpolation.interpolate_songs(model, model.converter, *lines,
                                             n_segments=n_segments, temperature=TEMPERATURE,
                                             seed=SEED)
    labels = tuple(f"{os.path.basename(p)} ({line.track}, {line.bars})"
                   for p, line in zip(songs, lines))
    interpolation.write_song_interpolation(
        result, os.path.join(out_dir, "interpolation"), labels=labels,
        title=f"mel_2bar: {2 * n_segments} bars, A -> B")
    morph = "interpolation/interpolate_song.mid"
    pianoroll.plot_pianoroll(midi_io.read_midi(os.path.join(out_dir, morph)),
                             path=os.path.join(out_dir, _roll_of(morph)), title=morph)
    print(f"mel_2bar: {2 * n_segments}-bar song morph -> interpolation/ (opening "
          f"{result.opening_accuracy:.2f} of A, ending {result.ending_accuracy:.2f} of B)")
    return Section(
        "mel_2bar: one song turning into the other", "interpolation/interpolate.png",
        f"{labels[0]} -> {labels[1]}: each 2-bar segment decoded from a latent that moves "
        f"from the first song's to the second's over {2 * n_segments} bars "
        f"(interpolation/interpolate_song.mid); the opening reproduces the first song at "
        f"{result.opening_accuracy:.2f}, the ending the second at {result.ending_accuracy:.2f}",
        midis=(morph,))


def sample_songs(out_dir: str) -> Section:
    """Sample 16-bar melodies from the shipped ``mel_16bar``."""
    from gensuite.music_vae.latent_hierarchy import load_melody_model

    melodies = load_melody_model("mel_16bar").sample(2, temperature=TEMPERATURE, seed=SEED)
    names = write_melodies(out_dir, melodies, stem="song_sample", png="song_samples.png",
                           model="mel_16bar", title=f"mel_16bar samples, temperature {TEMPERATURE}")
    return Section("mel_16bar: sampled 16-bar melodies", "song_samples.png",
                   f"{len(melodies)} melodies of 16 bars, temperature {TEMPERATURE}, seed {SEED}: "
                   + ", ".join(names), midis=tuple(names))


def continue_primer(out_dir: str) -> Section:
    """Continue a two-bar primer with the shipped ``attention_rnn`` MelodyRNN."""
    from gensuite.melody_rnn.model import MelodyRNN
    from gensuite.midi.sequences import melody_events_to_sequence

    model = MelodyRNN.load("attention_rnn")
    # Plain sampling at temperature 1: beam search finds likelier melodies that loop one
    # phrase (the attention_rnn card's continuation figures).
    result = model.generate(PRIMER, num_steps=RNN_STEPS, temperature=1.0, num_outputs=2,
                            seed=SEED)
    melodies = [melody_events_to_sequence(events) for events in result.events]
    names = write_melodies(out_dir, melodies, stem="continue", png="continue.png",
                           model="attention_rnn",
                           title=f"attention_rnn: {len(PRIMER)}-step primer continued "
                                 f"to {RNN_STEPS} steps")
    return Section("attention_rnn: a primer continued", "continue.png",
                   f"primer (2 bars) continued to {RNN_STEPS} steps, sampling at "
                   f"temperature 1.0; log-likelihoods "
                   + ", ".join(f"{v:.1f}" for v in result.log_likelihood),
                   midis=tuple(names))


def render_sections(out_dir: str, sections: list[Section], *, use_gansynth: bool) -> list[str]:
    """Render each section's MIDI files to WAV, with a spectrogram of the first file per
    renderer; return what was unavailable."""
    from gensuite.audio.io import write_wav
    from gensuite.audio.soundfont import fluidsynth_available
    from gensuite.render import render_sequence_audio

    synths = (["gansynth"] if use_gansynth else []) + (
        ["soundfont"] if fluidsynth_available() else [])
    model = None
    if use_gansynth:
        from gensuite.gansynth.model import GANSynth

        model = GANSynth.load(GANSYNTH)
    for section in sections:
        for index, midi in enumerate(section.midis):
            stem = os.path.splitext(midi)[0]
            for synth in synths:
                wave, rate, report = render_sequence_audio(
                    os.path.join(out_dir, midi), synth=synth, model=model, seed=SEED)
                wav, png = f"{stem}_{synth}.wav", ""
                write_wav(os.path.join(out_dir, wav), wave, sample_rate=rate)
                if index == 0:
                    png = f"{stem}_{synth}.png"
                    plot_spectrogram(wave, sample_rate=rate, path=os.path.join(out_dir, png),
                                     title=f"{midi} ({synth})")
                section.audio.setdefault(midi, []).append((synth, wav, png))
                print(f"{synth}: {midi} -> {wav} ({report.duration_s:.1f} s)"
                      + (f", {png}" if png else ""))
    return ([] if use_gansynth else [f"GANSynth timbres ({GANSYNTH})"]) + (
        [] if "soundfont" in synths else ["the soundfont renderer (libfluidsynth3)"])


def _roll_of(midi: str) -> str:
    """The piano roll PNG beside a MIDI file."""
    return os.path.splitext(midi)[0] + ".png"


def render_index(sections, report: midi_io.IngestReport, *, skipped=()) -> str:
    """A self-contained HTML page showing each section's text and picture."""
    parts = [
        "<!doctype html><meta charset='utf-8'><title>gensuite demo</title>",
        "<h1>gensuite demo</h1>",
        f"<p>Ingested {report.n_read} of {report.n_files} MIDI files "
        f"({report.n_notes} notes) into notes.tfrecord.</p>",
    ]
    for section in sections:
        parts += [f"<h2>{html.escape(section.title)}</h2>",
                  f"<img src='{html.escape(section.png)}' style='max-width:100%'>",
                  f"<pre>{html.escape(section.text)}</pre>"]
        for midi in section.midis:
            parts += [f"<h3>{html.escape(midi)}</h3>",
                      f"<img src='{html.escape(_roll_of(midi))}' style='max-width:60%'><br>"]
            for synth, wav, png in section.audio.get(midi, []):
                parts.append(f"{html.escape(synth)}: <audio controls "
                             f"src='{html.escape(wav)}'></audio><br>")
                if png:
                    parts.append(f"<img src='{html.escape(png)}' style='max-width:100%'><br>")
    if skipped:
        parts.append("<p>Not available here, so skipped: "
                     + html.escape(", ".join(skipped)) + ".</p>")
    return "\n".join(parts) + "\n"
