"""Command validation (pydantic): the shape checks that come before any business rule."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from tests.unit.builders import T0
from workflows import commands as c

VALID_ID = "11010519491231002X"


def registration(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "actor": "clerk",
        "channel": "letter",
        "subject": "Broken lamp",
        "content": "Dark for a month.",
        "category": "infrastructure",
        "location": {"district": "D1", "street": "S11"},
        "petitioner": {"name": "Zhang San", "id_number": VALID_ID, "phone": "138 0000 0000"},
        "received_by": "D1",
    }
    data.update(overrides)
    return data


def petitioner(**overrides: Any) -> dict[str, Any]:
    return {**registration()["petitioner"], **overrides}


def test_valid_registration() -> None:
    cmd = c.RegisterPetition(**registration(subject="  Broken lamp  "))
    assert cmd.subject == "Broken lamp" and cmd.co_petitioners == 0 and cmd.at is None


def test_check_character_of_the_example_id() -> None:
    assert c.id_number_check_char(VALID_ID[:17]) == "X"


def test_lower_case_check_character_accepted_and_upper_cased() -> None:
    cmd = c.PetitionerIn(**petitioner(id_number=VALID_ID.lower()))
    assert cmd.id_number == VALID_ID


@pytest.mark.parametrize("wrong", ["110105194912310020", "110105194912310021", "11010519491231002Y"])
def test_wrong_check_character_rejected(wrong) -> None:
    with pytest.raises(ValidationError, match="check character"):
        c.PetitionerIn(**petitioner(id_number=wrong))


FULLWIDTH = "１１０１０５１９４９１２３１００２X"  # str.isdigit() is true for these


@pytest.mark.parametrize("bad", ["1101051949123100", "11010519491231002X1", "1101051949123100AX",
                                 FULLWIDTH])
def test_malformed_id_number_rejected(bad) -> None:
    with pytest.raises(ValidationError, match="18-character"):
        c.PetitionerIn(**petitioner(id_number=bad))


@pytest.mark.parametrize("phone", ["12", "phone", "+86 138-0000-0000-0000-0000"])
def test_bad_phone_rejected(phone) -> None:
    with pytest.raises(ValidationError):
        c.PetitionerIn(**petitioner(phone=phone))


def test_extra_fields_forbidden() -> None:
    with pytest.raises(ValidationError, match="extra"):
        c.RegisterPetition(**registration(priority="high"))
    with pytest.raises(ValidationError, match="extra"):
        c.WithdrawPetition(case_id=uuid4(), actor="a", reason="r", comment="x")
    with pytest.raises(ValidationError, match="extra"):
        c.RegisterPetition(**registration(location={"district": "D1", "floor": 3}))


def test_naive_at_rejected_aware_at_accepted() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        c.ClosePetition(case_id=uuid4(), actor="a", summary="s", at=datetime(2026, 3, 2, 9))
    assert c.ClosePetition(case_id=uuid4(), actor="a", summary="s", at=T0).at == T0


@pytest.mark.parametrize("field", ["subject", "content", "category", "actor"])
@pytest.mark.parametrize("blank", ["", "   "])
def test_blank_text_rejected(field, blank) -> None:
    with pytest.raises(ValidationError, match=field):
        c.RegisterPetition(**registration(**{field: blank}))


@pytest.mark.parametrize(("lat", "lon", "ok"), [
    (90, 180, True), (-90, -180, True), (31.2, 121.5, True),
    (90.01, 0, False), (-90.01, 0, False), (0, 180.01, False), (0, -180.01, False)])
def test_lat_lon_ranges(lat, lon, ok) -> None:
    location = {"district": "D1", "lat": lat, "lon": lon}
    if ok:
        assert c.LocationIn(**location).lat == lat
    else:
        with pytest.raises(ValidationError):
            c.LocationIn(**location)


@pytest.mark.parametrize("days", [0, -3, 366])
def test_extension_days_bounds(days) -> None:
    with pytest.raises(ValidationError):
        c.ExtendDeadline(case_id=uuid4(), actor="a", days=days, reason="r")


def test_enums_are_checked() -> None:
    with pytest.raises(ValidationError):
        c.AcceptPetition(case_id=uuid4(), actor="a", handling_track="claim", speed_track="fast")
    with pytest.raises(ValidationError):
        c.RegisterPetition(**registration(channel="pigeon"))


def test_commands_are_frozen() -> None:
    cmd = c.ReopenPetition(case_id=uuid4(), actor="a", reason="r")
    with pytest.raises(ValidationError):
        cmd.reason = "other"


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_the_check_character_is_gb_11643s_weighted_sum(first17: str) -> None:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    expected = "10X98765432"[sum(int(d) * w for d, w in zip(first17, weights, strict=True)) % 11]
    assert c.id_number_check_char(first17) == expected
    for wrong in (first17[:16], first17 + "0"):
        with pytest.raises(ValueError):
            c.id_number_check_char(wrong)
