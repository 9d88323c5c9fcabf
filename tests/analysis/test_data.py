"""Labelled audio from corpus pieces: planning, split by piece, rendering, manifest, features."""

from __future__ import annotations

import csv
import json
import os
import shutil

import numpy as np
import pytest
import soundfile

from gensuite.analysis.configs import get_config
from gensuite.analysis.data import (
    INSTRUMENT_CLASSES,
    SHARED_TIMBRES,
    SourcePiece,
    build_dataset,
    choose_clip_starts,
    clip_sequence,
    deal_soundfonts,
    hold_out_soundfont,
    interleave,
    load_tracks,
    octave_shift,
    parse_midi_dirs,
    piece_group,
    read_class_names,
    read_manifest,
    resolve_soundfonts,
    share_out,
    split_pieces,
    voice_sequence,
)
from gensuite.audio.soundfont import fluidsynth_available
from gensuite.common.errors import InputFileError, ParameterError
from gensuite.midi.io import write_midi

needs_synth = pytest.mark.skipif(not fluidsynth_available(), reason="FluidSynth not installed")


def test_clip_starts_do_not_overlap_and_stay_inside_the_piece():
    rng = np.random.default_rng(0)
    for duration in (5.0, 20.0, 61.0, 300.0):
        starts = choose_clip_starts(duration, clip_s=20.0, n_clips=4, rng=rng)
        assert len(starts) == max(1, min(4, int(duration // 20)))
        assert all(0.0 <= s and (s + 20.0 <= duration or duration <= 20.0) for s in starts)
        assert all(b - a >= 20.0 for a, b in zip(starts, starts[1:]))
    assert choose_clip_starts(12.0, clip_s=20.0, n_clips=3, rng=rng) == [0.0]


def test_split_is_by_piece_with_the_asked_share():
    pieces = [f"p{i}" for i in range(20)]
    splits = split_pieces(pieces, test_fraction=0.25, rng=np.random.default_rng(0))
    assert set(splits) == set(pieces)
    assert sum(s == "test" for s in splits.values()) == 5
    # Two pieces and a small share still give one test piece; zero gives none.
    assert sorted(split_pieces(["a", "b"], test_fraction=0.1,
                               rng=np.random.default_rng(0)).values()) == ["test", "train"]
    assert set(split_pieces(["a", "b"], test_fraction=0.0,
                            rng=np.random.default_rng(0)).values()) == {"train"}


def test_editions_and_sections_of_a_piece_share_a_split():
    assert piece_group("madrigal.3.1_old") == piece_group("madrigal.3.1") == "madrigal.3.1"
    assert piece_group("Benedictus_68_a") == piece_group("Benedictus_68_b") == "Benedictus_68"
    assert piece_group("altdeu10_0002_herzog-ernst") == "altdeu10_0002_herzog-ernst"
    ids = [SourcePiece(f"/c/{n}.mid", "m", 30.0).piece_id
           for n in ("madrigal.3.1", "madrigal.3.1_old", "madrigal.3.2", "madrigal.3.3")]
    splits = split_pieces(ids, test_fraction=0.5, rng=np.random.default_rng(0))
    assert len(splits) == 3 and list(splits.values()).count("test") == 2


def test_octave_shift_moves_pieces_into_the_instrument_range():
    flute = INSTRUMENT_CLASSES["flute"]
    assert octave_shift([43, 48, 55], low=flute.low_pitch, high=flute.high_pitch) == 24
    assert octave_shift([60, 72], low=flute.low_pitch, high=flute.high_pitch) == 0
    assert octave_shift([90, 100], low=40, high=84) == -24
    assert octave_shift([], low=40, high=84) == 0


def test_share_out_fills_from_the_fullest_folders():
    assert share_out(10, {"a": 100, "b": 100, "c": 100}) == {"a": 4, "b": 3, "c": 3}
    assert share_out(10, {"a": 1, "b": 100}) == {"a": 1, "b": 9}
    assert share_out(10, {"a": 2, "b": 3}) == {"a": 2, "b": 3}
    assert interleave([[1, 2, 3], ["a"], ["x", "y"]]) == [1, "a", "x", 2, "y", 3]


def test_clip_and_voice_a_sequence(make_sequence):
    # Steps of 0.125 s: notes 0-1 s, 1-2 s, 2-3 s, 3-4 s.
    sequence = make_sequence([(60, 0, 8), (62, 8, 16), (64, 16, 24), (65, 24, 32)], program=52)
    clip = clip_sequence(sequence, start_s=1.5, duration_s=1.0)
    assert [(n.pitch, n.start_time, n.end_time) for n in clip.notes] == [
        (62, 0.0, 0.5), (64, 0.5, 1.0)]
    voiced = voice_sequence(clip, program=73, transpose=12, velocity_shift=-20,
                            rng=np.random.default_rng(0))
    assert [n.pitch for n in voiced.notes] == [74, 76]
    assert {n.program for n in voiced.notes} == {73}
    assert all(100 - 20 - 8 <= n.velocity <= 100 - 20 + 8 for n in voiced.notes)
    assert [n.pitch for n in clip.notes] == [62, 64]  # the input is untouched


def write_pieces(folder, make_sequence, *, n, base_pitch, seconds=6.0):
    os.makedirs(folder, exist_ok=True)
    steps = int(seconds / 0.125)
    for i in range(n):
        notes = [(base_pitch + (k % 5) + i, k * 4, k * 4 + 4) for k in range(steps // 4)]
        write_midi(make_sequence(notes), os.path.join(folder, f"piece{i:02d}.mid"))
    return str(folder)


def manifest_rows(data_dir):
    with open(os.path.join(data_dir, "manifest.csv"), newline="") as f:
        return list(csv.DictReader(f))


@needs_synth
def test_instrument_dataset_renders_labelled_clips_split_by_piece(tmp_path, make_sequence):
    dirs = {"folk": write_pieces(tmp_path / "folk", make_sequence, n=6, base_pitch=60),
            "bach": write_pieces(tmp_path / "bach", make_sequence, n=6, base_pitch=48)}
    out = tmp_path / "data"
    report = build_dataset(task="instrument", midi_dirs=dirs, out_dir=out, pieces_per_class=3,
                           instruments=["piano", "flute"], clip_s=2.5, clips_per_piece=2,
                           test_fraction=0.34, num_workers=1, seed=3)
    rows = manifest_rows(out)
    assert report.class_names == ["piano", "flute"]
    assert {r["label"] for r in rows} == {"piano", "flute"}
    # 6 pieces, two 2.5 s clips each; the test split holds whole pieces.
    assert len({r["piece"] for r in rows}) == 6 and len(rows) == 12
    train = {r["piece"] for r in rows if r["split"] == "train"}
    test = {r["piece"] for r in rows if r["split"] == "test"}
    assert train and test and not train & test
    assert report.counts["test"] == {"piano": 2, "flute": 2}
    for row in rows:
        program = int(row["program"])
        assert program in INSTRUMENT_CLASSES[row["label"]].programs
        info = soundfile.info(out / row["file"])
        assert info.samplerate == 16000 and info.channels == 1
        assert 2.5 <= info.frames / 16000 <= 3.6  # clip + release tail
        assert row["file"].startswith(f"audio/{row['label']}/{row['source']}__")
    # Flute plays the low "bach" pieces an octave or two up.
    assert all(int(r["transpose"]) > 0 for r in rows
               if r["label"] == "flute" and r["source"] == "bach")
    info = json.loads((out / "dataset.json").read_text())
    assert info["task"] == "instrument" and info["settings"]["seed"] == 3
    assert read_class_names(out, read_manifest(out)) == ["piano", "flute"]
    # One soundfont, the default: every clip names it; the settings keep its path.
    assert {r["soundfont"] for r in rows} == {os.path.basename(info["settings"]["soundfont"])}
    assert info["settings"]["soundfonts"] == [info["settings"]["soundfont"]]
    assert info["counts_by_soundfont"] == {
        os.path.basename(info["settings"]["soundfont"]): info["counts"]}

    # A rerun plans the same clips and keeps the finished WAVs.
    mtimes = {r["file"]: os.path.getmtime(out / r["file"]) for r in rows}
    build_dataset(task="instrument", midi_dirs=dirs, out_dir=out, pieces_per_class=3,
                  instruments=["piano", "flute"], clip_s=2.5, clips_per_piece=2,
                  test_fraction=0.34, num_workers=1, seed=3)
    assert manifest_rows(out) == rows
    assert all(os.path.getmtime(out / f) == t for f, t in mtimes.items())


@needs_synth
def test_collection_dataset_labels_by_folder_with_shared_timbres(tmp_path, make_sequence):
    dirs = {"bach": write_pieces(tmp_path / "b", make_sequence, n=3, base_pitch=55),
            "essen": write_pieces(tmp_path / "e", make_sequence, n=4, base_pitch=64)}
    report = build_dataset(task="collection", midi_dirs=dirs, out_dir=tmp_path / "data",
                           pieces_per_class=4, clip_s=4.0, test_fraction=0.25, num_workers=1)
    rows = manifest_rows(tmp_path / "data")
    assert report.class_names == ["bach", "essen"]
    assert {r["label"] for r in rows} == {"bach", "essen"}
    assert all(r["label"] == r["source"] for r in rows)
    assert all(int(r["program"]) in SHARED_TIMBRES.programs for r in rows)
    assert report.short_classes == {"bach": 3}
    for label in ("bach", "essen"):  # each class is split by piece on its own
        splits = {r["split"] for r in rows if r["label"] == label}
        assert splits == {"train", "test"}


def test_bad_build_arguments_are_clear_errors(tmp_path):
    (tmp_path / "a").mkdir()
    with pytest.raises(ParameterError, match="--instruments: unknown instrument 'kazoo'"):
        build_dataset(task="instrument", midi_dirs={"a": str(tmp_path / "a")},
                      out_dir=tmp_path / "o", pieces_per_class=1, instruments=["piano", "kazoo"])
    with pytest.raises(ParameterError, match="needs at least 2 folders"):
        build_dataset(task="collection", midi_dirs={"a": str(tmp_path / "a")},
                      out_dir=tmp_path / "o", pieces_per_class=1)
    with pytest.raises(ParameterError, match="--task: must be one of"):
        build_dataset(task="genre", midi_dirs={}, out_dir=tmp_path / "o", pieces_per_class=1)
    with pytest.raises(InputFileError, match="no such folder of MIDI files"):
        parse_midi_dirs([str(tmp_path / "missing")])
    with pytest.raises(ParameterError, match="both named 'a'"):
        parse_midi_dirs([str(tmp_path / "a"), f"a={tmp_path / 'a'}"])
    assert parse_midi_dirs([f"folk={tmp_path / 'a'}", str(tmp_path / "a") + "/"]) == {
        "folk": str(tmp_path / "a"), "a": str(tmp_path / "a") + "/"}
    with pytest.raises(InputFileError, match="not a data folder: no manifest.csv"):
        read_manifest(tmp_path / "a")


@pytest.mark.slow
def test_load_tracks_computes_features_and_skips_unusable_files(tmp_path):
    config = get_config("tiny-cnn")
    audio = tmp_path / "audio"
    audio.mkdir()
    t = np.arange(16000) / 16000
    soundfile.write(audio / "tone.wav", (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32),
                    16000)
    soundfile.write(audio / "silent.wav", np.zeros(16000, np.float32), 16000)
    (audio / "junk.wav").write_bytes(b"junk")
    lines = ["file,label,split,piece", "audio/tone.wav,a,train,p1",
             "audio/silent.wav,b,train,p2", "audio/junk.wav,b,train,p3",
             "audio/tone.wav,b,test,p4"]
    (tmp_path / "manifest.csv").write_text("\n".join(lines) + "\n")
    tracks, skipped = load_tracks(tmp_path, split="train", features=config.features,
                                  class_names=["a", "b"], num_workers=1)
    assert tracks.files == ["audio/tone.wav"] and tracks.labels.tolist() == [0]
    assert tracks.log_mel[0].dtype == np.float16
    assert tracks.log_mel[0].shape[1] == config.n_mels
    assert tracks.valid_starts[0].max() + config.window_frames <= len(tracks.log_mel[0])
    assert len(skipped) == 2 and any("silent" in s for s in skipped)
    with pytest.raises(InputFileError, match=r"labels \['b'\] are not among"):
        load_tracks(tmp_path, split="test", features=config.features, class_names=["a"])


def _pieces(n, source="folk"):
    return [SourcePiece(f"/c/{source}/p{i:02d}.mid", source, 30.0) for i in range(n)]


def test_soundfonts_are_dealt_in_turn_within_each_class_and_split():
    pieces = _pieces(62)
    splits = {p.piece_id: ("test" if i % 5 == 0 else "train") for i, p in enumerate(pieces)}
    labels = ["piano", "flute", "organ"]
    assignments = [(p, labels[i % 3], None) for i, p in enumerate(pieces)]
    soundfonts = ["/sf/A.sf2", "/sf/B.sf3", "/sf/C.sf2"]
    dealt = deal_soundfonts(assignments, splits=splits, soundfonts=soundfonts, seed=0)
    assert set(dealt) == {p.path for p in pieces} and set(dealt.values()) == set(soundfonts)
    cells = {}
    for piece, label, _ in assignments:
        key = (splits[piece.piece_id], label)
        cells.setdefault(key, []).append(dealt[piece.path])
    for key, got in cells.items():
        counts = [got.count(sf) for sf in soundfonts]
        assert max(counts) - min(counts) <= 1, (key, counts)
        # In turn: every run of three pieces of a class holds each soundfont once.
        assert all(len(set(got[i:i + 3])) == len(got[i:i + 3]) for i in range(0, len(got), 3))
    # The uneven rest goes to different soundfonts in different classes: the split's
    # totals stay within one piece of each other too.
    for split in ("train", "test"):
        totals = [sum(v == sf for (s, _), vs in cells.items() if s == split for v in vs)
                  for sf in soundfonts]
        assert max(totals) - min(totals) <= 1, (split, totals)
    # Seeded: the same seed deals the same; another seed deals another way.
    assert deal_soundfonts(assignments, splits=splits, soundfonts=soundfonts, seed=0) == dealt
    assert any(deal_soundfonts(assignments, splits=splits, soundfonts=soundfonts, seed=s) != dealt
               for s in (1, 2, 3))
    assert set(deal_soundfonts(assignments, splits=splits, soundfonts=soundfonts[:1],
                               seed=0).values()) == {"/sf/A.sf2"}


def test_soundfont_lists_are_checked_before_anything_is_written(tmp_path, timgm):
    a = shutil.copy(timgm, tmp_path / "A.sf2")
    (tmp_path / "other").mkdir()
    same_name = shutil.copy(timgm, tmp_path / "other" / "A.sf2")
    (tmp_path / "link.sf2").symlink_to(a)
    assert resolve_soundfonts([a, timgm]) == [str(a), timgm]
    assert resolve_soundfonts(a) == [str(a)]
    cases = [
        ([a, a], ParameterError, f"--soundfont: must not repeat a file, got '{a}' twice"),
        ([a, str(tmp_path / "link.sf2")], ParameterError,
         f"--soundfont: must not repeat a file, '{tmp_path / 'link.sf2'}' is the same file as "
         f"'{a}'"),
        ([a, same_name], ParameterError,
         f"--soundfont: '{a}' and '{same_name}' are both named 'A.sf2'; the manifest tells "
         f"soundfonts apart by file name, so rename one"),
        ([a, str(tmp_path / "missing.sf2")], InputFileError,
         f"{tmp_path / 'missing.sf2'}: no such soundfont file"),
        ([], ParameterError, "--soundfont: must name at least one file, got none"),
    ]
    for soundfont, error, message in cases:
        with pytest.raises(error) as exc:
            build_dataset(task="instrument", midi_dirs={"a": str(tmp_path)},
                          out_dir=tmp_path / "out", pieces_per_class=1, soundfont=soundfont)
        assert str(exc.value) == message
    assert not (tmp_path / "out").exists()


@needs_synth
def test_several_soundfonts_render_each_piece_with_one_dealt_per_class(tmp_path, make_sequence,
                                                                      timgm):
    # A copy under another name: only the labels are checked here.
    other = str(shutil.copy(timgm, tmp_path / "Other.sf2"))
    dirs = {"folk": write_pieces(tmp_path / "folk", make_sequence, n=16, base_pitch=60)}
    out = tmp_path / "data"
    kwargs = {"task": "instrument", "midi_dirs": dirs, "out_dir": out, "pieces_per_class": 8,
              "instruments": ["piano", "flute"], "clip_s": 1.5, "test_fraction": 0.25,
              "num_workers": 1, "seed": 1, "soundfont": [timgm, other]}
    report = build_dataset(**kwargs)
    rows = manifest_rows(out)
    assert len(rows) == 16 and {r["soundfont"] for r in rows} == {"TimGM6mb.sf2", "Other.sf2"}
    # 8 pieces per class, 2 of them test: each class x split x soundfont holds half.
    expected = {"train": {"piano": 3, "flute": 3}, "test": {"piano": 1, "flute": 1}}
    assert report.counts_by_soundfont == {"TimGM6mb.sf2": expected, "Other.sf2": expected}
    for row in rows:  # the manifest agrees with the counts, and the split is by piece
        assert sum(r["soundfont"] == row["soundfont"] and r["split"] == row["split"]
                   and r["label"] == row["label"] for r in rows) == expected[row["split"]][
            row["label"]]
    info = json.loads((out / "dataset.json").read_text())
    assert info["counts_by_soundfont"] == report.counts_by_soundfont
    assert info["settings"]["soundfont"] is None
    assert info["settings"]["soundfonts"] == [timgm, other]

    # A rerun keeps every WAV and writes the same manifest; other soundfonts are refused:
    # the kept clips would be labelled with soundfonts that did not render them.
    mtimes = {r["file"]: os.path.getmtime(out / r["file"]) for r in rows}
    build_dataset(**kwargs)
    assert manifest_rows(out) == rows
    assert all(os.path.getmtime(out / f) == t for f, t in mtimes.items())
    with pytest.raises(ParameterError, match=r"--soundfont: .*data holds clips rendered with "
                                             r"TimGM6mb.sf2, Other.sf2, not Other.sf2, "
                                             r"TimGM6mb.sf2; use another --out, or --overwrite"):
        build_dataset(**{**kwargs, "soundfont": [other, timgm]})
    assert manifest_rows(out) == rows


def test_hold_out_soundfont_splits_manifest_rows():
    rows = [{"file": f"{i}.wav", "label": "a", "split": "test" if i % 2 else "train",
             "piece": f"p{i}", "soundfont": sf} for i, sf in enumerate(["A.sf2", "B.sf2"] * 3)]
    train_on, held = hold_out_soundfont(rows, "B.sf2", data_dir="DATA")
    assert [r["soundfont"] for r in train_on] == ["A.sf2"] * 3
    assert [r["soundfont"] for r in held] == ["B.sf2"] * 3
    with pytest.raises(ParameterError) as exc:
        hold_out_soundfont(rows, "C.sf2", data_dir="DATA")
    assert str(exc.value) == ("--hold-out-soundfont: no clip of DATA was rendered with 'C.sf2'; "
                              "its soundfonts: A.sf2, B.sf2")
    with pytest.raises(ParameterError, match="every clip of DATA was rendered with A.sf2: "
                                             "nothing is left to train on"):
        hold_out_soundfont(rows[::2], "A.sf2", data_dir="DATA")
    old = [{k: v for k, v in r.items() if k != "soundfont"} for r in rows]
    with pytest.raises(ParameterError, match="its soundfonts: none recorded"):
        hold_out_soundfont(old, "A.sf2", data_dir="DATA")
