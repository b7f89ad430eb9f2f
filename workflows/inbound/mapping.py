"""An external work order → a ``RegisterPetition``, or the reason it cannot be one.

Pure and total: whatever bytes arrive, ``translate`` returns either a ``Mapped`` order (the
command and the (source, external id) that makes its registration idempotent) or a
``Rejected`` with a one-line reason for the dead-letter topic — it never raises, so one bad
order can never stop a partition. Reasons name fields and rules, never the values (they may be
personal data and end up in logs).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from domain.values import Channel
from workflows.commands import RegisterPetition
from workflows.inbound.order import InboundOrder

MAX_REASON = 500


@dataclass(frozen=True)
class SourceRule:
    """One source system: the channel its orders arrive by and where replies go."""

    channel: Channel
    reply_topic: str


@dataclass(frozen=True)
class InboundMap:
    """The operator's translation of sources, categories, areas and units (PETITION_INBOUND_MAP)."""

    sources: Mapping[str, SourceRule]
    categories: Mapping[str, str] = field(default_factory=dict)
    areas: Mapping[str, str] = field(default_factory=dict)  # area code → district unit id
    units: Mapping[str, str] = field(default_factory=dict)  # unit code → unit id

    @property
    def reply_topics(self) -> dict[str, str]:
        return {name: rule.reply_topic for name, rule in self.sources.items()}


@dataclass(frozen=True)
class Mapped:
    source: str
    external_id: str
    command: RegisterPetition


@dataclass(frozen=True)
class Rejected:
    reason: str
    source: str | None = None  # when the order got far enough to name them
    external_id: str | None = None


def translate(raw: bytes | None, rules: InboundMap) -> Mapped | Rejected:
    """The command for one message's value, or why there is none."""
    try:
        data = json.loads(raw) if raw is not None else None
    except (ValueError, TypeError) as error:  # UnicodeDecodeError is a ValueError
        return Rejected(_short(f"not JSON: {type(error).__name__}"))
    if not isinstance(data, dict):
        return Rejected(f"not a JSON object but {type(data).__name__}")
    try:
        order = InboundOrder.model_validate(data)
    except ValidationError as error:
        return Rejected(_reasons(error), *_ids(data))
    except (ValueError, TypeError, RecursionError) as error:  # defensive: never raise
        return Rejected(_short(f"invalid order: {type(error).__name__}"), *_ids(data))
    return _mapped(order, rules)


def _mapped(order: InboundOrder, rules: InboundMap) -> Mapped | Rejected:
    def reject(reason: str) -> Rejected:
        return Rejected(_short(reason), order.source, order.external_id)

    rule = rules.sources.get(order.source)
    if rule is None:
        return reject(f"unknown source {order.source!r}")
    category = rules.categories.get(order.category)
    if category is None:
        return reject(f"unmapped category {order.category!r}")
    district = rules.areas.get(order.area)
    if district is None:
        return reject(f"unmapped area {order.area!r}")
    unit = district if order.unit is None else rules.units.get(order.unit)
    if unit is None:
        return reject(f"unmapped unit {order.unit!r}")
    try:
        command = RegisterPetition.model_validate({
            "actor": f"inbound:{order.source}",
            "at": order.received_at,
            "channel": rule.channel,
            "subject": order.subject,
            "content": order.content,
            "category": category,
            "location": {"district": district, "address": order.address},
            "petitioner": order.caller.model_dump(),
            "received_by": unit,
        })
    except ValidationError as error:
        return reject(_reasons(error))
    return Mapped(order.source, order.external_id, command)


def _reasons(error: ValidationError) -> str:
    """``field: rule`` for each error, without the offending values."""
    parts = []
    for item in error.errors(include_input=False, include_url=False):
        where = ".".join(str(part) for part in item["loc"]) or "order"
        parts.append(f"{where}: {item['msg']}")
    return _short("; ".join(parts))


def _ids(data: dict[str, Any]) -> tuple[str | None, str | None]:
    """The order's source and external id, when they are usable strings."""
    def text(key: str) -> str | None:
        value = data.get(key)
        return value.strip()[:64] if isinstance(value, str) and value.strip() else None
    return text("source"), text("external_id")


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 1] + "…"
