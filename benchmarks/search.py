"""Analysis speed: embedding throughput and similar-track search at 100,000 vectors, as JSON.

Embedding: seconds of audio analysed per second of wall time by
``AudioClassifier.analyze`` (log-mel windows with librosa + the CNN, windows
every ``window_hop_s``), on a synthetic track of tones and noise; split into
the feature and the network parts. Speed does not depend on the weights, so
an untrained ``cpu-cnn`` is used unless ``--checkpoint`` names a model.

Search: ``--n-vectors`` unit vectors of the model's embedding size, drawn
around 1,000 cluster centres (real track embeddings cluster by style and
instrument; uniform random vectors would be the worst case for approximate
search). Queries are held-out draws from the same clusters. Measured in the
same run:

- exact: ``gensuite.analysis.search.cosine_top_k`` (one matrix product + partial
  sort), one query per call and 1,000 queries per call;
- approximate: faiss HNSW (``gensuite.analysis.search.ApproximateIndex``, M 32,
  efSearch 64) when faiss-cpu is installed, with its build time and its
  recall@10 against the exact results.

Usage::

    python benchmarks/search.py [--n-vectors 100000] [--audio-s 60] [--checkpoint C]
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
from timing import best_seconds

TOP_K = 10


def synthetic_track(seconds: float, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """Alternating one-second tones and noise bursts, peak about 0.5."""
    t = np.arange(sample_rate) / sample_rate
    parts = []
    for i in range(int(np.ceil(seconds))):
        if i % 2:
            parts.append(0.2 * rng.standard_normal(sample_rate))
        else:
            parts.append(0.5 * np.sin(2 * np.pi * rng.uniform(100, 2000) * t))
    return np.concatenate(parts)[:round(seconds * sample_rate)].astype(np.float32)


def embedding_throughput(model, *, audio_s: float, repeats: int, rng) -> dict:
    from gensuite.analysis.features import wave_to_windows

    wave = synthetic_track(audio_s, model.sample_rate, rng)
    features = best_seconds(lambda: wave_to_windows(wave, features=model.features), repeats)
    windows = wave_to_windows(wave, features=model.features)
    network = best_seconds(lambda: model.predict_windows(windows.log_mel), repeats)
    total = best_seconds(lambda: model.analyze(wave=wave, sample_rate=model.sample_rate),
                         repeats)
    return {"audio_s": audio_s, "n_windows": len(windows),
            "embed_audio_s_per_s": round(audio_s / total, 1),
            "features_audio_s_per_s": round(audio_s / features, 1),
            "network_windows_per_s": round(len(windows) / network, 1)}


def clustered_vectors(n: int, dim: int, rng: np.random.Generator, *, n_clusters: int = 1000,
                      spread: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(n unit vectors, 1000 held-out query vectors) around shared cluster centres."""
    from gensuite.analysis.search import normalize_rows

    centres = rng.standard_normal((n_clusters, dim)).astype(np.float32)

    def draw(count):
        noise = rng.standard_normal((count, dim)).astype(np.float32)
        return normalize_rows(centres[rng.integers(0, n_clusters, count)] + spread * noise)

    return draw(n), draw(1000)


def search_speed(n_vectors: int, dim: int, *, repeats: int, rng) -> dict:
    from gensuite.analysis.search import (
        ApproximateIndex,
        cosine_top_k,
        faiss_available,
        recall_at_k,
    )

    vectors, queries = clustered_vectors(n_vectors, dim, rng)
    single = queries[:100]

    def one_at_a_time():
        for q in single:
            cosine_top_k(vectors, q, top_k=TOP_K)

    exact_single = best_seconds(one_at_a_time, repeats)
    exact_batch = best_seconds(lambda: cosine_top_k(vectors, queries, top_k=TOP_K), repeats)
    exact_top, _ = cosine_top_k(vectors, queries, top_k=TOP_K)
    result = {"n_vectors": n_vectors, "dim": dim, "top_k": TOP_K,
              "exact_queries_per_s": round(len(single) / exact_single, 1),
              "exact_batched_queries_per_s": round(len(queries) / exact_batch, 1)}
    if not faiss_available():
        result["approximate"] = "faiss not installed (pip install faiss-cpu)"
        return result
    started = time.perf_counter()
    index = ApproximateIndex(vectors)
    build_s = time.perf_counter() - started

    def approximate_one_at_a_time():
        for q in single:
            index.search(q, top_k=TOP_K)

    approx_single = best_seconds(approximate_one_at_a_time, repeats)
    approx_batch = best_seconds(lambda: index.search(queries, top_k=TOP_K), repeats)
    found, _ = index.search(queries, top_k=TOP_K)
    result.update({
        "approximate": "faiss HNSW (M 32, efConstruction 80, efSearch 64), inner product",
        "approximate_build_s": round(build_s, 2),
        "approximate_queries_per_s": round(len(single) / approx_single, 1),
        "approximate_batched_queries_per_s": round(len(queries) / approx_batch, 1),
        "approximate_recall_at_10": round(recall_at_k(found, exact_top), 4),
        "approximate_vs_exact_ratio": round(exact_single / approx_single, 1),
    })
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-vectors", type=int, default=100_000)
    parser.add_argument("--audio-s", type=float, default=60.0)
    parser.add_argument("--checkpoint", help="model folder or shipped name (default: untrained "
                                             "cpu-cnn)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from gensuite.analysis.model import AudioClassifier

    if args.checkpoint:
        model = AudioClassifier.load(args.checkpoint)
    else:
        model = AudioClassifier("cpu-cnn", class_names=[f"class{i}" for i in range(8)])
    rng = np.random.default_rng(0)
    result = {"benchmark": "search", "cpu_count": os.cpu_count(),
              "model": args.checkpoint or "cpu-cnn (untrained)",
              "embedding": embedding_throughput(model, audio_s=args.audio_s,
                                                repeats=args.repeats, rng=rng),
              "search": search_speed(args.n_vectors, model.config.embedding_size,
                                     repeats=args.repeats, rng=rng),
              "timing": "best of --repeats after one warm-up call"}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
