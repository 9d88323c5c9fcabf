"""What every frozen config dataclass shares: a JSON round trip."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from gensuite.common.errors import ParameterError


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
        """Inverse of :meth:`to_dict`; unknown keys are an error."""
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - fields)
        if unknown:
            raise ParameterError(f"config: unknown keys {unknown}")
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        return cls(**values)

    @classmethod
    def from_json(cls, text: str):
        return cls.from_dict(json.loads(text))


def lookup_preset(presets: dict, name: str):
    """``presets[name]``, or a ParameterError listing the valid names."""
    try:
        return presets[name]
    except KeyError:
        raise ParameterError(
            f"--config: must be one of {', '.join(presets)}, got {name!r}") from None
