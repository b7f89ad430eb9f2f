"""How the domain's value objects become JSON in the event store."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from eventsourcing.persistence import Transcoding

from domain.values import Location, Petitioner


class FlatDataclassAsDict(Transcoding):
    """A frozen dataclass of JSON scalars, stored as a plain object under a stable name."""

    def __init__(self, cls: type, name: str):
        self.type = cls
        self.name = name
        self._fields = tuple(f.name for f in fields(cls))

    def encode(self, obj: Any) -> dict[str, Any]:
        return {name: getattr(obj, name) for name in self._fields}

    def decode(self, data: dict[str, Any]) -> Any:
        return self.type(**data)


TRANSCODINGS = (
    FlatDataclassAsDict(Location, "location"),
    FlatDataclassAsDict(Petitioner, "petitioner"),
)
