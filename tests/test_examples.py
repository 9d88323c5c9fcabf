"""Every script in examples/ runs with --quick and writes what it promises.

Each example runs in a subprocess, as a user would run it; the checks read its
outputs the way a user would (MIDI notes with pretty_midi, WAV levels with
soundfile, JSON with json). The selected examples run two at a time: most of
each is single-threaded start-up (Python, music21, TensorFlow: about 8 s per
command), so two fill the 2 cores of an idle CI machine (where other jobs
already keep the cores busy, it gains nothing).
"""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

pytestmark = pytest.mark.slow

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_example(name: str, out) -> subprocess.CompletedProcess:
    """Run examples/NAME.py --quick --out OUT from OUT's parent folder."""
    return subprocess.run(
        [sys.executable, os.path.join(ROOT, "examples", f"{name}.py"), "--quick", "--out",
         str(out)], cwd=out.parent, capture_output=True, text=True, timeout=600, check=False)


@pytest.fixture(scope="module")
def examples(request, tmp_path_factory):
    """Start the examples whose tests are selected; example(name) -> (OUT, stdout)."""
    out = tmp_path_factory.mktemp("examples")
    names = [item.originalname.removeprefix("test_") for item in request.session.items
             if item.module is request.module]
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = {name: pool.submit(run_example, name, out / name) for name in names}

        def example(name):
            result = runs[name].result()
            assert result.returncode == 0, (
                f"{name} exited {result.returncode}:\n{result.stderr[-3000:]}")
            assert str(out / name) in result.stdout  # it says where its results are
            return out / name, result.stdout

        yield example


def midi_notes(path) -> int:
    import pretty_midi

    return sum(len(track.notes) for track in pretty_midi.PrettyMIDI(str(path)).instruments)


def wav_levels(path) -> tuple[float, float]:
    """(duration in seconds, RMS) of a WAV file."""
    import soundfile

    audio, rate = soundfile.read(str(path))
    return len(audio) / rate, float(np.sqrt(np.mean(np.square(audio))))


# The longest first, so that the two workers finish together.
def test_classify_and_search(examples):
    out, stdout = examples("classify_and_search")
    wavs = glob.glob(str(out / "audio" / "*" / "*.wav"))
    assert len(wavs) == 3 and all(wav_levels(wav)[1] > 0.01 for wav in wavs)
    results = json.loads((out / "classify.json").read_text())
    assert len(results) == 1
    (result,) = results.values()
    assert sum(result["composition"].values()) == pytest.approx(1.0, abs=1e-3)
    assert max(result["composition"], key=result["composition"].get) == result["top_class"]
    with np.load(out / "index.npz") as index:
        assert index["vectors"].shape[0] == 3
    similar = stdout[stdout.index("Similar tracks"):]
    assert "1. " in similar and "2. " in similar  # the two other indexed tracks


def test_personal_vae(examples):
    out, _ = examples("personal_vae")
    assert (out / "run" / "export" / "model.weights.h5").stat().st_size > 1_000_000
    assert (out / "personal" / "midime.npz").stat().st_size > 0
    for folder in ("samples", "personal_samples"):
        samples = sorted((out / folder).glob("sample_*.mid"))
        assert len(samples) == 4
        assert all(midi_notes(path) > 0 for path in samples)


def test_interpolate_songs(examples):
    out, stdout = examples("interpolate_songs")
    assert midi_notes(out / "songs" / "chorale_soprano.mid") > 20
    for model in ("mel_2bar", "mel_16bar"):
        folder = out / model
        assert midi_notes(folder / "input_a.mid") > 0 and midi_notes(folder / "input_b.mid") > 0
        outputs = sorted(folder.glob("interpolate_*.mid"))
        assert outputs and all(midi_notes(path) > 0 for path in outputs)
        assert all(str(path) in stdout for path in outputs)
        assert (folder / "interpolate.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_render_timbres(examples):
    from gensuite.audio.soundfont import fluidsynth_available

    out, _ = examples("render_timbres")
    wavs = ["gansynth_seed1.wav"] + ["soundfont.wav"] * fluidsynth_available()
    assert sorted(path.name for path in out.glob("*.wav")) == sorted(wavs)
    for name in wavs:
        duration, rms = wav_levels(out / name)
        assert duration > 30  # the first chorale, BWV 269, lasts 42 s
        assert rms > 0.01
