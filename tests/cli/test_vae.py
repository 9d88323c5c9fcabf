"""``gensuite vae`` train / sample / interpolate / evaluate through main(), on a tiny model.

One tiny model (``tiny-mel_2bar``) is trained once for the module on six
hand-built 4-bar melodies; the other tests use its export.
"""

import json
import os
import re
import shutil

import numpy as np
import pytest
from note_seq import NoteSequence

from gensuite.cli.main import main
from gensuite.midi.io import read_midi, write_midi
from gensuite.training.checkpointing import read_metrics
from tests.cli_run import assert_one_line_error, edit_run_config, run

pytestmark = pytest.mark.slow  # each trains or renders through a whole command

N_SONGS = 6


def melody(pitches, *, step_len=2, program=0, is_drum=False):
    """4/4 NoteSequence at 120 qpm, one note per ``step_len`` 16th-note steps."""
    seq = NoteSequence(ticks_per_quarter=220)
    seq.tempos.add(time=0.0, qpm=120.0)
    seq.time_signatures.add(time=0.0, numerator=4, denominator=4)
    for i, p in enumerate(pitches):
        seq.notes.add(pitch=p, velocity=90, program=program, is_drum=is_drum,
                      start_time=i * step_len * 0.125, end_time=(i + 1) * step_len * 0.125)
    seq.total_time = len(pitches) * step_len * 0.125
    return seq


