"""What every frozen config dataclass shares: a JSON round trip that checks each field.

A config read back from JSON (a model folder's ``config.json``, a run's, a
personaliser's) is checked against the dataclass's annotations before the
dataclass sees it: an ``int`` field takes an integer (not ``true``, not 1.5),
a ``float`` field a finite number, a ``str`` field a string, a ``bool`` field
``true`` or ``false``, a tuple field a list of such values; integers that size
a layer, a latent or a tensor have a ceiling (:data:`INT_RANGES`). A corrupt or
hand-edited file then fails with the field, the rule and the value instead of
deep inside Keras, or after allocating gigabytes.
"""

from __future__ import annotations

import dataclasses
import json
import math
import types
import typing
from typing import Any

from gensuite.common.errors import ParameterError

# Any integer field must fit TensorFlow's int32 shapes and counters.
INT32_RANGE = (-(2**31), 2**31 - 1)
_WIDTH = (1, 8192)  # an LSTM 8192 units wide already holds half a billion weights
_LENGTH = (1, 65536)
# Integer fields (or tuple fields' elements) that size a layer, a latent or a
# tensor, by field name across every config: far above every preset's value, so
# only a corrupt file reaches the ceiling.
INT_RANGES: dict[str, tuple[int, int]] = {
    **dict.fromkeys(("encoder_sizes", "decoder_sizes", "conductor_sizes", "rnn_layer_sizes",
                     "layer_sizes", "encoder_size", "conductor_size", "dense_units", "filters",
                     "fmap_max", "z_size", "latent_size", "input_depth", "output_depths",
                     "n_mels"), _WIDTH),
    **dict.fromkeys(("batch_size", "n_fft", "hop_length", "window_frames", "window_hop_frames",
                     "max_steps", "train_window_steps", "start_shape"), _LENGTH),
    "n_steps": (1, 4096),  # 256 bars of sixteenths
    "n_bars": (1, 4096),
    "n_chunks": (1, 64),
    "attn_length": (0, 4096),
    "n_samples": (1, 2**24),  # 17 minutes at 16 kHz
    "sample_rate": (1, 384_000),
    "n_resolutions": (1, 16),
    "n_blocks": (1, 16),
    "kernel_size": (1, 64),
    "convs_per_block": (1, 64),
    "steps_per_quarter": (1, 384),
    "mel_inverse_iterations": (0, 10_000),
}

# (singular, plural) of what each scalar annotation accepts, for messages.
_SCALAR_NAMES = {
    bool: ("true or false", "booleans"),
    int: ("an integer", "integers"),
    float: ("a finite number", "finite numbers"),
    str: ("a string", "strings"),
    type(None): ("null", "nulls"),
}


