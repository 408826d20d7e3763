"""Per-minute and per-hour rollups (min/max/mean/count) of readings: a pure fold, and the job that writes them
for a time range and prunes raw readings past their retention.

Rollups are recomputed from raw readings for whole buckets and replace what was there, so running the job
twice, or again after late readings arrived, gives the same table.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final, Literal

from cityops.core.clock import as_utc
from cityops.core.errors import ValidationFailed
from cityops.platform import Platform
from cityops.sensing import service
from cityops.sensing.payload import Reading

Period = Literal["minute", "hour"]
PERIODS: Final[dict[str, timedelta]] = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1)}
DEFAULT_RETENTION_DAYS: Final = 30  # raw readings; rollups are kept


@dataclass(frozen=True)
class Rollup:
    device_id: str
    metric: str
    period: str
    start: datetime
    min: float
    max: float
    mean: float
    count: int


def bucket_start(ts: datetime, period: Period) -> datetime:
    """The UTC start of the minute or hour `ts` falls in (whole hours: every zone the city uses is whole)."""
    utc = ts.astimezone(UTC)
    if period == "minute":
        return utc.replace(second=0, microsecond=0)
    return utc.replace(minute=0, second=0, microsecond=0)


def rollup(readings: Iterable[Reading], period: Period) -> list[Rollup]:
    """One Rollup per (device, metric, bucket), sorted by them."""
    folded: dict[tuple[str, str, datetime], list[float]] = {}  # [min, max, sum, count]
    for r in readings:
        key = (r.device_id, r.metric, bucket_start(r.ts, period))
        acc = folded.get(key)
        if acc is None:
            folded[key] = [r.value, r.value, r.value, 1.0]
        else:
            acc[0], acc[1] = min(acc[0], r.value), max(acc[1], r.value)
            acc[2] += r.value
            acc[3] += 1
    return [Rollup(device, metric, period, start, acc[0], acc[1], acc[2] / acc[3], int(acc[3]))
            for (device, metric, start), acc in sorted(folded.items())]


def write_rollups(platform: Platform, *, start: datetime, end: datetime,
                  periods: Iterable[Period] = ("minute", "hour")) -> dict[str, int]:
    """Recompute the rollups of every whole bucket touching [start, end); returns rows written per period."""
    if as_utc(end) <= as_utc(start):
        raise ValidationFailed("end must be after start", field="end")
    written: dict[str, int] = {}
    for period in periods:
        first = bucket_start(start, period)
        last = bucket_start(end - timedelta(microseconds=1), period) + PERIODS[period]
        with platform.uow() as uow:
            rows = rollup(service.iter_readings(session=uow.session, start=first, end=last), period)
            service.replace_rollups(session=uow.session, period=period, start=first, end=last,
                                    rows=[r.__dict__ for r in rows])
            uow.commit()
        written[period] = len(rows)
    return written


def prune_readings(platform: Platform, *, keep_days: int = DEFAULT_RETENTION_DAYS) -> int:
    """Delete raw readings older than `keep_days` before now; returns how many."""
    if keep_days < 1:
        raise ValidationFailed("keep at least one day of raw readings", field="keep_days")
    with platform.uow() as uow:
        deleted = service.delete_readings_before(session=uow.session,
                                                 before=uow.clock.now() - timedelta(days=keep_days))
        uow.commit()
    return deleted
