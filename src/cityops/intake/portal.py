"""The citizen portal's side of intake: a resident's report from a web form, the status of a report looked up by
its tracking number and the reporter's phone, and the resident's rating of a closed case.

A resident has no account: the portal acts for them with a citizen principal, and proves "this is my report" by
the last four digits of the phone number given with it, so a stranger who saw a tracking number cannot read it.
Everything shown back is in plain words, with personal data in texts masked (datahub.masking.mask_text).
"""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy.orm import Session

from cityops.cases import flows as case_flows
from cityops.cases import service as case_service
from cityops.cases.models import Case
from cityops.cases.states import Action, State
from cityops.core import photos
from cityops.core.errors import ValidationFailed
from cityops.datahub.masking import mask_text
from cityops.intake import flows
from cityops.intake import service as reports
from cityops.intake.channels import Channel
from cityops.intake.models import Report
from cityops.intake.schemas import ReporterIn, ReportIn
from cityops.org import service as org
from cityops.org.access import Principal
from cityops.org.roles import Role
from cityops.platform import Platform

MOBILE: Final = re.compile(r"^1[3-9]\d{9}$")  # a mainland mobile number, the only kind we can text back
FORM_ID: Final = re.compile(r"^[0-9a-f]{32}$")
TRACKING: Final = re.compile(r"^R\d{8}[0-9A-Z]{8}$")
TEXT_MAX: Final = 2000  # a web form, not a letter to the mayor; the schema allows more for other channels
SATISFACTION_LABELS: Final = {"satisfied": ("满意", "Satisfied"), "basically": ("基本满意", "Mostly satisfied"),
                              "dissatisfied": ("不满意", "Dissatisfied")}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with what the resident typed: the form field and what to do, in both languages."""

    field: str
    zh: str
    en: str


class PortalInvalid(Exception):
    """The form cannot be accepted as it is; every problem is listed so the resident fixes them in one go."""

    def __init__(self, problems: list[Problem], photo_id: str | None = None) -> None:
        super().__init__(", ".join(p.field for p in problems))
        self.problems = problems
        self.photo_id = photo_id  # a photo that was accepted, kept so the resident need not choose it again


@dataclass(frozen=True)
class PortalReport:
    """What the report form sends, as typed."""

    form_id: str
    text: str
    phone: str
    name: str = ""
    address: str = ""
    lng: str = ""
    lat: str = ""
    photo: bytes | None = None
    photo_id: str = ""  # accepted on an earlier try of the same form


def new_form_id() -> str:
    """The form's own id, used as the channel id: sending the same form twice files one report."""
    return secrets.token_hex(16)


def citizen(name: str) -> Principal:
    """The portal acting for a resident: no region of their own, so a report or case anywhere is theirs to
    follow; what they may do is limited by the citizen role in the rule table."""
    return Principal(kind="citizen", id=0, name=name, role=Role.CITIZEN, region_code="", scope_prefix="")


def normalise_phone(phone: str) -> str:
    return re.sub(r"[\s\-]", "", phone.strip()).removeprefix("+86")


