"""Long key lists are read in chunks below SQLite's parameter limit, in order."""

from __future__ import annotations

from typing import Any

from adapters.persistence.event_rows import CHUNK, chunked


def test_every_key_is_read_once_in_chunks_in_order() -> None:
    calls: list[int] = []

    def read(part: Any) -> Any:
        calls.append(len(part))
        return [f"event of {key}" for key in part]

    keys = list(range(2 * CHUNK + 50))
    assert chunked(keys, read) == [f"event of {key}" for key in keys]
    assert calls == [CHUNK, CHUNK, 50]
    assert chunked([], read) == [] and calls == [CHUNK, CHUNK, 50]
