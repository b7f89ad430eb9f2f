"""The event catalogue in docs/ must tell the truth about the code: every event, every field,
and the state table as the lifecycle module defines it."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from domain.events import ALL_EVENTS
from domain.lifecycle import allowed_commands
from domain.values import Status

CATALOGUE = (Path(__file__).parents[2] / "docs" / "events.md").read_text(encoding="utf-8")
COMMON = {"originator_id", "originator_version", "timestamp", "originator_topic", "at", "actor"}


def _row(name: str) -> str:
    match = re.search(rf"^\| `{name}` \| (\d+) \|(.*)$", CATALOGUE, re.MULTILINE)
    assert match, f"docs/events.md has no row for {name}"
    return match.group(0)


@pytest.mark.parametrize("event_class", ALL_EVENTS, ids=lambda cls: cls.__name__)
def test_every_event_and_field_is_catalogued(event_class: type) -> None:
    row = _row(event_class.__name__)
    version = int(row.split("|")[2])
    assert version == getattr(event_class, "class_version", 1)
    for field in dataclasses.fields(event_class):
        if field.name not in COMMON:
            assert f"`{field.name}`" in row, f"{event_class.__name__}.{field.name} not documented"


@pytest.mark.parametrize("status", list(Status), ids=str)
def test_state_table_matches_lifecycle(status: Status) -> None:
    match = re.search(rf"^\| {status.value} \| (.*) \|$", CATALOGUE, re.MULTILINE)
    assert match, f"no state-table row for {status.value}"
    without_notes = re.sub(r" \([^)]*\)", "", match.group(1))
    documented = [c.strip() for c in without_notes.split(", ")]
    expected = list(allowed_commands(status)) or ["—"]
    assert documented == expected
