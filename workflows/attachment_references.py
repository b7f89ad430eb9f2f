"""Which blobs the events name: every ``AttachmentAdded`` and ``DocumentAttached`` ever
stored, read from the log.

The blob sweep deletes only what this set lacks. It reads the event log itself, not a view
(which may lag behind a registration that has just named a blob), page by page by topic, so
the cost is the attachments' events, not the whole log.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from domain.events import AttachmentAdded, DocumentAttached

NAMING = (AttachmentAdded, DocumentAttached)  # every event that names a blob
TOPICS = [f"{kind.__module__}:{kind.__qualname__}" for kind in NAMING]
PAGE = 1000


def referenced_blobs(app: Any) -> set[str]:
    """The SHA-256 of every blob an event names (``app``: a PetitionApplication)."""
    return {event.sha256 for event in _attachment_events(app)}


def _attachment_events(app: Any) -> Iterator[AttachmentAdded | DocumentAttached]:
    start: int | None = None
    while True:
        page = app.recorder.select_notifications(start=start, limit=PAGE, topics=TOPICS,
                                                 inclusive_of_start=start is None)
        for notification in page:
            event = app.mapper.to_domain_event(notification)
            if isinstance(event, NAMING):
                yield event
        if len(page) < PAGE:
            return
        start = page[-1].id
