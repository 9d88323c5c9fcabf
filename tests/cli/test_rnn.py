"""``gensuite rnn train / generate / evaluate`` through ``main()``, on tiny models."""

from __future__ import annotations

import json
import math
import os
import re

import note_seq
import pytest

from gensuite.cli import main as cli_main
from gensuite.melody_rnn.data import extract_primer, is_eval_sequence
from gensuite.midi.io import read_midi, write_midi

pytestmark = pytest.mark.slow  # each trains or renders through a whole command

CONFIG = "tiny-attention_rnn"
EVAL_RATIO = 0.3
PRIMER = [60, -2, 62, -2, 64, -1]
# A 4-bar tune on a 16th grid: (pitch offset, start step, end step).
TUNE = [(0, 0, 4), (2, 4, 8), (4, 8, 12), (5, 12, 16), (7, 16, 24), (5, 24, 28), (4, 28, 32),
        (2, 32, 36), (0, 36, 40), (4, 40, 44), (7, 44, 48), (12, 48, 56), (7, 56, 64)]


@pytest.fixture
def run_cli(monkeypatch):
    """``gensuite`` with only the rnn group (other groups are other people's work)."""
    monkeypatch.setattr(cli_main, "COMMAND_MODULES", ("rnn",))

    def run(argv):
        try:
            return cli_main.main(argv)
        except SystemExit as exc:  # argparse's own errors exit from parse_args
            return exc.code

    return run


def build_note_sequence(notes, *, qpm=120.0, is_drum=False, instrument=0):
    """A 4/4 NoteSequence of (pitch, start step, end step) notes on a 16th grid."""
    sequence = note_seq.NoteSequence(ticks_per_quarter=220)
    sequence.tempos.add(time=0.0, qpm=qpm)
    sequence.time_signatures.add(time=0.0, numerator=4, denominator=4)
    seconds_per_step = 60.0 / qpm / 4
    for pitch, start, end in notes:
        sequence.notes.add(pitch=pitch, velocity=100, instrument=instrument, is_drum=is_drum,
                           start_time=start * seconds_per_step, end_time=end * seconds_per_step)
        sequence.total_time = max(sequence.total_time, end * seconds_per_step)
    return sequence


def tune_sequence(root: int, **kwargs):
    return build_note_sequence([(root + d, s, e) for d, s, e in TUNE], **kwargs)


def pick_names(n_train: int, n_eval: int) -> list[str]:
    """File names the hash split puts n_train / n_eval on each side (deterministic)."""
    train, held_out = [], []
    for i in range(1000):
        name = f"tune_{i:03d}.mid"
        side = held_out if is_eval_sequence(name, eval_ratio=EVAL_RATIO) else train
        side.append(name)
        if len(train) >= n_train and len(held_out) >= n_eval:
            return sorted(train[:n_train] + held_out[:n_eval])
    raise AssertionError("hash split never filled both sides")


N_TRAIN, N_EVAL = 5, 2


@pytest.fixture(scope="module")
def midi_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tunes")
    for i, name in enumerate(pick_names(N_TRAIN, N_EVAL)):
        write_midi(tune_sequence(55 + i), folder / name)
    return folder


def train_argv(midi_dir, run_dir, *extra):
    return ["rnn", "train", "--config", CONFIG, "--midi-dir", str(midi_dir), "--run-dir",
            str(run_dir), "--seed", "3", "--log-every", "2", "--eval-fraction", str(EVAL_RATIO),
            *extra]


