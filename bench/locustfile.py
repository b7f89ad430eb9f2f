"""The users of figure 12's load test, run by locust in its own process (gevent patches the
standard library at import, so it never runs inside the bench's own process).

Read by ``locust -f bench/locustfile.py`` with ``BENCH_LOAD_PLAN`` naming a JSON file written
by ``bench/load_test.py``: the tokens, the case ids staff read, the query codes citizens follow
and the answered cases they may rate (each rated once); ``"analytics": false`` leaves the
supervisors to their queues. Every request is named by its route,
so locust's statistics are per route. Citizens come from distinct addresses (X-Forwarded-For,
believed from 127.0.0.1 only in the bench's server): the query-code throttle limits each client
to 30 attempts in 15 minutes, as it should, and thousands of citizens are not one client.
"""

from __future__ import annotations

import json
import os
import random
from datetime import date, timedelta

from locust import FastHttpUser, between, task

PLAN = json.loads(open(os.environ["BENCH_LOAD_PLAN"], encoding="utf-8").read())  # noqa: SIM115
RATE_POOL: list[str] = list(PLAN["rate_codes"])
WAIT = between(0, PLAN.get("max_wait", 0.05))
CHECK = "10X98765432"
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number() -> str:
    """A random valid identity number (GB 11643): a different petitioner every time."""
    born = date(1950, 1, 1) + timedelta(days=random.randrange(40 * 365))
    first17 = f"110105{born:%Y%m%d}{random.randrange(1000):03d}"
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return first17 + CHECK[total % 11]


def address() -> str:
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"


class Staff(FastHttpUser):
    """Intake staff of the city: list cases, read one, register and accept a new one."""

    weight = 5
    wait_time = WAIT

    def on_start(self) -> None:
        self.auth = {"Authorization": f"Bearer {PLAN['staff_token']}"}

    @task(4)
    def list_cases(self) -> None:
        params = random.choice(["?limit=50", "?limit=50&status=in_handling",
                                "?limit=50&jurisdiction=QH-D01"])
        self.client.get("/petitions" + params, headers=self.auth, name="GET /petitions")

    @task(4)
    def read(self) -> None:
        case_id = random.choice(PLAN["case_ids"])
        self.client.get(f"/petitions/{case_id}", headers=self.auth,
                        name="GET /petitions/{case_id}")

    @task(1)
    def act(self) -> None:
        body = {"channel": "visit", "subject": "噪音扰民", "content": "夜间施工噪音持续。",
                "category": "环保", "location": {"district": "QH-D01", "street": "QH-D01-S01"},
                "received_by": "QH-D01",
                "petitioner": {"name": "李四", "id_number": id_number(), "phone": "13900000000"}}
        with self.client.post("/petitions", json=body, headers=self.auth, name="POST /petitions",
                              catch_response=True) as response:
            if response.status_code != 201:
                response.failure(f"{response.status_code}: {response.text[:200]}")
                return
            case_id = response.json()["case_id"]
        self.client.post(f"/petitions/{case_id}/accept", headers=self.auth,
                         json={"handling_track": "claim", "speed_track": "general"},
                         name="POST /petitions/{case_id}/accept")


class Supervisor(FastHttpUser):
    """A city supervisor: the overdue and due-soon queues, the month's indicators and index."""

    weight = 2
    wait_time = WAIT

    def on_start(self) -> None:
        self.auth = {"Authorization": f"Bearer {PLAN['supervisor_token']}"}

    @task(3)
    def overdue(self) -> None:
        self.client.get("/supervision/overdue?limit=50", headers=self.auth,
                        name="GET /supervision/overdue")

    @task(2)
    def due_soon(self) -> None:
        self.client.get("/supervision/due-soon?within_days=7&limit=50", headers=self.auth,
                        name="GET /supervision/due-soon")

    @task(1)
    def indicators(self) -> None:
        if not PLAN.get("analytics", True):
            return self.overdue()
        self.client.get(f"/analytics/indicators?period={PLAN['period']}&unit=QH-D01",
                        headers=self.auth, name="GET /analytics/indicators")
        return None

    @task(1)
    def service_index(self) -> None:
        if not PLAN.get("analytics", True):
            return self.due_soon()
        self.client.get(f"/analytics/index?period={PLAN['period']}&unit=QH-D01-S01",
                        headers=self.auth, name="GET /analytics/index")
        return None


class Citizen(FastHttpUser):
    """A petitioner following a case with the query code, and rating an answer once."""

    weight = 5
    wait_time = WAIT

    def on_start(self) -> None:
        self.forwarded = {"X-Forwarded-For": address()}

    @task(5)
    def follow(self) -> None:
        self.forwarded = {"X-Forwarded-For": address()}  # another citizen
        self.client.post("/status", json={"query_code": random.choice(PLAN["codes"])},
                         headers=self.forwarded, name="POST /status")

    @task(1)
    def rate(self) -> None:
        if not RATE_POOL:
            return self.follow()
        code = RATE_POOL.pop()
        self.client.post("/status/rate", headers=self.forwarded, name="POST /status/rate",
                         json={"query_code": code, "attitude": "satisfied",
                               "efficiency": "basically_satisfied", "quality": "satisfied",
                               "comment": "处理及时"})
        return None
