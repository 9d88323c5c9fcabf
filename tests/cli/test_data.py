"""``gensuite data ingest`` / ``inspect`` and the sequence summaries behind them."""

from __future__ import annotations

import hashlib
import json
import os

import note_seq
import pytest

from gensuite.cli import data as data_cli
from gensuite.cli import main as cli_main
from gensuite.midi.io import IngestReport, read_midi, read_tfrecord, write_midi
from gensuite.midi.summary import format_summary, summarize_sequence

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def run_cli(monkeypatch):
    """Run ``gensuite`` with only the data group registered.

    Other groups are written by other people and may be half-built; these
    tests are about ``data`` alone.
    """
    monkeypatch.setattr(cli_main, "COMMAND_MODULES", ("data",))
    return cli_main.main


def build_song() -> note_seq.NoteSequence:
    """Two named pitched tracks and a drum track, 3/4, D minor, 120 -> 60 qpm at 3 s.

    Every time falls on a whole MIDI tick, so a MIDI round trip is exact.
    """
    seq = note_seq.NoteSequence(ticks_per_quarter=220)
    seq.tempos.add(time=0.0, qpm=120.0)
    seq.tempos.add(time=3.0, qpm=60.0)
    seq.time_signatures.add(time=0.0, numerator=3, denominator=4)
    seq.key_signatures.add(time=0.0, key=2, mode=note_seq.NoteSequence.KeySignature.MINOR)
    seq.instrument_infos.add(instrument=0, name="Melody")
    seq.instrument_infos.add(instrument=1, name="Bass")
    for i, pitch in enumerate([60, 64, 67, 72]):
        seq.notes.add(instrument=0, program=0, pitch=pitch, velocity=80,
                      start_time=i * 1.0, end_time=i * 1.0 + 0.5)
    for i, pitch in enumerate([36, 43]):
        seq.notes.add(instrument=1, program=33, pitch=pitch, velocity=80,
                      start_time=i * 3.0, end_time=i * 3.0 + 3.0)
    for i in range(4):
        seq.notes.add(instrument=9, program=0, is_drum=True, pitch=(36, 42)[i % 2],
                      velocity=100, start_time=i * 1.5, end_time=i * 1.5 + 0.25)
    seq.total_time = 6.0
    return seq


@pytest.fixture
def song_path(tmp_path):
    path = tmp_path / "song.mid"
    write_midi(build_song(), path)
    return path


EXPECTED_SONG_SUMMARY = {
    "filename": "song.mid",
    "duration_seconds": 6.0,
    "n_notes": 10,
    "n_pitched_notes": 6,
    "n_drum_notes": 4,
    "pitch_min": 36,
    "pitch_max": 72,
    "n_tracks": 3,
    "tracks": [
        {"instrument": 0, "name": "Melody", "program": 0,
         "program_name": "Acoustic Grand Piano", "is_drum": False, "n_notes": 4,
         "pitch_min": 60, "pitch_max": 72, "start_seconds": 0.0, "end_seconds": 3.5},
        {"instrument": 1, "name": "Bass", "program": 33,
         "program_name": "Electric Bass (finger)", "is_drum": False, "n_notes": 2,
         "pitch_min": 36, "pitch_max": 43, "start_seconds": 0.0, "end_seconds": 6.0},
        # note_seq's MIDI writer names the drum track "Drums" and MIDI renumbers
        # instruments in track order.
        {"instrument": 2, "name": "Drums", "program": 0, "program_name": "Drums",
         "is_drum": True, "n_notes": 4, "pitch_min": 36, "pitch_max": 42,
         "start_seconds": 0.0, "end_seconds": 4.75},
    ],
    "tempos": [{"time_seconds": 0.0, "qpm": 120.0}, {"time_seconds": 3.0, "qpm": 60.0}],
    "time_signatures": [{"time_seconds": 0.0, "numerator": 3, "denominator": 4}],
    "key_signatures": [{"time_seconds": 0.0, "key": "D", "mode": "minor"}],
    "ticks_per_quarter": 220,
    "steps_per_quarter": None,
    "n_quantized_steps": None,
}


# --- summaries ----------------------------------------------------------------

