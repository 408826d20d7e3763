"""Observations to alarms to cases: the stateful side of the pure evaluation in evaluate.py.

    observe(uow, …)            thresholds of the region → state (row-locked) → evaluate → state saved → alarm
    observe_many(platform, …)  a batch in one transaction, then open_cases_for the alarms that crossed the line
    open_cases_for(platform, …) each alarm at or above settings.alarm_case_level becomes a report on the sensor
                               channel through intake.flows.receive_batch; triage locates, routes and opens the case

Why cases are opened after the commit, not inside the alarm's transaction: `receive` opens its own unit of
work (on SQLite a second writer would wait for the first one's lock forever), and a report must never exist
for an alarm whose transaction rolled back. So the alarm is committed first and the report follows. The
channel report id is `alarm:{id}`, so sending it again is harmless: an alarm keeps being offered by `observe`
(`Result.opens_case`) until its `case_report_id` is stored, and a crash between the two transactions is healed
by the next observation instead of losing the case.

When an alarm that sent a report clears, the case triage opened for it is looked up through the report and
stored on the alarm (`case_id`), so `cityops.alarms.cleared` carries it for the cockpit.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final, NamedTuple

import orjson
from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from cityops.cases import flows as cases
from cityops.core.uow import UnitOfWork
from cityops.indicators import alarms, service
from cityops.indicators.evaluate import Level, State, ThresholdSet, evaluate, quiet_reason, rank
from cityops.indicators.evaluate import Result as Evaluation
from cityops.indicators.models import Alarm, Indicator, IndicatorState, Threshold
from cityops.indicators.statistics import case_statistic
from cityops.intake import flows as intake
from cityops.intake import service as reports
from cityops.intake.channels import Channel
from cityops.intake.schemas import ReportIn
from cityops.org.access import system_principal
from cityops.platform import Platform
from cityops.regions import service as regions

SENSOR_PRINCIPAL: Final = system_principal("indicators")


class Observation(NamedTuple):
    """One value of one indicator at one source (a device, a device group, "stat:{indicator}:{region}").
    A named tuple, as Result: ingestion makes one per reading, tens of thousands a second."""

    indicator_code: str
    source_key: str
    region_code: str
    lng: float | None
    lat: float | None
    ts: datetime
    value: float


class Result(NamedTuple):
    """What one observation did. `opens_case`: the alarm is at or above the case level and has no report yet,
    so open_cases_for should send one (after the transaction commits)."""

    indicator_code: str
    source_key: str
    level: Level
    previous: Level
    reason: str
    alarm_id: int | None = None
    opens_case: bool = False
    stale: bool = False
    evaluated: bool = True  # False when the indicator has no thresholds for the region

    @property
    def changed(self) -> bool:
        return self.level != self.previous


def observe(uow: UnitOfWork, platform: Platform, *, indicator_code: str, source_key: str, region_code: str,
            lng: float | None, lat: float | None, ts: datetime, value: float) -> Result:
    """Evaluate one value against the region's thresholds, save the state and raise/update/clear the alarm,
    in the caller's transaction (never commits)."""
    observation = Observation(indicator_code, source_key, region_code, lng, lat, ts, value)
    return observe_batch(uow, [observation], case_level=platform.settings.alarm_case_level)[0]


def observe_many(platform: Platform, observations: Sequence[Observation], *, open_cases: bool = True) -> list[Result]:
    """A batch in one transaction, results in input order; then, after the commit, the alarms that crossed the
    case level are sent to intake (unless `open_cases`)."""
    with platform.uow() as uow:
        results = observe_batch(uow, observations, case_level=platform.settings.alarm_case_level)
        uow.commit()
    if open_cases:
        open_cases_for(platform, case_alarms(results))
    return results


def case_alarms(results: Sequence[Result]) -> list[int]:
    """The alarms among `results` that should now become reports (for open_cases_for, after the commit)."""
    return sorted({r.alarm_id for r in results if r.opens_case and r.alarm_id is not None})


