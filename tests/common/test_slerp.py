"""Spherical interpolation."""

import numpy as np

from gensuite.common.slerp import slerp


def test_slerp():
    p0, p1 = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    np.testing.assert_allclose(slerp(p0, p1, 0.0), p0, atol=1e-12)
    np.testing.assert_allclose(slerp(p0, p1, 1.0), p1, atol=1e-12)
    np.testing.assert_allclose(slerp(p0, p1, 0.5), [0.5 ** 0.5, 0.5 ** 0.5])
    np.testing.assert_allclose(slerp(p0, 2 * p0, 0.5), 1.5 * p0)  # parallel: linear
