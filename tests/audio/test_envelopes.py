"""Note envelopes (gensuite.audio.envelopes): attacks, program level curves, shaping to them."""

import note_seq
import numpy as np
import pytest

from gensuite.audio.envelopes import (
    MAX_BOOST_DB,
    frame_levels_db,
    onset_offset_samples,
    program_envelope_db,
    read_envelope_table,
    shape_to_envelope,
    start_at_attack,
)
from gensuite.render import NoteSource, NoteSpec, RenderReport, render_gansynth_notes

RATE = 16000


def tone(n_samples: int) -> np.ndarray:
    return (0.1 * np.sin(2 * np.pi * 440 * np.arange(n_samples) / RATE)).astype(np.float32)


def test_a_late_attack_is_found_within_a_frame():
    wave = np.concatenate([np.zeros(1600, np.float32), tone(16000)])  # 100 ms of silence
    offset = onset_offset_samples(wave, sample_rate=RATE)
    assert 1600 - 160 <= offset <= 1600


def test_a_slow_swell_starts_where_it_reaches_a_fifth_of_its_early_peak():
    ramp = np.minimum(np.arange(32000) / 3200, 1.0)  # 0 to full level over 200 ms
    offset = onset_offset_samples(ramp * tone(32000), sample_rate=RATE)
    assert offset == pytest.approx(640, abs=160)


@pytest.mark.parametrize("wave", [tone(16000), np.zeros(16000, np.float32),
                                  np.zeros(0, np.float32)], ids=["at once", "silent", "empty"])
def test_a_note_that_starts_at_once_or_never_is_not_moved(wave):
    assert onset_offset_samples(wave, sample_rate=RATE) == 0


def test_a_late_note_starts_at_its_attack_faded_in_and_out_and_keeps_its_length():
    wave = np.concatenate([np.full(1600, 1e-3, np.float32), np.full(14400, 0.5, np.float32)])
    out = start_at_attack(wave, sample_rate=RATE)
    assert out.shape == wave.shape and out.dtype == np.float32
    offset = onset_offset_samples(wave, sample_rate=RATE)
    assert offset == 1520  # the 5-ms frame before the first at a fifth of the peak
    end = len(wave) - offset
    ramp = np.arange(160) / 160  # 10 ms
    np.testing.assert_allclose(out[:160], wave[offset:offset + 160] * ramp, rtol=1e-6)
    np.testing.assert_array_equal(out[160:end - 160], wave[offset + 160:-160])
    np.testing.assert_allclose(out[end - 160:end], 0.5 * ramp[::-1], rtol=1e-6)
    np.testing.assert_array_equal(out[end:], 0)


def test_a_note_that_starts_at_once_is_only_faded_in():
    wave = tone(16000)
    out = start_at_attack(wave, sample_rate=RATE)
    np.testing.assert_array_equal(out[160:], wave[160:])


def level_at(levels_db: np.ndarray, t_s: float) -> float:
    return float(levels_db[int(t_s / 0.01)])


def test_the_table_holds_every_program_and_real_decays():
    table = read_envelope_table()
    assert table["levels_db"].shape == (128, 9, 16)
    assert np.isfinite(table["levels_db"]).all()
    times_s, piano = program_envelope_db(0, 60)
    one_s = int(np.argmin(np.abs(times_s - 1.0)))
    assert piano[4] - piano[one_s] > 10  # a piano fades
    _, flute = program_envelope_db(73, 60)
    assert abs(flute[-1] - flute[one_s]) < 3  # a flute holds


def test_pitches_between_the_tables_are_interpolated_and_outside_clamped():
    table = read_envelope_table()
    _, between = program_envelope_db(0, 39, table=table)
    np.testing.assert_allclose(between, table["levels_db"][0, :2].astype(float).mean(0),
                               atol=1e-6)
    np.testing.assert_array_equal(program_envelope_db(0, 20, table=table)[1],
                                  program_envelope_db(0, 36, table=table)[1])


def test_a_steady_tone_takes_the_curves_course_and_level():
    times_s = np.array([0.0, 0.5, 2.0])
    level_db = np.array([-20.0, -20.0, -40.0])
    shaped = shape_to_envelope(tone(3 * RATE), times_s=times_s, level_db=level_db,
                               sample_rate=RATE)
    levels = frame_levels_db(shaped, sample_rate=RATE)
    assert level_at(levels, 0.2) == pytest.approx(-20, abs=0.2)
    assert level_at(levels, 1.25) == pytest.approx(-30, abs=0.3)
    assert level_at(levels, 2.5) == pytest.approx(-40, abs=0.3)  # the last gain holds


def test_a_note_that_dies_is_not_lifted_from_its_noise_beyond_the_bound():
    wave = tone(2 * RATE)
    wave[RATE:] *= 1e-3  # falls 60 dB at 1 s
    shaped = shape_to_envelope(wave, times_s=np.array([0.0, 2.0]),
                               level_db=np.array([-20.0, -20.0]), sample_rate=RATE)
    levels = frame_levels_db(shaped, sample_rate=RATE)
    assert level_at(levels, 1.5) == pytest.approx(-20 - 60 + MAX_BOOST_DB, abs=0.3)


def test_silence_stays_silent():
    silent = np.zeros(RATE, np.float32)
    out = shape_to_envelope(silent, times_s=np.array([0.0]), level_db=np.array([-20.0]),
                            sample_rate=RATE)
    assert not out.any()


class SteadyNotes(NoteSource):
    """Every note a steady tone at one level, whatever the pitch and latent."""

    def __init__(self):
        super().__init__(load=None)

    def n_missing(self, pitches, latents):
        return 0

    def waves(self, pitches, latents):
        return [tone(4 * RATE) for _ in pitches]


def test_the_render_plays_each_note_with_its_programs_course_and_balance():
    spec = NoteSpec(sample_rate=RATE, n_samples=4 * RATE, min_pitch=36, max_pitch=84,
                    latent_size=4)
    played = {}
    for program in (0, 73):
        note = note_seq.NoteSequence.Note(pitch=60, start_time=0.0, end_time=2.0,
                                          program=program, velocity=127)
        played[program] = frame_levels_db(render_gansynth_notes(
            [note], spec=spec, source=SteadyNotes(), duration_s=2.0, n_samples=3 * RATE,
            report=RenderReport()), sample_rate=RATE)
    times_s, piano = program_envelope_db(0, 60)
    _, flute = program_envelope_db(73, 60)
    for t_s in (0.5, 1.0):
        assert level_at(played[0], t_s) == pytest.approx(np.interp(t_s, times_s, piano), abs=0.5)
        assert level_at(played[73], t_s) == pytest.approx(np.interp(t_s, times_s, flute), abs=0.5)
