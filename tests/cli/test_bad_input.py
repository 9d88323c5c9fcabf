"""Bad input across command groups: one line on stderr naming the file or flag, exit 2.

Each case fails before any model runs (the cheap checks come first), so the
table is fast; the checkpoints named are shipped ones, in case a check moves
after a load.
"""

from __future__ import annotations

import os

import note_seq
import numpy as np
import pytest
import soundfile

from gensuite.common.errors import InputFileError
from gensuite.common.fileio import write_text_atomic
from gensuite.midi.io import write_midi
from tests.cli_run import assert_one_line_error, run


def _melody(n_notes: int) -> note_seq.NoteSequence:
    sequence = note_seq.NoteSequence(ticks_per_quarter=220)
    sequence.tempos.add(time=0.0, qpm=120.0)
    for i in range(n_notes):
        sequence.notes.add(pitch=60 + i % 12, velocity=80, start_time=i * 0.25,
                           end_time=(i + 1) * 0.25, instrument=0, program=0)
    sequence.total_time = n_notes * 0.25
    return sequence


@pytest.fixture
def paths(tmp_path):
    """Placeholders of the table -> real paths: tiny MIDI, WAV, folders, odd files."""
    write_midi(_melody(8), tmp_path / "F.mid")
    write_midi(_melody(32), tmp_path / "L.mid")  # 4 bars: enough for a 2-bar window
    soundfile.write(tmp_path / "X.wav", np.zeros(1600, dtype=np.float32), 16000)
    (tmp_path / "midis").mkdir()
    write_midi(_melody(8), tmp_path / "midis" / "F.mid")
    (tmp_path / "audio").mkdir()
    (tmp_path / "DIR").mkdir()
    (tmp_path / "DIR" / "keep.txt").write_text("already here")
    (tmp_path / "FILE").write_text("already here")
    (tmp_path / "EMPTY").write_bytes(b"")
    (tmp_path / "NOTINDEX.txt").write_text("hello\n")
    # A soundfont header and nothing else: passes the file checks, never renders.
    (tmp_path / "SF.sf2").write_bytes(b"RIFF\x04\x00\x00\x00sfbk")
    # Data folders of two soundfonts and of one: the manifest is all the checks read.
    for name, soundfonts in (("DATA", ("A.sf2", "B.sf2")), ("DATA1", ("A.sf2",))):
        (tmp_path / name).mkdir()
        rows = ["file,label,split,piece,source,soundfont"]
        rows += [f"audio/{label}/{i}.wav,{label},{split},p{i},s,{sf}"
                 for i, (label, split, sf) in enumerate(
                     (label, split, sf) for label in ("a", "b") for split in ("train", "test")
                     for sf in soundfonts)]
        (tmp_path / name / "manifest.csv").write_text("\n".join(rows) + "\n")
    return {name: str(tmp_path / name) for name in
            ("F.mid", "L.mid", "X.wav", "midis", "audio", "DIR", "FILE", "EMPTY",
             "NOTINDEX.txt", "SF.sf2", "DATA", "DATA1", "new")}


