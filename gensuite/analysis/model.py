"""A compact 2-D CNN over log-mel windows: class probabilities and embeddings.

Network (:func:`build_network`), for a window of ``window_frames x n_mels``
log-mel values in dB:

* scale dB to about [-1.5, 2] (fixed, so that a gain stays a shift);
* ``len(filters)`` blocks of ``convs_per_block`` x (3x3 conv, batch norm,
  ReLU), each followed by 2x2 max pooling;
* the time-frequency mean of every block's output, joined: the "blocks"
  embedding (Music2Vec style: low blocks keep timbre detail, high blocks
  longer patterns);
* dropout, a dense ReLU layer (the "dense" embedding), dropout, logits.

The embedding output is standardised per dimension with the training windows'
mean and spread (set by the trainer before export), so that cosine similarity
between tracks spreads over [-1, 1] instead of crowding near 1.

:class:`AudioClassifier` wraps the network with its config, loads and saves
model folders (``kind`` ``"audio_cnn"``) and analyses whole tracks::

    model = AudioClassifier.load("instrument_cnn")
    analysis = model.analyze_file("song.wav")
    analysis.composition   # {"piano": 0.64, "synthesizer": 0.20, ...}
    analysis.embedding     # unit vector for similarity search
"""

from __future__ import annotations

import hashlib
import os

import keras
import numpy as np
import tensorflow as tf

from gensuite.analysis.classification import TrackAnalysis
from gensuite.analysis.configs import ClassifierConfig, get_config
from gensuite.analysis.features import wave_to_windows
from gensuite.audio.io import read_audio, resample_wave
from gensuite.checkpoints import SavedModel
from gensuite.common.errors import ParameterError

KIND = "audio_cnn"
# dB -> network input: (dB - DB_OFFSET) / DB_SCALE; silence (-100 dB) -> -1.5.
DB_OFFSET = -40.0
DB_SCALE = 40.0
PREDICT_BATCH = 128


class Standardize(keras.layers.Layer):
    """``(x - mean) / std`` per feature, with statistics set from data, not learnt."""

    def build(self, input_shape):
        size = int(input_shape[-1])
        self.mean = self.add_weight(shape=(size,), initializer="zeros", trainable=False,
                                    name="mean")
        self.inverse_std = self.add_weight(shape=(size,), initializer="ones", trainable=False,
                                           name="inverse_std")

    def call(self, x):
        return (x - self.mean) * self.inverse_std

    def set_statistics(self, values: np.ndarray) -> None:
        """Take the mean and spread of ``values`` (n, size)."""
        values = np.asarray(values, dtype=np.float64)
        self.mean.assign(values.mean(axis=0).astype(np.float32))
        self.inverse_std.assign((1.0 / (values.std(axis=0) + 1e-3)).astype(np.float32))


def build_network(config: ClassifierConfig, *, synchronized: bool = False) -> keras.Model:
    """The CNN of ``config``: window (batch, frames, mels) -> {"logits", "embedding"}.

    ``synchronized`` makes batch normalisation use the statistics of the
    whole global batch under a distributed strategy (the weights are the same).

    Raises
    ------
    ParameterError
        If the config names fewer than two classes.
    """
    if config.n_classes < 2:
        raise ParameterError(
            f"config {config.name}: class_names must name at least 2 classes, got "
            f"{list(config.class_names)} (presets have none; training sets them)")
    layers = keras.layers
    inputs = keras.Input((config.window_frames, config.n_mels), name="log_mel_db")
    x = layers.Rescaling(1.0 / DB_SCALE, offset=-DB_OFFSET / DB_SCALE, name="scale_db")(inputs)
    x = layers.Reshape((config.window_frames, config.n_mels, 1), name="add_channel")(x)
    pooled = []
    for b, n_filters in enumerate(config.filters):
        for c in range(config.convs_per_block):
            x = layers.Conv2D(n_filters, 3, padding="same", use_bias=False,
                              name=f"block{b}_conv{c}")(x)
            x = layers.BatchNormalization(synchronized=synchronized,
                                          name=f"block{b}_norm{c}")(x)
            x = layers.ReLU(name=f"block{b}_relu{c}")(x)
        pooled.append(layers.GlobalAveragePooling2D(name=f"block{b}_mean")(x))
        x = layers.MaxPooling2D(2, name=f"block{b}_pool")(x)
    blocks = layers.Concatenate(name="blocks")(pooled) if len(pooled) > 1 else pooled[0]
    h = layers.Dropout(config.dropout, name="dropout_blocks")(blocks)
    dense = layers.Dense(config.dense_units, activation="relu", name="dense")(h)
    h = layers.Dropout(config.dropout, name="dropout_dense")(dense)
    logits = layers.Dense(config.n_classes, name="logits")(h)
    raw = blocks if config.embedding == "blocks" else dense
    embedding = Standardize(name="embedding")(raw)
    return keras.Model(inputs, {"logits": logits, "embedding": embedding}, name=config.name)


def weights_fingerprint(config: ClassifierConfig, network: keras.Model) -> str:
    """First 16 hex digits of SHA-256 over the config and every weight's bytes.

    Equal for a model and the same model saved and loaded; an index records
    it so that searching with another model is caught.
    """
    digest = hashlib.sha256(config.to_json().encode("utf-8"))
    for weight in network.weights:
        digest.update(np.ascontiguousarray(keras.ops.convert_to_numpy(weight),
                                           dtype=np.float32).tobytes())
    return digest.hexdigest()[:16]


