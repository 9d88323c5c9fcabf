"""Small numpy helpers shared by the models' data code."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def one_hot(classes, depths: int | Sequence[int], *, dtype=bool) -> np.ndarray:
    """One-hot vectors of integer classes; a class outside ``[0, depth)`` (-1 pads) gives zeros.

    Parameters
    ----------
    classes : array-like of int
        Shape ``(...)`` with an int ``depths``, or ``(..., len(depths))``:
        one class per group (e.g. a trio's melody, bass and drums).
    depths : int or sequence of int
        Classes per group.
    dtype : numpy dtype
        Of the result (bool by default).

    Returns
    -------
    numpy.ndarray
        ``(..., depths)``, or ``(..., sum(depths))``: the groups' one-hots
        concatenated in order.
    """
    classes = np.asarray(classes)
    if isinstance(depths, (int, np.integer)):
        return (classes[..., None] == np.arange(depths)).astype(dtype, copy=False)
    return np.concatenate([one_hot(classes[..., g], depth, dtype=dtype)
                           for g, depth in enumerate(depths)], axis=-1)
