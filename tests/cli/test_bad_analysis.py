"""Bad input of ``gensuite analyze``: NaN audio and corrupt embedding indexes.

One line on stderr naming the file and the rule it broke, exit 2, nothing
written. The valid index is built once with the shipped instrument_cnn; each
corrupt variant is rewritten from it with numpy, so those cases fail on load,
before any model runs.
"""

from __future__ import annotations

import copy
import json
import os
import shutil

import numpy as np
import pytest
import soundfile

from gensuite.analysis.model import AudioClassifier
from gensuite.analysis.search import build_index
from tests.analysis.test_features import sine
from tests.cli_run import assert_one_line_error, run

CHECKPOINT = "instrument_cnn"
RATE = 16000


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    """Two tones and their index: (folder, index vectors, index metadata)."""
    folder = tmp_path_factory.mktemp("library")
    for name, hz in (("low.wav", 220.0), ("high.wav", 880.0)):
        soundfile.write(folder / name, sine(hz, 3.0), RATE)
    index_path = tmp_path_factory.mktemp("index") / "library.npz"
    build_index(AudioClassifier.load(CHECKPOINT), folder).save(index_path)
    with np.load(index_path, allow_pickle=False) as data:
        return folder, data["vectors"], json.loads(str(data["meta"]))


@pytest.fixture
def paths(tmp_path, library):
    """Placeholders of the tables -> real paths: good and bad WAVs, the valid index."""
    folder, vectors, meta = library
    shutil.copy(folder / "high.wav", tmp_path / "Q.wav")
    _write_float_wav(tmp_path / "NAN.wav", np.full(3 * RATE, np.nan, np.float32))
    _write_float_wav(tmp_path / "INF.wav", _with_sample(sine(440.0, 3.0), np.inf))
    _write_float_wav(tmp_path / "HUGE.wav", sine(440.0, 3.0, amplitude=1e30))
    np.savez(tmp_path / "GOOD.npz", **_arrays(vectors, meta))
    (tmp_path / "nans").mkdir()
    shutil.copy(tmp_path / "NAN.wav", tmp_path / "nans" / "NAN.wav")
    (tmp_path / "mixed").mkdir()
    shutil.copy(tmp_path / "NAN.wav", tmp_path / "mixed" / "NAN.wav")
    shutil.copy(tmp_path / "Q.wav", tmp_path / "mixed" / "Q.wav")
    return {name: str(tmp_path / name) for name in
            ("Q.wav", "NAN.wav", "INF.wav", "HUGE.wav", "GOOD.npz", "IDX.npz", "nans", "mixed",
             "new.npz")}


def _write_float_wav(path, wave):
    # 32-bit float WAV: the only common format that can store NaN and inf.
    soundfile.write(path, wave, RATE, subtype="FLOAT")


