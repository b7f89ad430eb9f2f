"""The citizen pages under /citizen: file, verify the phone, receipt, follow, rate, review,
withdraw, book and cancel a reception (领导接访日 / 视频接访). Every POST spends a one-time
CSRF token first; every refusal renders the page again with the reason next to the field, and
appends nothing."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from adapters.blobs.port import BlobUnavailable, sha256_of
from adapters.blobs.uploads import Limits, Upload, UploadRefused, check, safe_name
from adapters.engine import Engine
from adapters.pages.filing import CATEGORIES, Filing, FormErrors, TooMany, WrongCode, places
from adapters.pages.render import LOCALES, page
from adapters.pages.security import LANG_COOKIE, Guard, Session
from adapters.pages.timeline import case_view, free_slots
from adapters.throttle import Throttled
from domain.errors import DomainError
from domain.reception_slot import SlotUnavailable
from domain.values import DeliveryChannel, Satisfaction
from workflows.commands import (
    AddAttachment,
    DeliverDecision,
    RatePetition,
    RequestReReview,
    RequestReview,
    WithdrawPetition,
)
from workflows.errors import ConcurrentModification, QueryCodeNotFound
from workflows.online_delivery import opens_undelivered
from workflows.reception import slots as reception
from workflows.reception.slots import BookReception, CancelReception

router = APIRouter(prefix="/citizen", include_in_schema=False)
MAX_FORM_BYTES = 256 * 1024
MAX_FILE_PARTS = 50  # parsed at most; more than the limit allows is refused with a message
ATTACHMENTS = "attachments"  # the filing form's file field
PETITIONER = "petitioner"


def _parts(request: Request) -> tuple[Engine, Guard, Filing, Session]:
    state = request.app.state
    return state.engine, state.pages_guard, state.pages_filing, state.pages_guard.session(request)


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def _form(request: Request, guard: Guard, session: Session) -> dict[str, str] | None:
    """The posted fields as text, or None when the CSRF token is missing, forged or spent."""
    posted = await _posted(request, guard, session, max_bytes=MAX_FORM_BYTES, max_files=0)
    return posted[0] if posted else None


async def _posted(request: Request, guard: Guard, session: Session, *, max_bytes: int,
                  max_files: int, file_bytes: int = 0
                  ) -> tuple[dict[str, str], list[Upload]] | None:
    """Fields and files (each read to at most ``file_bytes`` + 1, enough to see it is too
    large), or None for a body over ``max_bytes``, a malformed one or a bad CSRF token."""
    if int(request.headers.get("content-length") or 0) > max_bytes:
        return None
    try:
        raw = await request.form(max_files=max_files, max_fields=50)
    except Exception:  # noqa: BLE001 - a malformed body is a refused form, never a 500
        return None
    try:
        form = {k: v for k, v in raw.items() if isinstance(v, str)}
        if not guard.spend(session, form.get("csrf", "")):
            return None
        uploads = [Upload(safe_name(item.filename or ""), await item.read(file_bytes + 1))
                   for item in raw.getlist(ATTACHMENTS)
                   if isinstance(item, UploadFile) and (item.filename or item.size)]
        return form, uploads
    finally:
        await raw.close()


def _refused(request: Request, guard: Guard, session: Session) -> HTMLResponse:
    return page(request, guard, session, "message.html", status=400, title="expired",
                message="form_expired")


def _redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


@router.get("", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    _, guard, _, session = _parts(request)
    return page(request, guard, session, "home.html", flash=guard.take_flash(session))


@router.get("/lang/{locale}")
def language(request: Request, locale: str, next: str = "/citizen") -> Response:
    parts = urlsplit(next)
    local = next.startswith("/citizen") and not (parts.scheme or parts.netloc)
    target = next if local else "/citizen"  # never an open redirect
    response = _redirect(target)
    if locale in LOCALES:
        response.set_cookie(LANG_COOKIE, locale, max_age=365 * 86400, path="/citizen",
                            httponly=True, samesite="strict")
    return response


# ------------------------------------------------------------------------------ filing
def _file_page(request: Request, guard: Guard, session: Session, eng: Engine, status: int = 200,
               **context: Any) -> HTMLResponse:
    context.setdefault("values", {})
    context.setdefault("errors", {})
    limits = request.app.state.pages_filing.limits
    return page(request, guard, session, "file.html", status=status, places=places(eng.app),
                categories=CATEGORIES, max_files=limits.max_count,
                max_file_mb=round(limits.max_bytes / (1 << 20), 1), **context)


@router.get("/file", response_class=HTMLResponse)
def file_form(request: Request) -> HTMLResponse:
    eng, guard, _, session = _parts(request)
    return _file_page(request, guard, session, eng)


@router.post("/file", response_class=HTMLResponse)
async def file_submit(request: Request) -> HTMLResponse:
    eng, guard, filing, session = _parts(request)
    posted = await _posted(request, guard, session, max_bytes=eng.settings.filing_form_bytes,
                           max_files=MAX_FILE_PARTS, file_bytes=filing.limits.max_bytes)
    if posted is None:
        return _refused(request, guard, session)
    form, uploads = posted
    try:
        draft_id = filing.start(session.id, _client(request), form, uploads)
    except FormErrors as error:
        return _file_page(request, guard, session, eng, status=422, values=form,
                          errors=error.errors, bad_file=error.file_name)
    except TooMany:
        return _file_page(request, guard, session, eng, status=429, values=form,
                          errors={"form": "too_many"})
    except BlobUnavailable:
        return _file_page(request, guard, session, eng, status=503, values=form,
                          errors={"attachments": "attachment_store"})
    phone = form.get("phone", "").strip()
    return page(request, guard, session, "verify.html", draft=draft_id,
                phone_hint=phone[:3] + "****" + phone[-4:], errors={})


@router.post("/verify", response_class=HTMLResponse)
async def verify(request: Request) -> HTMLResponse:
    eng, guard, filing, session = _parts(request)
    form = await _form(request, guard, session)
    if form is None:
        return _refused(request, guard, session)
    draft_id = form.get("draft", "")
    draft = filing.draft(session.id, draft_id)
    try:
        receipt = filing.verify(session.id, draft_id, form.get("code", "")[:20])
    except WrongCode as error:
        return page(request, guard, session, "verify.html", status=422, draft=draft_id,
                    phone_hint="", errors={"code": "wrong_code"}, tries_left=error.tries_left)
    except LookupError:
        values = draft.values if draft else {}
        return _file_page(request, guard, session, eng, status=422, values=values,
                          errors={"form": "code_expired"})
    except (DomainError, ValidationError):
        values = draft.values if draft else {}
        return _file_page(request, guard, session, eng, status=422, values=values,
                          errors={"form": "refused"})
    return page(request, guard, session, "receipt.html", receipt=receipt)


# ------------------------------------------------------------------------------ following
@router.post("/follow")
async def follow(request: Request) -> Response:
    eng, guard, _, session = _parts(request)
    form = await _form(request, guard, session)
    if form is None:
        return _refused(request, guard, session)
    code = form.get("query_code", "").strip()[:40]
    if len(code) < 4:
        return page(request, guard, session, "home.html", status=422,
                    errors={"query_code": "required"})
    codes = eng.app.query_codes
    code_key = codes.hash(code) if codes else code
    try:
        eng.throttle.before(_client(request), code_key)  # the same throttle as POST /status
        guard.open_case(session, eng.app.case_id_for_query_code(code))
    except Throttled as error:
        return page(request, guard, session, "home.html", status=429,
                    errors={"query_code": "throttled"}, retry_after=error.retry_after)
    except QueryCodeNotFound:
        eng.throttle.failed(code_key)
        return page(request, guard, session, "home.html", status=404,
                    errors={"query_code": "not_found"})
    return _redirect("/citizen/case")


@router.get("/case", response_class=HTMLResponse)
def case(request: Request) -> Response:
    eng, guard, _, session = _parts(request)
    if session.case_id is None:
        return _redirect("/citizen")
    petition = eng.app.get_petition(session.case_id)
    if opens_undelivered(eng.app, petition):  # first opening delivers online, as POST /status does
        try:
            eng.app.execute(DeliverDecision(case_id=petition.id, actor=PETITIONER,
                                            channel=DeliveryChannel.ONLINE))
            petition = eng.app.get_petition(session.case_id)
        except (DomainError, ConcurrentModification):
            pass  # delivered meanwhile: show what is stored
    view = case_view(eng.app, petition)
    return _case_page(request, guard, session, view, flash=guard.take_flash(session), errors={})


@router.post("/case/add-attachment")
async def add_attachment(request: Request) -> Response:
    """补充材料: one more file while the case is open, checked by content like the filing's;
    recorded as the petitioner's own (AttachmentAdded), listed with the rest."""
    eng, guard, filing, session = _parts(request)
    limit = filing.limits.max_bytes
    posted = await _posted(request, guard, session, max_bytes=eng.settings.upload_form_bytes,
                           max_files=2, file_bytes=limit)
    if posted is None or session.case_id is None:
        return _refused(request, guard, session)
    _, uploads = posted
    action = "add-attachment"
    try:
        if filing.limits.max_count == 0 or not uploads:
            raise UploadRefused("attachment_empty" if uploads or filing.limits.max_count
                                else "attachment_count")
        (upload, kind), = check(uploads, Limits(limit, 1))
        command = AddAttachment(case_id=session.case_id, actor=PETITIONER,
                                sha256=sha256_of(upload.data), media_type=kind,
                                size=len(upload.data), file_name=upload.name)
        petition = eng.app.get_petition(session.case_id)
        if action not in petition.allowed_commands:
            return _case_error(request, eng, guard, session, action, "refused")
        eng.blobs.put(upload.data)
        eng.app.execute(command)
    except UploadRefused as refused:
        return _case_error(request, eng, guard, session, action, refused.reason)
    except BlobUnavailable:
        return _case_error(request, eng, guard, session, action, "attachment_store", 503)
    except DomainError:
        return _case_error(request, eng, guard, session, action, "refused")
    guard.flash(session, f"done_{action}")
    return _redirect("/citizen/case")


