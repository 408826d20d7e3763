"""Open311 GeoReport v2 at /open311/v2 (spec: shared/open311/georeport_v2_spec.md; how it maps: docs/open311.md).

A sub-application that web/app.py mounts, because Open311 answers errors in its own shape
([{"code", "description"}] or <errors>, in the format the URL asks for) while the rest of the platform answers
{"error": …}: its own exception handlers keep both, with no special case in web/errors.py.

A service is an active category; a service request is a report, and service_request_id is the report's public
id (its tracking number), which exists as soon as the report is stored, so every service is "realtime".
Status, agency and expected time come from the case triage opens for the report. Reading is public, as the
spec has it; only reports that came in through Open311 are published, because people who called the hotline or
used another channel never agreed to have their words shown to everyone. Reporter contact details never are.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, FastAPI, Form, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from cityops.cases import service as case_service
from cityops.cases.models import Case
from cityops.cases.states import FINAL_STATES
from cityops.catalog import service as catalog
from cityops.catalog.models import Category
from cityops.core.errors import DomainError
from cityops.datahub import masking
from cityops.intake import flows
from cityops.intake import open311_format as wire
from cityops.intake.channels import Channel
from cityops.intake.models import Report
from cityops.intake.schemas import ReporterIn, ReportIn
from cityops.org import service as org
from cityops.org.access import Principal, require
from cityops.platform import Platform
from cityops.web.deps import PlatformDep, SessionDep
from cityops.web.errors import request_language

PREFIX: Final = "/open311/v2"
MAX_REQUESTS = 1000  # spec: "first 1000 requests returned" (a module variable, so tests can lower it)
WINDOW: Final = timedelta(days=90)  # spec: default range and longest allowed range of GET requests
DESCRIPTION_MAX: Final = 4000  # spec: description is "limited to 4,000 characters"
MEDIA_URL_MAX: Final = 500
CLIENT_ID_MAX: Final = 120  # address_id, device_id, account_id: kept in the report's extra fields
PUBLISHED_CHANNELS: Final = (Channel.OPEN311.value,)

router = APIRouter(tags=["Open311 GeoReport v2"])
QueryText = Annotated[str | None, Query()]
FormText = Annotated[str | None, Form()]


class Open311Error(Exception):
    """An answer in the spec's error format: the HTTP status and a message key of open311_format.MESSAGES."""

    def __init__(self, status: int, key: str, **params: object) -> None:
        super().__init__(key)
        self.status, self.key, self.params = status, key, params


def create_open311_app(platform: Platform) -> FastAPI:
    app = FastAPI(title="CityOps Open311 GeoReport v2", version="v2",
                  description="Open311 GeoReport v2: services, service requests, discovery (JSON and XML)")
    app.state.platform = platform  # the shared dependencies (web/deps.py) read it from the app they run in
    app.include_router(router)
    for error, handler in _HANDLERS:
        app.add_exception_handler(error, handler)
    return app


# --- responses and errors ------------------------------------------------------------------------------------


def _respond(fmt: wire.Format, root: str, body: Any, status: int = 200) -> Response:
    return Response(wire.render(fmt, root, body), status_code=status, media_type=wire.MEDIA_TYPES[fmt])


def _error(request: Request, status: int, description: str) -> Response:
    return _respond(wire.format_of_path(request.url.path), "errors", wire.error_rows(status, description), status)


def _format(fmt: str) -> wire.Format:
    parsed = wire.parse_format(fmt)
    if parsed is None:
        raise Open311Error(400, "bad_format")
    return parsed


async def _open311_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Open311Error)
    return _error(request, exc.status, wire.text(exc.key, request_language(request), **exc.params))


