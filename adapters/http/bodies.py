"""Request bodies: each command's fields less those the server fills in (who, which case).

Numbers are strict: JSON's ``true`` is not the number 1, nor ``"3"`` the number 3, as the
OpenAPI document says; commands alone would take either. Instants are RFC 3339 text, not
seconds since 1970 (their bounds are the policy's, checked by the decision).

Derived from the command declarations (workflows/command_table.py): a declared field filled
from the caller's unit becomes optional here.
"""

from __future__ import annotations

import types
from datetime import datetime
from functools import cache
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import AwareDatetime, BaseModel, ConfigDict, Strict, create_model

from adapters.http.params import BusinessTime
from workflows.command_table import SERVER_FIELDS, CommandSpec
from workflows.commands import Command, RegisterPetition


def strict(annotation: Any) -> Any:
    """``annotation`` with strict numbers, also inside optionals and nested models."""
    if annotation in (int, float):
        return Annotated[annotation, Strict()]
    if annotation in (datetime, AwareDatetime):
        return BusinessTime
    if get_origin(annotation) in (Union, types.UnionType):
        return Union[tuple(strict(a) for a in get_args(annotation))]  # noqa: UP007
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _strict_model(annotation)
    return annotation


@cache
def _strict_model(model: type[BaseModel]) -> type[BaseModel]:
    """The same model (name, validators) with its number fields made strict."""
    numbers = {name: (strict(info.annotation), info) for name, info in model.model_fields.items()
               if strict(info.annotation) is not info.annotation}
    return create_model(model.__name__, __base__=model, **numbers) if numbers else model


def body_model(name: str, command: type[Command], optional: frozenset[str] = frozenset()
               ) -> type[BaseModel]:
    fields: dict[str, Any] = {}
    for field_name, info in command.model_fields.items():
        if field_name in SERVER_FIELDS:
            continue
        annotation = strict(info.annotation)
        if field_name in optional:  # the same constraints, or left out (null)
            kept = Annotated[(annotation, *info.metadata)]  # type: ignore[valid-type]
            fields[field_name] = (kept | None, None)
        else:
            fields[field_name] = (annotation, info)
    return create_model(name, __config__=ConfigDict(extra="forbid"), **fields)


def body_name(spec: CommandSpec) -> str:
    """``accept`` → ``AcceptBody``."""
    return "".join(part.title() for part in spec.action.split("-")) + "Body"


def action_body(spec: CommandSpec) -> type[BaseModel]:
    """The declared command less its server-filled fields."""
    return body_model(body_name(spec), spec.command, spec.unit_from_caller)


RegisterBody = body_model("RegisterBody", RegisterPetition)
