"""GANSynth.generate's harmonic lock: the generator's magnitudes at the asked pitch's frequencies."""

from __future__ import annotations

import numpy as np
import pytest

from gensuite.audio.pitch import fundamental_wander_cents
from gensuite.gansynth.model import GANSynth


def test_compiled_and_op_by_op_agree_with_and_without_the_lock():
    model = GANSynth("tiny-gansynth")
    pitches = [model.config.min_pitch, model.config.max_pitch]
    locked = model.generate(pitches, seed=3, compiled=False)
    free = model.generate(pitches, seed=3, compiled=False, lock_harmonics=False)
    assert locked.shape == free.shape == (2, model.config.n_samples)
    assert not np.allclose(locked, free, atol=1e-4)
    # The traced graph fuses ops, so its last bits differ; the low-pass after the
    # onset cut spreads them over the note.
    np.testing.assert_allclose(model.generate(pitches, seed=3), locked, rtol=1e-4, atol=5e-4)
    np.testing.assert_allclose(model.generate(pitches, seed=3, lock_harmonics=False), free,
                               rtol=1e-4, atol=5e-4)


@pytest.mark.slow
def test_locked_notes_of_the_shipped_model_hold_their_pitch():
    model = GANSynth.load("gansynth_gm")
    pitches = [43, 55, 61, 70]
    z = model.make_latents(1, seed=1)
    free = model.generate(pitches, z, compiled=False, lock_harmonics=False)
    locked = model.generate(pitches, z, compiled=False)
    free_cents, locked_cents = ([fundamental_wander_cents(w, sample_rate=16000, midi_pitch=p)
                                 for w, p in zip(waves, pitches)] for waves in (free, locked))
    assert np.median(free_cents) > 10
    assert max(locked_cents) < 3
