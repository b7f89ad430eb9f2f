"""Property-based fuzz of the API from its own OpenAPI document (schemathesis + hypothesis).

Every operation gets generated requests — valid and invalid bodies, odd query strings, path ids
that exist or not, tokens of several roles — and every response must be no 5xx, carry a
documented status code and match the documented schema. SQLite only; bounded to about a minute.

Excluded check: ``positive_data_acceptance`` (schema-valid data must be accepted). Business
rules the schema cannot express — the GB 11643 check character, units that exist, the state
machine — rightly refuse such requests with 4xx.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import checks

from tests.e2e.conftest import CITY, DISTRICT, STREET, Staff, register_body

BUDGET_SECONDS = 50.0
EXAMPLES_PER_OPERATION = 25


@pytest.mark.parametrize("backend", ["sqlite"])
def test_no_5xx_and_every_response_matches_the_schema(api: FastAPI, staff: Staff,
                                                      client: Any) -> None:
    headers = [staff.headers("admin", CITY), staff.headers("supervisor", DISTRICT),
               staff.headers("handler", STREET), {}]
    real_cases = []
    for _ in range(2):
        response = client.post("/petitions", json=register_body(), headers=headers[0])
        real_cases.append(response.json()["case_id"])
    schema = schemathesis.openapi.from_asgi("/openapi.json", api)
    started = time.monotonic()
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 25

    for operation in operations:
        if time.monotonic() - started > BUDGET_SECONDS:
            break

        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(), data=st.data())
        def fuzz(case: Any, data: st.DataObject) -> None:
            if case.path_parameters and "case_id" in case.path_parameters and data.draw(
                    st.booleans()):
                case.path_parameters["case_id"] = data.draw(st.sampled_from(real_cases))
            case.call_and_validate(headers=data.draw(st.sampled_from(headers)),
                                   excluded_checks=[checks.positive_data_acceptance])

        try:
            fuzz()
        except Exception as failure:  # noqa: BLE001 - collected to report every operation
            failures.append(f"{operation.label}: {failure}")
    assert not failures, "\n\n".join(failures)
