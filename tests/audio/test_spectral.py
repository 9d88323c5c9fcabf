"""GANSynth spectral representation: shapes, IF, mel, normalisation, round trips."""

import os

import numpy as np
import pytest
import tensorflow as tf

from gensuite.audio import spectral
from gensuite.audio.spectral import SpectralConfig
from gensuite.common.errors import ParameterError

LINEAR = SpectralConfig()
MEL = SpectralConfig(n_mels=256)


def snr_db(reference, estimate):
    reference = np.asarray(reference, np.float64)
    error = reference - np.asarray(estimate, np.float64)
    return 10 * np.log10(np.sum(reference ** 2) / np.sum(error ** 2))


@pytest.fixture(scope="module")
def piano_note():
    """A 3 s middle C on piano plus its 1 s release, 64,000 samples at 16 kHz."""
    pretty_midi = pytest.importorskip("pretty_midi")
    sf2 = os.path.join(os.path.dirname(pretty_midi.__file__), "TimGM6mb.sf2")
    midi = pretty_midi.PrettyMIDI()
    piano = pretty_midi.Instrument(program=0)
    piano.notes.append(pretty_midi.Note(velocity=100, pitch=60, start=0.0, end=3.0))
    midi.instruments.append(piano)
    try:
        audio = midi.fluidsynth(fs=16000, synthesizer=sf2)
    except (ImportError, OSError) as exc:
        pytest.skip(f"fluidsynth cannot render audio here: {exc}")
    audio = np.pad(audio, (0, max(0, 64000 - len(audio))))[:64000]
    return audio[None].astype(np.float32)


# --- Config --------------------------------------------------------------------

def test_default_geometry_is_gansynths():
    assert (LINEAR.n_frames, LINEAR.n_bins, LINEAR.shape) == (128, 1024, (128, 1024, 2))
    assert MEL.shape == (128, 256, 2)
    # 125 hops rounded up to 128 frames; the padding spans them exactly.
    assert LINEAR.pad_left == 3072
    assert 512 * 127 + 2048 == 64000 + LINEAR.pad_left


@pytest.mark.parametrize("changes, field, rule, value", [
    (dict(n_fft=512, hop_length=512), "n_fft", "> hop_length (512)", "512"),
    (dict(n_samples=64001), "n_samples", "multiple of hop_length (512)", "64001"),
    (dict(n_mels=0), "n_mels", ">= 1", "0"),
    (dict(n_mels=1025), "n_mels", "<= n_fft // 2 (1024)", "1025"),
    (dict(n_fft=2047), "n_fft", "even", "2047"),
    (dict(hop_length=0), "hop_length", ">= 1", "0"),
    (dict(mel_inverse_iterations=-1), "mel_inverse_iterations", ">= 0", "-1"),
])
def test_bad_config_names_parameter_rule_and_value(changes, field, rule, value):
    with pytest.raises(ParameterError) as err:
        SpectralConfig(**changes)
    message = str(err.value)
    assert field in message and rule in message and message.endswith(f"got {value}")


def test_config_json_round_trip():
    assert SpectralConfig.from_json(MEL.to_json()) == MEL


# --- Shapes and ranges ------------------------------------------------------------

@pytest.mark.parametrize("config", [LINEAR, MEL], ids=["linear", "mel256"])
def test_shapes_dtypes_and_range(config):
    waves = np.random.default_rng(0).normal(0, 0.3, (2, 64000))  # float64 in
    specgrams = spectral.waves_to_specgrams(waves, config=config)
    assert specgrams.shape == (2, 128, config.n_bins, 2) and specgrams.dtype == tf.float32
    assert np.all(np.abs(specgrams.numpy()) <= 1.0)
    back = spectral.specgrams_to_waves(specgrams, config=config)
    assert back.shape == (2, 64000) and back.dtype == tf.float32


@pytest.mark.parametrize("config", [LINEAR, MEL], ids=["linear", "mel256"])
def test_loud_input_is_clipped_to_unit_range(config):
    t = np.arange(64000) / 16000
    # Log-magnitude clips above |X| = e^13.4, a sine of amplitude ~1300.
    waves = 1e4 * np.sin(2 * np.pi * 440.0 * t)[None]
    specgrams = spectral.waves_to_specgrams(waves, config=config).numpy()
    assert specgrams.max() == 1.0 and specgrams.min() >= -1.0


def test_silence_maps_to_floor_and_back_to_silence():
    for config in (LINEAR, MEL):
        specgrams = spectral.waves_to_specgrams(np.zeros((1, 64000)), config=config).numpy()
        floor = spectral.MAG_NORMALIZER_A * np.log(spectral.LOG_EPSILON) + spectral.MAG_NORMALIZER_B
        np.testing.assert_allclose(specgrams[..., 0], floor, atol=1e-6)
        np.testing.assert_array_equal(specgrams[..., 1], 0.0)
        back = spectral.specgrams_to_waves(specgrams, config=config).numpy()
        np.testing.assert_allclose(back, 0.0, atol=1e-7)


