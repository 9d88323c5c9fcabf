"""Where sampling draws latent vectors from: N(0, I), or a Gaussian fitted to real music.

A VAE's KL term only pulls the posteriors towards N(0, I); a model that
reconstructs well spends far more information than that prior allows for (the
shipped ``mel_2bar``: 181 bits per 2 bars), so its posterior means fill a
smaller, tilted region and most of N(0, I)'s mass lies where the decoder never
trained: a third of ``mel_2bar``'s N(0, I) samples are one held note or a
scatter of 30 notes over seven octaves. Sampling from a full-covariance
Gaussian fitted to the posterior means of real windows (ex-post density
estimation) keeps samples where the music is. A model folder keeps it as
``prior.npz`` (``mean``, ``scale_tril``).
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np

from gensuite.common.errors import InputFileError, NoExamplesError

PRIOR_FILE = "prior.npz"


@dataclasses.dataclass(frozen=True, eq=False)
class GaussianPrior:
    """N(mean, scale_tril @ scale_tril.T) over latent vectors.

    Attributes
    ----------
    mean : np.ndarray, shape (z_size,), float32
    scale_tril : np.ndarray, shape (z_size, z_size), float32, lower-triangular
    """

    mean: np.ndarray
    scale_tril: np.ndarray

    @classmethod
    def fit(cls, means: np.ndarray) -> GaussianPrior:
        """The Gaussian of latent vectors ``means`` (n, z_size), n >= 2."""
        means = np.asarray(means, np.float64)
        if means.ndim != 2 or len(means) < 2:
            raise NoExamplesError(
                f"a fitted prior needs at least two latent vectors, got shape {means.shape}")
        covariance = np.cov(means, rowvar=False) + 1e-6 * np.eye(means.shape[1])
        return cls(means.mean(0).astype(np.float32),
                   np.linalg.cholesky(covariance).astype(np.float32))

    def transform(self, eps: np.ndarray) -> np.ndarray:
        """Standard normal draws (n, z_size) -> draws from this Gaussian."""
        return (self.mean + np.asarray(eps, np.float32) @ self.scale_tril.T).astype(np.float32)

    def save(self, folder: str | os.PathLike) -> None:
        """Write ``folder/prior.npz`` atomically."""
        from gensuite.common.fileio import atomic_path  # noqa: PLC0415

        with atomic_path(os.path.join(os.fspath(folder), PRIOR_FILE), suffix=".npz") as tmp:
            np.savez(tmp, mean=self.mean, scale_tril=self.scale_tril)

    @classmethod
    def load(cls, folder: str | os.PathLike, *, z_size: int) -> GaussianPrior | None:
        """The prior saved in ``folder``, or None when it has none.

        Raises
        ------
        InputFileError
            Unreadable, or shaped for another latent size.
        """
        path = os.path.join(os.fspath(folder), PRIOR_FILE)
        saved = read_npz(path, what="prior")
        if saved is None:
            return None
        try:
            mean, scale = saved["mean"], saved["scale_tril"]
        except KeyError as exc:
            raise InputFileError(path, f"unreadable prior (no array {exc})") from exc
        if mean.shape != (z_size,) or scale.shape != (z_size, z_size):
            raise InputFileError(path, f"prior shapes {mean.shape}, {scale.shape} do not fit a "
                                       f"latent size of {z_size}")
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(scale))):
            raise InputFileError(path, "prior holds NaN or inf")
        return cls(mean.astype(np.float32), scale.astype(np.float32))


def read_npz(path: str, *, what: str) -> dict[str, np.ndarray] | None:
    """Every array of a model folder's ``.npz`` file; None when there is no such file.

    Raises
    ------
    InputFileError
        Unreadable: "unreadable {what} (reason)".
    """
    if not os.path.isfile(path):
        return None
    try:
        with np.load(path, allow_pickle=False) as saved:
            return {key: saved[key] for key in saved.files}
    except (OSError, ValueError) as exc:
        raise InputFileError(path, f"unreadable {what} ({exc})") from exc


# --------------------------------------------------------------------------
# Repeated phrases in song samples


@dataclasses.dataclass(frozen=True)
class RepeatRule:
    """Which 2-bar chunks of a song sample repeat an earlier chunk literally.

    Real tunes repeat phrases note for note; a latent hierarchy decodes each
    chunk of a sample from its own latent, so nearly equal latents still come
    out as different notes. The conductor marks intended repeats: on real
    songs, the chunk latents it predicts for two identical chunks are far
    closer than for any two different ones. On song latents drawn from the
    prior they are less sharp, so the rule is calibrated on samples: the
    ``pair_repeat_rate`` closest pairs (the share of chunk pairs that repeat
    in the training songs) fall within ``max_distance``, and the later chunk
    of each such pair is decoded as a copy of the earlier one.

    Attributes
    ----------
    max_distance : float
        Root-mean-square distance (latent units) below which two predicted
        chunk latents count as one phrase.
    pair_repeat_rate : float
        Share of chunk pairs (i < j) of training windows whose notes are
        identical; what ``max_distance`` was calibrated to.
    """

    max_distance: float
    pair_repeat_rate: float

    @classmethod
    def calibrate(cls, sampled_chunk_z: np.ndarray, pair_repeat_rate: float) -> RepeatRule:
        """The rule that makes ``pair_repeat_rate`` of the sampled chunk pairs repeats.

        Parameters
        ----------
        sampled_chunk_z : np.ndarray, shape (n, n_chunks, chunk_z)
            Conducted chunk latents of song latents drawn from the prior.
        pair_repeat_rate : float
            From :func:`pair_repeat_rate` of training windows.
        """
        distances = chunk_pair_distances(sampled_chunk_z)
        return cls(max_distance=float(np.quantile(distances, pair_repeat_rate)),
                   pair_repeat_rate=float(pair_repeat_rate))

    def sources(self, chunk_z: np.ndarray) -> np.ndarray:
        """The chunk each chunk is decoded as: (n, n_chunks) int, itself where it repeats none.

        Chunk j copies the earliest chunk i < j within ``max_distance``, and
        through it whatever i copies.
        """
        chunk_z = np.asarray(chunk_z, np.float64)
        n, k = chunk_z.shape[:2]
        source = np.tile(np.arange(k), (n, 1))
        for j in range(1, k):
            near = _rms(chunk_z[:, :j] - chunk_z[:, j:j + 1]) < self.max_distance
            first = near.argmax(axis=1)
            copies = near.any(axis=1)
            source[copies, j] = source[copies, first[copies]]
        return source

    def apply(self, decoded: np.ndarray, chunk_z: np.ndarray) -> np.ndarray:
        """Decoded windows (n, n_chunks * chunk_steps, depth) with repeats copied in."""
        n, k = chunk_z.shape[:2]
        chunks = np.asarray(decoded).reshape(n, k, -1, decoded.shape[-1])
        copied = chunks[np.arange(n)[:, None], self.sources(chunk_z)]
        return copied.reshape(decoded.shape)


def chunk_pair_distances(chunk_z: np.ndarray) -> np.ndarray:
    """RMS distances of every pair i < j of chunk latents: (n, n_pairs)."""
    chunk_z = np.asarray(chunk_z, np.float64)
    i, j = np.triu_indices(chunk_z.shape[1], k=1)
    return _rms(chunk_z[:, i] - chunk_z[:, j])


def pair_repeat_rate(chunk_classes: np.ndarray) -> float:
    """Share of chunk pairs i < j of windows (n, n_chunks, chunk_steps) with identical steps."""
    chunk_classes = np.asarray(chunk_classes)
    i, j = np.triu_indices(chunk_classes.shape[1], k=1)
    return float(np.all(chunk_classes[:, i] == chunk_classes[:, j], axis=-1).mean())


def _rms(difference: np.ndarray) -> np.ndarray:
    return np.sqrt(np.mean(np.square(difference), axis=-1))
