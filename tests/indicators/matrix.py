"""Alarms for the scope matrix (tests/web/test_scope_matrix.py): one open alarm in each street of the small
city and one in the other district, so a street user's alarm list has something to leak."""

from __future__ import annotations

from datetime import UTC, datetime

from cityops.indicators import alarms
from cityops.indicators.evaluate import Result
from cityops.platform import Platform
from tests.cityfixture import STREET_A, STREET_B, STREET_C, SmallCity

AT = datetime(2026, 3, 1, 7, 0, tzinfo=UTC)


def raise_alarm(platform: Platform, *, source_key: str, region_code: str, level: str = "yellow",
                value: float = 3.3, indicator_code: str = "WAT-XFH-LEVEL-MAX", at: datetime = AT) -> int:
    result = Result(level, "none", value, at, f"{value:g} test")  # type: ignore[arg-type]
    with platform.uow() as uow:
        alarm = alarms.apply_evaluation(uow, indicator_code=indicator_code, source_key=source_key,
                                        region_code=region_code, lng=118.05, lat=36.65, result=result)
        uow.commit()
    assert alarm is not None
    return alarm.id


def seed_alarms(platform: Platform, city: SmallCity) -> None:
    for street in (STREET_A, STREET_B, STREET_C):
        raise_alarm(platform, source_key=f"gauge-{street}", region_code=f"{street}001001")
