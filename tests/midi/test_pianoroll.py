"""Piano rolls and the bar-line arithmetic behind them."""

from __future__ import annotations

import os

import note_seq
import numpy as np
import pytest

from gensuite.common.errors import ParameterError
from gensuite.midi.pianoroll import TRACK_COLOURS, compute_bar_times, plot_pianoroll

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def read_png(path) -> np.ndarray:
    """The image as an (height, width, 3) uint8 array."""
    from matplotlib.image import imread

    assert path.read_bytes().startswith(PNG_SIGNATURE)
    return (imread(path)[..., :3] * 255).round().astype(np.uint8)


def count_colour(image: np.ndarray, hex_colour: str) -> int:
    """Pixels within a small tolerance of ``hex_colour`` (antialiasing blurs edges)."""
    rgb = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(image.astype(int) - rgb).max(axis=-1) <= 3).sum())


# --- bar lines ----------------------------------------------------------------

def test_bar_times_default_to_4_4_at_120_qpm():
    seq = note_seq.NoteSequence(total_time=5.0)
    assert compute_bar_times(seq) == [0.0, 2.0, 4.0]


def test_bar_times_follow_3_4_and_a_tempo_change(make_sequence):
    seq = make_sequence(time_signature=(3, 4))  # 120 qpm: a bar is 1.5 s
    seq.tempos.add(time=3.0, qpm=60.0)  # from bar 3 on a bar is 3 s
    assert compute_bar_times(seq, end_seconds=10.0) == [0.0, 1.5, 3.0, 6.0, 9.0]


def test_bar_times_restart_at_a_time_signature_change_inside_a_bar(make_sequence):
    seq = make_sequence()  # 4/4 at 120 qpm: a bar is 2 s
    seq.time_signatures.add(time=3.0, numerator=6, denominator=8)  # 3 quarters: 1.5 s
    assert compute_bar_times(seq, end_seconds=6.0) == [0.0, 2.0, 3.0, 4.5]


def test_bar_times_give_up_past_max_bars():
    seq = note_seq.NoteSequence(total_time=100.0)  # 50 bars
    assert len(compute_bar_times(seq, max_bars=50)) == 50
    assert compute_bar_times(seq, max_bars=49) == []


def test_bar_times_tempo_after_zero_uses_default_before_it():
    seq = note_seq.NoteSequence(total_time=6.0)
    seq.tempos.add(time=2.0, qpm=60.0)  # 120 qpm until 2 s (one bar), then 4 s bars
    assert compute_bar_times(seq) == [0.0, 2.0]
    assert compute_bar_times(seq, end_seconds=6.5) == [0.0, 2.0, 6.0]


# --- piano rolls --------------------------------------------------------------

def test_pianoroll_draws_each_track_in_its_colour(make_sequence, add_notes, tmp_path):
    seq = make_sequence([(60, 0, 4), (64, 4, 8), (67, 8, 16)], program=0)
    add_notes(seq, [(36, 0, 16)], instrument=1, program=33)
    add_notes(seq, [(36, 0, 1), (42, 2, 3), (38, 4, 5)], instrument=9, is_drum=True)
    seq.instrument_infos.add(instrument=0, name="Lead")
    path = tmp_path / "deep" / "roll.png"
    plot_pianoroll(seq, path=path, title="song")
    image = read_png(path)
    assert image.shape[1] > image.shape[0]  # a wide single panel
    # bars of tracks 0 and 1 and the drum diamonds of track 2, each clearly visible
    assert count_colour(image, TRACK_COLOURS[0]) > 500
    assert count_colour(image, TRACK_COLOURS[1]) > 500
    assert count_colour(image, TRACK_COLOURS[2]) > 30
    assert count_colour(image, TRACK_COLOURS[3]) < 50  # no fourth track
    assert os.listdir(path.parent) == ["roll.png"]


def test_pianoroll_of_several_sequences_shares_colours_and_accepts_titles(
        make_sequence, tmp_path):
    steps = [make_sequence([(60 + k, 0, 8)]) for k in range(4)]
    steps.insert(2, note_seq.NoteSequence())  # an empty decode draws an empty panel
    side = tmp_path / "side.png"
    plot_pianoroll(steps, path=side, titles=["A", "1", "2", "3", "B"], n_columns=5)
    stacked = tmp_path / "stacked.png"
    plot_pianoroll(steps, path=stacked, title="interpolation")
    side_image, stacked_image = read_png(side), read_png(stacked)
    assert side_image.shape[1] > 3 * side_image.shape[0]
    assert stacked_image.shape[0] > 4 * side_image.shape[0]  # five rows, not one
    # one track throughout, so one colour only
    assert count_colour(side_image, TRACK_COLOURS[0]) > 500
    assert count_colour(side_image, TRACK_COLOURS[1]) == 0


@pytest.mark.parametrize("kwargs, message", [
    ({"sequences": []}, "sequences: must hold at least one NoteSequence, got none"),
    ({"titles": ["only one"]}, "titles: must give one title per sequence (2), got 1"),
    ({"n_columns": 0}, "n_columns: must be >= 1, got 0"),
])
def test_pianoroll_rejects_bad_arguments(make_sequence, tmp_path, kwargs, message):
    args = {"sequences": [make_sequence([(60, 0, 4)])] * 2, "path": tmp_path / "x.png"}
    with pytest.raises(ParameterError) as exc:
        plot_pianoroll(**(args | kwargs))
    assert str(exc.value) == message
    assert not (tmp_path / "x.png").exists()