@pytest.fixture(scope="module")
def trained(midi_dir, tmp_path_factory):
    """A tiny run trained 4 steps, then resumed to 6.

    (run dir, first stdout, second stdout, first stderr, second stderr)
    """
    import contextlib
    import io

    monkey = pytest.MonkeyPatch()
    monkey.setattr(cli_main, "COMMAND_MODULES", ("rnn",))
    run_dir = tmp_path_factory.mktemp("run")
    outputs, errors = [], []
    try:
        for n_steps in (4, 6):
            out, err = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = cli_main.main(train_argv(midi_dir, run_dir, "--num-steps", str(n_steps)))
            assert code == 0, err.getvalue()
            outputs.append(out.getvalue())
            errors.append(err.getvalue())
    finally:
        monkey.undo()
    return run_dir, outputs[0], outputs[1], errors[0], errors[1]


def error_line(capsys) -> str:
    """The one stderr line of a failed command."""
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def melody_of(path) -> list[int]:
    events, _ = extract_primer(read_midi(path), steps_per_quarter=4, path=str(path))
    return events


# --------------------------------------------------------------------------- train

def test_train_reports_held_out_figures_and_resumes(trained):
    run_dir, first, second, _, _ = trained
    assert "trained to step 4" in first and "resumed" not in first
    assert "trained to step 6" in second and "resumed from step 4" in second
    assert f"on {N_EVAL} melodies" in second
    meta = json.loads((run_dir / "meta.json").read_text())
    assert meta["kind"] == "melody_rnn" and meta["config"]["name"] == CONFIG
    assert meta["figures"]["step"] == 6
    assert meta["figures"]["train_melodies"] == N_TRAIN
    assert meta["figures"]["eval_melodies"] == N_EVAL
    held_out = float(second.split("log-perplexity ")[1].split()[0])
    assert math.isclose(held_out, meta["figures"]["eval_log_perplexity"], abs_tol=1e-4)
    assert os.listdir(run_dir / "logs" / "train")  # TensorBoard events
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records if r["split"] == "train"] == [2, 4, 6]


def test_init_from_a_run_continues_its_step_and_from_a_model_loads_its_weights(
        run_cli, trained, midi_dir, tmp_path, capsys):
    from gensuite.melody_rnn.model import MelodyRNN

    source = trained[0]
    copied = tmp_path / "copied"
    assert run_cli(train_argv(midi_dir, copied, "--num-steps", "8",
                               "--init-from", str(source))) == 0
    out, err = capsys.readouterr()
    assert f"starting from the checkpoints of {source}" in err
    assert "trained to step 8" in out and "resumed from step 6" in out

    # An export (here the source run folder read as a saved model) gives weights only.
    export = tmp_path / "export"
    MelodyRNN.load(source).save(export)
    fresh = tmp_path / "fresh"
    assert run_cli(train_argv(midi_dir, fresh, "--num-steps", "2", "--eval-every", "1000",
                               "--init-from", str(export))) == 0
    out, err = capsys.readouterr()
    assert f"starting from the weights of {export}" in err and "trained to step 2" in out

    assert run_cli(train_argv(midi_dir, tmp_path / "other", "--init-from",
                               str(tmp_path / "missing"))) == 2
    assert "missing: no such checkpoint folder or shipped name" in error_line(capsys)
    assert not (tmp_path / "other" / "melodies.npz").exists()  # refused before reading data


def test_train_caches_the_melodies_and_resumes_on_them(trained, midi_dir):
    run_dir, _, _, first_err, second_err = trained
    cache = run_dir / "melodies.npz"
    assert (f"data: {N_TRAIN + N_EVAL} sequences (0 files skipped) -> {N_TRAIN} training and "
            f"{N_EVAL} held-out melodies, cached in {cache}") in first_err.splitlines()
    assert (f"data: reusing the {N_TRAIN} training and {N_EVAL} held-out melodies cached in "
            f"{cache} ({N_TRAIN + N_EVAL} sequences read when the run started; a new "
            f"--run-dir reads the source again)") in second_err.splitlines()
    summary = json.loads((run_dir / "melodies.json").read_text())
    assert summary["source"] == {"midi_dir": os.path.abspath(midi_dir)}
    assert summary["eval_ratio"] == EVAL_RATIO


