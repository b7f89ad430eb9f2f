"""Request bodies: each command's fields less those the server fills in (who, which case)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, create_model

from workflows.commands import ACTIONS, Command, RegisterPetition

SERVER_FIELDS = frozenset({"actor", "case_id"})
# Filled from the caller's token when the body leaves them out.
DEFAULTED_FIELDS: dict[str, frozenset[str]] = {
    "answer": frozenset({"unit"}),
    "review-decision": frozenset({"unit"}),
    "re-review-decision": frozenset({"unit"}),
}


def body_model(name: str, command: type[Command], optional: frozenset[str] = frozenset()
               ) -> type[BaseModel]:
    fields: dict[str, Any] = {}
    for field_name, info in command.model_fields.items():
        if field_name in SERVER_FIELDS:
            continue
        if field_name in optional:
            fields[field_name] = (info.annotation | None, None)  # type: ignore[operator]
        else:
            fields[field_name] = (info.annotation, info)
    return create_model(name, __config__=ConfigDict(extra="forbid"), **fields)


RegisterBody = body_model("RegisterBody", RegisterPetition)
ACTION_BODIES: dict[str, type[BaseModel]] = {
    action: body_model(
        "".join(part.title() for part in action.split("-")) + "Body",
        command,
        DEFAULTED_FIELDS.get(action, frozenset()),
    )
    for action, command in ACTIONS.items()
}
