"""The device registry: import from CSV/XLSX, all or nothing, each device located in its grid."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from cityops.audit.models import AuditRecord
from cityops.cli.main import app as cli
from cityops.core.errors import ValidationFailed
from cityops.core.tabular import write_xlsx
from cityops.platform import Platform
from cityops.sensing import flows, service
from cityops.sensing.importers import parse_devices
from cityops.sensing.models import Device
from tests.cityfixture import STREET_A, STREET_B, build_small_city
from tests.sensing.conftest import DEVICES_CSV, seed_devices

HEADER = "device_id,type_code,model,lng,lat,department_code,interval_s\n"


def test_import_locates_each_device_and_takes_type_defaults(platform: Platform) -> None:
    build_small_city(platform)
    seed_devices(platform)
    with platform.db.session() as session:
        devices = {d.device_id: d for d in service.list_devices(session=session)}
        audits = session.scalar(select(func.count()).select_from(AuditRecord)
                                .where(AuditRecord.action == "sensing.devices_imported"))
    assert devices["WL-001"].region_code == STREET_A + "001001"  # the grid
    assert devices["AQ-001"].region_code == STREET_B + "001001"
    assert devices["MT-001"].region_code == STREET_A  # in the street, outside its community
    assert devices["WL-001"].interval_s == 60
    assert devices["AQ-001"].interval_s == 3600  # the air-quality station's default
    assert {d.status for d in devices.values()} == {"unknown"}
    assert devices["MT-001"].model is None and devices["MT-001"].department_code is None
    assert audits == 1


def test_importing_again_updates_changed_rows_only(platform: Platform) -> None:
    build_small_city(platform)
    seed_devices(platform)
    moved = DEVICES_CSV.replace("118.01,36.61", "118.21,36.62")
    counts = flows.import_devices(platform, moved.encode(), actor="test")
    assert (counts.created, counts.updated, counts.unchanged) == (0, 1, 2)
    with platform.db.session() as session:
        assert service.get_or_raise(session=session, device_id="WL-001").region_code == STREET_B + "001001"


def test_xlsx_import(platform: Platform) -> None:
    build_small_city(platform)
    xlsx = write_xlsx(["device_id", "type_code", "lng", "lat"], [["RG-1", "rain_gauge", 118.01, 36.61]], title="设备")
    assert flows.import_devices(platform, xlsx, actor="test").created == 1
    with platform.db.session() as session:
        assert service.get_or_raise(session=session, device_id="RG-1").interval_s == 300


def test_a_device_outside_the_city_fails_the_whole_file(platform: Platform) -> None:
    build_small_city(platform)
    bad = HEADER + "OK-1,rain_gauge,,118.01,36.61,,\nFAR-1,rain_gauge,,100.0,20.0,,\n"
    with pytest.raises(ValidationFailed) as caught:
        flows.import_devices(platform, bad.encode(), actor="test")
    assert caught.value.field == "rows[1].lng"
    with platform.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Device)) == 0


@pytest.mark.parametrize(("row", "field", "words"), [
    ("X 1,rain_gauge,,118,36,,", "rows[0].device_id", "device id"),
    ("a/b,rain_gauge,,118,36,,", "rows[0].device_id", "device id"),
    ("X1,radar,,118,36,,", "rows[0].type_code", "unknown device type"),
    ("X1,rain_gauge,,east,36,,", "rows[0].lng", "lng"),
    ("X1,rain_gauge,,118,95,,", "rows[0].lat", "lat"),
    ("X1,rain_gauge,,118,36,,-5", "rows[0].interval_s", "seconds"),
    ("X1,rain_gauge,,118,36,,\nX1,rain_gauge,,118,36,,", "rows[1].device_id", "twice"),
])
def test_file_errors_name_row_and_column(row: str, field: str, words: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_devices((HEADER + row + "\n").encode())
    assert caught.value.field == field
    line = 2 + int(field[5])  # the header is line 1
    assert words in (caught.value.detail or "") and f"line {line}:" in (caught.value.detail or "")


def test_missing_column_is_named() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_devices(b"device_id,type_code,lng\nX1,rain_gauge,118\n")
    assert caught.value.field == "header" and "'lat'" in (caught.value.detail or "")


def test_cli_import_devices(platform: Platform, tmp_path: Path, cli_env: None) -> None:
    build_small_city(platform)
    data_dir = platform.settings.data_dir
    path = tmp_path / "devices.csv"
    path.write_text(DEVICES_CSV, encoding="utf-8")
    result = CliRunner().invoke(cli, ["sensing", "import-devices", str(path), "--data-dir", str(data_dir)],
                                env={"CITYOPS_DATABASE_URL": platform.settings.database_url})
    assert result.exit_code == 0, result.output
    assert '"created": 3' in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "X1,radar,,118,36,,\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["sensing", "import-devices", str(bad), "--data-dir", str(data_dir)],
                                env={"CITYOPS_DATABASE_URL": platform.settings.database_url})
    assert result.exit_code == 2
    assert "rows[0].type_code" in result.output
