"""MelodyRNN: configs, TF step encoders, attention cell, generation, beam search, training."""

import dataclasses
import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from gensuite.common.errors import InputFileError, NoExamplesError, ParameterError
from gensuite.melody_rnn import configs
from gensuite.melody_rnn import encodings as ee
from gensuite.melody_rnn import trainer as rnn_trainer
from gensuite.melody_rnn.attention import AttentionLSTMCell, LSTMCell
from gensuite.melody_rnn.model import MelodyRNN, encode_steps_tf, make_step_encoder

NO, OFF = ee.NO_EVENT, ee.NOTE_OFF
PATTERN = np.array([60, NO, 62, NO, 64, OFF, 67, NO, 65, NO, 64, NO, 62, OFF, NO, NO])


def random_melodies(rng, batch, n_steps, *, low=48, high=84):
    """Random events in [low, high) with many repeats at distances 16 and 32."""
    events = rng.choice([NO] * 6 + [OFF] * 2 + list(range(low, high)), size=(batch, n_steps))
    for t in range(16, n_steps):
        repeat = rng.random(batch)
        events[:, t] = np.where(repeat < 0.2, events[:, t - 16], events[:, t])
        if t >= 32:
            events[:, t] = np.where(repeat > 0.85, events[:, t - 32], events[:, t])
    return events


