"""The latent hierarchy: a learnt top level over a frozen 2-bar MusicVAE."""

from __future__ import annotations

import dataclasses
import json
import os

import numpy as np
import pytest

from gensuite.common.errors import InputFileError, ParameterError
from gensuite.music_vae import latent_hierarchy as lh
from gensuite.music_vae.model import MusicVAE

TINY = lh.get_config("tiny-latent-mel_16bar")


@pytest.fixture(scope="module")
def model():
    return lh.LatentHierarchyVAE(TINY, bottom=MusicVAE("tiny-mel_2bar"))


def random_windows(n, *, seed=0):
    """(n, 256, 1) melody classes: notes and holds, as a converter gives them."""
    rng = np.random.default_rng(seed)
    classes = np.where(rng.random((n, 256)) < 0.3, rng.integers(2, 90, (n, 256)), 0)
    return classes[..., None].astype(np.int16)


def test_windows_are_cut_into_chunks_the_bottom_encodes(model):
    windows = random_windows(3)
    assert model.n_steps == 256 and model.z_size == 8 * model.bottom.config.z_size
    inputs = model.chunk_one_hots(windows)
    assert inputs.shape == (24, 32, 90)
    np.testing.assert_array_equal(inputs[9].argmax(-1), windows[1, 32:64, 0])
    mu, sigma = model.encode_chunks(windows)
    assert mu.shape == sigma.shape == (3, 8, model.bottom.config.z_size)
    _, alone, _ = model.bottom.encode(inputs[9:10])
    np.testing.assert_allclose(mu[1, 1], alone[0], rtol=1e-5, atol=1e-5)
    assert (sigma > 0).all()


def test_decode_sample_and_interpolate_give_whole_windows(model):
    windows = random_windows(2, seed=1)
    one_hots = model.chunk_one_hots(windows).reshape(2, 256, 90)
    z, mu, _ = model.encode(one_hots, seed=3)
    assert z.shape == mu.shape == (2, model.z_size)
    decoded = model.decode_to_tensors(mu, greedy=True)
    assert decoded.shape == (2, 256, 90) and decoded.sum(-1).min() == 1
    path = model.interpolate_z(one_hots[0], one_hots[1], num_steps=4)
    np.testing.assert_allclose(path[0], mu[0], atol=1e-5)
    np.testing.assert_allclose(path[-1], mu[1], atol=1e-5)
    samples = model.sample_tensors(3, seed=5)
    assert samples.shape == (3, 256, 90)
    np.testing.assert_array_equal(samples, model.sample_tensors(3, seed=5))
    with pytest.raises(ParameterError, match="z: must have shape"):
        model.decode_to_tensors(mu[:, :10])
    with pytest.raises(ParameterError, match="num_steps: must be an integer >= 2"):
        model.interpolate_z(one_hots[0], one_hots[1], num_steps=1)


def test_accuracies_through_the_chunks_and_through_the_song_latent(model):
    figures = lh.accuracies(model, random_windows(4, seed=2))
    assert figures["n_examples"] == 4
    for key in ("greedy", "sampled", "top_greedy", "top_sampled", "constant"):
        assert 0.0 <= figures[f"{key}_accuracy"] <= 1.0
    assert figures["latent_nll"] > 0 and figures["kl_bits"] >= 0


def test_save_carries_the_bottom_model_and_loads_back(model, tmp_path):
    model.save(tmp_path / "song", figures={"x": 1})
    assert sorted(os.listdir(tmp_path / "song")) == [
        "bottom", "config.json", "meta.json", "model.weights.h5"]
    meta = json.loads((tmp_path / "song" / "meta.json").read_text())
    assert meta["kind"] == "latent_hierarchy"
    loaded = lh.load_melody_model(tmp_path / "song")
    assert isinstance(loaded, lh.LatentHierarchyVAE) and loaded.config == TINY
    np.testing.assert_array_equal(loaded.sample_tensors(2, seed=4, greedy=True),
                                  model.sample_tensors(2, seed=4, greedy=True))
    assert isinstance(lh.load_melody_model("mel_2bar"), MusicVAE)
    mu, sigma = model.encode_chunks(random_windows(6, seed=8))
    model.fit_prior(mu, sigma)
    model.save(tmp_path / "fitted")
    fitted = lh.load_melody_model(tmp_path / "fitted")
    np.testing.assert_allclose(fitted.prior.scale_tril, model.prior.scale_tril)
    assert np.allclose(np.tril(fitted.prior.scale_tril), fitted.prior.scale_tril)
    song_mu = model.top.encode(mu, sigma)[0].numpy()
    np.testing.assert_allclose(fitted.prior.mean, song_mu.mean(0), rtol=1e-4, atol=1e-5)
    model.prior = None
    model.repeats = None
    (tmp_path / "song" / "bottom" / "meta.json").unlink()
    with pytest.raises(InputFileError):
        lh.LatentHierarchyVAE.load(tmp_path / "song")


