"""MelodyRNN speed: training examples/s per preset and generation latency, one JSON object.

Training: one optimizer step of each preset on batches of random in-range
melodies, timed two ways: the train step alone, and end to end as
``train_melody_rnn`` runs it (numpy encoding of the batch + the step). The
presets' calls alternate, so a busy moment of the machine slows them alike;
``attention_step_cost_vs_lookback`` is the ratio of their best step times.

Generation: 8 melodies x 128 steps (8-step primer included), sampling
(beam 1) and beam search (beam 4, branch factor 1 and 4), with
``MelodyRNN.generate``, whose whole batch runs inside one compiled
``tf.while_loop``. The baseline, measured in the same run on the same model,
is the classic way (Magenta's ``generate`` loop calls ``session.run`` once per
step): a Python loop calling a compiled *one-step* function (encode the last
event, run the LSTM stack one step, sample) 127 times. It does the same work
per step, so the ratio is the cost of stepping from Python.

Usage::

    python benchmarks/rnn.py [--repeats 5] [--train-configs cpu-attention_rnn ...]
                             [--generate-config attention_rnn] [--jit on|off]

``--jit off`` and ``--jit on`` side by side give the XLA gain of each preset.

Models are untrained (speed does not depend on the weights).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

from timing import time_calls

PRIMER = [60, -2, 62, -2, 64, -2, 65, -2]
NUM_OUTPUTS = 8
NUM_STEPS = 128
TRAIN_STEPS = 128  # window of the cpu-* presets


def random_melodies(config, *, n: int, n_steps: int, seed: int):
    """Melodies of in-range note-ons, holds and note-offs (Magenta's event mix)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    kinds = rng.choice(3, size=(n, n_steps), p=[0.3, 0.6, 0.1])
    notes = rng.integers(config.min_note, config.max_note, size=(n, n_steps))
    events = np.where(kinds == 0, notes, np.where(kinds == 1, -2, -1))
    events[:, 0] = notes[:, 0]
    return list(events)


def make_training_calls(name: str, jit: bool):
    """Build a preset's train step; return its facts and two timed calls (step only, end to end)."""
    import numpy as np

    from gensuite.melody_rnn import trainer as rnn_trainer
    from gensuite.melody_rnn.configs import get_config
    from gensuite.melody_rnn.model import MelodyRNN

    config = get_config(name)
    model = MelodyRNN(config)
    optimizer = rnn_trainer.make_optimizer(config)
    optimizer.build(model.network.trainable_variables)
    train_step = rnn_trainer._make_train_step(model.network, optimizer, jit_compile=jit)
    window = config.train_window_steps or TRAIN_STEPS
    # One step longer than the window: every example fills it.
    melodies = random_melodies(config, n=4 * config.batch_size, n_steps=window + 1, seed=0)
    rng = np.random.default_rng(0)

    def batch():
        chosen = rng.choice(len(melodies), size=config.batch_size, replace=False)
        return rnn_trainer.make_batch(model.encoding, [melodies[i] for i in chosen],
                                      window_steps=config.train_window_steps, rng=rng)

    fixed = batch()
    facts = {"batch_size": config.batch_size, "steps_per_example": window, "jit_compile": jit,
             "parameters": int(sum(np.prod(v.shape) for v in model.network.trainable_variables))}
    return facts, (lambda: float(train_step(*fixed)[0])), (lambda: float(train_step(*batch())[0]))


def bench_training(names: list[str], repeats: int, jit: bool) -> dict:
    built = {name: make_training_calls(name, jit) for name in names}
    times = {name: {"step": [], "end_to_end": []} for name in names}
    for _, step_only, end_to_end in built.values():  # warm-up: tracing
        step_only(), end_to_end()
    for _ in range(repeats):
        for name, (_, step_only, end_to_end) in built.items():
            for kind, call in (("step", step_only), ("end_to_end", end_to_end)):
                started = time.perf_counter()
                call()
                times[name][kind].append(time.perf_counter() - started)
    report = {}
    for name, (facts, _, _) in built.items():
        batch_size = facts["batch_size"]
        report[name] = {**facts,
                        "examples_per_second": batch_size / min(times[name]["end_to_end"]),
                        "examples_per_second_median":
                            batch_size / statistics.median(times[name]["end_to_end"]),
                        "step_only_examples_per_second": batch_size / min(times[name]["step"])}
    if "cpu-attention_rnn" in report and "cpu-lookback_rnn" in report:
        report["attention_step_cost_vs_lookback"] = (
            min(times["cpu-attention_rnn"]["step"]) / min(times["cpu-lookback_rnn"]["step"]))
    return report


def make_python_loop_generator(model):
    """The baseline: ``generate(primer, num_steps, num_outputs, seed)`` stepping from Python.

    Sampling only (beam 1); each step is one call of a compiled function doing
    what one iteration of ``MelodyRNN.generate``'s loop does.
    """
    import tensorflow as tf

    encoder, network = model.step_encoder, model.network
    context = network.step_context()

    @tf.function(reduce_retracing=True)
    def step(t, history, encoder_state, rnn_state, primer, seed):
        n_primer = tf.shape(primer)[0]
        inputs, encoder_state = encoder.encode_step(encoder_state, history, t)
        logits, rnn_state = network.step(inputs, rnn_state, context)
        log_probs = tf.nn.log_softmax(logits, axis=-1)
        step_seed = tf.random.experimental.stateless_fold_in(seed, tf.cast(t, tf.int64))
        labels = tf.random.stateless_categorical(log_probs, 1, step_seed, dtype=tf.int32)[:, 0]
        events = tf.where(t + 1 < n_primer,
                          tf.fill(tf.shape(labels), primer[tf.minimum(t + 1, n_primer - 1)]),
                          encoder.decode_labels(labels, history, t + 1))
        columns = tf.range(tf.shape(history)[1])
        history = tf.where(tf.equal(columns, t + 1)[None, :], events[:, None], history)
        return history, encoder_state, rnn_state

    def generate(primer_events, *, num_steps, num_outputs, seed):
        squashed, _ = model.prepare_melody(primer_events)
        primer = tf.constant(squashed, tf.int32)
        history = tf.concat([tf.tile(primer[None], [num_outputs, 1]),
                             tf.fill([num_outputs, num_steps - len(squashed)], -2)], axis=1)
        encoder_state = encoder.initial_state(num_outputs)
        rnn_state = network.zero_state(num_outputs)
        seed = tf.constant([0, seed], tf.int64)
        for t in range(num_steps - 1):
            history, encoder_state, rnn_state = step(
                tf.constant(t), history, encoder_state, rnn_state, primer, seed)
        return history.numpy()

    return generate


def bench_generation(name: str, repeats: int) -> dict:
    from gensuite.melody_rnn.configs import get_config
    from gensuite.melody_rnn.model import MelodyRNN

    model = MelodyRNN(get_config(name))

    def compiled(**beam):
        return time_calls(lambda: model.generate(PRIMER, num_steps=NUM_STEPS,
                                                 num_outputs=NUM_OUTPUTS, seed=1, **beam),
                          repeats)

    python_loop = make_python_loop_generator(model)
    baseline = time_calls(lambda: python_loop(PRIMER, num_steps=NUM_STEPS,
                                              num_outputs=NUM_OUTPUTS, seed=1), repeats)
    beam_1 = compiled()
    beam_4 = compiled(beam_size=4)
    beam_4x4 = compiled(beam_size=4, branch_factor=4)
    return {
        "config": name, "num_outputs": NUM_OUTPUTS, "num_steps": NUM_STEPS,
        "primer_steps": len(PRIMER),
        "beam_1_seconds": beam_1["best"], "beam_1_seconds_median": beam_1["median"],
        "beam_4_seconds": beam_4["best"], "beam_4_seconds_median": beam_4["median"],
        "beam_4_branch_4_seconds": beam_4x4["best"],
        "baseline_python_loop_beam_1_seconds": baseline["best"],
        "baseline_python_loop_beam_1_seconds_median": baseline["median"],
        "speedup_compiled_loop_vs_python_loop": baseline["best"] / beam_1["best"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed calls per figure")
    parser.add_argument("--train-configs", nargs="+",
                        default=["cpu-basic_rnn", "cpu-lookback_rnn", "cpu-attention_rnn"])
    parser.add_argument("--generate-config", default="attention_rnn")
    parser.add_argument("--jit", choices=("on", "off"), default="off",
                        help="XLA for the whole train step (training's default: off)")
    args = parser.parse_args()

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from gensuite.common.tfutil import import_tensorflow

    tf = import_tensorflow()
    gpus = tf.config.list_physical_devices("GPU")
    report = {
        "device": "gpu" if gpus else "cpu", "tensorflow": tf.__version__,
        "cpu_count": os.cpu_count(), "repeats": args.repeats,
        "train": bench_training(args.train_configs, args.repeats, args.jit == "on"),
        "generate": bench_generation(args.generate_config, args.repeats),
    }
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
