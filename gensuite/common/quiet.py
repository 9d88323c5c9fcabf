"""Silencing libraries that write straight to file descriptor 2.

TensorFlow's C++ start-up lines and libfluidsynth's messages bypass Python's
``sys.stderr``; our errors must stay one line, so such calls run with file
descriptor 2 pointed at /dev/null.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def stderr_silenced() -> Iterator[None]:
    """File descriptor 2 points at /dev/null meanwhile."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
