"""The versioned envelope in which a case event leaves the engine (Kafka, the ``/events`` feed).

A pure function of the domain event, its position in the log and its case: no I/O, no clock.
What a subscriber may see is the SUBSCRIBER audience's (``workflows/privacy.py``): the
``petitioner`` is replaced by a marker, and the query code's keyed hash is dropped.
``event_id`` is a ``uuid5`` of (case id, case version), so a redelivered event carries the
same id and a subscriber can recognise the duplicate.
docs/envelope.schema.json is the contract; docs/subscribers.md has the versioning rules.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

from workflows.case_summary import event_data, plain
from workflows.privacy import Audience

SCHEMA_VERSION = 1
EVENT_ID_NAMESPACE = UUID("5f0c4f3e-7a51-5c2e-9a43-0d6b1e2f4a11")


def event_id(case_id: UUID, case_version: int) -> UUID:
    """The same (case, version) always gives the same id: duplicates are recognisable."""
    return uuid5(EVENT_ID_NAMESPACE, f"{case_id}:{case_version}")


def envelope(event: Any, position: int, case_id: UUID | None = None) -> dict[str, Any]:
    """The envelope of one stored case event at notification ``position``."""
    case_id = case_id or event.originator_id
    version = event.originator_version
    return {
        "event_id": str(event_id(case_id, version)),
        "type": type(event).__name__,
        "schema_version": SCHEMA_VERSION,
        "case_id": str(case_id),
        "case_version": version,
        "position": position,
        "at": plain(event.at),
        "recorded_at": plain(event.timestamp),
        "data": _data(event),
    }


def _data(event: Any) -> dict[str, Any]:
    data = event_data(event, Audience.SUBSCRIBER)
    data.pop("at", None)  # the envelope's own field
    return data