def tiny(name, **changes):
    return dataclasses.replace(configs.get_config(f"tiny-{name}"), **changes)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny lookback model trained on the repeating pattern (shared by several tests)."""
    config = tiny("lookback_rnn", dropout_keep_prob=1.0, learning_rate=2e-2,
                  train_window_steps=None, batch_size=8)
    keras.utils.set_random_seed(1)
    model = MelodyRNN(config)
    melodies = [np.tile(PATTERN, 4)[:36 + 4 * i] for i in range(4)]
    run_dir = tmp_path_factory.mktemp("trained")
    result = rnn_trainer.train_melody_rnn(
        model, melodies, melodies[:2], run_dir=run_dir, num_steps=200, progress=False,
        eval_every_steps=0, log_every_steps=50)
    return model, result, run_dir


# --------------------------------------------------------------------------
# Configs and networks
# --------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(configs.PRESETS))
def test_every_preset_builds_and_maps_inputs_to_logits(name):
    config = configs.get_config(name)
    model = MelodyRNN(config)
    logits = model.logits(np.zeros((2, 5, config.input_size), np.float32))
    assert logits.shape == (2, 5, config.num_classes)
    assert MelodyRNN(configs.MelodyRNNConfig.from_json(config.to_json())).config == config


@pytest.mark.parametrize("name, input_size, num_classes, clip, attention", [
    ("basic_rnn", 38, 38, 5.0, False),
    ("lookback_rnn", 121, 40, 5.0, False),
    ("attention_rnn", 74, 40, 3.0, True),
])
def test_magenta_presets_have_magentas_sizes(name, input_size, num_classes, clip, attention):
    config = configs.get_config(name)
    assert (config.input_size, config.num_classes, config.clip_norm) == (input_size, num_classes, clip)
    assert config.rnn_layer_sizes == (128, 128) and config.batch_size == 128
    assert config.dropout_keep_prob == 0.5 and config.learning_rate == 1e-3
    assert config.attn_length == (40 if attention else 0)
    assert (config.min_bars, config.max_steps, config.min_unique_pitches) == (7, 512, 5)


def test_attention_rnn_parameter_count_matches_magenta():
    # linear 202x74, LSTM 202x512, attention 128x128 + 128 + 256x128 + 256x128,
    # LSTM 256x512, logits 128x40 (with biases): Magenta's attention_rnn.
    model = MelodyRNN(configs.ATTENTION_RNN)
    n_params = sum(int(np.prod(v.shape)) for v in model.network.trainable_weights)
    assert n_params == 338006


@pytest.mark.parametrize("name", ["basic_rnn", "lookback_rnn", "attention_rnn"])
def test_attention_wraps_only_the_first_layer(name):
    network = MelodyRNN(tiny(name, rnn_layer_sizes=(8, 8, 8))).network
    kinds = [type(cell) for cell in network.cells]
    first = AttentionLSTMCell if name == "attention_rnn" else LSTMCell
    assert kinds == [first, LSTMCell, LSTMCell]


def test_config_rejects_bad_values_naming_the_field():
    with pytest.raises(ParameterError, match="dropout_keep_prob must be in \\(0, 1\\], got 0"):
        dataclasses.replace(configs.ATTENTION_RNN, dropout_keep_prob=0)
    with pytest.raises(ParameterError, match="encoding must be one of"):
        dataclasses.replace(configs.ATTENTION_RNN, encoding="polyphony_rnn")
    with pytest.raises(ParameterError, match="--config: must be one of .*got 'nope'"):
        configs.get_config("nope")


# --------------------------------------------------------------------------
# TF step encoders == numpy encodings
# --------------------------------------------------------------------------

@pytest.mark.parametrize("name", ee.PRESET_NAMES)
def test_tf_step_encoding_equals_numpy_encoding(name):
    encoding = ee.encoding_for(name)
    rng = np.random.default_rng(7)
    events = random_melodies(rng, 6, 70)
    events[0, :5] = [OFF, NO, OFF, 60, 60]  # NOTE_OFF before any note, repeated pitch
    got = encode_steps_tf(make_step_encoder(encoding), events).numpy()
    np.testing.assert_array_equal(got, encoding.encode_inputs(events))


@pytest.mark.parametrize("name", ee.PRESET_NAMES)
def test_tf_label_decoding_equals_numpy_decoding(name):
    encoding = ee.encoding_for(name)
    step_encoder = make_step_encoder(encoding)
    rng = np.random.default_rng(3)
    for n_history in (0, 5, 16, 40):
        history = random_melodies(rng, encoding.num_classes, n_history)
        labels = np.arange(encoding.num_classes)
        padded = np.concatenate([history, np.full((len(labels), 1), NO)], axis=1)
        got = step_encoder.decode_labels(tf.constant(labels, tf.int32),
                                         tf.constant(padded, tf.int32), tf.constant(n_history))
        np.testing.assert_array_equal(got.numpy(), encoding.decode_labels(labels, history))


# --------------------------------------------------------------------------
# Attention cell
# --------------------------------------------------------------------------

def magenta_attention_reference(cell, inputs):
    """Magenta's AttentionCellWrapper written out in numpy, without the key cache."""
    w = {v.name: v.numpy() for v in cell.weights}
    kernel, bias = cell.cell.kernel.numpy(), cell.cell.bias.numpy()
    batch, units, size, length = inputs.shape[0], cell.cell.units, cell.attn_size, cell.attn_length
    sigmoid = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
    c, h = np.zeros((batch, units)), np.zeros((batch, units))
    attns, attn_states = np.zeros((batch, size)), np.zeros((batch, length, size))
    outputs = []
    for x in inputs.transpose(1, 0, 2):
        x = np.concatenate([x, attns], -1) @ w["input_kernel"] + w["input_bias"]
        i, g, f, o = np.split(np.concatenate([x, h], -1) @ kernel + bias, 4, axis=-1)
        c = sigmoid(f + 1.0) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
        query = np.concatenate([c, h], -1) @ w["query_kernel"] + w["query_bias"]
        hidden = attn_states @ w["attn_kernel"]
        scores = np.sum(w["attn_v"] * np.tanh(hidden + query[:, None]), -1)
        weights = np.exp(scores - scores.max(-1, keepdims=True))
        weights /= weights.sum(-1, keepdims=True)
        attns = np.sum(weights[..., None] * attn_states, 1)
        output = np.concatenate([h, attns], -1) @ w["output_kernel"] + w["output_bias"]
        attn_states = np.concatenate([attn_states[:, 1:], output[:, None]], 1)
        outputs.append(output)
    return np.stack(outputs, 1)


