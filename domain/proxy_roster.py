"""The proxy-agent roster (代办员名册): who may file and follow cases for petitioners, and in
which grids (网格) each of them serves.

One aggregate with a fixed id, like the organisation chart: the roster is operator data that a
district loads as a whole file (Baotou's Jiuyuan district lists 52 agents), so a load replaces
it atomically and every version stays in the log; one read answers "is this a registered
agent" and "list them". Agents dropped by a later load stay known as retired: the cases that
name them still resolve, but nobody can entrust a case to them again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidCommand
from domain.units import OrgChart, UnitLevel

ROSTER_ID = uuid5(NAMESPACE_URL, "petition-engine/proxy-roster")


@dataclass(frozen=True)
class ProxyAgent:
    """A registered agent: a code (what cases name), a display name, the grids served, and the
    id of the API token the agent signs in with (None: the agent cannot act online)."""

    id: str
    name: str
    grids: tuple[str, ...]
    token: str | None = None

    def row(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "grids": list(self.grids), "token": self.token}


def agent_of(row: Mapping[str, Any]) -> ProxyAgent:
    return ProxyAgent(str(row["id"]), str(row["name"]), tuple(row["grids"]), row.get("token"))


def check_agents(agents: Iterable[ProxyAgent], org: OrgChart) -> list[ProxyAgent]:
    """Every agent with a code, a name, at least one grid of the chart, a token id if any; no
    code and no token twice."""
    out: dict[str, ProxyAgent] = {}
    tokens: set[str] = set()
    for agent in agents:
        if not agent.id.strip() or len(agent.id) > 64 or not agent.name.strip():
            raise InvalidCommand(f"proxy agent {agent.id!r}: a code (≤ 64) and a name are needed")
        if agent.id in out:
            raise InvalidCommand(f"proxy agent '{agent.id}' is listed twice")
        if not agent.grids:
            raise InvalidCommand(f"proxy agent '{agent.id}' serves no grid")
        for grid in agent.grids:
            if grid not in org or org.get(grid).level is not UnitLevel.GRID:
                raise InvalidCommand(f"proxy agent '{agent.id}': '{grid}' is not a grid (网格) "
                                     "of the organisation chart")
        if agent.token is not None:
            _check_token(agent)
            if agent.token in tokens:
                raise InvalidCommand(f"proxy agent '{agent.id}': token {agent.token} is "
                                     "another agent's")
            tokens.add(agent.token)
        out[agent.id] = agent
    return list(out.values())


def _check_token(agent: ProxyAgent) -> None:
    try:
        canonical = str(UUID(str(agent.token)))
    except ValueError:
        canonical = None
    if canonical != agent.token:
        raise InvalidCommand(f"proxy agent '{agent.id}': token must be a token id "
                             "(petition token list)")


class ProxyRoster(Aggregate):
    @staticmethod
    def create_id() -> UUID:
        return ROSTER_ID

    @event("Loaded")
    def __init__(self, agents: list[dict[str, Any]], source: str):
        self.agents: dict[str, dict[str, Any]] = {}
        self.active: list[str] = []
        self._put(agents, source)

    @event("Reloaded")
    def reload(self, agents: list[dict[str, Any]], source: str) -> None:
        self._put(agents, source)

    @event("Enrolled")
    def enrol(self, agent: dict[str, Any]) -> None:
        """Adds or updates one agent, keeping the others (generated and test data)."""
        self.agents[agent["id"]] = agent
        self.active = [*[a for a in self.active if a != agent["id"]], agent["id"]]

    def _put(self, agents: list[dict[str, Any]], source: str) -> None:
        self.agents.update({a["id"]: a for a in agents})
        self.active = [a["id"] for a in agents]
        self.source = source

    def get(self, agent_id: str) -> ProxyAgent | None:
        """The agent, active or retired; None if never registered."""
        row = self.agents.get(agent_id)
        return None if row is None else agent_of(row)

    def is_active(self, agent_id: str) -> bool:
        return agent_id in self.active

    def with_token(self, token_id: str) -> ProxyAgent | None:
        for agent_id in self.active:
            if self.agents[agent_id].get("token") == token_id:
                return agent_of(self.agents[agent_id])
        return None

    def listing(self) -> list[ProxyAgent]:
        """The active agents, in the roster's order."""
        return [agent_of(self.agents[a]) for a in self.active]
