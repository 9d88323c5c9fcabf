"""The demo end to end on real corpus data."""

import json

from gensuite import midi_io
from gensuite.cli.main import main


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
