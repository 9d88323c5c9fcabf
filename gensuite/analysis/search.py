"""Similar-track search: an index of track embeddings, cosine top-k with tag filters.

An :class:`EmbeddingIndex` holds one unit-length embedding per track (the
mean of its window embeddings, :attr:`gensuite.analysis.classification.TrackAnalysis.embedding`),
the track's metadata (file, duration, tags, composition) and the identity of
the classifier that made the vectors. It is one ``.npz`` file (no pickles),
written atomically. Vectors of one model mean nothing to another, so
searching with a model whose fingerprint differs is an error.

Exact search is one matrix product and a partial sort in numpy; at 100,000
vectors it answers a single query in milliseconds (``benchmarks/search.py``).
:class:`ApproximateIndex` wraps a faiss HNSW graph for larger libraries when
faiss-cpu is installed (optional).
"""

from __future__ import annotations

import csv
import dataclasses
import importlib.util
import io
import json
import math
import os
import time
import zipfile

import numpy as np

from gensuite.common.errors import (
    CheckpointMismatchError,
    GensuiteError,
    InputFileError,
    ParameterError,
)
from gensuite.common.fileio import atomic_path

INDEX_FORMAT = "gensuite-embedding-index"
INDEX_VERSION = 1
TAG_SEPARATOR = ";"


def normalize_rows(vectors: np.ndarray) -> np.ndarray:
    """Scale each row to unit length (zero rows stay zero), float32 (n, d)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)


def cosine_top_k(vectors: np.ndarray, queries: np.ndarray, *, top_k: int,
                 candidates: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Exact cosine top-k of unit-length ``vectors`` (n, d) for ``queries`` (q, d).

    Parameters
    ----------
    vectors : np.ndarray, float32 (n, d)
        Unit rows (:func:`normalize_rows`).
    queries : np.ndarray, (q, d) or (d,)
        Normalised here.
    top_k : int
        Results per query (fewer when fewer vectors qualify).
    candidates : np.ndarray of bool (n,), optional
        Only these rows may be returned (tag filters).

    Returns
    -------
    indices : np.ndarray, int64 (q, k)
        Row numbers, best first.
    scores : np.ndarray, float32 (q, k)
        Cosine similarities in [-1, 1].
    """
    if top_k < 1:
        raise ParameterError(f"top_k: must be >= 1, got {top_k}")
    queries = normalize_rows(np.atleast_2d(queries))
    rows = np.arange(len(vectors)) if candidates is None else np.flatnonzero(candidates)
    k = min(int(top_k), len(rows))
    if k == 0:
        return np.zeros((len(queries), 0), np.int64), np.zeros((len(queries), 0), np.float32)
    subset = vectors if candidates is None else vectors[rows]
    scores = queries @ subset.T
    best = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    best_scores = np.take_along_axis(scores, best, axis=1)
    order = np.argsort(-best_scores, axis=1, kind="stable")
    best = np.take_along_axis(best, order, axis=1)
    return rows[best].astype(np.int64), np.take_along_axis(best_scores, order, axis=1)


def tag_mask(items: list[dict], tags) -> np.ndarray:
    """Rows whose tags include every one of ``tags`` (case-insensitive), bool (n,)."""
    wanted = {t.strip().lower() for t in tags if t.strip()}
    return np.array([wanted <= {t.lower() for t in item.get("tags", ())} for item in items],
                    dtype=bool)


