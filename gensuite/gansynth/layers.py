"""Building blocks of a progressive GAN (Karras et al. 2018, as GANSynth uses them).

Weights use the "equalised learning rate": they are drawn from N(0, 1) and
multiplied at run time by He's constant ``sqrt(2 / fan_in)``, so Adam's
per-weight step size is the same for every layer whatever its fan-in.
"""

from __future__ import annotations

import functools
import math

import keras
import tensorflow as tf


def pixel_norm(x: tf.Tensor, *, epsilon: float = 1e-8) -> tf.Tensor:
    """Scale each feature vector (last axis) to unit root-mean-square."""
    return x * tf.math.rsqrt(tf.reduce_mean(tf.square(x), axis=-1, keepdims=True) + epsilon)


def upscale(x: tf.Tensor, factor: int) -> tf.Tensor:
    """Nearest-neighbour upsampling of (batch, height, width, channels) by ``factor``."""
    if factor == 1:
        return x
    x = tf.repeat(x, factor, axis=1)
    return tf.repeat(x, factor, axis=2)


def downscale(x: tf.Tensor, factor: int) -> tf.Tensor:
    """Average pooling of (batch, height, width, channels) by ``factor``."""
    if factor == 1:
        return x
    return tf.nn.avg_pool2d(x, ksize=factor, strides=factor, padding="VALID")


def batch_moments(x: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """Mean and variance over the batch axis; of the global batch inside a replica.

    Under a distributed strategy each replica holds a slice of the batch, so
    the sums are all-reduced (a differentiable reduction): every replica sees
    the statistics one device would compute on the whole batch.
    """
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return tf.nn.moments(x, axes=[0])
    total = functools.partial(context.all_reduce, tf.distribute.ReduceOp.SUM)
    n = total(tf.cast(tf.shape(x)[0], x.dtype))
    mean = total(tf.reduce_sum(x, axis=0)) / n
    return mean, total(tf.reduce_sum(tf.square(x - mean), axis=0)) / n


def append_minibatch_stddev(x: tf.Tensor) -> tf.Tensor:
    """Append one channel holding the mean over features of the batch standard deviation.

    It lets the discriminator see how varied a batch is, which penalises a
    generator that collapses onto a few outputs.
    """
    _, variance = batch_moments(x)
    stddev = tf.reduce_mean(tf.sqrt(variance + 1e-6))
    return tf.concat([x, tf.ones_like(x[..., :1]) * stddev], axis=-1)


class ScaledConv2D(keras.layers.Layer):
    """2-D convolution with run-time He scaling of N(0, 1) weights, plus a bias.

    Parameters
    ----------
    filters : int
    kernel_size : int or tuple of int
    padding : {"same", "valid"}
    gain : float
        He gain, ``sqrt(2)`` for (leaky) ReLU layers.
    seed : int, optional
        Seed of the initial weights.
    """

    def __init__(self, filters: int, kernel_size, *, padding: str = "same",
                 gain: float = math.sqrt(2.0), seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.filters = filters
        self.kernel_size = (kernel_size, kernel_size) if isinstance(kernel_size, int) \
            else tuple(kernel_size)
        self.padding = padding.upper()
        self.gain = gain

    def build(self, input_shape):
        fan_in = self.kernel_size[0] * self.kernel_size[1] * int(input_shape[-1])
        self.scale = float(self.gain / math.sqrt(fan_in))
        self.kernel = self.add_weight(
            name="kernel", shape=(*self.kernel_size, int(input_shape[-1]), self.filters),
            initializer=keras.initializers.RandomNormal(stddev=1.0, seed=self.seed))
        self.bias = self.add_weight(name="bias", shape=(self.filters,), initializer="zeros")

    def call(self, x):
        y = tf.nn.conv2d(x, self.kernel * self.scale, strides=1, padding=self.padding)
        return y + self.bias


class ScaledDense(keras.layers.Layer):
    """Dense layer with run-time He scaling of N(0, 1) weights, plus a bias."""

    def __init__(self, units: int, *, gain: float = 1.0, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.units = units
        self.gain = gain

    def build(self, input_shape):
        self.scale = float(self.gain / math.sqrt(int(input_shape[-1])))
        self.kernel = self.add_weight(
            name="kernel", shape=(int(input_shape[-1]), self.units),
            initializer=keras.initializers.RandomNormal(stddev=1.0, seed=self.seed))
        self.bias = self.add_weight(name="bias", shape=(self.units,), initializer="zeros")

    def call(self, x):
        return tf.matmul(x, self.kernel * self.scale) + self.bias
