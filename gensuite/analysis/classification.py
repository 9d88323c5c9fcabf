"""From per-window class probabilities to what a track is made of, and how good that is.

A classifier scores fixed windows of a track (:mod:`gensuite.analysis.model`);
this module turns those scores into a track's composition ("piano 64%,
synthesizer 20%, ..."), draws the per-window timeline, and measures a
classifier: per-track accuracy, the confusion matrix and its figure, and the
Frechet distance between two sets of embeddings.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np

from gensuite.common.errors import ParameterError
from gensuite.common.fileio import atomic_path


@dataclasses.dataclass(frozen=True)
class TrackAnalysis:
    """What a classifier says about every window of one track.

    Attributes
    ----------
    class_names : tuple of str
    probabilities : np.ndarray, float32 (n_windows, n_classes)
        Softmax output of each window; rows sum to 1.
    embeddings : np.ndarray, float32 (n_windows, embedding_size)
    start_s : np.ndarray, float64 (n_windows,)
        Window start times in seconds.
    audible : np.ndarray, bool (n_windows,)
        Windows quieter than the model's silence level are False; they are
        left out of :attr:`composition` and :attr:`embedding`.
    window_s : float
        Length of one window in seconds.
    """

    class_names: tuple[str, ...]
    probabilities: np.ndarray
    embeddings: np.ndarray
    start_s: np.ndarray
    audible: np.ndarray
    window_s: float

    @property
    def shares(self) -> np.ndarray:
        """Mean probability of each class over the audible windows, (n_classes,), sums to 1."""
        return composition_shares(self.probabilities, audible=self.audible)

    @property
    def composition(self) -> dict[str, float]:
        """Class name -> share of the track, largest first."""
        return shares_to_composition(self.shares, class_names=self.class_names)

    @property
    def top_class(self) -> str:
        return self.class_names[int(np.argmax(self.shares))]

    @property
    def embedding(self) -> np.ndarray:
        """The track's embedding: mean over audible windows, unit length, (embedding_size,)."""
        return mean_embedding(self.embeddings, audible=self.audible)

    @property
    def n_audible(self) -> int:
        return int(np.count_nonzero(self.audible))


def composition_shares(probabilities: np.ndarray, *,
                       audible: np.ndarray | None = None) -> np.ndarray:
    """Mean of window probabilities over audible windows: (n_windows, C) -> (C,), sums to 1.

    Raises
    ------
    ParameterError
        If no window is audible.
    """
    probabilities = np.asarray(probabilities, dtype=np.float64)
    keep = np.ones(len(probabilities), bool) if audible is None else np.asarray(audible, bool)
    if probabilities.ndim != 2 or not keep.any():
        raise ParameterError(
            f"probabilities: need at least one audible window of shape (n, n_classes), got "
            f"{probabilities.shape} with {int(keep.sum())} audible")
    shares = probabilities[keep].mean(axis=0)
    return shares / shares.sum()


def shares_to_composition(shares: np.ndarray, *, class_names) -> dict[str, float]:
    """Class name -> share, sorted from the largest share down."""
    order = np.argsort(-np.asarray(shares), kind="stable")
    return {class_names[i]: float(shares[i]) for i in order}


def format_composition(composition: dict[str, float], *, min_share: float = 0.01) -> str:
    """``"piano 64%, synthesizer 20%, flute 9%"``; shares under ``min_share`` left out."""
    parts = [f"{name} {share:.0%}" for name, share in composition.items() if share >= min_share]
    return ", ".join(parts) or "(no class above 1%)"


def mean_embedding(embeddings: np.ndarray, *, audible: np.ndarray | None = None) -> np.ndarray:
    """Mean of window embeddings (audible ones), scaled to unit length, float32."""
    embeddings = np.asarray(embeddings, dtype=np.float64)
    keep = np.ones(len(embeddings), bool) if audible is None else np.asarray(audible, bool)
    mean = embeddings[keep].mean(axis=0)
    norm = np.linalg.norm(mean)
    return (mean / norm if norm > 0 else mean).astype(np.float32)


