"""The demo: the main job end to end on real corpus data and shipped checkpoints.

1. Two tunes exported from the music21 corpus (a Bach chorale and an Essen
   folk song), ingested into a NoteSequence TFRecord, each summarised and drawn
   as a piano roll.
2. Melodies sampled from the shipped 2-bar MusicVAE (``mel_2bar``).
3. The chorale's soprano (its highest line) turning into the folk tune: one
   piece, each 2-bar segment decoded by ``mel_2bar`` from a latent moving from
   the first song's to the second's; the two input lines are played beside it.
4. 16-bar melodies sampled from the song-scale model (``mel_16bar``).
5. A primer continued by the shipped attention MelodyRNN (``attention_rnn``).
6. Every generated melody rendered to WAV through the shipped GANSynth
   timbres (``gansynth_instruments``: each track on its program's row) and
   through the soundfont reference, each with its own piano roll, and one
   of each stage (the first, or the morph) with a spectrogram PNG per
   renderer.
Stages whose checkpoint (or renderer) is missing are skipped and listed.
Everything lands in one folder with an index.html that plays and shows it, styled
by the studio's style.css (copied beside it) so that it works opened from disk.
"""

from __future__ import annotations

import dataclasses
import html
import importlib.resources
import json
import os
import urllib.parse

from gensuite import checkpoints
from gensuite.audio.plots import plot_spectrogram
from gensuite.common.fileio import write_bytes_atomic, write_text_atomic
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
GANSYNTH = "gansynth_instruments"
# The renderers as the studio's Synth list names them.
SYNTH_NAMES = {"gansynth": f"GANSynth timbres ({GANSYNTH})", "soundfont": "soundfont"}
# Copied from the studio beside index.html, so the page opened from disk (file://) looks
# like the studio with no server and no second copy of the stylesheet in the package.
STUDIO_FILES = ("style.css", "favicon.svg")
# The demo's layout on top of the studio's style.css: the studio's two columns hold the
# contents and the sections, and each melody is a card like the studio's piano roll.
DEMO_CSS = """
header h1 { flex: none; }  /* the title keeps its line; the ingest line wraps */
header p { margin: 0; color: var(--muted); overflow-wrap: anywhere; }
main > * { min-width: 0; }  /* a grid column may not grow past the page for a long line */
@media (min-width: 801px) { nav { position: sticky; top: 0; align-self: start; } }
nav ol { margin: 0.3em 0; padding-left: 1.4em; }
nav li, nav p { margin: 0.2em 0; overflow-wrap: anywhere; }
.stage { margin-bottom: 2em; }
.roll img { display: block; max-width: 100%; height: auto; margin: 0 auto; }
.roll .caption.table { font-family: ui-monospace, monospace; font-size: 0.9em;
  white-space: pre-wrap; }
.renders { display: grid; grid-template-columns: repeat(auto-fit, minmax(280px, 1fr));
  gap: 0 0.8em; padding: 0 0.6em; }
.renders p { margin: 0.4em 0 0; color: var(--muted); overflow-wrap: anywhere; }
.downloads { padding: 0 0.6em; margin: 0.4em 0; overflow-wrap: anywhere; }
.downloads a { margin-right: 1em; }
"""


@dataclasses.dataclass
class Section:
    """One block of the index page: a picture, a text and the files it plays.

    ``midis`` are paths under the demo folder, each with a piano roll of the
    same stem (``.png``); ``audio`` maps each to its renderings as (renderer,
    wav, spectrogram png or "" for all but ``midis[featured]``). ``files`` are
    only linked, as (path, label): the corpus tunes and their summaries.
    ``table`` says ``text`` is aligned in columns (:func:`summary.format_summary`).
    """

    title: str
    png: str
    text: str
    midis: tuple[str, ...] = ()
    featured: int = 0
    files: tuple[tuple[str, str], ...] = ()
    table: bool = False
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
        sections.append(Section(sequence.filename, f"{stem}.png", summary.format_summary(info),
                                files=((f"midi/{sequence.filename}", "download MIDI"),
                                       (f"{stem}.json", "summary (JSON)")),
                                table=True))
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
    copy_studio_style(out_dir)
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
    # A, the morph and B, as in interpolate.png: the inputs are played too, to hear where
    # the morph starts and ends.
    midis = tuple(f"interpolation/{name}"
                  for name in ("input_a.mid", "interpolate_song.mid", "input_b.mid"))
    for midi in midis:
        pianoroll.plot_pianoroll(midi_io.read_midi(os.path.join(out_dir, midi)),
                                 path=os.path.join(out_dir, _roll_of(midi)), title=midi)
    print(f"mel_2bar: {2 * n_segments}-bar song morph -> interpolation/ (opening "
          f"{result.opening_accuracy:.2f} of A, ending {result.ending_accuracy:.2f} of B)")
    return Section(
        "mel_2bar: one song turning into the other", "interpolation/interpolate.png",
        f"{labels[0]} -> {labels[1]}: each 2-bar segment decoded from a latent that moves "
        f"from the first song's to the second's over {2 * n_segments} bars "
        f"(interpolation/interpolate_song.mid); the opening reproduces the first song at "
        f"{result.opening_accuracy:.2f}, the ending the second at {result.ending_accuracy:.2f}",
        midis=midis, featured=1)


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
    """Render each section's MIDI files to WAV, with a spectrogram of its featured file per
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
                if index == section.featured:
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


def copy_studio_style(out_dir: str) -> None:
    """Copy the studio's stylesheet and icon (:data:`STUDIO_FILES`) into ``out_dir``."""
    static = importlib.resources.files("gensuite.studio") / "static"
    for name in STUDIO_FILES:
        write_bytes_atomic(os.path.join(out_dir, name), (static / name).read_bytes())


