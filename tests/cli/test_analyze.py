"""``gensuite analyze`` through main(): train, evaluate, classify (also live), index, similar.

One tiny classifier (``tiny-cnn``) is trained once for the module on a
hand-built data folder of tones and noise bursts; the other tests use it.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sys

import numpy as np
import pytest
import soundfile

from gensuite.analysis.model import AudioClassifier
from gensuite.audio.soundfont import fluidsynth_available
from gensuite.cli.main import main
from gensuite.midi.io import write_midi
from tests.cli_run import assert_one_line_error, run


def tone(seconds, frequency_hz=440.0, *, sample_rate=16000, amplitude=0.5):
    t = np.arange(round(seconds * sample_rate)) / sample_rate
    return (amplitude * np.sin(2 * np.pi * frequency_hz * t)).astype(np.float32)


def noise(seconds, *, seed=0, amplitude=0.3):
    return (amplitude * np.random.default_rng(seed).standard_normal(round(seconds * 16000))
            ).astype(np.float32)


def write_data_folder(root):
    """DATA/audio/{tone,noise}/*.wav, manifest.csv and dataset.json: 6 train + 2 test pieces."""
    rows = ["file,label,split,piece,source"]
    for i in range(8):
        split = "test" if i >= 6 else "train"
        for label, wave in (("tone", tone(1.0, 300.0 + 150 * i)),
                            ("noise", noise(1.0, seed=i, amplitude=0.1 + 0.05 * i))):
            name = f"audio/{label}/{label}{i}.wav"
            os.makedirs(root / "audio" / label, exist_ok=True)
            soundfile.write(root / name, wave, 16000)
            rows.append(f"{name},{label},{split},{label}{i},synthetic")
    (root / "manifest.csv").write_text("\n".join(rows) + "\n")
    (root / "dataset.json").write_text(json.dumps({"class_names": ["tone", "noise"]}))


def train_tiny(data, run_dir, *options):
    """``gensuite analyze train`` of tiny-cnn in this process; it must succeed.

    Module-scoped fixtures have no capsys, so this does not use tests.cli_run.run.
    """
    try:
        code = main(["analyze", "train", "--config", "tiny-cnn", "--data", str(data),
                     "--run-dir", str(run_dir), "--workers", "1", *options])
    except SystemExit as exc:
        code = exc.code
    assert code == 0


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(data folder, run folder, train stdout) after 24 steps."""
    root = tmp_path_factory.mktemp("analyze")
    data, run_dir = root / "data", root / "run"
    write_data_folder(data)
    train_tiny(data, run_dir, "--num-steps", "24")
    return data, run_dir


@pytest.fixture
def model_dir(trained):
    return trained[1] / "export"


def write_two_soundfont_folder(root):
    """A data folder whose clips name two soundfonts: pieces 0-5 train, 6-7 test, even pieces
    A.sf2, odd B.sf2 (labels are all that matter: the audio is tones and noise)."""
    write_data_folder(root)
    lines = (root / "manifest.csv").read_text().splitlines()
    rows = [lines[0] + ",soundfont"]
    for line in lines[1:]:
        piece = line.split(",")[3]
        rows.append(f"{line},{'A.sf2' if int(piece[-1]) % 2 == 0 else 'B.sf2'}")
    (root / "manifest.csv").write_text("\n".join(rows) + "\n")


@pytest.fixture(scope="module")
def held_out_b(tmp_path_factory):
    """(data folder, run folder) of a run holding out B.sf2, after 4 steps."""
    root = tmp_path_factory.mktemp("loso")
    data, run_dir = root / "data", root / "run"
    write_two_soundfont_folder(data)
    train_tiny(data, run_dir, "--num-steps", "4", "--hold-out-soundfont", "B.sf2")
    return data, run_dir


@pytest.mark.slow
def test_train_exports_model_figures_and_confusion_matrix(trained):
    data, run_dir = trained
    export = run_dir / "export"
    assert {"model.weights.h5", "meta.json", "config.json", "evaluation.json",
            "confusion.png"} <= set(os.listdir(export))
    figures = json.loads((export / "meta.json").read_text())["figures"]
    assert figures["steps"] == 24 and figures["n_train_tracks"] == 12
    assert figures["n_test_tracks"] == 4 and figures["n_test_pieces"] == 4
    assert figures["test_track_accuracy"] >= 0.75
    assert figures["command"].startswith("gensuite analyze train --config tiny-cnn")
    assert (run_dir / "logs" / "test").is_dir() and (run_dir / "checkpoints").is_dir()
    assert AudioClassifier.load(export).class_names == ("tone", "noise")


def test_train_resumes_and_refuses_another_config(trained, capsys, tmp_path):
    data, run_dir = trained
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    code, out, _ = run(capsys, "analyze", "train", "--config", "tiny-cnn", "--data", data,
                       "--run-dir", copy, "--num-steps", "24", "--workers", "1")
    assert code == 0 and "resuming from step 24" in out
    code, _, err = run(capsys, "analyze", "train", "--config", "cpu-cnn", "--data", data,
                       "--run-dir", copy, "--workers", "1")
    assert_one_line_error(code, err, "holds a run of config 'tiny-cnn'")


def test_evaluate_prints_held_out_figures_as_json(trained, model_dir, capsys, tmp_path):
    data, _ = trained
    code, out, _ = run(capsys, "analyze", "evaluate", "--checkpoint", model_dir, "--data", data,
                       "--json", "--confusion", tmp_path / "c.png", "--workers", "1")
    assert code == 0
    figures = json.loads(out)
    assert figures["n_tracks"] == 4 and np.array(figures["confusion"]).sum() == 4
    assert set(figures["per_class_track_accuracy"]) == {"tone", "noise"}
    assert (tmp_path / "c.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_train_holding_out_a_soundfont_trains_on_the_others_and_tests_it_apart(held_out_b):
    _, run_dir = held_out_b
    export = run_dir / "export"
    figures = json.loads((export / "meta.json").read_text())["figures"]
    # A.sf2's train clips only (pieces 0, 2, 4 of each class); its test clips are
    # in-domain (piece 6); B.sf2's test clips (piece 7) are held out, its train clips unused.
    assert figures["n_train_tracks"] == 6 and figures["n_test_tracks"] == 2
    assert figures["hold_out_soundfont"] == "B.sf2"
    assert figures["n_leave_one_soundfont_out_tracks"] == 2
    assert figures["command"].endswith("--num-steps 4 --hold-out-soundfont B.sf2")
    evaluation = json.loads((export / "evaluation.json").read_text())
    assert evaluation["n_tracks"] == 2 and "track_accuracy_by_soundfont" not in evaluation
    held = evaluation["leave_one_soundfont_out"]
    assert held["soundfont"] == "B.sf2" and held["n_tracks"] == 2
    assert np.array(held["confusion"]).sum() == 2
    assert 0.0 <= held["track_accuracy"] <= 1.0
    assert (export / "confusion_leave_one_soundfont_out.png").is_file()
    assert json.loads((run_dir / "options.json").read_text()) == {"hold_out_soundfont": "B.sf2"}
    splits = {json.loads(line)["split"] for line in (run_dir / "metrics.jsonl").open()}
    assert {"test", "hold_out"} <= splits


def test_a_resume_must_hold_out_the_same_soundfont(held_out_b, trained, capsys, tmp_path):
    data, run_dir = held_out_b
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    code, out, _ = run(capsys, "analyze", "train", "--config", "tiny-cnn", "--data", data,
                       "--run-dir", copy, "--num-steps", "4", "--workers", "1",
                       "--hold-out-soundfont", "B.sf2")
    assert code == 0 and "resuming from step 4" in out
    before = sorted(os.listdir(copy))
    code, _, err = run(capsys, "analyze", "train", "--config", "tiny-cnn", "--data", data,
                       "--run-dir", copy, "--num-steps", "4", "--hold-out-soundfont", "A.sf2")
    assert_one_line_error(code, err, f"--hold-out-soundfont: {copy} holds a run trained without "
                                     f"B.sf2 (held out), but this command trains without A.sf2 "
                                     f"(held out); use a new run folder")
    code, _, err = run(capsys, "analyze", "train", "--config", "tiny-cnn", "--data", data,
                       "--run-dir", copy, "--num-steps", "4")
    assert_one_line_error(code, err, "trained without B.sf2 (held out), but this command trains "
                                     "on every soundfont")
    assert sorted(os.listdir(copy)) == before
    # A run from before the option (checkpoints, no options.json) trained on everything.
    old = tmp_path / "old"
    shutil.copytree(trained[1], old)
    (old / "options.json").unlink()
    code, _, err = run(capsys, "analyze", "train", "--config", "tiny-cnn", "--data", data,
                       "--run-dir", old, "--num-steps", "24", "--hold-out-soundfont", "B.sf2")
    assert_one_line_error(code, err, f"{old} holds a run trained on every soundfont, but this "
                                     f"command trains without B.sf2 (held out)")
    assert not (old / "options.json").exists()


def test_evaluate_reports_track_accuracy_per_soundfont(held_out_b, capsys):
    data, run_dir = held_out_b
    code, out, _ = run(capsys, "analyze", "evaluate", "--checkpoint", run_dir / "export",
                       "--data", data, "--json", "--workers", "1")
    assert code == 0
    figures = json.loads(out)
    assert figures["n_tracks"] == 4
    assert set(figures["track_accuracy_by_soundfont"]) == {"A.sf2", "B.sf2"}
    assert figures["n_tracks_by_soundfont"] == {"A.sf2": 2, "B.sf2": 2}
    code, out, _ = run(capsys, "analyze", "evaluate", "--checkpoint", run_dir / "export",
                       "--data", data, "--workers", "1")
    assert code == 0 and "  soundfont B.sf2: " in out and "(2 tracks)" in out


def test_classify_json_composition_sums_to_one(model_dir, capsys, tmp_path):
    path = tmp_path / "song.wav"
    soundfile.write(path, np.concatenate([tone(2.0, 500.0), noise(1.0)]), 16000)
    code, out, _ = run(capsys, "analyze", "classify", path, "--checkpoint", model_dir, "--json",
                       "--timeline", tmp_path / "timeline.png")
    assert code == 0
    result = json.loads(out)
    assert sum(result["composition"].values()) == pytest.approx(1.0, abs=1e-6)
    assert set(result["composition"]) == {"tone", "noise"}
    timeline = result["timeline"]
    assert len(timeline["start_s"]) == len(timeline["probabilities"]) == result["n_windows"]
    assert (tmp_path / "timeline.png").stat().st_size > 1000
    # Two thirds tone: tone should hold the larger share.
    assert result["top_class"] == "tone"


def test_classify_text_output_and_stereo_any_rate(model_dir, capsys, tmp_path):
    path = tmp_path / "stereo.flac"
    left, right = tone(1.5, 500.0, sample_rate=22050), tone(1.5, 800.0, sample_rate=22050)
    soundfile.write(path, np.stack([left, right], axis=1), 22050)
    code, out, _ = run(capsys, "analyze", "classify", path, "--checkpoint", model_dir)
    assert code == 0
    first, second = out.strip().splitlines()
    assert first.startswith(f"{path}: ") and "%" in first
    assert "windows of 0.14 s every 0.06 s" in second


def test_stream_prints_a_running_estimate_from_a_file(model_dir, capsys, tmp_path):
    path = tmp_path / "live.wav"
    soundfile.write(path, np.concatenate([tone(1.0, 600.0), noise(1.0, seed=3)]), 16000)
    code, out, _ = run(capsys, "analyze", "classify", path, "--checkpoint", model_dir,
                       "--stream", "--speed", "0")
    assert code == 0
    lines = out.strip().splitlines()
    assert len(lines) > 10 and "running:" in lines[0]
    times = [float(line.split()[0]) for line in lines[:-1]]
    assert times == sorted(times)
    code, offline, _ = run(capsys, "analyze", "classify", path, "--checkpoint", model_dir)
    assert lines[-1].split(" (")[0] == offline.splitlines()[0]


def test_stream_reads_raw_pcm_from_stdin(model_dir, capsys, monkeypatch):
    pcm = (tone(1.0, 700.0) * 32767).astype("<i2").tobytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(pcm)))
    code, out, _ = run(capsys, "analyze", "classify", "--stream", "-", "--checkpoint", model_dir,
                       "--json")
    assert code == 0
    updates = [json.loads(line) for line in out.strip().splitlines()]
    assert len(updates) > 5
    assert sum(updates[-1]["composition"].values()) == pytest.approx(1.0, abs=1e-6)
    assert updates[-1]["time_s"] == pytest.approx(1.0, abs=0.1)


def test_bad_audio_is_a_one_line_error(model_dir, capsys, tmp_path, monkeypatch):
    junk = tmp_path / "notes.wav"
    junk.write_text("not audio")
    silent, short = tmp_path / "silent.wav", tmp_path / "short.wav"
    soundfile.write(silent, np.zeros(16000, np.float32), 16000)
    soundfile.write(short, tone(0.05), 16000)
    code, _, err = run(capsys, "analyze", "classify", junk, "--checkpoint", model_dir)
    assert_one_line_error(code, err, "notes.wav: not a readable audio file")
    code, _, err = run(capsys, "analyze", "classify", silent, "--checkpoint", model_dir)
    assert_one_line_error(code, err, "silent.wav: silent")
    code, _, err = run(capsys, "analyze", "classify", short, "--checkpoint", model_dir)
    assert_one_line_error(code, err, "short.wav: too short: 0.05 s, shorter than one analysis "
                                     "window (0.14 s)")
    code, _, err = run(capsys, "analyze", "classify", "--checkpoint", model_dir)
    assert_one_line_error(code, err, "FILE: give an audio file")
    code, _, err = run(capsys, "analyze", "classify", short, "--checkpoint", tmp_path / "none")
    assert_one_line_error(code, err, "no such checkpoint folder or shipped name")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"\x00\x01" * 100)))
    code, _, err = run(capsys, "analyze", "classify", "--stream", "-", "--checkpoint", model_dir)
    assert_one_line_error(code, err, "stdin: too short")


def test_index_then_similar_with_tags(trained, model_dir, capsys, tmp_path):
    data, _ = trained
    library = tmp_path / "library"
    shutil.copytree(data / "audio", library)
    (library / "broken.wav").write_bytes(b"RIFF....")
    index = tmp_path / "library.npz"
    code, out, err = run(capsys, "analyze", "index", library, "--checkpoint", model_dir,
                         "--out", index, "--tags", data / "manifest.csv", "--auto-tag")
    assert code == 0 and "indexed 16 tracks" in out and "skipped 1" in out
    assert "broken.wav" in err
    query = library / "tone" / "tone3.wav"
    code, out, _ = run(capsys, "analyze", "similar", query, "--index", index, "--top-k", 3,
                       "--json", "--include-self")
    results = json.loads(out)["results"]
    assert results[0]["file"] == os.path.join("tone", "tone3.wav")
    assert results[0]["score"] == pytest.approx(1.0, abs=1e-4)
    assert {"tone", "train", "synthetic"} <= set(results[0]["tags"])
    code, out, _ = run(capsys, "analyze", "similar", query, "--index", index, "--top-k", 5,
                       "--tag", "test", "--json")
    files = [r["file"] for r in json.loads(out)["results"]]
    assert len(files) == 4 and all(f.endswith(("6.wav", "7.wav")) for f in files)
    code, out, _ = run(capsys, "analyze", "similar", query, "--index", index, "--top-k", 2)
    assert code == 0 and out.startswith("  1. +") and "tone3.wav" not in out


def test_similar_with_another_checkpoint_is_a_clear_error(trained, model_dir, capsys, tmp_path):
    data, _ = trained
    index = tmp_path / "i.npz"
    assert run(capsys, "analyze", "index", data / "audio" / "tone", "--checkpoint", model_dir,
               "--out", index)[0] == 0
    other = tmp_path / "other"
    AudioClassifier("tiny-cnn", class_names=("tone", "noise")).save(other)
    code, _, err = run(capsys, "analyze", "similar", data / "audio" / "tone" / "tone1.wav",
                       "--index", index, "--checkpoint", other)
    assert_one_line_error(code, err, "index built with checkpoint", "rebuild the index")
    code, _, err = run(capsys, "analyze", "index", tmp_path / "nowhere", "--checkpoint",
                       model_dir, "--out", index)
    assert_one_line_error(code, err, "nowhere: no such folder")


@pytest.mark.skipif(not fluidsynth_available(), reason="FluidSynth not installed")
def test_build_dataset_renders_and_summarises(capsys, tmp_path, make_sequence):
    midi = tmp_path / "midi"
    midi.mkdir()
    for i in range(4):
        notes = [(60 + i + k % 3, 4 * k, 4 * k + 4) for k in range(16)]
        write_midi(make_sequence(notes), midi / f"song{i}.mid")
    code, out, _ = run(capsys, "analyze", "build-dataset", "--midi-dir", f"folk={midi}",
                       "--out", tmp_path / "data", "--pieces-per-class", 2, "--instruments",
                       "organ,electric_guitar", "--clip-s", 3, "--workers", 1)
    assert code == 0, out
    assert "4 clips" in out and "2 classes (organ, electric_guitar)" in out
    assert (tmp_path / "data" / "manifest.csv").is_file()
    code, _, err = run(capsys, "analyze", "build-dataset", "--midi-dir", midi, "--out",
                       tmp_path / "d2", "--instruments", "piano,kazoo")
    assert_one_line_error(code, err, "--instruments: unknown instrument 'kazoo'")
    code, _, err = run(capsys, "analyze", "build-dataset", "--midi-dir", midi, "--out",
                       tmp_path / "d2", "--test-fraction", "1.5")
    assert_one_line_error(code, err, "--test-fraction", "must be in [0, 1)")


def _midi_folder(tmp_path, make_sequence):
    midi = tmp_path / "midi"
    midi.mkdir()
    write_midi(make_sequence([(60 + k % 3, 4 * k, 4 * k + 4) for k in range(16)]),
               midi / "song.mid")
    return midi


def test_build_dataset_without_fluidsynth_says_what_to_install(capsys, tmp_path, monkeypatch,
                                                               make_sequence):
    from gensuite.audio import soundfont

    monkeypatch.setattr(soundfont, "fluidsynth_available", lambda: False)
    code, out, err = run(capsys, "analyze", "build-dataset", "--midi-dir",
                         _midi_folder(tmp_path, make_sequence), "--out", tmp_path / "data")
    assert_one_line_error(code, err, "gensuite analyze: error: ", "needs FluidSynth",
                          soundfont.INSTALL_HINT)
    assert "no clip rendered" not in err and out == ""
    assert not (tmp_path / "data").exists()  # checked before rendering anything


def test_build_dataset_and_render_give_the_same_install_hint(capsys, tmp_path, monkeypatch,
                                                             make_sequence):
    from gensuite.audio import soundfont
    from gensuite.common.errors import SynthUnavailableError

    def missing():
        raise SynthUnavailableError(f"soundfont rendering needs FluidSynth (No module named "
                                    f"'fluidsynth'): {soundfont.INSTALL_HINT}")

    monkeypatch.setattr(soundfont, "import_fluidsynth", missing)
    midi = _midi_folder(tmp_path, make_sequence)
    code, _, render_err = run(capsys, "render", midi / "song.mid", "--out", tmp_path / "x.wav",
                              "--synth", "soundfont")
    assert_one_line_error(code, render_err, soundfont.INSTALL_HINT)
    code, _, build_err = run(capsys, "analyze", "build-dataset", "--midi-dir", midi, "--out",
                             tmp_path / "data")
    assert_one_line_error(code, build_err)
    assert build_err.split(": error: ", 1)[1] == render_err.split(": error: ", 1)[1]


@pytest.mark.parametrize("flag", ["--eval-fraction", "--test-fraction"])
def test_build_dataset_held_out_share_is_eval_fraction_old_name_hidden(capsys, tmp_path, flag):
    code, _, err = run(capsys, "analyze", "build-dataset", "--midi-dir", tmp_path, "--out",
                       tmp_path / "d", flag, "1.5")
    assert_one_line_error(code, err, f"argument {flag}: must be in [0, 1), got 1.5")
    code, out, _ = run(capsys, "analyze", "build-dataset", "--help")
    assert code == 0 and "--eval-fraction F" in out and "--test-fraction" not in out
