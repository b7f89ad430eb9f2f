"""Log lines never carry personal data, tokens or query codes, and stay machine-readable.

Logs are shipped to places with wider access than the database, so the redaction has to
happen in the logging pipeline itself, whatever the calling code passes in.
"""

from __future__ import annotations

import json

import pytest
import structlog

from adapters.logging import configure_logging
from domain.values import Petitioner

SECRETS = {
    "petitioner": "欧阳紫霞",
    "query_code": "7KQ2-M9XD-4TRW",
    "token": "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXRva2Vu",
    "phone": "13975318642",
    "id_number": "440305198706239411",
    "password": "hunter2-petitions",
}


@pytest.fixture(autouse=True)
def _restore_structlog():
    yield
    structlog.reset_defaults()


def json_logger():
    """Configured inside the test body: the renderer binds the sys.stderr capsys installed."""
    configure_logging("json")
    return structlog.get_logger("test")


def _lines(capsys) -> list[dict]:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    return [json.loads(line) for line in lines]  # every line must be valid JSON


def test_sensitive_values_are_redacted_and_every_line_is_json(capsys):
    log = json_logger()
    log.info("case.registered", case_id="c-1", channel="letter", **SECRETS)
    log.warning("query.failed", query_code=SECRETS["query_code"], token=SECRETS["token"])
    captured = capsys.readouterr()

    for value in SECRETS.values():
        assert value not in captured.err
    assert captured.out == ""
    records = [json.loads(line) for line in captured.err.splitlines()]
    assert len(records) == 2
    first = records[0]
    assert first["event"] == "case.registered"
    assert first["level"] == "info"
    assert first["case_id"] == "c-1" and first["channel"] == "letter"  # the rest is kept
    assert all(first[key] == "<redacted>" for key in SECRETS)
    assert "timestamp" in first


def test_key_case_does_not_matter(capsys):
    log = json_logger()
    log.info("x", Phone=SECRETS["phone"], TOKEN=SECRETS["token"])
    (record,) = _lines(capsys)
    assert record["Phone"] == record["TOKEN"] == "<redacted>"


def test_a_petitioner_object_under_any_key_prints_redacted(capsys):
    log = json_logger()
    log.info("x", who=Petitioner(name="欧阳紫霞", id_number="440305198706239411",
                                  phone="13975318642"))
    (record,) = _lines(capsys)
    assert "欧阳紫霞" not in json.dumps(record, ensure_ascii=False)
    assert "13975318642" not in json.dumps(record)


def test_non_ascii_is_written_as_utf8_text(capsys):
    log = json_logger()
    log.info("案件已登记", subject="路灯不亮")
    (record,) = _lines(capsys)
    assert record["event"] == "案件已登记" and record["subject"] == "路灯不亮"


def test_nested_sensitive_keys_are_redacted(capsys):
    log = json_logger()
    log.info("x", details={"phone": SECRETS["phone"], "query_code": SECRETS["query_code"]})
    err = capsys.readouterr().err
    assert SECRETS["phone"] not in err
    assert SECRETS["query_code"] not in err
