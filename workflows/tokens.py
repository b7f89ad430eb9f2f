"""Bearer tokens for staff: issued once (printed, never stored), authenticated by hash."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application

from domain.api_token import DEFAULT_LIFETIME, ApiToken
from domain.errors import InvalidCommand
from domain.units import OrgChart
from workflows.access import Principal, Role
from workflows.clock import Clock
from workflows.proxy_agents import agent_with_token

PREFIX = "pt_"
LONGEST_LIFETIME = timedelta(days=3650)


class Unauthenticated(Exception):
    """No token, an unknown token, an expired or a revoked one (HTTP 401)."""


class UnknownToken(InvalidCommand):
    """An operator named a token id that was never issued (CLI exit 3)."""


@dataclass(frozen=True)
class IssuedToken:
    token: str
    token_id: UUID
    principal: Principal
    expires_at: datetime


def token_hash(token: str) -> str:
    """SHA-256 suffices: tokens carry 256 random bits, so there is nothing to brute-force."""
    return hashlib.sha256(token.encode()).hexdigest()


class TokenService:
    def __init__(self, app: Application[UUID], org: OrgChart, clock: Clock):
        self.app, self.org, self.clock = app, org, clock

    def issue(self, role: Role, unit: str, *, pii: bool = False, proxy: bool = False,
              label: str = "", expires_in: timedelta = DEFAULT_LIFETIME) -> IssuedToken:
        self.org.get(unit)
        if proxy and role is not Role.INTAKE:
            raise InvalidCommand("only intake tokens can be flagged as proxy agents")
        if not timedelta(minutes=1) <= expires_in <= LONGEST_LIFETIME:
            raise InvalidCommand("a token lives between one minute and ten years")
        token = PREFIX + secrets.token_urlsafe(32)
        digest = token_hash(token)
        now = self.clock.now()
        record = ApiToken(token_hash=digest, role=Role(role).value, unit=unit, pii=pii,
                          proxy=proxy, label=label, at=now, expires_at=now + expires_in)
        self.app.save(record)
        return IssuedToken(token, record.id, self._principal(record), record.expires_at)

    def revoke(self, token_id: UUID) -> None:
        try:
            record: object = self.app.repository.get(token_id)
        except AggregateNotFoundError:
            raise UnknownToken(f"no token with id {token_id}") from None
        if not isinstance(record, ApiToken):
            raise UnknownToken(f"no token with id {token_id}")
        if record.revoked_at is None:
            record.revoke(at=self.clock.now())
            self.app.save(record)

    def authenticate(self, token: str) -> Principal:
        digest = token_hash(token)
        try:
            record: object = self.app.repository.get(ApiToken.create_id(digest))
        except AggregateNotFoundError:
            raise Unauthenticated("unknown token") from None
        if not isinstance(record, ApiToken) or not secrets.compare_digest(
            record.token_hash, digest
        ):
            raise Unauthenticated("unknown token")
        if record.revoked_at is not None:
            raise Unauthenticated("token revoked")
        if record.expired(self.clock.now()):
            raise Unauthenticated("token expired")
        principal = self._principal(record)
        if record.proxy:  # a proxy token: which registered agent signs in with it
            principal = replace(principal, agent=agent_with_token(self.app, principal.token_id))
        return principal

    @staticmethod
    def _principal(record: ApiToken) -> Principal:
        return Principal(token_id=str(record.id), role=Role(record.role), unit=record.unit,
                         pii=record.pii, proxy=record.proxy)
