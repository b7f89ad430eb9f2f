"""Files after filing: staff put documents on a case (attach-document), a petitioner adds one
from the follow page while the case is open, intake records one handed in on paper
(add-attachment). Checked by content, stored once, recorded by the server's own findings;
who may, and who sees what (workflows/privacy.py). On SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.e2e.conftest import DISTRICT, STREET, Staff, appended
from tests.e2e.pages_client import Citizen, hidden
from tests.e2e.test_http_authorization import (
    CALLERS,
    DELEGATE,
    WRITES,
    Matrix,
    expected_on_case,
)
from tests.sample_files import pdf, png, windows_exe
from workflows import commands as c
from workflows.roles import Role

UPLOAD_ROLES = {"add-attachment": frozenset({Role.INTAKE.value, Role.ADMIN.value}),
                "attach-document": frozenset({Role.INTAKE.value, Role.HANDLER.value,
                                              Role.SUPERVISOR.value, Role.ADMIN.value})}


def blob_files(api: FastAPI) -> list[Path]:
    root = api.state.engine.settings.blob_folder
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def post_file(client: TestClient, case_id: UUID, action: str, name: str, data: bytes,
              headers: dict[str, str]) -> Any:
    return client.post(f"/petitions/{case_id}/{action}", headers=headers,
                       files={"file": (name, data, "application/octet-stream")})


@pytest.fixture
def matrix(api: FastAPI, client: TestClient, staff: Staff, clock: Any) -> Matrix:
    return Matrix(api, client, staff, clock)


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("action", sorted(UPLOAD_ROLES))
def test_who_may_put_a_file_on_a_case(matrix: Matrix, action: str) -> None:
    assert set(UPLOAD_ROLES) <= set(c.ACTIONS) and not set(UPLOAD_ROLES) & set(WRITES)
    case_id = matrix.case(DELEGATE)
    for number, caller in enumerate(CALLERS):
        want = expected_on_case(UPLOAD_ROLES[action], caller, delegated=True)
        data = png(seed=100 + number)  # each caller its own file: a repeat is refused
        matrix.check(action, want, caller, lambda h, d=data: post_file(
            matrix.client, case_id, action, "f.png", d, h), writes=True)
    assert not matrix.mismatches, "\n".join(matrix.mismatches)


def test_staff_documents_are_for_staff_and_open_with_pii(api: FastAPI, client: TestClient,
                                                         staff: Staff) -> None:
    app = api.state.engine.app
    case_id = Matrix(api, client, staff, app.clock).case(DELEGATE)
    handler = staff.headers("handler", STREET)
    reply = pdf()
    done = post_file(client, case_id, "attach-document", "答复意见书（张三）.pdf", reply, handler)
    assert done.status_code == 200, done.text
    sha = hashlib.sha256(reply).hexdigest()
    assert done.json()["case"]["documents"] == [
        {"sha256": sha, "media_type": "application/pdf", "size": len(reply),
         "file_name": "<redacted>"}]
    event = app.events_of(case_id)[-1]
    assert type(event).__name__ == "DocumentAttached" and event.actor.startswith("handler")
    assert (event.sha256, event.media_type, event.size) == (sha, "application/pdf", len(reply))

    with_pii = staff.headers("intake", DISTRICT, pii=True)
    shown = client.get(f"/petitions/{case_id}", headers=with_pii).json()
    assert shown["documents"][0]["file_name"] == "答复意见书（张三）.pdf"
    assert shown["attachments"] == []  # the petitioner's files are another list
    opened = client.get(f"/petitions/{case_id}/attachments/{sha}", headers=with_pii)
    assert opened.status_code == 200 and opened.content == reply
    assert client.get(f"/petitions/{case_id}/attachments/{sha}",
                      headers=handler).status_code == 403  # no pii scope

    again = post_file(client, case_id, "attach-document", "copy.pdf", reply, handler)
    assert again.status_code == 422 and "twice" in again.json()["message"]
    assert len(blob_files(api)) == 1


@pytest.mark.parametrize(("data", "reason"), [
    (windows_exe(), "not a JPEG"), (b"", "empty"), (png() + b"\0" * (5 << 20), "size limit")],
    ids=["disguised-exe", "empty", "oversized"])
def test_a_refused_file_is_named_and_nothing_is_kept(api: FastAPI, client: TestClient,
                                                     staff: Staff, data: bytes,
                                                     reason: str) -> None:
    case_id = Matrix(api, client, staff, api.state.engine.app.clock).case(DELEGATE)
    handler = staff.headers("handler", STREET)  # a token is an event too
    end = appended(api)
    refused = post_file(client, case_id, "attach-document", "photo.jpg", data, handler)
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["error"] == "invalid_request" and body["problems"][0]["field"] == "file"
    assert reason in body["message"]
    assert appended(api) == end and blob_files(api) == []


def test_a_closed_case_takes_no_file_and_stores_none(api: FastAPI, client: TestClient,
                                                     staff: Staff) -> None:
    app = api.state.engine.app
    case_id = Matrix(api, client, staff, app.clock).case([])
    app.execute(c.WithdrawPetition(case_id=case_id, actor="p", reason="已解决"))
    intake = staff.headers("intake", DISTRICT)
    end = appended(api)
    refused = post_file(client, case_id, "add-attachment", "a.png", png(), intake)
    assert refused.status_code == 409 and refused.json()["error"] == "illegal_transition"
    assert appended(api) == end and blob_files(api) == []


def test_the_petitioner_adds_a_file_from_the_follow_page(api: FastAPI, client: TestClient,
                                                         staff: Staff) -> None:
    citizen = Citizen(client, api)
    code = citizen.file()
    app = api.state.engine.app
    case_id = app.case_id_for_query_code(code)
    handler_doc = pdf()
    app.execute(c.AcceptPetition(case_id=case_id, actor="i", handling_track="claim",
                                 speed_track="general"))
    app.execute(c.DelegatePetition(case_id=case_id, actor="i", unit=STREET))
    assert post_file(client, case_id, "attach-document", "内部调查记录.pdf", handler_doc,
                     staff.headers("handler", STREET)).status_code == 200

    page = citizen.follow(code)
    assert page.status_code == 200
    assert 'action="/citizen/case/add-attachment"' in page.text
    assert "内部调查记录.pdf" not in page.text  # staff's files are not the petitioner's

    def add(name: str, data: bytes) -> Any:
        token = hidden(client.get("/citizen/case").text, "csrf")
        return client.post("/citizen/case/add-attachment", data={"csrf": token},
                           files=[("attachments", (name, data, "image/png"))])

    end = appended(api)
    bad = add("照片.png", windows_exe())
    assert bad.status_code == 422
    assert re.search(r'id="add-attachment-error">[^<]*JPEG', bad.text)
    assert re.search(r'id="add-attachment"[^>]*aria-invalid="true"', bad.text)
    assert appended(api) == end

    photo = png(seed=42)
    added = add("现场照片.png", photo)
    assert added.status_code == 200 and "补充材料已提交" in added.text  # after the redirect
    assert "现场照片.png" in added.text
    event = app.events_of(case_id)[-1]
    assert type(event).__name__ == "AttachmentAdded" and event.actor == "petitioner"
    assert event.sha256 == hashlib.sha256(photo).hexdigest()

    status = client.post("/status", json={"query_code": code}).json()
    assert "documents" not in status and "内部调查记录" not in str(status)  # staff's files

    app.execute(c.WithdrawPetition(case_id=case_id, actor="i", reason="已解决"))
    closed = client.get("/citizen/case")
    assert 'action="/citizen/case/add-attachment"' not in closed.text
    end = appended(api)
    late = add("晚了.png", png(seed=43))
    assert late.status_code == 422 and appended(api) == end
