"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

SQLite: the schema is migrated once into a template file, copied for each test.
PostgreSQL: the schema is migrated once into a schema of its own for this run, emptied between tests.
A test that needs a server skips when it is down, except under CITYOPS_REQUIRE_SERVICES=1 (CI), where it fails.
"""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import create_engine, text

from cityops.core import migrate
from cityops.core.clock import FixedClock
from cityops.core.db import create_db_engine
from cityops.core.settings import Settings, reset_settings_cache
from cityops.model_registry import metadata
from cityops.platform import Platform, build_platform
from cityops.web.app import create_app

PG_URL = os.environ.get("CITYOPS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"
REQUIRE_SERVICES = os.environ.get("CITYOPS_REQUIRE_SERVICES") == "1"
START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)  # a fixed "now" for platform fixtures


@pytest.fixture(autouse=True, scope="session")
def cheap_password_hashing() -> Iterator[None]:
    """Still argon2, with the smallest cost: tests hash hundreds of passwords and prove nothing by waiting."""
    from argon2 import PasswordHasher

    from cityops.core import security

    original = security._hasher
    security._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    yield
    security._hasher = original


def server_up(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def need_server(name: str, port: int) -> None:
    if server_up("127.0.0.1", port):
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"{name} is not running on 127.0.0.1:{port} (CITYOPS_REQUIRE_SERVICES=1)")
    pytest.skip(f"{name} is not running on 127.0.0.1:{port}")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "cityops.db"
    engine = create_db_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_schema_url() -> Iterator[str]:
    need_server("PostgreSQL", 5432)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    engine = create_db_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _empty_postgres(url: str) -> None:
    engine = create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "cityops.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_schema_url")
    _empty_postgres(url)
    return url


def make_settings(data_dir: Path, database_url: str, **overrides: object) -> Settings:
    # Tests run the triage worker themselves (worker.drain), so background workers would only race them.
    values: dict[str, object] = {"data_dir": data_dir, "database_url": database_url,
                                 "secret_key": SecretStr(TEST_SECRET), "bus_url": "memory://", "run_workers": False,
                                 "cockpit_warm_up": False}
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def platform(database_url: str, tmp_path: Path) -> Iterator[Platform]:
    built = build_platform(make_settings(tmp_path / "data", database_url), clock=FixedClock(START))
    try:
        yield built
    finally:
        built.close()


@pytest.fixture
def client(platform: Platform) -> Iterator[TestClient]:
    """The API over the platform fixture, as a browser or program on 127.0.0.1 would call it."""
    with TestClient(create_app(platform), base_url="http://127.0.0.1") as test_client:
        yield test_client


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """For CLI tests: --data-dir must decide the database, whatever the environment running the tests says."""
    for name in ("CITYOPS_DATABASE_URL", "CITYOPS_DATA_DIR", "CITYOPS_LANGUAGE", "CITYOPS_TRIAGE_MODEL_PATH"):
        monkeypatch.delenv(name, raising=False)
    reset_settings_cache()
    yield
    reset_settings_cache()


def small_city_data_dir(template: Path, folder: Path, *loaders: Callable[[Platform], None]) -> Path:
    """A data folder for CLI tests: a copy of the migrated SQLite template, filled by `loaders`."""
    from tests.regions.conftest import make_platform

    folder.mkdir()
    shutil.copy(template, folder / "cityops.db")
    platform = make_platform(folder, f"sqlite:///{folder / 'cityops.db'}")
    try:
        for load in loaders:
            load(platform)
    finally:
        platform.close()
    return folder