def test_normalisation_constants_and_inverse():
    x = np.array([[[[np.log(1e-6), -1.0], [3.0, 0.5]]]])
    normal = spectral.normalize_specgrams(x).numpy()
    np.testing.assert_allclose(normal[..., 0], 0.0661371661726 * x[..., 0] + 0.113718730221,
                               rtol=1e-6)
    np.testing.assert_allclose(normal[..., 1], 0.8 * x[..., 1], rtol=1e-6)
    np.testing.assert_allclose(spectral.denormalize_specgrams(normal).numpy(), x, rtol=1e-5)
    assert np.all(spectral.normalize_specgrams(np.full((1, 1, 1, 2), 40.0)).numpy() == 1.0)


def test_wrong_input_shape_is_a_parameter_error():
    with pytest.raises(ParameterError, match=r"waves: must have shape \[batch, 64000\], got \(2, 500\)"):
        spectral.waves_to_specgrams(np.zeros((2, 500)), config=LINEAR)
    with pytest.raises(ParameterError, match=r"specgrams: .*\[batch, 128, 256, 2\]"):
        spectral.specgrams_to_waves(np.zeros((1, 128, 1024, 2)), config=MEL)


# --- Phase ----------------------------------------------------------------------

def test_instantaneous_frequency_matches_numpy_unwrap_diff():
    phase = np.random.default_rng(1).uniform(-np.pi, np.pi, (3, 40, 17))
    ifreq = spectral.instantaneous_frequency(phase, axis=-2).numpy()
    expected = np.diff(np.unwrap(phase, axis=1), axis=1) / np.pi
    np.testing.assert_allclose(ifreq[:, 1:], expected, atol=1e-5)
    np.testing.assert_allclose(ifreq[:, 0], phase[:, 0] / np.pi, atol=1e-6)
    assert np.all(np.abs(ifreq) <= 1.0)
    # Any axis; and integrating gives numpy's unwrapped phase back.
    ifreq0 = spectral.instantaneous_frequency(phase[0].T, axis=1).numpy()
    np.testing.assert_allclose(ifreq0.T, ifreq[0], atol=1e-6)
    np.testing.assert_allclose(spectral.unwrap_phase(phase, axis=1).numpy(),
                               np.unwrap(phase, axis=1), atol=1e-4)
    np.testing.assert_allclose(spectral.integrate_frequency(ifreq, axis=-2).numpy(),
                               np.unwrap(phase, axis=1), atol=1e-4)


# --- Mel matrix -------------------------------------------------------------------

def test_mel_matrix_bands_cover_the_spectrum_and_invert_flat_spectra():
    matrix = spectral.mel_weight_matrix(MEL)
    inverse = spectral.inverse_mel_weight_matrix(MEL)
    assert matrix.shape == (1024, 256) and inverse.shape == (256, 1024)
    assert matrix.min() >= 0 and matrix.max() <= 1.0
    assert np.all(matrix.sum(axis=0) > 0)              # every band catches a bin
    assert np.all(matrix[:-1].sum(axis=1) > 0)         # every bin below Nyquist is used
    # Band centres rise with the band index (mel spacing: wider at the top).
    centres = np.argmax(matrix, axis=0)
    assert np.all(np.diff(centres) >= 0) and centres[-1] - centres[-2] > centres[1] - centres[0]
    flat = np.ones((1, 1024))
    np.testing.assert_allclose((flat @ matrix @ inverse)[0, :-1], 1.0, rtol=1e-9)
    with pytest.raises(ParameterError, match="n_mels"):
        spectral.mel_weight_matrix(LINEAR)


# --- Round trips ------------------------------------------------------------------

# Measured on this note: linear 51.4 dB (the dropped DC bin is most of the error),
# mel-256 28.2 dB (10 refinements; 18.3 dB with none; GANSynth's phase-sum mel:
# about -0.3 dB).
@pytest.mark.parametrize("config, min_snr", [
    (LINEAR, 50.0),
    (MEL, 27.0),
    (SpectralConfig(n_mels=256, mel_inverse_iterations=0), 17.0),
], ids=["linear", "mel256", "mel256-no-refinement"])
def test_round_trip_of_a_rendered_note_keeps_high_snr(piano_note, config, min_snr):
    specgrams = spectral.waves_to_specgrams(piano_note, config=config)
    back = spectral.specgrams_to_waves(specgrams, config=config).numpy()
    assert snr_db(piano_note, back) > min_snr


def test_stft_round_trip_is_exact_without_dc():
    # Sines well above the DC bin's main lobe (+-16 Hz), which is dropped.
    rng = np.random.default_rng(2)
    t = np.arange(64000) / 16000
    freqs, phases = rng.uniform(100, 7000, 5), rng.uniform(0, 2 * np.pi, 5)
    waves = 0.2 * np.sin(2 * np.pi * freqs[:, None] * t + phases[:, None]).sum(0)[None]
    stfts = spectral.compute_stft(waves, config=LINEAR)
    assert stfts.shape == (1, 128, 1024) and stfts.dtype == tf.complex64
    back = spectral.invert_stft(stfts, config=LINEAR).numpy()
    # The last n_fft - hop samples lie under fewer windows (GANSynth's padding).
    assert snr_db(waves[:, :-1536], back[:, :-1536]) > 90


