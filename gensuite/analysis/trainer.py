"""Training the audio CNN on labelled tracks, with a held-out split.

Each step draws a class-balanced batch of windows: a class uniformly, a
training track of that class, then any audible start frame of that track (so
windows are random crops, not only the hop grid). Augmentation works on the
mel power of each window, which is what a gain or added white noise does to
the waveform's mel spectrogram:

* a random gain in ``config.volume_db`` (a shift of every dB value);
* with probability ``config.noise_probability``, white noise at a random
  signal-to-noise ratio in ``config.noise_snr_db`` (mel-domain SNR): its
  expected mel power, with gamma fluctuation per cell
  (:func:`gensuite.analysis.features.white_noise_mel_power`).

Adam with cosine decay to 5 % over ``config.num_steps``. Held-out figures,
every ``config.eval_every`` steps and at the end: per-window accuracy over the
hop grid's audible windows, and per-track accuracy (the mean of a track's
window probabilities, as ``analyze classify`` reports it), also per
soundfont when the tracks come from several.

Leave one soundfont out: the caller trains on the tracks of all but one
soundfont and passes the held-out soundfont's test tracks as ``hold_out``;
they are scored beside the test split at every evaluation (pieces and
timbres unseen), and ``evaluation.json`` reports them under
``leave_one_soundfont_out``. A run folder::

    RUN/config.json                the run's config, class names included
    RUN/options.json               what the run trains on beyond the config
                                   (the held-out soundfont); a resume must match
    RUN/checkpoints/ckpt-STEP.*    network, optimizer, elapsed seconds (resumable)
    RUN/logs/{train,test,hold_out}, RUN/metrics.jsonl   TensorBoard scalars
    RUN/export/                    model folder (AudioClassifier.load), evaluation.json,
                                   confusion.png

Every file is written atomically; state is saved every few minutes, at the
end and on KeyboardInterrupt. The exported model is the last step's: the
held-out split picks nothing, so its figures are honest.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time

import keras
import numpy as np
import tensorflow as tf

from gensuite.analysis.classification import (
    confusion_matrix,
    per_class_accuracy,
    plot_confusion_matrix,
)
from gensuite.analysis.configs import ClassifierConfig
from gensuite.analysis.data import LabelledTracks
from gensuite.analysis.features import POWER_FLOOR, white_noise_mel_power, window_starts
from gensuite.analysis.model import AudioClassifier, build_network
from gensuite.common.errors import NoExamplesError, ParameterError
from gensuite.common.fileio import write_text_atomic
from gensuite.training.checkpointing import (
    MetricsLogger,
    TrainingCheckpoint,
    has_checkpoints,
    record_run_config,
)
from gensuite.training.distribute import (
    any_worker,
    average_loss,
    is_chief,
    is_distributed,
    per_replica_batch,
    summed_over_slices,
)
from gensuite.training.loop import run_training_loop

EVALUATION_FILE = "evaluation.json"
CONFUSION_FILE = "confusion.png"
HOLD_OUT_CONFUSION_FILE = "confusion_leave_one_soundfont_out.png"
RUN_OPTIONS_FILE = "options.json"
# What a run folder without options.json trained on: every soundfont.
DEFAULT_RUN_OPTIONS = {"hold_out_soundfont": None}
# evaluation.json's key for the held-out soundfont's figures.
LEAVE_ONE_OUT_KEY = "leave_one_soundfont_out"
# Training windows whose embeddings set the embedding standardisation.
EMBEDDING_STAT_WINDOWS = 4096


def sample_batch(tracks: LabelledTracks, *, batch_size: int, window_frames: int,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A class-balanced batch of random audible windows.

    Returns
    -------
    windows : np.ndarray, float32 (batch_size, window_frames, n_mels)
        dB.
    labels : np.ndarray, int32 (batch_size,)
    """
    classes = np.unique(tracks.labels)
    by_class = {c: np.flatnonzero(tracks.labels == c) for c in classes}
    labels = rng.choice(classes, size=batch_size)
    windows = []
    for label in labels:
        track = int(rng.choice(by_class[label]))
        start = int(rng.choice(tracks.valid_starts[track]))
        windows.append(tracks.log_mel[track][start:start + window_frames])
    return np.stack(windows).astype(np.float32), labels.astype(np.int32)


