"""The demo end to end on real corpus data."""

import json
import re
import urllib.parse
from html.parser import HTMLParser
from importlib.resources import files

import numpy as np
import pytest

from gensuite.audio.soundfont import fluidsynth_available
from gensuite.cli.main import main
from gensuite.midi import io as midi_io

pytestmark = pytest.mark.slow  # each trains or renders through a whole command


class Page(HTMLParser):
    """The tags of a page, each as (tag, attributes), and its text."""

    def __init__(self, text: str):
        super().__init__()
        self.tags, self.text = [], text
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def files(self, tag: str, attr: str) -> set[str]:
        """The demo-folder paths that ``tag`` elements point at with ``attr``."""
        return {urllib.parse.unquote(a[attr]) for t, a in self.tags if t == tag and attr in a}


def check_page(out) -> Page:
    """index.html works opened from disk and shows and links everything the demo wrote:
    each PNG is a picture, each MIDI file has a link, and each generated one (all but the
    corpus tunes under midi/) a player and a link per WAV; every address is relative and
    finds its file."""
    page = Page((out / "index.html").read_text())
    assert not re.search(r"https?:", page.text), "the page fetches from elsewhere"
    addresses = (page.files("img", "src") | page.files("audio", "src")
                 | page.files("a", "href") | page.files("link", "href"))
    local = {a for a in addresses if not a.startswith("#")}
    assert all(not a.startswith("/") and (out / a).is_file() for a in local), local
    assert {"style.css", "favicon.svg"} <= page.files("link", "href")
    assert (out / "style.css").read_bytes() == (
        files("gensuite.studio") / "static" / "style.css").read_bytes()

    def under_out(pattern):
        return {p.relative_to(out).as_posix() for p in out.rglob(pattern)}

    assert under_out("*.png") == page.files("img", "src")
    midis = under_out("*.mid")
    assert midis <= page.files("a", "href")
    for midi in midis - under_out("midi/**/*.mid"):
        wavs = {wav for wav in under_out("*.wav") if wav.startswith(midi.removesuffix(".mid") + "_")}
        assert wavs and wavs <= page.files("audio", "src") & page.files("a", "href"), midi
    return page


def test_demo_writes_every_stage_on_the_shipped_checkpoints(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"open {out / 'index.html'}" in printed and "skipped" not in printed

    sequences = list(midi_io.read_tfrecord(out / "notes.tfrecord"))
    assert sorted(s.filename.split("/")[0] for s in sequences) == ["bach-chorales", "essen"]
    index = check_page(out).text
    for sequence in sequences:
        stem = sequence.filename.removesuffix(".mid").replace("/", "__")
        assert (out / f"{stem}.png").read_bytes().startswith(b"\x89PNG")
        summary = json.loads((out / f"{stem}.json").read_text())
        assert summary["n_notes"] == len(sequence.notes) > 20
        assert f"{stem}.png" in index
    chorale = next(s for s in sequences if s.filename.startswith("bach"))
    assert len({n.instrument for n in chorale.notes}) == 4  # SATB parts kept apart

    expected = ["sample_000.mid", "samples.png", "continue_000.mid", "continue.png",
                "interpolation/interpolate_song.mid", "interpolation/input_a.mid",
                "interpolation/input_b.mid", "interpolation/interpolate.png",
                "song_sample_000.mid", "song_samples.png"]
    generated = [f"sample_{i:03d}" for i in range(4)] + ["continue_000", "continue_001",
                 "interpolation/interpolate_song", "interpolation/input_a",
                 "interpolation/input_b", "song_sample_000", "song_sample_001"]
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
    page = check_page(out)
    assert all(png in page.text for png in ("samples.png", "continue.png", "interpolate.png",
                                            "song_samples.png"))
    # The morph's first input is the chorale's soprano, its highest line.
    soprano = midi_io.read_midi(out / "interpolation" / "input_a.mid")
    chorale = midi_io.read_midi(next((out / "midi" / "bach-chorales").iterdir()))
    top = max({n.instrument for n in chorale.notes},
              key=lambda i: np.mean([n.pitch for n in chorale.notes if n.instrument == i]))
    assert [n.pitch for n in soprano.notes][:8] == [
        n.pitch for n in sorted(chorale.notes, key=lambda n: n.start_time)
        if n.instrument == top][:8]
    for stem in generated:  # the page shows, plays and links every generated melody
        assert f"{stem}.png" in page.files("img", "src")
        assert f"{stem}.mid" in page.files("a", "href")
        assert f"{stem}_gansynth.wav" in page.files("audio", "src")
        if fluidsynth_available():
            assert f"{stem}_soundfont.wav" in page.files("audio", "src")
