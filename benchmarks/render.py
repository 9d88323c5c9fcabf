"""Render speed of the whole ``gensuite render`` command beside FluidSynth's, one JSON object.

Every figure is the wall time of a whole command in a fresh process, start-up
included, as a user sees it:

* ``gansynth_cold``: ``gensuite render`` with an empty note cache (TensorFlow
  imported, the model loaded, every distinct note generated);
* ``gansynth_warm``: the same with the cache filled by an earlier run (no
  TensorFlow: notes read from the cache and mixed with numpy);
* ``soundfont``: ``gensuite render --synth soundfont`` (FluidR3_GM);
* ``fluidsynth``: the FluidSynth command line on the same file and soundfont
  (``fluidsynth -ni -F out.wav -r 16000 FluidR3_GM.sf2 song.mid``), the baseline.

Each is run ``--repeats`` times (median reported) in this one run, so that
the ratios compare like with like on a machine whose load may change.

Harmony (``chroma_vs_fluidr3``, on ``song``, drums left out of every render
since they are the same soundfont's in ours): the Pearson correlation of the
chromagram (librosa ``chroma_stft``, n_fft 4096, hop 1024: 12 pitch classes
every 64 ms, flattened) of a render with that of the FluidR3 render, for our
GANSynth render and for renders with the other real soundfonts installed
(TimGM6mb, MuseScore General). Target: ours at least TimGM6mb's.

Pieces: ``song`` is Haydn's string quartet Op. 1 No. 1, first movement, from
music21's corpus (``gensuite corpus export haydn --limit 1``: 4 parts, 1,892
notes, 92.6 s at 240 qpm), its parts given General MIDI programs flute 73,
piano 0, nylon guitar 24 and acoustic bass 32, plus a drum track added here
(kick and snare on alternate beats, closed hi-hat on every third of a beat:
988 notes on channel 10). ``long`` is that song played ``--long-repeats``
times end to end (default 4: 6.2 min), for the "as fast as FluidSynth on
files over 5 minutes" target. Targets: whole command >= 10x real time on 2
cores for ``song`` (warm and cold), and no slower than FluidSynth on ``long`` (warm).

Usage::

    python benchmarks/render.py [--midi SONG.mid] [--checkpoint CHECKPOINT]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from gensuite.render import DEFAULT_CHECKPOINT

FLUIDR3 = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
OTHER_SOUNDFONTS = {"timgm6mb": "/usr/share/sounds/sf2/TimGM6mb.sf2",
                    "musescore": "/usr/share/sounds/sf3/MuseScore_General_Lite.sf3"}
PROGRAMS = (73, 0, 24, 32)  # flute, piano, nylon guitar, acoustic bass
KICK, SNARE, CLOSED_HAT = 36, 38, 42


def export_haydn(folder: str) -> str:
    """Haydn Op. 1 No. 1, first movement, as exported by ``gensuite corpus export``."""
    subprocess.run([sys.executable, "-m", "gensuite", "corpus", "export", "haydn", "--limit", "1",
                    "--workers", "1", "--out", folder], check=True, capture_output=True)
    return os.path.join(folder, "opus1no1_movement1.mid")


def make_song(source: str, path: str, *, repeats: int = 1) -> float:
    """Write the benchmark song (see the module doc) to ``path``; returns its length (s)."""
    import pretty_midi

    midi = pretty_midi.PrettyMIDI(source)
    pitched = [inst for inst in midi.instruments if not inst.is_drum]
    for inst, program in zip(pitched, PROGRAMS):
        inst.program = program
    drums = pretty_midi.Instrument(program=0, is_drum=True, name="Drums")
    beats, end = midi.get_beats(), midi.get_end_time()
    beat = beats[1] - beats[0]
    for i, start in enumerate(beats):
        drums.notes.append(pretty_midi.Note(velocity=100, pitch=KICK if i % 2 == 0 else SNARE,
                                            start=start, end=start + 0.1))
        for k in range(3):
            if start + k * beat / 3 < end:
                drums.notes.append(pretty_midi.Note(velocity=70, pitch=CLOSED_HAT,
                                                    start=start + k * beat / 3,
                                                    end=start + k * beat / 3 + 0.05))
    midi.instruments = pitched + [drums]
    length = midi.get_end_time()
    # Tempo is constant, so a repeat is every note shifted by the song's length.
    for inst in midi.instruments:
        first = list(inst.notes)
        inst.notes = [pretty_midi.Note(velocity=n.velocity, pitch=n.pitch, start=n.start + r * length,
                                       end=n.end + r * length)
                      for r in range(repeats) for n in first]
    midi.write(path)
    return float(midi.get_end_time())


def wall_seconds(command: list[str]) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"failed ({result.returncode}): {' '.join(command)}\n{result.stderr}")
    return seconds


def figures(times: list[float], audio_s: float, baseline_s: float | None) -> dict:
    median = statistics.median(times)
    return {"wall_s": [round(t, 2) for t in times], "median_wall_s": round(median, 2),
            "x_real_time": round(audio_s / median, 1),
            "speed_vs_fluidsynth": round(baseline_s / median, 2) if baseline_s else None}


def bench_piece(song: str, audio_s: float, *, work: str, checkpoint: str, repeats: int) -> dict:
    render = [sys.executable, "-m", "gensuite", "render", song, "--checkpoint", checkpoint]
    out = os.path.join(work, "out.wav")
    times: dict[str, list[float]] = {"gansynth_cold": [], "gansynth_warm": [], "soundfont": [],
                                     "fluidsynth": []}
    fluidsynth = shutil.which("fluidsynth")
    warm_cache = os.path.join(work, "warm-cache")
    subprocess.run([*render, "--out", os.path.join(work, "first.wav"), "--cache-dir", warm_cache],
                   check=True, capture_output=True)
    for i in range(repeats):  # interleaved, so that a change of load hits every figure alike
        cold_cache = os.path.join(work, f"cold-cache-{i}")
        times["gansynth_cold"].append(
            wall_seconds([*render, "--out", out, "--cache-dir", cold_cache]))
        shutil.rmtree(cold_cache)
        times["gansynth_warm"].append(
            wall_seconds([*render, "--out", out, "--cache-dir", warm_cache]))
        times["soundfont"].append(wall_seconds(
            [*render, "--out", out, "--synth", "soundfont", "--soundfont", FLUIDR3]))
        if fluidsynth:
            times["fluidsynth"].append(wall_seconds(
                [fluidsynth, "-ni", "-q", "-F", out, "-r", "16000", FLUIDR3, song]))
    subprocess.run([*render, "--out", out, "--no-cache"], check=True, capture_output=True)
    with open(os.path.join(work, "first.wav"), "rb") as a, open(out, "rb") as b:
        identical = a.read() == b.read()
    baseline = statistics.median(times["fluidsynth"]) if fluidsynth else None
    result = {"audio_s": round(audio_s, 1),
              "cached_wav_identical_to_no_cache": identical}
    for name, values in times.items():
        result[name] = figures(values, audio_s, baseline) if values else "fluidsynth not installed"
    return result


def chroma_vs_fluidr3(song: str, *, work: str, checkpoint: str) -> dict:
    """Chromagram correlation of each render (drums left out) with the FluidR3 one."""
    import soundfile

    from gensuite.audio.pitch import chromagram_correlation

    render = [sys.executable, "-m", "gensuite", "render", song, "--drums", "skip",
              "--sample-rate", "16000"]
    commands = {"fluidr3": [*render, "--synth", "soundfont", "--soundfont", FLUIDR3],
                "gansynth": [*render, "--checkpoint", checkpoint, "--no-cache"]}
    commands.update({name: [*render, "--synth", "soundfont", "--soundfont", sf]
                     for name, sf in OTHER_SOUNDFONTS.items() if os.path.isfile(sf)})
    waves = {}
    for name, command in commands.items():
        out = os.path.join(work, f"chroma-{name}.wav")
        subprocess.run([*command, "--out", out], check=True, capture_output=True)
        waves[name] = soundfile.read(out, dtype="float32")[0]
    reference = waves.pop("fluidr3")
    return {name: round(chromagram_correlation(wave, reference, sample_rate=16000), 3)
            for name, wave in waves.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--midi", help="the Haydn movement already exported (else exported now)")
    parser.add_argument("--checkpoint", default=DEFAULT_CHECKPOINT)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--long-repeats", type=int, default=4)
    args = parser.parse_args()

    result = {"benchmark": "render", "cpu_count": os.cpu_count(),
              "load_average_before": [round(x, 2) for x in os.getloadavg()],
              "checkpoint": args.checkpoint, "fluidsynth": shutil.which("fluidsynth"),
              "pieces": {}}
    with tempfile.TemporaryDirectory(prefix="gensuite-render-bench-") as work:
        source = args.midi or export_haydn(os.path.join(work, "corpus"))
        for label, repeats in (("song", 1), ("long", args.long_repeats)):
            folder = os.path.join(work, label)
            os.makedirs(folder)
            song = os.path.join(folder, f"{label}.mid")
            audio_s = make_song(source, song, repeats=repeats)
            result["pieces"][label] = bench_piece(song, audio_s, work=folder,
                                                  checkpoint=args.checkpoint,
                                                  repeats=args.repeats)
            if label == "song":
                result["chroma_vs_fluidr3"] = chroma_vs_fluidr3(song, work=folder,
                                                                checkpoint=args.checkpoint)
    result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    song, long_piece = result["pieces"]["song"], result["pieces"]["long"]
    for cache in ("warm", "cold"):
        result[f"target_10x_real_time_{cache}"] = song[f"gansynth_{cache}"]["x_real_time"] >= 10
    if isinstance(long_piece["fluidsynth"], dict):
        result["target_as_fast_as_fluidsynth_long_warm"] = (
            long_piece["gansynth_warm"]["median_wall_s"]
            <= long_piece["fluidsynth"]["median_wall_s"])
    chroma = result["chroma_vs_fluidr3"]
    if "timgm6mb" in chroma:
        result["target_chroma_at_least_timgm6mb"] = chroma["gansynth"] >= chroma["timgm6mb"]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
