"""What benchmarks share: a free loopback port, a fresh migrated database of their own, the API server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

from cityops.core import migrate
from cityops.core.db import create_db_engine


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fresh_database(db_url: str | None, data_dir: Path) -> tuple[str, str | None]:
    """(URL, schema to drop afterwards): a new schema on PostgreSQL, or a SQLite file in `data_dir`; migrated."""
    schema = None
    if db_url and db_url.startswith("postgresql"):
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        with create_engine(db_url, isolation_level="AUTOCOMMIT").connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        db_url = f"{db_url}?options=-csearch_path%3D{schema}"
    url = db_url or f"sqlite:///{data_dir / 'cityops.db'}"
    engine = create_db_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return url, schema


def start_api(url: str, port: int, workers: int, data_dir: Path, *, pool_size: int = 8) -> subprocess.Popen[bytes]:
    """`uvicorn` with `workers` API processes on 127.0.0.1 (no background workers), once it accepts connections."""
    env = {**os.environ, "CITYOPS_DATABASE_URL": url, "CITYOPS_DATA_DIR": str(data_dir),
           "CITYOPS_SECRET_KEY": uuid.uuid4().hex * 2, "CITYOPS_LOG_LEVEL": "WARNING", "CITYOPS_RUN_WORKERS": "false",
           "CITYOPS_DB_POOL_SIZE": str(pool_size)}
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "cityops.web.asgi:app", "--host", "127.0.0.1",
                               "--port", str(port), "--workers", str(workers), "--log-level", "warning",
                               "--no-access-log"], env=env)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                time.sleep(1.0)  # every worker process up, not just the first
                return server
        except OSError:
            time.sleep(0.3)
    server.terminate()
    raise SystemExit("the server did not start")


def drop_schema(db_url: str, schema: str | None) -> None:
    if schema:
        with create_engine(db_url, isolation_level="AUTOCOMMIT").connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