def observe_batch(uow: UnitOfWork, observations: Sequence[Observation], *, case_level: str) -> list[Result]:
    """Many values in the caller's transaction (never commits), results in input order.

    Values are grouped by (indicator, source): each group's state row is locked once (all rows of the batch in
    one SELECT … FOR UPDATE, in (indicator, source) order, so two workers with overlapping batches wait for
    each other instead of deadlocking), the group's values are evaluated one after the other in input order,
    and the alarm is touched only where the level changes and once with the group's last value. The states are
    written back in one statement and the alarms to touch are read in one (locked, after the states, so in the
    same order for every worker). That is what lets a busy ingestion evaluate every reading: the end state
    equals evaluating them one by one."""
    groups: dict[tuple[str, str], list[int]] = {}
    for i, obs in enumerate(observations):
        groups.setdefault((obs.indicator_code, obs.source_key), []).append(i)
    results: list[Result | None] = [None] * len(observations)
    session = uow.session
    thresholds = _thresholds(session, observations)
    evaluated = {k: members for k, members in groups.items()
                 if thresholds[(k[0], observations[members[0]].region_code)] is not None}
    for k, members in groups.items():
        if k not in evaluated:
            for i in members:
                results[i] = Result(k[0], k[1], "none", "none", "该地区无阈值 / no thresholds for the region",
                                    evaluated=False)
    now = uow.clock.now()
    rows = _locked_states(session, sorted(evaluated), now)
    saved: list[tuple[int, dict[str, Any]]] = []
    touches: list[tuple[tuple[str, str], list[_Step]]] = []
    for k in sorted(evaluated):
        members = evaluated[k]
        ts_set = thresholds[(k[0], observations[members[0]].region_code)]
        assert ts_set is not None
        row_id, stored = rows[k]
        state, group_results, steps = _evaluate_group(State.from_dict(stored), ts_set,
                                                      [observations[i] for i in members])
        for i, result in zip(members, group_results, strict=True):
            results[i] = result
        saved.append((row_id, state.to_dict()))
        alarm_steps = _alarm_steps(steps)
        if alarm_steps:
            touches.append((k, [(members[position], obs, evaluation) for position, obs, evaluation in alarm_steps]))
    _save_states(session, saved, now)
    if touches:
        _apply_alarms(uow, touches, results, case_level)
    return [r for r in results if r is not None]


_Step = tuple[int, Observation, Evaluation]  # (position, observation, what evaluating it gave)


def _thresholds(session: Session, observations: Sequence[Observation]
                ) -> dict[tuple[str, str], ThresholdSet | None]:
    """The threshold set of each (indicator, region) of the batch; each indicator's rows read once."""
    codes = sorted({obs.indicator_code for obs in observations})
    rows: dict[str, list[Threshold]] = {code: [] for code in codes}
    if codes:
        for row in session.scalars(select(Threshold).where(Threshold.indicator_code.in_(codes))):
            rows[row.indicator_code].append(row)
    found: dict[tuple[str, str], ThresholdSet | None] = {}
    for obs in observations:
        key = (obs.indicator_code, obs.region_code)
        if key not in found:
            found[key] = service.thresholds_of(rows[obs.indicator_code], obs.region_code)
    return found