def test_summarize_sequence_of_midi_file_gives_exact_fields(song_path):
    summary = summarize_sequence(read_midi(song_path))
    assert summary == EXPECTED_SONG_SUMMARY
    assert json.loads(json.dumps(summary)) == summary


def test_summarize_sequence_without_notes_or_events():
    summary = summarize_sequence(note_seq.NoteSequence())
    assert summary["n_notes"] == 0 and summary["n_tracks"] == 0 and summary["tracks"] == []
    assert summary["pitch_min"] is None and summary["pitch_max"] is None
    assert summary["tempos"] == [] and summary["key_signatures"] == []
    assert "pitch none" in format_summary(summary)


def test_summarize_sequence_reports_quantization(make_sequence):
    seq = make_sequence([(60, 0, 4), (62, 4, 8)])
    quantized = note_seq.quantize_note_sequence(seq, steps_per_quarter=4)
    summary = summarize_sequence(quantized)
    assert summary["steps_per_quarter"] == 4
    assert summary["n_quantized_steps"] == 8
    assert "quantized: 4 steps per quarter, 8 steps" in format_summary(summary)


def test_summarize_sequence_drum_only_has_no_pitch_range(make_sequence):
    seq = make_sequence([(36, 0, 1), (38, 2, 3)], is_drum=True, instrument=9)
    summary = summarize_sequence(seq)
    assert (summary["pitch_min"], summary["pitch_max"]) == (None, None)
    assert summary["n_drum_notes"] == 2
    assert summary["tracks"][0]["pitch_min"] == 36


def test_format_summary_lists_tracks_and_events():
    text = format_summary(EXPECTED_SONG_SUMMARY)
    lines = text.splitlines()
    assert lines[0] == "song.mid: 6.00 s, 3 tracks, 10 notes (4 drum), pitch 36-72 (C2-C5)"
    assert lines[1] == "tracks:"
    assert lines[2].split() == ["inst", "name", "program", "drum", "notes", "pitch", "seconds"]
    assert lines[3].split() == ["0", "Melody", "0", "Acoustic", "Grand", "Piano", "no", "4",
                                "60-72", "(C4-C5)", "0.00-3.50"]
    assert lines[5].split() == ["2", "Drums", "0", "Drums", "yes", "4", "36-42", "0.00-4.75"]
    assert "tempos: 120 qpm at 0.00 s, 60 qpm at 3.00 s" in lines
    assert "time signatures: 3/4 at 0.00 s" in lines
    assert "key signatures: D minor at 0.00 s" in lines


# --- inspect ------------------------------------------------------------------

def test_inspect_prints_summary_text(run_cli, song_path, capsys):
    assert run_cli(["data", "inspect", str(song_path)]) == 0
    out = capsys.readouterr().out
    assert out == format_summary(EXPECTED_SONG_SUMMARY) + "\n"


