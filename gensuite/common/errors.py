"""Exceptions raised by gensuite.

Every error a user can cause derives from :class:`GensuiteError`; the CLI
prints its message as one line and exits with code 2. Messages name the file
or parameter and the rule it broke, e.g.::

    song.mid: not a MIDI file (no 'MThd' header)
    --temperature: must be > 0, got -1.0
"""

from __future__ import annotations

import os


class GensuiteError(Exception):
    """Base class of every error gensuite raises on bad input."""


class ParameterError(GensuiteError, ValueError):
    """An argument is out of range or malformed.

    The message states the parameter, the rule and the bad value.
    """


class InputFileError(GensuiteError):
    """A file cannot be used: missing, unreadable, or the wrong format.

    Parameters
    ----------
    path : str or os.PathLike
        The offending file.
    rule : str
        What is wrong with it, phrased as the rule it broke.
    """

    def __init__(self, path: str | os.PathLike, rule: str):
        self.path = os.fspath(path)
        self.rule = rule
        super().__init__(f"{self.path}: {rule}")


def check_input_file(path: str | os.PathLike, *, missing: str, expected: str) -> str:
    """``path`` as a str, or :class:`InputFileError` if it is missing or a folder.

    ``missing`` and ``expected`` finish the messages "PATH: {missing}" and
    "PATH: is a folder, expected {expected}".
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise InputFileError(path, missing)
    if os.path.isdir(path):
        raise InputFileError(path, f"is a folder, expected {expected}")
    return path


class InvalidMidiError(InputFileError):
    """A file is not usable MIDI: corrupt, truncated, empty or absurd."""


class NoExamplesError(GensuiteError):
    """A data set yields no examples of the kind a model needs."""


class SynthUnavailableError(GensuiteError):
    """pyfluidsynth or the FluidSynth library it loads is not installed."""


class CheckpointMismatchError(GensuiteError):
    """An index was built with another model than the one asked to search it."""


class PipelineError(GensuiteError):
    """A data pipeline failed on its Beam runner (unreachable cluster, worker error).

    The message names the runner and the first line of the runner's reason.
    """
