"""The audio CNN: network, save/load, track analysis, training, metrics, streaming."""

from __future__ import annotations

import dataclasses
import io
import json
import os

import numpy as np
import pytest

from gensuite.analysis.classification import (
    composition_shares,
    confusion_matrix,
    format_composition,
    frechet_distance,
    mean_embedding,
    per_class_accuracy,
)
from gensuite.analysis.configs import ClassifierConfig, get_config
from gensuite.analysis.data import LabelledTracks
from gensuite.analysis.features import (
    audible_starts,
    frame_rms_dbfs,
    log_mel_spectrogram,
    window_starts,
)
from gensuite.analysis.model import AudioClassifier, build_network
from gensuite.analysis.streaming import StreamingClassifier, file_chunks, pcm_chunks
from gensuite.analysis.trainer import ClassifierTrainer, evaluate_tracks, sample_batch
from gensuite.common.errors import InputFileError, ParameterError

TINY = get_config("tiny-cnn").with_classes(["tone", "noise"])
F = TINY.features


def tone(seconds, frequency_hz=440.0, *, amplitude=0.5, sample_rate=16000):
    t = np.arange(round(seconds * sample_rate)) / sample_rate
    return (amplitude * np.sin(2 * np.pi * frequency_hz * t)).astype(np.float32)


def noise(seconds, *, seed=0, amplitude=0.3):
    rng = np.random.default_rng(seed)
    return (amplitude * rng.standard_normal(round(seconds * 16000))).astype(np.float32)


def make_tracks(n_per_class, *, seed=0):
    """Tones (class 0, various pitches) and noise bursts (class 1) as LabelledTracks."""
    rng = np.random.default_rng(seed)
    waves, labels = [], []
    for i in range(n_per_class):
        waves.append(tone(1.0, rng.uniform(200, 2000), amplitude=rng.uniform(0.1, 0.8)))
        labels.append(0)
        waves.append(noise(1.0, seed=seed * 100 + i, amplitude=rng.uniform(0.05, 0.5)))
        labels.append(1)
    log_mel, starts = [], []
    for wave in waves:
        mel = log_mel_spectrogram(wave, features=F)
        every = np.arange(len(mel) - F.window_frames + 1)
        log_mel.append(mel.astype(np.float16))
        starts.append(every[audible_starts(frame_rms_dbfs(wave, features=F), every,
                                           features=F)].astype(np.int32))
    return LabelledTracks(files=[f"t{i}.wav" for i in range(len(waves))],
                          pieces=[f"p{i}" for i in range(len(waves))],
                          labels=np.array(labels, np.int32), log_mel=log_mel,
                          valid_starts=starts)


@pytest.fixture(scope="module")
def model():
    return AudioClassifier(TINY)


def test_network_outputs_logits_and_joined_block_embeddings():
    network = build_network(TINY)
    out = network(np.zeros((3, F.window_frames, F.n_mels), np.float32))
    assert out["logits"].shape == (3, 2)
    assert out["embedding"].shape == (3, sum(TINY.filters)) == (3, TINY.embedding_size)
    dense = dataclasses.replace(TINY, embedding="dense")
    assert build_network(dense)(np.zeros((1, 16, 16), np.float32))["embedding"].shape == (1, 8)


def test_presets_need_class_names_and_round_trip_through_json():
    with pytest.raises(ParameterError, match="class_names must name at least 2 classes"):
        build_network(get_config("cpu-cnn"))
    assert ClassifierConfig.from_json(TINY.to_json()) == TINY
    with pytest.raises(ParameterError, match="embedding must be one of blocks, dense"):
        dataclasses.replace(TINY, embedding="pooled")
    with pytest.raises(ParameterError, match="window_frames and n_mels must be >= 4"):
        dataclasses.replace(TINY, window_frames=2)
    with pytest.raises(ParameterError, match="--config: must be one of cpu-cnn, cnn, tiny-cnn"):
        get_config("resnet")


