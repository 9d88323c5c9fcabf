"""The persistent note cache: round trip, keys, corrupt files, concurrent writers, size bound."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np
import pytest

from gensuite.audio.note_cache import (
    FORMAT,
    NoteCache,
    default_cache_dir,
    identity_of_arrays,
    identity_of_files,
)
from gensuite.common.errors import ParameterError

N_SAMPLES = 4096
MODEL_A, MODEL_B = "a" * 32, "b" * 32  # identities are 32 hex digits


def _latent(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(8).astype(np.float32)


def _wave(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1, 1, N_SAMPLES).astype(np.float32)


@pytest.fixture
def cache(tmp_path):
    return NoteCache(tmp_path / "notes", identity=MODEL_A, n_samples=N_SAMPLES)


def test_round_trip_is_exact_and_keyed_by_model_pitch_and_latent_bytes(tmp_path, cache):
    z, wave = _latent(0), _wave(0)
    assert cache.get(60, z) is None and not cache.has(60, z)
    assert cache.put(60, z, wave)
    got = cache.get(60, z)
    assert got.dtype == np.float32 and got.flags.writeable
    np.testing.assert_array_equal(got, wave)
    assert cache.bytes_written == len(FORMAT) + 32 + 4 * N_SAMPLES
    # Another pitch, a latent one ulp away, or another model: misses.
    assert cache.get(61, z) is None
    assert cache.get(60, np.nextafter(z, np.inf, dtype=np.float32)) is None
    assert NoteCache(tmp_path / "notes", identity=MODEL_B,
                     n_samples=N_SAMPLES).get(60, z) is None
    # The same latent as float64 is the same key (its float32 bytes).
    np.testing.assert_array_equal(cache.get(60, z.astype(np.float64)), wave)


def test_a_wave_of_the_wrong_shape_is_refused(cache):
    with pytest.raises(ParameterError, match=r"wave: expected shape \(4096,\)"):
        cache.put(60, _latent(0), np.zeros(100, dtype=np.float32))


@pytest.mark.parametrize("damage", ["truncated", "flipped", "garbage", "too long", "empty",
                                    "other length"])
def test_a_corrupt_or_wrong_shaped_file_is_a_miss_and_is_rewritten(tmp_path, cache, damage):
    z, wave = _latent(1), _wave(1)
    cache.put(60, z, wave)
    path = cache.path(60, z)
    with open(path, "rb") as f:
        data = f.read()
    damaged = {
        "truncated": data[:-7],
        "flipped": data[:100] + bytes([data[100] ^ 1]) + data[101:],
        "garbage": os.urandom(len(data)),
        "too long": data + b"\0",
        "empty": b"",
        "other length": None,
    }[damage]
    if damaged is None:  # a whole, valid note of another length, as another model writes
        NoteCache(tmp_path / "notes", identity=MODEL_A, n_samples=N_SAMPLES // 2).put(
            60, z, wave[:N_SAMPLES // 2])
    else:
        with open(path, "wb") as f:
            f.write(damaged)
    assert cache.has(60, z) and cache.get(60, z) is None
    assert cache.put(60, z, wave)
    np.testing.assert_array_equal(cache.get(60, z), wave)


def test_an_unwritable_cache_fails_softly(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    cache = NoteCache(tmp_path / "file", identity="m", n_samples=N_SAMPLES)
    assert cache.put(60, _latent(0), _wave(0)) is False
    assert cache.get(60, _latent(0)) is None and cache.bytes_written == 0


WRITER = """
import sys, time
import numpy as np
from gensuite.audio.note_cache import NoteCache
root, seed, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
cache = NoteCache(root, identity="a" * 32, n_samples=4096)
z = np.random.default_rng(0).standard_normal(8).astype(np.float32)
wave = np.random.default_rng(seed).uniform(-1, 1, 4096).astype(np.float32)
end = time.monotonic() + seconds
n = 0
while time.monotonic() < end:
    assert cache.put(60, z, wave)
    n += 1