def augment_windows(windows_db: np.ndarray, *, rng: np.random.Generator,
                    config: ClassifierConfig, noise_profile: np.ndarray,
                    noise_dof: np.ndarray) -> np.ndarray:
    """Random gain, then white noise on a random share of windows, in the mel-power domain.

    Parameters
    ----------
    windows_db : np.ndarray, (batch, frames, n_mels)
        Log-mel windows in dB.
    noise_profile, noise_dof : np.ndarray, (n_mels,)
        From :func:`gensuite.analysis.features.white_noise_mel_power`.

    Returns
    -------
    np.ndarray, float32, same shape, dB (floor -100 dB).
    """
    windows_db = np.asarray(windows_db, dtype=np.float64)
    batch = len(windows_db)
    gain_db = rng.uniform(*config.volume_db, size=(batch, 1, 1))
    power = 10.0 ** ((windows_db + gain_db) / 10.0)
    noisy = rng.random(batch) < config.noise_probability
    if noisy.any():
        snr_db = rng.uniform(*config.noise_snr_db, size=int(noisy.sum()))
        signal = power[noisy].sum(axis=2).mean(axis=1)  # mel power per frame
        variance = signal / float(noise_profile.sum()) / 10.0 ** (snr_db / 10.0)
        shape = (int(noisy.sum()), power.shape[1], power.shape[2])
        fluctuation = rng.gamma(noise_dof, 1.0 / noise_dof, size=shape)
        power[noisy] += variance[:, None, None] * noise_profile * fluctuation
    return (10.0 * np.log10(np.maximum(power, POWER_FLOOR))).astype(np.float32)


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """Held-out figures of a classifier on labelled tracks."""

    class_names: tuple[str, ...]
    n_tracks: int
    n_windows: int
    window_accuracy: float
    track_accuracy: float
    loss: float  # mean window cross-entropy (nats)
    confusion: np.ndarray  # per track, rows true, columns predicted
    # Soundfont file name -> track accuracy / tracks; None unless the tracks
    # come from two or more soundfonts.
    track_accuracy_by_soundfont: dict[str, float] | None = None
    n_tracks_by_soundfont: dict[str, int] | None = None

    @property
    def per_class_track_accuracy(self) -> dict[str, float]:
        return dict(zip(self.class_names, per_class_accuracy(self.confusion).tolist()))

    def to_dict(self) -> dict:
        figures = {"class_names": list(self.class_names), "n_tracks": self.n_tracks,
                   "n_windows": self.n_windows, "window_accuracy": self.window_accuracy,
                   "track_accuracy": self.track_accuracy, "loss": self.loss,
                   "per_class_track_accuracy": self.per_class_track_accuracy,
                   "confusion": self.confusion.tolist()}
        if self.track_accuracy_by_soundfont is not None:
            figures.update(track_accuracy_by_soundfont=self.track_accuracy_by_soundfont,
                           n_tracks_by_soundfont=self.n_tracks_by_soundfont)
        return figures


