"""`cityops audit verify` on the demo database: 0 when intact, 1 naming the record after a hand edit."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cityops.cli.main import app

runner = CliRunner()


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("demo")
    result = runner.invoke(app, ["demo", "--data-dir", str(data_dir), "--no-serve"])
    assert result.exit_code == 0, result.output
    return data_dir


def test_verify_passes_on_the_demo_database(demo_dir: Path):
    result = runner.invoke(app, ["audit", "verify", "--data-dir", str(demo_dir)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["records"] > 10


def test_verify_fails_naming_the_record_changed_by_hand(demo_dir: Path, tmp_path: Path):
    tampered = tmp_path / "tampered"
    tampered.mkdir()
    source = sqlite3.connect(demo_dir / "cityops.db")
    target = sqlite3.connect(tampered / "cityops.db")
    source.backup(target)
    source.close()
    target.execute("UPDATE audit_records SET data = '{\"username\": \"intruder\"}' WHERE seq = 5")
    target.commit()
    target.close()
    result = runner.invoke(app, ["audit", "verify", "--data-dir", str(tampered)])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["broken_seq"] == 5
    assert "5" in result.stderr


def test_demo_twice_on_the_same_folder_duplicates_nothing(demo_dir: Path):
    def counts() -> dict[str, int]:
        db = sqlite3.connect(demo_dir / "cityops.db")
        try:
            return {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                    for t in ("regions", "departments", "staff", "api_keys", "audit_records")}
        finally:
            db.close()

    before = counts()
    result = runner.invoke(app, ["demo", "--data-dir", str(demo_dir), "--no-serve"])
    assert result.exit_code == 0, result.output
    assert counts() == before
    assert before["regions"] > 1000 and before["departments"] > 20


def test_demo_prints_url_admin_login_and_open311_key(demo_dir: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CITYOPS_DEMO_ADMIN_PASSWORD", "fixed-demo-password-1")
    monkeypatch.setenv("CITYOPS_DEMO_OPEN311_KEY", "fixed-open311-key-0123456789")
    from cityops.core.settings import reset_settings_cache

    reset_settings_cache()
    try:
        result = runner.invoke(app, ["demo", "--data-dir", str(demo_dir), "--no-serve", "--port", "8123"])
    finally:
        reset_settings_cache()
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:8123" in result.stdout
    assert "admin / fixed-demo-password-1" in result.stdout
    assert "fixed-open311-key-0123456789" in result.stdout
