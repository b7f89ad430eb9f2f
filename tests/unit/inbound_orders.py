"""Work orders for the inbound tests: a map, valid orders, and the ways orders go bad."""

from __future__ import annotations

import json
import random
from typing import Any

from domain.values import Channel
from workflows.commands import id_number_check_char
from workflows.inbound.mapping import InboundMap, SourceRule

MAP_TOML = """
[sources.hotline-12345]
channel = "hotline"
reply_topic = "hotline-12345.replies"

[sources.ywtb]
channel = "ywtb"
reply_topic = "ywtb.replies"

[categories]
"0101" = "property"
"0207" = "noise"

[areas]
"620102" = "QH-D01"
"620103" = "QH-D02"

[units]
"CGQ-WC" = "QH-D01-S01"
"""

RULES = InboundMap(
    sources={"hotline-12345": SourceRule(Channel.HOTLINE, "hotline-12345.replies"),
             "ywtb": SourceRule(Channel.YWTB, "ywtb.replies")},
    categories={"0101": "property", "0207": "noise"},
    areas={"620102": "QH-D01", "620103": "QH-D02"},
    units={"CGQ-WC": "QH-D01-S01"},
)


def id_number(n: int) -> str:
    first17 = f"62010219800101{n % 1000:03d}"
    return first17 + id_number_check_char(first17)


def order(n: int, *, source: str = "hotline-12345", **changes: Any) -> dict[str, Any]:
    """A valid order numbered ``n``."""
    body: dict[str, Any] = {
        "schema_version": 1,
        "source": source,
        "external_id": f"GD{n:08d}",
        "category": "0101" if n % 2 else "0207",
        "area": "620102",
        "subject": f"物业问题 {n}",
        "content": "小区物业乱收费，要求解决。",
        "caller": {"name": f"王{n}", "id_number": id_number(n), "phone": f"1390000{n % 10000:04d}"},
    }
    if n % 3 == 0:
        body["unit"] = "CGQ-WC"
    body.update(changes)
    return body


BAD_KINDS = ("not json", "no caller", "unknown source", "unmapped category", "unmapped area",
             "bad id number", "array")


def bad_order(n: int) -> bytes:
    """The value of an order that must be dead-lettered, of one of ``BAD_KINDS``."""
    kind = BAD_KINDS[n % len(BAD_KINDS)]
    good = order(n)
    if kind == "not json":
        return b"{\"external_id\": \"GD" + str(n).encode() + b"\", "
    if kind == "no caller":
        del good["caller"]
    elif kind == "unknown source":
        good["source"] = "weibo"
    elif kind == "unmapped category":
        good["category"] = "9999"
    elif kind == "unmapped area":
        good["area"] = "110101"
    elif kind == "bad id number":
        good["caller"]["id_number"] = good["caller"]["id_number"][:17] + "Y"
    elif kind == "array":
        return json.dumps([good]).encode()
    return json.dumps(good, ensure_ascii=False).encode()


def encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode()


def shuffled(items: list[Any], seed: int) -> list[Any]:
    out = list(items)
    random.Random(seed).shuffle(out)
    return out
