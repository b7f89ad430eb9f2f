"""The index records' name-based ids are ``uuid.uuid5``'s, whole and by halves: stored ids
must not change."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from domain.concluded_matters import (
    CASE_NAMESPACE,
    NAMESPACE,
    PetitionerCase,
    PetitionerCases,
    petitioner_range,
)
from domain.name_ids import NameIds
from domain.query_code_index import NAMESPACE as CODE_NAMESPACE
from domain.query_code_index import QueryCodeIndex


@given(st.uuids(), st.text(max_size=80))
def test_ids_and_halves_are_uuid5s(namespace: uuid.UUID, name: str) -> None:
    expected = uuid.uuid5(namespace, name)
    ids = NameIds(namespace)
    assert ids.id(name) == expected and ids.id(name).version == 5
    assert ids.high(name) == expected.bytes[:8] and ids.low(name) == expected.bytes[8:]


@given(st.text(max_size=80), st.uuids())
def test_the_index_records_ids_are_as_first_defined(key: str, case_id: uuid.UUID) -> None:
    """The definitions the stored records were written with (docs/events.md)."""
    prefix = uuid.uuid5(CASE_NAMESPACE, key).bytes[:8]
    pair = uuid.uuid5(CASE_NAMESPACE, f"{key}/{case_id}")
    assert PetitionerCase.create_id(key, case_id) == uuid.UUID(bytes=prefix + pair.bytes[8:])
    assert petitioner_range(key) == (uuid.UUID(bytes=prefix + bytes(8)),
                                     uuid.UUID(bytes=prefix + b"\xff" * 8))
    assert PetitionerCases.create_id(key) == uuid.uuid5(NAMESPACE, key)
    assert QueryCodeIndex.create_id(key) == uuid.uuid5(CODE_NAMESPACE, key)
