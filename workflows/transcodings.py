"""How the domain's value objects become JSON in the event store."""

from __future__ import annotations

from dataclasses import fields
from datetime import date
from typing import Any

from eventsourcing.persistence import Transcoding

from domain.deadlines import Deadline, DeadlineKind
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


class DeadlineAsDict(Transcoding):
    """A recorded deadline: its kind as the enum's value, its due date as an ISO date (the
    library has no transcoding for ``date``); the times go through the library's own."""

    type = Deadline
    name = "deadline"

    def encode(self, obj: Deadline) -> dict[str, Any]:
        return {"kind": obj.kind.value, "starts_at": obj.starts_at,
                "due_on": obj.due_on.isoformat(), "expires_at": obj.expires_at,
                "provisional": obj.provisional, "days": obj.days, "calendar": obj.calendar}

    def decode(self, data: dict[str, Any]) -> Deadline:
        return Deadline(**{**data, "kind": DeadlineKind(data["kind"]),
                           "due_on": date.fromisoformat(data["due_on"])})


TRANSCODINGS = (
    FlatDataclassAsDict(Location, "location"),
    FlatDataclassAsDict(Petitioner, "petitioner"),
    DeadlineAsDict(),
)