def read_tags_csv(path: str | os.PathLike) -> dict[str, list[str]]:
    """File (relative path) -> tags, from a CSV with a ``file`` column.

    Every other column's non-empty, non-numeric value is a tag (a ``tags``
    column may hold several, separated by ``;``), so the ``manifest.csv`` of
    a data folder works as a tags file: its label, split and source become
    tags.

    Raises
    ------
    InputFileError
        Missing file or no ``file`` column.
    """
    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f)
            if "file" not in (reader.fieldnames or ()):
                raise InputFileError(path, "tags CSV needs a header with a 'file' column")
            tags: dict[str, list[str]] = {}
            for row in reader:
                values = []
                for column, value in row.items():
                    if column in (None, "file") or not value:
                        continue
                    values.extend(v.strip() for v in str(value).split(TAG_SEPARATOR)
                                  if v.strip() and not _is_number(v))
                tags[os.path.normpath(row["file"])] = values
            return tags
    except FileNotFoundError:
        raise InputFileError(path, "no such tags file") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InputFileError(path, f"not a readable CSV ({exc})") from None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def lookup_tags(tags: dict[str, list[str]], relative: str) -> list[str]:
    """Tags of a file given relative to the indexed folder.

    The CSV's paths may be relative to that folder or to a folder above it
    (a data folder's ``manifest.csv`` names ``audio/<label>/<clip>.wav`` while
    ``DATA/audio`` is indexed): the longest CSV path ending with ``relative``
    wins.
    """
    relative = os.path.normpath(relative)
    if relative in tags:
        return list(tags[relative])
    suffix = os.sep + relative
    matches = [key for key in tags if key.endswith(suffix)]
    return list(tags[min(matches, key=len)]) if matches else []


@dataclasses.dataclass(frozen=True)
class Match:
    """One search result."""

    rank: int
    score: float
    item: dict  # the indexed track's metadata: file, path, duration_s, tags, ...