def test_traces_with_an_open_batch_dimension():
    @tf.function(input_signature=[tf.TensorSpec([None, *MEL.shape], tf.float32)])
    def to_waves(specgrams):
        return spectral.specgrams_to_waves(specgrams, config=MEL)

    specgrams = spectral.waves_to_specgrams(np.zeros((1, 64000)), config=MEL)
    assert to_waves(specgrams).shape == (1, 64000)


def test_low_pass_keeps_what_lies_below_the_cutoff_and_removes_the_rest():
    from gensuite.audio.spectral import low_pass

    t = np.arange(16000) / 16000
    low, whistle = np.sin(2 * np.pi * 440 * t), np.sin(2 * np.pi * 7800 * t)
    out = low_pass(np.stack([low + whistle, whistle]), max_hz=7400, sample_rate=16000).numpy()
    assert out.shape == (2, 16000) and out.dtype == np.float32
    np.testing.assert_allclose(out[0], low, atol=1e-4)
    assert np.abs(out[1]).max() < 1e-4


# --- Harmonic lock --------------------------------------------------------------

def harmonic_tone(f0_hz: float, n_harmonics: int = 6) -> np.ndarray:
    """A steady tone with 1/k partials, 64,000 samples at 16 kHz, shape (1, 64000)."""
    t = np.arange(64000) / 16000
    tone = sum(np.sin(2 * np.pi * k * f0_hz * t) / k for k in range(1, n_harmonics + 1))
    return (0.3 * tone)[None].astype(np.float32)


def spectral_peak_hz(wave: np.ndarray, near_hz: float) -> float:
    """Frequency of the strongest spectral line within a semitone and a half of ``near_hz``."""
    segment = wave[8000:40000] * np.hanning(32000)
    spectrum = np.abs(np.fft.rfft(segment, 1 << 18))
    hz = np.fft.rfftfreq(1 << 18, 1 / 16000)
    window = np.abs(1200 * np.log2(np.maximum(hz, 1e-9) / near_hz)) < 150
    return float(hz[window][np.argmax(spectrum[window])])


@pytest.mark.parametrize("config", [MEL, LINEAR], ids=["mel", "linear"])
def test_lock_plays_partials_whose_if_wandered_at_the_asked_pitch(config):
    # A generator's failure: magnitudes in place, IF off (here that of a tone 40 cents sharp).
    f0 = 440 * 2 ** ((64 - 69) / 12)  # E4
    in_tune = spectral.waves_to_specgrams(harmonic_tone(f0), config=config)
    sharp = spectral.waves_to_specgrams(harmonic_tone(f0 * 2 ** (40 / 1200)), config=config)
    images = tf.stack([in_tune[..., 0], sharp[..., 1]], axis=-1)
    plain = spectral.specgrams_to_waves(images, config=config).numpy()[0]
    locked = spectral.specgrams_to_waves(
        spectral.lock_to_harmonics(images, [64], config=config), config=config).numpy()[0]
    def cents_off(wave, k):
        return 1200 * np.log2(spectral_peak_hz(wave, k * f0) / (k * f0))

    assert [round(cents_off(plain, k)) for k in (1, 2)] == [40, 40]
    for k in range(1, 6):
        assert cents_off(locked, k) == pytest.approx(0, abs=1)


def test_lock_agrees_with_an_in_tune_tone_and_keeps_magnitudes_and_far_bands():
    f0 = 440 * 2 ** ((57 - 69) / 12)  # A3, 220 Hz
    images = spectral.waves_to_specgrams(harmonic_tone(f0), config=MEL)
    locked = spectral.lock_to_harmonics(images, [57], config=MEL).numpy()[0]
    images = images.numpy()[0]
    np.testing.assert_array_equal(locked[..., 0], images[..., 0])
    hz = spectral.band_hertz(MEL)
    # The loud bands' IF (a steady note's frames) hardly moves: the convention agrees.
    loud = [int(np.argmin(np.abs(hz - k * f0))) for k in range(1, 7)]
    turn = np.exp(1j * np.pi * (locked[40:100, loud, 1] - images[40:100, loud, 1]) / 0.8)
    assert np.abs(np.angle(turn)).max() < 0.05
    # Bands more than a semitone from every harmonic (below the fundamental) are untouched.
    far = hz < f0 * 2 ** (-1.5 / 12)
    assert far.sum() > 10
    np.testing.assert_array_equal(locked[:, far, 1], images[:, far, 1])


def test_lock_refuses_images_of_the_wrong_shape():
    with pytest.raises(ParameterError, match="specgrams"):
        spectral.lock_to_harmonics(np.zeros((1, 8, 8, 2), np.float32), [60], config=MEL)
