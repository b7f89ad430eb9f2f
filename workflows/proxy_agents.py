"""Who may be named a proxy agent (代办员) of a case: an active agent of the roster.

The roster (``domain/proxy_roster.py``) is loaded with ``petition proxies load FILE``; a case
names an agent by its code. Any other string is refused before anything is appended, and so is
an agent whom a later load retired.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application

from domain.errors import InvalidCommand
from domain.proxy_roster import ROSTER_ID, ProxyAgent, ProxyRoster, check_agents
from domain.units import OrgChart, UnitLevel

GENERATED = "gen-"
"""Prefix of a generated agent's code (demo, simulation and test data): it has no token, so
such an agent is named in data but never signs in."""


def roster(app: Application[UUID]) -> ProxyRoster | None:
    try:
        record: Any = app.repository.get(ROSTER_ID)
    except AggregateNotFoundError:
        return None
    return record if isinstance(record, ProxyRoster) else None


def registered_agent(app: Application[UUID], agent: str) -> ProxyAgent:
    """The active agent with code ``agent``; InvalidCommand (422) for any other string."""
    record = roster(app)
    found = record.get(agent) if record is not None else None
    if found is None:
        raise InvalidCommand(f"proxy agent '{agent}' is not a registered agent "
                             "(petition proxies list)")
    if record is None or not record.is_active(agent):
        raise InvalidCommand(f"proxy agent '{agent}' was retired from the roster")
    return found


def check_proxy_agent(app: Application[UUID], agent: str) -> None:
    """Refuses a string that is not an active registered agent's code."""
    registered_agent(app, agent)


def check_entrusted_agent(app: Application[UUID], agent: str, grid: str) -> None:
    """An entrustment names an active agent who serves the petitioner's grid."""
    found = registered_agent(app, agent)
    if grid not in found.grids:
        raise InvalidCommand(f"proxy agent '{agent}' does not serve grid '{grid}' "
                             f"(serves {', '.join(found.grids)})")


def agent_with_token(app: Application[UUID], token_id: str) -> str | None:
    """The code of the active agent who signs in with this token, if any."""
    record = roster(app)
    found = record.with_token(token_id) if record is not None else None
    return found.id if found is not None else None


def load_roster(app: Application[UUID], agents: list[ProxyAgent], org: OrgChart,
                source: str) -> ProxyRoster:
    """Validates ``agents`` against the chart and puts them in force (one event)."""
    rows = [a.row() for a in check_agents(agents, org)]
    record = roster(app)
    if record is None:
        record = ProxyRoster(agents=rows, source=source)
    else:
        record.reload(agents=rows, source=source)
    app.save(record)
    return record


def generated_agent_id(name: str) -> str:
    """The code ``enrol_generated_agent`` gives ``name``: the same name, the same agent, so a
    resumed run names the same one."""
    return GENERATED + name


def enrol_generated_agent(app: Application[UUID], name: str, unit: str, at: datetime,
                          token: str | None = None) -> str:
    """An agent for demo, simulated and test data serving the grids below ``unit`` (once per
    name), signing in with ``token`` if given; returns its code. ``at`` is kept for callers:
    the roster records no business time."""
    del at
    agent = generated_agent_id(name)
    record = roster(app)
    if record is not None and record.is_active(agent):
        return agent
    org: OrgChart = app.org  # type: ignore[attr-defined]
    grids = tuple(u for u in org.subtree(unit) if org.get(u).level is UnitLevel.GRID)
    (row,) = [a.row() for a in check_agents(
        [ProxyAgent(agent, f"generated proxy agent {name}", grids, token)], org)]
    if record is None:
        record = ProxyRoster(agents=[row], source="generated")
    else:
        record.enrol(agent=row)
    app.save(record)
    return agent
