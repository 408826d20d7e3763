"""The sensing pages: devices on the map, indicator charts with threshold bands, alarms.

There is no JSON API listing devices or readings, so the page routes read them here through the sensing and
indicators services, scoped by the caller's region; alarms are listed and acknowledged by the page's script
through the alarm API (GET /api/v1/alarms, POST /api/v1/alarms/{id}/acknowledge).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from cityops.core.errors import NotFound
from cityops.indicators import alarms
from cityops.indicators import service as indicators
from cityops.indicators.evaluate import LEVEL_NAMES, Rule
from cityops.indicators.models import Indicator
from cityops.org.access import Principal
from cityops.org.roles import Role
from cityops.regions import service as regions
from cityops.sensing import service as sensing
from cityops.sensing.device_types import device_types
from cityops.sensing.models import Device
from cityops.web import ui
from cityops.web.deps import OptionalPrincipalDep, PlatformDep, SessionDep

router = APIRouter(include_in_schema=False)

SENSING_ROLES: Final = frozenset({Role.ADMIN, Role.LEADER, Role.DISPATCHER})
MAX_DEVICES: Final = 5_000  # a map of more points than this needs clustering by the server, not a page
CHART_DEVICES: Final = 12  # lines on one chart before it stops being readable
CHART_HOURS: Final = 24
DOMAINS: Final = {"environment": ("生态环境", "Environment"), "water": ("水务防汛", "Water"),
                  "safety": ("安全", "Safety"), "traffic": ("交通", "Traffic"),
                  "public_service": ("公共服务", "Public service")}


def _device_json(device: Device, type_names: dict[str, tuple[str, str]]) -> dict[str, Any]:
    zh, en = type_names.get(device.type_code, (device.type_code, device.type_code))
    return {"id": device.device_id, "type": device.type_code, "type_name": zh, "type_name_en": en,
            "model": device.model, "lng": device.lng, "lat": device.lat, "status": device.status,
            "region_code": device.region_code, "group": device.group_code,
            "last_seen_at": device.last_seen_at.isoformat() if device.last_seen_at else None}


def _type_names() -> dict[str, tuple[str, str]]:
    return {code: (t.name, t.name_en) for code, t in device_types().items()}


@router.get("/sensing")
def sensing_page(request: Request, principal: OptionalPrincipalDep, session: SessionDep) -> Response:
    if (refused := ui.guard(request, principal, SENSING_ROLES)) is not None:
        return refused
    assert principal is not None
    devices = sensing.list_devices(session=session, region_prefix=principal.scope_prefix, limit=MAX_DEVICES)
    names = _type_names()
    counts = {status: sum(1 for d in devices if d.status == status) for status in sensing.STATUSES}
    catalogue = [i for i in indicators.all_indicators(session=session) if i.active]
    return ui.page(request, "sensing/index.html", principal, {
        "devices": [_device_json(d, names) for d in devices], "counts": counts, "total": len(devices),
        "indicators": catalogue, "domains": DOMAINS,
        "indicator_names": {i.code: [i.name, i.name_en or i.name] for i in catalogue},
        "map_level": _map_level(session, principal)})


def _map_level(session: Session, principal: Principal) -> dict[str, str | None]:
    """The base layer: the districts for a city-wide user, else the streets of the user's own region."""
    region = regions.get(session=session, code=principal.region_code) if principal.region_code else None
    if region is None or region.level == "city":
        return {"level": "district", "parent": None}
    if region.level == "district":
        return {"level": "street", "parent": region.code}
    return {"level": "community", "parent": region.code}


# --- an indicator's chart ---------------------------------------------------------------------------------


def threshold_bands(rules: Sequence[Rule], low: float, high: float) -> list[dict[str, Any]]:
    """Each level's band of values, from its trigger line to the next level's (the last to the chart's edge).

    `rules` come ordered blue → red (ThresholdSet sorts them); for `below` the bands grow downwards."""
    bands = []
    for index, rule in enumerate(rules):
        following = rules[index + 1].value if index + 1 < len(rules) else None
        if rule.comparison == "above":
            start, end = rule.value, following if following is not None else max(high, rule.value)
        else:
            start, end = following if following is not None else min(low, rule.value), rule.value
        bands.append({"level": rule.level, "name": LEVEL_NAMES[rule.level], "from": start, "to": end,
                      "line": rule.value, "clear": rule.clear_value, "rule": rule.describe()})
    return bands


def _covered_devices(session: Session, principal: Principal, indicator: Indicator) -> list[Device]:
    """The caller's devices feeding a sensor indicator: its device group, or its device type in its region."""
    if indicator.device_group:
        found = list(sensing.devices_in_group(session=session, group_code=indicator.device_group))
    elif indicator.device_type:
        region = regions.get(session=session, code=indicator.region_code) if indicator.region_code else None
        prefix = region.scope_prefix if region is not None else (indicator.region_code or "")
        found = [d for d in sensing.list_devices(session=session, region_prefix=prefix or None, limit=MAX_DEVICES)
                 if d.type_code == indicator.device_type]
    else:
        found = []
    return [d for d in found if principal.sees(d.region_code)]


@router.get("/sensing/indicators/{code}")
def indicator_page(code: str, request: Request, principal: OptionalPrincipalDep, session: SessionDep,
                   platform: PlatformDep) -> Response:
    if (refused := ui.guard(request, principal, SENSING_ROLES)) is not None:
        return refused
    assert principal is not None
    try:
        indicator = indicators.get_indicator_or_raise(session=session, code=code[:60])
    except NotFound:
        return ui.page(request, "sensing/missing.html", principal, {"code": code[:60]}, status_code=404)
    thresholds = indicators.thresholds_for(session=session, indicator_code=indicator.code,
                                           region_code=principal.region_code)
    rules = list(thresholds.rules) if thresholds is not None else []
    now = platform.clock.now()
    series: list[dict[str, Any]] = []
    devices = _covered_devices(session, principal, indicator) if indicator.metric else []
    for device in devices[:CHART_DEVICES]:
        values = sensing.readings(session=session, device_id=device.device_id, metric=indicator.metric,
                                  start=now - timedelta(hours=CHART_HOURS), end=now + timedelta(minutes=5))
        series.append({"device": device.device_id, "model": device.model, "status": device.status,
                       "points": [[r.ts.isoformat(), r.value] for r in values]})
    seen = [p[1] for s in series for p in s["points"]]
    lines = [r.value for r in rules]
    low, high = min([*seen, *lines], default=0.0), max([*seen, *lines], default=1.0)
    margin = (high - low) * 0.15 or abs(high) * 0.15 or 1.0
    bands = threshold_bands(rules, low - margin, high + margin)
    open_alarms = [a for a in alarms.list_alarms(session=session, principal=principal, status="open", limit=500)[0]
                   if a.indicator_code == indicator.code]
    return ui.page(request, "sensing/indicator.html", principal, {
        "indicator": indicator, "rules": rules, "bands": bands, "series": series, "devices": devices,
        "more_devices": max(0, len(devices) - CHART_DEVICES), "hours": CHART_HOURS, "alarms": open_alarms,
        "domains": DOMAINS, "level_names": LEVEL_NAMES,
        "chart": {"unit": indicator.unit, "series": series, "bands": bands, "min": low - margin,
                  "max": high + margin, "name": indicator.name, "name_en": indicator.name_en or indicator.name}})
