"""Shipped checkpoints: list them and resolve a name or a path to a folder.

Each shipped model is a folder under the top-level ``checkpoints/`` (installed
as the package ``gensuite.shipped``) holding ``card.md`` (the model card) and
``meta.json`` (``{"kind": ..., "figures": {...}}`` plus model-specific keys).
"""

from __future__ import annotations

import dataclasses
import importlib.resources
import json
import os

from gensuite.errors import InputFileError

META_FILE = "meta.json"


@dataclasses.dataclass(frozen=True)
class CheckpointInfo:
    """One checkpoint folder and what its ``meta.json`` says."""

    name: str
    path: str
    kind: str
    figures: dict
    meta: dict  # the whole meta.json, model-specific keys included


def shipped_dir() -> str:
    """The folder holding the shipped checkpoints."""
    return os.fspath(importlib.resources.files("gensuite.shipped"))


def read_checkpoint_info(path: str | os.PathLike) -> CheckpointInfo:
    """Read a checkpoint folder's ``meta.json``.

    Raises
    ------
    InputFileError
        If the folder or its ``meta.json`` is missing or unreadable.
    """
    path = os.fspath(path)
    meta_path = os.path.join(path, META_FILE)
    if not os.path.isdir(path):
        raise InputFileError(path, "no such checkpoint folder")
    try:
        with open(meta_path, encoding="utf-8") as f:
            meta = json.load(f)
    except FileNotFoundError:
        raise InputFileError(path, f"not a gensuite checkpoint (no {META_FILE})") from None
    except (OSError, ValueError) as exc:
        raise InputFileError(meta_path, f"unreadable checkpoint metadata ({exc})") from exc
    return CheckpointInfo(
        name=os.path.basename(os.path.normpath(path)), path=path,
        kind=meta.get("kind", "unknown"), figures=meta.get("figures", {}), meta=meta)


def list_shipped() -> list[CheckpointInfo]:
    """Every shipped checkpoint, sorted by name."""
    root = shipped_dir()
    return [
        read_checkpoint_info(os.path.join(root, name))
        for name in sorted(os.listdir(root))
        if os.path.isfile(os.path.join(root, name, META_FILE))
    ]


def resolve_checkpoint(name_or_path: str | os.PathLike, *, kind: str | None = None) -> CheckpointInfo:
    """Find a checkpoint by shipped name or by path.

    Parameters
    ----------
    name_or_path : str or os.PathLike
        A folder path, or the name of a shipped checkpoint (``gensuite
        checkpoints`` lists them).
    kind : str, optional
        Required model kind (e.g. ``"music_vae"``); another kind is an error.

    Raises
    ------
    InputFileError
        If nothing matches, or the checkpoint holds another kind of model.
    """
    text = os.fspath(name_or_path)
    shipped = os.path.join(shipped_dir(), text)
    if os.path.isdir(text):
        info = read_checkpoint_info(text)
    elif os.sep not in text and os.path.isfile(os.path.join(shipped, META_FILE)):
        info = read_checkpoint_info(shipped)
    else:
        names = ", ".join(c.name for c in list_shipped()) or "none shipped yet"
        raise InputFileError(text, f"no such checkpoint folder or shipped name (shipped: {names})")
    if kind is not None and info.kind != kind:
        raise InputFileError(text, f"holds a {info.kind} model, expected {kind}")
    return info