def test_inspect_json_prints_one_object(run_cli, song_path, capsys):
    assert run_cli(["data", "inspect", str(song_path), "--json"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert json.loads(out) == EXPECTED_SONG_SUMMARY


def test_inspect_png_writes_a_png(run_cli, song_path, tmp_path, capsys):
    png = tmp_path / "out" / "roll.png"
    assert run_cli(["data", "inspect", str(song_path), "--png", str(png)]) == 0
    data = png.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 10_000
    assert os.listdir(png.parent) == ["roll.png"]  # no temporary left behind


@pytest.mark.parametrize("content, rule", [
    (b"hello, not music\n", "not a MIDI file (no 'MThd' header)"),
    (b"", "empty file (0 bytes)"),
])
def test_inspect_bad_file_exits_2_without_png(run_cli, tmp_path, capsys, content, rule):
    bad = tmp_path / "bad.mid"
    bad.write_bytes(content)
    png = tmp_path / "roll.png"
    assert run_cli(["data", "inspect", str(bad), "--png", str(png)]) == 2
    err = capsys.readouterr().err
    assert err == f"gensuite data: error: {bad}: {rule}\n"
    assert sorted(os.listdir(tmp_path)) == ["bad.mid"]


def test_inspect_missing_file_exits_2(run_cli, tmp_path, capsys):
    missing = tmp_path / "nope.mid"
    assert run_cli(["data", "inspect", str(missing)]) == 2
    assert capsys.readouterr().err == f"gensuite data: error: {missing}: no such file\n"


def test_data_group_without_subcommand_is_a_usage_error(run_cli, capsys):
    with pytest.raises(SystemExit) as exc:
        run_cli(["data"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "required: SUBCOMMAND" in err


def test_data_is_registered_in_main():
    assert "data" in cli_main.COMMAND_MODULES


# --- ingest -------------------------------------------------------------------

@pytest.fixture
def midi_dir(tmp_path):
    """Three usable files (one as sub/UPPER.MIDI) and three unusable ones."""
    root = tmp_path / "mycollection"
    (root / "sub").mkdir(parents=True)
    song = build_song()
    write_midi(song, root / "a.mid")
    write_midi(song, root / "b.mid")
    write_midi(song, root / "sub" / "UPPER.MIDI")
    good = (root / "a.mid").read_bytes()
    (root / "broken.mid").write_bytes(good[: len(good) // 2])
    (root / "empty.mid").write_bytes(b"")
    (root / "x.mid").write_text("this is text\n")
    (root / "notes.txt").write_text("not a MIDI name, not counted\n")
    return root


def test_ingest_skips_bad_files_and_reports_them(run_cli, midi_dir, tmp_path, capsys):
    out = tmp_path / "notes.tfrecord"
    report_path = tmp_path / "report.json"
    rc = run_cli(["data", "ingest", str(midi_dir), "--out", str(out),
                  "--report", str(report_path), "--workers", "1"])
    assert rc == 0
    captured = capsys.readouterr()
    assert captured.out.startswith(
        f"read 3 of 6 files (3 skipped, see {report_path}) -> {out} in ")
    assert captured.out.endswith(" s\n") and captured.out.count("\n") == 1
    err_lines = captured.err.splitlines()
    assert err_lines[0].startswith("skipped broken.mid: ")
    assert err_lines[1:] == ["skipped empty.mid: empty file (0 bytes)",
                             "skipped x.mid: not a MIDI file (no 'MThd' header)"]

    report = json.loads(report_path.read_text())
    assert (report["n_files"], report["n_read"], report["n_skipped"]) == (6, 3, 3)
    assert report["n_notes"] == 30
    assert [s["file"] for s in report["skipped"]] == ["broken.mid", "empty.mid", "x.mid"]
    assert report["skipped"][0]["reason"].startswith(("truncated MIDI", "corrupt MIDI"))
    assert report["skipped"][1]["reason"] == "empty file (0 bytes)"

    sequences = list(read_tfrecord(out))
    assert sorted(s.filename for s in sequences) == ["a.mid", "b.mid", "sub/UPPER.MIDI"]
    for seq in sequences:
        # Magenta's convert_dir_to_note_sequences: collection = folder name,
        # id = /id/midi/<collection>/<sha1 of the relative filename>.
        assert seq.collection_name == "mycollection"
        digest = hashlib.sha1(seq.filename.encode("utf-8")).hexdigest()
        assert seq.id == f"/id/midi/mycollection/{digest}"
        assert len(seq.notes) == 10


def test_ingest_without_report_names_no_report(run_cli, midi_dir, tmp_path, capsys):
    out = tmp_path / "n.tfrecord"
    assert run_cli(["data", "ingest", str(midi_dir), "--out", str(out), "--workers", "1"]) == 0
    assert capsys.readouterr().out.startswith(f"read 3 of 6 files (3 skipped) -> {out} in ")


def test_ingest_missing_dir_exits_2_with_one_line(run_cli, tmp_path, capsys):
    missing = tmp_path / "no_such_dir"
    out = tmp_path / "n.tfrecord"
    assert run_cli(["data", "ingest", str(missing), "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"gensuite data: error: {missing}: no such folder\n"
    assert captured.out == "" and not out.exists()


def test_ingest_folder_without_midi_exits_2(run_cli, tmp_path, capsys):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "readme.txt").write_text("hi")
    assert run_cli(["data", "ingest", str(tmp_path / "d"), "--out", str(tmp_path / "n")]) == 2
    assert capsys.readouterr().err == (
        f"gensuite data: error: {tmp_path / 'd'}: holds no .mid or .midi files\n")


def test_ingest_with_no_usable_file_exits_2_and_leaves_no_tfrecord(run_cli, tmp_path, capsys):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "x.mid").write_text("text")
    out, report = tmp_path / "n.tfrecord", tmp_path / "r.json"
    rc = run_cli(["data", "ingest", str(folder), "--out", str(out), "--report", str(report),
                  "--workers", "1"])
    assert rc == 2
    assert capsys.readouterr().err == (
        f"gensuite data: error: {folder}: none of its 1 MIDI files could be read "
        f"(e.g. x.mid: not a MIDI file (no 'MThd' header))\n")
    assert not out.exists()
    assert json.loads(report.read_text())["n_read"] == 0


def test_ingest_rejects_bad_workers(run_cli, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        run_cli(["data", "ingest", str(tmp_path), "--out", "x", "--workers", "0"])
    assert exc.value.code == 2
    assert "--workers: must be >= 1, got 0" in capsys.readouterr().err


def test_format_skipped_shows_ten_then_counts_the_rest():
    skipped = [{"file": f"f{i:02d}.mid", "reason": "empty file (0 bytes)"} for i in range(13)]
    lines = data_cli.format_skipped(skipped, max_shown=10)
    assert len(lines) == 11
    assert lines[0] == "skipped f00.mid: empty file (0 bytes)"
    assert lines[9].startswith("skipped f09.mid")
    assert lines[10] == "... and 3 more"
    assert data_cli.format_skipped(skipped[:10], max_shown=10)[-1].startswith("skipped f09")


def test_format_ingest_line():
    report = IngestReport(midi_dir="d", output="n.tfrecord", n_files=371, n_read=368,
                          n_notes=1, seconds=4.21, skipped=[{"file": "a", "reason": "r"}] * 3)
    assert data_cli.format_ingest_line(report, report_path="report.json") == (
        "read 368 of 371 files (3 skipped, see report.json) -> n.tfrecord in 4.2 s")
    clean = IngestReport(midi_dir="d", output="n.tfrecord", n_files=2, n_read=2,
                         n_notes=1, seconds=0.04, skipped=[])
    assert data_cli.format_ingest_line(clean) == "read 2 of 2 files -> n.tfrecord in 0.0 s"


# --- one list syntax for pitches, programs and velocities ------------------------------

def test_midi_list_reads_numbers_and_ranges_in_order_without_repeats():
    from gensuite.cli._args import format_midi_list, midi_list

    assert midi_list("36-38") == (36, 37, 38)
    assert midi_list("24, 36-38,60,37") == (24, 36, 37, 38, 60)
    assert midi_list("0") == (0,)
    assert format_midi_list(midi_list("24,36-38,60,61")) == "24,36-38,60-61"
    assert format_midi_list([60]) == "60"


@pytest.mark.parametrize("text, message", [
    ("", "must name at least one number"),
    ("x", "must be LOW-HIGH or N with integers, got 'x'"),
    ("36,4x", "in the list '36,4x'"),
    ("50-40", "LOW must be <= HIGH"),
    ("120-130", "must be within 0-127, got '120-130'"),
])
def test_midi_list_names_the_rule_it_broke(text, message):
    import argparse

    from gensuite.cli._args import midi_list

    with pytest.raises(argparse.ArgumentTypeError, match=message.replace("(", r"\(")):
        midi_list(text)


def test_every_pitches_programs_velocities_flag_takes_the_same_list():
    """data nsynth and gansynth generate (and any later one) share the one parser type."""
    from gensuite.cli._args import midi_list
    from tests.cli.test_main import all_parsers

    found = {}
    for parser in all_parsers():
        for action in parser._actions:
            for flag in ("--pitches", "--programs", "--velocities"):
                if flag in action.option_strings and action.choices is None:
                    found[(parser.prog, flag)] = action
    assert {("gensuite data nsynth", "--pitches"), ("gensuite gansynth generate", "--pitches"),
            ("gensuite data nsynth", "--programs"),
            ("gensuite data nsynth", "--velocities")} <= set(found)
    for action in found.values():
        assert action.type is midi_list and action.metavar == "LIST"
    args = cli_main.build_parser().parse_args(
        ["gansynth", "generate", "--checkpoint", "c", "--out", "o", "--pitches", "24,36-38"])
    assert args.pitches == (24, 36, 37, 38)
    assert data_cli.midi_list is midi_list  # the old import path still works
