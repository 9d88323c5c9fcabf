"""One writer per output: a second command on a locked output is refused, a dead holder's lock is free."""

from __future__ import annotations

import subprocess
import sys

import pytest

from gensuite.common.errors import InputFileError
from gensuite.common.locks import lock_file_for, output_lock
from tests.cli_run import assert_one_line_error, run

HOLD = """
import sys, time
from gensuite.common.locks import output_lock
with output_lock(sys.argv[1], flag="--run-dir", holder="gensuite vae train"):
    print("locked", flush=True)
    time.sleep(60)
"""


@pytest.fixture
def holder(tmp_path):
    """A process holding the lock of tmp_path/run; killed at the end."""
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path / "run")],
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "locked"
    yield process
    process.kill()
    process.wait()


def test_second_writer_is_refused_naming_the_holder(holder, tmp_path):
    with pytest.raises(InputFileError, match=rf"--run-dir is in use by pid {holder.pid} "
                                             r"\(gensuite vae train\)"):
        with output_lock(tmp_path / "run", flag="--run-dir", holder="test"):
            pass


def test_trainer_on_a_locked_run_folder_exits_2_and_writes_nothing(capsys, holder, tmp_path):
    (tmp_path / "midis").mkdir()
    code, _, err = run(capsys, "vae", "train", "--config", "tiny-mel_2bar", "--midi-dir",
                       tmp_path / "midis", "--run-dir", tmp_path / "run")
    assert_one_line_error(code, err, f"{tmp_path / 'run'}: --run-dir is in use by pid "
                                     f"{holder.pid}")
    assert not (tmp_path / "run").exists()


def test_lock_of_a_killed_holder_is_free(holder, tmp_path):
    holder.kill()
    holder.wait()
    with output_lock(tmp_path / "run", flag="--run-dir", holder="test"):
        pass


def test_every_spelling_of_a_path_shares_one_lock(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert lock_file_for("run") == lock_file_for(tmp_path / "run") == lock_file_for("./x/../run")


def test_lock_is_held_in_the_block_and_released_after(tmp_path):
    with output_lock(tmp_path / "out", flag="--out", holder="a"):
        with pytest.raises(InputFileError, match="--out is in use by pid"):
            with output_lock(tmp_path / "out", flag="--out", holder="b"):
                pass
    with output_lock(tmp_path / "out", flag="--out", holder="b"):
        pass
