"""`cityops datahub define / import` at a terminal, and the address standard (placed in a region of the city)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from cityops.cli.main import app as cli_app
from cityops.core.settings import reset_settings_cache
from cityops.datahub import flows
from tests.datahub.conftest import OWNER, PERSON_SCHEMA, Hub, people_csv, person

ADDRESS_SCHEMA: dict[str, Any] = {"fields": [
    {"name": "site", "type": "string", "constraints": {"required": True}},
    {"name": "address", "type": "string", "standard": "address", "piClass": "address"}]}


@pytest.fixture
def cli(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("CITYOPS_DATABASE_URL", hub.platform.settings.effective_database_url)
    monkeypatch.setenv("CITYOPS_DATA_DIR", str(hub.platform.settings.data_dir))
    reset_settings_cache()
    yield CliRunner()
    reset_settings_cache()


def _define(cli: CliRunner, tmp_path: Path, code: str, schema: dict[str, Any]) -> None:
    description = tmp_path / f"{code}.json"
    description.write_text(json.dumps({"code": code, "name": "测试", "owner_department": OWNER, "schema": schema},
                                      ensure_ascii=False), encoding="utf-8")
    result = cli.invoke(cli_app, ["datahub", "define", str(description)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["outcome"] == "created"


def test_a_good_file_imports_and_a_bad_one_exits_2_naming_its_errors_and_writing_a_report(
        cli: CliRunner, tmp_path: Path) -> None:
    _define(cli, tmp_path, "cli.people", PERSON_SCHEMA)
    good = tmp_path / "good.csv"
    good.write_bytes(people_csv([person(n) for n in range(50)]))
    result = cli.invoke(cli_app, ["datahub", "import", "cli.people", str(good)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["created"] == 50

    rows = [person(n) for n in range(50, 60)]
    rows[4]["age"] = "二十"
    bad = tmp_path / "bad.csv"
    bad.write_bytes(people_csv(rows))
    report = tmp_path / "errors.xlsx"
    result = cli.invoke(cli_app, ["datahub", "import", "cli.people", str(bad), "--errors-xlsx", str(report)])
    assert result.exit_code == 2
    assert "第 6 行" in result.stderr and "age" in result.stderr and "type.integer" in result.stderr
    sheet = load_workbook(report).active
    assert sheet is not None
    assert [row[:3] for row in sheet.iter_rows(min_row=2, values_only=True)] == [(6, "age", "type.integer")]
    listed = cli.invoke(cli_app, ["datahub", "datasets"])
    assert json.loads(listed.stdout)["datasets"][0]["rows"] == 50


def test_an_address_must_place_in_a_region_of_the_city(hub: Hub, cli: CliRunner, tmp_path: Path) -> None:
    _define(cli, tmp_path, "cli.sites", ADDRESS_SCHEMA)
    content = "site,address\n泵站,山东省淄博市张店区共青团西路88号\n仓库,火星基地一号\n".encode()
    job = flows.import_file(hub.platform, actor="test", dataset_code="cli.sites",
                            file=flows.ImportFile("sites.csv", content))
    assert job.status == "failed"
    assert [(e["line"], e["field"], e["rule"]) for e in job.errors] == [(3, "address", "address.unresolved")]
    fixed = content.replace("火星基地一号".encode(), "淄川区般阳路1号".encode())
    job = flows.import_file(hub.platform, actor="test", dataset_code="cli.sites",
                            file=flows.ImportFile("sites.csv", fixed))
    assert job.status == "succeeded", job.errors


def test_progress_reaches_the_whole_file(hub: Hub, cli: CliRunner, tmp_path: Path) -> None:
    _define(cli, tmp_path, "cli.big", PERSON_SCHEMA)
    seen: list[tuple[int, int]] = []
    job = flows.import_file(hub.platform, actor="test", dataset_code="cli.big",
                            file=flows.ImportFile("big.csv", people_csv([person(n) for n in range(12_000)])),
                            progress=lambda done, total: seen.append((done, total)))
    assert job.status == "succeeded"
    assert seen[-1] == (12_000, 12_000)
    assert [done for done, _ in seen[:-1]] == [5_000, 10_000]
