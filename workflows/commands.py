"""Commands: validated orders to the application (pydantic v2), one declared class per action.

Shape and format are checked here (HTTP answers 422 for these); business rules are the
aggregate's (409/422 from domain errors). Each case command is declared where it is defined
(``@declare``: its action, roles, aggregate method and the fields the server fills in); see
``command_table.py`` for what is derived from the declarations.
"""

from __future__ import annotations

from collections.abc import Mapping
from operator import mul
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, field_validator

from domain.petition import Petition
from domain.proxy_chase_rules import PROXY_RUNGS
from domain.values import (
    Channel,
    ConcludedDecision,
    ContactMode,
    DelegationMode,
    DeliveryChannel,
    EntrustmentTerms,
    HandlingTrack,
    ProxyForm,
    ProxyScope,
    ReceptionMode,
    RedirectChannel,
    ReviewOutcome,
    Satisfaction,
    SpeedTrack,
    SuggestionKind,
    SupervisionLevel,
)
from workflows.command_table import COMMANDS, Derived, declare
from workflows.proxy_agents import check_entrusted_agent, check_proxy_agent
from workflows.roles import Role as R

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20000)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
UnitId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_number_check_char(first17: str) -> str:
    """GB 11643 check character of a resident identity number (every registration: the
    weighted sum in C, not a generator)."""
    if len(first17) != len(_ID_WEIGHTS):
        raise ValueError("the check character is computed from 17 digits")
    return _ID_CHECK[sum(map(mul, map(int, first17), _ID_WEIGHTS)) % 11]


