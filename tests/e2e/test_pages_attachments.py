"""Attachments on the filing form: images and PDFs by content, within size and count limits,
stored once by their SHA-256 and encrypted; the petitioner sees their names, staff with the pii
scope (and within reach) download them, nobody else does. On SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import hashlib
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from adapters.http.app import create_app
from adapters.settings import Settings
from tests.e2e.conftest import DISTRICT, OTHER_DISTRICT, STREET, Staff, appended
from tests.e2e.pages_client import FORM, Citizen, hidden, latest_code
from tests.sample_files import jpeg_header, pdf, png, webp, windows_exe
from workflows.clock import ManualClock

MAX_BYTES, MAX_COUNT = 512 * 1024, 3  # the filing form's limit (~1.6 MB) > the general 1 MiB


@pytest.fixture
def api(settings: Settings, clock: ManualClock) -> Iterator[FastAPI]:
    small = dataclasses.replace(settings, supervision_interval=0,
                                attachment_max_bytes=MAX_BYTES, attachment_max_count=MAX_COUNT)
    application = create_app(small, clock=clock, run_projections=True)
    yield application
    application.state.engine.app.close()


def start(client: TestClient, files: list[tuple[str, bytes, str]], **overrides: str) -> Any:
    token = hidden(client.get("/citizen/file").text, "csrf")
    return client.post("/citizen/file", data={"csrf": token, **FORM, **overrides},
                       files=[("attachments", f) for f in files])


def file_with(api: FastAPI, client: TestClient, files: list[tuple[str, bytes, str]],
              **overrides: str) -> str:
    started = start(client, files, **overrides)
    assert started.status_code == 200, started.text
    receipt = client.post("/citizen/verify", data={
        "csrf": hidden(started.text, "csrf"), "draft": hidden(started.text, "draft"),
        "code": latest_code(api)})
    assert receipt.status_code == 200, receipt.text
    match = re.search(r'id="query-code">([^<]+)<', receipt.text)
    assert match
    return match.group(1)


def blobs(api: FastAPI) -> list[Path]:
    root = api.state.engine.settings.blob_folder
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_image_and_pdf_are_stored_once_shown_to_the_petitioner_and_opened_by_pii_staff(
        api: FastAPI, client: TestClient, staff: Staff) -> None:
    photo, letter = png(), pdf()
    code = file_with(api, client, [("路灯照片.png", photo, "image/png"),
                                   ("同一张照片.png", photo, "image/png"),  # the same bytes
                                   ("张三的信.pdf", letter, "application/pdf")])
    app = api.state.engine.app
    case_id = app.case_id_for_query_code(code)
    petition = app.get_petition(case_id)
    assert [(a.media_type, a.size, a.file_name) for a in petition.attachments] == [
        ("image/png", len(photo), "路灯照片.png"), ("application/pdf", len(letter), "张三的信.pdf")]
    assert [a.sha256 for a in petition.attachments] == [
        hashlib.sha256(photo).hexdigest(), hashlib.sha256(letter).hexdigest()]
    types = [type(e).__name__ for e in app.events_of(case_id)]
    assert types == ["Registered", "AttachmentAdded", "AttachmentAdded"]

    stored = blobs(api)
    assert len(stored) == 2  # two distinct contents, each once
    for path in stored:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        raw = path.read_bytes()
        assert photo[:8] not in raw and b"%PDF" not in raw  # sealed, not plain
    assert stat.S_IMODE(api.state.engine.settings.blob_folder.stat().st_mode) == 0o700

    follow = Citizen(client, api).follow(code)
    assert "路灯照片.png" in follow.text and "张三的信.pdf" in follow.text

    sha = petition.attachments[1].sha256
    url = f"/petitions/{case_id}/attachments/{sha}"
    opened = client.get(url, headers=staff.headers("intake", DISTRICT, pii=True))
    assert opened.status_code == 200 and opened.content == letter
    assert opened.headers["content-type"] == "application/pdf"
    assert opened.headers["x-content-type-options"] == "nosniff"
    assert opened.headers["content-disposition"].startswith("attachment;")
    assert "filename*=UTF-8''%E5%BC%A0%E4%B8%89" in opened.headers["content-disposition"]

    no_pii = client.get(url, headers=staff.headers("intake", DISTRICT))
    assert no_pii.status_code == 403
    elsewhere = client.get(url, headers=staff.headers("intake", OTHER_DISTRICT, pii=True))
    assert elsewhere.status_code == 404  # out of reach: as if there were no such case
    assert elsewhere.json()["error"] == "not_found"
    other_sha = client.get(f"/petitions/{case_id}/attachments/{'0' * 64}",
                           headers=staff.headers("intake", DISTRICT, pii=True))
    assert other_sha.status_code == 404

    summary = client.get(f"/petitions/{case_id}", headers=staff.headers("intake", DISTRICT))
    assert summary.status_code == 200
    listed = summary.json()["attachments"]
    assert [a["file_name"] for a in listed] == ["<redacted>", "<redacted>"]
    assert [a["sha256"] for a in listed] == [a.sha256 for a in petition.attachments]
    with_pii = client.get(f"/petitions/{case_id}", headers=staff.headers("intake", DISTRICT,
                                                                         pii=True))
    assert with_pii.json()["attachments"][0]["file_name"] == "路灯照片.png"


def test_the_same_file_on_two_petitions_is_stored_once(api: FastAPI,
                                                       client: TestClient) -> None:
    photo = png(seed=9)
    file_with(api, client, [("a.png", photo, "image/png")])
    file_with(api, client, [("b.png", photo, "image/png"), ("w.webp", webp(), "image/webp")],
              content="另一件事：小区门口积水。")
    assert len(blobs(api)) == 2


@pytest.mark.parametrize(("files", "reason", "named"), [
    ([("photo.jpg", windows_exe(), "image/jpeg")], "这个文件的内容不是其中一种", "photo.jpg"),
    ([("big.jpg", jpeg_header() + b"\x00" * MAX_BYTES, "image/jpeg")], "文件太大", "big.jpg"),
    ([(f"p{i}.png", png(seed=i), "image/png") for i in range(MAX_COUNT + 1)], "附件太多", None),
    ([("empty.pdf", b"", "application/pdf")], "文件是空的", "empty.pdf"),
], ids=["disguised-exe", "oversized", "too-many", "empty"])
def test_refused_files_are_named_beside_the_field_and_nothing_is_kept(
        api: FastAPI, client: TestClient, files: list[tuple[str, bytes, str]], reason: str,
        named: str | None) -> None:
    end = appended(api)
    refused = start(client, files)
    assert refused.status_code == 422
    error = re.search(r'<p class="error" id="attachments-error">(.*?)</p>', refused.text, re.S)
    assert error and reason in error.group(1)
    if named:
        assert named in error.group(1)
    assert re.search(r'id="attachments"[^>]*aria-invalid="true"', refused.text)
    assert FORM["subject"] in refused.text  # the rest of the form comes back filled in
    assert "draft" not in refused.text and appended(api) == end and blobs(api) == []


def test_the_filing_form_has_its_own_larger_body_limit(api: FastAPI, client: TestClient,
                                                       staff: Staff) -> None:
    settings = api.state.engine.settings
    limit = settings.filing_form_bytes
    assert limit > settings.max_body_bytes
    between = jpeg_header() + b"\x00" * (settings.max_body_bytes + 1000)
    refused = start(client, [("big.jpg", between, "image/jpeg")])
    assert refused.status_code == 422 and "文件太大" in refused.text  # read by the route
    other = client.post("/petitions", content=b"{" + b" " * len(between) + b"}",
                        headers={**staff.headers("intake", DISTRICT),
                                 "content-type": "application/json"})
    assert other.status_code == 413  # every other route keeps the general limit
    token = hidden(client.get("/citizen/file").text, "csrf")
    huge = client.post("/citizen/file", data={"csrf": token, **FORM},
                       files=[("attachments", ("x.png", png() + b"\x00" * limit, "image/png"))])
    assert huge.status_code == 413 and huge.json()["error"] == "body_too_large"
    assert blobs(api) == []


def test_attachments_turned_off_hide_the_field_and_refuse_files(
        settings: Settings, clock: ManualClock) -> None:
    off = dataclasses.replace(settings, supervision_interval=0, attachment_max_count=0)
    application = create_app(off, clock=clock, run_projections=True)
    try:
        with TestClient(application) as client:
            assert 'name="attachments"' not in client.get("/citizen/file").text
            refused = start(client, [("a.png", png(), "image/png")])
            assert refused.status_code == 422 and "draft" not in refused.text
            assert not off.blob_folder.exists()
    finally:
        application.state.engine.app.close()


def test_staff_registration_has_no_attachments(api: FastAPI, client: TestClient,
                                               staff: Staff) -> None:
    from tests.e2e.conftest import register_body

    made = client.post("/petitions", json=register_body(),
                       headers=staff.headers("intake", DISTRICT))
    assert made.status_code in (200, 201), made.text
    case_id = made.json()["case_id"]
    shown = client.get(f"/petitions/{case_id}", headers=staff.headers("intake", DISTRICT))
    assert shown.json()["attachments"] == []
    assert shown.json()["location"]["street"] == STREET
