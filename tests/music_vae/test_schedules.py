"""MusicVAE schedules and loss formulas against hand-computed numbers."""

import numpy as np
import pytest
import tensorflow as tf

from gensuite.common.errors import ParameterError
from gensuite.music_vae.losses import (
    accuracy_from_counts,
    constant_accuracy,
    free_bits_kl_cost,
    kl_divergence,
    reconstruction_terms,
)
from gensuite.music_vae.schedules import (
    MagentaLearningRate,
    kl_beta,
    learning_rate,
    sampling_probability,
)


def test_kl_beta_anneals_from_zero_to_max_beta():
    # (1 - 0.99999**step) * 0.2
    assert float(kl_beta(0, max_beta=0.2, beta_rate=0.99999)) == 0.0
    assert float(kl_beta(1000, max_beta=0.2, beta_rate=0.99999)) == pytest.approx(0.00199004, rel=1e-4)
    assert float(kl_beta(100000, max_beta=0.2, beta_rate=0.99999)) == pytest.approx(0.126424, rel=1e-4)


def test_kl_beta_rate_zero_is_constant_after_step_zero():
    # Magenta's tf.pow(0, 0) = 1: beta is 0 on the very first step only.
    assert float(kl_beta(0, max_beta=0.2, beta_rate=0.0)) == 0.0
    assert float(kl_beta(1, max_beta=0.2, beta_rate=0.0)) == pytest.approx(0.2)
    assert float(kl_beta(tf.constant(5000, tf.int64), max_beta=0.2, beta_rate=0.0)) == pytest.approx(0.2)


def test_learning_rate_decays_to_minimum():
    assert float(learning_rate(0)) == pytest.approx(1e-3)
    assert float(learning_rate(10000)) == pytest.approx(3.741824e-4, rel=1e-4)
    assert float(learning_rate(50000)) == pytest.approx(1.66689e-5, rel=1e-4)
    assert float(learning_rate(10**7)) == pytest.approx(1e-5)
    schedule = MagentaLearningRate()
    assert float(schedule(tf.constant(10000, tf.int64))) == pytest.approx(3.741824e-4, rel=1e-4)
    assert MagentaLearningRate(**schedule.get_config()).get_config() == schedule.get_config()


@pytest.mark.parametrize("step, expected", [(0, 0.000999001), (5000, 0.1292332), (10000, 0.9565717)])
def test_inverse_sigmoid_sampling(step, expected):
    # 1 - k / (k + exp(step / k)), k = 1000
    p = sampling_probability(step, schedule="inverse_sigmoid", rate=1000.0)
    assert float(p) == pytest.approx(expected, rel=1e-4)


def test_other_sampling_schedules():
    assert float(sampling_probability(123, schedule="constant", rate=0.25)) == 0.25
    assert float(sampling_probability(1000, schedule="exponential", rate=0.999)) == pytest.approx(
        0.6323046, rel=1e-4)


@pytest.mark.parametrize("schedule, rate, message", [
    ("inverse_sigmoid", 0.5, "sampling_rate: must be >= 1 for 'inverse_sigmoid', got 0.5"),
    ("exponential", 1.0, "sampling_rate: must be in (0, 1) for 'exponential', got 1.0"),
    ("constant", 2.0, "sampling_rate: must be in [0, 1] for 'constant', got 2.0"),
    ("linear", 0.5, "sampling_schedule: must be one of constant, inverse_sigmoid, exponential"),
])
def test_bad_sampling_schedules_raise(schedule, rate, message):
    with pytest.raises(ParameterError) as info:
        sampling_probability(0, schedule=schedule, rate=rate)
    assert message in str(info.value)


def test_kl_divergence_of_diagonal_normal():
    # 0.5 * (mu^2 + sigma^2 - 1) - log(sigma), summed: 0.5 + (-0.375 + ln 2)
    kl = kl_divergence(tf.constant([[1.0, 0.0], [0.0, 0.0]]), tf.constant([[1.0, 0.5], [1.0, 1.0]]))
    np.testing.assert_allclose(kl.numpy(), [0.8181472, 0.0], rtol=1e-5, atol=1e-7)


def test_free_bits_on_total_kl():
    cost = free_bits_kl_cost(tf.constant([100.0, 10.0, 33.0]), 48.0)  # 48 bits = 33.27 nats
    np.testing.assert_allclose(cost.numpy(), [66.728935, 0.0, 0.0], rtol=1e-5)


def test_reconstruction_loss_sums_valid_steps_only():
    # Uniform logits over 4 classes: cross entropy ln 4 per step; 3 of 5 steps valid.
    targets = tf.one_hot([[0, 1, 2, 3, 3], [1, 1, 1, 1, 1]], 4)
    logits = tf.zeros([2, 5, 4])
    terms = reconstruction_terms(logits, targets, tf.constant([3, 5]), (4,))
    np.testing.assert_allclose(terms["r_loss"].numpy(), [3 * np.log(4), 5 * np.log(4)], rtol=1e-6)
    assert float(terms["n_valid"]) == 8.0


def test_accuracy_excludes_padding_and_averages_outputs():
    # Two outputs (depths 2 and 3). Predictions: output 0 right on 2 of 3 valid
    # steps; output 1 right on all 3. The padded step (t=3) is wrong on both.
    target_ids = np.array([[[0, 2], [1, 1], [1, 0], [0, 0]]])
    pred_ids = np.array([[[0, 2], [0, 1], [1, 0], [1, 2]]])
    def one_hot(ids):
        return tf.concat([tf.one_hot(ids[..., 0], 2), tf.one_hot(ids[..., 1], 3)], axis=-1)
    terms = reconstruction_terms(one_hot(pred_ids) * 10.0, one_hot(target_ids), tf.constant([3]), (2, 3))
    np.testing.assert_array_equal(terms["correct"].numpy(), [2.0, 3.0])
    assert accuracy_from_counts(terms["correct"], terms["n_valid"]) == pytest.approx((2 / 3 + 1) / 2)


def test_constant_accuracy_takes_each_outputs_most_frequent_class():
    # Output 0 (depth 2): class 1 on 2 of 3 steps; output 1 (depth 3): class 0 on 1,
    # class 1 on 1, class 2 on 1.
    assert constant_accuracy([1, 2, 1, 1, 1], 3, (2, 3)) == pytest.approx((2 / 3 + 1 / 3) / 2)
