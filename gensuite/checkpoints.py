"""Model folders: save and load every model kind, list and resolve shipped checkpoints.

A model folder holds ``model.weights.h5`` (weights only: no pickle, no
optimizer), ``config.json`` (the frozen config) and ``meta.json`` (``{"kind":
..., "config": ..., "figures": {...}}`` plus model-specific keys), written in
that order, each atomically, so a folder with ``meta.json`` is complete.
Shipped models are such folders under the top-level ``checkpoints/``
(installed as the package ``gensuite.shipped``), each with a ``card.md``.

Every model class derives from :class:`SavedModel`, which owns ``save`` and
``load``; a class says only which network holds its weights and which extra
keys it keeps in ``meta.json``.

Reading a folder checks it before any network is built, and a folder that
breaks a rule fails with :class:`InputFileError` naming the file and the rule:
``meta.json`` must be an object whose structured keys are objects;
``config.json`` (what a load builds the model from) must hold every field of
the config dataclass with the right type and in range
(:func:`gensuite.common.config.check_fields`); ``meta.json``'s copy of the
config, read alongside it by the command line, must say the same; and the
model-specific keys read back on load (``converter_options``, ``growth``) must
hold fields of the right types.
"""

from __future__ import annotations

import dataclasses
import importlib.resources
import json
import os
from typing import ClassVar

from gensuite.common.config import check_fields, json_kind, show
from gensuite.common.errors import InputFileError, ParameterError

META_FILE = "meta.json"
# meta.json keys that hold JSON objects: their readers look values up in them.
META_OBJECT_KEYS = ("config", "figures", "data", "training", "prior", "converter_options",
                    "growth", "repeats")


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
        If the folder or its ``meta.json`` is missing or unreadable, or the
        metadata is not an object of the expected shape (:func:`check_meta`).
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
    check_meta(meta, meta_path)
    return CheckpointInfo(
        name=os.path.basename(os.path.normpath(path)), path=path,
        kind=meta.get("kind", "unknown"), figures=meta.get("figures", {}), meta=meta)


def check_meta(meta, meta_path: str) -> None:
    """Refuse metadata that is not an object, a ``kind`` that is not a string, or
    a key of :data:`META_OBJECT_KEYS` that is not an object.

    Raises
    ------
    InputFileError
        Naming ``meta_path`` and the key.
    """
    if not isinstance(meta, dict):
        raise InputFileError(meta_path, f"must be a JSON object, got {json_kind(meta)}")
    if not isinstance(meta.get("kind", ""), str):
        raise InputFileError(meta_path, f"kind must be a string, got {show(meta['kind'])}")
    for key in META_OBJECT_KEYS:
        if key in meta and not isinstance(meta[key], dict):
            raise InputFileError(
                meta_path, f"{key} must be a JSON object, got {json_kind(meta[key])}")


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
    if os.path.isdir(text):
        info = read_checkpoint_info(text)
    elif os.sep not in text and os.path.isfile(os.path.join(shipped_dir(), text, META_FILE)):
        # A path is tried first so that a run folder resolves without the package data.
        info = read_checkpoint_info(os.path.join(shipped_dir(), text))
    else:
        names = ", ".join(c.name for c in list_shipped()) or "none shipped yet"
        raise InputFileError(text, f"no such checkpoint folder or shipped name (shipped: {names})")
    if kind is not None and info.kind != kind:
        raise InputFileError(text, f"holds a {info.kind} model, expected {kind}")
    return info


WEIGHTS_FILE = "model.weights.h5"
CONFIG_FILE = "config.json"
# A latent hierarchy keeps its 2-bar model as a model folder inside its own.
BOTTOM_DIR = "bottom"


def save_model_folder(path: str | os.PathLike, *, kind: str, config, network,
                      figures: dict | None = None, meta: dict | None = None) -> None:
    """Write a model folder: ``model.weights.h5``, ``config.json``, ``meta.json``.

    Each file is written to a temporary name and renamed; ``meta.json`` (what
    marks the folder as a checkpoint) comes last. Weights only, no optimizer.

    Parameters
    ----------
    path : str or os.PathLike
        Folder, created if needed.
    kind : str
        Model kind recorded in ``meta.json`` (``"music_vae"``, ``"gansynth"``, ...).
    config : JsonConfig
        The frozen config dataclass of the model.
    network : keras.Model
        Built network whose weights are saved.
    figures : dict, optional
        Numbers for the model card and ``gensuite checkpoints``.
    meta : dict, optional
        Model-specific keys added to ``meta.json``.
    """
    from gensuite.common.fileio import atomic_path, write_text_atomic  # noqa: PLC0415

    path = os.fspath(path)
    os.makedirs(path, exist_ok=True)
    # Keras insists on the .weights.h5 suffix, hence the suffix of the temp name.
    with atomic_path(os.path.join(path, WEIGHTS_FILE), suffix=".weights.h5") as tmp:
        network.save_weights(tmp, overwrite=True)
    write_text_atomic(os.path.join(path, CONFIG_FILE), config.to_json())
    record = {**(meta or {}), "kind": kind, "config": config.to_dict(),
              "figures": dict(figures or {})}
    write_text_atomic(os.path.join(path, META_FILE), json.dumps(record, indent=2, sort_keys=True))


@dataclasses.dataclass(frozen=True)
class Growth:
    """``meta.json``'s ``growth``: how far a GANSynth saved mid-training had grown."""

    n_blocks: int | None = None
    alpha: float | None = None