def submit(platform: Platform, form: PortalReport) -> flows.Receipt:
    """Checks the form, stores its photo through the photo store (type by content, size limit) and files the
    report on the portal channel. Raises PortalInvalid naming every field that needs fixing."""
    problems: list[Problem] = []
    text = form.text.strip()
    if len(text) < 5:
        problems.append(Problem("text", "请写几句话说明是什么问题（至少 5 个字）",
                                "Please describe the problem in a few words (at least 5 characters)"))
    elif len(text) > TEXT_MAX:
        problems.append(Problem("text", f"内容太长了，请控制在 {TEXT_MAX} 字以内",
                                f"Please keep it under {TEXT_MAX} characters"))
    phone = normalise_phone(form.phone)
    if not MOBILE.match(phone):
        problems.append(Problem("phone", "请填写 11 位手机号码，例如 13812345678",
                                "Please enter an 11-digit mainland mobile number, e.g. 13812345678"))
    lng, lat = _coordinates(form.lng, form.lat)
    address = form.address.strip()
    if lng is None and not address:
        problems.append(Problem("location", "请在地图上点一下问题所在的位置，或者写下地址",
                                "Please tap the place on the map, or type the address"))
    if len(address) > 300:
        problems.append(Problem("address", "地址太长了，请写 300 字以内",
                                "Please keep the address under 300 characters"))
    if len(form.name.strip()) > 60:
        problems.append(Problem("name", "称呼太长了", "The name is too long"))
    photo_id = _photo(platform, form, problems)
    if problems:
        raise PortalInvalid(problems, photo_id)
    report = ReportIn(channel=Channel.PORTAL, channel_report_id=_form_id(form.form_id), text=text, lng=lng, lat=lat,
                      address=address or None, photos=[photo_id] if photo_id else [],
                      reporter=ReporterIn(name=form.name.strip() or None, phone=phone))
    return flows.receive(platform, report=report, submitted_by=citizen("portal"))


def _coordinates(lng_text: str, lat_text: str) -> tuple[float | None, float | None]:
    try:
        lng, lat = float(lng_text), float(lat_text)
    except ValueError:
        return None, None
    if not (-180 <= lng <= 180 and -90 <= lat <= 90):
        return None, None
    return round(lng, 6), round(lat, 6)


def _form_id(value: str) -> str:
    return "portal-" + (value if FORM_ID.match(value) else new_form_id())


def _photo(platform: Platform, form: PortalReport, problems: list[Problem]) -> str | None:
    if form.photo:
        try:
            return flows.store_photo(platform, form.photo)
        except ValidationFailed as exc:
            too_big = (exc.detail or "").startswith("larger")
            limit_mb = platform.settings.photo_max_bytes // (1024 * 1024)
            problems.append(Problem("photo", f"照片太大了，请选不超过 {limit_mb} MB 的照片",
                                    f"The photo is too large: at most {limit_mb} MB") if too_big else
                            Problem("photo", "这个文件不是照片，请选 JPG、PNG 或 WebP 格式的照片",
                                    "This file is not a photo: please choose a JPG, PNG or WebP picture"))
            return None
    if form.photo_id and photos.PHOTO_ID.match(form.photo_id) \
            and photos.exists(platform.settings.photo_dir, form.photo_id):
        return form.photo_id
    return None


# --- looking a report up -------------------------------------------------------------------------------------

# What a resident is told, by the case's state: 受理 (we have it), 处理中 (a department works on it), 已办结.
STAGES: Final = {
    "received": ("受理", "Received"), "working": ("处理中", "Being handled"), "closed": ("已办结", "Closed"),
    "rated": ("已办结", "Closed"), "rejected": ("不予受理", "Not accepted"),
}
_STAGE_OF_STATE: Final = {
    State.RECEIVED: "received", State.REGISTERED: "received", State.RETURNED: "received",
    State.DISPATCHED: "working", State.IN_PROGRESS: "working", State.HANDLED: "working", State.REWORKED: "working",
    State.VERIFIED: "working", State.MERGED: "working", State.CLOSED: "closed", State.FOLLOWED_UP: "rated",
    State.REJECTED: "rejected",
}
_EXPLAIN: Final = {
    "received": ("我们已收到您反映的问题，正在安排负责的部门。",
                 "We have your report and are finding the right department."),
    "working": ("负责的部门正在处理。", "The responsible department is working on it."),
    "closed": ("已经处理完毕。请告诉我们问题是否解决了。",
               "It has been dealt with. Please tell us whether it is solved."),
    "rated": ("已经处理完毕，谢谢您的评价。", "It has been dealt with. Thank you for your rating."),
    "rejected": ("这件事不属于我们受理的范围。如有疑问请拨打 12345。",
                 "This is not something we can handle. Call 12345 if you have questions."),
}


