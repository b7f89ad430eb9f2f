"""Plain-data views of one case and its events, for the CLI, HTTP and exports.

Personal data is replaced by ``REDACTED`` unless the caller is allowed to see it.
"""

from __future__ import annotations

from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any
from uuid import UUID

from domain.deadlines import Deadline, DeadlinePolicy
from domain.petition import Petition

REDACTED = "<redacted>"
PERSONAL_FIELDS = frozenset({"petitioner"})
HIDDEN_FIELDS = frozenset({"query_code_hash"})  # the petitioner's credential, hashed: no reader's



def plain(value: Any) -> Any:
    """JSON-ready: enums to values, times to ISO strings, dataclasses to dicts."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if is_dataclass(value) and not isinstance(value, type):
        return {k: plain(v) for k, v in asdict(value).items()}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def deadline_dict(deadline: Deadline | None, now: datetime | None = None) -> dict[str, Any] | None:
    if deadline is None:
        return None
    out: dict[str, Any] = plain(deadline)
    if now is not None:
        out["overdue"] = deadline.is_overdue(now)
    return out


def case_summary(
    petition: Petition, policy: DeadlinePolicy, now: datetime, *, pii: bool = False
) -> dict[str, Any]:
    state = {k: v for k, v in vars(petition).items()
             if not k.startswith("_") and k not in HIDDEN_FIELDS}
    state["petitioner"] = petition.petitioner if pii else REDACTED
    return {
        "case_id": str(petition.id),
        "version": petition.version,
        **{k: plain(v) for k, v in state.items()},
        "obligated_unit": petition.obligated_unit,
        "allowed_commands": list(petition.allowed_commands),
        "deadline": deadline_dict(policy.current(petition), now),
        "open_deadlines": [deadline_dict(d, now) for d in policy.open_deadlines(petition)],
    }


def event_record(event: Any, *, pii: bool = False) -> dict[str, Any]:
    """One event as the history shows it: type, version, business and recorded time, data."""
    data = {
        k: (REDACTED if k in PERSONAL_FIELDS and not pii else plain(v))
        for k, v in vars(event).items()
        if k not in {"originator_id", "originator_version", "timestamp", "originator_topic",
                     "at", "actor", *HIDDEN_FIELDS}
    }
    return {
        "version": event.originator_version,
        "type": type(event).__name__,
        "at": plain(event.at),
        "recorded_at": plain(event.timestamp),
        "actor": event.actor,
        "data": data,
    }