@dataclasses.dataclass
class EmbeddingIndex:
    """Track embeddings with their metadata and the classifier that made them.

    Attributes
    ----------
    vectors : np.ndarray, float32 (n, d)
        Unit-length rows.
    items : list of dict
        One per row: ``file`` (relative to the indexed folder), ``path``
        (absolute), ``duration_s``, ``tags`` (list), ``composition``.
    checkpoint : dict
        ``name`` (as given), ``fingerprint``, ``config`` name, ``class_names``.
    """

    vectors: np.ndarray
    items: list[dict]
    checkpoint: dict
    created: str = ""

    def __post_init__(self):
        self.vectors = normalize_rows(self.vectors).reshape(len(self.items), -1)

    def __len__(self) -> int:
        return len(self.items)

    def check_model(self, *, fingerprint: str, name: str = "") -> None:
        """Raise :class:`CheckpointMismatchError` unless ``fingerprint`` made this index."""
        if fingerprint != self.checkpoint.get("fingerprint"):
            raise CheckpointMismatchError(
                f"index built with checkpoint {self.checkpoint.get('name')!r} (weights "
                f"{self.checkpoint.get('fingerprint')}), but the query model {name!r} has "
                f"weights {fingerprint}: rebuild the index with `gensuite analyze index` "
                f"or query with the same checkpoint")

    def search(self, query: np.ndarray, *, top_k: int = 5, tags=(),
               exclude_paths=()) -> list[Match]:
        """The ``top_k`` tracks most similar (cosine) to one query embedding.

        Parameters
        ----------
        query : np.ndarray, (d,)
        tags : iterable of str
            Only tracks carrying all of them.
        exclude_paths : iterable of str
            Absolute paths left out (e.g. the query file itself).
        """
        query = np.asarray(query, dtype=np.float32)
        if query.shape != (self.vectors.shape[1],):
            raise ParameterError(
                f"query: must be an embedding of {self.vectors.shape[1]} values, "
                f"got shape {query.shape}")
        mask = tag_mask(self.items, tags) if tags else np.ones(len(self), bool)
        excluded = {os.path.realpath(p) for p in exclude_paths}
        if excluded:
            mask &= np.array([os.path.realpath(i.get("path", "")) not in excluded
                              for i in self.items], dtype=bool)
        indices, scores = cosine_top_k(self.vectors, query, top_k=top_k, candidates=mask)
        return [Match(rank=r + 1, score=float(s), item=self.items[i])
                for r, (i, s) in enumerate(zip(indices[0], scores[0]))]

    def save(self, path: str | os.PathLike) -> None:
        """Write the index as one ``.npz`` file, atomically."""
        meta = {"format": INDEX_FORMAT, "version": INDEX_VERSION, "checkpoint": self.checkpoint,
                "items": self.items,
                "created": self.created or time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        buffer = io.BytesIO()
        np.savez(buffer, vectors=self.vectors, meta=np.array(json.dumps(meta)))
        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            f.write(buffer.getvalue())

    @classmethod
    def load(cls, path: str | os.PathLike) -> "EmbeddingIndex":
        """Read an index written by :meth:`save`, checking every part of it.

        Raises
        ------
        InputFileError
            Missing file, not a gensuite index, or an index whose arrays or
            metadata are malformed: a missing array, an object array, vectors
            not 2-D floats with one finite row per track, or metadata fields
            of the wrong type.
        """
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise InputFileError(
                path, "no such index file (make one with `gensuite analyze index`)")
        hint = "make one with `gensuite analyze index`"
        if os.path.getsize(path) == 0:
            raise InputFileError(path, f"is empty, not a gensuite embedding index ({hint})")
        with open(path, "rb") as f:
            is_zip = f.read(4) == b"PK\x03\x04"
        if not is_zip:
            raise InputFileError(
                path, f"not a gensuite embedding index (not an .npz archive; {hint})")
        vectors, meta = _read_index_arrays(path)
        meta = _parse_meta(path, meta)
        _check_vectors(path, vectors, n_items=len(meta["items"]),
                       embedding_size=meta["checkpoint"].get("embedding_size"))
        return cls(vectors=vectors, items=meta["items"], checkpoint=meta["checkpoint"],
                   created=meta.get("created", ""))


def _is_string(value) -> bool:
    return isinstance(value, str)


def _is_string_list(value) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _is_finite_number(value) -> bool:
    # bool is an int to Python, but true is no duration.
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _is_shares(value) -> bool:
    return isinstance(value, dict) and all(_is_finite_number(v) for v in value.values())


# (key, required, test, what it must be) of the metadata an index records.
_CHECKPOINT_FIELDS = (
    ("name", True, _is_string, "a string"),
    ("fingerprint", True, _is_string, "a string"),
    ("config", False, _is_string, "a string"),
    ("class_names", False, _is_string_list, "a list of strings"),
    ("embedding_size", False, _is_count, "a positive integer"),
)
_ITEM_FIELDS = (
    ("file", True, _is_string, "a string"),
    ("path", True, _is_string, "a string"),
    ("duration_s", False, _is_finite_number, "a finite number"),
    ("tags", False, _is_string_list, "a list of strings"),
    ("composition", False, _is_shares, "an object of class name -> finite number"),
)


def _read_index_arrays(path: str) -> tuple[np.ndarray, np.ndarray]:
    """The ``vectors`` and ``meta`` arrays of an ``.npz`` index, never unpickling."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return tuple(_read_array(path, data, name) for name in ("vectors", "meta"))
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise InputFileError(path, f"not a gensuite embedding index ({_first_line(exc)})") \
            from None


def _read_array(path: str, data, name: str) -> np.ndarray:
    """Array ``name`` of an open ``.npz``, or :class:`InputFileError` naming it."""
    if name not in data.files:
        raise InputFileError(path, f"not a gensuite embedding index (no {name!r} array)")
    try:
        return data[name]
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        # Object arrays land here too: allow_pickle=False refuses them.
        raise InputFileError(path, f"not a gensuite embedding index ({name!r} array: "
                                   f"{_first_line(exc)})") from None


def _first_line(exc: Exception) -> str:
    """An exception's message, one line of it, for a one-line error."""
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _parse_meta(path: str, array: np.ndarray) -> dict:
    """The index's metadata from its ``meta`` array (one JSON text), every field checked."""
    if array.ndim != 0 or array.dtype.kind != "U":
        raise InputFileError(path, f"meta must be one JSON text, got a {array.dtype} array "
                                   f"of shape {array.shape}")
    try:
        meta = json.loads(array.item())
    except ValueError as exc:
        raise InputFileError(path, f"meta is not JSON ({_first_line(exc)})") from None
    if not isinstance(meta, dict) or meta.get("format") != INDEX_FORMAT:
        raise InputFileError(path, "not a gensuite embedding index (no format marker)")
    if meta.get("version") != INDEX_VERSION:
        raise InputFileError(path, f"index version {meta.get('version')} is not "
                                   f"{INDEX_VERSION}; rebuild it")
    if not _is_string(meta.get("created", "")):
        raise InputFileError(path, f"meta: 'created' must be a string, got "
                                   f"{_shown(meta['created'])}")
    _check_fields(path, "checkpoint", meta.get("checkpoint"), _CHECKPOINT_FIELDS)
    items = meta.get("items")
    if not isinstance(items, list) or not items:
        raise InputFileError(path, f"meta: 'items' must be a non-empty list of tracks, got "
                                   f"{_shown(items)}")
    for number, item in enumerate(items):
        _check_fields(path, f"items[{number}]", item, _ITEM_FIELDS)
    return meta


def _check_fields(path: str, where: str, record, fields) -> None:
    """Raise unless ``record`` is a JSON object whose ``fields`` pass their tests."""
    if not isinstance(record, dict):
        raise InputFileError(path, f"meta: {where} must be an object, got {_shown(record)}")
    for key, required, test, expected in fields:
        if key not in record:
            if required:
                raise InputFileError(path, f"meta: {where} has no {key!r}")
        elif not test(record[key]):
            raise InputFileError(path, f"meta: {where}: {key!r} must be {expected}, got "
                                       f"{_shown(record[key])}")


def _check_vectors(path: str, vectors: np.ndarray, *, n_items: int,
                   embedding_size: int | None) -> None:
    """Raise unless ``vectors`` holds one finite float row per track, of the model's width."""
    if vectors.ndim != 2 or vectors.shape[1] == 0:
        raise InputFileError(path, f"vectors must be a 2-D array (tracks x embedding), "
                                   f"got shape {vectors.shape}")
    if vectors.dtype.kind != "f":
        raise InputFileError(path, f"vectors must be floating point, got {vectors.dtype}")
    if len(vectors) != n_items:
        raise InputFileError(path, f"vectors of shape {vectors.shape} for {n_items} tracks: "
                                   f"one row per track expected; rebuild the index")
    if embedding_size is not None and vectors.shape[1] != embedding_size:
        raise InputFileError(path, f"vectors are {vectors.shape[1]}-d, but the checkpoint's "
                                   f"embeddings are {embedding_size}-d; rebuild the index")
    if not np.all(np.isfinite(vectors)):
        raise InputFileError(path, "vectors hold NaN or infinite values")


def _shown(value) -> str:
    """A JSON value as the error quotes it, shortened."""
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


def faiss_available() -> bool:
    """Whether faiss (``pip install faiss-cpu``) can be imported."""
    return importlib.util.find_spec("faiss") is not None


class ApproximateIndex:
    """Approximate cosine top-k over unit vectors with a faiss HNSW graph (inner product).

    Parameters
    ----------
    vectors : np.ndarray, float32 (n, d)
        Unit rows.
    neighbours : int
        Graph degree (HNSW ``M``): more is slower to build, better recall.
    ef_construction, ef_search : int
        Candidate list sizes while building and while searching.

    Raises
    ------
    GensuiteError
        If faiss is not installed.
    """

    def __init__(self, vectors: np.ndarray, *, neighbours: int = 32, ef_construction: int = 80,
                 ef_search: int = 64):
        try:
            import faiss  # noqa: PLC0415
        except ImportError as exc:
            raise GensuiteError("approximate search needs faiss: pip install faiss-cpu") from exc
        vectors = np.ascontiguousarray(normalize_rows(vectors))
        self.index = faiss.IndexHNSWFlat(vectors.shape[1], int(neighbours),
                                         faiss.METRIC_INNER_PRODUCT)
        self.index.hnsw.efConstruction = int(ef_construction)
        self.index.add(vectors)
        self.index.hnsw.efSearch = int(ef_search)

    def search(self, queries: np.ndarray, *, top_k: int) -> tuple[np.ndarray, np.ndarray]:
        """Like :func:`cosine_top_k` (without candidates): (indices, scores), best first."""
        queries = np.ascontiguousarray(normalize_rows(np.atleast_2d(queries)))
        scores, indices = self.index.search(queries, int(top_k))
        return indices.astype(np.int64), scores.astype(np.float32)


def recall_at_k(approximate: np.ndarray, exact: np.ndarray) -> float:
    """Share of the exact top-k rows that the approximate top-k also found, mean over queries."""
    approximate, exact = np.atleast_2d(approximate), np.atleast_2d(exact)
    hits = [len(set(a.tolist()) & set(e.tolist())) / max(len(e), 1)
            for a, e in zip(approximate, exact)]
    return float(np.mean(hits))


def checkpoint_identity(model) -> dict:
    """What an index records about the classifier that embedded its tracks."""
    name = model.checkpoint or ""
    if name and os.path.isdir(name):
        name = os.path.abspath(name)  # a path, so that `similar` finds it from anywhere
    return {"name": name, "fingerprint": model.fingerprint, "config": model.config.name,
            "class_names": list(model.class_names),
            "embedding_size": model.config.embedding_size}


def build_index(model, audio_dir: str | os.PathLike, *, tags: dict[str, list[str]] | None = None,
                auto_tag: bool = False, progress: bool = False,
                on_skip=None) -> EmbeddingIndex:
    """Embed every audio file under ``audio_dir`` (recursively) into an index.

    Parameters
    ----------
    model : AudioClassifier
    audio_dir : str or os.PathLike
    tags : dict, optional
        Relative file path -> tags (:func:`read_tags_csv`).
    auto_tag : bool
        Also tag each track with its dominant class.
    on_skip : callable, optional
        Called with a one-line reason for each file that cannot be used
        (unreadable, silent, too short); such files never stop the build.

    Raises
    ------
    InputFileError
        If the folder is missing or no file could be indexed.
    """
    from gensuite.audio.io import find_audio_files  # noqa: PLC0415

    audio_dir = os.fspath(audio_dir)
    files = find_audio_files(audio_dir)
    tags = tags or {}
    vectors, items = [], []
    from gensuite.common.progress import track  # noqa: PLC0415

    for path in track(files, enabled=progress, unit="track", desc="embedding"):
        relative = os.path.normpath(os.path.relpath(path, audio_dir))
        try:
            analysis = model.analyze_file(path)
        except GensuiteError as exc:
            if on_skip is not None:
                on_skip(str(exc))
            continue
        track_tags = lookup_tags(tags, relative)
        if auto_tag and analysis.top_class not in track_tags:
            track_tags.append(analysis.top_class)
        vectors.append(analysis.embedding)
        items.append({"file": relative, "path": os.path.abspath(path),
                      "duration_s": round(float(analysis.start_s[-1] + analysis.window_s), 2),
                      "tags": track_tags,
                      "composition": {k: round(v, 4) for k, v in analysis.composition.items()}})
    if not items:
        raise InputFileError(audio_dir, f"no usable audio file among {len(files)} found "
                                        f"(WAV, FLAC, OGG, MP3, AIFF; at least one window long)")
    return EmbeddingIndex(vectors=np.stack(vectors), items=items,
                          checkpoint=checkpoint_identity(model))
