"""`cityops catalog …` and `cityops routing …`: JSON out, errors in zh-CN and English with a non-zero exit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from cityops.cli.main import app
from tests.catalog.conftest import load_places
from tests.catalog.test_catalog_importers import NATIVE
from tests.cityfixture import STREET_A
from tests.conftest import small_city_data_dir

runner = CliRunner()


pytestmark = pytest.mark.usefixtures("cli_env")


@pytest.fixture
def data_dir(sqlite_template: Path, tmp_path: Path) -> Path:
    """A data folder whose SQLite database holds the small city's regions and departments."""
    return small_city_data_dir(sqlite_template, tmp_path / "data", load_places)


def run(data_dir: Path, *args: str) -> typer.testing.Result:
    return runner.invoke(app, [*args, "--data-dir", str(data_dir)])


def test_import_list_export_and_import_again_changes_nothing(data_dir: Path, tmp_path: Path):
    source = tmp_path / "catalog.csv"
    source.write_bytes(NATIVE.encode("gb18030"))
    imported = run(data_dir, "catalog", "import", str(source))
    assert imported.exit_code == 0, imported.output
    assert json.loads(imported.stdout) == {"created": 2, "updated": 0, "unchanged": 0, "total": 2}
    listed = json.loads(run(data_dir, "catalog", "list", "--kind", "component").stdout)
    assert [c["code"] for c in listed] == ["BJ01", "BJ01-01"]
    output = tmp_path / "out.xlsx"
    exported = run(data_dir, "catalog", "export", "--format", "xlsx", "--output", str(output))
    assert exported.exit_code == 0 and json.loads(exported.stdout)["count"] == 2
    again = run(data_dir, "catalog", "import", str(output))
    assert json.loads(again.stdout)["unchanged"] == 2


def test_urban_import_maps_department_names_through_a_json_file(data_dir: Path, tmp_path: Path):
    source = tmp_path / "urban.csv"
    source.write_text("matter_kind,standard_code,category,standard_name,default_department_local_config\n"
                      "管理部件,01001,市政公用设施,供水井盖,市政公用部门\n", encoding="utf-8")
    mapping = tmp_path / "map.json"
    mapping.write_text(json.dumps({"市政公用部门": "370300-zjj"}, ensure_ascii=False), encoding="utf-8")
    result = run(data_dir, "catalog", "import", str(source), "--format", "urban", "--department-map", str(mapping))
    assert result.exit_code == 0, result.output
    listed = json.loads(run(data_dir, "catalog", "list").stdout)
    assert [(c["code"], c["default_department_code"]) for c in listed] == [("C01", None), ("C01001", "370300-zjj")]


def test_a_bad_file_explains_the_row_in_both_languages_and_fails(data_dir: Path, tmp_path: Path):
    source = tmp_path / "bad.csv"
    source.write_text("code,name,kind,severity\nX1,测试,matter,9\n", encoding="utf-8")
    result = run(data_dir, "catalog", "import", str(source))
    assert result.exit_code != 0 and result.stdout == ""
    assert "rows[0].severity" in result.stderr and "validation.invalid" in result.stderr
    assert "不正确" in result.stderr and "is invalid" in result.stderr


def test_routing_import_and_preview(data_dir: Path, tmp_path: Path):
    source = tmp_path / "catalog.csv"
    source.write_text(NATIVE, encoding="utf-8")
    run(data_dir, "catalog", "import", str(source))
    rules = tmp_path / "rules.csv"
    rules.write_text("category_code,region_code,department_code\nBJ01-01,370303,370303-cgj\n", encoding="utf-8")
    imported = run(data_dir, "routing", "import", str(rules))
    assert json.loads(imported.stdout)["created"] == 1, imported.output
    preview = run(data_dir, "routing", "preview", "--category", "BJ01-01", "--region", STREET_A + "001001")
    decision = json.loads(preview.stdout)["decision"]
    assert (decision["department_code"], decision["fallback"]) == ("370303-cgj", False)
    fallback = json.loads(run(data_dir, "routing", "preview", "--category", "BJ01-01", "--region", "370302").stdout)
    assert fallback["decision"]["reason"] == "category default"
    unknown = run(data_dir, "routing", "preview", "--category", "NOPE", "--region", "370302")
    assert unknown.exit_code != 0 and "not_found" in unknown.stderr
