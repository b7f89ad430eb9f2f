"""Plain-data views of one case and its events, for the CLI, HTTP and exports.

What of them a reader sees is decided by its audience (``workflows/privacy.py``).
"""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any
from uuid import UUID

from domain.deadlines import Deadline, DeadlinePolicy
from domain.group_petition import representatives
from domain.petition import Petition
from workflows.privacy import (
    REDACTED,
    Audience,
    Treatment,
    disclose,
    has_nested_rules,
    staff_audience,
    treatment,
)

__all__ = ["REDACTED", "case_summary", "deadline_dict", "event_data", "event_record", "plain"]
_EVENT_META = frozenset({"originator_id", "originator_version", "timestamp", "originator_topic"})

_AS_IS = frozenset({str, int, float, bool, type(None)})


def plain(value: Any) -> Any:
    """JSON-ready: enums to values, times to ISO strings, dataclasses to dicts.

    Called for every field of every event the relay sends: plain values return first, and a
    dataclass is walked once (``asdict`` would copy it, then this walked the copy), by its
    field names looked up once per class."""
    kind = type(value)
    if kind in _AS_IS:
        return value
    if kind is datetime or kind is date:
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    names = _field_names(kind)
    if names is not None:
        return {name: plain(getattr(value, name)) for name in names}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


_FIELD_NAMES: dict[type, tuple[str, ...] | None] = {}


def _field_names(kind: type) -> tuple[str, ...] | None:
    """A dataclass's field names (None: not a dataclass), remembered per class."""
    try:
        return _FIELD_NAMES[kind]
    except KeyError:
        names = tuple(f.name for f in fields(kind)) if is_dataclass(kind) else None
        _FIELD_NAMES[kind] = names
        return names


def deadline_dict(deadline: Deadline | None, now: datetime | None = None) -> dict[str, Any] | None:
    if deadline is None:
        return None
    out: dict[str, Any] = plain(deadline)
    if now is not None:
        out["overdue"] = deadline.is_overdue(now)
    return out


def case_summary(
    petition: Petition, policy: DeadlinePolicy, now: datetime, *, pii: bool = False,
    audience: Audience | None = None,
) -> dict[str, Any]:
    """The case for staff (``pii``: with the pii scope), or for another ``audience``."""
    state = {k: plain(v) for k, v in vars(petition).items() if not k.startswith("_")}
    return disclose(audience or staff_audience(pii), {
        "case_id": str(petition.id),
        "version": petition.version,
        **state,
        "attachments": plain(petition.attachments),  # a class default until one is added
        "documents": plain(petition.documents),  # staff's files (DocumentAttached), likewise
        "obligated_unit": petition.obligated_unit,
        "group_petition": petition.group_petition,  # 集体访: flagged for leadership attention
        "representatives": representatives(petition.group_members),
        "allowed_commands": list(petition.allowed_commands),
        "deadline": deadline_dict(policy.current(petition), now),
        "open_deadlines": [deadline_dict(d, now) for d in policy.open_deadlines(petition)],
    })


def event_data(event: Any, audience: Audience, without: tuple[str, ...] = ()
               ) -> dict[str, Any]:
    """An event's own fields (not its place in the log, nor those ``without``), as
    ``audience`` may see them: ``disclose(audience, {k: plain(v) …}, type)`` in one walk.

    Each field is handled as a plan per audience and event type says (kept, redacted, left
    out, or disclosed field by field within), so a field left out or redacted is never made
    plain; the audit trail and the relay call this for every event."""
    event_type = type(event).__name__
    plan = _PLANS.get((audience, event_type, without))
    if plan is None:
        plan = _PLANS.setdefault((audience, event_type, without), {})
    out: dict[str, Any] = {}
    for key, value in vars(event).items():
        how = plan.get(key)
        if how is None:
            how = plan[key] = _handling(audience, event_type, key, without)
        if how is _SHOW:
            out[key] = value if type(value) in _AS_IS else plain(value)
        elif how is _REDACT:
            out[key] = REDACTED
        elif how is _WITHIN:
            out[key] = disclose(audience, {key: plain(value)}, event_type)[key]
    return out


_SHOW, _REDACT, _WITHIN, _LEAVE_OUT = "show", "redact", "within", "leave out"
_PLANS: dict[tuple[Audience, str, tuple[str, ...]], dict[str, str]] = {}


def _handling(audience: Audience, event_type: str, key: str, without: tuple[str, ...]) -> str:
    if key in _EVENT_META or key in without:
        return _LEAVE_OUT
    how = treatment(audience, key, event_type)
    if how is Treatment.REMOVED:
        return _LEAVE_OUT
    if how is Treatment.REDACTED:
        return _REDACT
    return _WITHIN if has_nested_rules(key) else _SHOW


def event_record(event: Any, *, pii: bool = False) -> dict[str, Any]:
    """One event as the history shows it: type, version, business and recorded time, data."""
    data = event_data(event, staff_audience(pii), without=("at", "actor"))
    return {
        "version": event.originator_version,
        "type": type(event).__name__,
        "at": plain(event.at),
        "recorded_at": plain(event.timestamp),
        "actor": event.actor,
        "data": data,
    }
