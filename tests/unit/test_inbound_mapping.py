"""Inbound work orders: any bytes become either a registration command or a dead letter with
a reason — never an exception (a crash would block the partition)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.inbound_map_file import load_inbound_map
from domain.errors import InvalidCommand
from domain.values import Channel
from tests.unit.inbound_orders import BAD_KINDS, MAP_TOML, RULES, bad_order, encode, order
from workflows.commands import RegisterPetition
from workflows.inbound.mapping import Mapped, Rejected, translate
from workflows.inbound.order import InboundOrder

SCHEMA = Path(__file__).parents[2] / "docs" / "inbound.schema.json"

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=12), children, max_size=6),
    max_leaves=20,
)
field_values = st.none() | st.integers() | st.text(max_size=30) | st.sampled_from(
    ["hotline-12345", "ywtb", "0101", "620102", "CGQ-WC", "2026-03-02T09:00:00+08:00"])


def check_total(result: Mapped | Rejected) -> None:
    if isinstance(result, Mapped):
        assert isinstance(result.command, RegisterPetition)
        assert result.source and result.external_id
    else:
        assert isinstance(result, Rejected) and result.reason.strip()
        assert "\n" not in result.reason and len(result.reason) <= 500


@given(st.binary(max_size=200))
def test_any_bytes_are_translated_or_rejected(raw: bytes) -> None:
    check_total(translate(raw, RULES))


@given(json_values)
def test_any_json_is_translated_or_rejected(value: object) -> None:
    check_total(translate(json.dumps(value).encode(), RULES))


@settings(max_examples=300)
@given(st.integers(0, 10**6), st.dictionaries(
    st.sampled_from(["source", "external_id", "received_at", "category", "area", "unit",
                     "subject", "content", "address", "caller", "schema_version"]),
    field_values, max_size=4))
def test_orders_with_arbitrary_fields_are_translated_or_rejected(n: int, changes: dict) -> None:
    check_total(translate(encode(order(n, **changes)), RULES))


def test_a_valid_order_maps_source_category_area_and_unit() -> None:
    mapped = translate(encode(order(3, received_at="2026-03-02T09:00:00+08:00")), RULES)
    assert isinstance(mapped, Mapped)
    assert (mapped.source, mapped.external_id) == ("hotline-12345", "GD00000003")
    cmd = mapped.command
    assert cmd.channel is Channel.HOTLINE and cmd.category == "property"
    assert cmd.location.district == "QH-D01" and cmd.received_by == "QH-D01-S01"
    assert cmd.actor == "inbound:hotline-12345" and cmd.at is not None


def test_without_a_unit_the_area_district_receives_it_and_ywtb_is_its_own_channel() -> None:
    mapped = translate(encode(order(4, source="ywtb")), RULES)
    assert isinstance(mapped, Mapped)
    assert mapped.command.received_by == "QH-D01" and mapped.command.channel is Channel.YWTB


def test_the_same_order_twice_gives_the_same_command() -> None:
    """Idempotent registration compares commands: a redelivered order must be identical."""
    assert translate(encode(order(5)), RULES) == translate(encode(order(5)), RULES)


@pytest.mark.parametrize("n", range(len(BAD_KINDS)), ids=lambda n: BAD_KINDS[n])
def test_each_kind_of_bad_order_is_rejected_with_a_reason(n: int) -> None:
    result = translate(bad_order(n), RULES)
    assert isinstance(result, Rejected), BAD_KINDS[n]
    assert result.reason


def test_reasons_name_the_field_but_never_the_personal_value() -> None:
    body = order(7)
    body["caller"]["phone"] = "not-a-phone-秘密"
    result = translate(encode(body), RULES)
    assert isinstance(result, Rejected) and "petitioner.phone" in result.reason
    assert "秘密" not in result.reason
    assert (result.source, result.external_id) == ("hotline-12345", "GD00000007")


def test_unknown_fields_are_ignored() -> None:
    assert isinstance(translate(encode(order(8, priority="urgent")), RULES), Mapped)


def test_the_published_schema_is_the_model_schema() -> None:
    assert json.loads(SCHEMA.read_text(encoding="utf-8")) == InboundOrder.model_json_schema(), (
        "regenerate: python -c 'import json; from workflows.inbound.order import InboundOrder; "
        "print(json.dumps(InboundOrder.model_json_schema(), indent=2, ensure_ascii=False))' "
        "> docs/inbound.schema.json")


def test_the_map_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "map.toml"
    path.write_text(MAP_TOML, encoding="utf-8")
    assert load_inbound_map(path) == RULES


@pytest.mark.parametrize("text", [
    "[sources.x]\nchannel = 'fax'\nreply_topic = 'r'",
    "[sources.x]\nchannel = 'hotline'",
    "[categories]\na = 'b'",
    "[sources.x]\nchannel = 'hotline'\nreply_topic = 'r'\n[areas]\na = 1",
    "[sources.x]\nchannel = 'hotline'\nreply_topic = 'r'\n[colours]\na = 'b'",
    "not toml [",
])
def test_a_bad_map_file_is_refused_naming_it(tmp_path: Path, text: str) -> None:
    path = tmp_path / "map.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidCommand, match="inbound map"):
        load_inbound_map(path)