@router.post("/case/{action}")
async def act(request: Request, action: str) -> Response:
    eng, guard, _, session = _parts(request)
    form = await _form(request, guard, session)
    if form is None or session.case_id is None:
        return _refused(request, guard, session)
    if action == "leave":
        guard.leave(session)
        return _redirect("/citizen")
    try:
        command = _command(action, session, form)
        if command is None:
            return _redirect("/citizen/case")
        _run(eng, command)
    except ValidationError:
        return _case_error(request, eng, guard, session, action, "invalid")
    except SlotUnavailable:
        return _case_error(request, eng, guard, session, action, "slot_taken")
    except ConcurrentModification:  # another booking of the slot won the race
        return _case_error(request, eng, guard, session, action, "slot_taken")
    except DomainError:
        return _case_error(request, eng, guard, session, action, "refused")
    guard.flash(session, f"done_{action}")
    return _redirect("/citizen/case")


@router.get("/case/reception", response_class=HTMLResponse)
def reception_slots(request: Request) -> Response:
    """领导接访日 / 视频接访: the free slots of the units that receive this case, to book one
    (the case comes from the session: the query code is never in a URL)."""
    eng, guard, _, session = _parts(request)
    if session.case_id is None:
        return _redirect("/citizen")
    return _reception_page(request, eng, guard, session)


