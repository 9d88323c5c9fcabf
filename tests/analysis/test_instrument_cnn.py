"""The shipped instrument classifier on freshly rendered notes it never saw."""

import note_seq
import pytest

from gensuite.analysis.model import AudioClassifier
from gensuite.audio.soundfont import fluidsynth_available, render_sequence

pytestmark = pytest.mark.slow  # each trains or renders through a whole command


@pytest.mark.skipif(not fluidsynth_available(), reason="needs libfluidsynth3")
@pytest.mark.parametrize("program, expected", [(0, "piano"), (73, "flute"), (19, "organ")])
def test_shipped_classifier_names_the_instrument_of_a_rendered_scale(program, expected):
    seq = note_seq.NoteSequence(ticks_per_quarter=220)
    for i, pitch in enumerate([60, 62, 64, 65, 67, 69, 71, 72, 71, 69, 67, 65, 64, 62, 60]):
        seq.notes.add(pitch=pitch, start_time=0.4 * i, end_time=0.4 * i + 0.35, velocity=90,
                      program=program)
    seq.total_time = 6.0
    classifier = AudioClassifier.load("instrument_cnn")
    wave = render_sequence(seq, sample_rate=classifier.sample_rate)
    composition = classifier.classify(wave=wave, sample_rate=classifier.sample_rate)
    assert max(composition, key=composition.get) == expected, composition
    assert abs(sum(composition.values()) - 1.0) < 1e-6
