"""Importing TensorFlow without its start-up noise on stderr."""

from __future__ import annotations

import os
import sys
from types import ModuleType


def import_tensorflow() -> ModuleType:
    """Import and return TensorFlow with file descriptor 2 silenced meanwhile.

    TensorFlow's C++ start-up lines (oneDNN, CUDA stubs, cuInit failures on
    machines without a GPU) are printed before absl logging is initialised,
    so no environment variable hides them, and our command-line errors must
    stay one line.
    """
    if "tensorflow" not in sys.modules:
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            with open(os.devnull, "wb") as devnull:
                os.dup2(devnull.fileno(), 2)
                import tensorflow

                # Device discovery logs a CUDA error on machines without a
                # GPU driver; do it now, while stderr is silenced.
                tensorflow.config.list_physical_devices("GPU")
        finally:
            os.dup2(saved, 2)
            os.close(saved)
    return sys.modules["tensorflow"]
