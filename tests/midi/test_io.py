"""MIDI <-> NoteSequence, validation of bad files, and folder ingest."""

import hashlib
import os

import note_seq
import pytest

from gensuite.common.errors import InputFileError, InvalidMidiError
from gensuite.common.fileio import atomic_path
from gensuite.midi import io as midi_io

SCALE = [60, 62, 64, 65, 67, 69, 71, 72]


def make_scale(pitches=SCALE, *, program=0, qpm=120.0):
    """Eighth-note scale at ``qpm``: note i starts at i * 0.25 s (at 120 qpm)."""
    sequence = note_seq.NoteSequence(ticks_per_quarter=220)
    sequence.tempos.add(qpm=qpm)
    step = 30.0 / qpm
    for i, pitch in enumerate(pitches):
        sequence.notes.add(pitch=pitch, velocity=90, program=program,
                           start_time=i * step, end_time=(i + 1) * step)
    sequence.total_time = len(pitches) * step
    return sequence


def write_scale(path, **kwargs):
    midi_io.write_midi(make_scale(**kwargs), path)
    return path


def test_write_then_read_keeps_notes(tmp_path):
    path = write_scale(tmp_path / "scale.mid", program=40)
    sequence = midi_io.read_midi(path)
    assert [n.pitch for n in sequence.notes] == SCALE
    assert [n.program for n in sequence.notes] == [40] * len(SCALE)
    assert [round(n.start_time, 3) for n in sequence.notes] == [i * 0.25 for i in range(8)]
    assert sequence.tempos[0].qpm == pytest.approx(120.0)
    assert sequence.filename == "scale.mid"


@pytest.mark.parametrize("content, rule", [
    (b"", "empty file (0 bytes)"),
    (b"hello, I am text", "not a MIDI file (no 'MThd' header)"),
    (b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x00\xdc", "truncated MIDI (data ends inside a track)"),
])
def test_bad_bytes_are_rejected_with_the_rule(tmp_path, content, rule):
    path = tmp_path / "bad.mid"
    path.write_bytes(content)
    with pytest.raises(InvalidMidiError) as info:
        midi_io.read_midi(path)
    assert str(info.value) == f"{path}: {rule}"


def test_truncated_real_file_is_rejected(tmp_path):
    data = write_scale(tmp_path / "scale.mid").read_bytes()
    cut = tmp_path / "cut.mid"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(InvalidMidiError, match="truncated MIDI"):
        midi_io.read_midi(cut)


def test_file_without_notes_is_rejected(tmp_path):
    sequence = note_seq.NoteSequence(ticks_per_quarter=220)
    sequence.tempos.add(qpm=100)
    path = tmp_path / "silent.mid"
    note_seq.sequence_proto_to_midi_file(sequence, str(path))
    with pytest.raises(InvalidMidiError, match="contains no notes"):
        midi_io.read_midi(path)


def test_absurd_note_count_is_rejected(tmp_path):
    path = write_scale(tmp_path / "scale.mid")
    with pytest.raises(InvalidMidiError, match="absurd: 8 notes, over the limit of 5"):
        midi_io.read_midi(path, max_notes=5)


def test_reading_midi_leaves_the_note_seq_package_unimported_until_asked(tmp_path):
    import subprocess
    import sys

    path = write_scale(tmp_path / "a.mid")
    script = (
        "import sys\n"
        "from gensuite.midi.io import read_midi\n"
        f"sequence = read_midi({str(path)!r})\n"
        "print('result:', 'note_seq' in sys.modules, 'bokeh' in sys.modules)\n"
        "import note_seq\n"  # later, the package uses the message already loaded
        "print('result:', type(sequence) is note_seq.NoteSequence, len(sequence.notes))\n")
    stdout = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=True).stdout
    # note_seq's optional audio imports may print their own lines (pyfluidsynth does).
    results = [line.split()[1:] for line in stdout.splitlines() if line.startswith("result:")]
    assert results == [["False", "False"], ["True", str(len(SCALE))]]


def test_missing_path_and_folder(tmp_path):
    with pytest.raises(InputFileError, match="nope.mid: no such file"):
        midi_io.read_midi(tmp_path / "nope.mid")
    with pytest.raises(InputFileError, match="is a folder, expected a MIDI file"):
        midi_io.read_midi(tmp_path)


def test_find_midi_files_is_recursive_case_insensitive_and_sorted(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / ".hidden").mkdir()
    for name in ["b.mid", "a.MIDI", "sub/c.Mid", "notes.txt", ".hidden/d.mid", ".e.mid"]:
        (tmp_path / name).write_bytes(b"x")
    found = [os.path.relpath(p, tmp_path) for p in midi_io.find_midi_files(tmp_path)]
    assert found == ["a.MIDI", "b.mid", os.path.join("sub", "c.Mid")]


