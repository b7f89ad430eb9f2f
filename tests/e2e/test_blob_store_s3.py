"""The attachments on an S3 bucket (``PETITION_BLOB_STORE=s3``, a real S3 protocol server):
filed from the page, opened by pii staff; a bucket that does not answer is a 503 with the
documented shape on the API and a message beside the field on the page — never a 5xx
traceback, never a half-filed petition. On SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from adapters.blobs.config import build_blob_store
from adapters.http.app import create_app
from adapters.settings import Settings
from tests.e2e.conftest import DISTRICT, Staff, appended
from tests.e2e.test_pages_attachments import file_with, start
from tests.s3_server import S3Server
from tests.sample_files import pdf, png
from workflows.clock import ManualClock


def on_bucket(settings: Settings, s3_server: S3Server, bucket: str) -> Settings:
    s3 = Settings.from_env(s3_server.env(bucket))
    names = [f.name for f in dataclasses.fields(Settings) if f.name.startswith("blob_")]
    return dataclasses.replace(settings, supervision_interval=0,
                               **{name: getattr(s3, name) for name in names})


@pytest.fixture
def api(settings: Settings, clock: ManualClock, s3_server: S3Server) -> Iterator[FastAPI]:
    application = create_app(on_bucket(settings, s3_server, s3_server.new_bucket()),
                             clock=clock, run_projections=True)
    yield application
    application.state.engine.app.close()


def test_filed_attachments_live_in_the_bucket_and_pii_staff_open_them(
        api: FastAPI, client: TestClient, staff: Staff, s3_server: S3Server) -> None:
    letter = pdf()
    code = file_with(api, client, [("信.pdf", letter, "application/pdf")])
    app = api.state.engine.app
    case_id = app.case_id_for_query_code(code)
    sha = app.get_petition(case_id).attachments[0].sha256
    bucket = api.state.engine.settings.blob_s3_bucket
    keys = [o["Key"] for o in s3_server.client().list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == [f"blobs/{sha[:2]}/{sha}"]
    assert not api.state.engine.settings.blob_folder.exists()  # nothing beside the store
    opened = client.get(f"/petitions/{case_id}/attachments/{sha}",
                        headers=staff.headers("intake", DISTRICT, pii=True))
    assert opened.status_code == 200 and opened.content == letter


def test_a_bucket_that_does_not_answer_is_a_503_and_a_message_on_the_page(
        api: FastAPI, client: TestClient, staff: Staff, s3_server: S3Server) -> None:
    code = file_with(api, client, [("a.png", png(seed=2), "image/png")])
    app = api.state.engine.app
    case_id = app.case_id_for_query_code(code)
    sha = app.get_petition(case_id).attachments[0].sha256
    engine = api.state.engine
    engine.blobs = build_blob_store(on_bucket(engine.settings, s3_server, "gone-bucket"),
                                    app.mapper.cipher)
    api.state.pages_filing.blobs = engine.blobs

    refused = client.get(f"/petitions/{case_id}/attachments/{sha}",
                         headers=staff.headers("intake", DISTRICT, pii=True))
    assert refused.status_code == 503
    assert refused.json() == {"error": "blob_store_unavailable", "retry": True,
                              "message": "the attachments' store is not answering; "
                                         "retry later"}
    assert refused.headers["retry-after"] == "5"

    end = appended(api)
    page = start(client, [("b.png", png(seed=3), "image/png")], content="另一件事：积水。")
    assert page.status_code == 503
    assert 'id="attachments-error"' in page.text and "附件暂时无法保存" in page.text
    assert "另一件事：积水。" in page.text and 'name="draft"' not in page.text
    assert appended(api) == end
