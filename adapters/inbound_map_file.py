"""Reads the operator's inbound map (TOML, PETITION_INBOUND_MAP): sources, categories, areas, units.

```toml
[sources.hotline-12345]            # the order's `source`
channel = "hotline"                # how its cases arrived (Channel)
reply_topic = "hotline-12345.replies"

[categories]                       # the source's category code → ours
"0101" = "property"
[areas]                            # administrative area code → a district unit
"620102" = "QH-D01"
[units]                            # the source's unit code → a unit (any level)
"CGQ-ZJJ" = "QH-D01-S01"
```
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from domain.errors import InvalidCommand
from domain.values import Channel
from workflows.inbound.mapping import InboundMap, SourceRule

TABLES = ("categories", "areas", "units")


def load_inbound_map(path: Path) -> InboundMap:
    """The map in ``path``; InvalidCommand naming the file and the problem otherwise."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise InvalidCommand(f"inbound map {path}: {error}") from None
    unknown = sorted(set(data) - {"sources", *TABLES})
    if unknown:
        raise InvalidCommand(f"inbound map {path}: unknown section(s) {', '.join(unknown)}")
    sources = {name: _source(path, name, rule)
               for name, rule in _table(path, data, "sources").items()}
    if not sources:
        raise InvalidCommand(f"inbound map {path}: no [sources.NAME] section")
    tables = {name: _codes(path, name, _table(path, data, name)) for name in TABLES}
    return InboundMap(sources=sources, **tables)


def _table(path: Path, data: dict[str, Any], name: str) -> dict[str, Any]:
    table = data.get(name, {})
    if not isinstance(table, dict):
        raise InvalidCommand(f"inbound map {path}: [{name}] must be a table")
    return table


def _source(path: Path, name: str, rule: Any) -> SourceRule:
    if not isinstance(rule, dict) or set(rule) != {"channel", "reply_topic"}:
        raise InvalidCommand(f"inbound map {path}: [sources.{name}] needs exactly "
                             f"channel and reply_topic")
    try:
        channel = Channel(rule["channel"])
    except ValueError:
        raise InvalidCommand(f"inbound map {path}: [sources.{name}] channel "
                             f"{rule['channel']!r} is not one of "
                             f"{', '.join(c.value for c in Channel)}") from None
    topic = rule["reply_topic"]
    if not isinstance(topic, str) or not topic.strip():
        raise InvalidCommand(f"inbound map {path}: [sources.{name}] reply_topic is empty")
    return SourceRule(channel=channel, reply_topic=topic.strip())


def _codes(path: Path, name: str, table: dict[str, Any]) -> dict[str, str]:
    bad = [code for code, value in table.items() if not isinstance(value, str) or not value]
    if bad:
        raise InvalidCommand(f"inbound map {path}: [{name}] {bad[0]!r} must map to a unit or "
                             f"category id (a string)")
    return {code.strip(): value.strip() for code, value in table.items()}
