"""Business actions on indicators and alarms: one transaction each, with its audit record and bus message.

Files are parsed before the transaction opens, so a bad file never takes the write lock, and a file with one
bad row changes nothing.
"""

from __future__ import annotations

from importlib import resources
from typing import Final

from cityops.audit import service as audit
from cityops.indicators import alarms, catalogue, service
from cityops.indicators.models import Alarm
from cityops.indicators.service import ImportCounts
from cityops.org.access import Principal
from cityops.platform import Platform

CHANGED_SUBJECT: Final = "cityops.indicators.changed"


def import_catalogue(platform: Platform, *, indicators: bytes | None, thresholds: bytes | None,
                     actor: str) -> tuple[ImportCounts, int]:
    """Indicators (upserted by code) and thresholds (each indicator-and-region set replaced), all or nothing.
    Returns the indicator counts and the number of thresholds written."""
    parsed_indicators = catalogue.parse_indicators(indicators) if indicators else []
    parsed_thresholds = catalogue.parse_thresholds(thresholds) if thresholds else []
    with platform.uow() as uow:
        at = uow.clock.now()
        counts = service.upsert_indicators(session=uow.session, indicators=parsed_indicators, at=at, actor=actor)
        uow.session.flush()  # new indicators must be visible to the thresholds' check
        written = service.replace_thresholds(session=uow.session, thresholds=parsed_thresholds, at=at,
                                             actor=actor) if parsed_thresholds else 0
        summary = {"created": counts.created, "updated": counts.updated, "thresholds": written}
        audit.append(uow.session, at=at, actor=actor, action="indicators.import", entity_type="indicator_catalogue",
                     entity_id="catalogue", data=summary)
        uow.publish(CHANGED_SUBJECT, summary, key=f"indicators:{at.isoformat()}")
        uow.commit()
    return counts, written


def import_demo_catalogue(platform: Platform, *, actor: str) -> tuple[ImportCounts, int]:
    """The demo city's (Zibo's) indicators and thresholds, shipped in indicators/data/."""
    data = resources.files("cityops.indicators").joinpath("data")
    return import_catalogue(platform, indicators=data.joinpath("indicators_zibo.csv").read_bytes(),
                            thresholds=data.joinpath("thresholds_zibo.csv").read_bytes(), actor=actor)


def acknowledge_alarm(platform: Platform, principal: Principal, *, alarm_id: int) -> Alarm:
    with platform.uow() as uow:
        alarm = alarms.acknowledge(uow, principal, alarm_id=alarm_id)
        uow.commit()
    return alarm
