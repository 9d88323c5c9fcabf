"""Fitted sampling priors."""

import numpy as np
import pytest

from gensuite.common.errors import InputFileError, NoExamplesError
from gensuite.music_vae.model import MusicVAE
from gensuite.music_vae.prior import (
    GaussianPrior,
    RepeatRule,
    chunk_pair_distances,
    pair_repeat_rate,
)


def test_fit_recovers_mean_and_covariance_and_transform_draws_from_it(tmp_path):
    rng = np.random.default_rng(0)
    scale = np.array([[2.0, 0.0], [1.0, 0.5]])
    means = np.array([3.0, -1.0]) + rng.standard_normal((20000, 2)) @ scale.T
    prior = GaussianPrior.fit(means)
    np.testing.assert_allclose(prior.mean, [3.0, -1.0], atol=0.05)
    np.testing.assert_allclose(prior.scale_tril @ prior.scale_tril.T, scale @ scale.T, atol=0.1)
    draws = prior.transform(rng.standard_normal((20000, 2)))
    np.testing.assert_allclose(np.cov(draws, rowvar=False), scale @ scale.T, atol=0.15)
    prior.save(tmp_path)
    loaded = GaussianPrior.load(tmp_path, z_size=2)
    np.testing.assert_array_equal(loaded.scale_tril, prior.scale_tril)
    assert GaussianPrior.load(tmp_path / "none", z_size=2) is None
    with pytest.raises(InputFileError, match="do not fit a latent size of 3"):
        GaussianPrior.load(tmp_path, z_size=3)
    with pytest.raises(NoExamplesError):
        GaussianPrior.fit(means[:1])


def test_a_music_vae_saves_its_prior_and_samples_from_it(tmp_path):
    vae = MusicVAE("tiny-mel_2bar")
    before = vae.sample_tensors(4, seed=3, greedy=True)
    classes = np.random.default_rng(1).integers(0, 90, (16, 32, 1))
    inputs = np.eye(90, dtype=np.float32)[classes[..., 0]]
    vae.fit_prior(classes)
    vae.save(tmp_path / "m")
    loaded = MusicVAE.load(tmp_path / "m")
    np.testing.assert_array_equal(loaded.prior.mean, vae.prior.mean)
    np.testing.assert_array_equal(loaded.sample_tensors(4, seed=3, greedy=True),
                                  vae.sample_tensors(4, seed=3, greedy=True))
    _, mu, _ = vae.encode(inputs)
    np.testing.assert_allclose(vae.prior.mean, mu.mean(0), rtol=1e-4, atol=1e-5)
    assert before.shape == (4, 32, 90)


def test_repeat_rule_copies_the_earliest_close_chunk_transitively():
    # Chunks 0, 2 and 3 nearly equal; 1 far away.
    chunk_z = np.array([[[0.0, 0.0], [5.0, 5.0], [0.1, 0.0], [0.0, 0.15]]])
    rule = RepeatRule(max_distance=0.2, pair_repeat_rate=0.5)
    np.testing.assert_array_equal(rule.sources(chunk_z), [[0, 1, 0, 0]])
    decoded = np.arange(4 * 2 * 3).reshape(1, 8, 3)  # 4 chunks of 2 steps
    copied = rule.apply(decoded, chunk_z).reshape(4, 2, 3)
    np.testing.assert_array_equal(copied[[2, 3]], decoded.reshape(4, 2, 3)[[0, 0]])
    np.testing.assert_array_equal(copied[1], decoded.reshape(4, 2, 3)[1])


def test_repeat_rule_calibrates_to_the_real_pair_repeat_rate():
    classes = np.zeros((4, 4, 3), int)
    classes[:, 1] = 1
    classes[:, 2] = 2
    classes[:, 3] = 3
    classes[0, 3] = classes[0, 0]  # one repeated pair of 24
    assert pair_repeat_rate(classes) == pytest.approx(1 / 24)
    chunk_z = np.random.default_rng(0).standard_normal((500, 4, 8))
    rule = RepeatRule.calibrate(chunk_z, 0.25)
    assert (chunk_pair_distances(chunk_z) < rule.max_distance).mean() == pytest.approx(0.25, abs=0.01)
    assert rule.pair_repeat_rate == 0.25
