"""Large counts in batches of bounded memory, reproducible from one seed.

A command asked for 100,000 outputs generates and writes them a batch at a
time, so memory does not grow with the count. Batch 0 uses the user's seed
itself (a count that fits one batch gives what one call always gave); later
batches use seeds derived from it.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np


def batch_spans(n: int, batch_size: int) -> Iterator[tuple[int, int]]:
    """``(start, count)`` of each batch covering ``n`` items, ``batch_size`` at most each."""
    for start in range(0, n, batch_size):
        yield start, min(batch_size, n - start)


def batch_seed(seed: int, index: int) -> int:
    """The seed of batch ``index``: ``seed`` for batch 0, a derived one in [0, 2**63) after."""
    if index == 0:
        return seed
    state = np.random.SeedSequence([seed, index]).generate_state(2, np.uint32)
    return int(state[0]) << 31 | int(state[1]) >> 1
