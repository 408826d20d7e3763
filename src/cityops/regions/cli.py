"""`cityops regions …`: import region files and locate points from the command line."""

from __future__ import annotations

from dataclasses import asdict
from enum import StrEnum
from pathlib import Path

import typer

from cityops.cli.common import (
    ActorOption,
    DataDirOption,
    default_actor,
    handles_domain_errors,
    platform_for,
    print_json,
    progress_bar,
)
from cityops.regions import flows, service
from cityops.regions.codes import parse_level
from cityops.regions.coords import parse_crs, to_wgs84
from cityops.regions.flows import ImportSummary

app = typer.Typer(no_args_is_help=True)



class LevelChoice(StrEnum):
    city = "city"
    district = "district"
    street = "street"
    community = "community"
    grid = "grid"


class CrsChoice(StrEnum):
    wgs84 = "wgs84"
    gcj02 = "gcj02"



CrsOption = typer.Option(CrsChoice.wgs84, "--crs", help="输入坐标系 / input datum: wgs84 (GPS) or gcj02 (高德)")




def _print_summary(summary: ImportSummary) -> None:
    print_json({**asdict(summary), "total": summary.total})


@app.command("import")
@handles_domain_errors
def import_geojson(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="GeoJSON FeatureCollection"),
    level: LevelChoice = typer.Option(..., "--level", help="层级 / level of every feature"),
    code_field: str = typer.Option("adcode", "--code-field", help="代码属性 / property holding the code"),
    name_field: str = typer.Option("name", "--name-field", help="名称属性 / property holding the name"),
    parent: str | None = typer.Option(None, "--parent", help="上级区划代码 / parent region code"),
    crs: CrsChoice = CrsOption,
    actor: str | None = ActorOption,
    data_dir: Path | None = DataDirOption,
) -> None:
    """导入区划边界 GeoJSON。Import one level of regions with polygons from GeoJSON."""
    with platform_for(data_dir) as platform, progress_bar("导入 / importing") as progress:
        summary = flows.import_geojson(platform, file, level=parse_level(level.value), code_field=code_field,
                                       name_field=name_field, parent_code=parent, crs=parse_crs(crs.value),
                                       actor=actor or default_actor(), progress=progress)
    _print_summary(summary)


@app.command("import-divisions")
@handles_domain_errors
def import_divisions(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV: code,name[,…] (UTF-8 or GB18030)"),
    actor: str | None = ActorOption,
    data_dir: Path | None = DataDirOption,
) -> None:
    """导入统计用区划代码 CSV。Import division codes and names (no polygons) from CSV."""
    with platform_for(data_dir) as platform, progress_bar("导入 / importing") as progress:
        summary = flows.import_divisions_csv(platform, file, actor=actor or default_actor(), progress=progress)
    _print_summary(summary)


@app.command("locate")
@handles_domain_errors
def locate(
    lng: float = typer.Argument(..., help="经度 / longitude"),
    lat: float = typer.Argument(..., help="纬度 / latitude"),
    crs: CrsChoice = CrsOption,
    data_dir: Path | None = DataDirOption,
) -> None:
    """坐标定位到网格。Print the region path (city → grid) containing a point, as JSON in WGS-84."""
    with platform_for(data_dir) as platform:
        steps = service.locator(platform).locate(platform.db, lng, lat, crs=parse_crs(crs.value))
    wgs_lng, wgs_lat = to_wgs84(lng, lat, parse_crs(crs.value))
    print_json({"lng": wgs_lng, "lat": wgs_lat, "path": [step._asdict() for step in steps]})
