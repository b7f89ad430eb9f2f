"""Who may do what, on which cases: roles and unit scoping, checked on the loaded case.

A principal acts for one unit; its reach is the cases whose units (by role: REACH_FIELDS) lie in
that unit's subtree of the organisation chart. A case out of reach is answered as an unknown
one, so that nobody learns which cases exist outside their reach. The check runs inside the
command, on the same aggregate the command decides on, so a case that moves between the check
and the write cannot slip through.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from domain.petition import Petition
from domain.units import OrgChart
from domain.values import ProxyScope
from workflows.command_table import COMMANDS, Derived
from workflows.commands import REGISTER_ROLES
from workflows.errors import AccessDenied, CaseNotFound
from workflows.roles import Role

__all__ = ["ACTION_ROLES", "Principal", "Role", "authorize", "authorize_read",
           "authorize_register", "in_scope"]


@dataclass(frozen=True)
class Principal:
    token_id: str
    role: Role
    unit: str
    pii: bool = False
    proxy: bool = False
    agent: str | None = None  # the registered proxy agent (代办员) who signs in with this token

    @property
    def actor(self) -> str:
        """How the principal appears in events: role, token id prefix and unit — no secret."""
        return f"{self.role.value}:{self.token_id[:8]}@{self.unit}"


ACTION_ROLES: Mapping[str, frozenset[Role]] = Derived(
    COMMANDS, "roles", extra={"register": REGISTER_ROLES})
"""Actions by staff roles, from the command declarations; petitioners rate and ask for review
with their query code instead."""


REACH_FIELDS: dict[Role, tuple[str, ...]] = {
    Role.INTAKE: ("received_by", "holder", "responsible_unit"),
    Role.SUPERVISOR: ("received_by", "holder", "responsible_unit"),
    Role.HANDLER: ("responsible_unit",),
}
"""The case's units through which each role reaches it; auditors and admins reach every case."""


@dataclass(frozen=True)
class Reach:
    """The cases a principal reaches: those with a unit of ``units`` in one of ``through``.

    The single rule behind reading one case and behind every list, queue and export: lists
    filter on the same fields (read models store them) against the same units.
    """

    units: frozenset[str]
    through: tuple[str, ...]

    def covers(self, petition: Petition) -> bool:
        return any(getattr(petition, field) in self.units for field in self.through)


def reach(principal: Principal, org: OrgChart, *, narrowed_to: str | None = None
          ) -> Reach | None:
    """The principal's reach (None: every case), or the part of it through ``narrowed_to``,
    a unit that must lie within the principal's own (AccessDenied if not, UnknownUnit if no
    such unit)."""
    everything = principal.role in (Role.ADMIN, Role.AUDITOR)
    if narrowed_to is not None:
        org.get(narrowed_to)
        if not everything and not (principal.unit in org
                                   and org.is_within(narrowed_to, principal.unit)):
            raise AccessDenied(f"'{narrowed_to}' is outside the reach of '{principal.unit}'")
    root = narrowed_to or (None if everything else principal.unit)
    if root is None:
        return None
    units = frozenset(org.subtree(root)) if root in org else frozenset()
    return Reach(units, REACH_FIELDS.get(principal.role, ("received_by", "holder",
                                                          "responsible_unit")))


def in_scope(principal: Principal, petition: Petition, org: OrgChart) -> bool:
    scope = reach(principal, org)
    return scope is None or scope.covers(petition)


AGENT_ACTIONS: dict[str, ProxyScope] = {
    "register": ProxyScope.FILE, "assign-proxy": ProxyScope.FOLLOW,
    "log-proxy-contact": ProxyScope.FOLLOW, "review": ProxyScope.REVIEW,
    "re-review": ProxyScope.REVIEW, "withdraw": ProxyScope.WITHDRAW,
}
"""What a registered proxy agent (a principal with ``agent``) may do, and the entrustment scope
each needs; an agent acts for petitioners, not as intake staff."""


def authorize(principal: Principal, action: str, petition: Petition, org: OrgChart,
              command: object | None = None, now: datetime | None = None) -> None:
    """CaseNotFound for a case out of reach (as for an unknown one: no hint that it exists);
    AccessDenied when the role may not act, when an intake caller sends a command that names
    a proxy agent (the declaration's ``acting_agent``) and is not that agent, or when a
    registered agent acts outside its entrustment on this case."""
    authorize_read(principal, petition, org)
    if principal.role not in ACTION_ROLES.get(action, frozenset()):
        raise AccessDenied(f"role '{principal.role}' may not {action}")
    field = COMMANDS[action].acting_agent if action in COMMANDS else None
    if principal.role is Role.INTAKE and field is not None:
        named = getattr(command, field, None)
        if principal.agent is None or principal.agent != named:
            raise AccessDenied(f"only the proxy agent '{named}' may {action} as that agent")
    if principal.agent is not None:
        _authorize_agent(principal.agent, action, petition, command, now)


def _authorize_agent(agent: str, action: str, petition: Petition, command: object | None,
                     now: datetime | None) -> None:
    """An agent names only itself; starting and following are checked by the case (422 for an
    expired or revoked entrustment), the rest needs an entrustment in force now with its scope."""
    scope = AGENT_ACTIONS.get(action)
    if scope is None:
        raise AccessDenied(f"a proxy agent may not {action}: it acts for petitioners who "
                           "entrusted it")
    named = getattr(command, "agent", agent)
    if named != agent:
        raise AccessDenied(f"proxy agent '{agent}' may not act as '{named}'")
    if scope is ProxyScope.FOLLOW:
        return
    entrustment = petition.entrustment
    if entrustment is None or entrustment.agent != agent or scope.value not in entrustment.scope \
            or (now is not None and not entrustment.in_force(now)):
        raise AccessDenied(f"no entrustment in force lets '{agent}' {action} on this case "
                           f"(scope '{scope.value}')")


def authorize_read(principal: Principal, petition: Petition, org: OrgChart) -> None:
    """A case out of reach is answered exactly as an unknown one."""
    if not in_scope(principal, petition, org):
        raise CaseNotFound(petition.id)


def authorize_register(principal: Principal, received_by: str, org: OrgChart,
                       proxy_agent: str | None = None) -> None:
    """A registered agent files only as itself (the entrustment it files under is the case's
    rule: scope ``file``)."""
    if principal.role not in ACTION_ROLES["register"]:
        raise AccessDenied(f"role '{principal.role}' may not register petitions")
    if principal.agent is not None and proxy_agent != principal.agent:
        raise AccessDenied(f"proxy agent '{principal.agent}' files only as itself "
                           "(proxy_agent, with the entrustment)")
    if principal.role is not Role.ADMIN and not (
        principal.unit in org and received_by in org and org.is_within(received_by, principal.unit)
    ):
        raise AccessDenied(f"unit '{received_by}' is outside the reach of '{principal.unit}'")
