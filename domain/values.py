"""Value objects and vocabularies of the petition domain (see docs/glossary.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Channel(StrEnum):
    """How the petition arrived (信访渠道)."""

    LETTER = "letter"  # 来信
    VISIT = "visit"  # 来访
    ONLINE = "online"  # 网上信访
    PHONE = "phone"  # 来电
    EMAIL = "email"  # 电子邮件
    APP = "app"  # 移动端
    HOTLINE = "hotline"  # 12345 热线
    YWTB = "ywtb"  # 一网通办: the government services platform's work orders


class HandlingTrack(StrEnum):
    """Legal handling route decided at acceptance (分类处理)."""

    SUGGESTION = "suggestion"  # 建议意见
    REPORT = "report"  # 检举控告
    CLAIM = "claim"  # 申诉求决


class SpeedTrack(StrEnum):
    """How fast the case must be answered (繁简分流)."""

    SIMPLE = "simple"  # 简单 — same day
    GENERAL = "general"  # 一般
    COMPLEX = "complex"  # 复杂


class DelegationMode(StrEnum):
    ASSIGN = "assign"  # 交办: handled and reported back
    TRANSFER = "transfer"  # 转办: handed over to the competent unit


class SupervisionLevel(StrEnum):
    """The 三函一约谈 ladder, in increasing severity."""

    REMINDER = "reminder"  # 工作提醒函
    SUPERVISION_LETTER = "supervision_letter"  # 重点督办函
    ACCOUNTABILITY = "accountability"  # 问责建议函
    INTERVIEW = "interview"  # 约谈

    @property
    def rank(self) -> int:
        return list(SupervisionLevel).index(self)


class Satisfaction(StrEnum):
    SATISFIED = "satisfied"  # 满意
    BASICALLY_SATISFIED = "basically_satisfied"  # 基本满意
    UNSATISFIED = "unsatisfied"  # 不满意


class ReviewOutcome(StrEnum):
    UPHELD = "upheld"  # 维持
    REVISED = "revised"  # 变更/撤销原意见


class RedirectChannel(StrEnum):
    """Where a declined petition is sent instead (依法分类处理 / 诉访分离)."""

    LITIGATION = "litigation"  # 诉讼
    ARBITRATION = "arbitration"  # 仲裁
    ADMINISTRATIVE_RECONSIDERATION = "administrative_reconsideration"  # 行政复议
    DISCIPLINARY = "disciplinary"  # 纪检监察
    OTHER_AUTHORITY = "other_authority"  # 其他有权机关
    NONE = "none"  # not a petition matter at all


class ContactMode(StrEnum):
    VISIT = "visit"  # 上门走访 / 见面: in person
    PHONE = "phone"  # 电话联系
    MESSAGE = "message"  # 微信/短信
    VIDEO = "video"  # 视频通话


class ProxyForm(StrEnum):
    """The three forms of proxy service (代办形式) of Baotou's red proxies."""

    DESIGNATED = "designated"  # 指定代办: the 信访 department designates the agent
    ACTIVE = "active"  # 主动代办: the agent found the matter in the grid and offered
    ENTRUSTED = "entrusted"  # 委托代办: the petitioner chose the agent


class ProxyScope(StrEnum):
    """What an entrustment (委托书) lets the agent do for the petitioner."""

    FILE = "file"  # 代为登记: file the petition
    FOLLOW = "follow"  # 跟踪反馈: start the service, follow the case, report back
    REVIEW = "review"  # 代为申请复查/复核
    WITHDRAW = "withdraw"  # 代为撤回


class SuggestionKind(StrEnum):
    """三项建议权: the 信访 department's three suggestion rights towards a unit."""

    IMPROVE_WORK = "improve_work"  # 改进工作建议
    IMPROVE_POLICY = "improve_policy"  # 完善政策建议
    ACCOUNTABILITY = "accountability"  # 追究责任建议


@dataclass(frozen=True)
class EntrustmentTerms:
    """What a 委托书 says, as a command gives it; the agent and start come from the command."""

    form: str
    grid: str
    scope: tuple[str, ...]
    valid_until: datetime