def _reception_page(request: Request, eng: Engine, guard: Guard, session: Session,
                    status: int = 200, errors: dict[str, str] | None = None) -> HTMLResponse:
    assert session.case_id is not None
    petition = eng.app.get_petition(session.case_id)
    view = case_view(eng.app, petition)
    return page(request, guard, session, "reception.html", status=status, case=view,
                slots=free_slots(eng.app, petition) if view.can_book else [],
                errors=errors or {})


def _run(eng: Engine, command: Any) -> None:
    """Bookings change the slot too (one write with the case): the reception use cases."""
    if isinstance(command, BookReception):
        reception.book(eng.app, command)
    elif isinstance(command, CancelReception):
        reception.cancel(eng.app, command)
    else:
        eng.app.execute(command)


def _command(action: str, session: Session, form: dict[str, str]) -> Any:
    case_id = session.case_id
    if action == "rate":
        return RatePetition(case_id=case_id, actor=PETITIONER, attitude=form.get("attitude"),
                            efficiency=form.get("efficiency"), quality=form.get("quality"),
                            comment=form.get("comment", ""))
    if action in ("review", "re-review"):
        kind = RequestReReview if action == "re-review" else RequestReview
        return kind(case_id=case_id, actor=PETITIONER, reason=form.get("reason", ""))
    if action == "withdraw":
        return WithdrawPetition(case_id=case_id, actor=PETITIONER, reason=form.get("reason", ""))
    if action == "book-reception":
        return BookReception(case_id=case_id, actor=PETITIONER, slot_id=form.get("slot_id"))
    if action == "cancel-reception":
        return CancelReception(case_id=case_id, actor=PETITIONER, reason=form.get("reason", ""))
    return None


def _case_error(request: Request, eng: Engine, guard: Guard, session: Session, action: str,
                reason: str, status: int = 422) -> HTMLResponse:
    assert session.case_id is not None
    if action == "book-reception":
        return _reception_page(request, eng, guard, session, 422, {action: reason})
    view = case_view(eng.app, eng.app.get_petition(session.case_id))
    return _case_page(request, guard, session, view, status=status, flash=[],
                      errors={action: reason})


def _case_page(request: Request, guard: Guard, session: Session, view: Any, *,
               status: int = 200, flash: list[str], errors: dict[str, str]) -> HTMLResponse:
    limits = request.app.state.pages_filing.limits
    return page(request, guard, session, "case.html", status=status, case=view, flash=flash,
                errors=errors, satisfaction=[s.value for s in Satisfaction],
                max_files=limits.max_count, max_file_mb=round(limits.max_bytes / (1 << 20), 1))

