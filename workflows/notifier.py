"""The notifier port: how a message reaches a citizen's phone (verification codes).

The application only needs "send this text to this number". The embedded default writes to an
outbox table an operator can read (adapters/outbox.py); an SMS gateway plugs in behind the same
interface by configuration (PETITION_NOTIFIER, docs/pages.md).
"""

from __future__ import annotations

from typing import Protocol


class Notifier(Protocol):
    def send(self, phone: str, message: str) -> None:
        """Delivers ``message`` to ``phone`` or raises; never logs the message itself."""