CASES = [
    # 1. An output file path that is an existing folder.
    pytest.param(["data", "inspect", "F.mid", "--png", "DIR"],
                 ["DIR: is a folder; --png expects a file path"], id="inspect-png-folder"),
    pytest.param(["data", "ingest", "midis", "--out", "DIR"],
                 ["DIR: is a folder; --out expects a file path"], id="ingest-out-folder"),
    pytest.param(["data", "ingest", "midis", "--out", "new", "--report", "DIR"],
                 ["DIR: is a folder; --report expects a file path"], id="ingest-report-folder"),
    pytest.param(["corpus", "export", "bach-chorales", "--out", "new", "--limit", "1",
                  "--report", "DIR"],
                 ["DIR: is a folder; --report expects a file path"], id="corpus-report-folder"),
    pytest.param(["analyze", "classify", "X.wav", "--checkpoint", "instrument_cnn",
                  "--timeline", "DIR"],
                 ["DIR: is a folder; --timeline expects a file path"],
                 id="classify-timeline-folder"),
    pytest.param(["analyze", "index", "audio", "--checkpoint", "instrument_cnn", "--out", "DIR"],
                 ["DIR: is a folder; --out expects a file path"], id="index-out-folder"),
    # 2. An output folder path that is an existing file.
    pytest.param(["vae", "sample", "--checkpoint", "mel_2bar", "--out", "FILE"],
                 ["FILE: --out must be a folder, but this is a file"], id="vae-sample-out-file"),
    pytest.param(["vae", "interpolate", "L.mid", "L.mid", "--checkpoint", "mel_2bar",
                  "--out", "FILE"],
                 ["FILE: --out must be a folder, but this is a file"],
                 id="vae-interpolate-out-file"),
    pytest.param(["vae", "interpolate", "L.mid", "L.mid", "--mode", "steps", "--checkpoint",
                  "mel_2bar", "--out", "FILE"],
                 ["FILE: --out must be a folder, but this is a file"],
                 id="vae-interpolate-steps-out-file"),
    pytest.param(["data", "nsynth", "--programs", "0", "--pitches", "60", "--velocities", "100",
                  "--out", "FILE"],
                 ["FILE: --out must be a folder, but this is a file"], id="nsynth-out-file"),
    # 2a. Input files: each soundfont of several is checked before anything is written.
    pytest.param(["data", "nsynth", "--soundfont", "SF.sf2", "DIR/missing.sf2",
                  "--programs", "0", "--pitches", "60", "--out", "new"],
                 ["DIR/missing.sf2: no such soundfont file"], id="nsynth-soundfont-missing"),
    pytest.param(["data", "nsynth", "--soundfont", "SF.sf2", "F.mid", "--programs", "0",
                  "--pitches", "60", "--out", "new"],
                 ["F.mid: not a SoundFont 2/3 file (no RIFF 'sfbk' header)"],
                 id="nsynth-soundfont-not-sf2"),
    pytest.param(["data", "nsynth", "--soundfont", "SF.sf2", "DIR", "--programs", "0",
                  "--pitches", "60", "--out", "new"],
                 ["DIR: is a folder, expected a .sf2/.sf3 soundfont"],
                 id="nsynth-soundfont-folder"),
    pytest.param(["data", "nsynth", "--soundfont", "SF.sf2", "SF.sf2", "--programs", "0",
                  "--pitches", "60", "--out", "new"],
                 ["soundfont: must not repeat a file, got '", "SF.sf2' twice"],
                 id="nsynth-soundfont-repeated"),
    pytest.param(["data", "nsynth", "--soundfont", "--programs", "0", "--out", "new"],
                 ["argument --soundfont: expected at least one argument"],
                 id="nsynth-soundfont-none"),
    pytest.param(["analyze", "build-dataset", "--midi-dir", "midis", "--out", "new",
                  "--soundfont", "SF.sf2", "DIR/missing.sf2"],
                 ["DIR/missing.sf2: no such soundfont file"], id="build-dataset-soundfont-missing"),
    pytest.param(["analyze", "build-dataset", "--midi-dir", "midis", "--out", "new",
                  "--soundfont", "SF.sf2", "SF.sf2"],
                 ["--soundfont: must not repeat a file, got '", "SF.sf2' twice"],
                 id="build-dataset-soundfont-repeated"),
    pytest.param(["analyze", "build-dataset", "--midi-dir", "midis", "--out", "new",
                  "--soundfont", "SF.sf2", "DIR"],
                 ["DIR: is a folder, expected a .sf2/.sf3 soundfont"],
                 id="build-dataset-soundfont-folder"),
    pytest.param(["analyze", "build-dataset", "--midi-dir", "midis", "--out", "new",
                  "--soundfont"],
                 ["argument --soundfont: expected at least one argument"],
                 id="build-dataset-soundfont-none"),
    # 2aa. Leave one soundfont out: a name the manifest does not record, or its only one.
    pytest.param(["analyze", "train", "--config", "tiny-cnn", "--data", "DATA", "--run-dir",
                  "new", "--hold-out-soundfont", "TimGM6mb.sf2"],
                 ["--hold-out-soundfont: no clip of ", "DATA was rendered with 'TimGM6mb.sf2'; "
                  "its soundfonts: A.sf2, B.sf2"], id="train-hold-out-unknown-soundfont"),
    pytest.param(["analyze", "train", "--config", "tiny-cnn", "--data", "DATA1", "--run-dir",
                  "new", "--hold-out-soundfont", "A.sf2"],
                 ["--hold-out-soundfont: every clip of ", "DATA1 was rendered with A.sf2: "
                  "nothing is left to train on"], id="train-hold-out-only-soundfont"),
    pytest.param(["analyze", "train", "--config", "tiny-cnn", "--data", "midis", "--run-dir",
                  "new", "--hold-out-soundfont", "A.sf2"],
                 ["midis: not a data folder: no manifest.csv"],
                 id="train-hold-out-not-a-data-folder"),
    # 2b. An output that cannot be created: found before any work.
    pytest.param(["vae", "train", "--config", "tiny-mel_2bar", "--midi-dir", "midis",
                  "--run-dir", "FILE/run"],
                 ["FILE/run: --run-dir cannot be created: ", "FILE is a file, not a folder"],
                 id="vae-train-run-dir-under-file"),
    pytest.param(["vae", "train", "--config", "tiny-mel_2bar", "--midi-dir", "midis",
                  "--run-dir", "new", "--export", "FILE/export"],
                 ["FILE/export: --export cannot be created: ", "FILE is a file, not a folder"],
                 id="vae-train-export-under-file"),
    pytest.param(["rnn", "train", "--config", "tiny", "--midi-dir", "midis",
                  "--run-dir", "FILE/run"],
                 ["FILE/run: --run-dir cannot be created: "], id="rnn-train-run-dir-under-file"),
    pytest.param(["render", "F.mid", "--out", "FILE/x.wav"],
                 ["FILE/x.wav: --out cannot be created: "], id="render-out-under-file"),
    # 3. Numbers: nan, inf and out-of-range values, refused by the parser.
    pytest.param(["render", "F.mid", "--out", "new", "--checkpoint", "gansynth_gm",
                  "--secs-per-instrument", "inf"],
                 ["argument --secs-per-instrument: must be a finite number, got 'inf'"],
                 id="render-secs-inf"),
    pytest.param(["render", "F.mid", "--out", "new", "--checkpoint", "gansynth_gm",
                  "--secs-per-instrument", "nan"],
                 ["argument --secs-per-instrument: must be a finite number, got 'nan'"],
                 id="render-secs-nan"),
    pytest.param(["render", "F.mid", "--out", "new", "--checkpoint", "gansynth_gm",
                  "--timbre", "0=-5"],
                 ["--timbre: a seed must be in [0, 2**63), got '0=-5'"],
                 id="render-timbre-negative-seed"),
    pytest.param(["render", "F.mid", "--out", "new", "--checkpoint", "gansynth_gm",
                  "--timbre=-1=5"],
                 ["--timbre: a track must be >= 0, got '-1=5'"], id="render-timbre-negative-track"),
    pytest.param(["rnn", "generate", "--checkpoint", "attention_rnn", "--out", "new",
                  "--qpm", "inf"],
                 ["argument --qpm: must be a finite number, got 'inf'"], id="qpm-inf"),
    pytest.param(["rnn", "generate", "--checkpoint", "attention_rnn", "--out", "new",
                  "--qpm", "1e-9"],
                 ["argument --qpm: must be in [4, 1000], got 1e-09"], id="qpm-tiny"),
    pytest.param(["rnn", "generate", "--checkpoint", "attention_rnn", "--out", "new",
                  "--qpm", "5000"],
                 ["argument --qpm: must be in [4, 1000], got 5000"], id="qpm-huge"),
    pytest.param(["rnn", "generate", "--checkpoint", "attention_rnn", "--out", "new",
                  "--temperature", "nan"],
                 ["argument --temperature: must be a finite number, got 'nan'"],
                 id="temperature-nan"),
    pytest.param(["analyze", "classify", "X.wav", "--checkpoint", "instrument_cnn", "--stream",
                  "--speed", "-1"],
                 ["argument --speed: must be >= 0, got -1"], id="speed-negative"),
    pytest.param(["analyze", "classify", "X.wav", "--checkpoint", "instrument_cnn", "--stream",
                  "--speed", "nan"],
                 ["argument --speed: must be a finite number, got 'nan'"], id="speed-nan"),
    pytest.param(["vae", "train", "--config", "tiny", "--midi-dir", "midis", "--run-dir", "new",
                  "--eval-fraction", "nan"],
                 ["argument --eval-fraction: must be a finite number, got 'nan'"],
                 id="fraction-nan"),
    # 4. Counts that would not fit: refused up front, saying what they would need.
    pytest.param(["rnn", "generate", "--checkpoint", "attention_rnn", "--out", "new",
                  "--beam-size", "100000", "--branch-factor", "100"],
                 ["--beam-size x --branch-factor: at most 4096 melodies in flight, got "
                  "100000 x 100 = 10,000,000 (about 1,500.0 GB of memory)"], id="beam-huge"),
    pytest.param(["rnn", "generate", "--checkpoint", "attention_rnn", "--out", "new",
                  "--length-steps", "1000000000"],
                 ["--length-steps: at most 8192 (512 bars of sixteenths), got 1,000,000,000"],
                 id="rnn-length-huge"),
    pytest.param(["vae", "interpolate", "L.mid", "L.mid", "--mode", "steps", "--checkpoint",
                  "mel_2bar", "--out", "new", "--num-outputs", "100000"],
                 ["--num-outputs: must be in [2, 256] for interpolate", "got 100,000"],
                 id="vae-interpolate-steps-huge"),
    pytest.param(["gansynth", "interpolate", "--checkpoint", "gansynth_gm", "--pitch", "60",
                  "--out", "new", "--num-outputs", "100000"],
                 ["--num-outputs: at most 256 notes for interpolate, got 100,000 (each is a "
                  "4-s note: morph.wav alone would hold 25.6 GB of audio)"],
                 id="gansynth-interpolate-huge"),
    # 5. --timbre naming a track the file does not have.
    pytest.param(["render", "F.mid", "--out", "new", "--checkpoint", "gansynth_gm",
                  "--timbre", "99=1"],
                 ["F.mid: --timbre names track 99", "its tracks are: 0"],
                 id="render-timbre-missing-track"),
    # 6. --index that is not an index.
    pytest.param(["analyze", "similar", "X.wav", "--index", "EMPTY"],
                 ["EMPTY: is empty, not a gensuite embedding index"], id="similar-empty-index"),
    pytest.param(["analyze", "similar", "X.wav", "--index", "NOTINDEX.txt"],
                 ["NOTINDEX.txt: not a gensuite embedding index (not an .npz archive"],
                 id="similar-text-index"),
]