def _evaluate_group(state: State, thresholds: ThresholdSet, group: Sequence[Observation]
                    ) -> tuple[State, list[Result], list[_Step]]:
    """One source's values in order: the end state, a result per value, and the evaluated (not stale) steps
    that can touch the alarm.

    A quiet value (no level held, no line reached) is what `evaluate` would make of it (level none, streaks
    broken, its time kept), taken short: its step is left out, as one that stays at none never touches the
    alarm, and the step before a quiet one always ends at none, so leaving it out changes no other step's
    part either (_alarm_steps)."""
    results: list[Result] = []
    steps: list[_Step] = []
    quiet_since: datetime | None = None  # the time of the last quiet value, not yet folded into `state`
    for obs in group:
        last_ts = quiet_since or state.last_ts
        if last_ts is not None and obs.ts <= last_ts:
            # Redelivered or late: evaluate ignores it, and the alarm must not show an older value either.
            results.append(Result(obs.indicator_code, obs.source_key, state.level, state.level,
                                  "旧读数，已忽略 / stale reading, ignored", stale=True))
            continue
        if state.level == "none" and not thresholds.any_triggered(obs.value):
            quiet_since = obs.ts
            results.append(Result(obs.indicator_code, obs.source_key, "none", "none", quiet_reason(obs.value)))
            continue
        if quiet_since is not None:
            state, quiet_since = State("none", {}, quiet_since), None
        state, evaluation = evaluate(thresholds, state, obs.ts, obs.value)
        results.append(Result(obs.indicator_code, obs.source_key, evaluation.level, evaluation.previous,
                              evaluation.reason))
        steps.append((len(results) - 1, obs, evaluation))
    if quiet_since is not None:
        state = State("none", {}, quiet_since)
    return state, results, steps


def _alarm_steps(steps: list[_Step]) -> list[_Step]:
    """The steps that touch the alarm: a change of level, and the last one while a level holds (its value)."""
    touching = []
    for n, step in enumerate(steps):
        evaluation = step[2]
        last = n == len(steps) - 1
        if evaluation.level != evaluation.previous or (last and evaluation.level != "none"):
            touching.append(step)
    return touching


def _apply_alarms(uow: UnitOfWork, touches: list[tuple[tuple[str, str], list[_Step]]],
                  results: list[Result | None], case_level: str) -> None:
    """Raise, update or clear the alarms of the groups whose steps touch them, their open alarms read (and
    locked) in one query."""
    held = alarms.open_alarms(session=uow.session, keys=[(source, code) for (code, source), _ in touches])
    raised = _raised_together(uow, touches, held)
    for (code, source), steps in touches:
        current = held.get((source, code))
        for n, (position, obs, evaluation) in enumerate(steps):
            if evaluation.level == "none":
                _on_clearing(uow, obs, evaluation, current)
            alarm = alarms.apply_evaluation(uow, indicator_code=obs.indicator_code, source_key=obs.source_key,
                                            region_code=obs.region_code, lng=obs.lng, lat=obs.lat,
                                            result=evaluation, known=current, looked_up=True,
                                            prepared=raised.get((source, code)) if n == 0 else None)
            current = alarm if evaluation.level != "none" else None
            if alarm is not None:
                result = results[position]
                assert result is not None
                results[position] = result._replace(alarm_id=alarm.id, opens_case=_opens_case(case_level, alarm))


def _raised_together(uow: UnitOfWork, touches: list[tuple[tuple[str, str], list[_Step]]],
                     held: dict[tuple[str, str], Alarm]) -> dict[tuple[str, str], Alarm]:
    """The alarms the batch raises first thing in their group (nothing open, a level reached), inserted in one
    statement instead of one flush each: a flood raises hundreds at once."""
    raised: dict[tuple[str, str], Alarm] = {}
    for (code, source), steps in touches:
        _, obs, evaluation = steps[0]
        if (source, code) not in held and evaluation.level != "none":
            raised[(source, code)] = alarms.new_alarm(indicator_code=code, source_key=source,
                                                      region_code=obs.region_code, lng=obs.lng, lat=obs.lat,
                                                      result=evaluation)
    if raised:
        uow.session.add_all(raised.values())
        uow.session.flush()  # their ids, for the events and messages
    return raised


def _opens_case(case_level: str, alarm: Alarm) -> bool:
    return alarm.status != "cleared" and alarm.case_report_id is None and rank(alarm.level) >= rank(case_level)