class Plain(BaseModel):
    """Every command model: no unknown field, and no NUL character in any text — PostgreSQL
    cannot store one in a view, so such a command would stop the views on its event."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain NUL characters")
        return value


class Command(Plain):
    actor: Text
    at: AwareDatetime | None = Field(
        default=None, description="Business time; defaults to now. At most the policy's max_backdate_days "
                    "(90) in the past and its clock skew (5 min) ahead."
    )


class CaseCommand(Command):
    case_id: UUID


class LocationIn(Plain):
    district: UnitId
    street: UnitId | None = None
    address: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)


class PetitionerIn(Plain):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    id_number: Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True)]
    phone: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9][0-9 -]{4,19}$")]

    @field_validator("id_number")
    @classmethod
    def _resident_id(cls, value: str) -> str:
        if len(value) != 18 or not (value[:17].isascii() and value[:17].isdigit()):
            raise ValueError("must be an 18-character resident identity number")
        if value[17] != id_number_check_char(value[:17]):
            raise ValueError("check character does not match (GB 11643)")
        return value


class CoPetitionerIn(PetitionerIn):
    representative: bool = False


MAX_GROUP_MEMBERS = 500
"""Co-petitioners named in one registration (a 联名 letter's signatures); more join later."""
class EntrustmentIn(Plain):
    """委托书: the form of service, the petitioner's grid, what the agent may do, and until when."""

    form: ProxyForm
    grid: UnitId
    scope: list[ProxyScope] = Field(min_length=1, max_length=len(ProxyScope))
    valid_until: AwareDatetime

    def terms(self) -> EntrustmentTerms:
        return EntrustmentTerms(self.form.value, self.grid, tuple(s.value for s in self.scope),
                                self.valid_until)


REGISTER_ROLES = frozenset({R.INTAKE, R.ADMIN})
"""Who may register (its own route and method: it creates a case rather than acting on one)."""


class RegisterPetition(Command):
    channel: Channel
    subject: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    content: LongText
    category: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    location: LocationIn
    petitioner: PetitionerIn
    co_petitioners: int = Field(default=0, ge=0, le=100000, description=(
        "How many people besides the petitioner raise the matter (集体访 headcount); at least "
        "the number named in group."))
    group: list[CoPetitionerIn] = Field(default_factory=list, max_length=MAX_GROUP_MEMBERS,
                                        description="Co-petitioners recorded by name (集体访 / "
                                        "联名); at most four representatives besides the "
                                        "petitioner (Art. 20).")
    received_by: UnitId
    proxy_agent: UnitId | None = None
    entrustment: EntrustmentIn | None = Field(
        default=None, description="The signed entrustment (委托书) under which `proxy_agent` "
                                  "files; required with it, and its scope must include `file`.")


@declare("accept", Petition.accept, roles={R.INTAKE, R.ADMIN})
class AcceptPetition(CaseCommand):
    handling_track: HandlingTrack
    speed_track: SpeedTrack


@declare("decline", Petition.decline, roles={R.INTAKE, R.ADMIN})
class DeclinePetition(CaseCommand):
    reason: Text
    redirect_to: RedirectChannel


@declare("concluded-matter", Petition.decide_concluded_matter, roles={R.INTAKE, R.ADMIN})
class DecideConcludedMatter(CaseCommand):
    """不再受理 or not: intake's decision on a petition flagged as a concluded matter."""

    decision: ConcludedDecision
    reason: Text


@declare("delegate", Petition.delegate, roles={R.INTAKE, R.ADMIN})
class DelegatePetition(CaseCommand):
    unit: UnitId
    mode: DelegationMode = DelegationMode.ASSIGN
    note: Note = ""


@declare("escalate", Petition.escalate, roles={R.SUPERVISOR, R.ADMIN})
class EscalatePetition(CaseCommand):
    unit: UnitId
    reason: Text
    rule: str | None = None
    due_at: AwareDatetime | None = Field(
        default=None, description="When the supervision rung was due (set by the ladder).")


@declare("extend-request", Petition.request_extension, roles={R.HANDLER, R.ADMIN})
class RequestExtension(CaseCommand):
    """A handler asks for more time; a supervisor approves with ``ExtendDeadline``."""

    days: int = Field(ge=1, le=365)
    reason: Text


@declare("extend", Petition.extend_deadline, roles={R.SUPERVISOR, R.ADMIN}, approver="approved_by")
class ExtendDeadline(CaseCommand):
    """A supervisor grants more time; the approver recorded is the actor, never free text."""

    days: int = Field(ge=1, le=365)
    reason: Text


@declare("supervise", Petition.supervise, roles={R.SUPERVISOR, R.ADMIN})
class IssueSupervision(CaseCommand):
    level: SupervisionLevel
    reason: Text
    rule: str | None = None
    due_at: AwareDatetime | None = Field(
        default=None, description="When the supervision rung was due (set by the ladder).")


@declare("entrust", Petition.entrust, roles={R.INTAKE, R.SUPERVISOR, R.ADMIN},
         after=lambda app, cmd: check_entrusted_agent(app, cmd.agent, cmd.grid))
class Entrust(CaseCommand):
    """签订委托书: the petitioner entrusts a registered agent serving the petitioner's grid."""

    agent: UnitId
    form: ProxyForm
    grid: UnitId
    scope: list[ProxyScope] = Field(min_length=1, max_length=len(ProxyScope))
    valid_until: AwareDatetime


@declare("revoke-entrustment", Petition.revoke_entrustment,
         roles={R.INTAKE, R.SUPERVISOR, R.ADMIN})
class RevokeEntrustment(CaseCommand):
    """The petitioner revokes the entrustment in force; the proxy ends."""

    reason: Text


@declare("assign-proxy", Petition.assign_proxy, roles={R.INTAKE, R.SUPERVISOR, R.ADMIN},
         after=lambda app, cmd: check_proxy_agent(app, cmd.agent))  # after its 409s: then 422
class AssignProxy(CaseCommand):
    agent: UnitId


@declare("log-proxy-contact", Petition.log_proxy_contact, roles={R.INTAKE, R.ADMIN},
         acting_agent="agent")  # the agent itself, or an admin recording it from paper
class LogProxyContact(CaseCommand):
    agent: UnitId
    mode: ContactMode
    note: Note = ""


@declare("add-co-petitioner", Petition.add_co_petitioner, roles={R.INTAKE, R.ADMIN})
class AddCoPetitioner(CaseCommand, PetitionerIn):
    """集体访 / 联名: one more petitioner of the same matter (personal data, like the
    petitioner's); ``representative``: one of the group's at most five representatives."""

    representative: bool = False
@declare("chase-proxy-contact", Petition.chase_proxy_contact, roles={R.SUPERVISOR, R.ADMIN})
class ChaseProxyContact(CaseCommand):
    """A missed weekly meeting of the proxy, chased (issued by the supervision process)."""

    rung: Literal[PROXY_RUNGS]  # type: ignore[valid-type]
    rule: str | None = None
    due_at: AwareDatetime | None = Field(
        default=None, description="When the rung was due (set by the process).")


@declare("suggest", Petition.suggest, roles={R.SUPERVISOR, R.ADMIN})
class MakeSuggestion(CaseCommand):
    """三项建议权: the 信访 department's suggestion to a unit, tracked until it responds."""

    kind: SuggestionKind
    unit: UnitId
    text: LongText


@declare("respond-suggestion", Petition.respond_suggestion,
         roles={R.HANDLER, R.SUPERVISOR, R.ADMIN}, unit_from_caller={"unit"})
class RespondToSuggestion(CaseCommand):
    """The addressed unit's response to a suggestion (by its number within the case)."""

    number: int = Field(ge=1, le=10000)
    unit: UnitId
    response: LongText


@declare("record-reception", Petition.record_reception,
         roles={R.INTAKE, R.SUPERVISOR, R.ADMIN}, unit_from_caller={"unit"})
class RecordReception(CaseCommand):
    """接访 held: the leader of ``unit`` received the petitioner (``at``: when) — honouring the
    booking with that unit and leader, if any."""

    unit: UnitId
    leader: Text
    mode: ReceptionMode = ReceptionMode.IN_PERSON
    outcome: LongText


@declare("remind-reception", Petition.remind_reception, roles={R.ADMIN})
class RemindReception(CaseCommand):
    """The reminder of a booked reception went out (the reminder process sends it)."""

    slot_id: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = Field(
        default=None, description="The booked slot (default: the case's booking).")


@declare("answer", Petition.answer_petition, roles={R.HANDLER, R.ADMIN}, unit_from_caller={"unit"})
class AnswerPetition(CaseCommand):
    unit: UnitId
    answer: LongText


@declare("deliver", Petition.deliver, roles={R.HANDLER, R.SUPERVISOR, R.ADMIN})
class DeliverDecision(CaseCommand):
    """送达: the answer (or, after a review, the review opinion) reached the petitioner."""

    channel: DeliveryChannel


@declare("rate", Petition.rate, roles={R.ADMIN})  # petitioners rate with their query code
class RatePetition(CaseCommand):
    attitude: Satisfaction
    efficiency: Satisfaction
    quality: Satisfaction
    comment: Note = ""


@declare("confirm-answer", Petition.confirm_answer, roles={R.SUPERVISOR, R.ADMIN})
class ConfirmAnswer(CaseCommand):
    """A supervisor stands by the answer despite an unsatisfied rating."""

    reason: Text


@declare("review", Petition.request_review, roles={R.INTAKE, R.ADMIN})
class RequestReview(CaseCommand):
    reason: Text


@declare("review-decision", Petition.decide_review, roles={R.SUPERVISOR, R.ADMIN},
         unit_from_caller={"unit"})
class DecideReview(CaseCommand):
    unit: UnitId
    outcome: ReviewOutcome
    opinion: LongText


@declare("re-review", Petition.request_re_review, roles={R.INTAKE, R.ADMIN})
class RequestReReview(RequestReview):
    pass


@declare("re-review-decision", Petition.decide_re_review, roles={R.SUPERVISOR, R.ADMIN},
         unit_from_caller={"unit"})
class DecideReReview(DecideReview):
    pass


@declare("close", Petition.close, roles={R.INTAKE, R.HANDLER, R.SUPERVISOR, R.ADMIN})
class ClosePetition(CaseCommand):
    summary: Text


@declare("reopen", Petition.reopen, roles={R.SUPERVISOR, R.ADMIN})
class ReopenPetition(CaseCommand):
    reason: Text


@declare("withdraw", Petition.withdraw, roles={R.INTAKE, R.ADMIN})
class WithdrawPetition(CaseCommand):
    reason: Text


class FileCommand(CaseCommand):
    """A file on the case: what the server found when it checked and stored the upload (the
    type by content, the size, the SHA-256 naming the blob) and the name it came under."""

    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
    media_type: Annotated[str, StringConstraints(max_length=100)]
    size: int = Field(ge=1)
    file_name: Annotated[str, StringConstraints(min_length=1, max_length=255)]


@declare("add-attachment", Petition.add_attachment, roles={R.INTAKE, R.ADMIN}, upload=True)
class AddAttachment(FileCommand):
    """补充材料: one more file of the petitioner's (they add it from the follow page; intake
    records one handed in on paper)."""


@declare("attach-document", Petition.attach_document,
         roles={R.INTAKE, R.HANDLER, R.SUPERVISOR, R.ADMIN}, upload=True)
class AttachDocument(FileCommand):
    """A staff document on the case (the written reply 答复意见书, a scanned record)."""


ACTIONS: Mapping[str, type[CaseCommand]] = Derived(COMMANDS, "command")
"""Action names (as in the lifecycle table and the HTTP routes) → command classes."""
