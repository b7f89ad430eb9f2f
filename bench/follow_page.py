"""Figure 13: the citizen's follow page (issue 16), rendered on a 10k- and a 1M-case store.

On the stores of figure 12 (``bench/load_store.py``), one client opens the citizen pages as a
browser does: the home page (for its CSRF token), the query code posted to /citizen/follow
(kept in the session, never in the URL), then the follow page /citizen/case, which is timed:
finding the case by the code's index, loading its events, building the public timeline and
rendering the template. The client cycles through every template's code, each time from
another address (the code-entry throttle allows one client 30 attempts in 15 minutes). The
server is figure 12's ``petition serve --workers 1``, after its locust run, with no
other load.
"""

from __future__ import annotations

import random
import re
import statistics
import time
from typing import Any

import httpx

from bench.common import Figure

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
TARGET = 2.0


def render_latencies(base: str, codes: list[str], samples: int) -> dict[str, float]:
    """p50/p95/p99 in ms of rendering the follow page, ``samples`` times."""
    timed = []
    with httpx.Client(base_url=base, timeout=30) as http:
        for n in range(samples + 5):
            headers = {"X-Forwarded-For": f"10.9.{random.randrange(256)}.{random.randrange(1, 255)}"}
            home = http.get("/citizen", headers=headers)
            token = CSRF.search(home.text)
            if home.status_code != 200 or token is None:
                raise RuntimeError(f"the citizen home page answered {home.status_code}")
            followed = http.post("/citizen/follow", headers=headers,
                                 data={"csrf": token.group(1), "query_code": codes[n % len(codes)]})
            if followed.status_code != 303:
                raise RuntimeError(f"following a code answered {followed.status_code}")
            t0 = time.perf_counter()
            page = http.get("/citizen/case", headers=headers)
            elapsed = (time.perf_counter() - t0) * 1000
            if page.status_code != 200 or "csrf" not in page.text:
                raise RuntimeError(f"the follow page answered {page.status_code}")
            if n >= 5:  # the first few warm the server up
                timed.append(elapsed)
    timed.sort()
    return {"p50": statistics.median(timed), "p95": _at(timed, 0.95), "p99": _at(timed, 0.99),
            "samples": len(timed)}


def _at(ordered: list[float], q: float) -> float:
    return ordered[max(0, int(len(ordered) * q) - 1)]


def figure(stores: dict[int, dict[str, Any]]) -> Figure:
    small, large = min(stores), max(stores)
    p95_small, p95_large = stores[small]["follow_ms"]["p95"], stores[large]["follow_ms"]["p95"]
    return Figure(13, f"follow page p95 at {large:,} cases "
                      f"(p50 {stores[large]['follow_ms']['p50']:.1f} ms)",
                  p95_large, "ms", f"p95 at {small:,} cases", p95_small, f"≤ {TARGET:g}×",
                  p95_large <= TARGET * p95_small,
                  detail={str(size): about["follow_ms"] for size, about in stores.items()})
