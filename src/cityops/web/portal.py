"""The citizen portal: report a problem, track it, rate the handling.

Public pages with server-side form posts: a resident needs no account, and no API key ever reaches the browser.
The work is done by intake/portal.py; these routes read the form, call it and render the answer.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from cityops.core.clock import CHINA_TZ
from cityops.core.errors import DomainError
from cityops.intake import portal
from cityops.platform import Platform
from cityops.regions import service as regions
from cityops.web import ui
from cityops.web.deps import PlatformDep, SessionDep

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form()]


@router.get("/portal", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    return ui.page(request, "portal/index.html", None)


@router.get("/portal/report", response_class=HTMLResponse)
def report_form(request: Request, platform: PlatformDep, session: SessionDep) -> HTMLResponse:
    return _form(request, platform, session, {"form_id": portal.new_form_id()})


@router.post("/portal/report", response_class=HTMLResponse)
async def report_submit(request: Request, platform: PlatformDep, session: SessionDep, form_id: Text = "",
                        text: Text = "", phone: Text = "", name: Text = "", address: Text = "", lng: Text = "",
                        lat: Text = "", photo_id: Text = "",
                        photo: Annotated[UploadFile | None, File()] = None) -> Response:
    content = await photo.read(platform.settings.photo_max_bytes + 1) if photo is not None else b""
    values = {"form_id": form_id, "text": text, "phone": phone, "name": name, "address": address, "lng": lng,
              "lat": lat, "photo_id": photo_id}
    try:
        receipt = portal.submit(platform, portal.PortalReport(
            form_id=form_id, text=text, phone=phone, name=name, address=address, lng=lng, lat=lat,
            photo=content or None, photo_id=photo_id))
    except portal.PortalInvalid as invalid:
        values["photo_id"] = invalid.photo_id or ""
        return _form(request, platform, session, values, problems=invalid.problems, status_code=422)
    return RedirectResponse(f"/portal/thanks?id={receipt.public_id}", status_code=303)


def _form(request: Request, platform: Platform, session: Session, values: dict[str, str], *,
          problems: list[portal.Problem] | None = None, status_code: int = 200) -> HTMLResponse:
    lang = ui.language(request)
    errors = {p.field: (p.en if lang == "en" else p.zh) for p in problems or []}
    return ui.page(request, "portal/report.html", None,
                   {"values": values, "errors": errors, "regions": _map_regions(platform, session)},
                   status_code=status_code)


@router.get("/portal/thanks", response_class=HTMLResponse)
def thanks(request: Request, id: str = "") -> Response:
    if not portal.TRACKING.match(id):
        return RedirectResponse("/portal", status_code=303)
    return ui.page(request, "portal/thanks.html", None, {"number": id})


@router.get("/portal/track", response_class=HTMLResponse)
def track_form(request: Request, id: str = "") -> HTMLResponse:
    return ui.page(request, "portal/track.html", None, {"number": id if portal.TRACKING.match(id) else ""})


@router.post("/portal/track", response_class=HTMLResponse)
def track(request: Request, platform: PlatformDep, number: Text = "", phone4: Text = "") -> HTMLResponse:
    found = portal.find(platform, public_id=number, phone_last4=phone4)
    if found is None:
        return _not_found(request, number)
    return _status(request, found, phone4)


@router.post("/portal/rate", response_class=HTMLResponse)
def rate(request: Request, platform: PlatformDep, number: Text = "", phone4: Text = "", resolved: Text = "",
         satisfaction: Text = "") -> HTMLResponse:
    found = portal.find(platform, public_id=number, phone_last4=phone4)
    if found is None:
        return _not_found(request, number)
    t = ui.translator(ui.language(request))
    problems = {}
    if resolved not in ("yes", "no"):
        problems["resolved"] = t("请选择问题是否解决了", "Please say whether it is solved")
    if satisfaction not in portal.SATISFACTION_LABELS:
        problems["satisfaction"] = t("请选择您是否满意", "Please say how satisfied you are")
    if problems or not found.can_rate:
        return _status(request, found, phone4, errors=problems, status_code=422 if problems else 409)
    try:
        rated = portal.rate(platform, public_id=found.public_id, phone_last4=phone4, resolved=resolved == "yes",
                            satisfaction=satisfaction)
    except DomainError:  # rated meanwhile (another tab), or the case moved on: show where it stands now
        again = portal.find(platform, public_id=number, phone_last4=phone4)
        return _status(request, again or found, phone4, status_code=409)
    return _status(request, rated, phone4, thanked=True)


def _not_found(request: Request, number: str) -> HTMLResponse:
    # 200, not 404: the lookup worked and found nothing to show this visitor; the page says so and offers the form.
    return ui.page(request, "portal/track.html", None, {"number": number.strip().upper()[:20], "not_found": True})


def _status(request: Request, found: portal.Tracking, phone4: str, *, errors: dict[str, str] | None = None,
            thanked: bool = False, status_code: int = 200) -> HTMLResponse:
    return ui.page(request, "portal/status.html", None,
                   {"found": found, "phone4": phone4, "errors": errors or {}, "thanked": thanked, "local": _local},
                   status_code=status_code)


def _local(at: datetime) -> str:
    """A time as the city reads it (stored in UTC; SQLite hands it back without a zone)."""
    aware = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    return aware.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")


def _map_regions(platform: Platform, session: Session) -> dict[str, Any]:
    """The districts as a GeoJSON FeatureCollection for the report map, kept until the regions change.

    Embedded in the page because a resident is not signed in (the regions API is for callers with an identity)
    and the map needs no more than the district outlines: the place's street is found by /regions/locate."""
    version = regions.current_version(session=session)
    cached = platform.caches.get("portal.regions")
    if isinstance(cached, tuple) and cached[0] == version:
        return cached[1]  # type: ignore[no-any-return]
    features = [{"type": "Feature", "properties": {"code": r.code, "name": r.name},
                 "geometry": _rounded(r.geometry)}
                for r in regions.list_regions(session=session, level="district", limit=200) if r.geometry]
    collection = {"type": "FeatureCollection", "features": features}
    platform.caches["portal.regions"] = (version, collection)
    return collection


def _rounded(value: Any) -> Any:
    """Coordinates to 5 decimals (about a metre): the page stays small, the outline looks the same."""
    if isinstance(value, float):
        return round(value, 5)
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return value
