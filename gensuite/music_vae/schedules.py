"""Magenta's MusicVAE training schedules as pure functions of the global step.

Each accepts a Python number or a scalar tensor for ``step`` (the number of
optimizer steps already taken, Magenta's ``global_step``) and returns a float32
scalar tensor, so the same code serves the compiled train step and the tests.
Powers are computed in float64: float32 rounds 0.9999 and 0.99999 enough to
shift ``rate**step`` by ~1e-4 relative after 10k steps.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from gensuite.music_vae.configs import validate_sampling_schedule


def _step(step) -> tf.Tensor:
    return tf.cast(step, tf.float64)


def _pow(base: float, step) -> tf.Tensor:
    return tf.pow(tf.constant(base, tf.float64), _step(step))


def kl_beta(step, *, max_beta: float, beta_rate: float) -> tf.Tensor:
    """KL weight ``(1 - beta_rate**step) * max_beta``.

    ``beta_rate = 0`` gives 0 at step 0 and ``max_beta`` afterwards (0**0 = 1),
    exactly as Magenta's ``tf.pow``.
    """
    return tf.cast((1.0 - _pow(beta_rate, step)) * max_beta, tf.float32)


def learning_rate(step, *, initial: float = 1e-3, minimum: float = 1e-5,
                  decay_rate: float = 0.9999) -> tf.Tensor:
    """``(initial - minimum) * decay_rate**step + minimum``."""
    return tf.cast((initial - minimum) * _pow(decay_rate, step) + minimum, tf.float32)


def sampling_probability(step, *, schedule: str, rate: float) -> tf.Tensor:
    """Probability that a decoder step reads its own previous sample.

    Parameters
    ----------
    step : int or scalar tensor
    schedule : {"constant", "inverse_sigmoid", "exponential"}
        ``constant``: ``rate``; ``inverse_sigmoid``: ``1 - k / (k + exp(step / k))``
        with ``k = rate >= 1`` (larger k, slower rise); ``exponential``:
        ``1 - rate**step``.
    rate : float

    Raises
    ------
    ParameterError
        On Magenta's invalid combinations (e.g. inverse_sigmoid with k < 1).
    """
    validate_sampling_schedule(schedule, rate)
    if schedule == "constant":
        return tf.constant(rate, tf.float32)
    if schedule == "inverse_sigmoid":
        k = tf.constant(rate, tf.float64)
        return tf.cast(1.0 - k / (k + tf.exp(_step(step) / k)), tf.float32)
    return tf.cast(1.0 - _pow(rate, step), tf.float32)


class MagentaLearningRate(keras.optimizers.schedules.LearningRateSchedule):
    """:func:`learning_rate` as a Keras schedule (step = optimizer.iterations)."""

    def __init__(self, initial: float = 1e-3, minimum: float = 1e-5, decay_rate: float = 0.9999):
        self.initial, self.minimum, self.decay_rate = initial, minimum, decay_rate

    def __call__(self, step):
        return learning_rate(step, initial=self.initial, minimum=self.minimum,
                             decay_rate=self.decay_rate)

    def get_config(self):
        return {"initial": self.initial, "minimum": self.minimum, "decay_rate": self.decay_rate}
