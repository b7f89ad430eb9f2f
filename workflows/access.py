"""Who may do what, on which cases: roles and unit scoping, checked on the loaded case.

A principal acts for one unit; its reach is that unit's subtree of the organisation chart. The
check runs inside the command, on the same aggregate the command decides on, so a case that
moves between the check and the write cannot slip through.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from domain.petition import Petition
from domain.units import OrgChart
from workflows.errors import AccessDenied


class Role(StrEnum):
    INTAKE = "intake"  # 登记受理: registers and routes; proxy agents are intake users
    HANDLER = "handler"  # 责任单位经办人: answers cases at their unit
    SUPERVISOR = "supervisor"  # 督办: chases units in their jurisdiction
    AUDITOR = "auditor"  # reads every history; personal data only with the pii scope
    ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    token_id: str
    role: Role
    unit: str
    pii: bool = False
    proxy: bool = False

    @property
    def actor(self) -> str:
        """How the principal appears in events: role, token id prefix and unit — no secret."""
        return f"{self.role.value}:{self.token_id[:8]}@{self.unit}"


I, H, S, A = Role.INTAKE, Role.HANDLER, Role.SUPERVISOR, Role.ADMIN

ACTION_ROLES: dict[str, frozenset[Role]] = {
    "register": frozenset({I, A}),
    "accept": frozenset({I, A}),
    "decline": frozenset({I, A}),
    "delegate": frozenset({I, A}),
    "assign-proxy": frozenset({I, S, A}),
    "log-proxy-contact": frozenset({I, H, A}),
    "answer": frozenset({H, A}),
    "extend-request": frozenset({H, A}),
    "extend": frozenset({S, A}),
    "supervise": frozenset({S, A}),
    "escalate": frozenset({S, A}),
    "reopen": frozenset({S, A}),
    "confirm-answer": frozenset({S, A}),
    "close": frozenset({I, H, S, A}),
    "withdraw": frozenset({I, A}),
    "review": frozenset({I, A}),
    "re-review": frozenset({I, A}),
    "review-decision": frozenset({S, A}),
    "re-review-decision": frozenset({S, A}),
    "rate": frozenset({A}),
}
"""Actions by staff roles; petitioners rate and ask for review with their query code instead."""


def case_units(petition: Petition, role: Role) -> tuple[str, ...]:
    """The units through which a role reaches a case."""
    if role is Role.HANDLER:
        return tuple(u for u in (petition.responsible_unit,) if u)
    units = [petition.received_by, petition.holder, petition.responsible_unit]
    return tuple(u for u in units if u)


def in_scope(principal: Principal, petition: Petition, org: OrgChart) -> bool:
    if principal.role in (Role.ADMIN, Role.AUDITOR):
        return True
    if principal.unit not in org:
        return False
    return any(org.is_within(u, principal.unit) for u in case_units(petition, principal.role)
               if u in org)


def authorize(principal: Principal, action: str, petition: Petition, org: OrgChart) -> None:
    """Raises AccessDenied unless the principal's role may act and the case is in its reach."""
    if principal.role not in ACTION_ROLES.get(action, frozenset()):
        raise AccessDenied(f"role '{principal.role}' may not {action}")
    if action == "log-proxy-contact" and principal.role is Role.INTAKE and not principal.proxy:
        raise AccessDenied("only proxy agents among intake users log proxy contacts")
    if not in_scope(principal, petition, org):
        raise AccessDenied(f"case {petition.id} is outside the reach of unit '{principal.unit}'")


def authorize_read(principal: Principal, petition: Petition, org: OrgChart) -> None:
    if not in_scope(principal, petition, org):
        raise AccessDenied(f"case {petition.id} is outside the reach of unit '{principal.unit}'")


def authorize_register(principal: Principal, received_by: str, org: OrgChart) -> None:
    if principal.role not in ACTION_ROLES["register"]:
        raise AccessDenied(f"role '{principal.role}' may not register petitions")
    if principal.role is not Role.ADMIN and not (
        principal.unit in org and received_by in org and org.is_within(received_by, principal.unit)
    ):
        raise AccessDenied(f"unit '{received_by}' is outside the reach of '{principal.unit}'")