@pytest.mark.parametrize("change, described", [
    (("--midi-dir", "{other}"), "from --midi-dir {tunes}, not from --midi-dir {other}"),
    (("--eval-fraction", "0.5"),
     f"with --eval-fraction {EVAL_RATIO}, not with --eval-fraction 0.5"),
    # The hidden old spelling still works (given last, it wins).
    (("--eval-ratio", "0.5"), f"with --eval-fraction {EVAL_RATIO}, not with --eval-fraction 0.5"),
])
def test_train_refuses_to_resume_on_another_source_or_split(run_cli, trained, midi_dir,
                                                             tmp_path, capsys, change,
                                                             described):
    run_dir = trained[0]
    other = tmp_path / "other"
    other.mkdir()
    argv = train_argv(midi_dir, run_dir, "--num-steps", "8")
    flag, value = change
    if flag in argv:
        argv[argv.index(flag) + 1] = value.format(other=other)
    else:
        argv += [flag, value]
    before = sorted(os.listdir(run_dir))
    assert run_cli(argv) == 2
    described = described.format(tunes=os.path.abspath(midi_dir), other=other)
    assert error_line(capsys) == (
        f"gensuite rnn: error: --run-dir: {run_dir} holds melodies extracted {described}: a "
        f"run resumes only on the melodies it started with; use the same data settings or a "
        f"new --run-dir")
    assert sorted(os.listdir(run_dir)) == before


def test_train_explains_a_folder_without_melodies(run_cli, tmp_path, capsys):
    # One bar each: the tiny presets need 2.
    for i in range(3):
        write_midi(build_note_sequence([(60, 0, 4), (62, 4, 8)]), tmp_path / f"short{i}.mid")
    code = run_cli(["rnn", "train", "--config", CONFIG, "--midi-dir", str(tmp_path),
                    "--run-dir", str(tmp_path / "run"), "--num-steps", "2"])
    assert code == 2
    line = error_line(capsys)
    assert "no melodies" in line and "3 shorter than 2 bars" in line


def test_train_and_evaluate_explain_a_folder_of_unreadable_files(run_cli, trained, tmp_path,
                                                                  capsys):
    (tmp_path / "a.mid").write_bytes(b"not midi")
    (tmp_path / "b.mid").write_bytes(b"")
    assert run_cli(["rnn", "train", "--config", CONFIG, "--midi-dir", str(tmp_path),
                    "--run-dir", str(tmp_path / "run")]) == 2
    expected = (f"gensuite rnn: error: {tmp_path}: no melodies: none of its 2 files could be "
                f"read (e.g. a.mid: not a MIDI file (no 'MThd' header))")
    assert error_line(capsys) == expected
    assert run_cli(["rnn", "evaluate", "--checkpoint", str(trained[0]), "--midi-dir",
                    str(tmp_path)]) == 2
    assert error_line(capsys) == expected


def test_train_rejects_unknown_config_and_a_run_of_another_config(run_cli, trained, midi_dir,
                                                                  capsys):
    assert run_cli(["rnn", "train", "--config", "nope", "--midi-dir", str(midi_dir),
                    "--run-dir", "x"]) == 2
    assert "--config: must be one of basic_rnn" in error_line(capsys)
    run_dir = trained[0]
    assert run_cli(["rnn", "train", "--config", "tiny-basic_rnn", "--midi-dir", str(midi_dir),
                    "--run-dir", str(run_dir)]) == 2
    assert "holds a run of config 'tiny-attention_rnn'" in error_line(capsys)


# ------------------------------------------------------------------------ generate

def generate(run_cli, checkpoint, out, *extra):
    return run_cli(["rnn", "generate", "--checkpoint", str(checkpoint), "--out", str(out),
                    *extra])


