"""Importing and exporting the indicator catalogue and thresholds, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cityops.cli.main import app
from cityops.core.errors import ValidationFailed
from cityops.core.tabular import read_table
from cityops.indicators import catalogue, flows, service, statistics
from cityops.indicators.catalogue import INDICATOR_COLUMNS, THRESHOLD_COLUMNS
from cityops.platform import Platform
from tests.cases.matrix import seed_cases
from tests.cityfixture import CITY, DISTRICT, STREET_A, build_small_city

DATA = Path(catalogue.__file__).parent / "data"
HEADER = ",".join(INDICATOR_COLUMNS)
GAUGE = "WAT-X,孝妇河水位最高值,River level,m,370300-slj,water,sensor_aggregate,water_level,max,,,xfh,10,,SJ04-02,true"


def indicators_file(*rows: str) -> bytes:
    return "\n".join([HEADER, *rows]).encode()


def thresholds_file(*rows: str) -> bytes:
    return "\n".join([",".join(THRESHOLD_COLUMNS), *rows]).encode()


@pytest.mark.parametrize(("row", "field"), [
    (GAUGE.replace(",max,", ",median,"), "rows[0].aggregate"),
    (GAUGE.replace(",water,", ",weather,"), "rows[0].domain"),
    (GAUGE.replace(",xfh,", ",,"), "rows[0].device_type"),  # neither a device group nor type + region
    (GAUGE.replace(",xfh,10,", ",xfh,,"), "rows[0].window_minutes"),
    (GAUGE.replace("WAT-X,孝妇河水位最高值", "WAT-X,"), "rows[0].name"),
    (GAUGE.replace(",true", ",maybe"), "rows[0].active"),
])
def test_bad_indicator_rows_name_row_and_column(row: str, field: str):
    with pytest.raises(ValidationFailed) as error:
        catalogue.parse_indicators(indicators_file(GAUGE.replace("WAT-X", "WAT-OK"), row))
    assert error.value.field == field.replace("rows[0]", "rows[1]")
    assert "line 3" in str(error.value.detail)


def test_case_statistic_needs_a_known_statistic():
    row = "PUB-X,每小时上报量,,件,370300-yjzx,public_service,case_statistic,,,,370300,,60,reports_per_day,,"
    with pytest.raises(ValidationFailed) as error:
        catalogue.parse_indicators(indicators_file(row))
    assert error.value.field == "rows[0].statistic"


def test_duplicate_codes_are_refused():
    with pytest.raises(ValidationFailed) as error:
        catalogue.parse_indicators(indicators_file(GAUGE, GAUGE))
    assert error.value.field == "rows[1].code"


@pytest.mark.parametrize(("rows", "field"), [
    (("WAT-X,,yellow,above,3.2,3.4,0,1",), "rows[0].clear_value"),
    (("WAT-X,,yellow,above,3.2,3.0,0,1", "WAT-X,,red,above,3.0,2.8,0,1"), "rows[1].value"),
    (("WAT-X,,amber,above,3.2,3.0,0,1",), "rows[0].level"),
    (("WAT-X,,yellow,above,high,3.0,0,1",), "rows[0].value"),
    (("WAT-X,,yellow,above,3.2,3.0,0,0",), "rows[0].repetitions"),
])
def test_bad_threshold_rows_name_row_and_column(rows: tuple[str, ...], field: str):
    with pytest.raises(ValidationFailed) as error:
        catalogue.parse_thresholds(thresholds_file(*rows))
    assert error.value.field == field


def test_demo_catalogue_loads(platform: Platform):
    counts, written = flows.import_catalogue(platform, indicators=(DATA / "indicators_zibo.csv").read_bytes(),
                                             thresholds=(DATA / "thresholds_zibo.csv").read_bytes(), actor="test")
    assert counts.created >= 30 and written >= 40
    with platform.db.session() as session:
        domains = {i.domain for i in service.all_indicators(session=session)}
        assert domains == set(catalogue.DOMAINS)
        # 淄川区 has its own, lower river lines; 张店区 falls back to the city-wide default.
        zichuan = service.thresholds_for(session=session, indicator_code="WAT-XFH-LEVEL-MAX", region_code="370302001")
        zhangdian = service.thresholds_for(session=session, indicator_code="WAT-XFH-LEVEL-MAX", region_code="370303")
        assert zichuan is not None and [r.value for r in zichuan.rules] == [3.0, 3.8]
        assert zhangdian is not None and [r.level for r in zhangdian.rules] == ["blue", "yellow", "orange", "red"]
        assert service.thresholds_for(session=session, indicator_code="PUB-HOSPITAL-BEDS", region_code="370303") \
            is None
    again, _ = flows.import_catalogue(platform, indicators=(DATA / "indicators_zibo.csv").read_bytes(),
                                      thresholds=None, actor="test")
    assert (again.created, again.updated, again.unchanged) == (0, 0, counts.created)


def test_bad_file_changes_nothing(platform: Platform):
    with pytest.raises(ValidationFailed) as error:
        flows.import_catalogue(platform, indicators=indicators_file(GAUGE),
                               thresholds=thresholds_file("WAT-NOPE,,yellow,above,3.2,3.0,0,1"), actor="test")
    assert error.value.field == "rows[0].indicator_code"
    with platform.db.session() as session:
        assert service.all_indicators(session=session) == []


def test_thresholds_replace_their_set_whole(platform: Platform):
    flows.import_catalogue(platform, indicators=indicators_file(GAUGE), actor="test",
                           thresholds=thresholds_file("WAT-X,,yellow,above,3.2,3.0,10,1", "WAT-X,,red,above,4,3.8,0,3"))
    flows.import_catalogue(platform, indicators=None, actor="test",
                           thresholds=thresholds_file("WAT-X,,orange,above,3.6,3.4,0,1"))
    with platform.db.session() as session:
        rules = service.thresholds_for(session=session, indicator_code="WAT-X", region_code="370303")
    assert rules is not None and [(r.level, r.value) for r in rules.rules] == [("orange", 3.6)]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_cli_export_imports_back_to_the_same_catalogue(fmt: str, platform: Platform, tmp_path: Path,
                                                       cli_env: None, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CITYOPS_DATABASE_URL", platform.settings.database_url)
    data_dir = str(platform.settings.data_dir)
    runner = CliRunner()
    loaded = runner.invoke(app, ["indicators", "import", "--demo", "--data-dir", data_dir])
    assert loaded.exit_code == 0, loaded.output
    out, rules = tmp_path / f"ind.{fmt}", tmp_path / f"thr.{fmt}"
    exported = runner.invoke(app, ["indicators", "export", "--format", fmt, "--output", str(out),
                                   "--thresholds", str(rules), "--data-dir", data_dir])
    assert exported.exit_code == 0, exported.output
    assert catalogue.parse_indicators(out.read_bytes()) == sorted(
        catalogue.parse_indicators((DATA / "indicators_zibo.csv").read_bytes()), key=lambda i: i.code)
    assert sorted(catalogue.parse_thresholds(rules.read_bytes()), key=repr) == sorted(
        catalogue.parse_thresholds((DATA / "thresholds_zibo.csv").read_bytes()), key=repr)
    assert len(read_table(out.read_bytes()).rows) >= 30
    again = runner.invoke(app, ["indicators", "import", str(out), "--thresholds", str(rules), "--data-dir", data_dir])
    assert again.exit_code == 0, again.output
    assert '"updated": 0' in again.output and '"created": 0' in again.output
    listed = runner.invoke(app, ["indicators", "list", "--domain", "water", "--data-dir", data_dir])
    assert "孝妇河水位最高值" in listed.output and "PM2.5" not in listed.output


def test_cli_reports_a_bad_file(platform: Platform, tmp_path: Path, cli_env: None, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CITYOPS_DATABASE_URL", platform.settings.database_url)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(indicators_file(GAUGE.replace(",max,", ",median,")))
    result = CliRunner().invoke(app, ["indicators", "import", str(bad), "--data-dir", str(platform.settings.data_dir)])
    assert result.exit_code != 0
    assert "rows[0].aggregate" in result.output


def test_every_catalogue_statistic_can_be_computed():
    assert set(catalogue.STATISTICS) == set(statistics.STATISTICS)


def test_case_statistics_come_from_the_cases(platform: Platform):
    seed_cases(platform, build_small_city(platform))
    now = platform.clock.now() + timedelta(minutes=30)
    with platform.db.session() as session:
        def value(statistic: str, region: str, at: datetime = now) -> float | None:
            return statistics.case_statistic(session=session, statistic=statistic, region_code=region, now=at)

        assert value("reports_per_hour", STREET_A) == 4  # street A's four reports became four cases
        assert value("reports_per_hour", DISTRICT) == 8
        assert value("reports_per_hour", STREET_A, now + timedelta(hours=2)) == 0
        assert value("overdue_cases", STREET_A) == 1
        assert value("on_time_closure_rate_today", DISTRICT) is None  # nothing was due today: no false 0 %
        # The city's code is no prefix of its districts' codes: city-wide figures still cover them all.
        assert value("reports_per_hour", CITY) == 8
        assert value("on_time_closure_rate_today", CITY) is None
        with pytest.raises(ValidationFailed):
            value("reports_per_day", STREET_A)
