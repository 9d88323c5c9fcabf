"""Where an attention_rnn training step's time goes: the figures of the attention_rnn card.

Times, on random weights and inputs (speed does not depend on them), for one
batch of 64 windows x 128 steps:

* the attention cell's forward and backward loops
  (``melody_rnn/attention.py``) with a 40-output window and with a window of 1:
  the difference is what reading the window costs;
* the cell's forward + backward through ``AttentionLSTMCell.run`` as it
  trains (the batch as two halves) against the same batch as one loop.

Usage::

    python experiments/attention_cost.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

BATCH, STEPS, INPUT, UNITS = 64, 128, 74, 128


def best_ms(fn, repeats: int) -> float:
    import tensorflow as tf

    fn()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        tf.nest.flatten(fn())[0].numpy()
        times.append(time.perf_counter() - started)
    return round(1000 * min(times), 1)


def loop_times(attn_length: int, repeats: int) -> dict:
    import tensorflow as tf

    from gensuite.melody_rnn import attention

    cell = attention.AttentionLSTMCell(UNITS, INPUT, attn_length)
    x = tf.random.normal([BATCH, STEPS, INPUT])
    context = cell.step_context()
    recurrent = tf.concat([context[UNITS:], context[:UNITS]], axis=0)
    fused = tf.concat([cell.output_kernel, tf.matmul(cell.output_kernel, cell.attn_kernel),
                       recurrent], axis=1)
    weights = (fused, *(tf.convert_to_tensor(w) for w in (
        cell.query_kernel, cell.query_bias, cell.attn_v, cell.output_bias)),
        tf.zeros([UNITS]))
    x_gates = tf.transpose(cell.project_inputs(x), [1, 0, 2])
    saved = attention._attention_forward(x_gates, *weights, attn_length=attn_length)
    upstream = tf.random.normal([STEPS, BATCH, UNITS])
    return {
        "forward_ms": best_ms(lambda: attention._attention_forward(
            x_gates, *weights, attn_length=attn_length), repeats),
        "backward_ms": best_ms(lambda: attention._attention_backward(
            upstream, saved, *weights, attn_length=attn_length), repeats)}


def halves_vs_one_loop(repeats: int) -> dict:
    import tensorflow as tf

    from gensuite.melody_rnn import attention

    cell = attention.AttentionLSTMCell(UNITS, INPUT, 40)
    x = tf.random.normal([BATCH, STEPS, INPUT])
    upstream = tf.random.normal([BATCH, STEPS, UNITS])

    def timed(run, signature):
        @tf.function(input_signature=signature)
        def step(x):
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum(run(x) * upstream)
            return tape.gradient(loss, cell.trainable_variables)

        return best_ms(lambda: step(x), repeats)

    # run() splits any batch of unknown size; this is the same pass in one loop.
    def one_loop(x):
        context = cell.step_context()
        recurrent = tf.concat([context[UNITS:], context[:UNITS]], axis=0)
        fused = tf.concat([cell.output_kernel, tf.matmul(cell.output_kernel, cell.attn_kernel),
                           recurrent], axis=1)
        out = attention.attention_sequence(
            tf.transpose(cell.project_inputs(x), [1, 0, 2]), fused,
            *(tf.convert_to_tensor(w) for w in (cell.query_kernel, cell.query_bias,
                                                cell.attn_v, cell.output_bias)),
            tf.linalg.matvec(cell.attn_kernel, cell.output_bias, transpose_a=True),
            attn_length=40)
        return tf.transpose(out, [1, 0, 2])

    signature = [tf.TensorSpec([None, STEPS, INPUT], tf.float32)]
    return {"two_halves_ms": timed(cell.run, signature),
            "one_loop_ms": timed(one_loop, signature)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    print(json.dumps({"batch": BATCH, "steps": STEPS,
                      "window_40": loop_times(40, args.repeats),
                      "window_1": loop_times(1, args.repeats),
                      "forward_and_backward": halves_vs_one_loop(args.repeats)}, indent=1))


if __name__ == "__main__":
    main()