class JsonConfig:
    """Mixin for frozen dataclass configs: ``to_json`` / ``from_json``.

    Tuples are written as JSON lists and read back as tuples, so a loaded
    config compares equal to the one saved.
    """

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (tuples become lists)."""
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]):
        """Inverse of :meth:`to_dict`, every field checked (see :func:`check_fields`).

        Raises
        ------
        ParameterError
            Not an object, unknown or missing keys, or a value of the wrong
            type or out of range; the message starts with the field.
        """
        return cls(**check_fields(cls, data))

    @classmethod
    def from_json(cls, text: str):
        return cls.from_dict(json.loads(text))


def check_fields(cls, data) -> dict[str, Any]:
    """The fields of dataclass ``cls`` held by the JSON object ``data``, each checked.

    Values are checked against the field annotations (see the module
    docstring); lists become tuples and integers become floats where the
    annotation says so. Keys left out take the field's default.

    Raises
    ------
    ParameterError
        If ``data`` is not a dict, names a key ``cls`` lacks, leaves out one
        without a default, or holds a value that breaks its field's rule.
    """
    if not isinstance(data, dict):
        raise ParameterError(f"must be a JSON object, got {json_kind(data)}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ParameterError(f"unknown keys: {', '.join(unknown)}")
    missing = [name for name, f in fields.items() if name not in data
               and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if missing:
        raise ParameterError(f"missing keys: {', '.join(missing)}")
    hints = typing.get_type_hints(cls)
    return {name: check_value(name, value, hints[name]) for name, value in data.items()}


def check_value(name: str, value, hint):
    """``value`` of field ``name`` converted to ``hint``, or ParameterError naming the rule."""
    if not _fits(value, hint):
        raise ParameterError(f"{name} must be {describe(hint)}, got {show(value)}")
    # Converted first, so that a float field's integer (2 for 2.0) is no count.
    converted = _convert(value, hint)
    low, high = INT_RANGES.get(name, INT32_RANGE)
    if not all(low <= v <= high for v in _ints(converted)):
        where = "in" if isinstance(converted, int) else "a list of values in"
        raise ParameterError(f"{name} must be {where} [{low}, {high}], got {show(value)}")
    return converted


def describe(hint, *, plural: bool = False) -> str:
    """What ``hint`` accepts in words, e.g. ``a list of integers``."""
    args = typing.get_args(hint)
    if _is_union(hint):
        return " or ".join(describe(arg, plural=plural) for arg in args)
    if typing.get_origin(hint) is tuple:
        # Config tuples hold one type throughout (a fixed length at most), so
        # the first element's annotation describes them all.
        count = "" if args[-1] is Ellipsis else f"{len(args)} "
        return f"{'lists' if plural else 'a list'} of {count}{describe(args[0], plural=True)}"
    return _SCALAR_NAMES[hint][plural]


def json_kind(value) -> str:
    """What JSON calls ``value``'s type, with an article: ``a list``, ``an object``, ``null``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "a list"
    return "an object"


def show(value, *, limit: int = 60) -> str:
    """``value`` as JSON for a message, cut to about ``limit`` characters."""
    text = json.dumps(value, default=repr)
    return text if len(text) <= limit else text[:limit] + "..."


def _is_union(hint) -> bool:
    return typing.get_origin(hint) in (typing.Union, types.UnionType)


def _fits(value, hint) -> bool:
    """Whether the JSON ``value`` is of the type ``hint`` annotates."""
    args = typing.get_args(hint)
    if _is_union(hint):
        return any(_fits(value, arg) for arg in args)
    if typing.get_origin(hint) is tuple:
        if not isinstance(value, (list, tuple)):
            return False
        if args[-1] is Ellipsis:
            return all(_fits(v, args[0]) for v in value)
        return len(value) == len(args) and all(map(_fits, value, args))
    if hint is float:
        return _is_number(value) and _is_finite(value)
    if hint is int:
        # JSON's true is no count, and 1.0 or 1e9 is a float in a file meant to hold an int.
        return isinstance(value, int) and not isinstance(value, bool)
    if hint in _SCALAR_NAMES:
        return isinstance(value, hint)
    raise TypeError(f"check_fields: no rule for fields annotated {hint!r}")


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_finite(value) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer beyond any float
        return False


def _ints(value) -> list[int]:
    """The integers in ``value`` (itself, or a list's elements) that a range applies to."""
    values = value if isinstance(value, (list, tuple)) else [value]
    return [v for v in values if isinstance(v, int) and not isinstance(v, bool)]


def _convert(value, hint):
    """A value that :func:`_fits` ``hint`` as the dataclass wants it (tuples, floats)."""
    if _is_union(hint):
        return _convert(value, next(arg for arg in typing.get_args(hint) if _fits(value, arg)))
    if typing.get_origin(hint) is tuple:
        args = typing.get_args(hint)
        element_hints = [args[0]] * len(value) if args[-1] is Ellipsis else args
        return tuple(map(_convert, value, element_hints))
    return float(value) if hint is float else value


def lookup_preset(presets: dict, name: str):
    """``presets[name]``, or a ParameterError listing the valid names."""
    try:
        return presets[name]
    except KeyError:
        raise ParameterError(
            f"--config: must be one of {', '.join(presets)}, got {name!r}") from None
