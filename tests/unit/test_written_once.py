"""An index record's event built without its aggregate is the event the aggregate records."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from hypothesis import given
from hypothesis import strategies as st

from domain.concluded_matters import PetitionerCase
from domain.query_code_index import QueryCodeIndex

texts = st.text(min_size=1, max_size=80)


def _same(built: Any, recorded: Any) -> None:
    assert type(built) is type(recorded)
    drop = {"timestamp"}
    assert list(vars(built)) == list(vars(recorded))  # the same stored form
    assert {k: v for k, v in vars(built).items() if k not in drop} == \
        {k: v for k, v in vars(recorded).items() if k not in drop}
    assert built.timestamp.tzinfo is not None


@given(texts, st.uuids())
def test_the_query_code_index_event(code_hash: str, case_id: UUID) -> None:
    built = QueryCodeIndex.indexed(code_hash, case_id)
    _same(built, QueryCodeIndex(query_code_hash=code_hash, case_id=case_id).collect_events()[0])
    index = built.mutate(None)
    assert isinstance(index, QueryCodeIndex) and index.id == QueryCodeIndex.create_id(code_hash)
    assert (index.query_code_hash, index.case_id, index.version) == (code_hash, case_id, 1)


@given(texts, st.uuids())
def test_the_petitioner_case_event(key: str, case_id: UUID) -> None:
    built = PetitionerCase.indexed(key, case_id)
    _same(built, PetitionerCase(petitioner_key=key, case_id=case_id).collect_events()[0])
    record = built.mutate(None)
    assert isinstance(record, PetitionerCase) and record.id == PetitionerCase.create_id(key, case_id)


def test_saved_as_events_they_are_read_back_as_the_aggregates() -> None:
    app = Application[UUID]()
    case_id = UUID(int=7)
    app.save(QueryCodeIndex.indexed("h", case_id), PetitionerCase.indexed("k", case_id))
    index = app.repository.get(QueryCodeIndex.create_id("h"))
    record = app.repository.get(PetitionerCase.create_id("k", case_id))
    assert (index.query_code_hash, index.case_id) == ("h", case_id)
    assert (record.petitioner_key, record.case_id) == ("k", case_id)