class AudioClassifier(SavedModel):
    """A trained (or fresh) audio CNN with its config.

    Parameters
    ----------
    config : ClassifierConfig or str
        With ``class_names`` set; a preset name only with ``class_names``.
    class_names : sequence of str, optional
        Sets the config's class names (for a fresh model).
    network : keras.Model, optional
        Built by :func:`build_network` when omitted.

    Attributes
    ----------
    checkpoint : str or None
        The name or path it was loaded from.
    """

    kind = KIND
    config_type = ClassifierConfig

    def __init__(self, config: ClassifierConfig | str, *, class_names=None,
                 network: keras.Model | None = None):
        config = get_config(config) if isinstance(config, str) else config
        if class_names is not None:
            config = config.with_classes(class_names)
        self.config = config
        self.network = network if network is not None else build_network(config)
        self.checkpoint: str | None = None
        self._fingerprint: str | None = None
        spec = tf.TensorSpec([None, config.window_frames, config.n_mels], tf.float32)
        self._forward = tf.function(self._forward_graph, input_signature=[spec])

    def _forward_graph(self, windows):
        out = self.network(windows, training=False)
        return tf.nn.softmax(out["logits"], axis=-1), out["embedding"]

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.config.class_names

    @property
    def features(self):
        return self.config.features

    @property
    def sample_rate(self) -> int:
        return self.config.sample_rate

    @property
    def fingerprint(self) -> str:
        """Identity of these weights (see :func:`weights_fingerprint`); cached after loading."""
        return self._fingerprint or weights_fingerprint(self.config, self.network)

    @classmethod
    def load(cls, name_or_path: str | os.PathLike) -> "AudioClassifier":
        model = super().load(name_or_path)
        model.checkpoint = os.fspath(name_or_path)
        model._fingerprint = weights_fingerprint(model.config, model.network)
        return model

    def predict_windows(self, log_mel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Score log-mel windows.

        Parameters
        ----------
        log_mel : np.ndarray, (n_windows, window_frames, n_mels)
            dB, as :func:`gensuite.analysis.features.wave_to_windows` cuts them.

        Returns
        -------
        probabilities : np.ndarray, float32 (n_windows, n_classes)
        embeddings : np.ndarray, float32 (n_windows, embedding_size)
        """
        log_mel = np.asarray(log_mel, dtype=np.float32)
        expected = (self.config.window_frames, self.config.n_mels)
        if log_mel.ndim != 3 or log_mel.shape[1:] != expected:
            raise ParameterError(
                f"log_mel: must be (n_windows, {expected[0]}, {expected[1]}), got {log_mel.shape}")
        probabilities, embeddings = [], []
        for i in range(0, len(log_mel), PREDICT_BATCH):
            p, e = self._forward(tf.constant(log_mel[i:i + PREDICT_BATCH]))
            probabilities.append(p.numpy())
            embeddings.append(e.numpy())
        if not probabilities:
            return (np.zeros((0, self.config.n_classes), np.float32),
                    np.zeros((0, self.config.embedding_size), np.float32))
        return np.concatenate(probabilities), np.concatenate(embeddings)

    def analyze(self, *, wave: np.ndarray, sample_rate: int, name: str = "wave") -> TrackAnalysis:
        """Classify and embed every window of a mono wave.

        Parameters
        ----------
        wave : np.ndarray, (n_samples,)
            Mono float audio; resampled when ``sample_rate`` differs from the model's.
        sample_rate : int
            Hz.
        name : str
            What errors call the audio.

        Raises
        ------
        InputFileError
            If the audio is silent or shorter than one window.
        """
        wave = resample_wave(wave, from_rate=sample_rate, to_rate=self.sample_rate)
        windows = wave_to_windows(wave, features=self.features, name=name)
        probabilities, embeddings = self.predict_windows(windows.log_mel)
        return TrackAnalysis(
            class_names=self.class_names, probabilities=probabilities, embeddings=embeddings,
            start_s=windows.start_s, audible=windows.audible, window_s=self.features.window_s)

    def analyze_file(self, path: str | os.PathLike) -> TrackAnalysis:
        """:meth:`analyze` of an audio file (any libsndfile format, rate and channel count)."""
        wave = read_audio(path, sample_rate=self.sample_rate)
        return self.analyze(wave=wave, sample_rate=self.sample_rate, name=os.fspath(path))

    def classify(self, *, wave: np.ndarray, sample_rate: int) -> dict[str, float]:
        """Composition of a mono wave: class name -> share of its audible windows."""
        return self.analyze(wave=wave, sample_rate=sample_rate).composition

    def embed(self, *, wave: np.ndarray, sample_rate: int) -> np.ndarray:
        """Unit-length embedding of a mono wave (mean over audible windows), float32 (d,)."""
        return self.analyze(wave=wave, sample_rate=sample_rate).embedding

    def score_clips(self, *, waves, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
        """Class shares and embeddings of many short clips (e.g. generated notes).

        Parameters
        ----------
        waves : sequence of np.ndarray, or np.ndarray (n_clips, n_samples)
            Mono clips, each at least one window long.
        sample_rate : int
            Hz.

        Returns
        -------
        shares : np.ndarray, float64 (n_clips, n_classes)
            Mean window probabilities of each clip (audible windows); rows sum to 1.
        embeddings : np.ndarray, float32 (n_clips, embedding_size)
            Unit-length mean embeddings, for :func:`gensuite.analysis.classification.frechet_distance`.

        Raises
        ------
        InputFileError
            If a clip is silent or shorter than one window (named ``clip N``).
        """
        shares, embeddings = [], []
        for i, wave in enumerate(waves):
            analysis = self.analyze(wave=wave, sample_rate=sample_rate, name=f"clip {i}")
            shares.append(analysis.shares)
            embeddings.append(analysis.embedding)
        return np.stack(shares), np.stack(embeddings)
