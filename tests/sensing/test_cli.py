"""`cityops sensing mark-offline | rollup | prune` against the platform's database."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from typer.testing import CliRunner

from cityops.cli.main import app as cli
from cityops.platform import Platform
from cityops.sensing import service
from cityops.sensing.ingest import ingest
from tests.cityfixture import build_small_city
from tests.sensing.conftest import seed_devices


def run(platform: Platform, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["sensing", *args, "--data-dir", str(platform.settings.data_dir)],
                                env={"CITYOPS_DATABASE_URL": platform.settings.database_url})
    return result.exit_code, result.output


def test_maintenance_commands(platform: Platform, cli_env: None) -> None:
    build_small_city(platform)
    seed_devices(platform)
    body = json.dumps({"ts": "2020-01-01T08:00:00+08:00", "metrics": {"water_level": 2.5}}).encode()
    assert ingest(platform, "WL-001", body, source="test").accepted
    with platform.uow() as uow:  # the commands use the system clock: make "long ago" hold whatever today is
        service.get_or_raise(session=uow.session, device_id="WL-001").last_seen_at = datetime(2020, 1, 1, tzinfo=UTC)
        uow.commit()
    code, out = run(platform, "rollup", "--from", "2020-01-01T00:00+08:00", "--to", "2020-01-02T00:00+08:00")
    assert code == 0, out
    assert json.loads(out) == {"minute": 1, "hour": 1}
    code, out = run(platform, "rollup", "--from", "2020-01-01T00:00", "--to", "2020-01-02T00:00+08:00")
    assert code == 2 and "from" in out
    code, out = run(platform, "prune", "--keep-days", "30")  # the reading is from 2020
    assert code == 0, out
    assert json.loads(out) == {"deleted": 1}
    code, out = run(platform, "mark-offline")  # last heard from in 2020
    assert code == 0, out
    assert [c["device_id"] for c in json.loads(out)] == ["WL-001"]
