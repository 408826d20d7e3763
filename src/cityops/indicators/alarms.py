"""Alarms: one open alarm per (source, indicator), raised, stepped up or down, acknowledged and cleared.

These functions work inside the caller's UnitOfWork and never commit, so an evaluation worker can apply a
whole batch of readings in one transaction; each change queues its bus message with `uow.publish` (outbox),
so it is announced only if that transaction commits.

Only one open alarm: the service looks the open one up under a row lock and updates it; the unique `open_key`
column (models.Alarm) makes a second concurrent insert fail instead of duplicating, and the caller retries.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityops.audit import service as audit
from cityops.core.errors import Conflict, PermissionDenied
from cityops.core.uow import UnitOfWork
from cityops.indicators.evaluate import LEVEL_NAMES, Result, rank
from cityops.indicators.models import Alarm, AlarmEvent, Indicator
from cityops.org.access import Principal, ensure_in_scope, scoped
from cityops.org.roles import STAFF_ROLES, Role

SUBJECT: Final = "cityops.alarms.{}"  # raised / changed / acknowledged / cleared
STATUSES: Final = ("active", "acknowledged", "cleared")
# Who may do what with alarms (kept here until the role table in org/roles.py gains alarm permissions).
ACKNOWLEDGE_ROLES: Final = frozenset({Role.ADMIN, Role.LEADER, Role.DISPATCHER})
READ_ROLES: Final = frozenset(STAFF_ROLES)
_CHUNK: Final = 500  # keys per IN list, well under SQLite's bound-parameter limit


def open_key(source_key: str, indicator_code: str) -> str:
    return f"{source_key}|{indicator_code}"


def get_open(*, session: Session, source_key: str, indicator_code: str) -> Alarm | None:
    query = select(Alarm).where(Alarm.open_key == open_key(source_key, indicator_code)).with_for_update()
    return session.scalars(query).first()


def open_alarms(*, session: Session, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Alarm]:
    """The open alarms of many (source, indicator) keys, locked in one query (in open_key order)."""
    wanted = sorted({open_key(s, i) for s, i in keys})
    found: dict[tuple[str, str], Alarm] = {}
    for start in range(0, len(wanted), _CHUNK):
        query = (select(Alarm).where(Alarm.open_key.in_(wanted[start: start + _CHUNK]))
                 .order_by(Alarm.open_key).with_for_update())
        found.update(((a.source_key, a.indicator_code), a) for a in session.scalars(query))
    return found


def new_alarm(*, indicator_code: str, source_key: str, region_code: str, lng: float | None, lat: float | None,
              result: Result) -> Alarm:
    """The alarm a result raises, not yet added: a batch adds the ones it raises and inserts them together,
    then hands each to apply_evaluation as `prepared`."""
    return Alarm(open_key=open_key(source_key, indicator_code), indicator_code=indicator_code,
                 source_key=source_key, region_code=region_code, lng=lng, lat=lat, level=result.level,
                 peak_level=result.level, status="active", value=result.value, reason=result.reason,
                 raised_at=result.ts, observed_at=result.ts, level_changed_at=result.ts)


def apply_evaluation(uow: UnitOfWork, *, indicator_code: str, source_key: str,
                     region_code: str, lng: float | None, lat: float | None, result: Result,
                     known: Alarm | None = None, looked_up: bool = False,
                     prepared: Alarm | None = None) -> Alarm | None:
    """Raise, update or clear the open alarm of (source, indicator) to match an evaluation result.
    Returns the alarm touched (None when nothing is open and nothing is raised). With `looked_up`, `known` is
    the open alarm the caller already holds locked (open_alarms), or None when there is none; `prepared` is the
    new_alarm of this result, already stored, to raise when none is open."""
    session = uow.session
    alarm = known if looked_up else get_open(session=session, source_key=source_key, indicator_code=indicator_code)
    if alarm is None:
        if result.level == "none":
            return None
        if prepared is not None:
            _record(uow, prepared, "raised", result.ts, actor=None)
            return prepared
        return _raise(uow, indicator_code, source_key, region_code, lng, lat, result)
    alarm.value, alarm.observed_at = result.value, result.ts
    if result.level == "none":
        _clear(uow, alarm, result)
    elif result.level != alarm.level:
        _change(uow, alarm, result)
    return alarm


def _raise(uow: UnitOfWork, indicator_code: str, source_key: str, region_code: str, lng: float | None,
           lat: float | None, result: Result) -> Alarm:
    alarm = new_alarm(indicator_code=indicator_code, source_key=source_key, region_code=region_code, lng=lng,
                      lat=lat, result=result)
    uow.session.add(alarm)
    uow.session.flush()  # the id, for the event and the message
    _record(uow, alarm, "raised", result.ts, actor=None)
    return alarm


def _change(uow: UnitOfWork, alarm: Alarm, result: Result) -> None:
    stepped_up = rank(result.level) > rank(alarm.level)
    alarm.level, alarm.reason, alarm.level_changed_at = result.level, result.reason, result.ts
    if rank(result.level) > rank(alarm.peak_level):
        alarm.peak_level = result.level
    if stepped_up:
        # A worse level is news: it needs someone to acknowledge it again.
        alarm.status, alarm.acknowledged_at, alarm.acknowledged_by = "active", None, None
    _record(uow, alarm, "changed", result.ts, actor=None, extra={"stepped_up": stepped_up})


def _clear(uow: UnitOfWork, alarm: Alarm, result: Result) -> None:
    # The level goes to "none" with it; peak_level keeps how bad it got.
    alarm.status, alarm.open_key, alarm.cleared_at = "cleared", None, result.ts
    alarm.level, alarm.reason = "none", result.reason
    _record(uow, alarm, "cleared", result.ts, actor=None)


def _record(uow: UnitOfWork, alarm: Alarm, kind: str, at: datetime, *, actor: str | None,
            extra: dict[str, Any] | None = None) -> None:
    uow.session.add(AlarmEvent(alarm_id=alarm.id, kind=kind, level=alarm.level, value=alarm.value,
                               reason=alarm.reason, actor=actor, at=at, data=extra or {}))
    payload = {**message(alarm), **(extra or {})}
    uow.publish(SUBJECT.format(kind), payload, key=f"alarm:{alarm.id}:{kind}:{at.isoformat()}")


def message(alarm: Alarm) -> dict[str, Any]:
    """What the cockpit needs to draw the alarm, as plain JSON values."""
    return {"alarm_id": alarm.id, "indicator_code": alarm.indicator_code, "source_key": alarm.source_key,
            "region_code": alarm.region_code, "lng": alarm.lng, "lat": alarm.lat, "level": alarm.level,
            "status": alarm.status, "value": alarm.value, "reason": alarm.reason,
            "observed_at": alarm.observed_at.isoformat(), "case_report_id": alarm.case_report_id,
            "case_id": alarm.case_id}


def acknowledge(uow: UnitOfWork, principal: Principal, *, alarm_id: int) -> Alarm:
    """A dispatcher, leader or administrator whose region covers the alarm takes note of it (audited)."""
    if principal.role not in ACKNOWLEDGE_ROLES:
        raise PermissionDenied(permission="alarms.acknowledge")
    alarm = uow.session.get(Alarm, alarm_id, with_for_update=True)
    ensure_in_scope(principal, alarm.region_code if alarm else None)
    assert alarm is not None  # ensure_in_scope raised NotFound otherwise
    if alarm.status != "active":
        raise Conflict(f"告警状态为 {alarm.status}，无法确认 / an alarm that is {alarm.status} cannot be "
                       "acknowledged", field="status")
    now = uow.clock.now()
    alarm.status, alarm.acknowledged_at, alarm.acknowledged_by = "acknowledged", now, principal.actor
    _record(uow, alarm, "acknowledged", now, actor=principal.actor)
    audit.append(uow.session, at=now, actor=principal.actor, action="alarm.acknowledge", entity_type="alarm",
                 entity_id=alarm.id, region_code=alarm.region_code, data={"level": alarm.level})
    return alarm


def list_alarms(*, session: Session, principal: Principal, status: str | None = None, limit: int = 100,
                offset: int = 0) -> tuple[list[Alarm], int]:
    """Alarms in the caller's region, newest change first; status "open" means active or acknowledged."""
    if principal.role not in READ_ROLES:
        raise PermissionDenied(permission="alarms.read")
    query = scoped(select(Alarm), principal, Alarm.region_code)
    if status == "open":
        query = query.where(Alarm.status != "cleared")
    elif status is not None:
        query = query.where(Alarm.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Alarm.level_changed_at.desc(), Alarm.id.desc())
                           .limit(limit).offset(offset))
    return list(rows), total


def events(*, session: Session, alarm_id: int) -> list[AlarmEvent]:
    return list(session.scalars(select(AlarmEvent).where(AlarmEvent.alarm_id == alarm_id).order_by(AlarmEvent.id)))


def alarm_report(alarm: Alarm, indicator: Indicator) -> dict[str, Any]:
    """The report a later step sends through intake on the sensor channel (the boundary to cases): plain data,
    located at the source, with the indicator's category as the classification hint."""
    level = LEVEL_NAMES[alarm.level]
    text = (f"【{level}预警】{indicator.name} {alarm.value:g}{indicator.unit}（{alarm.source_key}）：{alarm.reason}")
    return {"channel": "sensor", "text": text, "lng": alarm.lng, "lat": alarm.lat,
            "region_code": alarm.region_code, "category_hint": indicator.category_code,
            "department_hint": indicator.department_code, "level": alarm.level,
            "external_key": f"alarm:{alarm.id}", "occurred_at": alarm.raised_at.isoformat()}
