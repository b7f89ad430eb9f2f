"""The operator's holiday file: a simple CSV, refused line by line when wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.holidays.holiday_file import parse_holidays, read_holiday_file
from domain.errors import InvalidCommand

GOOD = """# 国务院办公厅关于2027年部分节假日安排的通知
date,kind,name
2027-02-11,holiday,春节
2027-02-05,holiday,春节

2027-02-20,WORKDAY,春节调休上班
2027-10-06,holiday
"""


def test_a_good_file_gives_sorted_rows() -> None:
    rows = parse_holidays(GOOD)
    assert rows == [
        {"date": "2027-02-05", "kind": "holiday", "name": "春节"},
        {"date": "2027-02-11", "kind": "holiday", "name": "春节"},
        {"date": "2027-02-20", "kind": "workday", "name": "春节调休上班"},
        {"date": "2027-10-06", "kind": "holiday", "name": ""},
    ]


def test_a_file_with_a_byte_order_mark_reads(tmp_path: Path) -> None:
    path = tmp_path / "2027.csv"
    path.write_text(GOOD, encoding="utf-8-sig")
    assert len(read_holiday_file(path)) == 4


@pytest.mark.parametrize(("text", "message"), [
    ("", "header date,kind,name"),
    ("day,kind,name\n2027-02-05,holiday,x\n", "header"),
    ("date,kind,name\n", "no days"),
    ("date,kind,name\n2027-02-30,holiday,x\n", "line 2: not an ISO date"),
    ("date,kind,name\n2027-02-05,rest,x\n", "line 2: kind must be holiday or workday"),
    ("date,kind,name\n2027-02-05\n", "line 2: expected date,kind,name"),
    ("date,kind,name\n2027-02-05,holiday,x\n2027-02-05,workday,y\n",
     "line 3: 2027-02-05 is listed twice"),
    ("date,kind,name\n2027-02-05,holiday," + "x" * 101 + "\n", "longer than 100"),
])
def test_a_bad_file_is_refused_naming_the_line(text: str, message: str) -> None:
    with pytest.raises(InvalidCommand, match=message):
        parse_holidays(text)


def test_an_unreadable_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidCommand, match=r"missing\.csv"):
        read_holiday_file(tmp_path / "missing.csv")
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(InvalidCommand, match=r"binary\.csv"):
        read_holiday_file(binary)
