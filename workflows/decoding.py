"""Decoding stored events for followers, and what a release does with events it does not know.

A newer release may write events this one cannot decode (an event type added later, during a
rolling deploy) and a damaged row cannot be decoded at all. The rule (docs/events.md):

* an unknown event of *another* aggregate (not a case event) is passed over: the followers
  (views, relay) only use case events, so nothing of a case is lost;
* a case event that cannot be decoded is never skipped — a case's history, its view row and
  its audit chain would have a gap. The follower stops before it, visibly (``/readyz`` 503
  naming it, ``projections status``), and resumes once a release that knows it is running.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import Notification
from eventsourcing.utils import TopicError

from workflows.application import PetitionApplication

CASE_TOPICS = "domain.events:"  # a case event's topic names its class in domain/events.py


def decode(app: PetitionApplication, notification: Notification) -> Any:
    """The domain event, or None for an unknown event of another aggregate."""
    try:
        return app.mapper.to_domain_event(notification)
    except TopicError:
        if notification.topic.startswith(CASE_TOPICS):
            raise
        return None
