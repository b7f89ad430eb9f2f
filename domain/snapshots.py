"""Snapshots of a Petition whose state comes back with its own types.

The library's ``Snapshot`` stores ``vars(aggregate)`` through the JSON transcoder: a
``StrEnum`` is a ``str`` to JSON, so ``Status.IN_HANDLING`` would come back as the plain string
``"in_handling"`` and ``petition.status is Status.IN_HANDLING`` would be false; ``Ratings`` has
no transcoding at all. ``PetitionSnapshot`` encodes the state explicitly before the
transcoder sees it — enums and value objects as tagged objects naming a class of the
vocabulary below, plain dicts and tuples tagged too — and decodes it back on ``mutate``. Only
the classes listed here can be named by a stored snapshot; an unknown type in the state fails
loudly when the snapshot is taken, never silently when it is read.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, is_dataclass
from datetime import date, datetime
from enum import Enum
from types import MappingProxyType
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, Snapshot

from domain import values as v
from domain.deadlines import Deadline, DeadlineKind

VOCABULARY: dict[str, type] = {cls.__name__: cls for cls in (
    v.Channel, v.HandlingTrack, v.SpeedTrack, v.DelegationMode, v.SupervisionLevel,
    v.Satisfaction, v.ReviewOutcome, v.RedirectChannel, v.ContactMode, v.Status,
    v.ReceptionMode, v.Booking,
    v.Location, v.Petitioner, v.Ratings, v.Attachment, v.GroupMember, v.Entrustment,
    Deadline, DeadlineKind,
)}
PLAIN = (str, int, float, bool, type(None), datetime, UUID)


def encode(value: Any) -> Any:
    if isinstance(value, Enum):
        return {"_enum": _name(type(value)), "value": value.value}
    if is_dataclass(value) and not isinstance(value, type):
        return {"_value": _name(type(value)),
                "fields": {f.name: encode(getattr(value, f.name)) for f in fields(value)}}
    if isinstance(value, dict | MappingProxyType):
        return {"_dict": [[encode(k), encode(item)] for k, item in value.items()]}
    if isinstance(value, (list, tuple)):
        return {"_list" if isinstance(value, list) else "_tuple": [encode(i) for i in value]}
    if type(value) is date:  # the library's transcoder knows datetimes only
        return {"_date": value.isoformat()}
    if type(value) in PLAIN:
        return value
    raise TypeError(f"a Petition snapshot cannot hold a {type(value).__name__}")


def decode(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    if "_enum" in value:
        return VOCABULARY[value["_enum"]](value["value"])
    if "_value" in value:
        return VOCABULARY[value["_value"]](**{k: decode(i) for k, i in value["fields"].items()})
    if "_dict" in value:
        return {decode(k): decode(i) for k, i in value["_dict"]}
    if "_list" in value:
        return [decode(i) for i in value["_list"]]
    if "_tuple" in value:
        return tuple(decode(i) for i in value["_tuple"])
    if "_date" in value:
        return date.fromisoformat(value["_date"])
    raise ValueError(f"not an encoded snapshot value: {sorted(value)}")


def _name(cls: type) -> str:
    if VOCABULARY.get(cls.__name__) is not cls:
        raise TypeError(f"a Petition snapshot cannot hold a {cls.__name__}")
    return cls.__name__


@dataclass(frozen=True)
class PetitionSnapshot(Snapshot):
    """A ``Snapshot`` whose ``state`` is the encoded form of the aggregate's attributes."""

    @classmethod
    def take(cls, aggregate: Any) -> PetitionSnapshot:
        plain = Snapshot.take.__func__(cls, aggregate)  # type: ignore[attr-defined]
        return cls(originator_id=plain.originator_id,
                   originator_version=plain.originator_version, timestamp=plain.timestamp,
                   topic=plain.topic, state={k: encode(i) for k, i in plain.state.items()})

    def mutate(self, _: None) -> Aggregate:
        state = {k: decode(i) for k, i in self.state.items()}
        if "extended_this_round" in state:  # taken before the allowance was per matter
            state["extension_used"] = state.pop("extended_this_round")
        decoded = Snapshot(originator_id=self.originator_id,
                           originator_version=self.originator_version,
                           timestamp=self.timestamp, topic=self.topic, state=state)
        return decoded.mutate(None)  # type: ignore[return-value]
