"""The demo end to end on real corpus data."""

import json

import numpy as np
import pytest

from gensuite.audio.soundfont import fluidsynth_available
from gensuite.cli.main import main
from gensuite.midi import io as midi_io

pytestmark = pytest.mark.slow  # each trains or renders through a whole command


def test_demo_writes_midi_summaries_piano_rolls_and_index(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out)]) == 0
    assert f"open {out / 'index.html'}" in capsys.readouterr().out

    sequences = list(midi_io.read_tfrecord(out / "notes.tfrecord"))
    assert sorted(s.filename.split("/")[0] for s in sequences) == ["bach-chorales", "essen"]
    index = (out / "index.html").read_text()
    for sequence in sequences:
        stem = sequence.filename.removesuffix(".mid").replace("/", "__")
        assert (out / f"{stem}.png").read_bytes().startswith(b"\x89PNG")
        summary = json.loads((out / f"{stem}.json").read_text())
        assert summary["n_notes"] == len(sequence.notes) > 20
        assert f"{stem}.png" in index
    chorale = next(s for s in sequences if s.filename.startswith("bach"))
    assert len({n.instrument for n in chorale.notes}) == 4  # SATB parts kept apart


def test_demo_runs_every_model_stage_on_shipped_checkpoints(tmp_path, monkeypatch, capsys):
    """Tiny untrained models stand in for the shipped ones: each stage writes its files."""
    from gensuite import checkpoints
    from gensuite.gansynth.model import GANSynth
    from gensuite.melody_rnn.model import MelodyRNN
    from gensuite.music_vae.converters import ConverterOptions
    from gensuite.music_vae.model import MusicVAE

    shipped = tmp_path / "shipped"
    # As trained on folk songs: any meter on 16-step bars, any program.
    folk = ConverterOptions(any_meter=True, any_program=True)
    MusicVAE("tiny-mel_2bar", converter_options=folk).save(shipped / "mel_2bar")
    MusicVAE("tiny-mel_16bar", converter_options=folk).save(shipped / "mel_16bar")
    MelodyRNN("tiny-attention_rnn").save(shipped / "attention_rnn")
    GANSynth("tiny-gansynth").save(shipped / "gansynth_fluidr3")
    monkeypatch.setattr(checkpoints, "shipped_dir", lambda: str(shipped))

    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out)]) == 0
    assert "skipped" not in capsys.readouterr().out
    expected = ["sample_000.mid", "samples.png", "continue_000.mid", "continue.png",
                "interpolation/interpolate_song.mid", "interpolation/input_a.mid",
                "interpolation/input_b.mid", "interpolation/interpolate.png",
                "song_sample_000.mid", "song_samples.png"]
    generated = [f"sample_{i:03d}" for i in range(4)] + ["continue_000", "continue_001",
                 "interpolation/interpolate_song", "song_sample_000", "song_sample_001"]
    expected += [f"{stem}.png" for stem in generated]  # each one's own piano roll
    if fluidsynth_available():
        expected += [f"{stem}_{synth}.wav" for stem in generated
                     for synth in ("gansynth", "soundfont")]
        expected += [f"{stem}_{synth}.png" for stem in
                     ("sample_000", "continue_000", "interpolation/interpolate_song",
                      "song_sample_000") for synth in ("gansynth", "soundfont")]
    for name in expected:
        assert (out / name).stat().st_size > 0, name
    continued = midi_io.read_midi(out / "continue_000.mid")
    assert [n.pitch for n in continued.notes][:3] == [60, 60, 67]  # begins with the primer
    index = (out / "index.html").read_text()
    assert all(png in index for png in ("samples.png", "continue.png", "interpolate.png",
                                        "song_samples.png"))
    # The morph's first input is the chorale's soprano, its highest line.
    soprano = midi_io.read_midi(out / "interpolation" / "input_a.mid")
    chorale = midi_io.read_midi(next((out / "midi" / "bach-chorales").iterdir()))
    top = max({n.instrument for n in chorale.notes},
              key=lambda i: np.mean([n.pitch for n in chorale.notes if n.instrument == i]))
    assert [n.pitch for n in soprano.notes][:8] == [
        n.pitch for n in sorted(chorale.notes, key=lambda n: n.start_time)
        if n.instrument == top][:8]
    for stem in generated:  # the page shows and plays every generated melody
        assert f"<img src='{stem}.png'" in index
        if fluidsynth_available():
            assert f"<audio controls src='{stem}_soundfont.wav'>" in index
