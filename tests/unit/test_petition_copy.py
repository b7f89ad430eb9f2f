"""The copy of a Petition that a command gets from the aggregate cache is a true deep copy:
equal in every value and type, sharing nothing that can change in place, so deciding on it
can never alter the cached case (``Petition.__deepcopy__`` skips the walk over values that
cannot change)."""

from __future__ import annotations

from copy import deepcopy
from enum import Enum

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.errors import DomainError
from domain.petition import Petition
from domain.petition_state import _IMMUTABLE
from tests.unit.builders import register
from tests.unit.test_snapshots import SCRIPTS, S, state


def _unchangeable(value: object) -> bool:
    return type(value) in _IMMUTABLE or isinstance(value, Enum) or (
        type(value) is tuple and all(_unchangeable(item) for item in value))


def _shared_mutables(original: Petition, twin: Petition) -> list[str]:
    """Attributes the copy shares with the case although they (or a container in them) could
    change in place: a dict of deadlines is a new dict, its frozen deadlines are shared."""
    shared = []
    for name, value in vars(twin).items():
        before = vars(original)[name]
        if _unchangeable(value):
            continue
        if value is before or (type(value) in (dict, list) and any(
                a is b and not _unchangeable(a) for a, b in _items(value, before))):
            shared.append(name)
    return shared


def _items(twin: object, original: object) -> list[tuple[object, object]]:
    if isinstance(twin, dict) and isinstance(original, dict):
        return [(twin[k], original[k]) for k in twin]
    if isinstance(twin, list) and isinstance(original, list):
        return list(zip(twin, original, strict=True))
    return []


@pytest.mark.parametrize("script", list(SCRIPTS))
def test_a_copy_equals_the_case_and_shares_nothing_mutable_after_every_event(
        org, policy, script) -> None:
    p = register(org)
    for name in ["registered", *SCRIPTS[script]]:
        if name != "registered":
            S[name](p, org, policy)
            p.collect_events()
        twin = deepcopy(p)
        assert type(twin) is Petition
        assert state(twin) == state(p), name
        assert _shared_mutables(p, twin) == [], name


def test_advancing_a_copy_leaves_the_original_as_it_was(org, policy) -> None:
    p = register(org)
    for name in SCRIPTS["long"][:4]:  # up to a supervision: the ladder holds a rung
        S[name](p, org, policy)
    p.collect_events()
    assert p.ladder
    before = state(p)
    twin = deepcopy(p)
    for name in SCRIPTS["long"][4:]:
        S[name](twin, org, policy)
    assert state(p) == before
    assert twin.version > p.version and not p.collect_events()


def test_a_new_mutable_attribute_is_copied_not_shared(org) -> None:
    p = register(org)
    p.__dict__["notes"] = ["first"]  # what a future attribute might look like
    twin = deepcopy(p)
    twin.__dict__["notes"].append("second")
    assert p.__dict__["notes"] == ["first"]


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.sampled_from(sorted(S)), max_size=25))
def test_any_history_copies_exactly(org, policy, steps) -> None:
    """Random command sequences (refused ones change nothing): after each, the copy equals
    the case and shares nothing that can change in place."""
    p = register(org)
    for name in steps:
        try:
            S[name](p, org, policy)
        except DomainError:
            continue
        p.collect_events()
        twin = deepcopy(p)
        assert state(twin) == state(p), name
        assert _shared_mutables(p, twin) == [], name
