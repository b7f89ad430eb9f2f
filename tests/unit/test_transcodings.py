"""The application's JSON transcoder writes exactly the library's bytes (stored events stay
what they were) while building its C encoder once instead of once per event (figure 1);
reading is tests/unit/test_fast_transcoder.py's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    TranscodingNotRegisteredError,
    UUIDAsHex,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.values import Location, Petitioner
from tests.unit.builders import register
from workflows.application import PetitionApplication
from workflows.transcodings import TRANSCODINGS, FastJSONTranscoder


def library() -> JSONTranscoder:
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO(), *TRANSCODINGS):
        transcoder.register(transcoding)
    return transcoder


def ours() -> FastJSONTranscoder:
    transcoder = FastJSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO(), *TRANSCODINGS):
        transcoder.register(transcoding)
    return transcoder


texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20)
times = st.datetimes(timezones=st.sampled_from(
    [UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5, minutes=-30))]))
floats = st.floats(allow_nan=True, allow_infinity=True)
leaves = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70), floats,
    texts, times, st.uuids(), st.decimals(allow_nan=False, allow_infinity=False).map(Decimal),
    st.builds(Location, district=texts, street=st.none() | texts, address=st.none() | texts,
              lat=st.none() | floats, lon=st.none() | floats),
    st.builds(Petitioner, name=texts, id_number=texts, phone=texts),
)
trees = st.recursive(leaves, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.tuples(inner, inner),
    st.dictionaries(texts, inner, max_size=4)), max_leaves=20)


@settings(max_examples=300)
@given(st.dictionaries(texts, trees, max_size=6))
def test_same_bytes_as_the_library(state: dict[str, Any]) -> None:
    """Strings of any script and control characters, floats with NaN and infinities, big
    integers, tuples, and every registered value type: byte for byte as the library writes."""
    assert ours().encode(state) == library().encode(state)


def test_events_of_a_case_encode_and_decode_as_before(org, policy) -> None:
    """A registered case's events (deadlines, value objects, times) and its snapshot."""
    fast, theirs = ours(), library()
    petition = register(org, policy=policy)
    states = [dict(vars(e)) for e in petition.collect_events()]
    states.append(dict(vars(petition.Snapshot.take(petition))))
    for state in states:
        encoded = fast.encode(state)
        assert encoded == theirs.encode(state)
        assert fast.decode(encoded) == theirs.decode(encoded)


def test_an_unregistered_type_is_refused_as_by_the_library() -> None:
    class Unknown:
        pass

    with pytest.raises(TranscodingNotRegisteredError):
        ours().encode({"x": [Unknown()]})


def test_the_application_uses_it() -> None:
    app = PetitionApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    try:
        assert type(app.mapper.transcoder) is FastJSONTranscoder
        value = {"at": datetime(2026, 6, 1, tzinfo=UTC), "id": UUID(int=7)}
        assert app.mapper.transcoder.encode(value) == library().encode(value)
    finally:
        app.close()