def test_attention_cell_matches_magentas_formula_in_run_and_step():
    cell = AttentionLSTMCell(6, input_dim=5, attn_length=3, name="attn")
    for variable in cell.weights:  # nonzero biases too
        variable.assign(np.random.default_rng(1).normal(0, 0.5, variable.shape))
    inputs = np.random.default_rng(2).normal(size=(2, 7, 5)).astype(np.float32)
    want = magenta_attention_reference(cell, inputs.astype(np.float64))
    np.testing.assert_allclose(cell.run(tf.constant(inputs)).numpy(), want, atol=1e-5)
    state, stepped = cell.zero_state(2), []
    for t in range(inputs.shape[1]):
        output, state = cell.step(cell.project_inputs(inputs[:, t]), state)
        stepped.append(output.numpy())
    np.testing.assert_allclose(np.stack(stepped, 1), want, atol=1e-5)


@pytest.mark.parametrize("batch, n_steps", [(3, 2), (4, 11), (1, 7)])
def test_attention_sequence_gradients_equal_autodiff_of_the_step_loop(batch, n_steps):
    # run() has a hand-written backward pass (ring buffers, recomputed tanh,
    # weight gradients after the loop); window 3 is shorter and longer than the runs.
    from gensuite.melody_rnn.attention import _run_cell

    cell = AttentionLSTMCell(6, input_dim=5, attn_length=3, name="attn")
    for i, variable in enumerate(cell.weights):
        variable.assign(np.random.default_rng(i).normal(0, 0.5, variable.shape))
    rng = np.random.default_rng(7)
    inputs = tf.constant(rng.normal(size=(batch, n_steps, 5)), tf.float32)
    upstream = tf.constant(rng.normal(size=(batch, n_steps, 6)), tf.float32)

    def outputs_and_gradients(run):
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            outputs = run(inputs)
            loss = tf.reduce_sum(outputs * upstream)
        return outputs, tape.gradient(loss, [inputs, *cell.trainable_variables])

    want_outputs, want = outputs_and_gradients(lambda x: _run_cell(cell, x))
    # An unknown batch size, as in training: the batch runs as two halves (one empty for 1).
    run = tf.function(cell.run, input_signature=[tf.TensorSpec([None, None, 5], tf.float32)])
    got_outputs, got = outputs_and_gradients(run)
    np.testing.assert_allclose(got_outputs.numpy(), want_outputs.numpy(), atol=1e-5)
    for name, a, b in zip(["inputs"] + [v.name for v in cell.trainable_variables], got, want):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-5, rtol=1e-4, err_msg=name)


# --------------------------------------------------------------------------
# Generation
# --------------------------------------------------------------------------

def test_generate_begins_with_primer_and_is_seeded():
    model = MelodyRNN(tiny("attention_rnn"))
    primer = [67, NO, 69, NO, 71, OFF, 72]
    first = model.generate(primer, num_steps=24, num_outputs=3, seed=5)
    again = model.generate(primer, num_steps=24, num_outputs=3, seed=5)
    other = model.generate(primer, num_steps=24, num_outputs=3, seed=6)
    assert first.events.shape == (3, 24) and first.log_likelihood.shape == (3,)
    np.testing.assert_array_equal(first.events[:, :7], np.tile(primer, (3, 1)))
    np.testing.assert_array_equal(first.events, again.events)
    np.testing.assert_array_equal(first.log_likelihood, again.log_likelihood)
    assert not np.array_equal(first.events, other.events)
    assert ((first.events >= NO) & (first.events <= 127)).all()


def test_generate_transposes_the_continuation_back_to_the_primer_key():
    model = MelodyRNN(tiny("basic_rnn"))
    primer = [62, NO, 64, NO, 66, NO, 67]  # D major, moved down to C for the model
    out = model.generate(primer, num_steps=64, num_outputs=4, seed=0)
    assert out.transpose_amount == -2
    notes = out.events[:, 7:][out.events[:, 7:] >= 0]
    # The model only emits notes in [48, 84); moved back up by 2 semitones.
    assert notes.size and notes.min() >= 50 and notes.max() <= 85


def test_generate_warns_when_the_primer_is_folded_into_range_and_keeps_it():
    model = MelodyRNN(tiny("basic_rnn"))
    primer = [36, NO, 60, NO, 96]  # five octaves: cannot fit the 3-octave range
    with pytest.warns(UserWarning, match="primer_events: notes outside the model's 36-semitone range"):
        out = model.generate(primer, num_steps=12, seed=0)
    np.testing.assert_array_equal(out.events[0, :5], primer)


