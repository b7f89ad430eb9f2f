"""One declaration per command: everything else is derived from it.

A throwaway command declared here (and only here) must show up in ``ACTIONS``, the role matrix,
the HTTP router and OpenAPI, and the CLI's ``act`` — and work through each, in memory. The
documented role matrix (docs/api.md) is checked against the declarations.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from adapters.cli import case_commands
from adapters.cli.main import app as cli
from adapters.engine import Engine
from adapters.http.app import create_app
from adapters.settings import Settings
from domain.petition import Petition
from tests.unit.builders import T0, small_chart
from workflows.access import ACTION_ROLES, Role
from workflows.application import PetitionApplication
from workflows.clock import ManualClock
from workflows.command_table import COMMANDS, CommandTable
from workflows.commands import ACTIONS, REGISTER_ROLES, CaseCommand, RegisterPetition, Text
from workflows.tokens import TokenService

ACTION = "withdraw-on-behalf"
ROOT = Path(__file__).resolve().parents[2]


class WithdrawOnBehalf(CaseCommand):
    """A throwaway command: a supervisor records a withdrawal."""

    reason: Text


@pytest.fixture
def declared() -> Iterator[type[CaseCommand]]:
    COMMANDS.declare(ACTION, Petition.withdraw, roles={Role.SUPERVISOR})(WithdrawOnBehalf)
    try:
        yield WithdrawOnBehalf
    finally:
        COMMANDS.remove(ACTION)


@pytest.fixture
def application() -> PetitionApplication:
    from workflows.query_codes import QueryCodes

    return PetitionApplication({"PERSISTENCE_MODULE": "eventsourcing.popo"}, org=small_chart(),
                               query_codes=QueryCodes(b"k" * 32), clock=ManualClock(T0))


def registered(app: PetitionApplication) -> UUID:
    return app.register(RegisterPetition(
        actor="clerk", channel="letter", subject="路灯不亮", content="两个月了。", category="城建",
        location={"district": "D1"}, received_by="D1",
        petitioner={"name": "张三", "id_number": "11010519491231002X", "phone": "13800000000"},
    )).case_id


def test_a_declaration_alone_appears_in_actions_and_the_role_matrix(declared) -> None:
    assert ACTIONS[ACTION] is declared
    assert ACTION_ROLES[ACTION] == {Role.SUPERVISOR}
    assert list(ACTIONS)[-1] == ACTION and len(ACTION_ROLES) == len(ACTIONS) + 1


def test_a_declaration_alone_gets_an_http_route_body_and_roles(declared, application) -> None:
    case_id = registered(application)
    tokens = TokenService(application, application.org, application.clock)
    engine = Engine(settings=Settings.from_env({}), app=application, tokens=tokens)
    api = create_app(engine=engine)
    schema = api.openapi()
    assert f"/petitions/{{case_id}}/{ACTION}" in schema["paths"]
    assert "WithdrawOnBehalfBody" in schema["components"]["schemas"]
    with TestClient(api) as client:
        def post(role: Role, body: dict[str, object]) -> int:
            token = tokens.issue(role, "D1").token
            return client.post(f"/petitions/{case_id}/{ACTION}", json=body,
                               headers={"Authorization": f"Bearer {token}"}).status_code

        assert post(Role.INTAKE, {"reason": "撤回"}) == 403
        assert post(Role.SUPERVISOR, {"reason": "撤回", "actor": "x"}) == 422
        assert post(Role.SUPERVISOR, {"reason": "撤回"}) == 200
    assert application.get_petition(case_id).status.value == "withdrawn"


def test_a_declaration_alone_is_an_action_of_the_cli(declared, application, monkeypatch) -> None:
    case_id = registered(application)
    monkeypatch.setattr(case_commands, "open_app", lambda: application)
    result = CliRunner().invoke(cli, ["act", str(case_id), ACTION, "reason=撤回", "--json"])
    assert result.exit_code == 0, result.output
    assert application.get_petition(case_id).status.value == "withdrawn"


def test_without_the_declaration_the_action_is_gone_everywhere(application) -> None:
    assert ACTION not in ACTIONS and ACTION not in ACTION_ROLES
    api = create_app(engine=Engine(settings=Settings.from_env({}), app=application,
                                   tokens=TokenService(application, application.org,
                                                       application.clock)))
    assert not any(ACTION in path for path in api.openapi()["paths"])
    result = CliRunner().invoke(cli, ["act", str(registered(application)), ACTION])
    assert result.exit_code == 2 and "unknown action" in result.output


def test_a_declaration_that_does_not_fit_its_method_is_refused() -> None:
    class Misfit(CaseCommand):
        reason: Text  # Petition.close takes a summary, not a reason

    with pytest.raises(TypeError, match="does not fit"):
        CommandTable().declare("misfit", Petition.close, roles={Role.ADMIN})(Misfit)


def test_an_action_or_a_class_is_declared_once() -> None:
    table = CommandTable()
    table.declare("a", Petition.withdraw, roles={Role.ADMIN})(WithdrawOnBehalf)
    with pytest.raises(ValueError, match="declared twice"):
        table.declare("b", Petition.withdraw, roles={Role.ADMIN})(WithdrawOnBehalf)


def documented_role_matrix() -> dict[str, frozenset[str]]:
    """docs/api.md's "Who may do what" rows for actions: action → roles with a ✓ (or the
    proxy-agents-only note, which is an intake user)."""
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    section = text.split("## Who may do what", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")]
    header = [cell.strip() for cell in rows[0].strip("|").split("|")]
    matrix: dict[str, frozenset[str]] = {}
    for row in rows[1:]:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        roles = frozenset(role for role, cell in zip(header[1:], cells[1:], strict=True) if cell)
        for name in re.sub(r"\([^)]*\)", "", cells[0]).split(","):
            if name.strip() in ACTION_ROLES:
                matrix[name.strip()] = roles
    return matrix


def test_the_documented_role_matrix_is_the_declared_one() -> None:
    declared = {action: frozenset(r.value for r in roles) for action, roles in ACTION_ROLES.items()}
    assert documented_role_matrix() == declared
    assert ACTION_ROLES["register"] == REGISTER_ROLES
