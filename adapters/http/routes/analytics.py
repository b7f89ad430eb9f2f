"""Analytics: indicators, the service index and the ranking of streets and districts.

Read by supervisors, auditors and admins (analysis judges units; it is a supervision tool), cut
to the caller's reach like every list: a unit outside it is a 403, a bad period or unknown unit
a 422 in the usual error shape.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from adapters.http.auth import Eng, Staff
from adapters.index_file import configured_formula
from domain.units import UnitLevel
from projections import analysis_queries as aq
from projections.hotspots import geojson, hotspots
from projections.periods import parse_period
from projections.place_clusters import (
    MAX_RADIUS_M,
    MIN_RADIUS_M,
    RADIUS_M,
    clusters,
    geojson_clusters,
)
from workflows.access import Principal, Role, reach
from workflows.errors import AccessDenied

router = APIRouter(prefix="/analytics", tags=["analytics"])
PERIOD = ("2026, 2026-Q4, 2026-10, 2026-W40, 2026-10-05 or 2026-10-01..2026-10-15 (local days, "
          "Asia/Shanghai)")


def _period() -> Any:
    """A fresh Query per route: FastAPI binds a shared one to the first parameter's name."""
    return Query(max_length=40, description=PERIOD)


def _unit() -> Any:
    return Query(default=None, max_length=64, description="A unit and all below it.")


_READERS = (Role.SUPERVISOR, Role.AUDITOR, Role.ADMIN)


def _reach(eng: Eng, principal: Principal, requested: str | None,
           readers: tuple[Role, ...] = _READERS) -> str | None:
    """The subtree to analyse: the requested one, which must lie in the caller's reach."""
    if principal.role not in readers:
        raise AccessDenied(f"role '{principal.role}' does not read analytics")
    org = eng.app.org
    everything = principal.role in (Role.AUDITOR, Role.ADMIN)
    if requested is not None:
        org.get(requested)
        if not everything and not org.is_within(requested, principal.unit):
            raise AccessDenied(f"'{requested}' is outside the reach of '{principal.unit}'")
        return requested
    return None if everything else principal.unit


def _moment(eng: Eng, as_of: datetime | None) -> datetime:
    return as_of or eng.app.clock.now()


@router.get("/indicators", summary="Indicators of a unit's subtree for a period, each with "
                                   "numerator and denominator")
def indicators(principal: Staff, eng: Eng, period: str = _period(), unit: str | None = _unit(),
               as_of: AwareDatetime | None = None,
               cases: bool = Query(default=False, description="List the case ids behind each "
                                                              "figure.")) -> dict[str, Any]:
    root = _reach(eng, principal, unit)
    return aq.indicators(eng.app.org, eng.view("analysis_facts"), parse_period(period), root,
                         _moment(eng, as_of), with_cases=cases)


@router.get("/index", summary="The service index (服务指数) of a unit: score, grade, breakdown")
def service_index(principal: Staff, eng: Eng, period: str = _period(), unit: str | None = _unit(),
                  as_of: AwareDatetime | None = None) -> dict[str, Any]:
    root = _reach(eng, principal, unit)
    return aq.index(eng.app.org, configured_formula(eng.settings), eng.view("analysis_facts"),
                    parse_period(period), root, _moment(eng, as_of))


@router.get("/ranking", summary="Streets or districts ranked by the service index")
def ranking(principal: Staff, eng: Eng, period: str = _period(),
            level: Literal["street", "district"] = "street",
            within: str | None = _unit(), as_of: AwareDatetime | None = None) -> dict[str, Any]:
    root = _reach(eng, principal, within)
    return aq.ranking(eng.app.org, configured_formula(eng.settings), eng.view("analysis_facts"),
                      parse_period(period), UnitLevel(level), root, _moment(eng, as_of))


@router.get("/hotspots", summary="Cases by street × category in a period, with trends and "
                                 "rising hotspots flagged; GeoJSON on request")
def hot(principal: Staff, eng: Eng, period: str = _period(), unit: str | None = _unit(),
        form: Literal["json", "geojson"] = Query(default="json", alias="format"),
        cases: bool = Query(default=False, description="List the case ids behind each "
                                                       "hotspot.")) -> dict[str, Any]:
    root = _reach(eng, principal, unit)
    found = hotspots(eng.app.org, eng.view("analysis_facts"), parse_period(period), root,
                     with_cases=cases)
    return geojson(found) if form == "geojson" else found


@router.get("/hotspots/clusters", summary="Petitions about the same place and matter in a "
                                          "period: radius or street clusters; GeoJSON on request")
def place_clusters(principal: Staff, eng: Eng, period: str = _period(),
                   unit: str | None = _unit(),
                   radius_m: float = Query(default=RADIUS_M, ge=MIN_RADIUS_M, le=MAX_RADIUS_M,
                                           description="Largest distance that links two "
                                                       "petitions' points, in metres."),
                   form: Literal["json", "geojson"] = Query(default="json", alias="format")
                   ) -> dict[str, Any]:
    root = _reach(eng, principal, unit)
    found = clusters(eng.app.org, eng.view("analysis_facts"), parse_period(period), root,
                     radius_m=radius_m)
    return geojson_clusters(found) if form == "geojson" else found


class SimilarQuery(BaseModel):
    """The text in the body, not the URL: a petition's words may name people."""

    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=20000)
    unit: str | None = Field(default=None, max_length=64)
    limit: int = Field(default=5, ge=1, le=50)


@router.post("/similar", summary="The answered cases most similar to a text, with their answers")
def similar(principal: Staff, eng: Eng, query: SimilarQuery) -> dict[str, Any]:
    root = _reach(eng, principal, query.unit, tuple(Role))
    scope = reach(principal, eng.app.org, narrowed_to=query.unit)

    def readable(case_id: str) -> bool:  # the single-case read's rule, on the case as it is now
        return scope is None or scope.covers(eng.app.get_petition(UUID(case_id)))

    return {"unit": root, "items": eng.similar.search(
        query.text, limit=query.limit, visible=readable)}