@pytest.mark.parametrize("kwargs, message", [
    ({"temperature": 0.0}, "temperature: must be a finite number > 0, got 0.0"),
    ({"temperature": -1.0}, "temperature: must be a finite number > 0"),
    ({"num_steps": 3}, "num_steps: must be an integer > the primer length 3, got 3"),
    ({"beam_size": 0}, "beam_size: must be an integer >= 1, got 0"),
    ({"branch_factor": 1.5}, "branch_factor: must be an integer >= 1"),
])
def test_generate_rejects_bad_arguments(kwargs, message):
    model = MelodyRNN(tiny("basic_rnn"))
    arguments = dict(num_steps=10) | kwargs
    with pytest.raises(ParameterError, match=message):
        model.generate([60, NO, 62], **arguments)
    with pytest.raises(ParameterError, match="primer_events: must hold at least one event"):
        model.generate([], num_steps=10)
    with pytest.raises(ParameterError, match="primer_events: melody events must lie in"):
        model.generate([60, 200], num_steps=10)


def test_generate_compiles_once_for_any_batch_length_and_primer():
    model = MelodyRNN(tiny("lookback_rnn"))
    model.generate([60], num_steps=20, seed=1)
    model.generate([60, NO, 62, 64], num_steps=33, num_outputs=3, beam_size=2,
                   branch_factor=3, steps_per_iteration=4, seed=2)
    assert model._get_generate_fn().experimental_get_tracing_count() == 1


def test_beam_search_score_is_the_log_likelihood_of_the_returned_melody():
    # basic_rnn labels are unique per event, so the beam's running score must
    # equal the teacher-forced log-likelihood of what it returns: this checks
    # that pruning moves histories, encoder and RNN states together.
    model = MelodyRNN(tiny("basic_rnn", rnn_layer_sizes=(12, 12)))
    primer = [60, NO, 62, NO, 64]
    for temperature in (1.0, 1.7):
        out = model.generate(primer, num_steps=37, num_outputs=2, beam_size=3, branch_factor=2,
                             steps_per_iteration=3, temperature=temperature, seed=11)
        for events, score in zip(out.events, out.log_likelihood):
            model_events = ee.transpose_melody(events, out.transpose_amount)
            assert score == pytest.approx(
                model.log_likelihood(model_events, temperature=temperature), abs=1e-3)


@pytest.mark.parametrize("name", ["lookback_rnn", "attention_rnn"])
@pytest.mark.slow
def test_generation_loop_inputs_match_teacher_forcing(name):
    # Force a long primer through the compiled loop: its score must equal the
    # teacher-forced log-likelihood of the primer plus the sampled last step.
    model = MelodyRNN(tiny(name))
    primer = random_melodies(np.random.default_rng(4), 1, 70, low=60, high=72)[0]
    primer[0] = 60
    out = model.generate(primer, num_steps=71, seed=3)
    model_events = ee.transpose_melody(out.events[0], out.transpose_amount)
    log_probs = tf.nn.log_softmax(model.logits(model.encoding.encode_inputs(model_events)[None])[0])
    candidates = [c for c in range(model.encoding.num_classes)
                  if model.encoding.decode_label(c, model_events[:70]) == model_events[70]]
    last_step = out.log_likelihood[0] - model.log_likelihood(model_events[:70])
    assert min(abs(last_step - log_probs[69, c].numpy()) for c in candidates) < 1e-3


@pytest.mark.slow
def test_beam_search_finds_likelier_melodies_than_sampling(trained):
    model, _, _ = trained
    primer = list(PATTERN[:8])
    sampled = model.generate(primer, num_steps=48, num_outputs=8, temperature=1.5, seed=0)
    beam = model.generate(primer, num_steps=48, num_outputs=8, temperature=1.5, beam_size=4,
                          branch_factor=4, seed=0)
    assert beam.log_likelihood.min() >= np.median(sampled.log_likelihood)
    assert beam.log_likelihood.mean() > sampled.log_likelihood.mean() + 1.0


# --------------------------------------------------------------------------
# Training, evaluation, save / load, resume
# --------------------------------------------------------------------------

