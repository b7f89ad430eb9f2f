"""An API token's life: issued to a role at a unit until it expires, possibly revoked earlier.
Only its hash is known.

The aggregate's id is a uuid5 of the token's hash, so authenticating a request is one read of
one small aggregate, never a scan.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

NAMESPACE = uuid5(NAMESPACE_URL, "petition-engine/api-token")
DEFAULT_LIFETIME = timedelta(days=180)
"""Also the lifetime of tokens issued before tokens had an expiry (their events carry none)."""


class ApiToken(Aggregate):
    @staticmethod
    def create_id(token_hash: str) -> UUID:
        return uuid5(NAMESPACE, token_hash)

    @event("Issued")
    def __init__(self, token_hash: str, role: str, unit: str, pii: bool, proxy: bool,
                 label: str, at: datetime, expires_at: datetime | None = None):
        self.token_hash, self.role, self.unit = token_hash, role, unit
        self.pii, self.proxy, self.label = pii, proxy, label
        self.issued_at = at
        self.expires_at: datetime = expires_at or at + DEFAULT_LIFETIME
        self.revoked_at: datetime | None = None

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at

    @event("Revoked")
    def revoke(self, at: datetime) -> None:
        self.revoked_at = at