# The spec knows 403 (api_key), 404 (no such thing) and 400 (anything else the client can fix).
_SPEC_STATUS: Final = {401: 403, 403: 403, 404: 404}


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    status = exc.status if exc.status >= 500 else _SPEC_STATUS.get(exc.status, 400)
    return _error(request, status, exc.message(request_language(request)))


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {}
    field = ".".join(str(part) for part in first.get("loc", ())[1:])
    return _error(request, 400, wire.text("invalid", request_language(request), field=field,
                                          detail=first.get("msg", "")))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    language = request_language(request)
    description = wire.text("not_found", language) if exc.status_code == 404 else str(exc.detail)
    return _error(request, exc.status_code, description)


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    # Starlette re-raises after this answer, so the server still logs the traceback.
    return _error(request, 500, wire.text("internal", request_language(request)))


_HANDLERS: Final = ((Open311Error, _open311_error), (DomainError, _domain_error),
                    (RequestValidationError, _validation_error), (StarletteHTTPException, _http_error),
                    (Exception, _unexpected_error))


# --- discovery and services ----------------------------------------------------------------------------------


@router.get("/discovery.{fmt}")
def discovery(fmt: str, request: Request, platform: PlatformDep, session: SessionDep) -> Response:
    out = _format(fmt)
    endpoint = str(request.url).split("?", 1)[0].rsplit("/", 1)[0]
    changed = max((c.updated_at for c in catalog.all_categories(session=session)), default=platform.clock.now())
    body = wire.discovery(url=endpoint, changeset=wire.w3c(changed), language=request_language(request))
    return _respond(out, "discovery", body)


@router.get("/services.{fmt}")
def services(fmt: str, request: Request, session: SessionDep) -> Response:
    out = _format(fmt)
    categories = catalog.all_categories(session=session)
    by_code = {c.code: c for c in categories}
    language = request_language(request)
    return _respond(out, "services", [_service_row(c, by_code, language) for c in _reportable(categories)])


def _reportable(categories: Sequence[Category]) -> list[Category]:
    """Active categories that are no active category's parent: a parent is a group, not something to report."""
    parents = {c.parent_code for c in categories if c.active and c.parent_code}
    return [c for c in categories if c.active and c.code not in parents]


def _service_row(category: Category, by_code: Mapping[str, Category], language: str) -> dict[str, Any]:
    parent = by_code.get(category.parent_code) if category.parent_code else None
    group = wire.group_label(parent.name if parent else None, category.kind, language)
    return wire.service_row(code=category.code, name=category.name, name_en=category.name_en,
                            keywords=[str(k) for k in category.keywords], group=group)


@router.get("/services/{service_code}.{fmt}")
def service_definition(service_code: str, fmt: str, session: SessionDep) -> Response:
    out = _format(fmt)
    category = _active_category(session, service_code)
    return _respond(out, "service_definition", wire.service_definition(category.code))


def _active_category(session: Session, code: str) -> Category:
    category = catalog.get_category(session=session, code=code)
    if category is None or not category.active:
        raise Open311Error(404, "service_unknown", code=code)
    return category


# --- POST requests -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PostedRequest:
    """The form fields of POST requests; an empty field counts as not sent, as the spec asks."""

    api_key: str | None
    service_code: str | None
    lat: str | None
    long: str | None
    address_string: str | None
    address_id: str | None
    email: str | None
    device_id: str | None
    account_id: str | None
    first_name: str | None
    last_name: str | None
    phone: str | None
    description: str | None
    media_url: str | None


def posted_request(api_key: FormText = None, service_code: FormText = None, lat: FormText = None,
                   long: FormText = None, address_string: FormText = None, address_id: FormText = None,
                   email: FormText = None, device_id: FormText = None, account_id: FormText = None,
                   first_name: FormText = None, last_name: FormText = None, phone: FormText = None,
                   description: FormText = None, media_url: FormText = None,
                   key_in_query: Annotated[str | None, Query(alias="api_key", include_in_schema=False)] = None,
                   ) -> PostedRequest:
    # Declared one by one so the OpenAPI page lists the spec's fields. Some clients put api_key in the query.
    given = locals()
    posted = PostedRequest(**{f.name: _given(given[f.name]) for f in fields(PostedRequest)})
    return replace(posted, api_key=posted.api_key or _given(key_in_query))


