"""The OpenAPI document as the service really answers: every status, and where ids lead.

FastAPI documents what a route returns and the refusals its router declares. Some answers come
from outside the routes, so they are added here: 400 (a body that is not JSON) and 413 (a body
over the limit) for every operation with a body; 503 (the store does not answer) for every
operation that reads or writes it. Links from a registration's answer to every operation on
one case let a stateful client (schemathesis) register a case and then act on it.

Whitespace-only text: commands strip text before checking its length, so a required text field
is documented with a pattern that needs one non-space character.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from adapters.http.bodies import RegisterBody, body_name
from adapters.http.errors import ErrorBody, describe
from domain.units import OrgChart, UnitLevel
from workflows.command_table import COMMANDS

NO_STORE = frozenset({"/healthz", "/readyz"})  # /readyz declares its own 503
REGISTER = ("/petitions", "post")
NOT_BLANK = r"\S"


def command_schemas() -> frozenset[str]:
    """The bodies built from commands, whose text fields are stripped before their length
    counts (one per declared command, read when the document is built)."""
    return frozenset({RegisterBody.__name__, "LocationIn", "PetitionerIn",
                      *(body_name(spec) for spec in COMMANDS)})


def install(api: FastAPI, org: OrgChart) -> None:
    def openapi() -> dict[str, Any]:
        if api.openapi_schema is None:
            document = honest(get_openapi(title=api.title, version=api.version,
                                          description=api.description, routes=api.routes))
            _example_registration(document, org)
            api.openapi_schema = document
        return api.openapi_schema

    api.openapi = openapi  # type: ignore[method-assign]


def honest(document: dict[str, Any]) -> dict[str, Any]:
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    document.setdefault("components", {}).setdefault("schemas", {}).setdefault(
        "ErrorBody", ErrorBody.model_json_schema())
    for path, operations in document["paths"].items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            codes = [400, 413] if "requestBody" in operation else []
            codes += [] if path in NO_STORE else [503]
            for code in codes:
                responses.setdefault(str(code), {"description": describe(code),
                                                 "content": error})
    _link_registration(document)
    _not_blank(document["components"]["schemas"])
    return document


def _link_registration(document: dict[str, Any]) -> None:
    """POST /petitions → every operation taking the new case's id."""
    links = {}
    for path, operations in document["paths"].items():
        if "{case_id}" not in path:
            continue
        for operation in operations.values():
            links[operation["operationId"]] = {
                "operationId": operation["operationId"],
                "parameters": {"case_id": "$response.body#/case_id"},
            }
    path, method = REGISTER
    created = document["paths"][path][method]["responses"].get("201")
    if created is not None and links:
        created["links"] = links


def _example_registration(document: dict[str, Any], org: OrgChart) -> None:
    """A registration this service accepts (units of its own chart), to start from."""
    districts = [u for u in org if u.level is UnitLevel.DISTRICT]
    if not districts:
        return
    district = districts[0].id
    streets = [u.id for u in org if u.parent == district]
    body = {"channel": "letter", "subject": "路灯不亮", "content": "文昌路 12 号的路灯坏了两个月",
            "category": "城建", "received_by": district,
            "location": {"district": district, **({"street": streets[0]} if streets else {})},
            "petitioner": {"name": "李四", "id_number": "11010519491231002X",
                           "phone": "13800000000"}}
    document["components"]["schemas"][RegisterBody.__name__]["examples"] = [body]


def _not_blank(schemas: dict[str, Any]) -> None:
    for name, schema in schemas.items():
        if name not in command_schemas():
            continue
        for prop in schema.get("properties", {}).values():
            for variant in prop.get("anyOf", [prop]):
                if (variant.get("type") == "string" and variant.get("minLength", 0) >= 1
                        and "pattern" not in variant and "enum" not in variant):
                    variant["pattern"] = NOT_BLANK
