"""TensorFlow helpers: a quiet import, parameter counts."""

from __future__ import annotations

import importlib.abc
import importlib.util
import math
import sys
from types import ModuleType

from gensuite.common.quiet import stderr_silenced


def _initialise_quietly(tensorflow: ModuleType) -> None:
    # Device discovery logs a CUDA error on machines without a GPU driver.
    tensorflow.config.list_physical_devices("GPU")


class _QuietTensorFlowFinder(importlib.abc.MetaPathFinder):
    """Finds ``tensorflow`` like the other finders, then runs its import silenced."""

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)  # one import only; also keeps find_spec below from recursing
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def exec_quietly(module: ModuleType) -> None:
            with stderr_silenced():
                exec_module(module)
                _initialise_quietly(module)

        spec.loader.exec_module = exec_quietly
        return spec


def quiet_tensorflow_imports() -> None:
    """Make the first import of TensorFlow, from anywhere (Keras included), silent.

    The command line calls this first, so commands that never need
    TensorFlow do not load it, and those that do never print its start-up
    lines, whichever module imports it first.
    """
    if "tensorflow" in sys.modules or any(
            isinstance(f, _QuietTensorFlowFinder) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _QuietTensorFlowFinder())


def import_tensorflow() -> ModuleType:
    """Import and return TensorFlow without its start-up lines on stderr.

    TensorFlow's C++ start-up lines (oneDNN, CUDA stubs, cuInit failures on
    machines without a GPU) are printed before absl logging is initialised,
    so no environment variable hides them, and our command-line errors must
    stay one line.
    """
    quiet_tensorflow_imports()
    import tensorflow

    return tensorflow


def count_parameters(network) -> int:
    """Number of scalar weights."""
    return sum(math.prod(v.shape) for v in network.weights)