def render_index(sections, report: midi_io.IngestReport, *, skipped=()) -> str:
    """The index page: the studio's style, a contents column, and each section's text and
    picture with every melody's piano roll, players and downloads. Every address in it is
    relative, so it works opened from disk."""
    ingest = (f"Ingested {report.n_read} of {report.n_files} MIDI files ({report.n_notes} "
              f"notes) into {_link('notes.tfrecord', 'notes.tfrecord')} "
              f"({_link('ingest_report.json', 'report')}).")
    stages = "\n".join(_stage(i, section) for i, section in enumerate(sections))
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>gensuite demo</title>
<link rel="stylesheet" href="style.css">
<link rel="icon" href="favicon.svg" type="image/svg+xml">
<style>{DEMO_CSS}</style>
</head>
<body>
<header>
  <h1>gensuite demo</h1>
  <p>{ingest}</p>
</header>
<main>
{_contents(sections, skipped)}
<section id="viewer" aria-label="results">
{stages}
</section>
</main>
</body>
</html>
"""


def _contents(sections, skipped) -> str:
    """The left column: a link to each section and what was skipped."""
    items = "".join(f"<li><a href='#stage-{i}'>{html.escape(section.title)}</a></li>"
                    for i, section in enumerate(sections))
    note = ("<p class='hint'>Not available here, so skipped: "
            + html.escape(", ".join(skipped)) + ".</p>") if skipped else ""
    return (f"<nav aria-label='contents'><details open><summary>Contents</summary>"
            f"<ol>{items}</ol>{note}</details></nav>")


def _stage(index: int, section: Section) -> str:
    """One section: its title, its picture under its text, its files and its melodies."""
    caption = "caption table" if section.table else "caption"
    parts = [f"<section class='stage' id='stage-{index}'>",
             f"<h2>{html.escape(section.title)}</h2>",
             _figure(section.png, section.text, alt=section.title, caption_class=caption)]
    if section.files:
        parts.append(_downloads(section.files))
    parts += [_melody(midi, section.audio.get(midi, [])) for midi in section.midis]
    return "\n".join(parts + ["</section>"])


def _melody(midi: str, renders) -> str:
    """A card for one MIDI file: its piano roll, side by side a player per renderer, and
    links to the MIDI and WAV files."""
    players = "".join(_player(midi, synth, wav, png) for synth, wav, png in renders)
    links = [(midi, "download MIDI")] + [(wav, f"WAV ({synth})") for synth, wav, _ in renders]
    return (f"<figure class='roll'><figcaption class='caption'>{html.escape(midi)}"
            f"</figcaption><img src='{_url(_roll_of(midi))}' "
            f"alt='piano roll of {html.escape(midi)}'><div class='renders'>{players}</div>"
            f"{_downloads(links)}</figure>")


def _player(midi: str, synth: str, wav: str, png: str) -> str:
    """One rendering of ``midi``: the renderer's name, an audio player and the spectrogram,
    where there is one."""
    name = html.escape(SYNTH_NAMES.get(synth, synth))
    spectrogram = f"<img src='{_url(png)}' alt='spectrogram ({name})'>" if png else ""
    return (f"<div><p>{name}</p><audio controls preload='metadata' src='{_url(wav)}' "
            f"aria-label='{html.escape(midi)}, {name}'></audio>{spectrogram}</div>")


def _figure(png: str, text: str, *, alt: str, caption_class: str) -> str:
    """A picture in the studio's piano-roll box, under its caption."""
    return (f"<figure class='roll'><figcaption class='{caption_class}'>{html.escape(text)}"
            f"</figcaption><img src='{_url(png)}' alt='{html.escape(alt)}'></figure>")


def _downloads(links) -> str:
    """A row of (path, label) download links."""
    return ("<p class='downloads'>"
            + " ".join(_link(path, label, download=True) for path, label in links) + "</p>")


def _link(path: str, label: str, *, download: bool = False) -> str:
    """A link to a file of the demo folder."""
    return (f"<a href='{_url(path)}'{' download' if download else ''}>"
            f"{html.escape(label)}</a>")


def _url(path: str) -> str:
    """A file of the demo folder as a relative URL: a name with '#', '%' or a space still
    finds its file."""
    return html.escape(urllib.parse.quote(path.replace(os.sep, "/")))
