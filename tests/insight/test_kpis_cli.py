"""`cityops cases kpis` on a SQLite data folder: the known answers city-wide, files in every format, and errors
that name the option at fault."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import typer
from openpyxl import load_workbook
from typer.testing import CliRunner

from cityops.core import migrate
from cityops.core.db import create_db_engine
from cityops.insight import cli as insight_cli
from cityops.platform import build_platform
from tests.cityfixture import CITY, STREET_A, STREET_B, build_small_city
from tests.conftest import make_settings
from tests.insight.history import END, GRID_A, START, insert_history, scenario
from tests.insight.test_kpis import BY_HAND

runner = CliRunner()
# Mounted the way `cityops cases kpis` mounts it.
cli = typer.Typer()
cli.add_typer(insight_cli.app, name="cases")
PERIOD = ["--from", "2026-03-01", "--to", "2026-04-01"]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("kpis")
    url = f"sqlite:///{folder / 'cityops.db'}"
    engine = create_db_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    platform = build_platform(make_settings(folder, url))
    try:
        city = build_small_city(platform)
        insert_history(platform, scenario(city.departments[f"{STREET_A}-office"],
                                          city.departments[f"{STREET_B}-office"]))
    finally:
        platform.close()
    return folder


pytestmark = pytest.mark.usefixtures("cli_env")


def kpis(data_dir: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(cli, ["cases", "kpis", *PERIOD, "--data-dir", str(data_dir), *args])
    return result.exit_code, result.stdout, result.stderr


def test_json_on_stdout_is_the_known_answers_for_the_whole_city(data_dir: Path):
    code, out, err = kpis(data_dir)
    assert code == 0, err
    body = json.loads(out)
    assert body["region"]["region_code"] == CITY
    assert {m["key"]: (m["numerator"], m["denominator"]) for m in body["measures"]} == BY_HAND


def test_csv_for_one_street_is_written_to_the_output_file(data_dir: Path, tmp_path: Path):
    target = tmp_path / "street.csv"
    code, _, err = kpis(data_dir, "--region", STREET_A, "--format", "csv", "--output", str(target))
    assert code == 0, err
    content = target.read_bytes()
    assert content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    decided = [f for f in scenario() if f.region_code == GRID_A and START <= f.received_at < END
               and (f.registered_at is not None or f.rejected)]
    valid = next(r for r in rows if r[0].startswith("有效上报率"))
    assert valid[1:3] == [str(sum(not f.rejected for f in decided)), str(len(decided))] == ["6", "6"]

def test_xlsx_by_department_name_opens_with_openpyxl(data_dir: Path, tmp_path: Path):
    target = tmp_path / "k.xlsx"
    code, _, err = kpis(data_dir, "--department", "车站街道办事处", "--format", "xlsx", "--output", str(target))
    assert code == 0, err
    about = load_workbook(target)["说明 About"]
    assert [row[1].value for row in about.iter_rows(min_row=2, max_row=3)] == [f"{CITY} 淄博市", "车站街道办事处"]


@pytest.mark.parametrize(("args", "option"), [
    (["--from", "2026-13-01"], "--from"),
    (["--to", "2026-02-01"], "--to"),
    (["--format", "xlsx"], "--format"),
    (["--format", "pdf"], "--format"),
])
def test_bad_options_fail_naming_the_option(data_dir: Path, args: list[str], option: str):
    code, _, err = kpis(data_dir, *args)
    assert code == 2
    assert option in err


def test_an_unknown_region_is_a_clear_error_not_a_traceback(data_dir: Path):
    code, _, err = kpis(data_dir, "--region", "370399")
    assert code == 2
    assert "370399" in err and "Traceback" not in err
