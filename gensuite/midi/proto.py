"""The NoteSequence message, without importing the whole note_seq package.

``import note_seq`` runs the package's ``__init__``, which also imports its
notebook and audio helpers (bokeh, pandas, IPython, scipy): about 1.2 s, most
of a ``gensuite render`` that finds its notes in the cache. Reading MIDI needs
only the protobuf message, so :data:`NoteSequence` comes from
``note_seq/protobuf/music_pb2.py`` loaded on its own, under its own module
name: a later ``import note_seq`` finds that module in ``sys.modules`` and
uses the same classes (protobuf refuses a .proto file registered twice). If
note_seq is laid out otherwise, the package is imported the usual way.
"""

from __future__ import annotations

import importlib.util
import os
import sys

_MODULE = "note_seq.protobuf.music_pb2"


def _music_pb2():
    if _MODULE in sys.modules:
        return sys.modules[_MODULE]
    package = importlib.util.find_spec("note_seq")  # finds it without running __init__
    locations = package.submodule_search_locations if package else None
    path = os.path.join(locations[0], "protobuf", "music_pb2.py") if locations else ""
    if not os.path.isfile(path):
        from note_seq.protobuf import music_pb2  # noqa: PLC0415

        return music_pb2
    spec = importlib.util.spec_from_file_location(_MODULE, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[_MODULE] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[_MODULE]
        raise
    return module


NoteSequence = _music_pb2().NoteSequence