def evaluate_tracks(predict, tracks: LabelledTracks, *, config: ClassifierConfig) -> Evaluation:
    """Score every audible hop-grid window of every track.

    Parameters
    ----------
    predict : callable
        (n, window_frames, n_mels) dB -> (n, n_classes) probabilities.
    tracks : LabelledTracks

    Raises
    ------
    NoExamplesError
        If there are no tracks.
    """
    if len(tracks) == 0:
        raise NoExamplesError("held-out split: no tracks to evaluate")
    features = config.features
    correct = total = 0
    loss = 0.0
    track_predictions = []
    for log_mel, valid, label in zip(tracks.log_mel, tracks.valid_starts, tracks.labels):
        starts = window_starts(len(log_mel), features=features)
        starts = starts[np.isin(starts, valid)]
        if starts.size == 0:  # no audible grid window: use the first audible crop
            starts = valid[:1]
        windows = np.stack([log_mel[s:s + features.window_frames] for s in starts])
        probabilities = np.asarray(predict(windows.astype(np.float32)), dtype=np.float64)
        correct += int(np.count_nonzero(probabilities.argmax(axis=1) == label))
        total += len(starts)
        loss += float(-np.log(np.maximum(probabilities[:, label], 1e-12)).sum())
        track_predictions.append(int(probabilities.mean(axis=0).argmax()))
    track_predictions = np.array(track_predictions)
    right = track_predictions == tracks.labels
    by_soundfont = n_by_soundfont = None
    names = sorted(set(tracks.soundfonts or ()))
    if len(names) >= 2:  # one soundfont: the overall figure says it all
        soundfonts = np.array(tracks.soundfonts)
        by_soundfont = {n: float(np.mean(right[soundfonts == n])) for n in names}
        n_by_soundfont = {n: int(np.count_nonzero(soundfonts == n)) for n in names}
    return Evaluation(
        class_names=tuple(config.class_names), n_tracks=len(tracks), n_windows=total,
        window_accuracy=correct / total, track_accuracy=float(np.mean(right)),
        loss=loss / total,
        confusion=confusion_matrix(tracks.labels, track_predictions, n_classes=config.n_classes),
        track_accuracy_by_soundfont=by_soundfont, n_tracks_by_soundfont=n_by_soundfont)


def check_run_config(run_dir: str | os.PathLike, config: ClassifierConfig) -> None:
    """Record ``config`` in a new run folder, or check that it matches the one recorded.

    Only ``num_steps`` may differ, so that a finished run can be extended; the
    cosine schedule then stretches to the new length (the learning rate
    rises part of the way back, a warm restart).
    """
    record_run_config(run_dir, config, may_differ=("num_steps",))


def record_run_options(run_dir: str | os.PathLike, *, hold_out_soundfont: str | None) -> None:
    """Record what a run trains on beyond its config in ``RUN/options.json``, or check it.

    Kept apart from the config: the config is part of a saved model's
    fingerprint, and the held-out soundfont says what the run saw, not what
    the model is. A run folder with checkpoints but no options file is from
    before the option and trained on every soundfont.

    Raises
    ------
    ParameterError
        If the run was started holding out another soundfont (or none).
    InputFileError
        If ``RUN/options.json`` is unreadable.
    """
    from gensuite.common.errors import InputFileError  # noqa: PLC0415

    run_dir = os.fspath(run_dir)
    path = os.path.join(run_dir, RUN_OPTIONS_FILE)
    options = {"hold_out_soundfont": hold_out_soundfont}
    recorded = None
    if os.path.isfile(path):
        try:
            with open(path, encoding="utf-8") as f:
                recorded = {**DEFAULT_RUN_OPTIONS, **json.load(f)}
        except (OSError, ValueError, TypeError) as exc:
            raise InputFileError(path, f"unreadable run options ({exc})") from exc
    elif has_checkpoints(run_dir):
        recorded = dict(DEFAULT_RUN_OPTIONS)
    if recorded is not None and recorded["hold_out_soundfont"] != hold_out_soundfont:
        def trained(name):
            return f"without {name} (held out)" if name else "on every soundfont"
        raise ParameterError(
            f"--hold-out-soundfont: {run_dir} holds a run trained "
            f"{trained(recorded['hold_out_soundfont'])}, but this command trains "
            f"{trained(hold_out_soundfont)}; use a new run folder or the same "
            f"--hold-out-soundfont")
    if recorded != options:
        os.makedirs(run_dir, exist_ok=True)
        write_text_atomic(path, json.dumps(options, indent=2, sort_keys=True) + "\n")

