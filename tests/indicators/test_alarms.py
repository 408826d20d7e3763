"""Alarms: one open alarm per (source, indicator), level steps, clearing, acknowledging, bus messages."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from cityops.core.errors import Conflict, NotFound, PermissionDenied
from cityops.core.models import OutboxMessage
from cityops.indicators import alarms, catalogue, flows
from cityops.indicators.evaluate import Rule, State, ThresholdSet, evaluate
from cityops.indicators.models import Alarm, Indicator
from cityops.org.access import Principal
from cityops.org.roles import Role
from cityops.platform import Platform
from tests.cityfixture import PASSWORD, STREET_A, STREET_B, build_small_city
from tests.indicators.matrix import AT, raise_alarm
from tests.web.conftest import login

RIVER = ThresholdSet((Rule("yellow", "above", 3.2, 3.0), Rule("orange", "above", 3.6, 3.4),
                      Rule("red", "above", 4.0, 3.8)))
GRID_A = STREET_A + "001001"


def feed(platform: Platform, values: list[float], *, source_key: str = "gauge-1") -> list[int | None]:
    """Evaluate the values one minute apart and apply each result, as the evaluation worker would."""
    state, touched = State(), []
    for i, value in enumerate(values):
        state, result = evaluate(RIVER, state, AT + timedelta(minutes=i), value)
        with platform.uow() as uow:
            alarm = alarms.apply_evaluation(uow, indicator_code="WAT-XFH-LEVEL-MAX", source_key=source_key,
                                            region_code=GRID_A, lng=118.05, lat=36.65, result=result)
            uow.commit()
            touched.append(alarm.id if alarm else None)
    return touched


def staff(role: Role, region: str = STREET_A) -> Principal:
    return Principal(kind="staff", id=7, name=f"{role.value}@{region}", role=role, region_code=region,
                     scope_prefix=region)


def alarm_subjects(platform: Platform) -> list[str]:
    with platform.db.session() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.subject.like("cityops.alarms.%"))
                               .order_by(OutboxMessage.id))
        return [row.subject for row in rows]


def test_one_alarm_steps_up_and_down_then_clears(platform: Platform):
    touched = feed(platform, [2.0, 3.3, 3.25, 3.7, 4.2, 3.9, 3.5, 3.1, 2.9, 3.1])
    assert touched[0] is None
    alarm_id = touched[1]
    assert set(touched[1:9]) == {alarm_id}  # the same alarm all the way, never a second one
    assert touched[9] is None  # 3.1 after clearing is in the band: nothing new is raised
    with platform.db.session() as session:
        alarm = session.get(Alarm, alarm_id)
        assert alarm is not None
        assert (alarm.status, alarm.level, alarm.peak_level, alarm.open_key) == ("cleared", "none", "red", None)
        assert alarm.cleared_at == AT + timedelta(minutes=8)
        history = [(e.kind, e.level) for e in alarms.events(session=session, alarm_id=alarm_id)]
    assert history == [("raised", "yellow"), ("changed", "orange"), ("changed", "red"), ("changed", "orange"),
                       ("changed", "yellow"), ("cleared", "none")]
    assert alarm_subjects(platform) == ["cityops.alarms.raised", *["cityops.alarms.changed"] * 4,
                                        "cityops.alarms.cleared"]


def test_a_cleared_alarm_does_not_block_the_next_one(platform: Platform):
    first = feed(platform, [3.5, 2.0])[0]
    second = feed(platform, [3.5], source_key="gauge-1")[0]
    other_source = feed(platform, [3.5], source_key="gauge-2")[0]
    assert len({first, second, other_source}) == 3
    with platform.db.session() as session:
        open_alarms = session.scalars(select(Alarm).where(Alarm.status != "cleared")).all()
    assert sorted(a.source_key for a in open_alarms) == ["gauge-1", "gauge-2"]


def test_the_database_refuses_a_second_open_alarm(platform: Platform):
    raise_alarm(platform, source_key="gauge-1", region_code=GRID_A)
    with pytest.raises(IntegrityError), platform.uow() as uow:
        uow.session.add(Alarm(open_key=alarms.open_key("gauge-1", "WAT-XFH-LEVEL-MAX"),
                              indicator_code="WAT-XFH-LEVEL-MAX", source_key="gauge-1", region_code=GRID_A,
                              level="red", peak_level="red", status="active", value=4.5, reason="dup",
                              raised_at=AT, observed_at=AT, level_changed_at=AT))
        uow.commit()


def test_acknowledge_by_role_and_region(platform: Platform):
    alarm_id = raise_alarm(platform, source_key="gauge-1", region_code=GRID_A)
    with pytest.raises(PermissionDenied), platform.uow() as uow:
        alarms.acknowledge(uow, staff(Role.HANDLER), alarm_id=alarm_id)
    with pytest.raises(NotFound):
        flows.acknowledge_alarm(platform, staff(Role.DISPATCHER, STREET_B), alarm_id=alarm_id)
    acknowledged = flows.acknowledge_alarm(platform, staff(Role.LEADER), alarm_id=alarm_id)
    assert (acknowledged.status, acknowledged.acknowledged_by) == ("acknowledged", f"staff:7:leader@{STREET_A}")
    with pytest.raises(Conflict):
        flows.acknowledge_alarm(platform, staff(Role.ADMIN), alarm_id=alarm_id)
    assert alarm_subjects(platform)[-1] == "cityops.alarms.acknowledged"


def test_a_worse_level_needs_acknowledging_again_a_milder_one_does_not(platform: Platform):
    alarm_id = raise_alarm(platform, source_key="gauge-1", region_code=GRID_A, level="orange", value=3.7)
    flows.acknowledge_alarm(platform, staff(Role.DISPATCHER), alarm_id=alarm_id)
    raise_alarm(platform, source_key="gauge-1", region_code=GRID_A, level="yellow", value=3.3,
                at=AT + timedelta(minutes=1))
    with platform.db.session() as session:
        assert session.get(Alarm, alarm_id).status == "acknowledged"  # type: ignore[union-attr]
    raise_alarm(platform, source_key="gauge-1", region_code=GRID_A, level="red", value=4.3,
                at=AT + timedelta(minutes=2))
    with platform.db.session() as session:
        alarm = session.get(Alarm, alarm_id)
        assert alarm is not None and (alarm.status, alarm.level, alarm.acknowledged_by) == ("active", "red", None)


def test_alarm_report_is_plain_data_for_intake(platform: Platform):
    data = Path(catalogue.__file__).parent / "data"
    flows.import_catalogue(platform, indicators=(data / "indicators_zibo.csv").read_bytes(), thresholds=None,
                           actor="test")
    alarm_id = raise_alarm(platform, source_key="gauge-1", region_code=GRID_A, level="red", value=4.25)
    with platform.db.session() as session:
        alarm, indicator = session.get(Alarm, alarm_id), session.get(Indicator, "WAT-XFH-LEVEL-MAX")
        assert alarm is not None and indicator is not None
        report = alarms.alarm_report(alarm, indicator)
    assert report["text"].startswith("【红色预警】孝妇河水位最高值 4.25m")
    assert (report["lng"], report["lat"], report["region_code"]) == (118.05, 36.65, GRID_A)
    assert (report["category_hint"], report["department_hint"], report["channel"]) == ("SJ04-02", "370300-slj",
                                                                                        "sensor")
    assert report["external_key"] == f"alarm:{alarm_id}"


def test_api_lists_in_scope_and_acknowledges(platform: Platform, client: TestClient):
    build_small_city(platform)
    own = raise_alarm(platform, source_key="gauge-a", region_code=GRID_A)
    other = raise_alarm(platform, source_key="gauge-b", region_code=STREET_B + "001001")
    login(client, "a_handler", PASSWORD)
    listed = client.get("/api/v1/alarms", params={"status": "open"})
    assert listed.status_code == 200 and [a["id"] for a in listed.json()["items"]] == [own]
    assert client.post(f"/api/v1/alarms/{own}/acknowledge").status_code == 403
    login(client, "a_dispatcher", PASSWORD)
    assert client.post(f"/api/v1/alarms/{other}/acknowledge").status_code == 404
    done = client.post(f"/api/v1/alarms/{own}/acknowledge")
    assert done.status_code == 200 and done.json()["status"] == "acknowledged"
    assert client.post(f"/api/v1/alarms/{own}/acknowledge").status_code == 409
    assert client.get("/api/v1/alarms", params={"status": "bogus"}).status_code in (400, 422)
    assert client.get("/api/v1/alarms", params={"status": "acknowledged"}).json()["total"] == 1