def test_analysis_of_a_track_gives_shares_that_sum_to_one(model):
    analysis = model.analyze(wave=tone(1.5), sample_rate=16000)
    n_windows = len(window_starts(1 + (24000 - 256) // 128, features=F))
    assert analysis.probabilities.shape == (n_windows, 2)
    assert analysis.embeddings.shape == (n_windows, TINY.embedding_size)
    assert sum(analysis.composition.values()) == pytest.approx(1.0)
    assert list(analysis.composition) == sorted(analysis.composition,
                                                key=lambda k: -analysis.composition[k])
    assert np.linalg.norm(analysis.embedding) == pytest.approx(1.0, abs=1e-5)
    assert analysis.top_class in TINY.class_names


def test_any_sample_rate_is_resampled_before_analysis(model):
    at_16k = model.analyze(wave=tone(1.0), sample_rate=16000)
    at_44k = model.analyze(wave=tone(1.0, sample_rate=44100), sample_rate=44100)
    assert at_44k.probabilities.shape == at_16k.probabilities.shape
    np.testing.assert_allclose(at_44k.shares, at_16k.shares, atol=0.02)


def test_save_and_load_keep_predictions_and_fingerprint(tmp_path, model):
    model.save(tmp_path / "m", figures={"test_track_accuracy": 0.5})
    loaded = AudioClassifier.load(tmp_path / "m")
    wave = noise(1.0)
    np.testing.assert_allclose(loaded.analyze(wave=wave, sample_rate=16000).probabilities,
                               model.analyze(wave=wave, sample_rate=16000).probabilities,
                               atol=1e-6)
    assert loaded.fingerprint == model.fingerprint
    assert loaded.class_names == ("tone", "noise")
    other = AudioClassifier(TINY)
    assert other.fingerprint != model.fingerprint
    meta = json.loads((tmp_path / "m" / "meta.json").read_text())
    assert meta["kind"] == "audio_cnn" and meta["figures"]["test_track_accuracy"] == 0.5
    with pytest.raises(InputFileError, match="no such checkpoint folder or shipped name"):
        AudioClassifier.load(tmp_path / "missing")


def test_composition_ignores_silent_windows_and_formats_shares():
    probabilities = np.array([[0.9, 0.1], [0.0, 1.0], [0.7, 0.3]])
    shares = composition_shares(probabilities, audible=np.array([True, False, True]))
    np.testing.assert_allclose(shares, [0.8, 0.2])
    assert format_composition({"piano": 0.64, "synth": 0.355, "flute": 0.005}) == \
        "piano 64%, synth 36%"
    with pytest.raises(ParameterError, match="at least one audible window"):
        composition_shares(probabilities, audible=np.zeros(3, bool))
    np.testing.assert_allclose(mean_embedding(np.array([[3.0, 0.0], [0.0, 0.0], [1.0, 0.0]]),
                                              audible=np.array([True, False, True])), [1.0, 0.0])


def test_confusion_matrix_and_per_class_accuracy():
    matrix = confusion_matrix(np.array([0, 0, 1, 2, 2, 2]), np.array([0, 1, 1, 2, 2, 0]),
                              n_classes=4)
    assert matrix.tolist() == [[1, 1, 0, 0], [0, 1, 0, 0], [1, 0, 2, 0], [0, 0, 0, 0]]
    accuracy = per_class_accuracy(matrix)
    np.testing.assert_allclose(accuracy[:3], [0.5, 1.0, 2 / 3])
    assert np.isnan(accuracy[3])


def test_frechet_distance_matches_scipys_square_root_and_survives_singular_covariances():
    import warnings

    import scipy.linalg

    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(200, 4)), rng.normal(size=(200, 4)) @ np.diag([1, 2, 0.5, 1]) + 1
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    expected = (np.sum((a.mean(0) - b.mean(0)) ** 2)
                + np.trace(cov_a + cov_b - 2 * np.real(scipy.linalg.sqrtm(cov_a @ cov_b))))
    assert frechet_distance(real=a, generated=b) == pytest.approx(expected, rel=1e-6)
    few = rng.normal(size=(5, 16))  # fewer notes than dimensions: singular covariances
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert frechet_distance(real=few, generated=few + 0.5) == pytest.approx(16 * 0.25,
                                                                                rel=1e-6)


def test_frechet_distance_is_zero_for_one_set_and_grows_with_a_shift():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((500, 4))
    assert frechet_distance(real=a, generated=a) == pytest.approx(0.0, abs=1e-6)
    assert frechet_distance(real=a, generated=a + [2.0, 0, 0, 0]) == pytest.approx(4.0, rel=1e-3)
    with pytest.raises(ParameterError, match="same d"):
        frechet_distance(real=a, generated=a[:, :3])


def test_batches_are_class_balanced_audible_windows():
    tracks = make_tracks(3)
    windows, labels = sample_batch(tracks, batch_size=400, window_frames=F.window_frames,
                                   rng=np.random.default_rng(0))
    assert windows.shape == (400, F.window_frames, F.n_mels) and windows.dtype == np.float32
    assert 150 < np.count_nonzero(labels == 0) < 250
    assert windows.max(axis=(1, 2)).min() > -60  # no silent window


@pytest.mark.slow
def test_training_learns_tones_from_noise_and_resumes(tmp_path):
    train, test = make_tracks(4, seed=1), make_tracks(2, seed=2)
    config = dataclasses.replace(TINY, num_steps=30, eval_every=15)
    trainer = ClassifierTrainer(config, tmp_path / "run", train=train, test=test, progress=False)
    evaluations = []
    trainer.fit(num_steps=15, on_eval=lambda step, m: evaluations.append(step))
    assert trainer.step == 15 and evaluations == [15]

    resumed = ClassifierTrainer(config, tmp_path / "run", train=train, test=test, progress=False)
    assert resumed.restored_step == 15
    np.testing.assert_allclose(resumed.network.get_layer("logits").get_weights()[0],
                               trainer.network.get_layer("logits").get_weights()[0])
    resumed.fit()
    assert resumed.step == 30
    figures = resumed.evaluate()
    assert figures.track_accuracy == 1.0 and figures.n_tracks == 4
    assert figures.confusion.sum() == 4

    export = tmp_path / "export"
    resumed.export(export, figures={"command": "test"}, evaluation=figures)
    assert sorted(os.listdir(export)) == ["config.json", "confusion.png", "evaluation.json",
                                          "meta.json", "model.weights.h5"]
    meta = json.loads((export / "meta.json").read_text())["figures"]
    assert meta["test_track_accuracy"] == 1.0 and meta["steps"] == 30
    assert meta["train_seconds"] > 0
    model = AudioClassifier.load(export)
    assert model.classify(wave=tone(1.0, 700.0), sample_rate=16000)["tone"] > 0.5
    # Exported embeddings are standardised on training windows.
    windows, _ = sample_batch(train, batch_size=256, window_frames=F.window_frames,
                              rng=np.random.default_rng(5))
    embeddings = model.predict_windows(windows)[1]
    assert np.abs(embeddings.mean(axis=0)).max() < 0.5

    with pytest.raises(ParameterError, match="holds a run of config 'tiny-cnn' with other"):
        ClassifierTrainer(dataclasses.replace(config, learning_rate=0.5), tmp_path / "run",
                          train=train, progress=False)
    # A finished run may be extended: only num_steps differs.
    longer = ClassifierTrainer(dataclasses.replace(config, num_steps=32), tmp_path / "run",
                               train=train, progress=False)
    longer.fit()
    assert longer.restored_step == 30 and longer.step == 32


def test_score_clips_gives_shares_and_unit_embeddings_per_clip(model):
    shares, embeddings = model.score_clips(waves=[tone(0.5), noise(0.3)], sample_rate=16000)
    assert shares.shape == (2, 2) and embeddings.shape == (2, TINY.embedding_size)
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)
    np.testing.assert_allclose(np.linalg.norm(embeddings, axis=1), 1.0, atol=1e-5)
    with pytest.raises(InputFileError, match="clip 1: too short"):
        model.score_clips(waves=[tone(0.5), tone(0.01)], sample_rate=16000)