def _locked_states(session: Session, keys: Sequence[tuple[str, str]],
                   now: datetime) -> dict[tuple[str, str], tuple[int, dict[str, Any]]]:
    """The state rows (id, stored state) of (indicator, source) keys, created empty where absent (INSERT … ON
    CONFLICT DO NOTHING, so racing creators never fail), then read FOR UPDATE in key order."""
    if not keys:
        return {}
    rows = _select_states(session, keys)
    missing = [k for k in keys if k not in rows]
    if missing:
        insert = pg_insert if _is_postgresql(session) else sqlite_insert
        session.execute(insert(IndicatorState).values(
            [{"source_key": s, "indicator_code": i, "state": State().to_dict(), "updated_at": now}
             for i, s in missing]).on_conflict_do_nothing(index_elements=["source_key", "indicator_code"]))
        rows = _select_states(session, keys)
    return rows


_STATE_COLUMNS: Final = (IndicatorState.indicator_code, IndicatorState.source_key, IndicatorState.id,
                         IndicatorState.state)
# On PostgreSQL the keys go as two arrays in binary (%b: thousands of strings without escaping them in Python),
# one statement for every batch instead of an IN list compiled per batch; the states come back in one too.
_SELECT_STATES_PG: Final = ("SELECT indicator_code, source_key, id, state FROM indicator_states "
                            "WHERE indicator_code = ANY(%(codes)b::varchar[]) "
                            "AND source_key = ANY(%(sources)b::varchar[]) "
                            "ORDER BY indicator_code, source_key FOR UPDATE")
_SAVE_STATES_PG: Final = ("UPDATE indicator_states AS s SET state = v.state::json, updated_at = %(at)s "
                          "FROM unnest(%(ids)b::bigint[], %(states)b::text[]) AS v(id, state) WHERE s.id = v.id")


def _select_states(session: Session, keys: Sequence[tuple[str, str]]
                   ) -> dict[tuple[str, str], tuple[int, dict[str, Any]]]:
    wanted = set(keys)
    codes, sources = sorted({i for i, _ in keys}), sorted({s for _, s in keys})
    if _is_postgresql(session):
        rows: Any = session.connection().exec_driver_sql(_SELECT_STATES_PG, {"codes": codes, "sources": sources})
    else:
        rows = session.execute(select(*_STATE_COLUMNS)
                               .where(IndicatorState.indicator_code.in_(codes),
                                      IndicatorState.source_key.in_(sources))
                               .order_by(IndicatorState.indicator_code, IndicatorState.source_key)
                               .with_for_update())
    found = {(code, source): (row_id, _state(state)) for code, source, row_id, state in rows}
    return {k: v for k, v in found.items() if k in wanted}


def _state(stored: Any) -> dict[str, Any]:
    """A stored state as a dict, whether the driver parsed the JSON already or handed back its text."""
    return stored if isinstance(stored, dict) else orjson.loads(stored)  # type: ignore[no-any-return]


def _save_states(session: Session, saved: list[tuple[int, dict[str, Any]]], now: datetime) -> None:
    """The evaluated states written back, in one statement on PostgreSQL."""
    if not saved:
        return
    if _is_postgresql(session):
        session.connection().exec_driver_sql(_SAVE_STATES_PG, {
            "at": now, "ids": [row_id for row_id, _ in saved], "states": [json.dumps(s) for _, s in saved]})
        return
    statement = (update(IndicatorState).where(IndicatorState.id == bindparam("row_id"))
                 .values(state=bindparam("new_state"), updated_at=bindparam("at")))
    session.connection().execute(statement, [{"row_id": row_id, "new_state": state, "at": now}
                                             for row_id, state in saved])


def _is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _on_clearing(uow: UnitOfWork, obs: Observation, evaluation: Evaluation, alarm: Alarm | None) -> None:
    """Before the alarm clears: find the case triage opened for its report, so the cleared message names it,
    and note on the case that the alarm has cleared (the handler may close it; the platform does not)."""
    session = uow.session
    if alarm is None or alarm.case_report_id is None:
        return
    if alarm.case_id is None:
        report = reports.get_by_public_id(session=session, public_id=alarm.case_report_id)
        alarm.case_id = report.case_id if report is not None else None
    if alarm.case_id is not None:
        cases.add_note(uow, case_id=alarm.case_id, actor=SENSOR_PRINCIPAL.actor, role=SENSOR_PRINCIPAL.role.value,
                       text=f"告警已解除：{obs.indicator_code} 当前值 {obs.value:g}（{evaluation.reason}）/ "
                            f"the alarm has cleared",
                       data={"alarm_id": alarm.id, "value": obs.value, "observed_at": obs.ts.isoformat()})


