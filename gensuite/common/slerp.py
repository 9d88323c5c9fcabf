"""Spherical interpolation between latent vectors, shared by every generator."""

from __future__ import annotations

import numpy as np


def slerp(p0: np.ndarray, p1: np.ndarray, t: float) -> np.ndarray:
    """Spherical interpolation between two vectors (Magenta's ``_slerp``).

    Falls back to linear interpolation when the vectors are (anti)parallel,
    where the spherical formula divides by ``sin(omega) = 0``.
    """
    p0 = np.asarray(p0, dtype=np.float64)
    p1 = np.asarray(p1, dtype=np.float64)
    n0, n1 = np.linalg.norm(p0), np.linalg.norm(p1)
    if n0 == 0 or n1 == 0:
        return (1.0 - t) * p0 + t * p1
    omega = np.arccos(np.clip(np.dot(p0 / n0, p1 / n1), -1.0, 1.0))
    so = np.sin(omega)
    if so < 1e-6:
        return (1.0 - t) * p0 + t * p1
    return np.sin((1.0 - t) * omega) / so * p0 + np.sin(t * omega) / so * p1
