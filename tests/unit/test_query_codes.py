"""Query codes: readable on the phone, forgiving when typed back, stored only as a keyed hash."""

from __future__ import annotations

import hashlib
import hmac
import re
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workflows.query_codes import ALPHABET, QueryCodes, _spelled

KEY = b"k" * 32


def test_format_is_three_groups_of_four_crockford_characters() -> None:
    pattern = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$")
    codes = {QueryCodes.new() for _ in range(200)}
    assert all(pattern.match(code) for code in codes)
    assert len(codes) == 200  # 60 random bits: no collision in a few hundred
    assert not set("ILOU") & set(ALPHABET)


@pytest.mark.parametrize(("typed", "canonical"), [
    ("abcd-efgh-jkmn", "ABCDEFGHJKMN"),
    ("ABCD EFGH JKMN", "ABCDEFGHJKMN"),
    ("o0Oo-iIlL-1234", "000011111234"),
    (" 12-34_56.78 90AB ", "1234567890AB"),
])
def test_normalise(typed, canonical) -> None:
    assert QueryCodes.normalise(typed) == canonical


def test_hash_ignores_how_the_code_was_typed() -> None:
    codes = QueryCodes(KEY)
    assert codes.hash("1O1L-ABCD-0000") == codes.hash("1011abcdoooo")


def test_hash_is_keyed() -> None:
    code = QueryCodes.new()
    assert QueryCodes(KEY).hash(code) != QueryCodes(b"j" * 32).hash(code)
    assert QueryCodes(KEY).hash(code) == QueryCodes(KEY).hash(code)
    assert len(QueryCodes(KEY).hash(code)) == 64


def test_matches() -> None:
    codes = QueryCodes(KEY)
    code = codes.new()
    stored = codes.hash(code)
    assert codes.matches(code.lower(), stored)
    assert not codes.matches(code[:-1] + ("0" if code[-1] != "0" else "1"), stored)
    assert not QueryCodes(b"j" * 32).matches(code, stored)


def test_short_key_refused() -> None:
    with pytest.raises(ValueError, match="at least 16 bytes"):
        QueryCodes(b"x" * 15)


def test_hashes_and_derived_codes_stay_those_already_stored() -> None:
    """Stored index ids and petitioner keys were made with HMAC-SHA256 of these exact
    messages: whatever computes them must give the same values (pinned here)."""
    codes = QueryCodes(KEY)
    expected = hmac.new(KEY, b"ABCDEFGHJKMN", hashlib.sha256).hexdigest()
    assert codes.hash("abcd-efgh-jkmn") == expected
    digest = hmac.new(KEY, b"derive\x00petitioner\x00110105194912310020", hashlib.sha256)
    number = int.from_bytes(digest.digest()[:8], "big")
    raw = "".join(ALPHABET[(number >> (5 * i)) & 31] for i in range(12))
    assert codes.derive("petitioner", "110105194912310020") == \
        f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"
    assert codes.mac("session", "Ab-1") == hmac.new(
        KEY, b"mac\x00session\x00Ab-1", hashlib.sha256).hexdigest()


def _spelled_by_letter(number: int) -> str:
    """The spelling as first written: letter i is bits 5i…5i+4, lowest first."""
    raw = "".join(ALPHABET[(number >> (5 * i)) & 31] for i in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


@given(st.integers(min_value=0, max_value=2**64 - 1))
def test_a_number_is_spelled_as_letter_by_letter(number: int) -> None:
    """Derived codes (shown again on a retry, never stored) must keep their spelling."""
    assert _spelled(number) == _spelled_by_letter(number)


@given(st.text(max_size=30) | st.text(alphabet=string.printable, max_size=30))
def test_normalise_is_the_letter_by_letter_rule(typed: str) -> None:
    expected = "".join(ch for ch in typed.upper() if ch.isalnum()).translate(
        str.maketrans({"O": "0", "I": "1", "L": "1"}))
    assert QueryCodes.normalise(typed) == expected


@given(st.binary(min_size=16, max_size=200), st.binary(max_size=300))
def test_the_keyed_hash_is_hmac_sha256(key: bytes, message: bytes) -> None:
    """Codes' hashes, derived codes and MACs must stay those already stored or handed out:
    the keyed hash is RFC 2104's HMAC-SHA256 for keys of any length (above the block size
    too) and any message."""
    codes = QueryCodes(key)
    assert codes._hmac(message) == hmac.new(key, message, hashlib.sha256).digest()
    text = message.decode("latin-1")
    assert codes.mac("s", text) == hmac.new(key, f"mac\x00s\x00{text}".encode(),
                                            hashlib.sha256).hexdigest()
    assert codes.hash(text) == hmac.new(key, QueryCodes.normalise(text).encode(),
                                        hashlib.sha256).hexdigest()