class ClassifierTrainer:
    """Train an audio CNN in a run folder, resuming from its newest checkpoint.

    Parameters
    ----------
    config : ClassifierConfig
        With ``class_names`` set (:meth:`ClassifierConfig.with_classes`).
    run_dir : str or os.PathLike
    train : LabelledTracks
        Labels index ``config.class_names``; every class needs a track.
    test : LabelledTracks, optional
        The held-out split.
    hold_out : LabelledTracks, optional
        Leave one soundfont out: the held-out soundfont's test tracks (``train``
        and ``test`` then hold the other soundfonts' tracks). Scored whenever
        ``test`` is, logged as the ``hold_out`` split.
    seed : int
        Seeds the initial weights, batches and augmentation.
    checkpoint_every_minutes : float
    log_every : int
        Steps between training log records (averaged over them).
    progress : bool
        Report progress (a bar on a terminal, else a line every 30 s).
    strategy : tf.distribute.Strategy, optional
        From :func:`gensuite.training.distribute.make_strategy`: each batch is
        split over its replicas (the batch size must divide evenly); only the
        chief writes the run folder. Default: one device.

    Raises
    ------
    ParameterError
        A run folder of another config, or a class without training tracks.
    """

    def __init__(self, config: ClassifierConfig, run_dir: str | os.PathLike, *,
                 train: LabelledTracks, test: LabelledTracks | None = None,
                 hold_out: LabelledTracks | None = None, seed: int = 0,
                 checkpoint_every_minutes: float = 5.0, log_every: int = 50,
                 progress: bool = True, strategy: tf.distribute.Strategy | None = None):
        self.config = config
        self.run_dir = os.fspath(run_dir)
        missing = sorted(set(range(config.n_classes)) - set(np.unique(train.labels).tolist()))
        if config.n_classes < 2 or missing:
            raise ParameterError(
                f"train: every class needs training tracks; none for "
                f"{[config.class_names[i] for i in missing] or 'fewer than 2 classes'}")
        self.train, self.test = train, test
        self.hold_out = hold_out if hold_out is not None and len(hold_out) else None
        self.seed = int(seed)
        self.log_every = max(1, int(log_every))
        self.checkpoint_every_s = 60.0 * float(checkpoint_every_minutes)
        self.strategy = strategy or tf.distribute.get_strategy()
        chief = is_chief(self.strategy)
        self.progress = progress and chief
        per_replica_batch(self.strategy, config.batch_size)
        check_run_config(self.run_dir, config)

        keras.utils.set_random_seed(self.seed)
        with self.strategy.scope():
            self.network = build_network(config, synchronized=is_distributed(self.strategy))
            schedule = keras.optimizers.schedules.CosineDecay(
                config.learning_rate, decay_steps=config.num_steps, alpha=0.05)
            self.optimizer = keras.optimizers.Adam(learning_rate=schedule)
            self.optimizer.build(self.network.trainable_variables)
            self.elapsed = tf.Variable(0.0, dtype=tf.float64, trainable=False)
        # Keras 3 models hide their layers from tf.train.Checkpoint: pass the weights.
        self.checkpoint = TrainingCheckpoint(
            self.run_dir, model=self.network, optimizer=self.optimizer,
            network_weights=list(self.network.weights), elapsed=self.elapsed, chief=chief)
        self.restored_step = self.checkpoint.restore_latest()
        self.logger = MetricsLogger(self.run_dir, enabled=chief)
        self.noise_profile, self.noise_dof = white_noise_mel_power(config.features)
        signature = [tf.TensorSpec([None, config.window_frames, config.n_mels], tf.float32),
                     tf.TensorSpec([None], tf.int32)]
        self._step = tf.function(self._train_graph, input_signature=signature)

    @property
    def step(self) -> int:
        return int(self.optimizer.iterations.numpy())

    def _replica_step(self, windows, labels):
        """Gradients, loss and accuracy of (a replica's slice of) a batch, as shares of its mean.

        On one device the shares are the means; under a strategy each replica
        divides by the global batch, so the summed shares are one device's, and
        normalises with the global batch's statistics (synchronized batch
        normalisation).
        """
        global_batch = self.config.batch_size if is_distributed(self.strategy) else None
        with tf.GradientTape() as tape:
            logits = self.network(windows, training=True)["logits"]
            loss = average_loss(tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=labels, logits=logits), global_batch)
        grads = [tf.convert_to_tensor(g)
                 for g in tape.gradient(loss, self.network.trainable_variables)]
        accuracy = average_loss(tf.cast(
            tf.equal(tf.argmax(logits, -1, output_type=tf.int32), labels), tf.float32),
            global_batch)
        return grads, {"loss": loss, "accuracy": accuracy}

    def _train_graph(self, windows, labels):
        if is_distributed(self.strategy):
            grads, metrics = summed_over_slices(self.strategy, self._replica_step,
                                                (windows, labels), self.config.batch_size)
        else:
            grads, metrics = self._replica_step(windows, labels)
        self.optimizer.apply_gradients(zip(grads, self.network.trainable_variables))
        return metrics

    def train_step(self, rng: np.random.Generator) -> dict[str, float]:
        """One optimizer step on a fresh augmented batch."""
        c = self.config
        windows, labels = sample_batch(self.train, batch_size=c.batch_size,
                                       window_frames=c.window_frames, rng=rng)
        windows = augment_windows(windows, rng=rng, config=c, noise_profile=self.noise_profile,
                                  noise_dof=self.noise_dof)
        metrics = self._step(tf.constant(windows), tf.constant(labels))
        return {k: float(v) for k, v in metrics.items()}

    def model(self) -> AudioClassifier:
        """The network as an :class:`AudioClassifier` (shares the weights)."""
        return AudioClassifier(self.config, network=self.network)

    def evaluate(self, tracks: LabelledTracks | None = None) -> Evaluation:
        """Held-out figures (default: the test split)."""
        model = self.model()
        return evaluate_tracks(lambda w: model.predict_windows(w)[0],
                               self.test if tracks is None else tracks, config=self.config)

    def fit(self, *, num_steps: int | None = None, on_eval=None) -> dict[str, float]:
        """Train until the step counter reaches ``num_steps`` (default ``config.num_steps``).

        ``num_steps`` is a total, not steps to add. ``on_eval(step, metrics)``
        is called after each held-out evaluation.

        Raises
        ------
        KeyboardInterrupt
            After saving a checkpoint.
        """
        num_steps = self.config.num_steps if num_steps is None else num_steps
        # A new stream per resume, so that a restarted run does not replay its batches.
        rng = np.random.default_rng([self.seed, self.step])
        session_start = time.monotonic()
        elapsed_at_start = float(self.elapsed.numpy())

        def step_fn():
            metrics = self.train_step(rng)
            self.elapsed.assign(elapsed_at_start + time.monotonic() - session_start)
            return metrics

        def evaluate_when_due(step, last):
            sets = {"test": self.test, "hold_out": self.hold_out}
            sets = {name: tracks for name, tracks in sets.items()
                    if tracks is not None and len(tracks)}
            if not sets or not (step % self.config.eval_every == 0 or step >= num_steps):
                return None
            for name, tracks in sets.items():
                figures = self.evaluate(tracks)
                held_out = {"window_accuracy": figures.window_accuracy,
                            "track_accuracy": figures.track_accuracy, "loss": figures.loss}
                self.logger.log(name, step, held_out)
                last = {**last, **{f"{name}_{k}": v for k, v in held_out.items()}}
            if on_eval is not None:
                on_eval(step, {**last, "step": step})
            return last

        return run_training_loop(
            step_fn, get_step=lambda: self.step, num_steps=num_steps, save=self.checkpoint.save,
            logger=self.logger, log_every=self.log_every,
            checkpoint_every_s=self.checkpoint_every_s, progress=self.progress,
            desc=self.config.name, after_step=evaluate_when_due,
            agree=any_worker(self.strategy),
            postfix=lambda last: {"loss": f"{last['loss']:.3f}", "acc": f"{last['accuracy']:.2f}"})

    def set_embedding_statistics(self, *, max_windows: int = EMBEDDING_STAT_WINDOWS) -> None:
        """Standardise the embedding output with statistics of training windows."""
        layer = self.network.get_layer("embedding")
        layer.mean.assign(np.zeros(layer.mean.shape, np.float32))
        layer.inverse_std.assign(np.ones(layer.inverse_std.shape, np.float32))
        rng = np.random.default_rng(self.seed)
        n_batches = max(1, max_windows // 256)
        windows = np.concatenate([
            sample_batch(self.train, batch_size=256, window_frames=self.config.window_frames,
                         rng=rng)[0] for _ in range(n_batches)])
        layer.set_statistics(self.model().predict_windows(windows)[1])

    def _plot_confusion(self, evaluation: Evaluation, path: str, *, what: str) -> None:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        plot_confusion_matrix(
            evaluation.confusion, class_names=self.config.class_names, path=path,
            title=f"{what}: accuracy {evaluation.track_accuracy:.1%} "
                  f"({evaluation.n_tracks} tracks)")

    def export(self, path: str | os.PathLike, *, figures: dict | None = None,
               evaluation: Evaluation | None = None, hold_out: Evaluation | None = None,
               hold_out_soundfont: str | None = None) -> AudioClassifier:
        """Save the model folder (with an evaluation: evaluation.json, confusion.png too).

        Parameters
        ----------
        path : str or os.PathLike
        figures : dict, optional
            Added to the model's ``meta.json`` figures.
        evaluation : Evaluation, optional
            The test split's figures: ``evaluation.json`` and ``confusion.png``.
        hold_out, hold_out_soundfont : Evaluation and str, optional
            The held-out soundfont's test tracks and its file name: in
            ``evaluation.json`` under ``leave_one_soundfont_out`` (with the name),
            in the figures, and in ``confusion_leave_one_soundfont_out.png``.
        """
        self.set_embedding_statistics()
        model = self.model()
        path = os.fspath(path)
        figures = {"steps": self.step, "train_seconds": round(float(self.elapsed.numpy()), 1),
                   "n_train_tracks": len(self.train), **(figures or {})}
        report = {}
        if evaluation is not None:
            figures.update(test_track_accuracy=round(evaluation.track_accuracy, 4),
                           test_window_accuracy=round(evaluation.window_accuracy, 4),
                           n_test_tracks=evaluation.n_tracks)
            report.update(evaluation.to_dict())
            self._plot_confusion(evaluation, os.path.join(path, CONFUSION_FILE),
                                 what="held-out tracks")
        if hold_out is not None:
            figures.update(hold_out_soundfont=hold_out_soundfont,
                           leave_one_soundfont_out_track_accuracy=round(hold_out.track_accuracy, 4),
                           leave_one_soundfont_out_window_accuracy=round(
                               hold_out.window_accuracy, 4),
                           n_leave_one_soundfont_out_tracks=hold_out.n_tracks)
            report[LEAVE_ONE_OUT_KEY] = {"soundfont": hold_out_soundfont, **hold_out.to_dict()}
            self._plot_confusion(hold_out, os.path.join(path, HOLD_OUT_CONFUSION_FILE),
                                 what=f"held-out soundfont {hold_out_soundfont}")
        if report:
            write_text_atomic(os.path.join(path, EVALUATION_FILE),
                              json.dumps(report, indent=2) + "\n")
        model.save(path, figures=figures)
        return model
