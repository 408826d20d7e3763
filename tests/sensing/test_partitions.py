"""Raw readings partitioned by month on PostgreSQL (migration 0005, sensing/partitions.py), and the models still
matching the migrations on both backends."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, func, inspect, select, text
from sqlalchemy.orm import Session

from cityops.core import migrate
from cityops.core.clock import FixedClock
from cityops.core.db import create_db_engine
from cityops.model_registry import metadata
from cityops.platform import Platform, build_platform
from cityops.sensing import partitions, service
from cityops.sensing.models import SensorReading
from cityops.sensing.payload import Reading
from tests.conftest import PG_URL, START, _empty_postgres, make_settings


@pytest.fixture
def pg_platform(postgres_schema_url: str, tmp_path: Path) -> Iterator[Platform]:
    _empty_postgres(postgres_schema_url)
    built = build_platform(make_settings(tmp_path / "data", postgres_schema_url), clock=FixedClock(START))
    try:
        yield built
    finally:
        built.close()


def _partition_of(session: Session, device_id: str, ts: datetime) -> str:
    return str(session.execute(text("SELECT tableoid::regclass::text FROM readings WHERE device_id = :d AND ts = :t"),
                               {"d": device_id, "t": ts}).scalar_one())


def _children(session: Session) -> set[str]:
    return set(session.scalars(text("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                                    "WHERE i.inhparent = 'readings'::regclass")).all())


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(SensorReading)) or 0


def test_readings_is_partitioned_by_range_of_ts_after_upgrade(pg_platform: Platform) -> None:
    with pg_platform.db.session() as session:
        strategy, key = session.execute(text(
            "SELECT p.partstrat, a.attname FROM pg_partitioned_table p JOIN pg_attribute a "
            "ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0] "
            "WHERE p.partrelid = 'readings'::regclass")).one()
        pk = session.scalars(text(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
            "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = 'readings'::regclass AND i.indisprimary "
            "ORDER BY array_position(i.indkey::int2[], a.attnum)")).all()
        ts_index = session.scalar(text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_readings_ts'"))
        children = _children(session)
    assert (strategy, key) == ("r", "ts")
    assert pk == ["device_id", "metric", "ts"]
    assert ts_index is not None and "(ts)" in ts_index
    now = datetime.now(UTC)  # the migration made the months around the day it ran (earlier ones may be pruned)
    assert "readings_default" in children
    assert {partitions.partition_name(partitions.month_start(now, k)) for k in range(3)} <= children


def test_a_reading_is_routed_into_its_months_partition_and_stored_once(pg_platform: Platform) -> None:
    ts = START + timedelta(days=3, minutes=5)
    with pg_platform.uow() as uow:
        partitions.ensure_partitions(uow.session, now=START)
        first = service.add_readings(session=uow.session, readings=[Reading("WL-001", "water_level", ts, 1.5),
                                                                     Reading("WL-001", "water_level", ts, 1.5)])
        again = service.add_readings(session=uow.session, readings=[Reading("WL-001", "water_level", ts, 9.9)])
        uow.commit()
    assert first == {("WL-001", "water_level", ts)}
    assert again == set()
    with pg_platform.db.session() as session:
        assert _count(session) == 1
        assert _partition_of(session, "WL-001", ts) == f"readings_p{START:%Y%m}"
        assert [r.value for r in service.readings(session=session, device_id="WL-001")] == [1.5]


def test_ensure_partitions_creates_the_coming_months_once(pg_platform: Platform) -> None:
    now = datetime(2031, 11, 20, 12, 0, tzinfo=UTC)  # across a year end
    with pg_platform.uow() as uow:
        created = partitions.ensure_partitions(uow.session, now=now)
        again = partitions.ensure_partitions(uow.session, now=now)
        uow.commit()
    assert created == ["readings_p203111", "readings_p203112", "readings_p203201"]
    assert again == []
    with pg_platform.db.session() as session:
        assert set(created) <= _children(session)
        assert partitions.ensure_partitions(session, now=now, months_ahead=3) == ["readings_p203202"]


def test_a_month_the_default_partition_already_holds_is_left_to_it(pg_platform: Platform) -> None:
    early = datetime(2035, 6, 10, tzinfo=UTC)  # e.g. a device with a wrong clock, before the month existed
    with pg_platform.uow() as uow:
        service.add_readings(session=uow.session, readings=[Reading("TF-1", "speed", early, 40.0)])
        created = partitions.ensure_partitions(uow.session, now=early)
        uow.commit()
    assert created == ["readings_p203507", "readings_p203508"]
    with pg_platform.db.session() as session:
        assert _partition_of(session, "TF-1", early) == "readings_default"
        assert _count(session) == 1


def test_pruning_drops_whole_old_months_and_deletes_the_rest(pg_platform: Platform) -> None:
    jan, feb_early, feb_late = (datetime(2020, 1, 5, tzinfo=UTC), datetime(2020, 2, 3, tzinfo=UTC),
                                datetime(2020, 2, 25, tzinfo=UTC))
    with pg_platform.uow() as uow:
        partitions.ensure_partitions(uow.session, now=jan, months_ahead=1)
        service.add_readings(session=uow.session, readings=[
            Reading("RG-1", "rain", jan, 1.0), Reading("RG-1", "rain", jan + timedelta(hours=1), 2.0),
            Reading("RG-1", "rain", feb_early, 3.0), Reading("RG-1", "rain", feb_late, 4.0)])
        uow.commit()
    with pg_platform.uow() as uow:
        deleted = service.delete_readings_before(session=uow.session, before=datetime(2020, 2, 15, tzinfo=UTC))
        uow.commit()
    assert deleted == 3
    with pg_platform.db.session() as session:
        children = _children(session)
        assert "readings_p202001" not in children and "readings_p202002" in children
        assert [r.ts for r in service.readings(session=session, device_id="RG-1")] == [feb_late]


@pytest.fixture
def fresh_pg_url() -> Iterator[str]:
    """A schema of its own, migrated by the test itself."""
    from tests.conftest import need_server

    need_server("PostgreSQL", 5432)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_upgrade_from_0004_keeps_the_readings(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}" if backend == "sqlite" else request.getfixturevalue("fresh_pg_url")
    engine = create_db_engine(url)
    now = datetime.now(UTC).replace(microsecond=0)
    old = datetime(2001, 1, 1, tzinfo=UTC)
    try:
        migrate.upgrade(engine, "0004")
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO readings (device_id, metric, ts, value) VALUES "
                              "('WL-1', 'water_level', :now, 1.0), ('WL-1', 'water_level', :old, 2.0)"),
                         {"now": now if backend == "postgresql" else now.replace(tzinfo=None),
                          "old": old if backend == "postgresql" else old.replace(tzinfo=None)})
        migrate.upgrade(engine)
        with Session(engine) as session:
            assert [(r.ts, r.value) for r in service.readings(session=session, device_id="WL-1")] \
                == [(old, 2.0), (now, 1.0)]
            columns = {c["name"] for c in _inspect_columns(session, "readings")}
            assert "id" not in columns
            assert "group_code" in {c["name"] for c in _inspect_columns(session, "devices")}
            if backend == "postgresql":
                assert {partitions.partition_name(partitions.month_start(now, k)) for k in range(-2, 3)} \
                    | {"readings_default"} == _children(session)
                assert _partition_of(session, "WL-1", now) == f"readings_p{now:%Y%m}"
                assert _partition_of(session, "WL-1", old) == "readings_default"
        migrate.downgrade(engine, "0004")  # and back, rows kept
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM readings")).scalar_one() == 2
    finally:
        engine.dispose()


def _inspect_columns(session: Session, table: str) -> list[dict[str, object]]:
    return [dict(c) for c in inspect(session.connection()).get_columns(table)]


def test_the_models_match_the_migrations(database_url: str) -> None:
    """What autogenerate would write for a database at head: nothing (partitions are not models)."""
    engine = create_db_engine(database_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={
                "compare_type": True,
                "include_name": lambda name, kind, _parent: kind != "table" or name in metadata.tables})
            diff = compare_metadata(context, metadata)
    finally:
        engine.dispose()
    assert diff == []