def test_fitted_repeat_rule_copies_chunks_and_survives_saving(model, tmp_path):
    windows = random_windows(12, seed=9)
    windows[:, 128:160] = windows[:, 0:32]  # chunk 4 repeats chunk 0 in every window
    mu, sigma = model.encode_chunks(windows)
    model.fit_prior(mu, sigma, windows, seed=1)
    try:
        assert model.repeats.pair_repeat_rate == pytest.approx(1 / 28)
        chunk_z = model.conduct(model.draw_song_latents(64, seed=2))
        sources = model.repeats.sources(chunk_z)
        copies = sources != np.arange(8)
        assert 0 < copies.mean() < 0.5
        samples = model.sample_tensors(64, seed=2).argmax(-1).reshape(64, 8, 32)
        for n, j in zip(*np.nonzero(copies)):
            np.testing.assert_array_equal(samples[n, j], samples[n, sources[n, j]])
        model.save(tmp_path / "m")
        meta = json.loads((tmp_path / "m" / "meta.json").read_text())
        assert meta["repeats"] == dataclasses.asdict(model.repeats)
        assert lh.load_melody_model(tmp_path / "m").repeats == model.repeats
    finally:
        model.prior = model.repeats = None


@pytest.mark.slow
def test_training_lowers_the_latent_loss_and_resumes(model, tmp_path):
    windows = random_windows(32, seed=7)
    train = model.encode_chunks(windows)
    first = lh.train_latent_hierarchy(model, train, run_dir=str(tmp_path), num_steps=2,
                                      held_out_classes=None, log_every=1, progress=False)
    last = lh.train_latent_hierarchy(model, train, run_dir=str(tmp_path), num_steps=60,
                                     held_out_classes=windows[:4], eval_every=60,
                                     log_every=1, progress=False)
    assert last["latent_nll"] < first["latent_nll"]
    assert "held_out_top_greedy_accuracy" in last
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().split("\n")
               if line]
    assert [r["step"] for r in records if r["split"] == "train"] == list(range(1, 61))
    with pytest.raises(ParameterError, match="batch_size: must be an integer >= 1"):
        lh.LatentHierarchyConfig(name="x", batch_size=0)


def test_note_loss_trains_the_conductor_through_the_frozen_two_bar_decoder(tmp_path):
    config = dataclasses.replace(TINY, latent_loss_weight=0.0, note_loss_weight=1.0,
                                 learning_rate=1e-2)
    model = lh.LatentHierarchyVAE(config, bottom=MusicVAE("tiny-mel_2bar"))
    bottom_before = [w.copy() for w in model.bottom.network.get_weights()]
    windows = random_windows(16, seed=3)
    train = model.encode_chunks(windows)

    def note_ce() -> float:  # of the conducted song means, as the top path decodes them
        song_mu, _ = model.top.encode(*train)
        ce = model.note_cross_entropy(model.top.conduct(song_mu),
                                      windows[..., 0].astype(np.int32))
        assert ce.shape == (16,)
        return float(np.mean(ce))

    with pytest.raises(ParameterError, match="weighs notes: train_classes must hold the 16"):
        lh.train_latent_hierarchy(model, train, run_dir=str(tmp_path), num_steps=1,
                                  held_out_classes=None, progress=False)
    before = note_ce()
    last = lh.train_latent_hierarchy(model, train, run_dir=str(tmp_path), num_steps=40,
                                     held_out_classes=None, train_classes=windows,
                                     log_every=1, progress=False)
    assert "note_ce" in last and note_ce() < 0.97 * before
    for weight_before, after in zip(bottom_before, model.bottom.network.get_weights()):
        np.testing.assert_array_equal(weight_before, after)


def test_transposed_copies_follow_the_windows_and_move_only_their_notes():
    windows = random_windows(6, seed=5)
    out = lh.add_transposed_copies(windows, copies=2, transpose_range=(-3, 3), depth=90, seed=0)
    assert out.shape == (18, 256, 1)
    np.testing.assert_array_equal(out[:6], windows)
    notes = windows >= 2
    shifts = set()
    for copy in (out[6:12], out[12:]):
        np.testing.assert_array_equal(copy[~notes], windows[~notes])  # holds and note-offs stay
        for moved, window, is_note in zip(copy, windows, notes):
            shift = np.unique(moved[is_note].astype(int) - window[is_note])
            assert len(shift) == 1 and -3 <= shift[0] <= 3  # one shift a window
            shifts.add(int(shift[0]))
    assert len(shifts) > 1
    assert lh.add_transposed_copies(windows, copies=0, transpose_range=(-3, 3), depth=90,
                                    seed=0).shape == windows.shape
    with pytest.raises(ParameterError, match=r"transpose_range: low must be <= high"):
        dataclasses.replace(TINY, transpose_range=(2, -2))