print(n)
"""


def test_concurrent_writers_of_one_note_never_show_half_a_file(tmp_path, cache):
    """Two processes rewrite one note while this one reads it: every read is a whole note.

    Once a note exists, a reader must always find one of the two whole
    versions; a writer that wrote in place would show a truncated file (a miss).
    """
    z = _latent(0)
    waves = {seed: _wave(seed) for seed in (11, 12)}
    cache.put(60, z, waves[11])
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = {**os.environ, "PYTHONPATH": repo}
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(cache.root), str(seed), "2.0"],
                                stdout=subprocess.PIPE, text=True, env=env)
               for seed in waves]
    seen, reads = set(), 0
    while any(w.poll() is None for w in writers):
        got = cache.get(60, z)
        assert got is not None, "a reader saw a missing or partial note"
        seen.add(next(seed for seed, wave in waves.items() if np.array_equal(got, wave)))
        reads += 1
    counts = [int(w.communicate()[0]) for w in writers]
    assert all(w.returncode == 0 for w in writers)
    assert min(counts) > 10 and reads > 10, (counts, reads)
    assert seen == {11, 12}  # both writers' versions were read: they really overlapped
    assert sorted(os.listdir(cache.folder)) == [os.path.basename(cache.path(60, z))]


def test_prune_removes_least_recently_used_first_and_dead_writers_temp_files(tmp_path):
    root = tmp_path / "notes"
    note_bytes = len(FORMAT) + 32 + 4 * N_SAMPLES
    cache = NoteCache(root, identity=MODEL_A, n_samples=N_SAMPLES, max_bytes=3 * note_bytes)
    other = NoteCache(root, identity=MODEL_B, n_samples=N_SAMPLES)
    now = time.time()
    for i in range(4):
        cache.put(60 + i, _latent(i), _wave(i))
        os.utime(cache.path(60 + i, _latent(i)), (now - 100 + i, now - 100 + i))
    other.put(60, _latent(9), _wave(9))
    os.utime(other.path(60, _latent(9)), (now - 50, now - 50))
    cache.get(60, _latent(0))  # a hit: the oldest becomes the most recent
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    orphan = os.path.join(cache.folder, f".61-x.note.{dead}-abcdefgh.tmp")
    open(orphan, "wb").close()
    # A --cache-dir may name a folder of the user's: nothing but notes is removed.
    mine = [root / "old.note", root / "music" / "0-" f"{'c' * 32}.note"]
    mine[1].parent.mkdir()
    for path in mine:
        path.write_bytes(b"\0" * 10 * note_bytes)
        os.utime(path, (0, 0))
    # Five notes over the bound of three: the two least recently used go, across models.
    assert cache.prune() == 2
    assert not os.path.exists(orphan)
    assert all(path.exists() for path in mine)
    assert [cache.has(60 + i, _latent(i)) for i in range(4)] == [True, False, False, True]
    assert other.has(60, _latent(9))
    assert cache.prune() == 0


def test_identity_follows_every_byte_of_the_model(tmp_path):
    weights, config = tmp_path / "w", tmp_path / "c"
    weights.write_bytes(b"\0" * 1000)
    config.write_text("{}")
    first = identity_of_files([weights, config])
    assert identity_of_files([weights, config]) == first
    weights.write_bytes(b"\0" * 999 + b"\1")
    assert identity_of_files([weights, config]) != first
    a = [np.zeros((2, 3), np.float32)]
    assert identity_of_arrays(description=b"x", arrays=a) == identity_of_arrays(
        description=b"x", arrays=[np.zeros((2, 3), np.float32)])
    assert identity_of_arrays(description=b"x", arrays=a) != identity_of_arrays(
        description=b"x", arrays=[np.zeros((3, 2), np.float32)])
    assert identity_of_arrays(description=b"x", arrays=a) != identity_of_arrays(
        description=b"y", arrays=a)


def test_default_cache_dir_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_dir() == os.path.join(tmp_path, "gensuite", "notes")
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == os.path.join(tmp_path, "home", ".cache", "gensuite", "notes")