def test_generate_begins_with_the_primer_and_is_seeded(run_cli, trained, tmp_path, capsys):
    args = ("--primer-melody", json.dumps(PRIMER), "--length-steps", "32", "--num-outputs", "3",
            "--seed", "7")
    assert generate(run_cli, trained[0], tmp_path / "a", *args) == 0
    assert generate(run_cli, trained[0], tmp_path / "b", *args) == 0
    assert capsys.readouterr().err == ""
    names = sorted(os.listdir(tmp_path / "a"))
    assert names == ["generate_000.mid", "generate_001.mid", "generate_002.mid"]
    for name in names:
        assert melody_of(tmp_path / "a" / name)[:len(PRIMER)] == PRIMER
        sequence = read_midi(tmp_path / "a" / name)
        assert max(n.end_time for n in sequence.notes) <= 32 * 0.125 + 1e-6  # 120 qpm
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert generate(run_cli, trained[0], tmp_path / "c", *args[:-1], "8") == 0
    assert any((tmp_path / "a" / n).read_bytes() != (tmp_path / "c" / n).read_bytes()
               for n in names)


def test_generate_beam_search_and_default_primer(run_cli, trained, tmp_path, capsys):
    # --num-steps: the hidden old name of --length-steps.
    assert generate(run_cli, trained[0], tmp_path, "--num-steps", "20", "--beam-size", "2",
                    "--branch-factor", "2", "--seed", "1") == 0
    assert os.listdir(tmp_path) == ["generate_000.mid"]
    first = read_midi(tmp_path / "generate_000.mid").notes[0]
    assert (first.pitch, first.start_time) == (60, 0.0)  # Magenta's default primer


def test_generate_takes_the_highest_note_of_a_primer_midi_and_its_tempo(
        run_cli, trained, tmp_path, capsys):
    chord_then_line = [(48, 0, 4), (64, 0, 4), (55, 0, 4), (65, 4, 8), (67, 8, 12)]
    primer_path = tmp_path / "primer.mid"
    write_midi(build_note_sequence(chord_then_line, qpm=90.0), primer_path)
    assert generate(run_cli, trained[0], tmp_path / "out", "--primer-midi", str(primer_path),
                    "--length-steps", "24", "--seed", "2") == 0
    expected = [64, -2, -2, -2, 65, -2, -2, -2, 67, -2, -2, -2, -1]
    assert extract_primer(read_midi(primer_path), steps_per_quarter=4, path="p")[0] == expected
    output = read_midi(tmp_path / "out" / "generate_000.mid")
    assert melody_of(tmp_path / "out" / "generate_000.mid")[:len(expected)] == expected
    assert output.tempos[0].qpm == pytest.approx(90.0, abs=1e-3)  # MIDI stores us/quarter


def test_generate_keeps_a_primer_midi_at_its_time_and_can_shorten_it(
        run_cli, trained, tmp_path, capsys):
    primer_path = tmp_path / "late.mid"  # first note in bar 2, on step 18
    write_midi(build_note_sequence([(60, 18, 20), (62, 20, 22), (64, 22, 24)]), primer_path)
    assert generate(run_cli, trained[0], tmp_path / "out", "--primer-midi", str(primer_path),
                    "--primer-steps", "5", "--length-steps", "6", "--seed", "4") == 0
    notes = read_midi(tmp_path / "out" / "generate_000.mid").notes
    # Primer [-2, -2, 60, -2, 62] from step 16, one generated step (17 + 4 = step 21).
    assert [(n.pitch, n.start_time) for n in notes[:2]] == [(60, 18 * 0.125), (62, 20 * 0.125)]
    assert max(n.end_time for n in notes) <= 22 * 0.125 + 1e-6
    assert generate(run_cli, trained[0], tmp_path / "o", "--primer-midi", str(primer_path),
                    "--length-steps", "8") == 2
    assert error_line(capsys).endswith(
        "--length-steps: must be greater than the primer's length (--primer-midi has 9 steps) "
        "because it counts the primer too, got 8")