def test_tiny_model_learns_a_repeating_pattern(trained):
    model, result, _ = trained
    assert result.step == 200 and result.resumed_from == 0
    assert result.eval["accuracy"] >= 0.97
    assert result.eval["log_perplexity"] < 0.15
    out = model.generate(list(PATTERN[:16]), num_steps=64, temperature=0.5, seed=1)
    np.testing.assert_array_equal(out.events[0], np.tile(PATTERN, 4))


def test_evaluate_uniform_model_has_log_perplexity_ln_classes():
    model = MelodyRNN(tiny("attention_rnn"))
    for variable in model.network.logits_layer.weights:
        variable.assign(np.zeros(variable.shape))
    melodies = [np.tile(PATTERN, 2)[:n] for n in (20, 32, 9)]
    result = rnn_trainer.evaluate_melody_rnn(model, melodies, batch_size=2)
    assert result["n_examples"] == 3 and result["n_steps"] == 19 + 31 + 8
    assert result["log_perplexity"] == pytest.approx(np.log(40), rel=1e-6)
    # PATTERN holds at 7 of its 16 steps: predicted steps 1-19, 1-31 and 1-8 hold 9, 14, 3.
    assert result["hold_share"] == pytest.approx(26 / 58)
    with pytest.raises(NoExamplesError):
        rnn_trainer.evaluate_melody_rnn(model, [])


def test_save_load_gives_identical_logits_and_meta(tmp_path, trained):
    model, _, _ = trained
    model.save(tmp_path / "ckpt", figures={"eval_log_perplexity": 0.1})
    meta = json.loads((tmp_path / "ckpt" / "meta.json").read_text())
    assert meta["kind"] == "melody_rnn" and meta["figures"] == {"eval_log_perplexity": 0.1}
    assert configs.MelodyRNNConfig.from_dict(meta["config"]) == model.config
    assert not [p for p in os.listdir(tmp_path / "ckpt") if p.endswith(".tmp")]
    loaded = MelodyRNN.load(tmp_path / "ckpt")
    inputs = model.encoding.encode_inputs(np.tile(PATTERN, (2, 3)))
    np.testing.assert_array_equal(loaded.logits(inputs).numpy(), model.logits(inputs).numpy())


def test_load_rejects_other_models_and_missing_folders(tmp_path):
    (tmp_path / "vae").mkdir()
    (tmp_path / "vae" / "meta.json").write_text('{"kind": "music_vae"}')
    with pytest.raises(InputFileError, match="holds a music_vae model, expected melody_rnn"):
        MelodyRNN.load(tmp_path / "vae")
    with pytest.raises(InputFileError):
        MelodyRNN.load(tmp_path / "missing")


def test_trained_run_dir_is_a_loadable_checkpoint(trained):
    model, result, run_dir = trained
    loaded = MelodyRNN.load(run_dir)
    figures = json.loads((run_dir / "meta.json").read_text())["figures"]
    assert figures["step"] == 200
    assert figures["eval_accuracy"] == pytest.approx(result.eval["accuracy"])
    inputs = model.encoding.encode_inputs(np.tile(PATTERN, (1, 2)))
    np.testing.assert_array_equal(loaded.logits(inputs).numpy(), model.logits(inputs).numpy())
    assert rnn_trainer_metrics(run_dir)


def rnn_trainer_metrics(run_dir):
    from gensuite.training.checkpointing import read_metrics
    return [r for r in read_metrics(str(run_dir), "train") if "loss" in r]


@pytest.mark.slow
def test_xla_train_step_of_an_attention_model_matches_the_graph_step():
    # Attention models train under XLA by default; it must be the same update.
    config = tiny("attention_rnn", dropout_keep_prob=1.0, batch_size=4)
    melodies = [np.tile(PATTERN, 3)[:20 + 6 * i] for i in range(4)]
    initial = MelodyRNN(config).network.get_weights()
    results = []
    for jit_compile in (False, True):
        model = MelodyRNN(config)
        model.network.set_weights(initial)
        optimizer = rnn_trainer.make_optimizer(config)
        optimizer.build(model.network.trainable_variables)
        step = rnn_trainer._make_train_step(model.network, optimizer, jit_compile=jit_compile)
        batch = rnn_trainer.make_batch(model.encoding, melodies,
                                       window_steps=config.train_window_steps,
                                       rng=np.random.default_rng(0))
        loss = float(step(*batch)[0])
        results.append((loss, model.network.get_weights()))
    (loss_graph, after_graph), (loss_xla, after_xla) = results
    assert loss_xla == pytest.approx(loss_graph, rel=1e-5)
    for a, b in zip(after_graph, after_xla):
        np.testing.assert_allclose(a, b, atol=1e-5)


