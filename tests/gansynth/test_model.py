"""GANSynth: presets, progressive growth, networks, training, save/load, CLI."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from gensuite.cli.main import main
from gensuite.common.errors import ParameterError
from gensuite.gansynth.configs import PRESETS, get_config
from gensuite.gansynth.model import (
    Discriminator,
    GANSynth,
    Generator,
    check_pitches,
    harmonic_contrast,
    harmonic_masks,
    pitch_combs,
    resize_reals,
    slerp_latents,
    stage_of_images,
)
from gensuite.gansynth.trainer import (
    GANTrainer,
    contrast_floors,
    pitch_distribution,
    waves_to_images,
)
from tests.cli_run import edit_run_config

TINY = get_config("tiny-gansynth")
# Two resolutions only: trains through a fade-in within a few steps.
TWO_BLOCKS = dataclasses.replace(TINY, name="two-blocks", n_resolutions=2, start_shape=(16, 32))


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_builds_to_its_spectrogram_shape(name):
    config = PRESETS[name]
    assert config.image_shape == config.spectral.shape
    if name == "tiny-gansynth":  # the others are built by the slow tests / training
        assert Generator(config)(np.zeros((1, config.latent_size), np.float32),
                                 np.zeros((1, config.n_pitches), np.float32)).shape == \
            (1, *config.image_shape)


def test_paper_preset_keeps_magentas_sizes():
    c = get_config("gansynth_mel_prog_hires")
    assert c.image_shape == (128, 1024, 2)
    assert (c.min_pitch, c.max_pitch, c.n_pitches, c.latent_size) == (24, 84, 61, 256)
    assert [c.n_filters(b) for b in range(8)] == [256, 256, 256, 256, 256, 128, 64, 32]
    assert (c.batch_size, c.learning_rate, c.adam_beta1, c.adam_beta2) == (8, 8e-4, 0.0, 0.99)


def test_config_whose_growth_misses_the_spectrogram_is_an_error():
    with pytest.raises(ParameterError, match=r"start_shape \(2, 4\) doubled 4 times gives"):
        dataclasses.replace(TINY, n_mels=32)


def test_stage_schedule_alternates_stable_and_fade_in():
    c = TINY  # 8 images stable, 8 fading, 5 blocks
    assert stage_of_images(c, 0) == (1, None)
    assert stage_of_images(c, 7) == (1, None)
    n_blocks, alpha = stage_of_images(c, 12)
    assert n_blocks == 2 and alpha == pytest.approx(0.5)
    assert stage_of_images(c, 16) == (2, None)
    assert stage_of_images(c, 4 * 16) == (5, None)
    assert stage_of_images(c, 10_000) == (5, None)


def test_networks_run_at_every_stage_with_matching_shapes():
    g, d = Generator(TINY), Discriminator(TINY)
    z = np.zeros((3, TINY.latent_size), np.float32)
    pitch = np.eye(TINY.n_pitches, dtype=np.float32)[[0, 1, 2]]
    for n_blocks in range(1, TINY.n_resolutions + 1):
        for alpha in (None, 0.3):
            images = g.grow(z, pitch, n_blocks=n_blocks, alpha=alpha)
            scale = 2 ** (TINY.n_resolutions - n_blocks)
            assert images.shape == (3, 32 // scale, 64 // scale, 2)
            assert np.all(np.abs(images.numpy()) <= 1.0)
            score, logits = d.judge(images, n_blocks=n_blocks, alpha=alpha, pitch_one_hot=pitch)
            assert score.shape == (3,) and logits.shape == (3, TINY.n_pitches)


def test_pitch_combs_peak_at_each_pitchs_fundamental():
    linear = dataclasses.replace(TINY, n_mels=None, start_shape=(2, 8), min_pitch=57,
                                 max_pitch=81)
    combs = pitch_combs(linear)
    assert combs.shape == (25, 128) and combs.max() == 1.0
    bin_hz = linear.sample_rate / linear.n_fft  # 62.5 Hz; bin k sits at (k + 1) * bin_hz
    a4 = combs[69 - 57]
    assert np.argmax(a4) == round(440 / bin_hz) - 1
    assert a4[round(880 / bin_hz) - 1] == pytest.approx(0.5, abs=0.1)  # 2nd harmonic, 1/2
    mel = pitch_combs(get_config("cpu-gansynth_mel"))
    assert np.all(np.diff(np.argmax(mel, axis=1)) >= 0)  # higher pitch, higher band


def test_harmonic_masks_pick_the_bins_on_and_between_each_pitchs_harmonics():
    linear = dataclasses.replace(TINY, n_mels=None, start_shape=(2, 8), min_pitch=69,
                                 max_pitch=81, max_output_hz=None)
    on, between = harmonic_masks(linear)
    assert on.shape == (2, 13, 128)  # bands x pitches x bins
    bin_hz = linear.sample_rate / linear.n_fft  # 62.5 Hz; bin k sits at (k + 1) * bin_hz
    a4_low = on[0, 0]  # A4 = 440 Hz, 0-2 kHz: harmonics 1-4
    on_hz = (np.flatnonzero(a4_low) + 1) * bin_hz
    between_hz = (np.flatnonzero(between[0, 0]) + 1) * bin_hz
    assert np.round(on_hz / 440).tolist() == [1] * 3 + [2] * 3 + [3] * 3 + [4] * 3
    assert np.all(np.abs(on_hz / 440 - np.round(on_hz / 440)) < 0.2)
    assert np.unique(np.floor(between_hz / 440)).tolist() == [1, 2, 3, 4]  # 1.5 to 4.5 f0
    assert np.all(np.abs(between_hz / 440 - np.floor(between_hz / 440) - 0.5) < 0.15)
    np.testing.assert_allclose(a4_low.sum(), 1.0)
    assert on[1, 0, :31].sum() == 0 and on[1, 0].sum() == pytest.approx(1.0)  # 2 kHz and up
    # Nothing above max_output_hz counts: a band past it has no contrast.
    on, between = harmonic_masks(dataclasses.replace(linear, max_output_hz=2000.0))
    assert on[1].sum() == 0 and between[1].sum() == 0 and on[0, 0].sum() == pytest.approx(1.0)


def test_harmonic_contrast_is_high_for_a_harmonic_tone_and_near_zero_for_noise():
    pitch = np.array([60, 60])
    t = np.arange(TINY.n_samples) / TINY.sample_rate
    f0_hz = 440.0 * 2.0 ** ((60 - 69) / 12)
    tone = sum(np.sin(2 * np.pi * h * f0_hz * t) / h for h in range(1, 12))
    noise = np.random.default_rng(0).standard_normal(TINY.n_samples)
    images = waves_to_images(0.2 * np.stack([tone, noise]).astype(np.float32), config=TINY)
    contrast = harmonic_contrast(tf.constant(images), tf.one_hot(pitch - TINY.min_pitch,
                                                                TINY.n_pitches),
                                 harmonic_masks(TINY)).numpy()
    assert contrast.shape == (2, 2)
    assert contrast[0, 0] > 0.15  # 10 dB: partials of tiny's wide mel bands, in image units
    assert abs(contrast[1, 0]) < 0.05


def test_contrast_floors_are_each_pitchs_median_and_minus_two_without_notes():
    config = dataclasses.replace(TINY, min_pitch=58, max_pitch=62, max_output_hz=2000.0)
    pitches = np.array([58, 58, 58, 60])
    images = np.zeros((4, *config.image_shape), np.float32)
    masks = harmonic_masks(config)
    for i, level in enumerate([0.1, 0.3, 0.2, 0.5]):  # lift the harmonic bins of pitch i
        images[i, ..., 0] = level * (masks[0, 0, pitches[i] - 58] > 0)
    floors = contrast_floors(images, pitches, config=config)
    assert floors.shape == (5, 2)
    assert floors[0, 0] == pytest.approx(0.2) and floors[2, 0] == pytest.approx(0.5)
    assert floors[1, 0] == -2.0 and np.all(floors[:, 1] == -2.0)  # no notes; no usable bin


def test_comb_conditioned_networks_run_at_every_stage_and_need_the_pitch():
    config = dataclasses.replace(TINY, pitch_comb=True)
    g, d = Generator(config, seed=0), Discriminator(config, seed=1)
    z = np.zeros((2, config.latent_size), np.float32)
    pitch = np.eye(config.n_pitches, dtype=np.float32)[[0, 4]]
    for n_blocks in range(1, config.n_resolutions + 1):
        for alpha in (None, 0.3):
            images = g.grow(z, pitch, n_blocks=n_blocks, alpha=alpha)
            score, _ = d.judge(images, n_blocks=n_blocks, alpha=alpha, pitch_one_hot=pitch)
            assert score.shape == (2,)
    # Same latent, other pitch: only the comb and the one-hot tell them apart.
    assert not np.allclose(images[0], images[1])
    with pytest.raises(ParameterError, match="scores notes per pitch"):
        d.judge(images, n_blocks=config.n_resolutions)


def test_projection_discriminator_scores_a_note_per_pitch():
    d = Discriminator(dataclasses.replace(TINY, pitch_comb=False, pitch_projection=True), seed=0)
    images = np.random.default_rng(0).uniform(-1, 1, (2, *TINY.image_shape)).astype(np.float32)
    images = np.concatenate([images, images])
    pitch = np.eye(TINY.n_pitches, dtype=np.float32)[[0, 1, 3, 4]]
    score, logits = d.judge(images, n_blocks=TINY.n_resolutions, pitch_one_hot=pitch)
    assert not np.allclose(score[:2], score[2:])  # same notes, other pitches
    np.testing.assert_allclose(logits[:2], logits[2:], atol=1e-5)
    with pytest.raises(ParameterError, match="scores notes per pitch"):
        d.judge(images, n_blocks=TINY.n_resolutions)


def test_fade_in_at_alpha_zero_equals_the_previous_stage_upscaled():
    g = Generator(TINY)
    z = np.random.default_rng(0).standard_normal((2, TINY.latent_size)).astype(np.float32)
    pitch = np.eye(TINY.n_pitches, dtype=np.float32)[[0, 4]]
    coarse = g.grow(z, pitch, n_blocks=2).numpy()
    faded = g.grow(z, pitch, n_blocks=3, alpha=0.0).numpy()
    np.testing.assert_allclose(faded, np.repeat(np.repeat(coarse, 2, 1), 2, 2), atol=1e-6)


def test_reals_are_blended_like_the_generator_output():
    x = np.random.default_rng(0).uniform(-1, 1, (1, 32, 64, 2)).astype(np.float32)
    full = np.asarray(resize_reals(x, n_blocks=5, alpha=None, n_resolutions=5))
    np.testing.assert_allclose(full, x)
    half = resize_reals(x, n_blocks=4, alpha=None, n_resolutions=5).numpy()
    assert half.shape == (1, 16, 32, 2)
    np.testing.assert_allclose(half[0, 0, 0], x[0, :2, :2].mean(axis=(0, 1)), rtol=1e-5)


def test_check_pitches_names_the_models_range():
    with pytest.raises(ParameterError, match=r"plays MIDI pitches 58-62, got \[40, 90\]"):
        check_pitches([60, 40, 90], TINY)
    with pytest.raises(ParameterError, match="non-empty list"):
        check_pitches([], TINY)
    assert check_pitches([58, 62], TINY).dtype == np.int32


def test_slerp_latents_keeps_both_ends():
    a, b = np.ones(8, np.float32), -np.arange(8, dtype=np.float32)
    path = slerp_latents(a, b, num_steps=5)
    assert path.shape == (5, 8)
    np.testing.assert_allclose(path[0], a, atol=1e-6)
    np.testing.assert_allclose(path[-1], b, atol=1e-5)
    with pytest.raises(ParameterError, match="num_steps: must be >= 2, got 1"):
        slerp_latents(a, b, num_steps=1)


@pytest.mark.slow
def test_generate_is_batched_and_seeded():
    model = GANSynth(TINY)
    waves = model.generate([58, 60, 62], seed=3, batch_size=2)
    assert waves.shape == (3, TINY.n_samples) and waves.dtype == np.float32
    np.testing.assert_array_equal(waves, model.generate([58, 60, 62], seed=3))
    assert not np.allclose(waves, model.generate([58, 60, 62], seed=4))
    op_by_op = model.generate([58, 60, 62], seed=3, compiled=False)  # the same notes, untraced
    np.testing.assert_allclose(op_by_op, waves, rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(op_by_op, model.generate([58, 60, 62], seed=3, compiled=False))
    with pytest.raises(ParameterError, match=r"z: must have shape \(3, 8\)"):
        model.generate([58, 60, 62], np.zeros((2, 8), np.float32))


def test_generated_notes_start_at_their_attack():
    from gensuite.audio.envelopes import start_at_attack

    model = GANSynth(dataclasses.replace(TINY, max_output_hz=None))  # no low-pass after the cut
    as_made = model.generate([58, 62], seed=3, compiled=False, start_at_attack=False)
    played = model.generate([58, 62], seed=3, compiled=False)
    for made, note in zip(as_made, played):
        np.testing.assert_array_equal(note, start_at_attack(made, sample_rate=TINY.sample_rate))
    assert np.all(played[:, 0] == 0)  # every note fades in from silence


@pytest.mark.slow
def test_a_partly_grown_model_plays_its_stage_upscaled_and_saves_it(tmp_path):
    from gensuite.audio.spectral import low_pass, specgrams_to_waves
    from gensuite.gansynth.layers import upscale

    model = GANSynth(TINY, n_blocks=2)
    z = model.make_latents(2, seed=0)
    images = model.generator.grow(tf.constant(z), tf.one_hot([0, 2], TINY.n_pitches), n_blocks=2)
    waves = specgrams_to_waves(upscale(images, 2 ** (TINY.n_resolutions - 2)), config=TINY.spectral)
    expected = low_pass(waves, max_hz=TINY.max_output_hz, sample_rate=TINY.sample_rate).numpy()
    # The notes as generated: this checks the stage, not the harmonic lock or the onsets.
    as_made = {"lock_harmonics": False, "start_at_attack": False}
    np.testing.assert_allclose(model.generate([58, 60], z, **as_made), expected,
                               rtol=1e-4, atol=1e-3)
    assert not np.allclose(GANSynth(TINY, generator=model.generator).generate(
        [58, 60], z, **as_made), expected, atol=1e-3)
    model.save(tmp_path / "model")
    loaded = GANSynth.load(tmp_path / "model")
    assert (loaded.n_blocks, loaded.alpha) == (2, None)
    np.testing.assert_allclose(loaded.generate([58, 60], z, **as_made), expected,
                               rtol=1e-4, atol=1e-3)
    with pytest.raises(ParameterError, match="n_blocks: must be 1-5 for config tiny-gansynth, got 0"):
        GANSynth(TINY, n_blocks=0)


def test_pitch_input_scale_multiplies_the_one_hot_where_it_joins_z():
    plain = dataclasses.replace(TINY, pitch_input_scale=1.0, pitch_comb=False)
    scaled = dataclasses.replace(TINY, pitch_input_scale=4.0, pitch_comb=False)
    z = tf.random.normal([2, TINY.latent_size], seed=0)
    one_hot = tf.one_hot([0, 3], TINY.n_pitches)
    np.testing.assert_allclose(
        Generator(scaled, seed=0).grow(z, one_hot, n_blocks=2),
        Generator(plain, seed=0).grow(z, 4.0 * one_hot, n_blocks=2), atol=1e-6)


def test_pitch_distribution_counts_model_pitches():
    probs = pitch_distribution(np.array([58, 58, 60, 62]), TINY)
    np.testing.assert_allclose(probs, [0.5, 0, 0.25, 0, 0.25])


def _sine_notes(config, pitches):
    t = np.arange(config.n_samples) / config.sample_rate
    hz = 440.0 * 2.0 ** ((np.asarray(pitches)[:, None] - 69) / 12)
    return (0.5 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


@pytest.mark.slow
def test_training_resumes_exactly_and_exports_a_loadable_model(tmp_path):
    pitches = np.repeat(np.arange(58, 63), 2)
    images = waves_to_images(_sine_notes(TWO_BLOCKS, pitches), config=TWO_BLOCKS)
    assert images.shape == (10, *TWO_BLOCKS.image_shape)
    assert images.min() >= -1 and images.max() <= 1
    run = tmp_path / "run"
    trainer = GANTrainer(TWO_BLOCKS, run, specgrams=images, pitches=pitches, progress=False,
                         log_every=2, checkpoint_every_minutes=0.0)  # save + samples each step
    metrics = trainer.fit(num_steps=6)  # 24 images: stable, fade-in, stable at 2 blocks
    assert trainer.step == 6 and metrics["n_blocks"] == 2
    assert (trainer.model().n_blocks, trainer.model().alpha) == (2, None)
    assert sorted(p.name for p in (run / "samples" / "step_000006").iterdir()) == [
        "pitch_058.wav", "pitch_059.wav", "pitch_061.wav", "pitch_062.wav"]
    mid_run = GANSynth.load(run / "export")  # refreshed at every checkpoint
    np.testing.assert_allclose(mid_run.generate([60], seed=1), trainer.model().generate([60], seed=1),
                               atol=1e-5)
    assert all(np.isfinite(v) for v in metrics.values())
    again = GANTrainer(TWO_BLOCKS, run, specgrams=images, pitches=pitches, progress=False)
    assert again.restored_step == 6
    for a, b in zip(trainer.generator_ema.get_weights(), again.generator_ema.get_weights()):
        np.testing.assert_array_equal(a, b)
    trainer.export(tmp_path / "model", figures={"steps": 6})
    loaded = GANSynth.load(tmp_path / "model")
    np.testing.assert_allclose(loaded.generate([60], seed=1), trainer.model().generate([60], seed=1),
                               atol=1e-5)


@pytest.mark.parametrize("conditioning", ["pitch_projection", "pitch_comb"])
@pytest.mark.slow
def test_pitch_conditioned_training_pairs_each_fake_with_a_real_notes_pitch(tmp_path,
                                                                            conditioning):
    config = dataclasses.replace(TWO_BLOCKS, **{conditioning: True})
    pitches = np.arange(58, 63)
    images = waves_to_images(_sine_notes(config, pitches), config=config)
    trainer = GANTrainer(config, tmp_path, specgrams=images, pitches=pitches, progress=False)
    rng = np.random.default_rng(0)
    np.testing.assert_array_equal(trainer.fake_labels(rng, np.array([4, 0, 4])), [4, 0, 4])
    metrics = trainer.fit(num_steps=2)
    assert all(np.isfinite(v) for v in metrics.values())


@pytest.mark.slow
def test_mode_seeking_adds_the_inverse_latent_spread_to_the_generator_loss(tmp_path):
    pitches = np.arange(58, 63)
    images = waves_to_images(_sine_notes(TWO_BLOCKS, pitches), config=TWO_BLOCKS)
    losses = {}
    for weight in (0.0, 2.0):
        config = dataclasses.replace(TWO_BLOCKS, mode_seeking_weight=weight)
        trainer = GANTrainer(config, tmp_path / str(weight), specgrams=images, pitches=pitches,
                             progress=False)
        losses[weight] = trainer.train_step(np.random.default_rng(0))
    # Same weights and batch (the pair latents are drawn last): only the term differs.
    spread = losses[2.0]["latent_spread"]
    assert "latent_spread" not in losses[0.0] and spread > 0
    assert losses[2.0]["g_loss"] - losses[0.0]["g_loss"] == pytest.approx(
        2.0 / (spread + 1e-5), rel=1e-4)


@pytest.mark.slow
def test_harmonic_contrast_adds_its_shortfall_to_the_generator_loss_once_grown(tmp_path):
    pitches = np.arange(58, 63)
    images = waves_to_images(_sine_notes(TWO_BLOCKS, pitches), config=TWO_BLOCKS)
    saved = GANSynth(TWO_BLOCKS)  # fully grown, random weights
    losses = {}
    for weight in (0.0, 3.0):
        config = dataclasses.replace(TWO_BLOCKS, harmonic_contrast_weight=weight)
        trainer = GANTrainer(config, tmp_path / str(weight), specgrams=images, pitches=pitches,
                             progress=False)
        assert "contrast_shortfall" not in trainer.train_step(np.random.default_rng(0))
        trainer = GANTrainer(config, tmp_path / f"grown{weight}", specgrams=images,
                             pitches=pitches, progress=False)
        trainer.start_from_saved(saved, step=8)  # fully grown
        losses[weight] = trainer.train_step(np.random.default_rng(0))
    shortfall = losses[3.0]["contrast_shortfall"]
    assert "contrast_shortfall" not in losses[0.0] and shortfall > 0  # random weights: no partials
    assert losses[3.0]["g_loss"] - losses[0.0]["g_loss"] == pytest.approx(3.0 * shortfall,
                                                                          rel=1e-4)


@pytest.mark.slow
def test_a_run_started_from_a_saved_generator_warms_up_its_discriminator_and_resumes(tmp_path):
    pitches = np.repeat(np.arange(58, 63), 2)
    images = waves_to_images(_sine_notes(TWO_BLOCKS, pitches), config=TWO_BLOCKS)
    first = GANTrainer(TWO_BLOCKS, tmp_path / "first", specgrams=images, pitches=pitches,
                       progress=False)
    first.fit(num_steps=6)
    saved = first.export(tmp_path / "model")
    run = tmp_path / "second"
    trainer = GANTrainer(TWO_BLOCKS, run, specgrams=images, pitches=pitches, progress=False)
    with pytest.raises(ParameterError, match="not fully grown at step 2"):
        trainer.start_from_saved(saved, step=2)
    trainer.start_from_saved(saved, step=6)
    d_before = [w.copy() for w in trainer.discriminator.get_weights()]
    trainer.warm_up_discriminator(3)
    assert trainer.step == 6 and int(trainer.d_optimizer.iterations) == 3
    for a, b in zip(trainer.generator.get_weights(), saved.generator.get_weights()):
        np.testing.assert_array_equal(a, b)  # the generator waited
    assert any(np.any(a != b) for a, b in zip(trainer.discriminator.get_weights(), d_before))
    again = GANTrainer(TWO_BLOCKS, run, specgrams=images, pitches=pitches, progress=False)
    assert again.restored_step == 6  # the warm-up's checkpoint, at the saved step
    assert (run / "checkpoints" / "ckpt-6.index").exists()  # named by the run's step
    with pytest.raises(ParameterError, match="resumes from them"):
        again.start_from_saved(saved, step=6)
    metrics = again.fit(num_steps=8)
    assert again.step == 8 and metrics["n_blocks"] == 2
    # Adam's first step after the warm-up counts from 1, not from the saved step.
    assert int(again.g_optimizer.iterations) == 2


def test_run_folder_of_another_config_is_refused(tmp_path):
    pitches = np.array([58, 60])
    images = np.zeros((2, *TWO_BLOCKS.image_shape), np.float32)
    GANTrainer(TWO_BLOCKS, tmp_path, specgrams=images, pitches=pitches, progress=False)
    other = dataclasses.replace(TWO_BLOCKS, learning_rate=1e-3)
    with pytest.raises(ParameterError, match="holds a run of config 'two-blocks'"):
        GANTrainer(other, tmp_path, specgrams=images, pitches=pitches, progress=False)


def test_trainer_refuses_notes_outside_the_pitch_range(tmp_path):
    images = np.zeros((2, *TWO_BLOCKS.image_shape), np.float32)
    with pytest.raises(ParameterError, match="plays 58-62, the data hold 40-60"):
        GANTrainer(TWO_BLOCKS, tmp_path, specgrams=images, pitches=np.array([40, 60]),
                   progress=False)


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("gansynth") / "model"
    GANSynth(TINY).save(path, figures={"steps": 0})
    return str(path)


@pytest.mark.slow
def test_cli_generate_writes_one_wav_per_pitch(tiny_model_dir, tmp_path, capsys):
    import soundfile

    out = tmp_path / "notes"
    assert main(["gansynth", "generate", "--checkpoint", tiny_model_dir, "--pitches", "59-61",
                 "--instrument-seed", "2", "--out", str(out)]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["pitch_059.wav", "pitch_060.wav", "pitch_061.wav"]
    wave, rate = soundfile.read(out / "pitch_060.wav")
    assert rate == TINY.sample_rate and len(wave) == TINY.n_samples
    assert "instrument seed 2" in capsys.readouterr().out


@pytest.mark.parametrize("flag", ["--num-outputs", "--num-steps"])  # the old name, hidden
@pytest.mark.slow
def test_cli_interpolate_writes_steps_and_the_morph(tiny_model_dir, tmp_path, flag):
    out = tmp_path / "morph"
    assert main(["gansynth", "interpolate", "--checkpoint", tiny_model_dir, "--pitch", "60",
                 flag, "3", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "morph.wav", "step_00.wav", "step_01.wav", "step_02.wav"]


def test_cli_interpolate_needs_both_ends(tiny_model_dir, tmp_path, capsys):
    assert main(["gansynth", "interpolate", "--checkpoint", tiny_model_dir, "--pitch", "60",
                 "--num-outputs", "1", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "--num-outputs: must be >= 2 for interpolate (both ends), got 1" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.slow
def test_cli_generate_takes_any_pitch_list(tiny_model_dir, tmp_path, capsys):
    out = tmp_path / "notes"
    assert main(["gansynth", "generate", "--checkpoint", tiny_model_dir, "--pitches",
                 "62,58-59", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "pitch_058.wav", "pitch_059.wav", "pitch_062.wav"]
    assert "3 notes (pitches 62,58-59, instrument seed 0)" in capsys.readouterr().out


def test_cli_pitches_outside_the_model_are_one_line_exit_2(tiny_model_dir, tmp_path, capsys):
    assert main(["gansynth", "generate", "--checkpoint", tiny_model_dir, "--pitches", "30-40",
                 "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "this model plays MIDI pitches 58-62, got [30, 31, " in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_cli_malformed_pitch_range_is_one_line_exit_2(tiny_model_dir, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["gansynth", "generate", "--checkpoint", tiny_model_dir, "--pitches", "x",
              "--out", str(tmp_path / "o")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "argument --pitches: must be LOW-HIGH" in err and len(err.strip().splitlines()) == 1


def test_cli_unknown_checkpoint_is_one_line_exit_2(tmp_path, capsys):
    assert main(["gansynth", "generate", "--checkpoint", str(tmp_path / "nope"),
                 "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "no such checkpoint folder or shipped name" in err
    assert len(err.strip().splitlines()) == 1



def write_sine_nsynth(folder, config, pitches):
    from gensuite.audio.nsynth import rendered_note, write_nsynth

    waves = _sine_notes(config, pitches)
    write_nsynth([rendered_note(program=0, family=4, pitch=int(p), velocity=100, audio=w,
                                sample_rate=config.sample_rate)
                  for p, w in zip(pitches, waves)], folder)


@pytest.mark.slow
def test_cli_train_then_evaluate_on_an_nsynth_folder(tmp_path, capsys):
    import json

    data = tmp_path / "notes"
    write_sine_nsynth(data, TINY, [40, 58, 59, 60, 61, 62])  # 40: outside the model, left out
    run = tmp_path / "run"
    assert main(["gansynth", "train", "--config", "tiny-gansynth", "--data", str(data),
                 "--run-dir", str(run), "--num-steps", "3"]) == 0
    out = capsys.readouterr().out
    assert "5 notes, pitches 58-62, 1 instruments" in out
    assert "step 3/3" in out and f"exported {run / 'export'}" in out
    assert main(["gansynth", "evaluate", "--checkpoint", str(run / "export"), "--data",
                 str(data), "--num-notes", "5", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["n_notes"] == 5
    assert figures["real_pitch_accuracy"] == 1.0  # pure sines: the ceiling
    assert 0.0 <= figures["pitch_accuracy"] <= 1.0 and figures["spectral_distance"] >= 0.0
    assert figures["timbre_spread"] >= 0.0
    assert {"onset_click_db", "real_onset_click_db"} <= set(figures)
    assert "real_timbre_spread" not in figures  # one real note at the middle pitch, 60


@pytest.mark.slow
def test_cli_init_from_continues_another_runs_checkpoints_with_other_loss_weights(
        tmp_path, capsys):
    data = tmp_path / "notes"
    write_sine_nsynth(data, TINY, [59, 60, 61])
    old, new = tmp_path / "old", tmp_path / "new"
    assert main(["gansynth", "train", "--config", "tiny-gansynth", "--data", str(data),
                 "--run-dir", str(old), "--num-steps", "2"]) == 0
    # The preset has since changed its loss weight: the old run recorded another.
    edit_run_config(old, mode_seeking_weight=TINY.mode_seeking_weight + 1.0)
    capsys.readouterr()
    assert main(["gansynth", "train", "--config", "tiny-gansynth", "--data", str(data),
                 "--run-dir", str(new), "--num-steps", "3", "--init-from", str(old)]) == 0
    out = capsys.readouterr().out
    assert f"starting from the checkpoints of {old}" in out
    assert "resuming from step 2" in out and "step 3/3" in out

    edit_run_config(old, latent_size=TINY.latent_size + 1)  # a weight's shape: refused
    assert main(["gansynth", "train", "--config", "tiny-gansynth", "--data", str(data),
                 "--run-dir", str(tmp_path / "other"), "--init-from", str(old)]) == 2
    err = capsys.readouterr().err
    assert "--init-from" in err and "latent_size" in err and len(err.strip().splitlines()) == 1
    assert main(["gansynth", "train", "--config", "tiny-gansynth", "--data", str(data),
                 "--run-dir", str(tmp_path / "other"), "--init-from", str(data)]) == 2
    assert "holds no training checkpoints" in capsys.readouterr().err


@pytest.mark.slow
def test_cli_init_from_a_saved_model_trains_on_several_data_folders(tmp_path, capsys,
                                                                    monkeypatch):
    import gensuite.cli.gansynth as cli

    monkeypatch.setattr(cli, "DISCRIMINATOR_WARMUP_STEPS", 2)
    low, high = tmp_path / "low", tmp_path / "high"
    write_sine_nsynth(low, TINY, [58, 59])
    write_sine_nsynth(high, TINY, [61, 62])
    model = tmp_path / "grown"
    first = GANTrainer(TINY, tmp_path / "first", specgrams=waves_to_images(
        _sine_notes(TINY, [58, 62]), config=TINY), pitches=np.array([58, 62]), progress=False)
    first.step_offset.assign(40)  # past tiny's 36 steps of growth
    first.export(model, figures={"steps": 40})
    # Both folders reuse instrument id 0: two instruments, the second from a soundfont.
    (high / "report.json").write_text('{"soundfont": "x.sf2"}')
    run = tmp_path / "run"
    assert main(["gansynth", "train", "--config", "tiny-gansynth_instruments", "--data",
                 str(low), str(high), "--run-dir", str(run), "--num-steps", "42",
                 "--init-from", str(model)]) == 0
    out = capsys.readouterr().out
    assert "4 notes, pitches 58-62, 2 instruments" in out
    assert (f"starting from the generator of {model} at step 40; training a new "
            "discriminator alone for 2 steps") in out
    assert "step 42/42" in out
    assert GANSynth.load(run / "export").instruments == [
        {"name": "low:keyboard_acoustic_000", "family": "keyboard", "program": None},
        {"name": "high:keyboard_acoustic_000", "family": "keyboard", "program": 0}]
    assert main(["gansynth", "train", "--config", "tiny-gansynth", "--data", str(low),
                 "--run-dir", str(tmp_path / "other"), "--init-from", str(low)]) == 2
    err = capsys.readouterr().err
    assert f"{low}: holds no training checkpoints (checkpoints/) and is not a saved GANSynth" \
        in err and len(err.strip().splitlines()) == 1


@pytest.mark.slow
def test_max_output_hz_low_passes_the_generated_notes():
    def top_band_energy(config):
        waves = GANSynth(config).generate([60, 61], seed=0)
        spectrum = np.abs(np.fft.rfft(waves, axis=-1)) ** 2
        hz = np.fft.rfftfreq(config.n_samples, 1 / config.sample_rate)
        return spectrum[:, hz > 7000].sum() / spectrum.sum()

    # An untrained generator: noise up to Nyquist.
    assert top_band_energy(dataclasses.replace(TINY, max_output_hz=None)) > 1e-3
    assert top_band_energy(dataclasses.replace(TINY, max_output_hz=7000.0)) < 1e-9


def test_timbre_spread_is_zero_for_one_timbre_and_the_spectral_std_otherwise():
    from gensuite.gansynth.evaluation import timbre_spread

    note = np.random.default_rng(0).random((6, 5, 2)).astype(np.float32)
    assert timbre_spread(np.stack([note] * 4)) == 0.0  # any latent, the same note
    louder = note.copy()
    louder[..., 0] += 0.5  # 0.5 higher log-magnitude in every bin: std 0.25 over two notes
    assert timbre_spread(np.stack([note, louder])) == pytest.approx(0.25)


def test_onset_click_is_the_onsets_bright_band_over_the_bodys():
    from gensuite.gansynth.evaluation import onset_click_db

    rate = 16000
    t = np.arange(rate) / rate
    note = (0.3 * np.sin(2 * np.pi * 440 * t) * np.minimum(t / 0.01, 1.0)).astype(np.float32)
    clicked = note.copy()
    clicked[:64] += np.random.default_rng(0).standard_normal(64).astype(np.float32)
    smooth, click = (onset_click_db(np.stack([w]), sample_rate=rate) for w in (note, clicked))
    assert click > smooth + 20 and click > 10
    assert np.isnan(onset_click_db(note[None, :4096], sample_rate=rate))  # no body to compare


def test_instrument_consistency_counts_each_latents_majority_class():
    from gensuite.gansynth.evaluation import instrument_consistency

    top = np.array([0, 0, 1, 2, 2, -1])
    instruments = np.array([0, 0, 0, 1, 1, 1])
    # latent 0: class 0 twice of 3; latent 1: class 2 twice, one silent note.
    assert instrument_consistency(top, instruments) == pytest.approx(4 / 6)


def test_classifier_figures_on_real_length_notes():
    from gensuite.analysis.model import AudioClassifier
    from gensuite.gansynth.evaluation import classifier_figures

    classifier = AudioClassifier("tiny-cnn", class_names=["a", "b"])
    rate = classifier.sample_rate
    t = np.arange(2 * rate) / rate
    waves = np.stack([0.3 * np.sin(2 * np.pi * f * t) for f in (220, 330, 440, 550)])
    figures = classifier_figures(classifier, fake_waves=waves, instruments=np.array([0, 0, 1, 1]),
                                 real_waves=waves[::-1].copy(), sample_rate=rate)
    assert 0.5 <= figures["instrument_consistency"] <= 1.0
    assert figures["embedding_frechet_distance"] == pytest.approx(0.0, abs=1e-6)


def test_network_seed_fixes_the_initial_weights():
    a, b, c = Generator(TINY, seed=1), Generator(TINY, seed=1), Generator(TINY, seed=2)
    for x, y in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(x, y)
    assert not np.allclose(a.get_weights()[0], c.get_weights()[0])


# ---------------------------------------------------------------- instruments

TINY_INSTRUMENTS = get_config("tiny-gansynth_instruments")
NAMES = [{"name": f"sf{i}:keyboard_acoustic_000", "family": "keyboard", "program": 0}
         for i in range(3)]


def test_a_conditioned_config_needs_an_instrument_table_for_its_reconstruction_loss():
    with pytest.raises(ParameterError, match="reconstruction_weight needs n_instruments >= 1"):
        dataclasses.replace(TINY, reconstruction_weight=1.0)
    assert TINY_INSTRUMENTS.timbre_size == TINY.latent_size + 4


def test_an_unconditioned_generator_gains_an_instrument_table_and_plays_as_before():
    from gensuite.gansynth.trainer import transplant_weights

    plain = Generator(TINY, seed=1)
    conditioned = Generator(TINY_INSTRUMENTS, seed=2)
    conditioned.set_weights(transplant_weights(plain, conditioned))
    z = np.random.default_rng(0).standard_normal((3, TINY.latent_size)).astype(np.float32)
    one_hot = tf.one_hot([0, 2, 4], TINY.n_pitches)
    before = plain(z, one_hot).numpy()
    for row in range(4):  # every instrument, while its row is zeros
        weights = np.eye(4, dtype=np.float32)[[row] * 3]
        np.testing.assert_array_equal(conditioned(np.concatenate([z, weights], 1), one_hot),
                                      before)
    conditioned.instrument_table.embeddings.assign(
        np.random.default_rng(1).standard_normal((4, conditioned.instrument_table.output_dim)))
    rows = [conditioned(np.concatenate([z, np.eye(4, dtype=np.float32)[[r] * 3]], 1),
                        one_hot).numpy() for r in range(2)]
    assert np.abs(rows[0] - rows[1]).mean() > 0.01  # a learnt row changes the timbre
    other = Generator(dataclasses.replace(TINY_INSTRUMENTS, n_instruments=5))
    with pytest.raises(ParameterError, match="instrument_table/embeddings has shape"):
        transplant_weights(conditioned, other)


def test_timbre_latents_are_z_then_a_trained_instrument_one_hot():
    from gensuite.gansynth.timbres import draw_timbres

    plain = draw_timbres(2, latent_size=8, seed=5)
    # Unconditioned latents are the seed's first normals, as before instruments existed.
    np.testing.assert_array_equal(
        plain, np.random.default_rng(5).standard_normal(16).astype(np.float32).reshape(2, 8))
    latents = draw_timbres(64, latent_size=8, n_instruments=4, n_trained=3, seed=5)
    assert latents.shape == (64, 12)
    np.testing.assert_array_equal(latents[:, :8], plain.tolist() + latents[2:, :8].tolist())
    weights = latents[:, 8:]
    assert np.all(weights.sum(1) == 1) and np.all(weights[:, 3] == 0)  # row 3: no data
    assert set(weights.argmax(1)) == {0, 1, 2}
    pinned = draw_timbres(2, latent_size=8, n_instruments=4, n_trained=3, seed=5,
                          instruments=[2, 0])
    assert pinned[:, 8:].argmax(1).tolist() == [2, 0]
    with pytest.raises(ParameterError, match="must be 2 rows in 0-2, got"):
        draw_timbres(2, latent_size=8, n_instruments=4, n_trained=3, instruments=[3, 0])


def test_each_program_plays_on_its_own_instrument_else_the_nearest_of_its_family():
    from gensuite.gansynth.timbres import instrument_for_program

    instruments = [{"name": "a", "family": "keyboard", "program": 0},
                   {"name": "b", "family": "string", "program": 40},
                   {"name": "c", "family": "string", "program": 48},
                   {"name": "d", "family": "keyboard", "program": 0},
                   {"name": "e", "family": "brass", "program": None}]
    assert instrument_for_program(0, instruments) == 0  # the first of two
    assert instrument_for_program(42, instruments) == 1  # cello: nearest string
    assert instrument_for_program(49, instruments) == 2
    assert instrument_for_program(56, instruments) == 4  # trumpet: the brass row
    assert instrument_for_program(73, instruments) == 2  # flute: no flute, nearest program


@pytest.mark.slow
def test_conditioned_training_reconstructs_each_real_notes_instrument(tmp_path):
    config = dataclasses.replace(TWO_BLOCKS, n_instruments=4, reconstruction_weight=2.0,
                                 mode_seeking_weight=0.0)
    pitches = np.repeat([58, 60, 62], 2)
    images = waves_to_images(_sine_notes(config, pitches), config=config)
    with pytest.raises(ParameterError, match="needs each note's instrument row"):
        GANTrainer(config, tmp_path / "a", specgrams=images, pitches=pitches,
                   instrument_names=NAMES, progress=False)
    with pytest.raises(ParameterError, match="rows must be in 0-2, got 0-3"):
        GANTrainer(config, tmp_path / "b", specgrams=images, pitches=pitches,
                   instruments=np.array([0, 1, 2, 3, 0, 1]), instrument_names=NAMES,
                   progress=False)
    trainer = GANTrainer(config, tmp_path / "run", specgrams=images, pitches=pitches,
                         instruments=np.array([0, 1, 2, 0, 1, 2]), instrument_names=NAMES,
                         progress=False)
    metrics = trainer.fit(num_steps=2)
    assert metrics["reconstruction_error"] > 0 and np.isfinite(metrics["g_loss"])
    saved = trainer.export(tmp_path / "model")
    loaded = GANSynth.load(tmp_path / "model")
    assert loaded.instruments == NAMES
    z = loaded.make_latents(2, seed=3, instruments=[1, 2])
    np.testing.assert_allclose(loaded.generate([60, 62], z), saved.generate([60, 62], z),
                               atol=1e-5)
    with pytest.raises(ParameterError, match=r"z: must have shape \(2, 12\)"):
        loaded.generate([60, 62], z[:, :8])


@pytest.mark.slow
def test_cli_generate_plays_a_named_instrument(tmp_path, capsys, tiny_model_dir):
    path = tmp_path / "model"
    GANSynth("tiny-gansynth_instruments", instruments=NAMES).save(path)
    assert main(["gansynth", "generate", "--checkpoint", str(path), "--pitches", "60",
                 "--instrument", "sf2:keyboard_acoustic_000", "--out", str(tmp_path / "a")]) == 0
    assert "instrument seed 0, sf2:keyboard_acoustic_000)" in capsys.readouterr().out
    assert main(["gansynth", "generate", "--checkpoint", str(path), "--pitches", "60",
                 "--instrument", "1", "--out", str(tmp_path / "b")]) == 0
    assert "sf1:keyboard_acoustic_000)" in capsys.readouterr().out
    assert main(["gansynth", "generate", "--checkpoint", str(path), "--pitches", "60",
                 "--instrument", "piano", "--out", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err
    assert "no trained instrument 'piano'; this model has rows 0-2" in err
    assert len(err.strip().splitlines()) == 1
    assert main(["gansynth", "generate", "--checkpoint", tiny_model_dir, "--pitches", "60",
                 "--instrument", "0", "--out", str(tmp_path / "d")]) == 2
    assert "is not conditioned on instruments" in capsys.readouterr().err


def test_instrument_identification_finds_each_note_nearest_its_own_instrument():
    from gensuite.gansynth.evaluation import instrument_identification

    c = TINY_INSTRUMENTS
    real_pitches = np.repeat([58, 60, 62], 3)
    rows = np.tile([0, 1, 2], 3)
    # Three instruments: the same sine at three loudnesses.
    real = _sine_notes(c, real_pitches) * np.array([1.0, 0.1, 0.01])[rows, None]

    class Echo(GANSynth):
        """Plays the real note of the asked row, or of the next row."""

        shift = 0

        def generate(self, pitches, z=None, **kwargs):
            asked = (np.asarray(z)[:, c.latent_size:].argmax(1) + self.shift) % 3
            return np.stack([real[(rows == r) & (real_pitches == p)][0]
                             for r, p in zip(asked, pitches)])

    model = Echo(c, instruments=NAMES)
    figure = instrument_identification(model, real_waves=real, real_pitches=real_pitches,
                                       real_rows=rows, n_pitches=3)
    assert figure == 1.0
    model.shift = 1
    assert instrument_identification(model, real_waves=real, real_pitches=real_pitches,
                                     real_rows=rows, n_pitches=3) == 0.0