@pytest.mark.parametrize(("argv", "fragments"), CASES)
def test_bad_input_is_one_line_error(capsys, tmp_path, paths, argv, fragments):
    before = sorted(os.listdir(tmp_path))
    code, _, err = run(capsys, *(_resolve(a, paths) for a in argv))
    assert_one_line_error(code, err, *(_with_paths(f, paths) for f in fragments))
    assert "Traceback" not in err
    # Nothing written, nothing lost: no new entry (temporary files included), and
    # the folder and file given as outputs keep their contents.
    assert sorted(os.listdir(tmp_path)) == before
    assert os.listdir(paths["DIR"]) == ["keep.txt"]
    with open(paths["FILE"]) as f:
        assert f.read() == "already here"


def _resolve(arg: str, paths: dict) -> str:
    # A placeholder alone or as the first part of a path ("FILE/run").
    head, sep, rest = arg.partition("/")
    return paths[head] + sep + rest if head in paths else arg


def _with_paths(fragment: str, paths: dict) -> str:
    # The error names the path as given; the table writes placeholders.
    for name, path in paths.items():
        if fragment.startswith((f"{name}:", f"{name}/")):
            return path + fragment[len(name):]
    return fragment


def test_atomic_write_over_a_folder_is_an_input_file_error(tmp_path):
    """The root check: every atomic writer refuses a folder before writing anything."""
    (tmp_path / "out").mkdir()
    with pytest.raises(InputFileError, match="is a folder; expected a file path"):
        write_text_atomic(tmp_path / "out", "text")
    assert sorted(os.listdir(tmp_path)) == ["out"]