def _given(value: str | None) -> str | None:
    return (value.strip() or None) if value is not None else None


@router.post("/requests.{fmt}")
def create_request(fmt: str, request: Request, platform: PlatformDep, session: SessionDep,
                   posted: Annotated[PostedRequest, Depends(posted_request)]) -> Response:
    out = _format(fmt)
    principal = _key_principal(session, posted.api_key)
    if posted.service_code is None:
        raise Open311Error(400, "service_code_missing")
    category = _active_category(session, posted.service_code)
    receipt = flows.receive(platform, report=_report_in(posted, category), submitted_by=principal)
    notice = wire.service_notice(category.handle_limit, category.handle_unit, request_language(request))
    return _respond(out, "service_requests", [wire.created_row(receipt.public_id, notice, posted.account_id)])


def _key_principal(session: Session, token: str | None) -> Principal:
    if token is None:
        raise Open311Error(403, "key_missing")
    key = org.api_key_by_token(session=session, token=token)
    if key is None:
        raise Open311Error(403, "key_invalid")
    principal = org.principal_for(session=session, kind="api_key", id=key.id, name=key.name, role=key.role,
                                  region_code=key.region_code, department_id=key.department_id)
    require(principal, "reports.create")
    return principal


def _report_in(posted: PostedRequest, category: Category) -> ReportIn:
    lng, lat = _coordinates(posted)
    if lng is None and posted.address_string is None and posted.address_id is None:
        raise Open311Error(400, "location_missing")
    _check_lengths(posted)
    try:
        reporter = ReporterIn(name=_full_name(posted), phone=_phone(posted.phone), email=posted.email)
        # A fresh channel id per POST: the spec has no idempotency key, so each POST is a new request.
        return ReportIn(channel=Channel.OPEN311, channel_report_id=uuid.uuid4().hex,
                        text=posted.description or category.name, category_code=category.code, lng=lng, lat=lat,
                        address=posted.address_string or _address_of_id(posted), reporter=reporter,
                        extra=_extra(posted))
    except ValidationError as exc:
        raise _invalid(exc) from None


def _coordinates(posted: PostedRequest) -> tuple[float | None, float | None]:
    if (posted.lat is None) != (posted.long is None):
        raise Open311Error(400, "lat_long_pair")
    if posted.lat is None or posted.long is None:
        return None, None
    return _number("long", posted.long), _number("lat", posted.lat)


