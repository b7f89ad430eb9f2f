"""How the domain's value objects become JSON in the event store, and are read back."""

from __future__ import annotations

import json.encoder
from collections.abc import Callable
from dataclasses import fields
from datetime import date, datetime
from typing import Any

import orjson
from eventsourcing.persistence import (
    DatetimeAsISO,
    JSONTranscoder,
    Transcoding,
)

from domain.deadlines import Deadline, DeadlineKind
from domain.values import Location, Petitioner


class FlatDataclassAsDict(Transcoding):
    """A frozen dataclass of JSON scalars, stored as a plain object under a stable name."""

    def __init__(self, cls: type, name: str):
        self.type = cls
        self.name = name
        self._fields = tuple(f.name for f in fields(cls))

    def encode(self, obj: Any) -> dict[str, Any]:
        return {name: getattr(obj, name) for name in self._fields}

    def decode(self, data: dict[str, Any]) -> Any:
        return self.type(**data)


class DeadlineAsDict(Transcoding):
    """A recorded deadline: its kind as the enum's value, its due date as an ISO date (the
    library has no transcoding for ``date``); the times go through the library's own."""

    type = Deadline
    name = "deadline"

    def encode(self, obj: Deadline) -> dict[str, Any]:
        return {"kind": obj.kind.value, "starts_at": obj.starts_at,
                "due_on": obj.due_on.isoformat(), "expires_at": obj.expires_at,
                "provisional": obj.provisional, "days": obj.days, "calendar": obj.calendar}

    def decode(self, data: dict[str, Any]) -> Deadline:
        return Deadline(**{**data, "kind": _kind(data["kind"]),
                           "due_on": date.fromisoformat(data["due_on"])})


_KINDS = {kind.value: kind for kind in DeadlineKind}


def _kind(value: Any) -> DeadlineKind:
    """``DeadlineKind(value)`` without the enum's call machinery (every third event has one)."""
    try:
        return _KINDS[value]
    except (KeyError, TypeError):
        return DeadlineKind(value)  # raises as before


TRANSCODINGS = (
    FlatDataclassAsDict(Location, "location"),
    FlatDataclassAsDict(Petitioner, "petitioner"),
    DeadlineAsDict(),
)


_INT64 = 2.0 ** 63
_MAKE_ENCODER: Callable[..., Any] | None = getattr(json.encoder, "c_make_encoder", None)


class _Unusual(Exception):
    """A document the fast path leaves to the library's decoder."""


class FastJSONTranscoder(JSONTranscoder):
    """The library's JSON transcoder, reading with orjson and one walk instead of the stdlib
    scanner calling an object hook per JSON object: decoding was a third of a view's catch-up.

    Writing is the library's encoder, its C part built once: stored bytes do not change.
    Reading gives what the library gives: tagged objects (``{"_type_": name, "_data_": data}``)
    are decoded innermost first by the same transcodings. A document orjson refuses (NaN, a
    lone surrogate, invalid JSON) or may read otherwise (it reads an integer beyond 64 bits as
    a float: any float that large is suspect), or with an unusual tag, goes through the
    library's decoder instead; so does one a transcoding fails on, so the error raised is the
    library's.
    """

    def __init__(self) -> None:
        super().__init__()
        self._decoders: dict[str, Callable[[Any], Any]] = {}
        # Writing: ``json.JSONEncoder.encode`` builds a new C encoder (and a dict to look for
        # reference cycles) on every call, a few µs per stored event (figure 1). This one is
        # built once, with the library's settings (compact separators, no ASCII escaping, its
        # hook for non-JSON values), so the bytes are the library's; no cycle check: events are
        # trees of values, and a cycle would still fail (RecursionError), not be stored.
        self._chunks = None if _MAKE_ENCODER is None else _MAKE_ENCODER(
            None, self._encode_obj, json.encoder.encode_basestring, None, ":", ",",
            False, False, True)  # markers, hook, strings, indent, separators, sort, skip, NaN

    def encode(self, obj: Any) -> bytes:
        if self._chunks is None:  # no C extension: the library's
            return super().encode(obj)
        return "".join(self._chunks(obj, 0)).encode("utf8")

    def register(self, transcoding: Transcoding) -> None:
        super().register(transcoding)
        # the library's datetimes are the most frequent tagged value: its C parser directly
        self._decoders[transcoding.name] = (
            datetime.fromisoformat if type(transcoding) is DatetimeAsISO else transcoding.decode)

    def decode(self, data: bytes) -> Any:
        try:
            return self._revive(orjson.loads(data))
        except Exception:  # noqa: BLE001 - the library decodes it, or raises its own error
            return super().decode(data)

    def _revive(self, value: Any) -> Any:
        kind = type(value)
        if kind is dict:
            return self._revive_dict(value)
        if kind is list:
            return self._revive_list(value)
        if kind is float and not -_INT64 < value < _INT64:
            raise _Unusual
        return value

    def _revive_list(self, values: list[Any]) -> list[Any]:
        return [self._revive(value) for value in values]

    def _revive_dict(self, d: dict[str, Any]) -> Any:
        if len(d) == 2 and "_type_" in d and "_data_" in d:
            return self._tagged(d["_type_"], d["_data_"])
        for key, value in d.items():
            kind = type(value)
            if kind is dict:
                d[key] = (self._tagged(value["_type_"], value["_data_"])
                          if len(value) == 2 and "_type_" in value and "_data_" in value
                          else self._revive_dict(value))
            elif kind is list:
                d[key] = self._revive_list(value)
            elif kind is float and not -_INT64 < value < _INT64:
                raise _Unusual
        return d

    def _tagged(self, name: Any, data: Any) -> Any:
        decode = self._decoders.get(name) if type(name) is str else None
        if decode is None:
            raise _Unusual  # the library's decoder raises its own error, or knows better
        kind = type(data)
        if kind is dict or kind is list or kind is float:
            data = self._revive(data)
        return decode(data)
