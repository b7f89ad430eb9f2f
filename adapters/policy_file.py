"""Reads the deadline policy (TOML) that operators edit; the packaged one is the default."""

from __future__ import annotations

import tomllib
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from adapters.rest_days import ChineseRestDays
from domain.business_time import BusinessTimeRules
from domain.deadlines import DeadlinePolicy, PolicyRules
from domain.errors import InvalidCommand
from domain.supervision_ladder import LadderRules

DEFAULT_POLICY = "policy.toml"
CALENDAR_KEYS = frozenset({"extra_rest_days", "extra_working_days"})  # days win over all else


def _read(path: Path | None) -> dict[str, Any]:
    text = path.read_text() if path else _packaged(DEFAULT_POLICY)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InvalidCommand(f"policy file {path}: {error}") from None


def load_ladder(path: Path | None = None) -> LadderRules:
    """The ``[supervision]`` section: when each rung of the 三函一约谈 ladder triggers."""
    return LadderRules.from_mapping(_read(path).get("supervision", {}))


def load_business_time(path: Path | None = None) -> BusinessTimeRules:
    """The ``[business_time]`` section: how far back and ahead a command's ``at`` may lie."""
    return BusinessTimeRules.from_mapping(_read(path).get("business_time", {}))


def load_policy(path: Path | None = None) -> DeadlinePolicy:
    data = _read(path)
    data.pop("supervision", None)
    data.pop("business_time", None)
    calendar = data.pop("calendar", {})
    unknown = sorted(set(calendar) - CALENDAR_KEYS)
    if unknown:
        raise InvalidCommand(f"policy: unknown [calendar] setting(s) {', '.join(unknown)}")
    rest_days = ChineseRestDays(
        extra_rest_days=_dates(calendar.get("extra_rest_days", [])),
        extra_working_days=_dates(calendar.get("extra_working_days", [])),
    )
    if isinstance(data.get("proxy_contact_kinds"), list):
        data["proxy_contact_kinds"] = tuple(data["proxy_contact_kinds"])
    if "proxy_chase" in data:
        data["proxy_chase"] = {k: None if v == "off" else v for k, v in data["proxy_chase"].items()}
    if "tracks" in data:
        data["tracks"] = {k: tuple(v) if isinstance(v, list) else v
                          for k, v in data["tracks"].items()}
    return DeadlinePolicy(PolicyRules.from_mapping(data), rest_days)


def _dates(values: list[Any]) -> list[date]:
    try:
        return [v if isinstance(v, date) else date.fromisoformat(str(v)) for v in values]
    except (TypeError, ValueError):
        raise InvalidCommand(f"policy: [calendar] dates must be ISO dates, got {values!r}") from None


def _packaged(name: str) -> str:
    return resources.files("adapters.data").joinpath(name).read_text(encoding="utf-8")
