"""Continuation figures of a MelodyRNN (gensuite.melody_rnn.samples)."""

import numpy as np
import pytest

from gensuite.common.errors import NoExamplesError, ParameterError
from gensuite.melody_rnn import configs
from gensuite.melody_rnn.encodings import NO_EVENT as NO
from gensuite.melody_rnn.model import GeneratedMelodies, MelodyRNN
from gensuite.melody_rnn.samples import continuation_figures, continuation_windows

# One bar: four quarter notes; a 2-bar phrase of two different bars.
BAR_A = [60, NO, NO, NO, 62, NO, NO, NO, 64, NO, NO, NO, 65, NO, NO, NO]
BAR_B = [67, NO, NO, NO, 65, NO, NO, NO, 64, NO, NO, NO, 62, NO, NO, NO]


class LoopingModel:
    """Stands in for a MelodyRNN: continues any primer by looping it."""

    config = configs.get_config("tiny-basic_rnn")

    def __init__(self):
        self.calls = []

    def generate(self, primer, *, num_steps, seed, **kwargs):
        self.calls.append((len(primer), num_steps, seed, kwargs))
        events = np.resize(np.asarray(primer), num_steps)[None]
        return GeneratedMelodies(events=events, log_likelihood=np.zeros(1), transpose_amount=0)


def test_windows_of_a_continuation_count_silence_and_earlier_bars():
    melody = BAR_A + BAR_B + BAR_A + BAR_B + [NO] * 32
    windows = continuation_windows(melody, start_bar=2, n_windows=2, steps_per_quarter=4)
    assert [w["n_onsets"] for w in windows] == [8, 0]
    assert windows[0]["repeated_phrase_rate"] == 1.0  # both bars repeat the primer's
    assert windows[1]["degenerate"]


def test_a_looping_model_repeats_every_phrase_where_real_tunes_vary():
    # Primer A B, then a new bar of one pitch, a bar of eighths, then A again.
    varied = [np.array(BAR_A + BAR_B + [60 + k, NO, NO, NO] * 4 + [67 - k, NO] * 8
                       + BAR_A + BAR_B) for k in range(1, 4)]
    model = LoopingModel()
    figures = continuation_figures(model, varied + [np.array(BAR_A)], n=3, length_steps=96,
                                   seed=7, settings={"loop": {"temperature": 1.0}})
    assert (figures["n"], figures["primer_steps"], figures["length_steps"]) == (3, 32, 96)
    assert [c[:3] for c in model.calls] == [(32, 96, 7), (32, 96, 8), (32, 96, 9)]
    assert figures["loop"]["repeated_phrase_rate"] == 1.0
    assert figures["reference"]["repeated_phrase_rate"] < 0.6
    assert 0 <= figures["loop"]["mean_overlap"] < 1
    with pytest.raises(NoExamplesError, match="3 melodies are at least 96 steps long, asked "
                                              "for 4"):
        continuation_figures(model, varied, n=4, length_steps=96)
    with pytest.raises(ParameterError, match="32-step primer plus a multiple of 32, got 80"):
        continuation_figures(model, varied, n=1, length_steps=80)


def test_a_real_model_is_judged_in_every_default_setting():
    model = MelodyRNN(configs.get_config("tiny-attention_rnn"))
    melodies = [np.array((BAR_A + BAR_B) * 2)] * 2
    figures = continuation_figures(model, melodies, n=2, length_steps=64)
    for name in ("temperature_0.5", "temperature_1.0", "beam_4x2"):
        assert 0 <= figures[name]["mean_overlap"] <= 1
        assert 0 <= figures[name]["degenerate_share"] <= 1