def confusion_matrix(true: np.ndarray, predicted: np.ndarray, *, n_classes: int) -> np.ndarray:
    """Counts, int64 (n_classes, n_classes): row = true class, column = predicted."""
    matrix = np.zeros((n_classes, n_classes), np.int64)
    np.add.at(matrix, (np.asarray(true, np.int64), np.asarray(predicted, np.int64)), 1)
    return matrix


def per_class_accuracy(matrix: np.ndarray) -> np.ndarray:
    """Recall of each class from a confusion matrix (NaN for a class with no examples)."""
    matrix = np.asarray(matrix, dtype=np.float64)
    totals = matrix.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, np.diag(matrix) / totals, np.nan)


def plot_confusion_matrix(matrix: np.ndarray, *, class_names, path: str | os.PathLike,
                          title: str | None = None) -> None:
    """Draw a confusion matrix (rows: true, columns: predicted; counts and row shares) to a PNG."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415
    from matplotlib.figure import Figure  # noqa: PLC0415

    matrix = np.asarray(matrix)
    n = len(class_names)
    rows = matrix.sum(axis=1, keepdims=True)
    shares = np.divide(matrix, rows, out=np.zeros(matrix.shape), where=rows > 0)
    size = 1.6 + 0.75 * n
    fig = Figure(figsize=(size + 1.5, size), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    image = ax.imshow(shares, vmin=0.0, vmax=1.0, cmap="Blues")
    fig.colorbar(image, ax=ax, label="share of the true class")
    for i in range(n):
        for j in range(n):
            ax.text(j, i, f"{matrix[i, j]}", ha="center", va="center", fontsize=8,
                    color="white" if shares[i, j] > 0.5 else "black")
    ax.set_xticks(range(n), class_names, rotation=45, ha="right")
    ax.set_yticks(range(n), class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if title:
        ax.set_title(title)
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=100)


def plot_timeline(analysis: TrackAnalysis, *, path: str | os.PathLike,
                  title: str | None = None) -> None:
    """Draw each class's probability over the track as stacked areas into a PNG.

    Each window is drawn at its centre; silent windows are left blank.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415
    from matplotlib.figure import Figure  # noqa: PLC0415

    probabilities = np.where(analysis.audible[:, None], analysis.probabilities, np.nan)
    centres = analysis.start_s + analysis.window_s / 2
    fig = Figure(figsize=(10.0, 3.5), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    ax.stackplot(centres, probabilities.T, labels=analysis.class_names, step="mid")
    ax.set_xlim(0.0, float(analysis.start_s[-1] + analysis.window_s))
    ax.set_ylim(0.0, 1.0)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("class probability")
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8)
    ax.set_title(title or format_composition(analysis.composition))
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=100)


def frechet_distance(*, real: np.ndarray, generated: np.ndarray) -> float:
    """Frechet distance between Gaussians fitted to two embedding sets (FID's formula).

    ``|mu_r - mu_g|^2 + tr(S_r + S_g - 2 (S_r S_g)^(1/2))``. Each set is
    (n, embedding_size) with n >= 2. With fewer notes than dimensions the
    covariances are singular, where a general matrix square root is unstable;
    the trace is taken instead from the eigenvalues of the symmetric
    ``S_r^(1/2) S_g S_r^(1/2)``, which has the same spectrum as ``S_r S_g``.
    """
    real = np.asarray(real, dtype=np.float64)
    generated = np.asarray(generated, dtype=np.float64)
    if real.ndim != 2 or generated.ndim != 2 or real.shape[1] != generated.shape[1] \
            or min(len(real), len(generated)) < 2:
        raise ParameterError(
            f"embeddings: need two (n >= 2, d) arrays of the same d, got {real.shape} and "
            f"{generated.shape}")
    mu_r, mu_g = real.mean(axis=0), generated.mean(axis=0)
    cov_r, cov_g = np.cov(real, rowvar=False), np.cov(generated, rowvar=False)
    values, vectors = np.linalg.eigh(cov_r)
    sqrt_r = (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T
    trace_root = np.sum(np.sqrt(np.clip(np.linalg.eigvalsh(sqrt_r @ cov_g @ sqrt_r), 0.0, None)))
    value = float(np.sum((mu_r - mu_g) ** 2) + np.trace(cov_r) + np.trace(cov_g) - 2.0 * trace_root)
    return max(value, 0.0)