def meta_key_types(meta: dict) -> dict[str, type]:
    """The dataclass whose fields each model-specific key of ``meta`` holds."""
    key_types = {"growth": Growth}
    if "converter_options" in meta:
        # Imported only for a folder that has them: the converters pull in note_seq.
        from gensuite.music_vae.converters import ConverterOptions  # noqa: PLC0415

        key_types["converter_options"] = ConverterOptions
    if "repeats" in meta:
        from gensuite.music_vae.prior import RepeatRule  # noqa: PLC0415

        key_types["repeats"] = RepeatRule
    return key_types


def read_model_config(name_or_path: str | os.PathLike, *, kind: str, config_type):
    """Resolve a model folder of ``kind``, read its config and check the folder.

    ``config.json`` is what the model is built from; ``meta.json``'s copy of
    it must agree, and the model-specific keys of ``meta.json`` must hold
    fields of the right types.

    Returns
    -------
    (CheckpointInfo, config)

    Raises
    ------
    InputFileError
        Unknown name, another model kind, an unreadable ``config.json`` or one
        whose fields break :func:`gensuite.common.config.check_fields`, or a
        ``meta.json`` whose copy of the config or model-specific keys do not fit.
    """
    info = resolve_checkpoint(name_or_path, kind=kind)
    config_path = os.path.join(info.path, CONFIG_FILE)
    try:
        with open(config_path, encoding="utf-8") as f:
            config = config_type.from_json(f.read())
    except ParameterError as exc:
        raise InputFileError(config_path, str(exc)) from exc
    except (OSError, ValueError) as exc:
        raise InputFileError(config_path, f"unreadable {kind} config ({exc})") from exc
    check_meta_config(info, config)
    check_meta_keys(info)
    return info, config


def check_meta_config(info: CheckpointInfo, config) -> None:
    """Refuse a ``meta.json`` whose copy of the config is malformed or differs from ``config``.

    The command line reads the copy (a model's name, a hierarchy's chunk
    count) without loading the model, so a copy that says otherwise would
    describe another model than the one loaded.
    """
    if "config" not in info.meta:
        return
    try:
        copy = type(config).from_dict(info.meta["config"])
    except ParameterError as exc:
        raise InputFileError(os.path.join(info.path, META_FILE), f"config: {exc}") from exc
    theirs, ours = copy.to_dict(), config.to_dict()
    differ = [f"{key} ({show(theirs[key])} vs {show(ours[key])})"
              for key in ours if theirs[key] != ours[key]]
    if differ:
        raise InputFileError(info.path, f"{META_FILE}'s config disagrees with {CONFIG_FILE} "
                                        f"on {', '.join(differ)}")


def check_meta_keys(info: CheckpointInfo) -> None:
    """Refuse model-specific keys of ``meta.json`` (:func:`meta_key_types`) of the wrong shape."""
    for key, key_type in meta_key_types(info.meta).items():
        if key in info.meta:
            try:
                check_fields(key_type, info.meta[key])
            except ParameterError as exc:
                raise InputFileError(os.path.join(info.path, META_FILE), f"{key}: {exc}") from exc


def load_model_weights(network, info: CheckpointInfo) -> None:
    """Load ``model.weights.h5`` of a model folder into a built ``network``.

    Raises
    ------
    InputFileError
        Missing, unreadable, or shaped for another network.
    """
    weights_path = os.path.join(info.path, WEIGHTS_FILE)
    if not os.path.isfile(weights_path):
        raise InputFileError(weights_path, "missing model weights")
    try:
        network.load_weights(weights_path)
    except Exception as exc:  # h5py and keras raise many types for a bad file
        raise InputFileError(weights_path, f"unreadable or mismatched weights ({exc})") from exc


class SavedModel:
    """Base of the model classes: one way to write a model folder and read it back.

    Subclasses set ``kind`` and ``config_type`` and keep their frozen config in
    ``self.config``; they override the three hooks below only where they keep
    more than a config and one network's weights.
    """

    kind: ClassVar[str]
    config_type: ClassVar[type]

    def saved_network(self):
        """The Keras network whose weights the folder holds."""
        return self.network

    def saved_meta(self) -> dict:
        """Model-specific keys for ``meta.json`` (restored by :meth:`from_saved`)."""
        return {}

    @classmethod
    def from_saved(cls, config, info: CheckpointInfo):
        """A model of ``config`` with what :meth:`saved_meta` wrote restored, weights not yet loaded."""
        return cls(config)

    def save(self, path: str | os.PathLike, *, figures: dict | None = None,
             meta: dict | None = None) -> None:
        """Write the model folder ``path`` (atomically, weights only).

        Parameters
        ----------
        path : str or os.PathLike
            Folder, created if needed.
        figures : dict, optional
            Numbers for the model card and ``gensuite checkpoints``.
        meta : dict, optional
            More keys for ``meta.json`` (the data and training that made it).
        """
        save_model_folder(path, kind=self.kind, config=self.config,
                          network=self.saved_network(), figures=figures,
                          meta={**(meta or {}), **self.saved_meta()})

    @classmethod
    def load(cls, name_or_path: str | os.PathLike):
        """Load a model folder, or a shipped checkpoint by name.

        Raises
        ------
        InputFileError
            Missing folder, not a gensuite checkpoint, another model kind, an
            unreadable or malformed config or metadata, parts of the folder
            that do not fit together, or weights that do not fit the network.
        """
        info, config = read_model_config(name_or_path, kind=cls.kind, config_type=cls.config_type)
        try:
            model = cls.from_saved(config, info)
        except ParameterError as exc:
            # Well-typed values that do not fit the config (a growth stage past
            # its resolutions, a bottom model of another shape): the folder's fault.
            raise InputFileError(info.path, str(exc)) from exc
        load_model_weights(model.saved_network(), info)
        return model

