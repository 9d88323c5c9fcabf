"""Embedding index: exact cosine top-k, tag filters, save/load, checkpoint identity, faiss."""

from __future__ import annotations

import numpy as np
import pytest

from gensuite.analysis.search import (
    ApproximateIndex,
    CheckpointMismatchError,
    EmbeddingIndex,
    cosine_top_k,
    faiss_available,
    lookup_tags,
    normalize_rows,
    read_tags_csv,
    recall_at_k,
    tag_mask,
)
from gensuite.common.errors import InputFileError, ParameterError

VECTORS = np.array([[1.0, 0.0, 0.0],   # 0
                    [0.0, 2.0, 0.0],   # 1
                    [1.0, 1.0, 0.0],   # 2: 45 degrees from 0 and 1
                    [-1.0, 0.0, 0.0],  # 3: opposite of 0
                    [0.0, 0.0, 5.0]])  # 4


def make_index():
    items = [{"file": f"t{i}.wav", "path": f"/music/t{i}.wav", "tags": tags}
             for i, tags in enumerate([["piano"], ["synth"], ["piano", "live"], ["piano"], []])]
    return EmbeddingIndex(vectors=VECTORS, items=items,
                          checkpoint={"name": "instrument_cnn", "fingerprint": "abc123"})


def test_exact_top_k_on_hand_built_vectors():
    vectors = normalize_rows(VECTORS)
    indices, scores = cosine_top_k(vectors, np.array([2.0, 0.1, 0.0]), top_k=3)
    assert indices.tolist() == [[0, 2, 1]]
    expected = [2 / np.hypot(2, 0.1), 2.1 / np.hypot(2, 0.1) / np.sqrt(2), 0.1 / np.hypot(2, 0.1)]
    np.testing.assert_allclose(scores[0], expected, rtol=1e-5)
    indices, scores = cosine_top_k(vectors, np.array([[-1.0, 0, 0], [0, 0, 1.0]]), top_k=1)
    assert indices.tolist() == [[3], [4]]
    np.testing.assert_allclose(scores, [[1.0], [1.0]])
    indices, _ = cosine_top_k(vectors, np.array([1.0, 0, 0]), top_k=10)
    assert indices.tolist() == [[0, 2, 1, 4, 3]]  # all of them, the opposite last
    with pytest.raises(ParameterError, match="top_k: must be >= 1"):
        cosine_top_k(vectors, np.ones(3), top_k=0)


def test_candidates_restrict_the_search():
    vectors = normalize_rows(VECTORS)
    allowed = np.array([False, True, False, True, True])
    indices, _ = cosine_top_k(vectors, np.array([1.0, 0.1, 0]), top_k=2, candidates=allowed)
    assert indices.tolist() == [[1, 4]]
    indices, scores = cosine_top_k(vectors, np.ones(3), top_k=2, candidates=np.zeros(5, bool))
    assert indices.shape == (1, 0) and scores.shape == (1, 0)


def test_index_search_with_tag_filters_and_self_exclusion():
    index = make_index()
    assert [m.item["file"] for m in index.search(np.array([1.0, 0.2, 0]), top_k=2)] == \
        ["t0.wav", "t2.wav"]
    hits = index.search(np.array([0.0, 1.0, 0]), top_k=3, tags=["PIANO"])
    assert [m.item["file"] for m in hits] == ["t2.wav", "t0.wav", "t3.wav"]
    assert [m.rank for m in hits] == [1, 2, 3]
    assert [m.item["file"] for m in index.search(np.array([0.0, 1.0, 0]), top_k=3,
                                                 tags=["piano", "live"])] == ["t2.wav"]
    assert index.search(np.ones(3), top_k=3, tags=["drums"]) == []
    hits = index.search(np.array([1.0, 0, 0]), top_k=1, exclude_paths=["/music/t0.wav"])
    assert hits[0].item["file"] == "t2.wav"
    with pytest.raises(ParameterError, match="query: must be an embedding of 3 values"):
        index.search(np.ones(4))
    assert tag_mask(index.items, ["piano"]).tolist() == [True, False, True, True, False]


def test_index_round_trips_through_one_npz_file(tmp_path):
    index = make_index()
    index.save(tmp_path / "library.index")
    loaded = EmbeddingIndex.load(tmp_path / "library.index")
    np.testing.assert_allclose(loaded.vectors, normalize_rows(VECTORS))
    assert loaded.items == index.items and loaded.checkpoint == index.checkpoint
    assert sorted(p.name for p in tmp_path.iterdir()) == ["library.index"]


def test_an_index_of_another_checkpoint_is_a_clear_error():
    index = make_index()
    index.check_model(fingerprint="abc123")
    with pytest.raises(CheckpointMismatchError,
                       match=r"index built with checkpoint 'instrument_cnn' \(weights abc123\), "
                             r"but the query model 'my_cnn' has weights ffff"):
        index.check_model(fingerprint="ffff", name="my_cnn")


def test_files_that_are_not_indexes_are_clear_errors(tmp_path):
    with pytest.raises(InputFileError, match="no such index file"):
        EmbeddingIndex.load(tmp_path / "none.npz")
    (tmp_path / "bad.npz").write_bytes(b"not numpy")
    with pytest.raises(InputFileError, match="not a gensuite embedding index"):
        EmbeddingIndex.load(tmp_path / "bad.npz")
    np.savez(tmp_path / "other.npz", vectors=np.ones((2, 2)), meta=np.array("{}"))
    with pytest.raises(InputFileError, match="no format marker"):
        EmbeddingIndex.load(tmp_path / "other.npz")


def test_tags_csv_columns_become_tags_and_match_paths_below_the_csv(tmp_path):
    csv_path = tmp_path / "tags.csv"
    csv_path.write_text("file,label,split,tags,start_s\n"
                        "audio/piano/a.wav,piano,train,calm;slow,12.5\n"
                        "b.wav,synth,,,0\n")
    tags = read_tags_csv(csv_path)
    assert tags == {"audio/piano/a.wav": ["piano", "train", "calm", "slow"], "b.wav": ["synth"]}
    assert lookup_tags(tags, "piano/a.wav") == ["piano", "train", "calm", "slow"]
    assert lookup_tags(tags, "b.wav") == ["synth"]
    assert lookup_tags(tags, "a.wav") == ["piano", "train", "calm", "slow"]
    assert lookup_tags(tags, "c.wav") == []
    (tmp_path / "bad.csv").write_text("name,label\nx,y\n")
    with pytest.raises(InputFileError, match="needs a header with a 'file' column"):
        read_tags_csv(tmp_path / "bad.csv")


def test_recall_at_k_counts_shared_results():
    assert recall_at_k(np.array([[1, 2, 3], [4, 5, 6]]), np.array([[3, 2, 1], [4, 9, 8]])) == \
        pytest.approx((1.0 + 1 / 3) / 2)


@pytest.mark.skipif(not faiss_available(), reason="faiss-cpu not installed")
def test_approximate_index_finds_the_exact_neighbours_of_clustered_vectors():
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((20, 16))
    vectors = normalize_rows(centres[rng.integers(0, 20, 2000)]
                             + 0.3 * rng.standard_normal((2000, 16)))
    queries = normalize_rows(centres[:10] + 0.3 * rng.standard_normal((10, 16)))
    approximate = ApproximateIndex(vectors)
    found, scores = approximate.search(queries, top_k=10)
    exact, exact_scores = cosine_top_k(vectors, queries, top_k=10)
    assert recall_at_k(found, exact) >= 0.9
    np.testing.assert_allclose(scores[:, 0], exact_scores[:, 0], atol=1e-5)