@dataclass(frozen=True)
class Tracking:
    """What the resident may see of their report: plain words, no staff names, personal data masked."""

    public_id: str
    received_at: datetime
    text: str
    address: str | None
    stage: str  # a key of STAGES
    department: str | None
    result: str | None
    closed_at: datetime | None
    can_rate: bool
    resolved: bool | None = None
    satisfaction: str | None = None
    reopened: bool = False

    def label(self, lang: str) -> str:
        zh, en = STAGES[self.stage]
        return en if lang == "en" else zh

    def explain(self, lang: str) -> str:
        zh, en = _EXPLAIN[self.stage]
        return en if lang == "en" else zh

    def satisfaction_label(self, lang: str) -> str:
        zh, en = SATISFACTION_LABELS.get(self.satisfaction or "", ("", ""))
        return en if lang == "en" else zh


def find(platform: Platform, *, public_id: str, phone_last4: str) -> Tracking | None:
    """The report's status, or None when the number is unknown or the digits do not match (the same answer for
    both, so trying numbers tells a stranger nothing)."""
    with platform.db.session() as session:
        report = _owned(session, public_id, phone_last4)
        if report is None:
            return None
        case = case_service.get(session=session, case_id=report.case_id) if report.case_id is not None else None
        department = None
        if case is not None and case.department_id is not None:
            found = org.get_department(session=session, department_id=case.department_id)
            department = found.name if found is not None else None
        return _tracking(report, case, department)


def _owned(session: Session, public_id: str, phone_last4: str) -> Report | None:
    number = public_id.strip().upper()
    digits = phone_last4.strip()
    if not TRACKING.match(number) or not re.fullmatch(r"\d{4}", digits):
        return None
    report = reports.get_by_public_id(session=session, public_id=number)
    phone = re.sub(r"\D", "", report.reporter_phone or "") if report is not None else ""
    if report is None or len(phone) < 4 or not hmac.compare_digest(phone[-4:], digits):
        return None
    return report


def _tracking(report: Report, case: Case | None, department: str | None) -> Tracking:
    state = State(case.state) if case is not None else None
    stage = _STAGE_OF_STATE[state] if state is not None else "received"
    shown_department = department if stage in ("working", "closed", "rated") else None
    result = mask_text(case.result) if case is not None and case.result and stage in ("closed", "rated") else None
    return Tracking(public_id=report.public_id, received_at=report.received_at, text=mask_text(report.text),
                    address=mask_text(report.address) if report.address else None, stage=stage,
                    department=shown_department, result=result,
                    closed_at=case.closed_at if case is not None else None,
                    can_rate=state is State.CLOSED and not (case is not None and case.suspended),
                    resolved=case.resolved if case is not None else None,
                    satisfaction=case.satisfaction if case is not None else None,
                    reopened=bool(case is not None and case.reopened_count))


def rate(platform: Platform, *, public_id: str, phone_last4: str, resolved: bool, satisfaction: str) -> Tracking:
    """The resident's follow-up (回访) of a closed case, as the case flow's follow_up action by a citizen.
    Not solved or dissatisfied asks for the case to be reopened; the follow-up flow decides whether it is."""
    with platform.db.session() as session:
        report = _owned(session, public_id, phone_last4)
        case_id = report.case_id if report is not None else None
    if case_id is None:
        raise ValidationFailed("unknown report", field="public_id")
    if satisfaction not in SATISFACTION_LABELS:
        raise ValidationFailed("one of satisfied, basically, dissatisfied", field="satisfaction")
    unhappy = not resolved or satisfaction == "dissatisfied"
    command = case_flows.Command(Action.FOLLOW_UP, resolved=resolved, satisfaction=satisfaction, reopen=unhappy,
                                 reason="市民评价：未解决或不满意，重新办理" if unhappy else None)
    case_flows.perform(platform, case_id=case_id, actor=citizen(f"portal {public_id}"), command=command)
    found = find(platform, public_id=public_id, phone_last4=phone_last4)
    assert found is not None
    return found

