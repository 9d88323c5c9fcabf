"""Atomic writes leave nothing half-written, and what a killed writer left is cleared."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from gensuite.common.fileio import atomic_path, remove_orphan_temp_files, write_text_atomic


def _dead_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_temporary_name_carries_the_writer_pid(tmp_path):
    with atomic_path(tmp_path / "song.wav", suffix=".wav") as tmp:
        name = os.path.basename(tmp)
        assert name.startswith(f".song.wav.{os.getpid()}-") and name.endswith(".wav")
        open(tmp, "w").close()
    assert os.listdir(tmp_path) == ["song.wav"]


def test_failed_block_leaves_the_old_file(tmp_path):
    write_text_atomic(tmp_path / "a.txt", "old")
    with pytest.raises(RuntimeError), atomic_path(tmp_path / "a.txt") as tmp:
        open(tmp, "w").write("half")
        raise RuntimeError
    assert os.listdir(tmp_path) == ["a.txt"]
    assert (tmp_path / "a.txt").read_text() == "old"


def test_orphans_of_dead_writers_are_removed_live_ones_kept(tmp_path):
    dead = _dead_pid()
    orphan = tmp_path / f".long.wav.{dead}-abcd1234.wav"
    live = tmp_path / f".long.wav.{os.getpid()}-efgh5678.wav"
    other_output = tmp_path / f".other.wav.{dead}-ijkl9012.wav"
    user_file = tmp_path / ".long.wav.notes"
    for path in (orphan, live, other_output, user_file):
        path.write_bytes(b"x")
    assert remove_orphan_temp_files(tmp_path / "long.wav") == [str(orphan)]
    assert sorted(os.listdir(tmp_path)) == sorted(
        p.name for p in (live, other_output, user_file))


def test_orphans_in_an_output_folder_are_removed_two_levels_deep(tmp_path):
    dead = _dead_pid()
    (tmp_path / "export" / "bottom" / "deeper").mkdir(parents=True)
    orphan = tmp_path / "export" / "bottom" / f".model.weights.h5.{dead}-abcd1234.weights.h5"
    too_deep = tmp_path / "export" / "bottom" / "deeper" / f".a.wav.{dead}-abcd1234.wav"
    not_ours = tmp_path / f".notes.{dead}-abcd1234.txt"  # a suffix atomic_path never uses
    for path in (orphan, too_deep, not_ours):
        path.write_bytes(b"x")
    (tmp_path / "metrics.jsonl").write_text("{}\n")
    assert remove_orphan_temp_files(tmp_path) == [str(orphan)]
    assert too_deep.exists() and not_ours.exists()


def test_missing_output_is_nothing_to_clean(tmp_path):
    assert remove_orphan_temp_files(tmp_path / "absent" / "x.wav") == []
