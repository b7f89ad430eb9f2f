"""Who may be named a proxy agent (代办员) of a case.

Until the proxy registry exists (issue 15), an agent is the holder of a proxy token: an intake
token issued with ``--proxy`` and not revoked. The case names the agent by that token's id (as
``petition token list`` shows it), so the name is checkable and a revoked agent cannot be
named again; any other string is refused before anything is appended.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application

from domain.api_token import ApiToken
from domain.errors import InvalidCommand

GENERATED = "generated:"
"""Prefix of the token hash of a generated agent: no bearer token hashes to it (SHA-256 hex),
so such an agent is named in synthetic data but can never sign in."""


def check_proxy_agent(app: Application[UUID], agent: str) -> None:
    """Refuses an agent that is not the id of a live proxy token, in canonical form."""
    try:
        token_id = UUID(agent)
    except ValueError:
        token_id = None
    if token_id is None or str(token_id) != agent:
        raise InvalidCommand(
            f"proxy agent '{agent}' must be the id of a proxy token (petition token list)")
    record = _token(app, token_id)
    if record is None or not record.proxy:
        raise InvalidCommand(f"proxy agent '{agent}' is not a proxy token's id")
    if record.revoked_at is not None:
        raise InvalidCommand(f"proxy agent '{agent}': the token was revoked")


def _token(app: Application[UUID], token_id: UUID) -> ApiToken | None:
    try:
        record: Any = app.repository.get(token_id)
    except AggregateNotFoundError:
        return None
    return record if isinstance(record, ApiToken) else None


def generated_agent_id(name: str) -> str:
    """The agent id ``enrol_generated_agent`` gives ``name``: the same name, the same agent,
    so a resumed run names the same one."""
    return str(ApiToken.create_id(GENERATED + name))


def enrol_generated_agent(app: Application[UUID], name: str, unit: str, at: datetime) -> str:
    """A proxy agent for demo, simulated and test data (once per name); returns its id."""
    agent = generated_agent_id(name)
    try:
        app.repository.get(UUID(agent))
    except AggregateNotFoundError:
        app.save(ApiToken(token_hash=GENERATED + name, role="intake", unit=unit, pii=False,
                          proxy=True, label=f"generated proxy agent {name}", at=at))
    return agent
