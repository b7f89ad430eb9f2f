"""Random form submissions to every citizen page: a clear page each time, never a 5xx, and
nothing appended except by a complete, verified filing."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.http.app import create_app
from adapters.settings import Settings
from tests.e2e.conftest import appended
from tests.e2e.pages_client import FORM, hidden
from workflows.clock import ManualClock

PATHS = ("/citizen/file", "/citizen/verify", "/citizen/follow", "/citizen/case/rate",
         "/citizen/case/review", "/citizen/case/withdraw", "/citizen/case/add-attachment",
         "/citizen/case/nonsense")
FIELDS = (*FORM, "code", "draft", "query_code", "attitude", "reason", "comment")
junk = st.one_of(st.text(max_size=300), st.sampled_from(["", " ", "\x00", "<b>", "1" * 30000]),
                 st.sampled_from(list(FORM.values())))


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param  # the fuzz is about the pages; the stores are covered by the flow


@pytest.fixture
def fuzz_api(settings: Settings, clock: ManualClock) -> Iterator[FastAPI]:
    api = create_app(dataclasses.replace(settings, supervision_interval=0), clock=clock,
                     run_projections=False)
    yield api
    api.state.engine.app.close()


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(path=st.sampled_from(PATHS), data=st.dictionaries(st.sampled_from(FIELDS), junk),
       with_token=st.booleans())
def test_random_submissions_never_fail_the_server(fuzz_api: FastAPI, path: str,
                                                  data: dict[str, str], with_token: bool
                                                  ) -> None:
    with TestClient(fuzz_api, raise_server_exceptions=False) as client:
        end = appended(fuzz_api)
        if with_token:
            data = {**data, "csrf": hidden(client.get("/citizen/file").text, "csrf")}
        response = client.post(path, data=data, follow_redirects=False)
        assert response.status_code < 500, response.text
        assert response.headers["content-type"].startswith("text/html") or \
            response.status_code in (303, 404, 405)
        assert appended(fuzz_api) == end  # no filing completes without the phone's code