@pytest.mark.slow
def test_resume_continues_from_the_saved_step_and_matches_a_straight_run(tmp_path):
    config = tiny("lookback_rnn", dropout_keep_prob=1.0, batch_size=4, rnn_layer_sizes=(8,))
    melodies = [np.tile(PATTERN, 3)[:20 + 6 * i] for i in range(5)]
    straight = MelodyRNN(config)
    weights = [v.numpy() for v in straight.network.weights]
    rnn_trainer.train_melody_rnn(straight, melodies, run_dir=tmp_path / "a", num_steps=4,
                                 progress=False)
    resumed = MelodyRNN(config)
    for variable, value in zip(resumed.network.weights, weights):
        variable.assign(value)
    first = rnn_trainer.train_melody_rnn(resumed, melodies, run_dir=tmp_path / "b",
                                         num_steps=2, progress=False)
    second = rnn_trainer.train_melody_rnn(MelodyRNN(config), melodies, run_dir=tmp_path / "b",
                                          num_steps=4, progress=False)
    assert (first.step, second.resumed_from, second.step) == (2, 2, 4)
    final = MelodyRNN.load(tmp_path / "b")
    for a, b in zip(straight.network.weights, final.network.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-6)
    other = dataclasses.replace(config, learning_rate=0.5)
    with pytest.raises(ParameterError, match="holds a run of config 'tiny-lookback_rnn'.*learning_rate"):
        rnn_trainer.train_melody_rnn(MelodyRNN(other), melodies, run_dir=tmp_path / "b",
                                     num_steps=6, progress=False)


@pytest.mark.slow
def test_keyboard_interrupt_saves_the_state(tmp_path, monkeypatch):
    config = tiny("basic_rnn", batch_size=2, rnn_layer_sizes=(4,))
    melodies = [np.tile(PATTERN, 2)]
    calls = {"n": 0}
    real_make_batch = rnn_trainer.make_batch

    def interrupting_make_batch(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real_make_batch(*args, **kwargs)

    monkeypatch.setattr(rnn_trainer, "make_batch", interrupting_make_batch)
    with pytest.raises(KeyboardInterrupt):
        rnn_trainer.train_melody_rnn(MelodyRNN(config), melodies, run_dir=tmp_path,
                                     num_steps=10, progress=False)
    monkeypatch.setattr(rnn_trainer, "make_batch", real_make_batch)
    result = rnn_trainer.train_melody_rnn(MelodyRNN(config), melodies, run_dir=tmp_path,
                                          num_steps=3, progress=False)
    assert (result.resumed_from, result.step) == (2, 3)


# --------------------------------------------------------------------------
# Batches (extraction and the split: test_melody_data.py)
# --------------------------------------------------------------------------

def test_make_batch_cuts_bar_aligned_windows_of_the_full_encoding():
    encoding = ee.encoding_for("attention_rnn")
    melodies = [np.tile(PATTERN, 5)[:75], np.tile(PATTERN, 2)[:20]]
    inputs, labels, lengths = rnn_trainer.make_batch(
        encoding, melodies, window_steps=32, rng=np.random.default_rng(0))
    assert inputs.shape == (2, 32, 74) and labels.shape == (2, 32)
    np.testing.assert_array_equal(lengths, [32, 19])
    full_inputs, full_labels = encoding.to_training_pair(melodies[0])
    starts = [s for s in range(0, 74 - 31, 16)
              if np.array_equal(full_inputs[s:s + 32], inputs[0])
              and np.array_equal(full_labels[s:s + 32], labels[0])]
    assert starts
    short_inputs, short_labels = encoding.to_training_pair(melodies[1])
    np.testing.assert_array_equal(inputs[1, :19], short_inputs)
    np.testing.assert_array_equal(labels[1, :19], short_labels)
    assert not inputs[1, 19:].any() and not labels[1, 19:].any()