def test_generate_transposes_an_out_of_range_primer_and_warns_once(
        run_cli, trained, tmp_path, capsys):
    primer = [96, -2, 98, -2, 100, -1]  # above the model's 48-83, but only 5 semitones wide
    assert generate(run_cli, trained[0], tmp_path, "--primer-melody", json.dumps(primer),
                    "--length-steps", "40", "--seed", "0") == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["gensuite rnn generate: warning: --primer-melody: notes 96, 98, 100 lie "
                   "outside the model's range 48-83; the primer was transposed into it for "
                   "the model and the continuation moved back to the primer's register"]
    events = melody_of(tmp_path / "generate_000.mid")
    assert events[:len(primer)] == primer
    continuation = [e for e in events[len(primer):] if e >= 0]
    # Transposed down 3 octaves for the model, so the continuation comes back up 3.
    assert all(48 + 36 <= e < 84 + 36 for e in continuation)


def test_generate_warns_once_and_folds_a_primer_wider_than_the_range(
        run_cli, trained, tmp_path, capsys):
    primer = [36, -2, 60, -2, 96, -1]  # 60 semitones wide; the model holds 36
    assert generate(run_cli, trained[0], tmp_path, "--primer-melody", str(primer),
                    "--length-steps", "16", "--seed", "0") == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("gensuite rnn generate: warning: --primer-melody")
    named = {int(t) for t in err[0].split("notes ")[1].split(" lie")[0].split(", ")}
    assert named and named <= {36, 96}
    assert melody_of(tmp_path / "generate_000.mid")[:len(primer)] == primer  # kept as given


@pytest.mark.parametrize("extra, message", [
    (("--primer-melody", "[60, x, 62]"), "--primer-melody: 'x' is not an integer event"),
    (("--primer-melody", "[60, 62.5]"), "--primer-melody: '62.5' is not an integer event"),
    (("--primer-melody", "[60, 130]"), "--primer-melody: event 130 is outside -2..127"),
    (("--primer-melody", "[60, -3]"), "--primer-melody: event -3 is outside -2..127"),
    (("--primer-melody", "[]"), "--primer-melody: must hold at least one event"),
    (("--primer-melody", ""), "--primer-melody: must hold at least one event"),
    (("--primer-melody", "[60, 62"), "--primer-melody: '[60' is not an integer event"),
    (("--primer-melody", "60;62"), "--primer-melody: '60;62' is not an integer event"),
    (("--primer-melody", "[60, -2, 62, -2, 64, -1]", "--length-steps", "6"),
     "--length-steps: must be greater than the primer's length (--primer-melody has 6 steps) "
     "because it counts the primer too, got 6"),
    (("--primer-melody", "[60, -2, 62, -2, 64, -1]", "--num-steps", "2"),
     "--length-steps: must be greater than the primer's length (--primer-melody has 6 steps) "
     "because it counts the primer too, got 2"),
    (("--primer-melody", "[60, -2, 62, -2, 64, -1]", "--primer-steps", "4", "--length-steps", "4"),
     "--length-steps: must be greater than the primer's length (--primer-melody (first 4 steps) "
     "has 4 steps) because it counts the primer too, got 4"),
    (("--temperature", "0"), "argument --temperature: must be > 0, got 0"),
    (("--temperature", "-1.5"), "argument --temperature: must be > 0, got -1.5"),
    (("--beam-size", "0"), "argument --beam-size: must be >= 1, got 0"),
    (("--primer-melody", "[60]", "--primer-midi", "x.mid"), "not allowed with argument"),
])
def test_generate_rejects_bad_input_in_one_line(run_cli, trained, tmp_path, capsys, extra,
                                                message):
    assert generate(run_cli, trained[0], tmp_path / "out", *extra) == 2
    assert message in error_line(capsys)
    assert not (tmp_path / "out").exists()


