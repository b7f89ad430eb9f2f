"""The concluded-matter rule (不再受理): same category, same place, similar text; concluded by
re-review or by an expired request window."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.concluded_matters import (
    SIMILAR_TEXT,
    PetitionerCase,
    concluded,
    petitioner_range,
    same_matter,
    similarity,
)
from domain.deadlines import DeadlineKind
from domain.values import Location
from tests.unit.builders import T0, plain_policy

LAMP = ("路灯不亮", "文昌街道第一社区的路灯已经坏了两个月。")


@dataclass
class Earlier:
    category: str = "城建"
    location: Location = field(default_factory=lambda: Location(district="D1", street="S11"))
    subject: str = LAMP[0]
    content: str = LAMP[1]
    re_review_decided_at: datetime | None = None


@pytest.mark.parametrize(("category", "location", "text", "same"), [
    ("城建", Location("D1", "S11"), "路灯还是不亮 文昌街道第一社区的路灯已经坏了两个月，仍未修好。", True),
    ("城建", Location("D1", None), "路灯不亮 文昌街道第一社区的路灯已经坏了两个月。", True),
    ("城建", Location("D1", "S12"), "路灯不亮 文昌街道第一社区的路灯已经坏了两个月。", False),
    ("环境", Location("D1", "S11"), "路灯不亮 文昌街道第一社区的路灯已经坏了两个月。", False),
    ("城建", Location("D1", "S11"), "噪音扰民 楼下饭店每天深夜施工，噪音很大。", False),
])
def test_same_matter_table(category, location, text, same) -> None:
    subject, content = text.split(" ", 1)
    assert same_matter(Earlier(), category, location, subject, content) is same


def test_similarity_is_symmetric_and_bounded() -> None:
    a, b = " ".join(LAMP), "路灯坏了"
    assert similarity(a, b) == similarity(b, a) and 0 < similarity(a, b) < SIMILAR_TEXT
    assert similarity(a, a) == 1.0 and similarity("", a) == 0.0


def test_concluded_by_re_review_or_an_expired_window() -> None:
    window = plain_policy().deadline(DeadlineKind.REVIEW_REQUEST, T0, 30)
    assert not concluded(Earlier(), [window, None], window.expires_at - timedelta(seconds=1))
    assert concluded(Earlier(), [window, None], window.expires_at)
    assert concluded(Earlier(re_review_decided_at=T0), [None, None], T0)
    assert not concluded(Earlier(), [None, None], T0 + timedelta(days=999))


@given(key=st.text(min_size=1, max_size=40), other=st.text(min_size=1, max_size=40),
       case_id=st.uuids())
def test_a_petitioners_records_lie_in_their_range_and_only_theirs(key, other, case_id) -> None:
    """Registration finds a petitioner's records by one range of ids: each record's id is in
    its petitioner's range and outside another's (a 64-bit prefix collision aside), and a
    record's id is the same however often it is derived (an answer can test for it)."""
    record = PetitionerCase.create_id(key, case_id)
    low, high = petitioner_range(key)
    assert low <= record <= high and record == PetitionerCase.create_id(key, case_id)
    assert record != PetitionerCase.create_id(key, uuid4())
    if key != other:
        low2, high2 = petitioner_range(other)
        assert not low2 <= record <= high2