def test_find_midi_files_needs_a_folder(tmp_path):
    with pytest.raises(InputFileError, match="no such folder"):
        midi_io.find_midi_files(tmp_path / "missing")
    (tmp_path / "f.mid").write_bytes(b"x")
    with pytest.raises(InputFileError, match="is not a folder"):
        midi_io.find_midi_files(tmp_path / "f.mid")


def test_note_sequence_id_matches_magenta_format():
    digest = hashlib.sha1(b"sub/a.mid").hexdigest()
    assert midi_io.note_sequence_id("sub/a.mid", "folk") == f"/id/midi/folk/{digest}"


def make_folder(root, n_good):
    """``n_good`` scales (transposed so each differs) plus three bad files."""
    (root / "deep").mkdir(parents=True)
    for i in range(n_good):
        folder = root / "deep" if i % 2 else root
        write_scale(folder / f"song{i:02d}.mid", pitches=[p + i for p in SCALE])
    (root / "empty.mid").write_bytes(b"")
    (root / "text.MIDI").write_bytes(b"not midi at all")
    good = (root / "song00.mid").read_bytes()
    (root / "deep" / "cut.mid").write_bytes(good[:40])
    return root


@pytest.mark.parametrize("num_workers", [1, 2])
def test_ingest_reads_good_files_and_reports_bad_ones(tmp_path, num_workers):
    midi_dir = make_folder(tmp_path / "folk", n_good=10)
    out, report_path = tmp_path / "notes.tfrecord", tmp_path / "report.json"
    report = midi_io.ingest_midi_dir(
        midi_dir, out, report_path=report_path, num_workers=num_workers)

    assert (report.n_files, report.n_read, report.n_skipped) == (13, 10, 3)
    assert report.n_notes == 80
    reasons = {s["file"]: s["reason"] for s in report.skipped}
    assert reasons == {
        "empty.mid": "empty file (0 bytes)",
        "text.MIDI": "not a MIDI file (no 'MThd' header)",
        os.path.join("deep", "cut.mid"): "truncated MIDI (data ends inside a track)",
    }
    assert '"n_skipped": 3' in report_path.read_text()

    sequences = list(midi_io.read_tfrecord(out))
    assert len(sequences) == 10
    by_name = {s.filename: s for s in sequences}
    first = by_name[os.path.join("deep", "song01.mid")]
    assert first.collection_name == "folk"
    assert first.id == midi_io.note_sequence_id(first.filename, "folk")
    assert [n.pitch for n in first.notes] == [p + 1 for p in SCALE]
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_ingest_parallel_and_serial_write_the_same_records(tmp_path):
    midi_dir = make_folder(tmp_path / "folk", n_good=12)
    serial, parallel = tmp_path / "serial.tfrecord", tmp_path / "parallel.tfrecord"
    midi_io.ingest_midi_dir(midi_dir, serial, num_workers=1)
    midi_io.ingest_midi_dir(midi_dir, parallel, num_workers=2)
    assert serial.read_bytes() == parallel.read_bytes()


def test_ingest_of_folder_without_midi_is_an_error(tmp_path):
    (tmp_path / "readme.txt").write_text("hi")
    with pytest.raises(InputFileError, match="holds no .mid or .midi files"):
        midi_io.ingest_midi_dir(tmp_path, tmp_path / "out.tfrecord")
    assert not (tmp_path / "out.tfrecord").exists()


def test_corrupt_tfrecord_is_reported(tmp_path):
    midi_dir = make_folder(tmp_path / "folk", n_good=2)
    out = tmp_path / "notes.tfrecord"
    midi_io.ingest_midi_dir(midi_dir, out, num_workers=1)
    data = bytearray(out.read_bytes())
    data[20] ^= 0xFF
    out.write_bytes(bytes(data))
    with pytest.raises(InputFileError, match="corrupt TFRecord"):
        list(midi_io.read_tfrecord(out))


def test_atomic_path_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            with open(tmp, "wb") as f:
                f.write(b"half")
            raise RuntimeError("interrupted")
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["out.bin"]


def test_atomic_path_gives_output_the_usual_permissions(tmp_path):
    old_mask = os.umask(0o022)
    try:
        with atomic_path(tmp_path / "out.bin", suffix=".weights.h5") as tmp:
            assert tmp.endswith(".weights.h5")
            with open(tmp, "wb") as f:
                f.write(b"x")
    finally:
        os.umask(old_mask)
    assert os.stat(tmp_path / "out.bin").st_mode & 0o777 == 0o644