def song(k):
    """4 bars of eighth notes, distinct per ``k``, no two bars alike."""
    return melody([60 + k + (i * (k + 3)) % 13 for i in range(32)])


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(folder of songs, run dir, train stdout) after 20 steps."""
    root = tmp_path_factory.mktemp("vae")
    songs = root / "songs"
    songs.mkdir()
    for k in range(N_SONGS):
        write_midi(song(k), songs / f"song_{k}.mid")
    run_dir = root / "run"
    code = main(["vae", "train", "--config", "tiny-mel_2bar", "--midi-dir", str(songs),
                 "--run-dir", str(run_dir), "--num-steps", "20", "--eval-every", "10",
                 "--eval-fraction", "0.2", "--seed", "0"])
    assert code == 0
    return songs, run_dir


def test_train_writes_checkpoints_logs_cache_and_export(trained, capsys):
    songs, run_dir = trained
    meta = json.loads((run_dir / "export" / "meta.json").read_text())
    figures = meta["figures"]
    assert meta["kind"] == "music_vae" and meta["config"]["name"] == "tiny-mel_2bar"
    assert meta["converter_options"] == {
        "any_meter": False, "any_program": False, "track_names": [], "top_track": False}
    # 6 files x 3 windows (bars 1-2, 2-3, 3-4); round(6 * 0.2) = 1 file held out.
    assert figures["steps"] == 20
    assert (figures["train_files"], figures["train_examples"]) == (5, 15)
    assert (figures["held_out_files"], figures["held_out_examples"]) == (1, 3)
    for key in ("held_out_teacher_forced_accuracy", "held_out_sampled_accuracy"):
        assert 0 <= figures[key] <= 1
    assert figures["held_out_kl_bits"] >= 0
    assert os.path.exists(run_dir / "checkpoints" / "ckpt-20.index")
    assert os.path.exists(run_dir / "examples.npz")
    data = json.loads((run_dir / "data.json").read_text())
    assert len(data["held_out"]) and data["source"] == {"midi_dir": str(songs.resolve())}
    assert [r["step"] for r in read_metrics(str(run_dir), "eval")] == [10, 20]
    assert os.listdir(run_dir / "logs" / "train")


def test_train_resumes_from_saved_step_and_cached_examples(trained, capsys, tmp_path):
    songs, run_dir = trained
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    # No --midi-dir: the run's cached examples are used.
    code, out, _ = run(capsys, "vae", "train", "--config", "tiny-mel_2bar", "--run-dir", copy,
                       "--num-steps", "25", "--eval-fraction", "0.2")
    assert code == 0
    assert "using the examples cached" in out and "resuming from step 20" in out
    assert os.path.exists(copy / "checkpoints" / "ckpt-25.index")
    train_steps = [r["step"] for r in read_metrics(str(copy), "train")]
    assert train_steps[-1] == 25 and train_steps.count(20) == 1
    assert json.loads((copy / "export" / "meta.json").read_text())["figures"]["steps"] == 25
    # Another config in the same run folder is refused before any work.
    code, _, err = run(capsys, "vae", "train", "--config", "cpu-mel_2bar", "--run-dir", copy,
                       "--midi-dir", songs)
    assert_one_line_error(code, err, "holds a run of config 'tiny-mel_2bar'")


def test_init_from_fine_tunes_on_named_tracks(trained, capsys, tmp_path):
    _, run_dir = trained
    folder = tmp_path / "duets"
    folder.mkdir()
    for k in range(3):
        duet = song(k)
        for note in melody([40 + k + i % 7 for i in range(32)]).notes:  # a lower track
            bass = duet.notes.add()
            bass.CopyFrom(note)
            bass.instrument = 1
        duet.instrument_infos.add(instrument=0, name="Lead")
        duet.instrument_infos.add(instrument=1, name="Bass")
        write_midi(duet, folder / f"duet_{k}.mid")
    new_run = tmp_path / "tuned"
    code, out, _ = run(capsys, "vae", "train", "--config", "tiny-mel_2bar", "--midi-dir",
                       folder, "--run-dir", new_run, "--init-from", run_dir,
                       "--track-name", "LEAD", "--num-steps", "24", "--eval-fraction", "0")
    assert code == 0, out
    assert "starting from the checkpoints of" in out and "resuming from step 20" in out
    meta = json.loads((new_run / "export" / "meta.json").read_text())
    assert meta["converter_options"]["track_names"] == ["LEAD"]
    # 3 files x 3 windows of the lead track only (the bass would add its own).
    assert (meta["figures"]["steps"], meta["figures"]["train_examples"]) == (24, 9)
    # From a saved model (weights and its step; here the run's export).
    code, out, _ = run(capsys, "vae", "train", "--config", "tiny-mel_2bar", "--midi-dir",
                       folder, "--run-dir", tmp_path / "from_export", "--init-from",
                       run_dir / "export", "--num-steps", "22", "--eval-fraction", "0")
    assert code == 0, out
    assert f"starting from the weights of {run_dir / 'export'} at step 20" in out
    meta = json.loads((tmp_path / "from_export" / "export" / "meta.json").read_text())
    assert meta["figures"]["steps"] == 22
    code, out, err = run(capsys, "vae", "train", "--config", "tiny-mel_2bar", "--midi-dir",
                         folder, "--run-dir", tmp_path / "other", "--init-from", tmp_path)
    assert_one_line_error(code, err, "holds no training checkpoints (checkpoints/) and is "
                                     "not a saved MusicVAE")
    # Refused before the folder was read: nothing converted, no run folder.
    assert "converted" not in out and not (tmp_path / "other").exists()


def test_init_from_may_change_schedules_but_not_weights(trained, capsys, tmp_path):
    import shutil

    songs, run_dir = trained
    source = tmp_path / "source"
    shutil.copytree(run_dir, source)

    edit_run_config(source, sampling_schedule="constant", sampling_rate=0.5, free_bits=4.0)
    code, out, _ = run(capsys, "vae", "train", "--config", "tiny-mel_2bar", "--midi-dir", songs,
                       "--run-dir", tmp_path / "continued", "--init-from", source,
                       "--num-steps", "21", "--eval-fraction", "0")
    assert code == 0, out
    assert "resuming from step 20" in out
    edit_run_config(source, z_size=9)  # a weight's shape
    code, _, err = run(capsys, "vae", "train", "--config", "tiny-mel_2bar", "--midi-dir", songs,
                       "--run-dir", tmp_path / "refused", "--init-from", source)
    assert_one_line_error(code, err, "z_size")
    assert not (tmp_path / "refused").exists()


def test_sample_same_seed_same_files(trained, capsys, tmp_path):
    export = trained[1] / "export"
    outs = []
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        code, out, _ = run(capsys, "vae", "sample", "--checkpoint", export, "--num-outputs", 3,
                           "--temperature", 1.0, "--seed", seed, "--out", tmp_path / name)
        assert code == 0 and "seed" in out
        outs.append([(tmp_path / name / f"sample_{i:03d}.mid").read_bytes() for i in range(3)])
    assert sorted(os.listdir(tmp_path / "a")) == ["sample_000.mid", "sample_001.mid",
                                                   "sample_002.mid"]
    assert outs[0] == outs[1]
    assert outs[0] != outs[2]


def test_sample_without_seed_prints_the_seed_and_writes_four_files(trained, capsys, tmp_path):
    export = trained[1] / "export"
    code, _, err = run(capsys, "vae", "sample", "--checkpoint", export, "--out", tmp_path / "a")
    assert code == 0, err
    seed_lines = [line for line in err.splitlines() if line.startswith("seed: ")]
    assert len(seed_lines) == 1, err
    match = re.fullmatch(r"seed: (\d+) \(chosen at random; pass --seed (\d+) to repeat\)",
                         seed_lines[0])
    assert match and match[1] == match[2]
    names = [f"sample_{i:03d}.mid" for i in range(4)]  # --num-outputs defaults to 4
    assert sorted(os.listdir(tmp_path / "a")) == names
    code, _, err = run(capsys, "vae", "sample", "--checkpoint", export, "--seed", match[1],
                       "--out", tmp_path / "b")
    assert code == 0 and "seed: " not in err
    assert all((tmp_path / "a" / n).read_bytes() == (tmp_path / "b" / n).read_bytes()
               for n in names)


def test_interpolate_writes_steps_concatenation_and_png(trained, capsys, tmp_path):
    songs, run_dir = trained
    out_dir = tmp_path / "interp"
    code, out, _ = run(capsys, "vae", "interpolate", "--checkpoint", run_dir / "export",
                       songs / "song_0.mid", songs / "song_1.mid", "--mode", "steps",
                       "--num-outputs", 4, "--start-bar-b", 3, "--out", out_dir)
    assert code == 0, out
    written = sorted(f for f in os.listdir(out_dir) if f.startswith("interpolate_"))
    assert written == [f"interpolate_{i:03d}.mid" for i in range(4)] + ["interpolate_all.mid"]
    assert (out_dir / "interpolate.png").read_bytes()[:4] == b"\x89PNG"
    assert "A: " in out and "bars 1-2 (0.00-4.00 s), 16 notes" in out
    assert "bars 3-4 (4.00-8.00 s)" in out
    assert "endpoint reconstruction accuracy: A " in out
    # The input windows are written as the model sees them.
    assert [n.pitch for n in read_midi(out_dir / "input_a.mid").notes] == [
        n.pitch for n in song(0).notes[:16]]
    # interpolate_all plays the 4 steps one after another, 4 s (2 bars) each.
    steps = [read_midi(out_dir / f"interpolate_{i:03d}.mid") for i in range(4)]
    combined = read_midi(out_dir / "interpolate_all.mid")
    assert len(combined.notes) == sum(len(s.notes) for s in steps)
    last = sorted(n.start_time for n in steps[3].notes)
    assert sorted(n.start_time for n in combined.notes)[-len(last):] == pytest.approx(
        [t + 12.0 for t in last])


def test_interpolate_songs_opens_with_a_and_ends_with_b(trained, capsys, tmp_path):
    songs, run_dir = trained
    # A: two tracks; the higher one (instrument 1, an octave up) is the melody.
    a = song(0)
    for note in list(a.notes):
        a.notes.add(pitch=note.pitch + 12, velocity=90, instrument=1,
                    start_time=note.start_time, end_time=note.end_time)
    a.instrument_infos.add(instrument=1, name="flute")
    write_midi(a, tmp_path / "a.mid")
    out_dir = tmp_path / "song"
    code, out, err = run(capsys, "vae", "interpolate", "--checkpoint", run_dir / "export",
                         tmp_path / "a.mid", songs / "song_1.mid", "--json", "--out", out_dir,
                         "--temperature", 0.01)
    assert code == 0, err
    figures = json.loads(out)
    assert figures["bars"] == 4 and figures["segments"] == 2 and figures["window_bars"] == 2
    assert figures["track_a"].startswith("track 'flute' (the highest of 2 tracks")
    assert sorted(os.listdir(out_dir)) == ["input_a.mid", "input_b.mid", "interpolate.png",
                                           "interpolate_song.mid"]
    assert [n.pitch for n in read_midi(out_dir / "input_a.mid").notes] == [
        n.pitch + 12 for n in song(0).notes]
    assert "A: " in err and "used of 4" in err
    # The 20-step model decodes mostly holds: its figures, not its notes, are checked.
    assert (out_dir / "interpolate_song.mid").read_bytes()[:4] == b"MThd"
    assert 0.0 <= figures["opening_accuracy"] <= 1.0

    code, out, err = run(capsys, "vae", "interpolate", "--checkpoint", run_dir / "export",
                         tmp_path / "a.mid", songs / "song_1.mid", "--mode", "steps",
                         "--num-outputs", 2, "--out", tmp_path / "steps")
    assert code == 0, err
    assert "A: " + str(tmp_path / "a.mid") + ": track 'flute' (the highest of 2 tracks" in out
    code, _, err = run(capsys, "vae", "interpolate", "--checkpoint", run_dir / "export",
                       tmp_path / "a.mid", songs / "song_1.mid", "--bars", 8, "--out", out_dir)
    assert_one_line_error(code, err, "--bars: must be at most 4 (the shorter melody has 4 bars)")
    code, _, err = run(capsys, "vae", "interpolate", "--checkpoint", run_dir / "export",
                       tmp_path / "a.mid", songs / "song_1.mid", "--track", "oboe",
                       "--out", out_dir)
    assert_one_line_error(code, err, "no track named 'oboe' (tracks: 'flute', 'track 0')")
    write_midi(melody([60, 62, 64, 65]), tmp_path / "short.mid")
    code, _, err = run(capsys, "vae", "interpolate", "--checkpoint", run_dir / "export",
                       tmp_path / "short.mid", songs / "song_1.mid", "--out", out_dir)
    assert_one_line_error(code, err, "short.mid: no two-bar melody found")


def test_interpolate_start_bar_without_window_lists_bars(trained, capsys, tmp_path):
    songs, run_dir = trained
    code, _, err = run(capsys, "vae", "interpolate", "--checkpoint", run_dir / "export",
                       songs / "song_0.mid", songs / "song_1.mid", "--mode", "steps",
                       "--num-outputs", 3, "--start-bar-a", 4, "--out", tmp_path)
    assert_one_line_error(code, err, "--start-bar-a: no window starts in bar 4; "
                                     "windows start in bars 1, 2, 3")


def test_evaluate_json(trained, capsys):
    songs, run_dir = trained
    code, out, _ = run(capsys, "vae", "evaluate", "--checkpoint", run_dir / "export",
                       "--midi-dir", songs, "--json")
    assert code == 0
    report = json.loads(out)
    assert {"n_examples", "n_files", "teacher_forced_accuracy", "sampled_accuracy",
            "kl_bits"} <= set(report)
    assert report["n_files"] == N_SONGS and report["n_examples"] == 3 * N_SONGS
    for key in ("teacher_forced_accuracy", "sampled_accuracy", "greedy_accuracy",
                "constant_accuracy"):
        assert 0 <= report[key] <= 1
    assert report["kl_bits"] >= 0 and np.isfinite(report["r_loss"])


# ----- bad input: one line on stderr, exit 2 -------------------------------------


def test_drum_only_folder_says_why(tmp_path, capsys):
    drums = tmp_path / "drums"
    drums.mkdir()
    for k in range(3):
        write_midi(melody([36, 38, 42, 38] * 8, is_drum=True), drums / f"beat_{k}.mid")
    code, _, err = run(capsys, "vae", "train", "--config", "tiny-mel_2bar", "--midi-dir", drums,
                       "--run-dir", tmp_path / "run")
    assert_one_line_error(code, err, "0 two-bar melodies found in 3 files: only drum tracks "
                                     "(no pitched notes) (3 files)")


def test_voice_programs_hint_at_any_program(tmp_path, capsys):
    voices = tmp_path / "voices"
    voices.mkdir()
    for k in range(2):
        write_midi(melody([60 + k + i % 5 for i in range(32)], program=53), voices / f"{k}.mid")
    code, _, err = run(capsys, "vae", "train", "--config", "tiny-mel_2bar", "--midi-dir",
                       voices, "--run-dir", tmp_path / "run")
    assert_one_line_error(code, err, "no pitched notes in programs 0-31 (2 files)",
                          "pass --any-program")


@pytest.fixture
def bad_files(tmp_path):
    (tmp_path / "empty.mid").write_bytes(b"")
    (tmp_path / "corrupt.mid").write_bytes(b"MThd\x00\x00\x00\x06garbage")
    write_midi(melody([10, 12, 14, 15] * 8), tmp_path / "low.mid")
    other = tmp_path / "rnn"
    other.mkdir()
    (other / "meta.json").write_text(json.dumps({"kind": "melody_rnn"}))
    return tmp_path


@pytest.mark.parametrize("case, fragments", [
    ("empty", ["empty.mid: empty file (0 bytes)"]),
    ("corrupt", ["corrupt.mid: ", "MIDI"]),
    ("no_melody", ["low.mid: no two-bar melody found: no pitched notes in pitch range 21-108"]),
    ("missing_checkpoint", ["nowhere: no such checkpoint folder or shipped name"]),
    ("other_kind", ["holds a melody_rnn model, expected music_vae"]),
    ("temperature", ["--temperature: must be > 0, got 0"]),
    ("negative_temperature", ["--temperature: must be > 0, got -1"]),
    ("one_output", ["--num-outputs: must be in [2, 256] for interpolate", "got 1"]),
])
def test_interpolate_bad_input(case, fragments, trained, bad_files, capsys):
    songs, run_dir = trained
    checkpoint, a, extra = run_dir / "export", songs / "song_0.mid", []
    num_outputs = 3
    if case in ("empty", "corrupt"):
        a = bad_files / f"{case}.mid"
    elif case == "no_melody":
        a = bad_files / "low.mid"
    elif case == "missing_checkpoint":
        checkpoint = bad_files / "nowhere"
    elif case == "other_kind":
        checkpoint = bad_files / "rnn"
    elif case == "temperature":
        extra = ["--temperature", "0"]
    elif case == "negative_temperature":
        extra = ["--temperature=-1"]
    elif case == "one_output":
        num_outputs = 1
    code, _, err = run(capsys, "vae", "interpolate", "--checkpoint", checkpoint, a,
                       songs / "song_1.mid", "--mode", "steps", "--num-outputs", num_outputs,
                       "--out", bad_files / "out", *extra)
    assert_one_line_error(code, err, *fragments)


def test_sample_and_evaluate_bad_input(trained, bad_files, capsys):
    songs, run_dir = trained
    code, _, err = run(capsys, "vae", "sample", "--checkpoint", bad_files / "rnn",
                       "--num-outputs", 2, "--out", bad_files / "s")
    assert_one_line_error(code, err, "holds a melody_rnn model, expected music_vae")
    code, _, err = run(capsys, "vae", "sample", "--checkpoint", run_dir / "export",
                       "--num-outputs", 2, "--temperature", "-0.5", "--out", bad_files / "s")
    assert_one_line_error(code, err, "--temperature: must be > 0")
    low_only = bad_files / "low_only"
    low_only.mkdir()
    shutil.copy(bad_files / "low.mid", low_only / "low.mid")
    code, _, err = run(capsys, "vae", "evaluate", "--checkpoint", run_dir / "export",
                       "--midi-dir", low_only, "--json")
    assert_one_line_error(code, err, "0 two-bar melodies found in 1 file: "
                                     "no pitched notes in pitch range 21-108 (1 file)")


def test_latent_hierarchy_trains_over_a_two_bar_model_and_serves_every_command(
        trained, capsys, tmp_path):
    songs16 = tmp_path / "songs16"
    songs16.mkdir()
    for k in range(4):  # 18 bars of eighth notes each
        write_midi(melody([60 + (i * (k + 2)) % 17 for i in range(144)]),
                   songs16 / f"tune_{k}.mid")
    _, two_bar_run = trained
    run_dir = tmp_path / "latent"
    code, out, _ = run(capsys, "vae", "train", "--config", "tiny-latent-mel_16bar",
                       "--midi-dir", songs16, "--run-dir", run_dir, "--init-from",
                       two_bar_run / "export", "--num-steps", 6, "--eval-every", 3,
                       "--eval-fraction", 0.25)
    assert code == 0, out
    assert "16-bar melodies from 4 of 4 files" in out
    meta = json.loads((run_dir / "export" / "meta.json").read_text())
    assert meta["kind"] == "latent_hierarchy" and meta["figures"]["steps"] == 6
    assert sorted(os.listdir(run_dir / "export")) == [
        "bottom", "config.json", "meta.json", "model.weights.h5", "prior.npz"]
    for key in ("greedy", "sampled", "top_greedy", "constant"):
        assert 0 <= meta["figures"][f"held_out_{key}_accuracy"] <= 1

    code, out, _ = run(capsys, "vae", "sample", "--checkpoint", run_dir / "export",
                       "--num-outputs", 2, "--seed", 1, "--out", tmp_path / "samples")
    assert code == 0, out
    assert sorted(os.listdir(tmp_path / "samples")) == ["sample_000.mid", "sample_001.mid"]
    code, out, _ = run(capsys, "vae", "evaluate", "--checkpoint", run_dir / "export",
                       "--midi-dir", songs16, "--json")
    assert code == 0 and json.loads(out)["n_examples"] >= 4
    code, out, _ = run(capsys, "vae", "interpolate", "--checkpoint", run_dir / "export",
                       songs16 / "tune_0.mid", songs16 / "tune_1.mid", "--mode", "steps",
                       "--num-outputs", 3, "--out", tmp_path / "steps")
    assert code == 0, out
    code, out, _ = run(capsys, "vae", "fit-prior", "--checkpoint", run_dir / "export",
                       "--midi-dir", songs16, "--out", tmp_path / "styled")
    assert code == 0 and "fitted the prior to 12 of the 12 windows of 4 files: " in out
    assert "samples repeat a 2-bar phrase where two conducted chunk latents lie within" in out
    styled = json.loads((tmp_path / "styled" / "meta.json").read_text())
    assert styled["kind"] == "latent_hierarchy" and styled["prior"]["n_windows"] == 12
    assert styled["repeats"]["pair_repeat_rate"] == 0.0  # these tunes never repeat 2 bars
    assert sorted(os.listdir(tmp_path / "styled")) == sorted(os.listdir(run_dir / "export"))

    code, out, _ = run(capsys, "vae", "train", "--config", "tiny-latent-mel_16bar",
                       "--midi-dir", songs16, "--run-dir", tmp_path / "continued",
                       "--init-from", run_dir / "export", "--num-steps", 2,
                       "--eval-fraction", 0.25)
    assert code == 0 and f"starting from the top level of {run_dir / 'export'}" in out


def test_fit_prior_writes_a_model_that_samples_from_the_fitted_gaussian(trained, capsys,
                                                                         tmp_path):
    songs, run_dir = trained
    out = tmp_path / "fitted"
    code, stdout, err = run(capsys, "vae", "fit-prior", "--checkpoint", run_dir / "export",
                            "--midi-dir", songs, "--out", out)
    assert code == 0, err
    assert "fitted the prior to " in stdout and "windows of 6 files" in stdout
    assert sorted(os.listdir(out)) == ["config.json", "meta.json", "model.weights.h5",
                                       "prior.npz"]
    meta = json.loads((out / "meta.json").read_text())
    assert meta["prior"]["n_files"] == 6 and meta["converter_options"]["any_meter"] is False
    code, _, err = run(capsys, "vae", "sample", "--checkpoint", out, "--num-outputs", 2,
                       "--seed", 1, "--out", tmp_path / "s")
    assert code == 0, err
    code, _, err = run(capsys, "vae", "fit-prior", "--checkpoint", run_dir / "export",
                       "--midi-dir", tmp_path / "nowhere", "--out", out)
    assert_one_line_error(code, err, "nowhere")


def test_evaluate_samples_compares_samples_with_the_folder(trained, capsys):
    songs, run_dir = trained
    code, out, err = run(capsys, "vae", "evaluate", "--checkpoint", run_dir / "export",
                         "--midi-dir", songs, "--samples", 3, "--json")
    assert code == 0, err
    samples = json.loads(out)["samples"]
    assert samples["n"] == 3 and samples["window_bars"] == 2
    assert samples["reference_windows"] == 2 * N_SONGS  # 4-bar songs, 2-bar windows
    for key in ("temperature_0.5", "temperature_1.0"):
        assert 0 <= samples[key]["mean_overlap"] <= 1
        assert set(samples[key]["degenerate_share"]) == {"generated", "reference"}
    code, _, err = run(capsys, "vae", "evaluate", "--checkpoint", run_dir / "export",
                       "--examples", songs / "x.tfrecord", "--samples", 3)
    assert_one_line_error(code, err, "--samples: compares samples with a folder's melodies")


def test_personalize_writes_a_model_that_sample_reads(trained, capsys, tmp_path):
    songs, run_dir = trained
    out = tmp_path / "me"
    code, stdout, err = run(capsys, "vae", "personalize", "--checkpoint", run_dir / "export",
                            "--midi-dir", songs, "--out", out, "--num-steps", 20,
                            "--latent-size", 2, "--json")
    assert code == 0, err
    figures = json.loads(stdout)
    assert (figures["n_files"], figures["n_vectors"]) == (N_SONGS, 3 * N_SONGS)
    assert sorted(os.listdir(out)) == ["config.json", "meta.json", "midime.npz",
                                       "model.weights.h5"]
    meta = json.loads((out / "meta.json").read_text())
    assert meta["personalized_from"] == "export"
    code, _, err = run(capsys, "vae", "sample", "--checkpoint", out, "--num-outputs", 2,
                       "--seed", 1, "--out", tmp_path / "s")
    assert code == 0, err
    assert sorted(os.listdir(tmp_path / "s")) == ["sample_000.mid", "sample_001.mid"]


def test_personalize_on_a_folder_without_melody_says_why(trained, capsys, tmp_path):
    _, run_dir = trained
    drums = tmp_path / "drums"
    drums.mkdir()
    write_midi(melody([36, 38] * 16, is_drum=True), drums / "beat.mid")
    code, _, err = run(capsys, "vae", "personalize", "--checkpoint", run_dir / "export",
                       "--midi-dir", drums, "--out", tmp_path / "me")
    assert_one_line_error(code, err, f"{drums}: no usable melody: ")
    assert "only drum tracks" in err
    assert not (tmp_path / "me").exists()


def test_evaluate_reads_the_folder_with_added_data_flags(trained, capsys, tmp_path):
    songs, run_dir = trained
    # Each song gets a lower second part: with --top-track only the melody counts.
    doubled = tmp_path / "doubled"
    doubled.mkdir()
    for k in range(2):
        seq = song(k)
        for note in list(seq.notes):
            seq.notes.add(pitch=note.pitch - 24, velocity=80, instrument=1,
                          start_time=note.start_time, end_time=note.end_time)
        write_midi(seq, doubled / f"song_{k}.mid")
    reports = {}
    for flags in ((), ("--top-track",)):
        code, out, err = run(capsys, "vae", "evaluate", "--checkpoint", run_dir / "export",
                             "--midi-dir", doubled, "--json", *flags)
        assert code == 0, err
        reports[flags] = json.loads(out)
    assert reports[("--top-track",)]["n_examples"] == 2 * 3  # bars 1-2, 2-3, 3-4
    assert reports[()]["n_examples"] > 6
