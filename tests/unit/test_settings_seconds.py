"""Durations in the environment: one parser, with and without "0 turns it off"."""

from __future__ import annotations

import pytest

from adapters.settings import InvalidSetting, Settings


@pytest.mark.parametrize(("name", "raw", "expected"), [
    ("PETITION_INTEGRITY_CHECK_SECONDS", "0", 0.0),
    ("PETITION_INTEGRITY_CHECK_SECONDS", "2.5", 2.5),
    ("PETITION_INTEGRITY_RECHECK_SECONDS", "0", 0.0),
    ("PETITION_SUPERVISION_INTERVAL", "0", 0.0),
    ("PETITION_STORE_TIMEOUT", "0.5", 0.5),
])
def test_accepted_durations(name: str, raw: str, expected: float) -> None:
    settings = Settings.from_env({name: raw})
    field = {"PETITION_INTEGRITY_CHECK_SECONDS": "integrity_check_seconds",
             "PETITION_INTEGRITY_RECHECK_SECONDS": "integrity_recheck_seconds",
             "PETITION_SUPERVISION_INTERVAL": "supervision_interval",
             "PETITION_STORE_TIMEOUT": "store_timeout"}[name]
    assert getattr(settings, field) == expected


@pytest.mark.parametrize(("name", "raw"), [
    ("PETITION_STORE_TIMEOUT", "0"),  # a timeout cannot be off
    ("PETITION_STATEMENT_TIMEOUT", "-1"),
    ("PETITION_INTEGRITY_CHECK_SECONDS", "-1"),
    ("PETITION_INTEGRITY_CHECK_SECONDS", "nan"),
    ("PETITION_STORE_TIMEOUT", "soon"),
    ("PETITION_NOTIFIER", "not a factory"),
])
def test_refused_settings_name_themselves(name: str, raw: str) -> None:
    with pytest.raises(InvalidSetting, match=name):
        Settings.from_env({name: raw})
