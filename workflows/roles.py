"""Staff roles: what a token may do is declared per command against these."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    INTAKE = "intake"  # 登记受理: registers and routes; proxy agents are intake users
    HANDLER = "handler"  # 责任单位经办人: answers cases at their unit
    SUPERVISOR = "supervisor"  # 督办: chases units in their jurisdiction
    AUDITOR = "auditor"  # reads every history; personal data only with the pii scope
    ADMIN = "admin"