@pytest.mark.slow
@pytest.mark.parametrize(("argv", "batch_constant", "prefix"), [
    (["vae", "sample", "--checkpoint", "mel_2bar"], "gensuite.cli.vae.SAMPLE_BATCH", "sample"),
    (["rnn", "generate", "--checkpoint", "attention_rnn", "--length-steps", "40"],
     "gensuite.cli.rnn.MAX_MELODIES_IN_FLIGHT", "generate"),
])
def test_large_counts_run_in_batches_and_keep_the_first_batch(
        capsys, tmp_path, monkeypatch, argv, batch_constant, prefix):
    """Outputs past one batch come from further batches; the first batch is what one call gives."""
    code, _, _ = run(capsys, *argv, "--num-outputs", "2", "--seed", "3",
                     "--out", tmp_path / "one")
    assert code == 0
    monkeypatch.setattr(batch_constant, 2)
    code, _, _ = run(capsys, *argv, "--num-outputs", "5", "--seed", "3",
                     "--out", tmp_path / "batched")
    assert code == 0
    names = sorted(os.listdir(tmp_path / "batched"))
    assert names == [f"{prefix}_{i:03d}.mid" for i in range(5)]
    for name in sorted(os.listdir(tmp_path / "one")):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "batched" / name).read_bytes()
    # Later batches are not copies of the first.
    assert (tmp_path / "batched" / names[2]).read_bytes() != (
        tmp_path / "batched" / names[0]).read_bytes()
