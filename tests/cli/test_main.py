"""The command-line frame: one-line errors, exit codes, checkpoint lookup."""

import json
import os
import shutil
import subprocess
import sys
import warnings

import pytest

from gensuite import checkpoints
from gensuite.cli import checkpoints as checkpoints_cli
from gensuite.cli.main import main
from gensuite.common.errors import InputFileError


def test_unknown_command_is_one_line_exit_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["no-such-command"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "invalid choice: 'no-such-command'" in err


def test_bad_argument_names_the_flag(capsys):
    with pytest.raises(SystemExit) as info:
        main(["corpus", "export", "essen", "--out", "x", "--limit", "0"])
    assert info.value.code == 2
    assert capsys.readouterr().err.strip().endswith("argument --limit: must be >= 1, got 0")


def test_checkpoints_lists_shipped_models_as_json(capsys):
    assert main(["checkpoints", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert set(listed) == {c.name for c in checkpoints.list_shipped()}


def test_resolve_checkpoint_reads_meta_and_checks_kind(tmp_path):
    folder = tmp_path / "my_model"
    folder.mkdir()
    (folder / "meta.json").write_text('{"kind": "music_vae", "figures": {"acc": 0.9}}')
    info = checkpoints.resolve_checkpoint(folder, kind="music_vae")
    assert (info.name, info.kind, info.figures) == ("my_model", "music_vae", {"acc": 0.9})
    with pytest.raises(InputFileError, match="holds a music_vae model, expected melody_rnn"):
        checkpoints.resolve_checkpoint(folder, kind="melody_rnn")


def test_resolve_checkpoint_rejects_unknown_names_and_plain_folders(tmp_path):
    with pytest.raises(InputFileError, match="no such checkpoint folder or shipped name"):
        checkpoints.resolve_checkpoint("surely-not-shipped")
    with pytest.raises(InputFileError, match=r"not a gensuite checkpoint \(no meta.json\)"):
        checkpoints.resolve_checkpoint(tmp_path)


@pytest.mark.slow
def test_tensorflow_imported_from_anywhere_prints_nothing():
    """Keras loads TensorFlow itself; its C++ start-up lines must not reach stderr."""
    code = ("from gensuite.common.tfutil import quiet_tensorflow_imports\n"
            "quiet_tensorflow_imports()\n"
            "import keras, tensorflow\n"
            "tensorflow.constant(1.0) + 1.0\n"
            "print('loaded', tensorflow.__version__)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=300, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "0"})
    assert result.returncode == 0 and result.stdout.startswith("loaded")
    assert result.stderr == ""


@pytest.mark.slow
def test_error_of_a_whole_command_is_one_line(tmp_path):
    """The demo's first stage fails on a file where a folder is needed: one line, exit 2."""
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder is needed")
    result = subprocess.run(
        [sys.executable, "-m", "gensuite", "demo", "--out", str(blocker / "demo")],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("gensuite demo: error: ")


def test_sigterm_stops_a_command_like_ctrl_c(monkeypatch, capsys):
    """Background training jobs ignore SIGINT; `kill` must still stop them cleanly."""
    import argparse
    import os
    import signal
    import time

    from gensuite.cli import main as cli_main

    def handler(args):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(30)  # interrupted long before this ends
        return 0

    class FakeParser:
        def parse_args(self, argv):
            return argparse.Namespace(func=handler, command="train", preload_tensorflow=False)

    monkeypatch.setattr(cli_main, "build_parser", lambda: FakeParser())
    started = time.monotonic()
    assert cli_main.main([]) == 130
    assert time.monotonic() - started < 20
    assert "gensuite train: interrupted" in capsys.readouterr().err
    assert signal.getsignal(signal.SIGTERM) is not cli_main._raise_keyboard_interrupt


# ----- one vocabulary: help text, defaults, renamed flags ---------------------------------


def all_parsers(parser=None):
    """Every parser of the command line: gensuite, each group, each sub-command."""
    import argparse

    from gensuite.cli.main import build_parser

    parser = parser or build_parser()
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                yield from all_parsers(sub)


def _shows_default(action) -> bool:
    import argparse

    default = action.default
    return not (default is None or default is False or default is argparse.SUPPRESS
                or (isinstance(default, (str, list, tuple)) and not default)
                or not action.option_strings)


def test_every_flag_has_help_and_every_help_shows_its_default_without_backticks():
    import argparse

    parsers = list(all_parsers())
    assert len(parsers) > 30  # gensuite, 9 commands and their sub-commands
    for parser in parsers:
        text = parser.format_help()
        assert "`" not in text, parser.prog
        assert text.count("(default ") == 0, parser.prog  # always "(default: X)"
        for action in parser._actions:
            if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
                continue
            assert action.help, (parser.prog, action.option_strings or action.dest)
            if action.help is argparse.SUPPRESS:  # a hidden alias: not listed at all
                assert not any(f"{flag} " in text or text.endswith(flag)
                               for flag in action.option_strings), parser.prog
                continue
            if _shows_default(action):
                shown = f"(default: {action.default})"
                assert shown in " ".join(text.split()), (parser.prog, action.option_strings)


def test_top_level_help_says_what_the_tool_does_and_lists_the_commands(capsys):
    from gensuite.cli.main import COMMAND_MODULES

    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for words in ("generative music studio", "MusicVAE", "MelodyRNN", "GANSynth",
                  "render MIDI files to WAV", "analyse audio"):
        assert words in text
    for name in COMMAND_MODULES:
        assert f" {name} " in text
    assert "gensuite.cli" not in text and "module" not in text


def test_help_formatter_wraps_one_line_descriptions_and_keeps_multi_line_ones():
    from gensuite.cli.main import Parser

    parser = Parser(prog="x", description="first line\n  indented second line")
    assert "first line\n  indented second line" in parser.format_help()
    parser = Parser(prog="x", description=" ".join(["word"] * 60))
    assert all(len(line) <= 100 for line in parser.format_help().splitlines())


@pytest.mark.parametrize("argv, dest, new, old, value", [
    (["vae", "train", "--config", "c", "--run-dir", "r"], "eval_fraction", "--eval-fraction",
     None, 0.25),
    (["rnn", "train", "--config", "c", "--midi-dir", "d", "--run-dir", "r"], "eval_ratio",
     "--eval-fraction", "--eval-ratio", 0.25),
    (["rnn", "evaluate", "--checkpoint", "c", "--midi-dir", "d"], "eval_ratio",
     "--eval-fraction", "--eval-ratio", 0.25),
    (["analyze", "build-dataset", "--midi-dir", "d", "--out", "o"], "eval_fraction",
     "--eval-fraction", "--test-fraction", 0.25),
    (["rnn", "train", "--config", "c", "--midi-dir", "d", "--run-dir", "r"],
     "checkpoint_minutes", "--save-every-minutes", "--checkpoint-minutes", 2.5),
    (["rnn", "generate", "--checkpoint", "c", "--out", "o"], "length_steps", "--length-steps",
     "--num-steps", 48),
    (["gansynth", "interpolate", "--checkpoint", "c", "--pitch", "60", "--out", "o"],
     "num_outputs", "--num-outputs", "--num-steps", 3),
])
def test_renamed_flags_parse_and_their_old_spelling_is_a_hidden_alias(argv, dest, new, old,
                                                                      value, capsys):
    from gensuite.cli.main import build_parser

    parser = build_parser()
    assert getattr(parser.parse_args(argv + [new, str(value)]), dest) == value
    if old is None:
        return
    assert getattr(parser.parse_args(argv + [old, str(value)]), dest) == value
    with pytest.raises(SystemExit):
        main(argv[:2] + ["--help"])
    text = capsys.readouterr().out
    assert new in text and f"{old} " not in text and not text.rstrip().endswith(old)


@pytest.mark.parametrize("argv, dest, default", [
    (["vae", "sample", "--checkpoint", "c", "--out", "o"], "num_outputs", 4),
    (["vae", "interpolate", "--checkpoint", "c", "a.mid", "b.mid", "--out", "o"],
     "num_outputs", 5),
    (["rnn", "generate", "--checkpoint", "c", "--out", "o"], "num_outputs", 1),
    (["gansynth", "interpolate", "--checkpoint", "c", "--pitch", "60", "--out", "o"],
     "num_outputs", 8),
    (["rnn", "generate", "--checkpoint", "c", "--out", "o"], "length_steps", 128),
])
def test_num_outputs_has_a_stated_default_wherever_outputs_repeat(argv, dest, default):
    from gensuite.cli.main import build_parser

    assert getattr(build_parser().parse_args(argv), dest) == default


def test_num_steps_means_training_steps_only():
    for parser in all_parsers():
        if any("--num-steps" in a.option_strings and a.help != "==SUPPRESS=="
               for a in parser._actions):
            assert parser.prog.endswith((" train", " personalize")), parser.prog


def test_resolve_seed_prints_the_chosen_seed_once(capsys):
    from gensuite.cli._args import resolve_seed

    assert resolve_seed(7) == 7
    assert capsys.readouterr().err == ""
    chosen = resolve_seed(None)
    assert 0 <= chosen < 2**31
    assert capsys.readouterr().err == (
        f"seed: {chosen} (chosen at random; pass --seed {chosen} to repeat)\n")


# ----- gensuite checkpoints ------------------------------------------------------------


def _absolute_paths_of_trainers():
    """Every absolute path written in the shipped meta.json files (run folders, data)."""
    found = set()

    def visit(value):
        if isinstance(value, dict):
            for item in value.values():
                visit(item)
        elif isinstance(value, list):
            for item in value:
                visit(item)
        elif isinstance(value, str):
            found.update(word for word in value.split() if word.startswith("/"))

    for info in checkpoints.list_shipped():
        visit(info.meta)
    return found


def test_checkpoints_prints_an_aligned_table_without_paths(capsys):
    assert main(["checkpoints"]) == 0
    lines = capsys.readouterr().out.splitlines()
    infos = checkpoints.list_shipped()
    header, rows = lines[0], lines[1:]
    assert header.split() == ["name", "kind", "data", "headline", "figure"]
    assert [row.split()[0] for row in rows] == [c.name for c in infos]
    for column in ("kind", "data", "headline figure"):
        start = header.index(column)
        for row, info in zip(rows, infos):
            assert row[start - 2:start] == "  " and row[start] != " ", (column, row)
    by_name = {row.split()[0]: row for row in rows}
    for info in infos:
        assert f"  {info.kind}  " in by_name[info.name]
    figures = {c.name: c.figures for c in infos}
    if "mel_2bar" in by_name:
        value = figures["mel_2bar"]["held_out_sampled_accuracy"]
        assert by_name["mel_2bar"].endswith(f"held-out sampled accuracy {value:.4f}")
        assert "corpus_melodies" in by_name["mel_2bar"]  # its data folder, no path
    if "attention_rnn" in by_name:
        value = figures["attention_rnn"]["eval_log_perplexity"]
        assert by_name["attention_rnn"].endswith(f"held-out log-perplexity {value:.4f}")
    if "gansynth_gm" in by_name:
        value = figures["gansynth_gm"]["pitch_accuracy"]
        assert by_name["gansynth_gm"].endswith(f"pitch accuracy {value:.4f}")
    if "instrument_cnn" in by_name:
        value = figures["instrument_cnn"]["test_track_accuracy"]
        assert by_name["instrument_cnn"].endswith(f"held-out track accuracy {value:.4f}")
    text = "\n".join(lines)
    assert "/" not in text.replace("N/A", "")
    for path in _absolute_paths_of_trainers():
        assert path not in text


def test_checkpoints_json_is_one_object_of_kind_data_figures_without_paths(capsys):
    assert main(["checkpoints", "--json"]) == 0
    out = capsys.readouterr().out
    listed = json.loads(out)
    infos = {c.name: c for c in checkpoints.list_shipped()}
    assert set(listed) == set(infos)
    for name, entry in listed.items():
        assert {"kind", "data", "figures"} <= set(entry)
        assert entry["kind"] == infos[name].kind
        numeric = {k: v for k, v in infos[name].figures.items() if not isinstance(v, str)}
        assert numeric.items() <= entry["figures"].items()
    for path in _absolute_paths_of_trainers():
        assert path not in out
    assert "run_dir" not in out


def test_checkpoints_never_imports_tensorflow():
    code = ("import sys; from gensuite.cli.main import main; main(['checkpoints']); "
            "main(['checkpoints', '--json']); "
            "assert not [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')]")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=False, timeout=120)
    assert result.returncode == 0, result.stderr


def test_library_warning_is_one_line_without_its_source(capsys, monkeypatch):
    def warn_and_list(args):
        warnings.warn("first part\n  second part", UserWarning)
        return 0

    monkeypatch.setattr(checkpoints_cli, "run", warn_and_list)
    assert main(["checkpoints"]) == 0
    err = capsys.readouterr().err
    assert err == "gensuite checkpoints: warning: first part second part\n"


@pytest.mark.slow
def test_error_after_tensorflow_started_is_still_one_line(tmp_path):
    """TensorFlow and absl print at start-up from C++; none of it may reach the user."""
    folder = tmp_path / "model"
    shutil.copytree(checkpoints.resolve_checkpoint("mel_2bar").path, folder)
    weights = folder / "model.weights.h5"
    weights.write_bytes(weights.read_bytes()[:1000])
    result = subprocess.run(
        [sys.executable, "-m", "gensuite", "vae", "sample", "--checkpoint", str(folder),
         "--out", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=300, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "0"})
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(f"gensuite vae: error: {weights}: unreadable or mismatched "
                                    f"weights (")
    assert not (tmp_path / "out").exists()