def test_commands_refuse_a_file_where_a_folder_is_expected(run_cli, trained, midi_dir,
                                                           tmp_path, capsys):
    a_file = tmp_path / "file"
    a_file.write_text("")
    assert generate(run_cli, trained[0], a_file) == 2
    assert error_line(capsys) == f"gensuite rnn: error: {a_file}: --out must be a folder, but " \
                                 f"this is a file"
    assert run_cli(["rnn", "train", "--config", CONFIG, "--midi-dir", str(midi_dir),
                    "--run-dir", str(a_file)]) == 2
    assert "--run-dir must be a folder" in error_line(capsys)


def test_generate_rejects_primer_midis_without_a_melody(run_cli, trained, tmp_path, capsys):
    zero = tmp_path / "zero.mid"
    zero.write_bytes(b"")
    assert generate(run_cli, trained[0], tmp_path / "o", "--primer-midi", str(zero)) == 2
    assert error_line(capsys) == f"gensuite rnn: error: {zero}: empty file (0 bytes)"
    missing = tmp_path / "missing.mid"
    assert generate(run_cli, trained[0], tmp_path / "o", "--primer-midi", str(missing)) == 2
    assert error_line(capsys) == f"gensuite rnn: error: {missing}: no such file"
    empty = tmp_path / "empty.mid"
    write_midi(build_note_sequence([]), empty)
    assert generate(run_cli, trained[0], tmp_path / "o", "--primer-midi", str(empty)) == 2
    assert error_line(capsys) == f"gensuite rnn: error: {empty}: contains no notes"
    drums = tmp_path / "drums.mid"
    write_midi(build_note_sequence([(36, 0, 2), (38, 4, 6)], is_drum=True, instrument=9), drums)
    assert generate(run_cli, trained[0], tmp_path / "o", "--primer-midi", str(drums)) == 2
    assert error_line(capsys) == (f"gensuite rnn: error: {drums}: no melody found to use as "
                                  f"a primer (only drums or silence)")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("command", ["generate", "evaluate"])
def test_commands_reject_unknown_checkpoints_and_other_model_kinds(run_cli, midi_dir, tmp_path,
                                                                   capsys, command):
    def run(checkpoint):
        if command == "generate":
            return generate(run_cli, checkpoint, tmp_path / "o")
        return run_cli(["rnn", "evaluate", "--checkpoint", str(checkpoint), "--midi-dir",
                        str(midi_dir)])

    missing = tmp_path / "missing"
    assert run(missing) == 2
    assert error_line(capsys).startswith(
        f"gensuite rnn: error: {missing}: no such checkpoint folder or shipped name (shipped: ")
    vae = tmp_path / "vae"
    vae.mkdir()
    (vae / "meta.json").write_text(json.dumps({"kind": "music_vae", "figures": {}}))
    assert run(vae) == 2
    assert error_line(capsys) == (f"gensuite rnn: error: {vae}: holds a music_vae model, "
                                  f"expected melody_rnn")
    assert not (tmp_path / "o").exists()


# ------------------------------------------------------------------------ evaluate

