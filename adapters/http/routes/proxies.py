"""The proxy-agent roster (代办员) as staff read it: only agents serving a grid in reach."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from adapters.http.auth import Eng, Staff
from adapters.http.params import unit_query
from workflows.access import reach
from workflows.proxy_agents import roster

router = APIRouter(tags=["read"])

Jurisdiction = unit_query("Narrow the list to agents serving grids of this unit (within yours).")


@router.get("/proxies", summary="Proxy agents serving grids in the caller's reach")
def list_proxies(principal: Staff, eng: Eng, jurisdiction: Jurisdiction = None
                 ) -> dict[str, Any]:
    scope = reach(principal, eng.app.org, narrowed_to=jurisdiction)
    record = roster(eng.app)
    agents = record.listing() if record is not None else []
    items = [a.row() for a in agents
             if scope is None or any(grid in scope.units for grid in a.grids)]
    return {"items": items}