@dataclass(frozen=True)
class Entrustment:
    """A signed entrustment (委托书): who may act for the petitioner, how, in which grid, for
    what and until when; revocable by the petitioner at any time."""

    agent: str
    form: str
    grid: str
    scope: tuple[str, ...]
    valid_from: datetime
    valid_until: datetime
    revoked_at: datetime | None = None

    def in_force(self, at: datetime) -> bool:
        return self.revoked_at is None and self.valid_from <= at < self.valid_until

    def covers(self, agent: str, scope: str, at: datetime) -> bool:
        return self.agent == agent and scope in self.scope and self.in_force(at)


class ConcludedDecision(StrEnum):
    """Intake's decision on a petition flagged as a concluded matter (不再受理)."""

    ACCEPT_ANYWAY = "accept_anyway"  # not the same matter after all, or new facts: go on
    DECLINE_CONCLUDED = "decline_concluded"  # 不再受理: the matter was concluded


class DeliveryChannel(StrEnum):
    """送达: how a written answer or opinion reached the petitioner."""

    IN_PERSON = "in_person"  # 直接送达
    POST = "post"  # 邮寄送达
    ONLINE = "online"  # 网上送达: the petitioner opened it with the query code


class ReceptionMode(StrEnum):
    """How a leader receives the petitioner (领导接访)."""

    VIDEO = "video"  # 视频接访
    IN_PERSON = "in_person"  # 领导接访日, at the reception place


class Status(StrEnum):
    """Where the case stands; each status allows a fixed set of commands."""

    REGISTERED = "registered"  # 已登记, awaiting the acceptance decision
    DECLINED = "declined"  # 不予受理
    ACCEPTED = "accepted"  # 已受理, awaiting delegation
    IN_HANDLING = "in_handling"  # 办理中
    ANSWERED = "answered"  # 已答复
    UNDER_REVIEW = "under_review"  # 复查中
    REVIEWED = "reviewed"  # 已复查
    UNDER_RE_REVIEW = "under_re_review"  # 复核中
    RE_REVIEWED = "re_reviewed"  # 已复核 (final, 终结)
    CLOSED = "closed"  # 已办结
    WITHDRAWN = "withdrawn"  # 已撤回


@dataclass(frozen=True)
class Location:
    """Where the matter is: unit ids of district and street, optional address and point."""

    district: str
    street: str | None = None
    address: str | None = None
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True)
class Petitioner:
    """The petitioner's personal data (PII): encrypted at rest, redacted on every feed."""

    name: str
    id_number: str
    phone: str

    def __repr__(self) -> str:  # keeps PII out of tracebacks and logs
        return "Petitioner(<redacted>)"


@dataclass(frozen=True)
class Attachment:
    """A file the petitioner handed in (附件): stored once by its SHA-256 in the blob store;
    the case records only its hash, media type, size and original name. The name may say
    whose it is ("张三身份证.jpg"), so it is personal data like the petitioner's."""

    sha256: str
    media_type: str
    size: int
    file_name: str

    def __repr__(self) -> str:  # keeps the name out of tracebacks and logs
        return f"Attachment({self.sha256[:12]}…, {self.media_type}, {self.size} B)"


@dataclass(frozen=True)
class GroupMember:
    """One co-petitioner of a group petition (集体访 / 联名), with their personal data (PII,
    encrypted at rest and redacted like the petitioner's) and whether the group chose them as
    one of its representatives (推选代表)."""

    person: Petitioner
    representative: bool = False

    def __repr__(self) -> str:
        return f"GroupMember(<redacted>, representative={self.representative})"


@dataclass(frozen=True)
class Booking:
    """The petitioner's appointment with a leader: the slot it holds and whether the
    reminder went out."""

    slot_id: str
    unit: str
    leader: str
    mode: ReceptionMode
    starts_at: datetime
    reminded: bool = False


@dataclass(frozen=True)
class Ratings:
    """The petitioner's 网上评: three dimensions, as in the seeds' satisfaction surveys."""

    attitude: Satisfaction
    efficiency: Satisfaction
    quality: Satisfaction

    @property
    def unsatisfied(self) -> bool:
        return Satisfaction.UNSATISFIED in (self.attitude, self.efficiency, self.quality)
