"""The command-line frame: one-line errors, exit codes, checkpoint lookup."""

import json
import subprocess
import sys

import pytest

from gensuite import checkpoints
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


def test_error_after_tensorflow_import_is_still_one_line(tmp_path):
    """``demo`` preloads TensorFlow; its start-up banner must not reach stderr."""
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