def open_cases_for(platform: Platform, alarm_ids: Sequence[int]) -> list[str]:
    """Each alarm still at or above the case level and without a report becomes a sensor report (one intake
    transaction for all), and the report's tracking number is stored on the alarm. Idempotent: the channel id is
    `alarm:{id}`, so a repeat returns the report stored first. Returns the tracking numbers."""
    if not alarm_ids:
        return []
    with platform.db.session() as session:
        wanted = session.scalars(select(Alarm).where(Alarm.id.in_(sorted(set(alarm_ids)))).order_by(Alarm.id))
        pending = [a for a in wanted if _opens_case(platform.settings.alarm_case_level, a)]
        items = [(_report_for(session, alarm), SENSOR_PRINCIPAL) for alarm in pending]
    if not items:
        return []
    receipts = intake.receive_batch(platform, items)
    with platform.uow() as uow:
        for alarm, receipt in zip(pending, receipts, strict=True):
            row = uow.session.get(Alarm, alarm.id, with_for_update=True)
            if row is not None and row.case_report_id is None:
                row.case_report_id = receipt.public_id
        uow.commit()
    return [r.public_id for r in receipts]


def _report_for(session: Session, alarm: Alarm) -> ReportIn:
    indicator = session.get(Indicator, alarm.indicator_code)
    report = alarms.alarm_report(alarm, indicator) if indicator is not None else None
    text = report["text"] if report else f"【{alarm.level}】{alarm.indicator_code} {alarm.value:g}：{alarm.reason}"
    located = alarm.lng is not None and alarm.lat is not None
    address = None
    if not located:  # a statistic has no point: its region's name lets triage place it (approximately)
        region = regions.get(session=session, code=alarm.region_code)
        address = region.name if region is not None else alarm.region_code or "全市"
    return ReportIn(channel=Channel.SENSOR, channel_report_id=f"alarm:{alarm.id}", text=text,
                    category_code=indicator.category_code if indicator else None, lng=alarm.lng, lat=alarm.lat,
                    address=address, reported_at=alarm.level_changed_at,
                    extra={"alarm_id": alarm.id, "indicator_code": alarm.indicator_code, "level": alarm.level,
                           "source_key": alarm.source_key})


def evaluate_case_statistics(platform: Platform, now: datetime) -> list[Result]:
    """Every active `case_statistic` indicator, for its region (the indicator's own, else each region it has
    thresholds for; city-wide = the city), observed as source "stat:{indicator}:{region}". A job for the
    deadline/worker loop; a statistic with nothing to measure (None) is skipped."""
    with platform.db.session() as session:
        indicators = session.scalars(select(Indicator).where(Indicator.source_kind == "case_statistic",
                                                             Indicator.active.is_(True)).order_by(Indicator.code))
        observations: list[Observation] = []
        for indicator in indicators:
            for region in _stat_regions(session, indicator):
                value = case_statistic(session=session, statistic=indicator.statistic or "", region_code=region,
                                       now=now)
                if value is not None:
                    observations.append(Observation(indicator.code, f"stat:{indicator.code}:{region}", region,
                                                    None, None, now, value))
    return observe_many(platform, observations)


def _stat_regions(session: Session, indicator: Indicator) -> list[str]:
    if indicator.region_code:
        return [indicator.region_code]
    codes = set(session.scalars(select(Threshold.region_code).where(Threshold.indicator_code == indicator.code)))
    if "" in codes:
        codes.discard("")
        city = regions.list_regions(session=session, level="city", limit=1)
        codes.add(city[0].code if city else "")
    return sorted(codes)