def _number(field: str, value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise Open311Error(400, "not_a_number", field=field) from None


def _check_lengths(posted: PostedRequest) -> None:
    for field, value, limit in (("description", posted.description, DESCRIPTION_MAX),
                                ("media_url", posted.media_url, MEDIA_URL_MAX),
                                ("address_id", posted.address_id, CLIENT_ID_MAX),
                                ("device_id", posted.device_id, CLIENT_ID_MAX),
                                ("account_id", posted.account_id, CLIENT_ID_MAX)):
        if value is not None and len(value) > limit:
            raise Open311Error(400, "too_long", field=field, limit=limit)
    if posted.media_url is not None and not re.match(r"^https?://\S+$", posted.media_url):
        raise Open311Error(400, "invalid", field="media_url", detail="http(s) URL")


def _full_name(posted: PostedRequest) -> str | None:
    return " ".join(part for part in (posted.first_name, posted.last_name) if part) or None


def _phone(phone: str | None) -> str | None:
    # "(555) 555-5555" is how people write numbers; the report keeps digits, + and - only.
    return re.sub(r"[\s().]", "", phone) if phone else None


def _address_of_id(posted: PostedRequest) -> str | None:
    """A report needs coordinates or an address; an address id alone becomes the address dispatchers read."""
    if posted.address_id is None or posted.lat is not None:
        return None
    return f"address_id {posted.address_id}"


def _extra(posted: PostedRequest) -> dict[str, str | int | float | bool | None]:
    extra: dict[str, str | int | float | bool | None] = {
        name: value for name in ("address_id", "device_id", "account_id", "media_url")
        if (value := getattr(posted, name)) is not None}
    if _address_of_id(posted) is not None and posted.address_string is None:
        extra["address_is_id"] = True  # GET shows address_id, not the stand-in address
    return extra


# ReportIn's field names as the client knows them.
_CLIENT_FIELDS: Final = {"lng": "long", "text": "description", "address": "address_string",
                         "name": "first_name / last_name"}


def _invalid(exc: ValidationError) -> Open311Error:
    first = exc.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "location"
    return Open311Error(400, "invalid", field=_CLIENT_FIELDS.get(field, field), detail=first["msg"])


# --- GET requests --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestQuery:
    ids: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()
    statuses: frozenset[str] = frozenset()
    start: datetime | None = None
    end: datetime | None = None


@router.get("/requests.{fmt}")
def list_requests(fmt: str, request: Request, platform: PlatformDep, session: SessionDep,
                  service_request_id: QueryText = None, service_code: QueryText = None, start_date: QueryText = None,
                  end_date: QueryText = None, status: QueryText = None) -> Response:
    out = _format(fmt)
    query = request_query(now=platform.clock.now(), service_request_id=service_request_id,
                          service_code=service_code, start_date=start_date, end_date=end_date, status=status)
    reports = find_requests(session=session, query=query, limit=MAX_REQUESTS)
    return _respond(out, "service_requests", request_rows(session, reports, request_language(request)))


@router.get("/requests/{service_request_id}.{fmt}")
def get_request(service_request_id: str, fmt: str, request: Request, session: SessionDep) -> Response:
    out = _format(fmt)
    report = _published_report(session, service_request_id, "request_unknown")
    return _respond(out, "service_requests", request_rows(session, [report], request_language(request)))


@router.get("/tokens/{token}.{fmt}")
def token(token: str, fmt: str, session: SessionDep) -> Response:
    # Every request id is returned at once (type realtime), so a token is simply the request id itself.
    out = _format(fmt)
    report = _published_report(session, token, "token_unknown")
    return _respond(out, "service_requests", [wire.token_row(report.public_id, token)])


def request_query(*, now: datetime, service_request_id: str | None, service_code: str | None,
                  start_date: str | None, end_date: str | None, status: str | None) -> RequestQuery:
    ids = _comma_list(service_request_id)
    if ids:
        return RequestQuery(ids=ids)  # spec: service_request_id "overrides all other arguments"
    start, end = _window(now, _date("start_date", start_date), _date("end_date", end_date))
    return RequestQuery(codes=_comma_list(service_code), statuses=_statuses(status), start=start, end=end)


def _comma_list(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


def _date(field: str, value: str | None) -> datetime | None:
    if not value or not value.strip():
        return None
    try:
        return wire.parse_w3c(value)
    except ValueError:
        raise Open311Error(400, "bad_datetime", field=field) from None


def _window(now: datetime, start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    """The most recent 90 days by default; 90 days from the one bound given; both bounds at most 90 days apart."""
    if start is None:
        return (now - WINDOW, now) if end is None else (end - WINDOW, end)
    if end is None:
        return start, start + WINDOW
    if start > end:
        raise Open311Error(400, "bad_range")
    if end - start > WINDOW:
        raise Open311Error(400, "range_too_long", days=WINDOW.days)
    return start, end


def _statuses(value: str | None) -> frozenset[str]:
    statuses = frozenset(_comma_list(value))
    if not statuses <= {"open", "closed"}:
        raise Open311Error(400, "bad_status")
    return statuses


def find_requests(*, session: Session, query: RequestQuery, limit: int) -> Sequence[Report]:
    """Newest first, at most `limit`: the window, codes and status are all applied in SQL, before the cap."""
    statement = _published().order_by(Report.received_at.desc(), Report.id.desc()).limit(limit)
    if query.ids:
        return session.scalars(statement.where(Report.public_id.in_(query.ids))).all()
    statement = statement.where(Report.received_at >= query.start, Report.received_at <= query.end)
    if query.codes:
        statement = statement.where(Report.category_code.in_(query.codes))
    if len(query.statuses) == 1:
        statement = statement.where(_status_is(next(iter(query.statuses))))
    return session.scalars(statement).all()


def _published() -> Select[Report]:
    return select(Report).where(Report.channel.in_(PUBLISHED_CHANNELS), Report.category_code.is_not(None))


def _published_report(session: Session, public_id: str, missing: str) -> Report:
    report = session.scalars(_published().where(Report.public_id == public_id)).one_or_none()
    if report is None:
        raise Open311Error(404, missing, id=public_id)
    return report


def _status_is(status: str) -> ColumnElement[bool]:
    # The status lives on the case; filtering in SQL keeps the 1000 cap exact.
    closed = Report.case_id.in_(case_service.ids_in_states([s.value for s in FINAL_STATES]))
    return closed if status == "closed" else or_(Report.case_id.is_(None), ~closed)


# --- request rows --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Lookups:
    """What the rows need besides the reports, loaded once for the whole page."""

    cases: Mapping[int, Case]
    agencies: Mapping[int, str]
    categories: Mapping[str, Category]
    language: str


def request_rows(session: Session, reports: Sequence[Report], language: str) -> list[dict[str, Any]]:
    cases = _cases(session, {r.case_id for r in reports if r.case_id is not None})
    lookups = _Lookups(cases=cases, agencies=_agencies(session, {c.department_id for c in cases.values()}),
                       categories=_categories(session, {r.category_code for r in reports if r.category_code}),
                       language=language)
    return [wire.request_row(_request_row(report, lookups)) for report in reports]


def _cases(session: Session, ids: set[int]) -> dict[int, Case]:
    return case_service.get_many(session=session, ids=ids)  # one query for the whole page


def _agencies(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    departments = (org.get_department(session=session, department_id=i) for i in ids if i is not None)
    return {d.id: d.name for d in departments if d is not None}


def _categories(session: Session, codes: set[str]) -> dict[str, Category]:
    found = (catalog.get_category(session=session, code=code) for code in codes)
    return {c.code: c for c in found if c is not None}


def _request_row(report: Report, lookups: _Lookups) -> wire.RequestRow:
    case = lookups.cases.get(report.case_id) if report.case_id is not None else None
    category = lookups.categories.get(report.category_code or "")
    state = case.state if case else None
    return wire.RequestRow(
        service_request_id=report.public_id, status=wire.status_of(state),
        # Requests are public: ID numbers, phone numbers and names a resident typed are masked (mask_text).
        status_notes=masking.mask_text(wire.status_notes(state, case.result if case else None, lookups.language)),
        service_name=category.name if category else None, service_code=report.category_code or "",
        description=masking.mask_text(report.text),
        agency_responsible=lookups.agencies.get(case.department_id) if case and case.department_id else None,
        service_notice=(wire.service_notice(category.handle_limit, category.handle_unit, lookups.language)
                        if category else None),
        requested_datetime=wire.w3c(report.received_at), updated_datetime=wire.w3c(_updated_at(report, case)),
        expected_datetime=wire.w3c(case.due_at if case else None),
        address=None if report.extra.get("address_is_id") else report.address,
        address_id=_extra_text(report, "address_id"), zipcode=None, lat=report.lat, long=report.lng,
        media_url=_extra_text(report, "media_url"))


def _updated_at(report: Report, case: Case | None) -> datetime:
    """Spec: "for requests with status=closed, this will be the date the request was closed"."""
    if case is None:
        return report.received_at
    if wire.status_of(case.state) == "closed" and case.closed_at is not None:
        return case.closed_at
    return case.updated_at


def _extra_text(report: Report, name: str) -> str | None:
    value = report.extra.get(name)
    return str(value) if value is not None else None
