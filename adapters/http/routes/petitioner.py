"""The petitioner's routes: follow, rate and ask for review with the private query code.

No token: the query code is the credential. Guessing is throttled per client and per code,
and codes are compared as keyed hashes in constant time. Answers carry no internal notes,
actors or personal data.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Header, Request
from pydantic import BaseModel, ConfigDict, Field

from adapters.http.auth import Eng
from domain.errors import DomainError
from domain.values import DeliveryChannel, Satisfaction
from workflows import case_reads
from workflows.application import Idempotency
from workflows.commands import DeliverDecision, RatePetition, RequestReReview, RequestReview
from workflows.errors import ConcurrentModification, QueryCodeNotFound
from workflows.online_delivery import opens_undelivered

router = APIRouter(tags=["petitioner"])
PETITIONER = "petitioner"
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]


class CodeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query_code: str = Field(min_length=4, max_length=40)


class PetitionerRateBody(CodeBody):
    attitude: Satisfaction
    efficiency: Satisfaction
    quality: Satisfaction
    comment: str = Field(default="", max_length=2000)


class PetitionerReviewBody(CodeBody):
    reason: str = Field(min_length=1, max_length=500)


def _case_for(eng: Eng, request: Request, code: str) -> UUID:
    code_key = eng.app.query_codes.hash(code) if eng.app.query_codes else code
    client = request.client.host if request.client else "unknown"
    eng.throttle.before(client, code_key)
    try:
        return eng.app.case_id_for_query_code(code)
    except QueryCodeNotFound:
        eng.throttle.failed(code_key)
        raise


def _scope(eng: Eng, code: str) -> str:
    return "petitioner:" + (eng.app.query_codes.hash(code) if eng.app.query_codes else code)


@router.post("/status", summary="Follow my petition (查询)")
def status(body: CodeBody, request: Request, eng: Eng) -> dict[str, Any]:
    """Opening a written answer or review opinion here for the first time delivers it online
    (网上送达), unless its deemed delivery came first."""
    case_id = _case_for(eng, request, body.query_code)
    petition = eng.app.get_petition(case_id)
    if opens_undelivered(eng.app, petition):
        try:
            result = eng.app.execute(DeliverDecision(case_id=case_id, actor=PETITIONER,
                                                     channel=DeliveryChannel.ONLINE))
            petition = eng.app.get_petition(case_id, version=result.version)
        except (DomainError, ConcurrentModification):
            pass  # delivered meanwhile by a twin request or by staff: show what is stored
    return case_reads.petitioner_case(eng.app, petition)


@router.post("/status/rate", summary="Rate the answer (网上评)")
def rate(body: PetitionerRateBody, request: Request, eng: Eng, key: IdempotencyKey = None
         ) -> dict[str, Any]:
    case_id = _case_for(eng, request, body.query_code)
    command = RatePetition(case_id=case_id, actor=PETITIONER, attitude=body.attitude,
                           efficiency=body.efficiency, quality=body.quality, comment=body.comment)
    result = eng.app.execute(command, idempotency=_idem(eng, body.query_code, key))
    return _as_left(eng, case_id, result.version)


@router.post("/status/review", summary="Ask for review (复查) or re-review (复核)")
def review(body: PetitionerReviewBody, request: Request, eng: Eng, key: IdempotencyKey = None
           ) -> dict[str, Any]:
    """After an answer this asks for 复查; after a review decision, for 复核."""
    case_id = _case_for(eng, request, body.query_code)
    petition = eng.app.get_petition(case_id)
    kind = RequestReReview if petition.review_decided_at is not None else RequestReview
    command = kind(case_id=case_id, actor=PETITIONER, reason=body.reason)
    result = eng.app.execute(command, idempotency=_idem(eng, body.query_code, key))
    return _as_left(eng, case_id, result.version)


def _as_left(eng: Eng, case_id: UUID, version: int) -> dict[str, Any]:
    """The case as the command left it, as the staff routes answer (a replayed request gets
    the first answer's case): this process just saved or read that version, so it is
    usually in the cache and read from nowhere else."""
    return case_reads.petitioner_case(eng.app, eng.app.get_petition(case_id, version=version))


def _idem(eng: Eng, code: str, key: str | None) -> Idempotency | None:
    return Idempotency(scope=_scope(eng, code), key=key) if key else None