def _with_sample(wave, value):
    wave = wave.copy()
    wave[len(wave) // 2] = value
    return wave


def _arrays(vectors, meta):
    """The members of an index ``.npz`` as :meth:`EmbeddingIndex.save` writes them."""
    return {"vectors": vectors, "meta": np.array(json.dumps(meta))}


AUDIO_CASES = [
    pytest.param(["analyze", "classify", "NAN.wav", "--checkpoint", CHECKPOINT],
                 "NAN.wav: holds NaN or infinite samples", id="classify-nan"),
    pytest.param(["analyze", "classify", "INF.wav", "--checkpoint", CHECKPOINT],
                 "INF.wav: holds NaN or infinite samples", id="classify-one-inf-sample"),
    pytest.param(["analyze", "classify", "NAN.wav", "--checkpoint", CHECKPOINT, "--stream",
                  "--speed", "0"],
                 "NAN.wav: holds NaN or infinite samples", id="classify-stream-nan"),
    pytest.param(["analyze", "classify", "HUGE.wav", "--checkpoint", CHECKPOINT],
                 "HUGE.wav: samples reach 1e+30, far beyond full scale (1); at most 1e+06 "
                 "is accepted", id="classify-huge-samples"),
    pytest.param(["analyze", "similar", "NAN.wav", "--index", "GOOD.npz"],
                 "NAN.wav: holds NaN or infinite samples", id="similar-nan-query"),
]


@pytest.mark.parametrize(("argv", "fragment"), AUDIO_CASES)
def test_nan_audio_is_refused(capsys, tmp_path, paths, argv, fragment):
    before = _listing(tmp_path)
    code, _, err = run(capsys, *(paths.get(a, a) for a in argv))
    assert_one_line_error(code, err, _with_paths(fragment, paths))
    assert "Traceback" not in err
    assert _listing(tmp_path) == before


def test_index_skips_nan_files_with_a_report(capsys, paths):
    code, out, err = run(capsys, "analyze", "index", paths["mixed"], "--checkpoint", CHECKPOINT,
                         "--out", paths["new.npz"])
    assert code == 0 and "indexed 1 tracks" in out and "skipped 1" in out
    nan_file = os.path.join(paths["mixed"], "NAN.wav")
    assert err.strip() == f"skipped {nan_file}: holds NaN or infinite samples"
    with np.load(paths["new.npz"], allow_pickle=False) as data:
        assert [item["file"] for item in json.loads(str(data["meta"]))["items"]] == ["Q.wav"]


def test_index_of_only_nan_files_reports_them_then_fails(capsys, tmp_path, paths):
    before = _listing(tmp_path)
    code, _, err = run(capsys, "analyze", "index", paths["nans"], "--checkpoint", CHECKPOINT,
                       "--out", paths["new.npz"])
    # Like any file `index` cannot use: one line per skipped file, then the error.
    skipped, error = err.strip().splitlines()
    nan_file = os.path.join(paths["nans"], "NAN.wav")
    assert skipped == f"skipped {nan_file}: holds NaN or infinite samples"
    assert_one_line_error(code, error, f"{paths['nans']}: no usable audio file among 1 found")
    assert _listing(tmp_path) == before


def test_a_valid_index_answers(capsys, paths):
    code, out, err = run(capsys, "analyze", "similar", paths["Q.wav"], "--index",
                         paths["GOOD.npz"], "--top-k", "2", "--include-self")
    assert code == 0, err
    lines = out.strip().splitlines()
    assert lines[0] == "1. +1.0000  high.wav"  # Q.wav is a copy of high.wav
    assert lines[1].endswith("  low.wav")


def _nan_vector(vectors, meta):
    vectors = vectors.copy()
    vectors[1, 3] = np.nan
    return _arrays(vectors, meta)


def _inf_vector(vectors, meta):
    vectors = vectors.copy()
    vectors[0, 0] = -np.inf
    return _arrays(vectors, meta)


def _meta_edit(keys, value):
    """A corruption that sets one metadata field; ``keys`` walks objects and lists."""
    def corrupt(vectors, meta):
        *parents, last = keys
        target = meta
        for key in parents:
            target = target[key]
        target[last] = value
        return _arrays(vectors, meta)
    return corrupt


def _meta_deletion(keys):
    """A corruption that removes one metadata field."""
    def corrupt(vectors, meta):
        *parents, last = keys
        target = meta
        for key in parents:
            target = target[key]
        del target[last]
        return _arrays(vectors, meta)
    return corrupt


# Fragments write the embedding width as <d> (and twice it as <2d>): it is the
# shipped checkpoint's.
INDEX_CASES = [
    # Vectors: finite, 2-D floats, one row per track.
    pytest.param(_nan_vector, "vectors hold NaN or infinite values", id="nan-vector"),
    pytest.param(_inf_vector, "vectors hold NaN or infinite values", id="inf-vector"),
    pytest.param(lambda v, m: _arrays(v.ravel(), m),
                 "vectors must be a 2-D array (tracks x embedding), got shape (<2d>,)",
                 id="vectors-1d"),
    pytest.param(lambda v, m: _arrays(v[:, :, None], m),
                 "vectors must be a 2-D array (tracks x embedding), got shape (2, <d>, 1)",
                 id="vectors-3d"),
    pytest.param(lambda v, m: _arrays(v[:1], m),
                 "vectors of shape (1, <d>) for 2 tracks: one row per track expected; "
                 "rebuild the index", id="fewer-vectors-than-tracks"),
    pytest.param(lambda v, m: _arrays(np.concatenate([v, v]), m),
                 "vectors of shape (4, <d>) for 2 tracks", id="more-vectors-than-tracks"),
    pytest.param(lambda v, m: _arrays(v[:, :64], m),
                 "vectors are 64-d, but the checkpoint's embeddings are <d>-d; rebuild the "
                 "index", id="vectors-of-another-width"),
    pytest.param(lambda v, m: _arrays(np.ones(v.shape, np.int64), m),
                 "vectors must be floating point, got int64", id="vectors-int"),
    pytest.param(lambda v, m: _arrays(v.astype(str), m),
                 "vectors must be floating point, got <U", id="vectors-text"),
    pytest.param(lambda v, m: _arrays(v.astype(object), m),
                 "not a gensuite embedding index ('vectors' array: Object arrays cannot be "
                 "loaded when allow_pickle=False)", id="vectors-object"),
    # Arrays missing, meta not one JSON text.
    pytest.param(lambda v, m: {"meta": _arrays(v, m)["meta"]},
                 "not a gensuite embedding index (no 'vectors' array)", id="no-vectors"),
    pytest.param(lambda v, m: {"vectors": v},
                 "not a gensuite embedding index (no 'meta' array)", id="no-meta"),
    pytest.param(lambda v, m: {"vectors": v, "meta": np.array(5.0)},
                 "meta must be one JSON text, got a float64 array of shape ()", id="meta-number"),
    pytest.param(lambda v, m: {"vectors": v, "meta": np.array([json.dumps(m)])},
                 "meta must be one JSON text, got a <U", id="meta-1d"),
    pytest.param(lambda v, m: {"vectors": v, "meta": np.array(json.dumps(m).encode())},
                 "meta must be one JSON text, got a |S", id="meta-bytes"),
    pytest.param(lambda v, m: {"vectors": v, "meta": np.array(json.dumps(m)[:-1])},
                 "meta is not JSON (", id="meta-truncated-json"),
    pytest.param(lambda v, m: {"vectors": v, "meta": np.array("[1, 2]")},
                 "not a gensuite embedding index (no format marker)", id="meta-a-list"),
    pytest.param(_meta_edit(["version"], 99), "index version 99 is not 1; rebuild it",
                 id="meta-version"),
    pytest.param(_meta_edit(["created"], 5), "meta: 'created' must be a string, got 5",
                 id="meta-created-number"),
    # Items: a non-empty list of objects with string file and path.
    pytest.param(_meta_edit(["items"], "low.wav"),
                 "meta: 'items' must be a non-empty list of tracks, got \"low.wav\"",
                 id="items-a-string"),
    pytest.param(_meta_deletion(["items"]),
                 "meta: 'items' must be a non-empty list of tracks, got null", id="no-items"),
    pytest.param(lambda v, m: _meta_edit(["items"], [])(v[:0], m),
                 "meta: 'items' must be a non-empty list of tracks, got []", id="items-empty"),
    pytest.param(_meta_edit(["items", 1], "high.wav"),
                 "meta: items[1] must be an object, got \"high.wav\"", id="item-a-string"),
    pytest.param(_meta_edit(["items", 0, "file"], 7),
                 "meta: items[0]: 'file' must be a string, got 7", id="item-file-number"),
    pytest.param(_meta_edit(["items", 1, "path"], None),
                 "meta: items[1]: 'path' must be a string, got null", id="item-path-null"),
    pytest.param(_meta_deletion(["items", 0, "file"]), "meta: items[0] has no 'file'",
                 id="item-without-file"),
    pytest.param(_meta_edit(["items", 0, "tags"], [1, 2]),
                 "meta: items[0]: 'tags' must be a list of strings, got [1, 2]",
                 id="item-tags-numbers"),
    pytest.param(_meta_edit(["items", 0, "duration_s"], "3 s"),
                 "meta: items[0]: 'duration_s' must be a finite number, got \"3 s\"",
                 id="item-duration-text"),
    pytest.param(_meta_edit(["items", 0, "duration_s"], float("nan")),
                 "meta: items[0]: 'duration_s' must be a finite number, got NaN",
                 id="item-duration-nan"),
    pytest.param(_meta_edit(["items", 0, "composition"], {"piano": "most"}),
                 "meta: items[0]: 'composition' must be an object of class name -> finite "
                 "number, got {\"piano\": \"most\"}", id="item-composition-text"),
    # Checkpoint: an object naming the model and its weights.
    pytest.param(_meta_edit(["checkpoint"], CHECKPOINT),
                 f"meta: checkpoint must be an object, got \"{CHECKPOINT}\"",
                 id="checkpoint-a-string"),
    pytest.param(_meta_edit(["checkpoint", "fingerprint"], 123),
                 "meta: checkpoint: 'fingerprint' must be a string, got 123",
                 id="checkpoint-fingerprint-number"),
    pytest.param(_meta_deletion(["checkpoint", "name"]), "meta: checkpoint has no 'name'",
                 id="checkpoint-without-name"),
    pytest.param(_meta_edit(["checkpoint", "class_names"], "piano"),
                 "meta: checkpoint: 'class_names' must be a list of strings, got \"piano\"",
                 id="checkpoint-class-names-text"),
    pytest.param(_meta_edit(["checkpoint", "embedding_size"], 12.5),
                 "meta: checkpoint: 'embedding_size' must be a positive integer, got 12.5",
                 id="checkpoint-embedding-size-float"),
]


@pytest.mark.parametrize(("corrupt", "fragment"), INDEX_CASES)
def test_corrupt_index_is_refused_on_load(capsys, tmp_path, library, paths, corrupt, fragment):
    _, vectors, meta = library
    np.savez(paths["IDX.npz"], **corrupt(vectors.copy(), copy.deepcopy(meta)))
    before = _listing(tmp_path)
    code, _, err = run(capsys, "analyze", "similar", paths["Q.wav"], "--index", paths["IDX.npz"])
    width = vectors.shape[1]
    fragment = fragment.replace("<2d>", str(2 * width)).replace("<d>", str(width))
    assert_one_line_error(code, err, f"{paths['IDX.npz']}: {fragment}")
    assert "Traceback" not in err
    assert _listing(tmp_path) == before


def _listing(folder) -> list[str]:
    return sorted(os.path.relpath(os.path.join(root, name), folder)
                  for root, dirs, files in os.walk(folder) for name in dirs + files)


def _with_paths(fragment: str, paths: dict) -> str:
    # The error names the path as given; the table writes placeholders.
    for name, path in paths.items():
        if fragment.startswith(f"{name}:"):
            return path + fragment[len(name):]
    return fragment
