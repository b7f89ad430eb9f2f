"""Proves the cipher key against the stored events before the engine writes anything.

A process given another key would otherwise write events that every follower (views, verify,
relay) fails to decrypt, stopping them all behind the first such event. Decrypting the first
and the latest stored events shows that this process's keys open both ends of the log (after a
rotation they were written by different keys).
"""

from __future__ import annotations

from eventsourcing.application import Application

from adapters.keys import KeyMismatch


def prove_cipher_key(app: Application, where: str) -> None:
    """Raises KeyMismatch unless every checked stored event decrypts with this process's keys."""
    cipher = app.mapper.cipher
    last = app.recorder.max_notification_id()
    if cipher is None or not last:
        return
    for notification in _ends(app, last):
        try:
            cipher.decrypt(notification.state)
        except ValueError as error:
            raise KeyMismatch(
                f"PETITION_CIPHER_KEY does not open the events stored in {where} (position "
                f"{notification.id}: {_reason(error)}); start with the key they were written "
                "with (an older one goes in PETITION_CIPHER_READ_KEYS); refusing to write"
            ) from None


def _ends(app: Application, last: int) -> list:
    first = app.recorder.select_notifications(start=None, limit=1)
    latest = app.recorder.select_notifications(start=last, limit=1)
    return [*first, *(n for n in latest if not first or n.id != first[0].id)]


def _reason(error: ValueError) -> str:
    return str(error).removeprefix("Invalid cipher tag: ") or "invalid cipher tag"
