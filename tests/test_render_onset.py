"""The render's onset alignment of generated notes (gensuite.render.onset_offset_samples)."""

import numpy as np
import pytest

from gensuite.render import onset_offset_samples

RATE = 16000


def tone(n_samples: int) -> np.ndarray:
    return np.sin(2 * np.pi * 440 * np.arange(n_samples) / RATE).astype(np.float32)


def test_a_late_attack_is_found_within_a_frame():
    wave = np.concatenate([np.zeros(1600, np.float32), tone(16000)])  # 100 ms of silence
    offset = onset_offset_samples(wave, sample_rate=RATE)
    assert 1600 - 160 <= offset <= 1600


def test_a_slow_swell_starts_where_it_reaches_half_its_early_peak():
    ramp = np.minimum(np.arange(32000) / 3200, 1.0)  # 0 to full level over 200 ms
    offset = onset_offset_samples(ramp * tone(32000), sample_rate=RATE)
    assert offset == pytest.approx(1600, abs=160)


@pytest.mark.parametrize("wave", [tone(16000), np.zeros(16000, np.float32),
                                  np.zeros(0, np.float32)], ids=["at once", "silent", "empty"])
def test_a_note_that_starts_at_once_or_never_is_not_moved(wave):
    assert onset_offset_samples(wave, sample_rate=RATE) == 0


def test_a_program_fades_over_its_soundfont_release_within_the_bounds():
    from gensuite.render import ATTACK_S, GM_RELEASE_20DB_S, RELEASE_S, program_release_s

    assert len(GM_RELEASE_20DB_S) == 128
    assert program_release_s(73, max_s=1.0) == pytest.approx(GM_RELEASE_20DB_S[73] / 0.9)
    assert program_release_s(52, max_s=0.2) == 0.2  # a choir's long release, capped
    assert program_release_s(87, max_s=1.0) >= ATTACK_S
    assert GM_RELEASE_20DB_S[9] is None and program_release_s(9, max_s=1.0) == RELEASE_S
    assert program_release_s(200, max_s=1.0) == RELEASE_S
