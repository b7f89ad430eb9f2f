"""A petitioner's query code opens their case (and only theirs) through the stored index.

The code is what a petitioner reads out on the phone or types on a form, so forgiving input
(case, dashes, look-alike letters) must work, and a wrong code must find nothing.
"""

from __future__ import annotations

import re

import pytest

from tests.integration.helpers import dump_bytes, dump_store, register_sample
from workflows.errors import QueryCodeNotFound
from workflows.query_codes import QueryCodes

CODE_SHAPE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$")


def test_registration_returns_a_well_formed_code(app):
    assert CODE_SHAPE.match(register_sample(app).query_code)


def test_the_code_finds_its_case(app):
    registration = register_sample(app)
    assert app.case_id_for_query_code(registration.query_code) == registration.case_id


@pytest.mark.parametrize("typed", [
    str.lower,
    lambda code: code.replace("-", ""),
    lambda code: " " + code.lower().replace("-", " ") + " ",
])
def test_forgiving_input_finds_the_case(app, typed):
    registration = register_sample(app)
    assert app.case_id_for_query_code(typed(registration.query_code)) == registration.case_id


def test_look_alike_letters_read_as_digits(app, monkeypatch):
    monkeypatch.setattr(app.query_codes, "new", lambda: "0A1B-2C3D-4E5F")
    registration = register_sample(app)
    assert registration.query_code == "0A1B-2C3D-4E5F"
    assert app.case_id_for_query_code("oa1b-2c3d-4e5f") == registration.case_id
    assert app.case_id_for_query_code("OAIB2C3D4E5F") == registration.case_id
    assert app.case_id_for_query_code("0alb-2c3d-4e5f") == registration.case_id


def test_each_code_opens_only_its_own_case(app):
    first, second = register_sample(app), register_sample(app)
    assert first.query_code != second.query_code
    assert app.case_id_for_query_code(first.query_code) == first.case_id
    assert app.case_id_for_query_code(second.query_code) == second.case_id


def _one_character_off(code: str) -> str:
    replacement = "2" if code[0] != "2" else "3"
    return replacement + code[1:]


@pytest.mark.parametrize("wrong", [
    _one_character_off,
    lambda code: "ZZZZ-ZZZZ-ZZZZ" if code != "ZZZZ-ZZZZ-ZZZZ" else "YYYY-YYYY-YYYY",
    lambda code: code[:-1],
    lambda code: "",
])
def test_a_wrong_code_is_not_found(app, wrong):
    registration = register_sample(app)
    with pytest.raises(QueryCodeNotFound):
        app.case_id_for_query_code(wrong(registration.query_code))


def test_the_code_is_not_stored_in_plain_text(app, settings):
    codes = [register_sample(app).query_code for _ in range(3)]
    raw = dump_bytes(dump_store(settings))
    for code in codes:
        for form in (code, QueryCodes.normalise(code), code.lower(),
                     QueryCodes.normalise(code).lower()):
            assert form.encode() not in raw
            assert form.encode("utf-16-le") not in raw


def test_found_codes_are_held_and_a_code_not_found_is_asked_again(app, settings, clock):
    """A found index record is held by the process (it is written once, and never changes):
    the second lookup reads nothing. A code not found is not held: once another process has
    registered its case, the same lookup finds it."""
    from eventsourcing.domain import Aggregate

    from adapters.wiring import build_application
    from domain.query_code_index import QueryCodeIndex
    from tests.integration.helpers import register_command
    from tests.integration.test_case_batch import counted_reads
    from workflows.application import Idempotency

    events = {v for v in vars(QueryCodeIndex).values()
              if isinstance(v, type) and issubclass(v, Aggregate.Event)}
    own = events - {QueryCodeIndex.Event, QueryCodeIndex.Created}  # the library's bases
    assert own == {QueryCodeIndex.Indexed}  # written once: what holding it relies on
    registration = register_sample(app)
    reader = build_application(settings, clock=clock)  # another process
    try:
        with counted_reads(reader) as reads:
            assert reader.case_id_for_query_code(registration.query_code) == registration.case_id
        assert len(reads) == 1
        with counted_reads(reader) as reads:
            assert reader.case_id_for_query_code(registration.query_code.lower()) \
                == registration.case_id
            with pytest.raises(QueryCodeNotFound):
                reader.case_id_for_query_code("0000-0000-0000")
        assert len(reads) == 1  # the unknown code only
        key = Idempotency(scope="token:t", key="k")
        coming = app.query_codes.derive(key.scope, key.key)  # the code registering will give
        with pytest.raises(QueryCodeNotFound):
            reader.case_id_for_query_code(coming)
        later = app.register(register_command(), idempotency=key)
        assert later.query_code == coming
        assert reader.case_id_for_query_code(coming) == later.case_id
    finally:
        reader.close()
