"""The organisation chart: its validation, the ancestry queries, and the org file reader."""

from __future__ import annotations

import json

import pytest

from adapters.org_file import load_org_chart, parse_org
from domain.errors import InvalidCommand, UnknownUnit
from domain.units import OrgChart, Unit, UnitLevel
from tests.unit.builders import UNITS

CITY = Unit("C", "City", UnitLevel.CITY)


def test_duplicate_ids_refused() -> None:
    with pytest.raises(InvalidCommand, match="'C' is listed twice"):
        OrgChart([CITY, Unit("C", "Other", UnitLevel.CITY)])


def test_unknown_parent_refused() -> None:
    with pytest.raises(InvalidCommand, match="unknown parent 'X'"):
        OrgChart([CITY, Unit("D", "D", UnitLevel.DISTRICT, "X")])


@pytest.mark.parametrize(("parent_level", "child_level"), [
    (UnitLevel.DISTRICT, UnitLevel.DISTRICT),
    (UnitLevel.STREET, UnitLevel.DISTRICT),
    (UnitLevel.COMMUNITY, UnitLevel.CITY),
])
def test_child_must_sit_below_its_parent(parent_level, child_level) -> None:
    with pytest.raises(InvalidCommand, match="cannot sit under"):
        OrgChart([Unit("P", "P", parent_level), Unit("K", "K", child_level, "P")])


def test_parent_may_be_listed_after_child_and_levels_may_be_skipped() -> None:
    chart = OrgChart([Unit("K", "K", UnitLevel.COMMUNITY, "C"), CITY])
    assert chart.ancestors("K") == ["C"]
    assert len(chart) == 2 and "K" in chart and "X" not in chart


def test_ancestors_from_parent_to_root(org) -> None:
    assert org.ancestors("K111") == ["S11", "D1", "C"]
    assert org.ancestors("D2") == ["C"]
    assert org.ancestors("C") == []


def test_a_unit_is_named_by_its_name_and_an_unknown_one_by_its_id(org) -> None:
    assert org.name_of("D1") == org.get("D1").name != "D1"
    assert org.name_of("NOPE") == "NOPE"


def test_unknown_unit(org) -> None:
    with pytest.raises(UnknownUnit) as caught:
        org.get("NOPE")
    assert caught.value.unit_id == "NOPE" and isinstance(caught.value, InvalidCommand)
    with pytest.raises(UnknownUnit):
        org.ancestors("NOPE")
    with pytest.raises(UnknownUnit):
        org.is_within("K111", "NOPE")
    with pytest.raises(UnknownUnit):
        org.subtree("NOPE")


@pytest.mark.parametrize(("unit", "root", "inside"), [
    ("K111", "K111", True), ("K111", "S11", True), ("K111", "D1", True), ("K111", "C", True),
    ("K121", "S11", False), ("S11", "K111", False), ("K211", "D1", False), ("D1", "D2", False),
])
def test_is_within(org, unit, root, inside) -> None:
    assert org.is_within(unit, root) is inside


def test_subtree_depth_first_in_listing_order(org) -> None:
    assert org.subtree("D1") == ["D1", "S11", "K111", "G1111", "G1112", "K112", "S12", "K121"]
    assert org.subtree("K211") == ["K211", "G2111"]
    assert org.subtree("K112") == ["K112"]
    assert sorted(org.subtree("C")) == sorted(u.id for u in UNITS)


# ------------------------------------------------------------------ the org file
CSV = """id,name,level,parent
C,City,city,
D1, District 1 ,DISTRICT,C
S11,Street,street,D1
"""


def test_parse_csv_strips_and_normalises() -> None:
    chart = parse_org(CSV, "csv")
    assert chart.get("D1") == Unit("D1", "District 1", UnitLevel.DISTRICT, "C")
    assert chart.get("C").parent is None
    assert chart.ancestors("S11") == ["D1", "C"]


def test_parse_json() -> None:
    rows = [{"id": "C", "name": "City", "level": "city"},
            {"id": "D1", "name": "D", "level": "district", "parent": "C"},
            {"id": "D2", "name": "D", "level": "district", "parent": None}]
    chart = parse_org(json.dumps(rows), "json")
    assert chart.ancestors("D1") == ["C"] and chart.get("D2").parent is None


@pytest.mark.parametrize(("text", "kind", "message"), [
    ("id,name,level,parent\nC,City,town,\n", "csv", "row 1 is invalid"),
    ("id,name,parent\nC,City,\n", "csv", "row 1 is invalid"),
    ("id,name,level,parent\nC,City,city,\nD,Dist\n", "csv", "row 2 is invalid"),
    ('[{"id": "C", "name": "C", "level": "city"}, {"id": "D", "level": "district"}]', "json",
     "row 2 is invalid"),
    ('["C"]', "json", "row 1 is invalid"),
    ('[{"id": "C", "name": "C", "level": "city"}, null]', "json", "row 2 is invalid"),
    ('{"id": "C"}', "json", "expected a JSON list"),
    ("id: C", "yaml", "unsupported format 'yaml'"),
    ("id,name,level,parent\nC,City,city,\nC,Again,city,\n", "csv", "listed twice"),
    ("id,name,level,parent\nS,Street,street,D\n", "csv", "unknown parent 'D'"),
])
def test_bad_org_files_give_clear_errors(text, kind, message) -> None:
    with pytest.raises(InvalidCommand, match=message):
        parse_org(text, kind)


def test_demo_chart_is_a_four_level_tree() -> None:
    """The packaged demo city loads and has a unit at every level under one city."""
    chart = load_org_chart()
    levels = {u.level for u in chart}
    assert levels == set(UnitLevel)
    (city,) = [u for u in chart if u.level is UnitLevel.CITY]
    assert all(chart.is_within(u.id, city.id) for u in chart)
