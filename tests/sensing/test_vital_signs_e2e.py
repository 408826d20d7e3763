"""City vital signs end to end against the real Mosquitto: the simulator floods a river gauge over MQTT,
ingestion stores and evaluates every reading, one alarm steps up yellow → red, the alarm's report is triaged
into a case routed to the water department, and when the water falls the alarm clears, once, with a note on the
case. Also: a device that goes silent raises its offline warning, and clears it when it reports again."""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from cityops.cases import service as cases
from cityops.cases.models import Case
from cityops.core.clock import FixedClock
from cityops.indicators import alarms, flows, service
from cityops.indicators.evaluate import State, evaluate
from cityops.indicators.models import Alarm
from cityops.platform import Platform
from cityops.sensing import ingest, offline
from cityops.sensing.simulate import Anomaly, SimDevice, publish
from cityops.triage import worker
from tests.cityfixture import CITY
from tests.conftest import need_server
from tests.indicators.test_engine import FLOOD, WATER_DEPT, water_city
from tests.sensing.conftest import seed_devices
from tests.sensing.test_mqtt import BROKER, T0, body, consuming, stored_levels, until

RIVER = "T-XFH-LEVEL-MAX"
INDICATORS = f"""code,name,unit,department_code,domain,source_kind,metric,aggregate,device_type,region_code,\
window_minutes,category_code
{RIVER},孝妇河水位最高值,m,{WATER_DEPT},water,sensor_aggregate,water_level,max,water_level_gauge,{CITY},10,{FLOOD}
T-OFFLINE,感知设备离线,台,{WATER_DEPT},safety,device_status,,,,,,
"""
# yellow: 5 minutes at or above 3.2 m, clears below 3.0; red: 3 readings in a row at or above 4.0, clears below 3.8.
THRESHOLDS = f"""indicator_code,region_code,level,comparison,value,clear_value,duration_minutes,repetitions
{RIVER},,yellow,above,3.2,3.0,5,1
{RIVER},,red,above,4.0,3.8,0,3
T-OFFLINE,,yellow,above,1,0.5,0,1
"""


@pytest.fixture
def river_city(platform: Platform) -> int:
    department_id = water_city(platform)
    seed_devices(platform)  # WL-001, a water level gauge in grid A
    flows.import_catalogue(platform, indicators=INDICATORS.encode(), thresholds=THRESHOLDS.encode(), actor="test")
    return department_id


def river_alarms(platform: Platform, code: str = RIVER) -> list[Alarm]:
    with platform.db.session() as session:
        return list(session.scalars(select(Alarm).where(Alarm.indicator_code == code).order_by(Alarm.id)))


def test_a_simulated_flood_raises_one_alarm_that_opens_a_routed_case_and_clears_once(
        platform: Platform, river_city: int) -> None:
    need_server("Mosquitto", 1883)
    gauge = SimDevice("WL-001", "water_level_gauge")
    # 12 s of run at 10 readings/s, the gauge's clock 300× faster: an hour of river, a reading every 30 s.
    # The water rises 2 m → 4.5 m over 24 minutes and falls back over the next 24.
    flood = Anomaly("flood", "WL-001", rise_s=4.8, fall_s=4.8, peak=4.5)
    triaging = threading.Event()

    def triage_worker() -> None:  # what `cityops worker` does beside ingestion
        while not triaging.is_set():
            worker.drain(platform)
            triaging.wait(0.2)

    async def scenario() -> int:
        async with consuming(platform) as stats:
            sent = await publish(BROKER, [gauge], rate=10, duration=12, anomalies=[flood], start=T0,
                                 time_scale=300)
            await until(lambda: stats.stored == sent.sent, "every simulated reading", timeout=30)
            return sent.sent

    thread = threading.Thread(target=triage_worker)
    thread.start()
    try:
        sent = asyncio.run(scenario())
    finally:
        triaging.set()
        thread.join()
    assert sent == 120 and len(stored_levels(platform)) == 120

    (alarm,) = river_alarms(platform)  # exactly one alarm for the whole flood
    assert alarm.status == "cleared" and alarm.peak_level == "red" and alarm.source_key == "device:WL-001"
    with platform.db.session() as session:
        steps = [(e.kind, e.level) for e in alarms.events(session=session, alarm_id=alarm.id)]
        # stepped up through yellow to red, down to yellow, cleared: no flapping at either line
        assert steps == [("raised", "yellow"), ("changed", "red"), ("changed", "yellow"), ("cleared", "none")]
        assert alarm.case_report_id is not None and alarm.case_id is not None
        case = session.get(Case, alarm.case_id)
        assert case is not None and case.department_id == river_city  # routed to the water department
        assert case.category_code == FLOOD
        # (water_city's own river indicator watches the same gauge; its alarm's report fuses into this case)
        notes = [t for t in cases.timeline(session=session, case_id=case.id)
                 if t.action == "note" and t.data.get("alarm_id") == alarm.id]
        assert len(notes) == 1 and "告警已解除" in (notes[0].reason or "")


