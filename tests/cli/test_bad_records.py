"""TFRecords with sound framing but the wrong contents: one line naming the file, exit 2.

Each command that reads a TFRecord is given a file of the other kind (NSynth
examples where NoteSequences belong and the reverse), random payloads with
valid checksums, payloads protobuf parses leniently, an empty file and broken
framing. The checks sit in the readers (``gensuite.common.tfrecord.read_messages``
and ``gensuite.audio.nsynth.read_nsynth``), so every case fails while the
data is read, before any model runs (``rnn evaluate`` and ``gansynth
evaluate`` load their checkpoint first, to know what to read). Commands run in tmp_path
with relative paths, so the messages name the files exactly as given.
"""

from __future__ import annotations

import os

import note_seq
import numpy as np
import pytest

from gensuite.audio.nsynth import rendered_note, write_nsynth
from gensuite.common.tfrecord import write_records
from gensuite.midi.io import ingest_midi_dir, write_midi
from tests.cli_run import assert_one_line_error, run

NSYNTH = os.path.join("nsynth", "nsynth-00000-of-00001.tfrecord")
LOW_NOTES = os.path.join("low", "nsynth-00000-of-00001.tfrecord")
CORRUPT = "corrupt TFRecord (checksum mismatch or truncated)"


def _melody() -> note_seq.NoteSequence:
    sequence = note_seq.NoteSequence(ticks_per_quarter=220)
    sequence.tempos.add(time=0.0, qpm=120.0)
    for i in range(32):
        sequence.notes.add(pitch=60 + i % 12, velocity=80, start_time=i * 0.25,
                           end_time=(i + 1) * 0.25, instrument=0, program=0)
    sequence.total_time = 8.0
    return sequence


def _note(pitch: int):
    audio = np.sin(np.arange(16000, dtype=np.float32) * 0.05) * 0.5
    return rendered_note(program=0, family=4, pitch=pitch, velocity=100, audio=audio)


def _write(path, records) -> None:
    with open(path, "wb") as f:
        write_records(f, records)


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    """tmp_path, made the working folder, holding one TFRecord of each kind below."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "midis").mkdir()
    write_midi(_melody(), tmp_path / "midis" / "a.mid")
    ingest_midi_dir(tmp_path / "midis", tmp_path / "NOTES.tfrecord", num_workers=1)
    write_nsynth([_note(60)], tmp_path / "nsynth")
    write_nsynth([_note(10)], tmp_path / "low")  # below every config's pitch range
    rng = np.random.default_rng(0)
    _write(tmp_path / "RANDOM.tfrecord", [rng.bytes(100) for _ in range(3)])
    # Field 1000 (varint 1): a valid protobuf of no field either message type has.
    _write(tmp_path / "LENIENT.tfrecord", [b"\xc0\x3e\x01"])
    _write(tmp_path / "BLANK.tfrecord", [b""])
    (tmp_path / "EMPTY.tfrecord").write_bytes(b"")
    (tmp_path / "GARBAGE.tfrecord").write_bytes(rng.bytes(50))
    (tmp_path / "TRUNCATED.tfrecord").write_bytes(
        (tmp_path / "NOTES.tfrecord").read_bytes()[:-7])
    return tmp_path


def _not_a_note_sequence(path: str, detail: str) -> str:
    return f"{path}: record 0 is not a NoteSequence ({detail})"


def _not_nsynth(path: str, detail: str) -> str:
    return f"{path}: records are not NSynth examples ({detail})"


NOTE_SEQUENCE_FILES = [
    ("NSYNTH", _not_a_note_sequence(NSYNTH, "the bytes do not parse as one")),
    ("RANDOM", _not_a_note_sequence("RANDOM.tfrecord", "the bytes do not parse as one")),
    ("LENIENT", _not_a_note_sequence("LENIENT.tfrecord", "3 of its 3 bytes are unknown fields")),
    ("EMPTY", "EMPTY.tfrecord: is empty, not a NoteSequence TFRecord"),
    ("GARBAGE", f"GARBAGE.tfrecord: {CORRUPT}"),
    ("TRUNCATED", f"TRUNCATED.tfrecord: {CORRUPT}"),
]
NSYNTH_FILES = [
    ("NOTES", _not_nsynth("NOTES.tfrecord",
                          "record 0 is not a tf.train.Example: the bytes do not parse as one")),
    ("RANDOM", _not_nsynth("RANDOM.tfrecord",
                           "record 0 is not a tf.train.Example: the bytes do not parse as one")),
    ("LENIENT", _not_nsynth("LENIENT.tfrecord", "record 0 is not a tf.train.Example: "
                                                "3 of its 3 bytes are unknown fields")),
    ("BLANK", _not_nsynth("BLANK.tfrecord", "record 0 has no 'pitch' feature")),
    ("EMPTY", "EMPTY.tfrecord: is empty, not an NSynth example TFRecord"),
    ("GARBAGE", f"GARBAGE.tfrecord: {CORRUPT}"),
    ("TRUNCATED", f"TRUNCATED.tfrecord: {CORRUPT}"),
    ("LOW", f"{LOW_NOTES}: no note passes the filters (pitches 36-84), of 1 read"),
]


def _only(files, *names):
    return [(name, message) for name, message in files if name in names]


# Every file through one command per reader; the other commands get the wrong
# kind, random bytes, a lenient parse and an empty file, as the rest would only
# repeat what the reader already showed.
NOTE_SEQUENCE_SHORT = _only(NOTE_SEQUENCE_FILES, "NSYNTH", "RANDOM", "LENIENT", "EMPTY")
COMMANDS = {
    "vae-evaluate": (["vae", "evaluate", "--checkpoint", "mel_2bar", "--examples"],
                     NOTE_SEQUENCE_FILES),
    "vae-train": (["vae", "train", "--config", "tiny-mel_2bar", "--run-dir", "RUN",
                   "--examples"], NOTE_SEQUENCE_SHORT),
    "rnn-evaluate": (["rnn", "evaluate", "--checkpoint", "attention_rnn", "--examples"],
                     NOTE_SEQUENCE_SHORT),
    "rnn-train": (["rnn", "train", "--config", "tiny-basic_rnn", "--run-dir", "RUN",
                   "--examples"], NOTE_SEQUENCE_SHORT),
    "gansynth-evaluate": (["gansynth", "evaluate", "--checkpoint", "gansynth_gm",
                           "--num-notes", "1", "--data"], NSYNTH_FILES),
    "gansynth-train": (["gansynth", "train", "--config", "tiny-gansynth", "--run-dir", "RUN",
                        "--data"], _only(NSYNTH_FILES, "NOTES", "RANDOM", "LENIENT", "EMPTY")),
}
PATHS = {"NSYNTH": NSYNTH, "LOW": LOW_NOTES}

CASES = [pytest.param([*argv, PATHS.get(name, f"{name}.tfrecord")], message,
                      id=f"{command}-{name.lower()}")
         for command, (argv, files) in COMMANDS.items()
         for name, message in files]


@pytest.mark.parametrize(("argv", "message"), CASES)
def test_wrong_records_are_one_line_error(capsys, in_tmp, argv, message):
    before = sorted(os.listdir(in_tmp))
    code, _, err = run(capsys, *argv)
    assert_one_line_error(code, err, message)
    assert "Traceback" not in err
    # Nothing written: no run folder, no temporary file.
    assert sorted(os.listdir(in_tmp)) == before
