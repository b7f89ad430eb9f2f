"""What a case command asks of the aggregate: its declaration's method (see command_table.py)."""

from __future__ import annotations

from datetime import datetime

from domain.deadlines import Deadline, DeadlinePolicy
from domain.derived_times import check_derivable
from domain.petition import Petition
from domain.supervision_ladder import LadderRules
from domain.units import OrgChart
from workflows import commands as c
from workflows.command_table import COMMANDS


def decide(petition: Petition, cmd: c.CaseCommand, at: datetime, org: OrgChart,
           policy: DeadlinePolicy, ladder: LadderRules) -> Deadline | None:
    """Applies ``cmd`` to the loaded case; the aggregate raises if it refuses, and so does
    this if a deadline or ladder date of the resulting state cannot be computed — all before
    anything is appended. Returns the resulting state's current deadline."""
    COMMANDS.of(type(cmd)).apply(petition, cmd, at=at, org=org, policy=policy)
    return check_derivable(petition, policy, ladder)