def test_a_silent_device_is_marked_offline_and_warned_about_until_it_reports_again(
        platform: Platform, river_city: int) -> None:
    clock = platform.clock
    assert isinstance(clock, FixedClock)
    first = ingest.ingest(platform, "WL-001", body(0, 2.1), source="test")
    assert first.accepted
    clock.advance(timedelta(seconds=150))  # 2.5 × the 60 s interval: late, not yet silent
    assert offline.mark_offline(platform) == []
    assert river_alarms(platform, "T-OFFLINE") == []

    clock.advance(timedelta(seconds=60))  # 3.5 × the interval
    (change,) = offline.mark_offline(platform)
    assert (change.device_id, change.status) == ("WL-001", "offline")
    (warning,) = river_alarms(platform, "T-OFFLINE")
    assert (warning.status, warning.level, warning.source_key) == ("active", "yellow", "device:WL-001")
    assert (warning.lng, warning.lat) == (118.01, 36.61)  # at the device, for the map
    assert offline.mark_offline(platform) == []  # once offline, not warned about again
    assert len(river_alarms(platform, "T-OFFLINE")) == 1

    clock.advance(timedelta(seconds=30))
    back = ingest.ingest(platform, "WL-001", body(5, 2.1), source="test")
    assert back.came_online
    (cleared,) = river_alarms(platform, "T-OFFLINE")
    assert cleared.status == "cleared" and cleared.peak_level == "yellow"


def test_a_batch_of_readings_moves_the_alarm_as_its_readings_one_by_one_would(
        platform: Platform, river_city: int) -> None:
    values = [3.0, 3.3, 3.4, 4.1, 4.2, 4.3, 3.9, 3.1]
    times = [T0 + timedelta(minutes=m) for m in range(len(values))]
    raw = json.dumps({"readings": [{"ts": t.isoformat(), "metrics": {"water_level": v}}
                                   for t, v in zip(times, values, strict=True)]}).encode()
    result = ingest.ingest(platform, "WL-001", raw, source="test")
    assert (result.readings, result.stored) == (8, 8)
    # What the readings give one by one: red on the third reading at or above 4.0, held at 3.9 (above its
    # 3.8 clear line), and yellow at 3.1 (yellow's 3.2 line held 5 minutes by then; 3.1 is not below 3.0).
    with platform.db.session() as session:
        thresholds = service.thresholds_for(session=session, indicator_code=RIVER, region_code=CITY)
    assert thresholds is not None
    state, changes = State(), []
    for t, v in zip(times, values, strict=True):
        state, step = evaluate(thresholds, state, t, v)
        if step.changed:
            changes.append(step.level)
    assert changes == ["red", "yellow"]
    (alarm,) = river_alarms(platform)
    with platform.db.session() as session:
        kinds = [e.kind for e in alarms.events(session=session, alarm_id=alarm.id)]
    assert (alarm.level, alarm.peak_level, alarm.value, alarm.observed_at) == ("yellow", "red", 3.1, times[-1])
    assert kinds == ["raised", "changed"]
