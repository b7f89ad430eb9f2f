"""Staff routes on cases: register, act, read one case.

No `from __future__ import annotations` here: FastAPI must see the generated body types.
"""


from collections.abc import Callable
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, File, Header, UploadFile
from pydantic import BaseModel

from adapters.blobs.port import sha256_of
from adapters.blobs.uploads import Limits, Upload, check, safe_name
from adapters.http.auth import Eng, Staff
from adapters.http.bodies import RegisterBody, action_body
from domain.errors import IllegalTransition
from workflows import case_reads
from workflows.access import Principal, authorize, authorize_read, authorize_register
from workflows.application import Idempotency
from workflows.case_summary import deadline_dict
from workflows.command_table import COMMANDS, CommandSpec, CommandTable
from workflows.commands import RegisterPetition

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=200,
           description="Retrying with the same key returns the first response, appends nothing."),
]


def idempotency(principal: Principal, key: str | None) -> Idempotency | None:
    return Idempotency(scope=f"token:{principal.token_id}", key=key) if key else None


def view(eng: Eng, principal: Principal, case_id: UUID, version: int) -> dict[str, Any]:
    """The case as the command left it: a replayed request gets the first answer's case,
    even when later commands have changed it since."""
    return case_reads.case(eng.app, case_id, pii=principal.pii, version=version)


def register(body: RegisterBody, principal: Staff, eng: Eng,  # type: ignore[valid-type]
             key: IdempotencyKey = None) -> dict[str, Any]:
    """The query code appears in this response only; give it to the petitioner."""
    authorize_register(principal, body.received_by, eng.app.org,  # type: ignore[attr-defined]
                       body.proxy_agent)  # type: ignore[attr-defined]
    command = RegisterPetition(**body.model_dump(), actor=principal.actor)  # type: ignore[attr-defined]
    result = eng.app.register(command, idempotency=idempotency(principal, key))
    deadline = result.deadline
    if key:  # a replay reports today's deadline; answer with the registered case's instead
        deadline = eng.app.policy.current(eng.app.get_petition(result.case_id, version=1))
    return {
        "case_id": str(result.case_id),
        "query_code": result.query_code,
        "status": result.status,
        "deadline": deadline_dict(deadline),
        "position": result.position,
        "concluded_flag": result.concluded_in,  # 不再受理: the earlier case; intake decides
    }


def get_case(case_id: UUID, principal: Staff, eng: Eng) -> dict[str, Any]:
    return case_reads.case(eng.app, case_id, pii=principal.pii,
                           guard=lambda p: authorize_read(principal, p, eng.app.org))


def _action_route(spec: CommandSpec, body_type: type[BaseModel]) -> Callable[..., dict[str, Any]]:
    action, command_type, defaulted = spec.action, spec.command, spec.unit_from_caller

    def act(case_id: UUID, body: body_type, principal: Staff, eng: Eng,  # type: ignore[valid-type]
            key: IdempotencyKey = None) -> dict[str, Any]:
        data = body.model_dump(exclude_none=True)  # type: ignore[attr-defined]
        for name in defaulted - data.keys():
            data[name] = principal.unit
        command = command_type(**data, case_id=case_id, actor=principal.actor)
        result = eng.app.execute(
            command,
            guard=lambda petition: authorize(principal, action, petition, eng.app.org, command,
                                             eng.app.clock.now()),
            idempotency=idempotency(principal, key),
        )
        return {"case": view(eng, principal, case_id, result.version),
                "position": result.position, "version": result.version}

    act.__name__ = f"act_{action.replace('-', '_')}"
    act.__doc__ = f"`{action}`: {command_type.__doc__ or command_type.__name__}"
    return act


FileField = Annotated[UploadFile, File(description="One image (JPEG, PNG, WebP) or PDF, typed "
                                                   "by its content; at most "
                                                   "PETITION_ATTACHMENT_MAX_BYTES.")]


def _upload_route(spec: CommandSpec) -> Callable[..., dict[str, Any]]:
    """A multipart route for a command that carries a file: the caller is authorised on the
    case first, the file checked by content, and only then the bytes stored and the command
    sent with what the server found (hash, type, size) — never with values from the client.
    Bytes stored for a command the case then refuses (409) are named by no event: the blob
    sweep deletes them."""
    action, command_type = spec.action, spec.command

    def act(case_id: UUID, file: FileField, principal: Staff, eng: Eng,
            key: IdempotencyKey = None) -> dict[str, Any]:
        def guard(petition: Any, command: Any = None) -> None:
            authorize(principal, action, petition, eng.app.org, command, eng.app.clock.now())

        petition = eng.app.get_petition(case_id)
        guard(petition)  # out of reach, a role that may not, or a closed case: refused before
        if action not in petition.allowed_commands:  # the file is read or stored
            raise IllegalTransition(action, petition.status.value, petition.allowed_commands)
        limit = eng.settings.attachment_max_bytes
        name = safe_name(file.filename or "")
        (upload, kind), = check([Upload(name, file.file.read(limit + 1))], Limits(limit, 1))
        command = command_type(case_id=case_id, actor=principal.actor, sha256=sha256_of(
            upload.data), media_type=kind, size=len(upload.data), file_name=upload.name)
        eng.blobs.put(upload.data)
        result = eng.app.execute(command, guard=lambda petition: guard(petition, command),
                                 idempotency=idempotency(principal, key))
        return {"case": view(eng, principal, case_id, result.version),
                "position": result.position, "version": result.version}

    act.__name__ = f"act_{action.replace('-', '_')}"
    act.__doc__ = (f"`{action}` (multipart, one `file`): {command_type.__doc__}")
    return act


def build_router(table: CommandTable = COMMANDS) -> APIRouter:
    """Register, read one case, and one POST route per declared case command."""
    router = APIRouter(tags=["petitions"])
    router.post("/petitions", status_code=201, summary="Register a petition (登记)")(register)
    router.get("/petitions/{case_id}", summary="One case as it stands now")(get_case)
    for spec in table:
        route = _upload_route(spec) if spec.upload else _action_route(spec, action_body(spec))
        router.post(f"/petitions/{{case_id}}/{spec.action}", summary=spec.action)(route)
    return router
