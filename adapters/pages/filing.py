"""Filing online (网上信访): a form, a one-time code to the phone, then the staff's own command.

No account: the citizen proves the phone with a six-digit code sent through the notifier port.
Until then the petition is a draft on the server (ten minutes, five tries): in the store, sealed,
for every process (adapters/pages/drafts.py). The case
is registered by ``PetitionApplication.register`` — the command staff intake uses — with channel
``online`` and actor ``citizen:<keyed phone hash>``, so every rule, deadline and read model
applies. The same person filing the same text again within a day gets the existing case back.
Attachments are checked by content with the rest of the form and stored (content-addressed)
before the code is sent, so the draft holds only their records, never their bytes.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from pydantic import ValidationError

from adapters.blobs.port import BlobStore
from adapters.blobs.uploads import Limits, Upload, UploadRefused, check, store
from adapters.pages.drafts import CODE_TTL, Draft, FilingStore, memory_filing
from adapters.pages.timeline import china_day
from domain.units import UnitLevel
from domain.values import Attachment
from workflows.application import Idempotency, PetitionApplication
from workflows.commands import LocationIn, PetitionerIn, RegisterPetition
from workflows.errors import IdempotencyKeyReused
from workflows.idempotency import record_id
from workflows.notifier import Notifier
from workflows.query_codes import QueryCodes

MOBILE = re.compile(r"1[3-9][0-9]{9}")
__all__ = ["CODE_TTL", "Draft", "Filing"]
CODE_TRIES = 5
FIELDS = ("subject", "content", "category", "place", "name", "id_number", "phone")
CATEGORIES = ("urban_management", "housing", "labour_wages", "land_requisition", "environment",
              "social_security", "transport", "education", "other")


class FormErrors(Exception):
    """Field → message key; the page shows each next to its field (``file_name``: the
    attachment the ``attachments`` error is about)."""

    def __init__(self, errors: dict[str, str], file_name: str | None = None):
        self.errors, self.file_name = errors, file_name
        super().__init__(", ".join(errors))


class TooMany(Exception):
    """A per-phone, per-ID or per-client limit was reached."""


@dataclass(frozen=True)
class Receipt:
    case_id: str
    query_code: str
    registered_on: Any
    deadline: Any
    duplicate: bool


def places(app: PetitionApplication) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """Districts with their streets, from the org chart: (id, name, [(street id, name)])."""
    units = list(app.org)
    return [(d.id, d.name, [(s.id, s.name) for s in units
                            if s.level is UnitLevel.STREET and s.parent == d.id])
            for d in units if d.level is UnitLevel.DISTRICT]


class Filing:
    def __init__(self, app: PetitionApplication, notifier: Notifier, *,
                 blobs: BlobStore | None = None, limits: Limits | None = None,
                 store: FilingStore | None = None):
        self.app, self.notifier = app, notifier
        self.blobs = blobs
        limits = limits or Limits(5 << 20, 5)
        self.limits = limits if blobs is not None else Limits(limits.max_bytes, 0)
        store = store or memory_filing()
        self.drafts, self._keyed = store.drafts, store.key
        self.per_phone = store.limit("phone", 5, 3600)
        self.per_id = store.limit("id", 5, 3600)
        self.per_client = store.limit("client", 20, 3600)

    # ---------------------------------------------------------------- step 1: the form
    def start(self, session_id: str, client: str, form: dict[str, str],
              uploads: list[Upload] | None = None) -> str:
        """Checks the form and its files, stores the files, sends the code; returns the
        draft's id (raises FormErrors/TooMany, having stored nothing)."""
        command, accepted = self._checked(form, uploads or [])
        phone = command.petitioner.phone
        if not (self.per_client.allow(client) and self.per_phone.allow(self._key(phone))
                and self.per_id.allow(self._key(command.petitioner.id_number))):
            raise TooMany()
        attachments = store(accepted, self.blobs) if self.blobs is not None else ()
        code = f"{secrets.randbelow(10**6):06d}"
        draft_id = secrets.token_urlsafe(24)
        self.drafts.put(draft_id, Draft(session_id, command, self._key(code),
                                        values=dict(form), attachments=attachments))
        self.notifier.send(phone, f"【信访】您的验证码是 {code}，10 分钟内有效。"
                                  f" Your verification code is {code}.")
        return draft_id

    def _checked(self, form: dict[str, str], uploads: list[Upload]
                 ) -> tuple[RegisterPetition, list[tuple[Upload, str]]]:
        """The command and the accepted files; every field's error at once."""
        errors: dict[str, str] = {}
        command, accepted, file_name = None, [], None
        try:
            command = self.command(form)
        except FormErrors as error:
            errors.update(error.errors)
        try:
            accepted = check(uploads, self.limits)
        except UploadRefused as refused:
            errors["attachments"], file_name = refused.reason, refused.name
        if errors or command is None:
            raise FormErrors(errors, file_name)
        return command, accepted

    def command(self, form: dict[str, str]) -> RegisterPetition:
        errors: dict[str, str] = {}
        place = form.get("place", "")
        district, _, street = place.partition("/")
        if not any(d == district and (not street or street in dict(s))
                   for d, _, s in places(self.app)):
            errors["place"] = "choose"
        if form.get("category") not in CATEGORIES:
            errors["category"] = "choose"
        try:
            petitioner = PetitionerIn(name=form.get("name", ""),
                                      id_number=form.get("id_number", ""),
                                      phone=form.get("phone", ""))
        except ValidationError as error:
            errors.update(_field_errors(error))
            petitioner = None
        if not MOBILE.fullmatch(form.get("phone", "").strip()):
            errors["phone"] = "mobile"
        try:
            command = RegisterPetition(
                actor="citizen", channel="online", subject=form.get("subject", ""),
                content=form.get("content", ""), category=form.get("category", "other"),
                location=LocationIn(district=district or "-", street=street or None),
                petitioner=petitioner or _PLACEHOLDER, received_by=district or "-")
        except ValidationError as error:
            errors.update({k: v for k, v in _field_errors(error).items()
                           if k in ("subject", "content")})
            command = None
        if errors or command is None or petitioner is None:
            raise FormErrors(errors or {"subject": "format"})
        actor = "citizen:" + self._codes().derive("citizen-phone", petitioner.phone)
        return command.model_copy(update={"actor": actor.replace("-", "")})

    def _codes(self) -> QueryCodes:
        if self.app.query_codes is None:
            raise RuntimeError("the citizen pages need the query-code key")
        return self.app.query_codes

    # ---------------------------------------------------------------- step 2: the code
    def verify(self, session_id: str, draft_id: str, code: str) -> Receipt:
        """Registers the draft when ``code`` is right; raises WrongCode or LookupError."""
        draft = self.drafts.get(draft_id)
        if draft is None or draft.session_id != session_id:
            raise LookupError("no such draft (expired or never made)")
        if not hmac.compare_digest(self._key(code.strip()), draft.code_hash):
            tries = self.drafts.fail(draft_id)  # counted once across processes
            if tries is None or tries >= CODE_TRIES:
                self.drafts.take(draft_id)
                raise LookupError("too many wrong codes")
            raise WrongCode(CODE_TRIES - tries)
        if self.drafts.take(draft_id) is None:  # taken by another request meanwhile
            raise LookupError("no such draft (expired or never made)")
        return self.register(draft.command, draft.attachments)

    def draft(self, session_id: str, draft_id: str) -> Draft | None:
        draft = self.drafts.get(draft_id)
        return draft if draft and draft.session_id == session_id else None

    def register(self, command: RegisterPetition, attachments: tuple[Attachment, ...] = ()
                 ) -> Receipt:
        scope, now = command.actor, self.app.clock.now()
        found = self.existing(command, now)
        if found is not None:
            return found
        key = self._duplicate_key(command, now)
        try:
            result = self.app.register(command, idempotency=Idempotency(scope, key),
                                       attachments=attachments)
        except IdempotencyKeyReused:  # same text today, other details: still the same case
            found = self.existing(command, now, within=timedelta(days=2))
            if found is None:
                raise
            return found
        return Receipt(str(result.case_id), result.query_code, china_day(now), result.deadline,
                       duplicate=False)

    def existing(self, command: RegisterPetition, now: datetime,
                 within: timedelta = timedelta(days=1)) -> Receipt | None:
        """The case this person registered with this text in the last day, if any."""
        for day in (now, now - timedelta(days=1)):
            key = self._duplicate_key(command, day)
            try:
                record = self.app.repository.get(record_id(command.actor, key))
            except AggregateNotFoundError:
                continue
            petition = self.app.get_petition(UUID(record.result["case_id"]))
            if now - petition.received_at < within:
                code = self._codes().derive(command.actor, key)
                return Receipt(str(petition.id), code, china_day(petition.received_at),
                               self.app.policy.current(petition), duplicate=True)
        return None

    def _duplicate_key(self, command: RegisterPetition, day: datetime) -> str:
        text = "\x00".join((command.petitioner.id_number, command.subject, command.content))
        return hashlib.sha256(text.encode()).hexdigest()[:32] + ":" + str(china_day(day))

    def _key(self, value: str) -> str:
        return self._keyed("filing", value)


class WrongCode(Exception):
    def __init__(self, tries_left: int):
        self.tries_left = tries_left
        super().__init__(f"wrong code; {tries_left} tries left")


_PLACEHOLDER = PetitionerIn(name="-", id_number="11010519491231002X", phone="13900000000")


def _field_errors(error: ValidationError) -> dict[str, str]:
    """pydantic errors → {form field: message key} (the page translates the key)."""
    out: dict[str, str] = {}
    for item in error.errors():
        loc = [str(p) for p in item["loc"]]
        name = loc[-1] if loc else ""
        if name in FIELDS and name not in out:
            out[name] = _reason(item)
    return out


def _reason(item: Any) -> str:
    kind = item["type"]
    if kind == "string_too_long":
        return "too_long"
    if kind in ("string_too_short", "missing"):
        return "required"
    if kind == "value_error":
        return "id_number"
    return "format"
