"""Audio classifier configurations: log-mel features, a compact 2-D CNN, training.

One frozen dataclass holds everything that must agree between training and
use: the feature settings (a model only understands the windows it was trained
on), the network sizes, the training schedule and augmentation, and the class
names (empty in a preset; the trainer fills them from the data set, so a saved
model's ``config.json`` says what it classifies).

Presets:

* ``cpu-cnn``: 16 kHz, 96 mel bands up to 8 kHz, 128-frame windows (2.1 s)
  every 64 frames (1.0 s), four conv blocks of 16-128 filters (0.13 M weights),
  batch 32, 8,000 steps. Sized so that a run fits in about an hour on a
  2-core CPU (measured speeds: ``docs/decisions.md``).
* ``cnn``: twice the filters and two convolutions per block, 128 mel bands;
  for a GPU.
* ``tiny-cnn``: for tests (seconds).
"""

from __future__ import annotations

import dataclasses

from gensuite.common.config import JsonConfig, lookup_preset
from gensuite.common.errors import ParameterError

EMBEDDINGS = ("blocks", "dense")


@dataclasses.dataclass(frozen=True)
class MelFeatures:
    """Log-mel settings, shared by feature extraction and the network's input.

    Attributes
    ----------
    sample_rate : int
        Hz; every input is resampled to it.
    n_fft, hop_length : int
        STFT frame and hop in samples (frames are not centred, so a stream
        and a whole file cut the same frames).
    n_mels : int
    fmin, fmax : float
        Hz, lowest and highest mel band edges.
    window_frames, window_hop_frames : int
        One classified window spans ``window_frames`` frames; windows start
        every ``window_hop_frames`` frames.
    silence_dbfs : float
        A window whose loudest frame has an RMS below this (dB full scale)
        is silent: left out of compositions and of training.
    """

    sample_rate: int
    n_fft: int
    hop_length: int
    n_mels: int
    fmin: float
    fmax: float
    window_frames: int
    window_hop_frames: int
    silence_dbfs: float

    @property
    def window_samples(self) -> int:
        """Samples covered by one window."""
        return self.n_fft + (self.window_frames - 1) * self.hop_length

    @property
    def window_s(self) -> float:
        return self.window_samples / self.sample_rate

    @property
    def window_hop_samples(self) -> int:
        return self.window_hop_frames * self.hop_length

    @property
    def window_hop_s(self) -> float:
        return self.window_hop_samples / self.sample_rate

    @property
    def frame_hop_s(self) -> float:
        return self.hop_length / self.sample_rate