def test_evaluate_prints_one_json_object(run_cli, trained, midi_dir, capsys):
    assert run_cli(["rnn", "evaluate", "--checkpoint", str(trained[0]), "--midi-dir",
                    str(midi_dir), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["n_examples"] == N_TRAIN + N_EVAL
    assert report["n_steps"] == (N_TRAIN + N_EVAL) * 63  # 64-step tunes, first one unpredicted
    assert 0 < report["log_perplexity"] < math.log(40) + 1  # near uniform after 6 steps
    assert report["perplexity"] == pytest.approx(math.exp(report["log_perplexity"]))
    assert 0 <= report["accuracy"] <= 1
    assert run_cli(["rnn", "evaluate", "--checkpoint", str(trained[0]), "--midi-dir",
                    str(midi_dir), "--json", "--split", "eval",
                    "--eval-fraction", str(EVAL_RATIO)]) == 0
    held_out = json.loads(capsys.readouterr().out)
    meta = json.loads((trained[0] / "meta.json").read_text())
    assert held_out["n_examples"] == N_EVAL
    assert held_out["log_perplexity"] == pytest.approx(meta["figures"]["eval_log_perplexity"],
                                                       rel=1e-5)


def test_evaluate_samples_judges_continuations_of_the_folders_tunes(run_cli, trained,
                                                                    midi_dir, capsys):
    assert run_cli(["rnn", "evaluate", "--checkpoint", str(trained[0]), "--midi-dir",
                    str(midi_dir), "--samples", "2", "--length-steps", "64"]) == 0
    out = capsys.readouterr().out
    assert "continuations of 2 primers (32 steps) to 64 steps" in out
    for name in ("temperature_0.5", "temperature_1.0", "beam_4x2"):
        assert f"  {name}: mean overlap " in out
    assert run_cli(["rnn", "evaluate", "--checkpoint", str(trained[0]), "--midi-dir",
                    str(midi_dir), "--samples", "2", "--length-steps", "100"]) == 2
    assert error_line(capsys) == ("gensuite rnn: error: length_steps: must be the 32-step "
                                  "primer plus a multiple of 32, got 100")


def test_evaluate_rejects_a_folder_without_melodies(run_cli, trained, tmp_path, capsys):
    assert run_cli(["rnn", "evaluate", "--checkpoint", str(trained[0]), "--midi-dir",
                    str(tmp_path), "--json"]) == 2
    assert error_line(capsys) == f"gensuite rnn: error: {tmp_path}: holds no .mid or .midi files"


def test_generate_without_seed_prints_the_seed_so_the_run_can_be_repeated(
        run_cli, trained, tmp_path, capsys):
    assert generate(run_cli, trained[0], tmp_path / "a", "--length-steps", "16") == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    match = re.fullmatch(r"seed: (\d+) \(chosen at random; pass --seed (\d+) to repeat\)", err[0])
    assert match and match[1] == match[2]
    assert os.listdir(tmp_path / "a") == ["generate_000.mid"]  # --num-outputs defaults to 1
    assert generate(run_cli, trained[0], tmp_path / "b", "--length-steps", "16", "--seed",
                    match[1]) == 0
    assert capsys.readouterr().err == ""
    assert ((tmp_path / "a" / "generate_000.mid").read_bytes()
            == (tmp_path / "b" / "generate_000.mid").read_bytes())


@pytest.mark.parametrize("argv, old, new", [
    (["rnn", "train"], "--eval-ratio", "--eval-fraction"),
    (["rnn", "train"], "--checkpoint-minutes", "--save-every-minutes"),
    (["rnn", "evaluate"], "--eval-ratio", "--eval-fraction"),
    (["rnn", "generate"], "--num-steps", "--length-steps"),
])
def test_help_lists_the_new_flag_names_only(run_cli, capsys, argv, old, new):
    assert run_cli([*argv, "--help"]) == 0
    out = capsys.readouterr().out
    assert new in out and old not in out


@pytest.mark.parametrize("extra, refused", [
    (("--max-minutes", "1"), "--max-minutes with --strategy multi-worker"),
    (("--init-from", "basic_rnn"), "--init-from with --strategy multi-worker")])
def test_train_refuses_what_workers_cannot_keep_in_lockstep(run_cli, midi_dir, tmp_path,
                                                            monkeypatch, capsys, extra, refused):
    monkeypatch.setenv("TF_CONFIG", json.dumps({
        "cluster": {"worker": ["127.0.0.1:1", "127.0.0.1:2"]},
        "task": {"type": "worker", "index": 0}}))
    assert run_cli(train_argv(midi_dir, tmp_path / "run", "--strategy", "multi-worker",
                              *extra)) == 2
    assert refused in error_line(capsys)