def test_a_class_without_training_tracks_is_an_error(tmp_path):
    tracks = make_tracks(2).subset([0, 2])  # tones only
    with pytest.raises(ParameterError, match=r"none for \['noise'\]"):
        ClassifierTrainer(TINY, tmp_path, train=tracks, progress=False)


def test_evaluate_tracks_scores_windows_and_tracks():
    tracks = make_tracks(2)

    def predict(windows):  # calls everything with a loud top band "noise"
        is_noise = windows[:, :, -1].mean(axis=1) > -30
        return np.stack([~is_noise, is_noise], axis=1).astype(np.float32) * 0.98 + 0.01

    figures = evaluate_tracks(predict, tracks, config=TINY)
    assert figures.track_accuracy == 1.0 and figures.window_accuracy == 1.0
    assert figures.loss == pytest.approx(-np.log(0.99), abs=1e-6)
    assert figures.per_class_track_accuracy == {"tone": 1.0, "noise": 1.0}
    # One soundfont (or none recorded): no per-soundfont figures.
    assert figures.track_accuracy_by_soundfont is None
    assert "track_accuracy_by_soundfont" not in figures.to_dict()


def test_evaluate_tracks_gives_track_accuracy_per_soundfont():
    tracks = make_tracks(3)  # tone, noise, tone, noise, tone, noise
    tracks.soundfonts = ["A.sf2", "A.sf2", "B.sf2", "B.sf2", "B.sf2", "B.sf2"]

    def predict(windows):  # "tone" for everything: right on the three tones only
        return np.tile(np.array([[0.9, 0.1]], np.float32), (len(windows), 1))

    figures = evaluate_tracks(predict, tracks, config=TINY).to_dict()
    assert figures["track_accuracy"] == 0.5
    assert figures["track_accuracy_by_soundfont"] == {"A.sf2": 0.5, "B.sf2": 0.5}
    assert figures["n_tracks_by_soundfont"] == {"A.sf2": 2, "B.sf2": 4}
    subset = tracks.subset([0, 2, 4])  # the tones keep their soundfonts
    assert subset.soundfonts == ["A.sf2", "B.sf2", "B.sf2"]
    assert evaluate_tracks(predict, subset, config=TINY).track_accuracy_by_soundfont == {
        "A.sf2": 1.0, "B.sf2": 1.0}


