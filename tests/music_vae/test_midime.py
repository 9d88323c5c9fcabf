"""MidiMe personalisers: a small VAE over a base model's latents."""

import dataclasses

import numpy as np
import pytest

from gensuite.common.errors import InputFileError, NoExamplesError, ParameterError
from gensuite.music_vae.midime import MIDIME_FILE, MidiMeConfig, MidiMePrior, train_midime
from gensuite.music_vae.model import MusicVAE

TINY = MidiMeConfig(latent_size=2, layer_sizes=(32,), num_steps=300, batch_size=32,
                    learning_rate=3e-3)


@pytest.fixture(scope="module")
def manifold():
    """(z, prior): 400 latents of size 8 on a curved 2-D sheet, and a personaliser of them."""
    rng = np.random.default_rng(0)
    u = rng.uniform(-1, 1, (400, 2))
    basis = rng.standard_normal((4, 8))
    z = np.concatenate([u, u ** 2], axis=1) @ basis + 3.0
    return z.astype(np.float32), train_midime(z, TINY, seed=0, figures={"n_files": 5})


def test_it_learns_the_artists_region(manifold):
    z, prior = manifold
    assert prior.figures["n_files"] == 5 and prior.figures["n_vectors"] == 400
    # Two dimensions hold the sheet: most of the variance comes back through w.
    assert prior.figures["reconstruction"] < 0.3
    assert prior.encode_z(z).shape == (400, 2)
    draws = prior.transform(np.random.default_rng(1).standard_normal((2000, 8)))
    assert draws.shape == (2000, 8) and draws.dtype == np.float32
    np.testing.assert_allclose(draws.mean(0), z.mean(0), atol=0.25 * z.std(0).max())
    # The residual gives back the spread the 2-D code misses, no more.
    assert 0.7 < draws.std(0).mean() / z.std(0).mean() < 1.3


def test_save_load_round_trip_and_its_errors(manifold, tmp_path):
    _, prior = manifold
    prior.save(tmp_path)
    loaded = MidiMePrior.load(tmp_path, z_size=8)
    eps = np.random.default_rng(2).standard_normal((5, 8))
    np.testing.assert_array_equal(loaded.transform(eps), prior.transform(eps))
    assert loaded.config == TINY and loaded.figures == prior.figures
    assert MidiMePrior.load(tmp_path / "none", z_size=8) is None
    with pytest.raises(InputFileError, match="latent size 8, the model's is 16"):
        MidiMePrior.load(tmp_path, z_size=16)
    broken = dataclasses.replace(prior, residual=prior.residual * np.nan)
    broken.save(tmp_path)
    with pytest.raises(InputFileError, match="NaN or inf"):
        MidiMePrior.load(tmp_path, z_size=8)
    (tmp_path / MIDIME_FILE).write_bytes(b"not an npz")
    with pytest.raises(InputFileError, match="unreadable personaliser"):
        MidiMePrior.load(tmp_path, z_size=8)


def test_bad_configs_and_inputs_say_which_rule(manifold):
    _, prior = manifold
    with pytest.raises(ParameterError, match="latent_size: must be an integer >= 1, got 0"):
        MidiMeConfig(latent_size=0)
    with pytest.raises(ParameterError, match="beta: must be >= 0"):
        MidiMeConfig(beta=-1.0)
    with pytest.raises(NoExamplesError, match="at least two latent vectors"):
        train_midime(np.zeros((1, 8)), TINY)
    with pytest.raises(ParameterError, match="smaller than the base latent size 2, got 2"):
        train_midime(np.zeros((5, 2)), TINY)
    with pytest.raises(ParameterError, match=r"w: must have shape \(n, 2\)"):
        prior.decode_w(np.zeros((3, 3)))


def test_a_music_vae_folder_with_a_personaliser_samples_through_it(tmp_path):
    vae = MusicVAE("tiny-mel_2bar")
    classes = np.random.default_rng(1).integers(0, 90, (40, 32, 1))
    vae.prior = train_midime(vae.encode_means(classes), TINY, seed=0)
    vae.save(tmp_path / "m")
    loaded = MusicVAE.load(tmp_path / "m")
    assert isinstance(loaded.prior, MidiMePrior)
    np.testing.assert_array_equal(loaded.sample_tensors(3, seed=4, greedy=True),
                                  vae.sample_tensors(3, seed=4, greedy=True))


def test_a_large_folder_is_personalised_on_evenly_spaced_windows():
    from gensuite.music_vae.melody_models import evenly_spaced

    np.testing.assert_array_equal(evenly_spaced(10, 4), [0, 3, 6, 9])
    np.testing.assert_array_equal(evenly_spaced(3, 4096), [0, 1, 2])
    assert len(evenly_spaced(15597, 4096)) == 4096