@dataclasses.dataclass(frozen=True)
class ClassifierConfig(JsonConfig):
    """Everything needed to build, train and run one audio CNN classifier.

    Attributes
    ----------
    name : str
        Preset name (kept in saved checkpoints).
    sample_rate, n_fft, hop_length, n_mels, fmin, fmax, window_frames,
    window_hop_frames, silence_dbfs
        The features (:class:`MelFeatures`).
    filters : tuple of int
        Filters of each conv block; every block halves time and frequency.
    convs_per_block : int
        3x3 convolutions (each + batch norm + ReLU) before a block's pooling.
    dense_units : int
        Width of the dense layer before the softmax.
    dropout : float
        Dropout rate before the dense layer and the softmax.
    embedding : {"blocks", "dense"}
        ``"blocks"``: the time-frequency means of every block's output joined
        together (Music2Vec style, ``sum(filters)`` values); ``"dense"``: the
        dense layer's output (``dense_units`` values).
    batch_size : int
    learning_rate : float
        Adam, decayed by cosine to 5% over ``num_steps``.
    num_steps : int
        Default length of a training run.
    eval_every : int
        Steps between held-out evaluations.
    volume_db : tuple of float
        Range of the random gain added to each training window, in dB.
    noise_probability : float
        Share of training windows that get added white noise.
    noise_snr_db : tuple of float
        Range of the signal-to-noise ratio of that noise, in dB.
    class_names : tuple of str
        What the network classifies, in output order; empty in presets.
    """

    name: str
    sample_rate: int = 16000
    n_fft: int = 1024
    hop_length: int = 256
    n_mels: int = 96
    fmin: float = 30.0
    fmax: float = 8000.0
    window_frames: int = 128
    window_hop_frames: int = 64
    silence_dbfs: float = -60.0
    filters: tuple[int, ...] = (16, 32, 64, 128)
    convs_per_block: int = 1
    dense_units: int = 128
    dropout: float = 0.3
    embedding: str = "blocks"
    batch_size: int = 32
    learning_rate: float = 2e-3
    num_steps: int = 8000
    eval_every: int = 2000
    volume_db: tuple[float, float] = (-30.0, 0.0)
    noise_probability: float = 0.5
    noise_snr_db: tuple[float, float] = (5.0, 40.0)
    class_names: tuple[str, ...] = ()

    def __post_init__(self):
        if self.embedding not in EMBEDDINGS:
            raise ParameterError(
                f"config {self.name}: embedding must be one of {', '.join(EMBEDDINGS)}, "
                f"got {self.embedding!r}")
        if not self.fmin < self.fmax <= self.sample_rate / 2:
            raise ParameterError(
                f"config {self.name}: need fmin < fmax <= sample_rate / 2, got "
                f"{self.fmin}, {self.fmax}, {self.sample_rate}")
        pool = 2 ** len(self.filters)
        if self.window_frames < pool or self.n_mels < pool:
            raise ParameterError(
                f"config {self.name}: {len(self.filters)} blocks halve the window "
                f"{len(self.filters)} times, so window_frames and n_mels must be >= {pool}, "
                f"got {self.window_frames} x {self.n_mels}")
        if not 1 <= self.window_hop_frames:
            raise ParameterError(
                f"config {self.name}: window_hop_frames must be >= 1, got {self.window_hop_frames}")
        if len(set(self.class_names)) != len(self.class_names):
            raise ParameterError(f"config {self.name}: class names repeat: {self.class_names}")

    @property
    def features(self) -> MelFeatures:
        return MelFeatures(
            sample_rate=self.sample_rate, n_fft=self.n_fft, hop_length=self.hop_length,
            n_mels=self.n_mels, fmin=self.fmin, fmax=self.fmax,
            window_frames=self.window_frames, window_hop_frames=self.window_hop_frames,
            silence_dbfs=self.silence_dbfs)

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    @property
    def embedding_size(self) -> int:
        return sum(self.filters) if self.embedding == "blocks" else self.dense_units

    def with_classes(self, class_names) -> "ClassifierConfig":
        """This config with ``class_names`` set (what a trained model records)."""
        names = tuple(str(n) for n in class_names)
        if len(names) < 2:
            raise ParameterError(f"class_names: need at least 2 classes, got {list(names)}")
        return dataclasses.replace(self, class_names=names)


CPU_CNN = ClassifierConfig(name="cpu-cnn")

GPU_CNN = dataclasses.replace(
    CPU_CNN, name="cnn", n_mels=128, filters=(32, 64, 128, 256), convs_per_block=2,
    dense_units=256, batch_size=64, learning_rate=1e-3, num_steps=30_000)

# Small enough that a test trains and evaluates in a few seconds.
TINY_CNN = dataclasses.replace(
    CPU_CNN, name="tiny-cnn", n_fft=256, hop_length=128, n_mels=16, window_frames=16,
    window_hop_frames=8, filters=(4, 8), dense_units=8, dropout=0.0, batch_size=8,
    learning_rate=1e-2, num_steps=20, eval_every=10)

PRESETS: dict[str, ClassifierConfig] = {c.name: c for c in (CPU_CNN, GPU_CNN, TINY_CNN)}


def get_config(name: str) -> ClassifierConfig:
    """The preset called ``name``; ParameterError lists the valid names."""
    return lookup_preset(PRESETS, name)
