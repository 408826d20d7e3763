"""Fixtures for the regions tests: the Zibo demo regions, built once and copied into each test's SQLite file.

`platform` and `database_url` come from tests/conftest.py (SQLite and PostgreSQL)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from cityops.core.clock import FixedClock
from cityops.demo.zibo_regions import build_zibo_regions
from cityops.platform import Platform, build_platform
from cityops.regions.flows import save_regions
from cityops.regions.schemas import RegionInput
from tests.conftest import START, make_settings


def make_platform(data_dir: Path, url: str) -> Platform:
    return build_platform(make_settings(data_dir, url), clock=FixedClock(START))


@pytest.fixture(scope="session")
def zibo_regions() -> list[RegionInput]:
    """Built once per run (about two seconds)."""
    return build_zibo_regions()


@pytest.fixture(scope="session")
def zibo_template(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path,
                  zibo_regions: list[RegionInput]) -> Path:
    folder = tmp_path_factory.mktemp("zibo-template")
    shutil.copy(sqlite_template, folder / "cityops.db")
    loaded = make_platform(folder, f"sqlite:///{folder / 'cityops.db'}")
    try:
        save_regions(loaded, zibo_regions, actor="test", file="demo:zibo", level="city", region_code="370300")
    finally:
        loaded.close()
    return folder / "cityops.db"


@pytest.fixture
def zibo_data_dir(zibo_template: Path, tmp_path: Path) -> Path:
    """A data folder whose cityops.db holds the Zibo demo regions."""
    folder = tmp_path / "zibo"
    folder.mkdir()
    shutil.copy(zibo_template, folder / "cityops.db")
    return folder


@pytest.fixture
def zibo_platform(zibo_data_dir: Path) -> Iterator[Platform]:
    built = make_platform(zibo_data_dir, f"sqlite:///{zibo_data_dir / 'cityops.db'}")
    try:
        yield built
    finally:
        built.close()
