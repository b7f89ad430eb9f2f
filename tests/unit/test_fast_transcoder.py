"""The application's transcoder reads exactly what the library's reads, from the same bytes.

``FastJSONTranscoder`` (workflows/transcodings.py) writes with the library's encoder and reads
with orjson and one walk; whatever it decodes must equal — types included — what the library's
``JSONTranscoder`` decodes, and whatever the library refuses it must refuse with the same error.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Mapper,
    Transcoding,
    UUIDAsHex,
)
from hypothesis import given
from hypothesis import strategies as st

from domain.deadlines import Deadline, DeadlineKind
from domain.petition import Petition
from domain.values import Location, Petitioner
from tests.unit.builders import register
from tests.unit.test_snapshots import FILES, SCRIPTS, S, typed
from workflows.application import PetitionApplication
from workflows.transcodings import TRANSCODINGS, FastJSONTranscoder


def both() -> tuple[JSONTranscoder, FastJSONTranscoder]:
    out = []
    for transcoder in (JSONTranscoder(), FastJSONTranscoder()):
        for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO(), *TRANSCODINGS):
            transcoder.register(transcoding)
        out.append(transcoder)
    return out[0], out[1]  # type: ignore[return-value]


LIBRARY, FAST = both()


def outcome(transcoder: JSONTranscoder, data: bytes) -> Any:
    """What decoding gives, types spelled out (1, 1.0 and True differ), or the error raised."""
    try:
        return ("ok", typed(transcoder.decode(data)))
    except Exception as error:  # noqa: BLE001 - the error is the outcome compared
        return ("error", type(error), str(error))


def assert_same(data: bytes) -> None:
    assert outcome(FAST, data) == outcome(LIBRARY, data)


moments = st.datetimes(timezones=st.sampled_from([UTC, None]))
values = st.one_of(
    moments,
    st.uuids(),
    st.decimals(allow_nan=False),
    st.builds(Location, district=st.text(max_size=5), street=st.none() | st.text(max_size=5),
              lat=st.none() | st.floats(allow_nan=False)),
    st.builds(Petitioner, name=st.text(max_size=5), id_number=st.text("0123456789X", max_size=20),
              phone=st.text(max_size=5)),
    st.builds(Deadline, kind=st.sampled_from(DeadlineKind),
              starts_at=st.datetimes(timezones=st.just(UTC)), due_on=st.dates(),
              expires_at=st.datetimes(timezones=st.just(UTC)), provisional=st.booleans(),
              days=st.integers(0, 400), calendar=st.text(max_size=5)),
)
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8))
documents = st.recursive(
    scalars | values,
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.sampled_from(["a", "_type_", "_data_", "b", "名"]), inner, max_size=3),
    max_leaves=12,
)


@given(document=documents)
def test_any_document_decodes_as_the_library_decodes_it(document: Any) -> None:
    """Integers of any size, NaN and infinities, and objects that only look tagged."""
    assert_same(LIBRARY.encode(document))


@pytest.mark.parametrize("raw", [
    b'{"n":123456789012345678901234567890}',  # orjson would read a float
    b'{"n":18446744073709551616,"m":-9223372036854775809}',
    b'{"n":9223372036854775807,"m":-9223372036854775808,"f":1e19}',
    b'{"x":NaN,"y":Infinity,"z":-Infinity}',  # orjson refuses these; the stdlib reads them
    b'{"s":"\\ud800"}',  # a lone surrogate
    b'{"_type_":"no_such_type","_data_":1}',
    b'{"t":{"_type_":"no_such_type","_data_":1}}',
    b'{"t":{"_type_":["datetime_iso"],"_data_":1}}',
    b'{"t":{"_type_":"datetime_iso","_data_":17}}',
    b'{"t":{"_type_":"datetime_iso","_data_":"not a time"}}',
    b'{"t":{"_type_":"deadline","_data_":{"kind":"nonsense"}}}',
    b'{"t":{"_type_":"datetime_iso","_data_":"2026-01-01T00:00:00","x":1}}',
    b'{"t":{"_type_":"datetime_iso"}}',
    b'[{"_type_":"uuid_hex","_data_":"00000000000000000000000000000001"}]',
    b'{"a":1,"a":2}',
    b'not json',
    b'',
])
def test_documents_the_fast_path_leaves_to_the_library(raw: bytes) -> None:
    assert_same(raw)


def test_a_transcoding_registered_later_is_used() -> None:
    class Point:
        def __init__(self, x: int):
            self.x = x

    class PointAsInt(Transcoding):
        type = Point
        name = "point"

        def encode(self, obj: Point) -> int:
            return obj.x

        def decode(self, data: int) -> Point:
            return Point(data)

    library, fast = both()
    for transcoder in (library, fast):
        transcoder.register(PointAsInt())
    data = library.encode({"p": [Point(3)], "at": datetime(2026, 1, 1, tzinfo=UTC)})
    decoded = fast.decode(data)
    assert decoded["p"][0].x == 3 and decoded["at"] == datetime(2026, 1, 1, tzinfo=UTC)


def test_the_application_writes_the_library_bytes_and_reads_them_back() -> None:
    app = PetitionApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    assert isinstance(app.mapper.transcoder, FastJSONTranscoder)
    document = {"at": datetime(2026, 1, 1, 8, tzinfo=UTC), "id": UUID(int=7),
                "amount": Decimal("1.5"), "day": date(2026, 1, 2).isoformat()}
    assert app.mapper.transcoder.encode(document) == LIBRARY.encode(document)
    assert app.mapper.transcoder.decode(LIBRARY.encode(document)) == document
    assert json.loads(LIBRARY.encode(document))["at"] == {
        "_type_": "datetime_iso", "_data_": "2026-01-01T08:00:00+00:00"}


@pytest.mark.parametrize("script", list(SCRIPTS))
def test_every_event_type_reads_back_as_the_library_reads_it(org, policy, script) -> None:
    library_mapper, fast_mapper = Mapper(transcoder=LIBRARY), Mapper(transcoder=FAST)
    p: Petition = register(org, attachments=FILES)
    events = list(p.collect_events())
    for name in SCRIPTS[script]:
        S[name](p, org, policy)
        events += p.collect_events()
    for event in events:
        stored = library_mapper.to_stored_event(event)
        assert fast_mapper.to_stored_event(event).state == stored.state
        fast, slow = fast_mapper.to_domain_event(stored), library_mapper.to_domain_event(stored)
        assert type(fast) is type(slow)
        assert typed(vars(fast)) == typed(vars(slow))
