"""One-hot vectors."""

import numpy as np

from gensuite.common.arrays import one_hot


def test_one_hot_of_one_group_pads_minus_one_with_zeros():
    hot = one_hot(np.array([[2, 0, -1]]), 3, dtype=np.float32)
    assert hot.dtype == np.float32 and hot.shape == (1, 3, 3)
    np.testing.assert_array_equal(hot[0], [[0, 0, 1], [1, 0, 0], [0, 0, 0]])


def test_one_hot_of_several_groups_concatenates_them_in_order():
    hot = one_hot(np.array([[1, 0], [0, 2]]), (2, 3))
    assert hot.dtype == bool
    np.testing.assert_array_equal(hot, [[0, 1, 1, 0, 0], [1, 0, 0, 0, 1]])
