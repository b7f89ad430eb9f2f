"""Fixtures of the domain unit tests: a small hand-built chart and a rest-day-free policy."""

from __future__ import annotations

import pytest

from domain.deadlines import DeadlinePolicy
from domain.units import OrgChart
from tests.unit.builders import plain_policy, small_chart


@pytest.fixture
def org() -> OrgChart:
    return small_chart()


@pytest.fixture
def policy() -> DeadlinePolicy:
    return plain_policy()
