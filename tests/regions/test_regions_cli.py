"""`cityops regions …` from the command line: locate prints JSON, errors print zh-CN and English and exit non-zero."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from cityops.cli.main import app
from cityops.regions.coords import wgs84_to_gcj02

runner = CliRunner()
DATA = files("cityops.demo") / "data"


pytestmark = pytest.mark.usefixtures("cli_env")


def run(*args: str) -> typer.testing.Result:
    return runner.invoke(app, ["regions", *args])


def test_locate_prints_the_path_as_json(zibo_data_dir: Path):
    result = run("locate", "118.0691", "36.8137", "--data-dir", str(zibo_data_dir))
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert (body["lng"], body["lat"]) == (118.0691, 36.8137)
    assert [step["code"] for step in body["path"]][:2] == ["370300", "370303"]
    assert body["path"][1]["name"] == "张店区" and body["path"][-1]["level"] == "grid"


def test_locate_accepts_gcj02_and_answers_in_wgs84(zibo_data_dir: Path):
    gcj = wgs84_to_gcj02(118.1974, 36.1293)
    result = run("locate", str(gcj[0]), str(gcj[1]), "--crs", "gcj02", "--data-dir", str(zibo_data_dir))
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert (body["lng"], body["lat"]) == pytest.approx((118.1974, 36.1293), abs=1e-7)
    assert body["path"][1]["code"] == "370323"


def test_locate_outside_every_region_explains_in_both_languages_and_fails(zibo_data_dir: Path):
    result = run("locate", "120.0", "30.0", "--data-dir", str(zibo_data_dir))
    assert result.exit_code != 0
    assert result.stdout == ""
    assert "不在任何辖区内" in result.stderr and "outside every region" in result.stderr
    assert "regions.point_outside" in result.stderr


def test_import_and_import_divisions_print_what_changed_keeping_polygons(zibo_data_dir: Path, tmp_path: Path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "cityops.db").write_bytes((zibo_data_dir / "cityops.db").read_bytes())
    areas = tmp_path / "zibo_areas.csv"
    areas.write_bytes((DATA / "zibo_areas.csv").read_bytes())
    result = run("import-divisions", str(areas), "--data-dir", str(empty))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"created": 0, "updated": 0, "unchanged": 8, "version": 1, "total": 8}
    districts = tmp_path / "d.geojson"
    districts_text = (DATA / "zibo_districts_gcj02.geojson").read_text().replace("淄川区", "淄川")
    districts.write_text(districts_text)
    result = run("import", str(districts), "--level", "district", "--crs", "gcj02", "--parent", "370300",
                 "--data-dir", str(empty))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"created": 0, "updated": 1, "unchanged": 7, "version": 2, "total": 8}


def test_import_of_a_bad_file_names_the_field_and_fails(zibo_data_dir: Path, tmp_path: Path):
    bad = tmp_path / "bad.geojson"
    bad.write_text(json.dumps({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {},
                                                                            "geometry": None}]}))
    result = run("import", str(bad), "--level", "district", "--data-dir", str(zibo_data_dir))
    assert result.exit_code != 0
    assert "features[0].properties.adcode" in result.stderr