def test_stream_in_ragged_chunks_ends_with_the_offline_composition(model):
    wave = np.concatenate([tone(1.0), noise(1.0), np.zeros(4000, np.float32), tone(0.5, 900)])
    offline = model.analyze(wave=wave, sample_rate=16000)
    live = StreamingClassifier(model)
    results = []
    rng = np.random.default_rng(0)
    position = 0
    while position < wave.size:
        size = int(rng.integers(1, 3000))
        results.extend(live.push(wave[position:position + size]))
        position += size
    assert live.n_windows == len(offline.start_s) == len(results)
    np.testing.assert_allclose([r.start_s for r in results], offline.start_s)
    assert [r.audible for r in results] == offline.audible.tolist()
    np.testing.assert_allclose(np.stack([r.probabilities for r in results]),
                               offline.probabilities, atol=1e-5)
    for name, share in offline.composition.items():
        assert live.composition[name] == pytest.approx(share, abs=1e-5)
    assert live.elapsed_s == pytest.approx(wave.size / 16000)


def test_pcm_stream_decodes_averages_channels_and_resamples():
    left = (tone(0.5, sample_rate=8000) * 32767).astype("<i2")
    data = np.stack([left, left // 2], axis=1).tobytes() + b"\x01"  # + half a frame
    chunks = list(pcm_chunks(io.BytesIO(data), input_rate=8000, sample_rate=8000, channels=2,
                             chunk_s=0.1))
    mono = np.concatenate(chunks)
    np.testing.assert_allclose(mono, 0.75 * left / 32768.0, atol=1e-4)
    up = np.concatenate(list(pcm_chunks(io.BytesIO(data), input_rate=8000, sample_rate=16000,
                                        channels=2)))
    assert abs(up.size - 2 * mono.size) <= 2


def test_file_chunks_are_paced_like_playback(tmp_path):
    import soundfile

    soundfile.write(tmp_path / "a.wav", tone(1.0), 16000)
    now, waits = [0.0], []

    def sleep(seconds):
        waits.append(seconds)
        now[0] += seconds

    chunks = list(file_chunks(tmp_path / "a.wav", sample_rate=16000, chunk_s=0.25, speed=2.0,
                              sleep=sleep, clock=lambda: now[0]))
    assert [c.size for c in chunks] == [4000] * 4
    assert waits == pytest.approx([0.125, 0.125, 0.125])  # 0.25 s of audio per 0.125 s
