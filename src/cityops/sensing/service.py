"""Sensing queries and single writes. Keyword-only, typed, never commit: the caller's UnitOfWork does."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, NamedTuple

from sqlalchemy import Engine, delete, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from cityops.core.errors import NotFound
from cityops.core.models import DeadLetter
from cityops.sensing import partitions
from cityops.sensing.models import Device, ReadingRollup, SensorReading
from cityops.sensing.payload import Reading
from cityops.sensing.schemas import DeviceInput

_CHUNK: Final = 500  # keeps IN (...) lists well under SQLite's bound-parameter limit
STATUSES: Final = ("online", "offline", "unknown")


@dataclass(frozen=True)
class UpsertCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


# --- devices --------------------------------------------------------------------------------------


def get(*, session: Session, device_id: str) -> Device | None:
    return session.get(Device, device_id)


def get_or_raise(*, session: Session, device_id: str) -> Device:
    device = get(session=session, device_id=device_id)
    if device is None:
        raise NotFound(f"no device {device_id!r}", field="device_id")
    return device


def by_ids(*, session: Session, device_ids: Iterable[str]) -> dict[str, Device]:
    wanted = sorted(set(device_ids))
    found: dict[str, Device] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start: start + _CHUNK]
        found.update((d.device_id, d) for d in session.scalars(select(Device).where(Device.device_id.in_(chunk))))
    return found


class HeardDevice(NamedTuple):
    """What ingestion needs of a device: its type and place (for evaluation) and its status before now."""

    device_id: str
    type_code: str
    group_code: str | None
    region_code: str
    lng: float
    lat: float
    status: str


_HEARD_COLUMNS: Final = (Device.device_id, Device.type_code, Device.group_code, Device.region_code, Device.lng,
                         Device.lat, Device.status)
# On PostgreSQL the ids go as one array parameter, in binary (%b: no escaping of thousands of strings in Python),
# and the statement stays the same for every batch; an IN list would be compiled and converted afresh.
_HEARD_PG: Final = ("SELECT device_id, type_code, group_code, region_code, lng, lat, status FROM devices "
                    "WHERE device_id = ANY(%(ids)b::varchar[])")
_MARK_HEARD_PG: Final = ("UPDATE devices SET status = 'online', last_seen_at = %(at)s "
                         "WHERE device_id = ANY(%(ids)b::varchar[])")


def heard_devices(*, session: Session, device_ids: Sequence[str]) -> dict[str, HeardDevice]:
    """The registered devices among `device_ids`, read as plain rows (no ORM objects: ingestion asks for
    thousands a second)."""
    if not device_ids:
        return {}
    if _is_postgresql(session):
        rows = session.connection().exec_driver_sql(_HEARD_PG, {"ids": list(device_ids)})
        return {row[0]: HeardDevice(*row) for row in rows}
    found: dict[str, HeardDevice] = {}
    wanted = sorted(set(device_ids))
    for start in range(0, len(wanted), _CHUNK):
        query = select(*_HEARD_COLUMNS).where(Device.device_id.in_(wanted[start: start + _CHUNK]))
        found.update((row[0], HeardDevice(*row)) for row in session.execute(query))
    return found


def mark_heard(*, session: Session, device_ids: Sequence[str], at: datetime) -> None:
    """The devices are online and were last heard from `at`, in one statement (chunks on SQLite)."""
    if not device_ids:
        return
    if _is_postgresql(session):
        session.connection().exec_driver_sql(_MARK_HEARD_PG, {"ids": sorted(device_ids), "at": at})
        return
    wanted = sorted(device_ids)
    for start in range(0, len(wanted), _CHUNK):
        session.execute(update(Device).where(Device.device_id.in_(wanted[start: start + _CHUNK]))
                        .values(status="online", last_seen_at=at))


def _is_postgresql(session: Session) -> bool:
    bind = session.get_bind()
    return (bind.dialect if isinstance(bind, Engine) else bind.engine.dialect).name == "postgresql"


def list_devices(*, session: Session, region_prefix: str | None = None, status: str | None = None,
                 limit: int = 100, offset: int = 0) -> Sequence[Device]:
    query = select(Device)
    if region_prefix:
        query = query.where(Device.region_code.startswith(region_prefix, autoescape=True))
    if status:
        query = query.where(Device.status == status)
    return session.scalars(query.order_by(Device.device_id).limit(limit).offset(offset)).all()


def upsert_devices(*, session: Session, devices: Sequence[DeviceInput], regions: Sequence[str],
                   at: datetime) -> UpsertCounts:
    """Create or update devices (with the region each was located in); status and last_seen are kept."""
    stored = by_ids(session=session, device_ids=[d.device_id for d in devices])
    created = updated = 0
    for device, region_code in zip(devices, regions, strict=True):
        values = _values(device, region_code)
        row = stored.get(device.device_id)
        if row is None:
            session.add(Device(**values, status="unknown", created_at=at, updated_at=at))
            created += 1
        elif any(getattr(row, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(row, key, value)
            row.updated_at = at
            updated += 1
    session.flush()
    return UpsertCounts(created, updated, len(devices) - created - updated)


def _values(device: DeviceInput, region_code: str) -> dict[str, Any]:
    return {"device_id": device.device_id, "type_code": device.type_code, "model": device.model,
            "lng": device.lng, "lat": device.lat, "region_code": region_code,
            "department_code": device.department_code, "interval_s": device.interval_s,
            "group_code": device.group_code}


def devices_in_group(*, session: Session, group_code: str) -> Sequence[Device]:
    """The devices of one group (the catalogue's `device_group`, e.g. xiaofuhe_gauges), by device id."""
    return session.scalars(select(Device).where(Device.group_code == group_code)
                           .order_by(Device.device_id)).all()


def set_status(*, session: Session, device_ids: Sequence[str], status: str) -> None:
    for start in range(0, len(device_ids), _CHUNK):
        chunk = list(device_ids[start: start + _CHUNK])
        session.execute(update(Device).where(Device.device_id.in_(chunk)).values(status=status))


def watched_devices(*, session: Session) -> Sequence[Device]:
    """Devices that have reported at least once and are not already offline: the ones that can go silent."""
    return session.scalars(select(Device).where(Device.status != "offline", Device.last_seen_at.is_not(None))
                           .order_by(Device.device_id)).all()


# --- readings -------------------------------------------------------------------------------------


def insert_readings(*, session: Session, readings: Sequence[Reading]) -> set[tuple[str, str, datetime]] | None:
    """add_readings for ingestion: None when every reading was new and none repeated another (the common case,
    told by the row count on PostgreSQL), so ingestion builds no set of keys."""
    if readings and _is_postgresql(session):
        return _add_readings_postgresql(session, readings, keys_if_all_new=False)
    stored = add_readings(session=session, readings=readings)
    return None if len(stored) == len(readings) else stored


def add_readings(*, session: Session, readings: Sequence[Reading]) -> set[tuple[str, str, datetime]]:
    """Insert readings, skipping any already stored (same device, metric and ts: a redelivered message), also
    repeats within `readings`. Returns the (device_id, metric, ts) keys stored now.

    One cached statement executed for many rows (SQLAlchemy batches them into multi-row INSERTs): ORM objects
    per reading, or compiling a fresh VALUES list per batch, would cost more than the database work itself."""
    if not readings:
        return set()
    if _is_postgresql(session):
        stored = _add_readings_postgresql(session, readings, keys_if_all_new=True)
        assert stored is not None
        return stored
    dialect_insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (dialect_insert(SensorReading)
                 .on_conflict_do_nothing(index_elements=["device_id", "metric", "ts"])
                 .returning(SensorReading.device_id, SensorReading.metric, SensorReading.ts))
    rows = [{"device_id": r.device_id, "metric": r.metric, "ts": r.ts, "value": r.value} for r in readings]
    return {(device_id, metric, ts) for device_id, metric, ts in session.connection().execute(statement, rows)}


# PostgreSQL: the readings are copied (binary COPY, rows written in C) into a temporary table of the session and
# inserted from it in one statement; a parameter per value, or arrays escaped in Python, cost more than the
# database's work. The table empties itself at commit.
_READINGS_IN_PG: Final = ("CREATE TEMPORARY TABLE IF NOT EXISTS readings_in (device_id varchar(64), "
                          "metric varchar(40), ts timestamptz, value float8) ON COMMIT DELETE ROWS")
_COPY_READINGS_PG: Final = "COPY readings_in (device_id, metric, ts, value) FROM STDIN (FORMAT BINARY)"
_INSERT_READINGS_PG: Final = ("INSERT INTO readings (device_id, metric, ts, value) SELECT device_id, metric, ts, "
                              "value FROM readings_in ON CONFLICT (device_id, metric, ts) DO NOTHING")


def _add_readings_postgresql(session: Session, readings: Sequence[Reading], *, keys_if_all_new: bool
                             ) -> set[tuple[str, str, datetime]] | None:
    """Usually every reading is new and the row count says so (None, unless `keys_if_all_new`); when it does not
    (a redelivery, or a reading twice in the batch), the insert is undone to its savepoint and made again
    returning the keys it stored."""
    connection = session.connection().connection.driver_connection
    assert connection is not None
    with connection.cursor() as cursor:
        cursor.execute(_READINGS_IN_PG)
        cursor.execute("DELETE FROM readings_in")  # empty (it empties at commit) unless called twice in a transaction
        with cursor.copy(_COPY_READINGS_PG) as copy:
            copy.set_types(["varchar", "varchar", "timestamptz", "float8"])
            for reading in readings:
                copy.write_row(reading)
        cursor.execute("SAVEPOINT readings_in")
        cursor.execute(_INSERT_READINGS_PG)
        stored: set[tuple[str, str, datetime]] | None = None
        if cursor.rowcount != len(readings):
            cursor.execute("ROLLBACK TO SAVEPOINT readings_in")
            cursor.execute(_INSERT_READINGS_PG + " RETURNING device_id, metric, ts")
            stored = {(device_id, metric, ts) for device_id, metric, ts in cursor.fetchall()}
        elif keys_if_all_new:
            stored = {(r.device_id, r.metric, r.ts) for r in readings}
        cursor.execute("RELEASE SAVEPOINT readings_in")
    return stored


def add_dead_letter(*, session: Session, source: str, subject: str, key: str | None, raw: bytes, error: str,
                    at: datetime) -> None:
    session.add(DeadLetter(source=_text(source)[:100], subject=_text(subject)[:200],
                           key=_text(key)[:200] if key else None,
                           payload=_text(raw.decode("utf-8", errors="backslashreplace")), error=_text(error),
                           deliveries=1, created_at=at))


def _text(value: str) -> str:
    """The column is text: undecodable bytes are already \\xNN escapes; lone surrogates (from a str that came
    from anywhere) and NUL (valid UTF-8, but PostgreSQL refuses it in text) are escaped the same way."""
    return value.encode("utf-8", errors="backslashreplace").decode("utf-8").replace("\x00", "\\x00")


def readings(*, session: Session, device_id: str, metric: str | None = None, start: datetime | None = None,
             end: datetime | None = None) -> Sequence[SensorReading]:
    query = select(SensorReading).where(SensorReading.device_id == device_id)
    if metric is not None:
        query = query.where(SensorReading.metric == metric)
    if start is not None:
        query = query.where(SensorReading.ts >= start)
    if end is not None:
        query = query.where(SensorReading.ts < end)
    return session.scalars(query.order_by(SensorReading.metric, SensorReading.ts)).all()


def iter_readings(*, session: Session, start: datetime, end: datetime) -> Iterator[Reading]:
    """Every reading with start <= ts < end, streamed in pages so a day of a big city fits in memory."""
    query = (select(SensorReading.device_id, SensorReading.metric, SensorReading.ts, SensorReading.value)
             .where(SensorReading.ts >= start, SensorReading.ts < end)
             .execution_options(yield_per=5000))
    for device_id, metric, ts, value in session.execute(query):
        yield Reading(device_id, metric, ts, value)


def delete_readings_before(*, session: Session, before: datetime) -> int:
    """Delete readings with ts < before. On PostgreSQL the monthly partitions lying wholly before the cut-off
    are dropped first (no row-by-row delete, no bloat); the rest of the range is deleted row by row."""
    dropped = 0
    for name in partitions.droppable_partitions(session, before=before):
        dropped += int(session.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one())
        session.execute(text(f'DROP TABLE "{name}"'))
    result = session.execute(delete(SensorReading).where(SensorReading.ts < before))
    return dropped + int(getattr(result, "rowcount", 0) or 0)


# --- rollups --------------------------------------------------------------------------------------


def replace_rollups(*, session: Session, period: str, start: datetime, end: datetime,
                    rows: Sequence[dict[str, Any]]) -> None:
    """The rollups of [start, end) for one period, replaced whole, so recomputing a range is idempotent."""
    session.execute(delete(ReadingRollup).where(ReadingRollup.period == period, ReadingRollup.start >= start,
                                                ReadingRollup.start < end))
    for first in range(0, len(rows), _CHUNK):
        session.execute(insert(ReadingRollup), list(rows[first: first + _CHUNK]))


def rollups(*, session: Session, device_id: str, metric: str, period: str) -> Sequence[ReadingRollup]:
    query = select(ReadingRollup).where(ReadingRollup.device_id == device_id, ReadingRollup.metric == metric,
                                        ReadingRollup.period == period)
    return session.scalars(query.order_by(ReadingRollup.start)).all()
