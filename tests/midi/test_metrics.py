"""Melody sample-quality figures (gensuite.midi.metrics) and ``gensuite metrics``."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest

from gensuite.cli import main as cli_main
from gensuite.common.errors import InputFileError, ParameterError
from gensuite.midi import metrics
from gensuite.midi.io import write_midi
from tests.cli_run import assert_one_line_error, run
from tests.conftest import add_track_notes, build_note_sequence

# C E G C' as quarter notes (4 steps each), twice: two equal bars.
ARPEGGIO = [(p, 4 * i, 4 * i + 4) for i, p in enumerate([60, 64, 67, 72] * 2)]


def quarters(pitches, *, start_step=0, step=4):
    """(pitch, start, end) notes of ``step`` steps each, back to back."""
    return [(p, start_step + step * i, start_step + step * (i + 1))
            for i, p in enumerate(pitches)]


def features_of(notes, **kwargs):
    windows = metrics.melody_windows(build_note_sequence(notes, **kwargs))
    assert len(windows) == 1
    return metrics.window_features(windows[0])


# --------------------------------------------------------------------------
# one window


def test_features_of_a_two_bar_arpeggio_are_exact():
    f = features_of(ARPEGGIO)
    assert (f["bars"], f["start_bar"], f["n_onsets"]) == (2, 0, 8)
    assert f["onsets_per_bar"] == 4.0
    assert f["pitch_range"] == 12.0
    # C 4 times, E and G twice each: H(1/2, 1/4, 1/4) = 1.5 bits.
    assert f["pitch_class_entropy"] == pytest.approx(1.5)
    assert f["in_scale_rate"] == 1.0
    assert f["repeated_phrase_rate"] == 1.0  # bar 2 repeats bar 1
    assert f["pitch_class_histogram"] == [4, 0, 0, 0, 2, 0, 0, 2, 0, 0, 0, 0]
    # Intervals 4 3 5 12 4 3 5.
    assert f["interval_histogram"] == [0, 0, 0, 2, 2, 2, 0, 0, 0, 0, 0, 0, 1, 0]
    assert f["ioi_histogram"] == [0, 0, 0, 7] + [0] * 12
    assert f["note_length_histogram"] == [0, 0, 0, 8] + [0] * 12
    assert f["degenerate"] is False


def test_chromatic_note_lowers_in_scale_rate_and_different_bars_do_not_repeat():
    # C C# D E | F G A B: 7 of 8 in C major (D major holds only 6).
    f = features_of(quarters([60, 61, 62, 64, 65, 67, 69, 71]))
    assert f["in_scale_rate"] == pytest.approx(7 / 8)
    assert f["repeated_phrase_rate"] == 0.0
    assert f["pitch_class_entropy"] == pytest.approx(3.0)  # 8 distinct classes
    assert f["interval_histogram"][1:3] == [3, 4]  # 1 1 2 1 2 2 2


def test_transposed_bar_with_the_same_rhythm_counts_as_a_repeat():
    f = features_of(quarters([60, 64, 67, 72, 62, 66, 69, 74]))
    assert f["repeated_phrase_rate"] == 1.0
    rhythm_changed = quarters([60, 64, 67, 72]) + [(62, 16, 20), (66, 20, 28), (69, 28, 32)]
    assert features_of(rhythm_changed)["repeated_phrase_rate"] == 0.0


def test_one_bar_with_notes_has_no_repeated_phrase_rate():
    f = features_of(quarters([60, 62, 64, 65]))
    assert math.isnan(f["repeated_phrase_rate"])
    assert f["onsets_per_bar"] == 2.0  # 4 onsets over the 2-bar window


def test_polyphony_keeps_the_highest_note_and_cuts_it_at_the_next_onset():
    notes = [(60, 0, 16), (67, 0, 16), (64, 4, 8), (62, 8, 12), (60, 12, 16)]
    f = features_of(notes)
    assert f["n_onsets"] == 4
    assert f["pitch_class_histogram"][7] == 1 and f["pitch_class_histogram"][0] == 1
    assert f["note_length_histogram"][3] == 4  # G held 16 steps is cut to 4


def test_tempo_is_read_from_the_file():
    slow = features_of(ARPEGGIO, qpm=60.0)
    fast = features_of(ARPEGGIO, qpm=180.0)
    for name in metrics.SCALAR_FEATURES + metrics.HISTOGRAM_FEATURES:
        assert slow[name] == fast[name] == features_of(ARPEGGIO)[name]


# --------------------------------------------------------------------------
# windows


def test_long_melody_is_cut_into_full_windows_and_compares_all_bars():
    bar_a = [60, 62, 64, 65]
    bar_b = [67, 65, 64, 62]
    # 9 bars: A B A B B A C C C; the 9th bar is a trailing part and is dropped.
    pitches = bar_a + bar_b + bar_a + bar_b + bar_b + bar_a + [72] * 4 + [71] * 4 + [71] * 4
    windows = metrics.melody_windows(build_note_sequence(quarters(pitches)))
    assert [w.start_bar for w in windows] == [0, 2, 4, 6]
    assert all(w.n_onsets == 8 for w in windows)
    rates = [metrics.window_features(w)["repeated_phrase_rate"] for w in windows]
    # Window 1: B differs from A (0/1); window 2: A, B repeat bars 0-1 (2/2); window 3:
    # B and A repeat (2/2); window 4: C C is new then a repeat of itself (1/2).
    assert rates == [0.0, 1.0, 1.0, 0.5]


def test_silent_windows_of_a_long_melody_are_left_out():
    notes = quarters([60, 62, 64, 65]) + quarters([67, 65, 64, 62] * 2, start_step=96)
    windows = metrics.melody_windows(build_note_sequence(notes))
    assert [w.start_bar for w in windows] == [0, 6]


def test_melody_windows_checks_bars_and_ignores_drums():
    with pytest.raises(ParameterError, match="bars: must be an integer >= 1, got 0"):
        metrics.melody_windows(build_note_sequence(ARPEGGIO), bars=0)
    assert metrics.melody_windows(build_note_sequence(ARPEGGIO, is_drum=True)) == []
    four_bar = metrics.melody_windows(build_note_sequence(ARPEGGIO), bars=4)
    assert len(four_bar) == 1 and four_bar[0].bars == 4


# --------------------------------------------------------------------------
# degenerate windows


def test_two_notes_in_two_bars_are_degenerate():
    f = features_of([(60, 0, 8), (64, 16, 24)])
    assert f["n_onsets"] == 2 and f["degenerate"] is True
    assert metrics.is_degenerate(f)
    assert not metrics.is_degenerate(features_of([(60, 0, 8), (64, 8, 16), (67, 16, 24)]))


def test_dense_wide_window_is_degenerate_and_dense_narrow_is_not():
    wide = [40 + round(i * 40 / 31) for i in range(32)]
    f = features_of(quarters(wide, step=1))
    assert (f["n_onsets"], f["pitch_range"]) == (32, 40.0)
    assert f["degenerate"] is True
    narrow = [60 + (i % 13) for i in range(32)]
    assert not features_of(quarters(narrow, step=1))["degenerate"]


def test_empty_window_is_degenerate_with_undefined_scalars():
    f = metrics.window_features(metrics.empty_window(bars=2))
    assert f["n_onsets"] == 0 and f["degenerate"] is True
    assert math.isnan(f["pitch_range"]) and math.isnan(f["in_scale_rate"])


# --------------------------------------------------------------------------
# two sets


def calm_set():
    rng = np.random.default_rng(0)
    out = []
    for _ in range(30):
        n = int(rng.integers(3, 7))  # per bar
        pitches = 60 + rng.choice([0, 2, 4, 5, 7], size=2 * n)
        step = 16 // n
        notes = [(int(p), i * step, i * step + step) for i, p in enumerate(pitches)]
        out.append(features_of(notes))
    return out


def noisy_set():
    rng = np.random.default_rng(1)
    return [features_of(quarters((30 + rng.integers(0, 60, size=32)).tolist(), step=1))
            for _ in range(30)]


def test_identical_sets_overlap_fully():
    windows = calm_set()
    result = metrics.compare(windows, windows)
    for name, figures in result["features"].items():
        assert figures["overlap"] == pytest.approx(1.0, abs=1e-9), name
        assert figures["generated_mean"] == figures["reference_mean"]
    assert result["mean_overlap"] == pytest.approx(1.0, abs=1e-9)
    assert result["windows"] == {"generated": 30, "reference": 30}
    json.dumps(result, allow_nan=False)


def test_disjoint_sets_barely_overlap():
    result = metrics.compare(noisy_set(), calm_set())
    figures = result["features"]
    assert figures["onsets_per_bar"]["method"] == "histogram"  # noisy: always 16 per bar
    assert figures["onsets_per_bar"]["overlap"] == 0.0
    assert figures["pitch_range"]["overlap"] < 0.01
    assert figures["ioi_histogram"]["overlap"] == 0.0
    assert result["mean_overlap"] < 0.5
    assert result["degenerate_share"] == {"generated": 1.0, "reference": 0.0}
    assert figures["onsets_per_bar"]["generated_mean"] == 16.0


def test_overlap_area_kde_and_fallbacks():
    a = np.arange(20.0)
    overlap, method = metrics.overlap_area(a, a + 1000)
    assert method == "kde" and overlap < 1e-6
    assert metrics.overlap_area(a, a)[0] == pytest.approx(1.0)
    assert metrics.overlap_area([1, 1, 1], [1, 1]) == (1.0, "histogram")
    assert metrics.overlap_area([1, 1, 1, 1], [1, 1, 0, 0]) == (0.5, "histogram")
    assert metrics.overlap_area([3.0], a)[1] == "histogram"
    overlap, method = metrics.overlap_area([np.nan], a)
    assert math.isnan(overlap) and method == "none"


def test_compare_needs_windows_on_both_sides():
    with pytest.raises(ParameterError, match="generated_features: needs at least one window"):
        metrics.compare([], calm_set())


# --------------------------------------------------------------------------
# folders and the command


def write_folder(folder, melodies):
    folder.mkdir(parents=True, exist_ok=True)
    for i, notes in enumerate(melodies):
        write_midi(build_note_sequence(notes), folder / f"m{i:02d}.mid")
    return folder


@pytest.fixture
def two_folders(tmp_path):
    generated = write_folder(tmp_path / "gen", [
        ARPEGGIO, quarters([60, 62]), quarters([60, 61, 62, 64, 65, 67, 69, 71]),
        []])  # an all-rest sample: a file without notes
    (generated / "broken.mid").write_bytes(b"not midi at all")
    reference = write_folder(tmp_path / "ref", [
        quarters([60, 64, 67, 72] * 4), quarters([62, 64, 65, 67, 69, 67, 65, 64] * 2)])
    return generated, reference


def test_folder_features_counts_windows_skipped_and_empty_files(two_folders):
    generated, reference = two_folders
    found = metrics.folder_features(generated)
    assert found.n_files == 5 and len(found) == 4
    assert found.skipped == [{"file": "broken.mid",
                              "reason": "not a MIDI file (no 'MThd' header)"}]
    assert found.files_without_notes == ["m03.mid"]
    assert [w["file"] for w in found] == ["m00.mid", "m01.mid", "m02.mid", "m03.mid"]
    assert [w["degenerate"] for w in found] == [False, True, False, True]
    assert found.counts()["degenerate_share"] == 0.5
    ref = metrics.folder_features(reference)
    assert len(ref) == 4 and ref.n_files_used == 2


def test_folder_without_usable_windows_says_why(tmp_path):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "a.mid").write_bytes(b"")
    with pytest.raises(InputFileError, match=r"none of its 1 MIDI files gave a window with "
                                             r"notes \(1 unreadable, e.g. a.mid: empty file"):
        metrics.folder_features(folder)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputFileError, match="empty: holds no .mid or .midi files"):
        metrics.folder_features(empty)


def test_top_track_reads_the_highest_part_not_the_skyline(tmp_path):
    # A low line of quarters under a high line of half notes that starts a bar late:
    # the skyline takes the low line's first bar, the top track does not.
    score = build_note_sequence(quarters([48, 50, 52, 53] * 2), instrument=0)
    add_track_notes(score, quarters([72, 74, 76], start_step=16, step=8), instrument=1)
    folder = tmp_path / "score"
    folder.mkdir()
    write_midi(score, folder / "score.mid")
    skyline = metrics.folder_features(folder)
    top = metrics.folder_features(folder, top_track=True)
    # Window 1: the high line's 72 and 74 (steps 16, 24) over eight low quarters.
    assert skyline[0]["n_onsets"] == 4 + 4 and skyline[0]["pitch_range"] == 74 - 48
    assert top[0]["n_onsets"] == 2 and top[0]["pitch_range"] == 2


@pytest.fixture
def run_cli(monkeypatch):
    """``gensuite`` with only the metrics command registered (others may be half-built)."""
    monkeypatch.setattr(cli_main, "COMMAND_MODULES", ("metrics",))


def test_cli_json_report(two_folders, capsys, run_cli):
    generated, reference = two_folders
    code, out, err = run(capsys, "metrics", generated, "--reference", reference, "--json")
    assert code == 0
    report = json.loads(out)
    assert report["bars"] == 2
    assert report["generated"]["files"] == 5 and report["generated"]["files_skipped"] == 1
    assert report["generated"]["windows"] == 4 and report["reference"]["windows"] == 4
    assert report["degenerate_share"] == {"generated": 0.5, "reference": 0.0}
    assert set(report["features"]) == set(metrics.SCALAR_FEATURES + metrics.HISTOGRAM_FEATURES)
    assert 0 <= report["mean_overlap"] <= 1
    assert "skipped generated file broken.mid" in err


def test_cli_text_report(two_folders, capsys, run_cli):
    generated, reference = two_folders
    code, out, _ = run(capsys, "metrics", generated, "--reference", reference)
    assert code == 0
    assert "4 windows of 2 bars from 5 files (1 skipped, 1 without notes)" in out
    assert "mean overlap: " in out
    assert "degenerate windows: generated 50.0% (2 of 4), reference 0.0% (0 of 4)" in out


def test_cli_empty_folder_is_a_one_line_error(two_folders, tmp_path, capsys, run_cli):
    empty = tmp_path / "empty"
    empty.mkdir()
    _, reference = two_folders
    code, _, err = run(capsys, "metrics", empty, "--reference", reference)
    assert_one_line_error(code, err, "gensuite metrics: error:", "holds no .mid or .midi files")
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "x.mid").write_bytes(b"MThd")
    code, _, err = run(capsys, "metrics", reference, "--reference", junk)
    assert_one_line_error(code, err, "none of its 1 MIDI files gave a window with notes",
                          "1 unreadable")
    code, _, err = run(capsys, "metrics", reference, "--reference", reference, "--bars", "0")
    assert_one_line_error(code, err, "argument --bars: must be >= 1, got 0")


def test_metrics_command_never_imports_tensorflow(two_folders):
    generated, reference = two_folders
    for argv in (["--help"], [str(generated), "--reference", str(reference), "--json"]):
        result = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "gensuite", "metrics", *argv],
            capture_output=True, text=True, timeout=120, check=False)
        assert result.returncode == 0, result.stderr[-2000:]
        assert "tensorflow" not in result.stderr, argv
