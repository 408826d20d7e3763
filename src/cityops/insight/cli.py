"""`cityops insight`: `kpis` (also mounted as `cityops cases kpis`), `hotspots` and `monthly-topic`.

The CLI acts as the platform itself, city-wide; the region defaults to the (first) city.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from enum import StrEnum
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from cityops.cli.common import DataDirOption, handles_domain_errors, platform_for, print_json
from cityops.insight import export, hotspot_export, topic_report
from cityops.insight.hotspot_service import HotspotReport, hotspots_for, monthly_topic_for
from cityops.insight.hotspots import HotspotParams
from cityops.insight.service import KpiResult, kpis_for
from cityops.insight.topics import Month
from cityops.org.access import system_principal
from cityops.org.roles import Role
from cityops.regions.codes import LEVELS, Level

app = typer.Typer(no_args_is_help=True)


class ExportFormat(StrEnum):
    JSON = "json"
    CSV = "csv"
    XLSX = "xlsx"


def parse_day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} 不是日期 YYYY-MM-DD / is not a date YYYY-MM-DD",
                                 param_hint=option) from None


@app.command("kpis")
@handles_domain_errors
def kpis(date_from: str = typer.Option(..., "--from", help="开始日期（含）/ first day, included: YYYY-MM-DD"),
         date_to: str = typer.Option(..., "--to", help="结束日期（不含）/ end day, excluded: YYYY-MM-DD"),
         region: str | None = typer.Option(None, "--region", help="区划代码 / region code (default: the city)"),
         department: str | None = typer.Option(None, "--department", help="部门编码或名称 / department code or name"),
         fmt: ExportFormat = typer.Option(ExportFormat.JSON, "--format", help="json | csv | xlsx"),
         output: Path | None = typer.Option(None, "--output", help="写入文件 / write to this file"),
         data_dir: Path | None = DataDirOption) -> None:
    """案件指标 / case KPIs (数字城管, 接诉即办) for a period; definitions in docs/kpis.md."""
    first, last = parse_day(date_from, "--from"), parse_day(date_to, "--to")
    if last <= first:
        raise typer.BadParameter("must be after --from (the end day is excluded) / 须晚于 --from（不含当日）",
                                 param_hint="--to")
    if fmt is ExportFormat.XLSX and output is None:
        raise typer.BadParameter("xlsx needs --output FILE / xlsx 格式须指定 --output", param_hint="--format")
    with platform_for(data_dir) as platform, platform.db.session() as session:
        result = kpis_for(session=session, principal=system_principal(role=Role.ADMIN), region_code=region,
                          department=department, date_from=first, date_to=last)
    _emit(result, fmt, output)


def _emit(result: KpiResult, fmt: ExportFormat, output: Path | None) -> None:
    if fmt is ExportFormat.JSON:
        body = json.dumps(export.to_json(result), ensure_ascii=False, indent=2).encode()
    else:
        body = export.to_csv(result) if fmt is ExportFormat.CSV else export.to_xlsx(result)
    if output is None:
        typer.echo(body.decode("utf-8-sig"), nl=fmt is ExportFormat.JSON)
        return
    output.write_bytes(body)
    typer.echo(f"已写入 / written: {output}", err=True)


# --- hotspots (未诉先办) and the monthly topic (每月一题); definitions in docs/insight.md --------------------------

RESOLUTIONS = range(5, 12)  # H3 5 ≈ 250 km² (a district) … 11 ≈ 0.002 km² (a building)
WIDE = 200


class HotspotFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


@app.command("hotspots")
@handles_domain_errors
def hotspots(since: str = typer.Option(..., "--since", help="开始日期（含）/ first day, included: YYYY-MM-DD"),
             until: str = typer.Option(..., "--until", help="结束日期（不含）/ end day, excluded: YYYY-MM-DD"),
             region: str | None = typer.Option(None, "--region", help="区划代码 / region code (default: the city)"),
             fmt: HotspotFormat = typer.Option(HotspotFormat.TABLE, "--format", help="table | json"),
             resolution: int = typer.Option(8, "--resolution", help="H3 分辨率 / H3 resolution, 5–11 (8 ≈ 0.7 km²)"),
             data_dir: Path | None = DataDirOption) -> None:
    """热点发现 / hotspots (未诉先办): places whose reports rise above their own baseline."""
    first, last = parse_day(since, "--since"), parse_day(until, "--until")
    if last <= first:
        raise typer.BadParameter("must be after --since (the end day is excluded) / 须晚于 --since（不含当日）",
                                 param_hint="--until")
    if resolution not in RESOLUTIONS:
        raise typer.BadParameter(f"H3 分辨率须在 {RESOLUTIONS.start}–{RESOLUTIONS.stop - 1} 之间 / must be "
                                 f"{RESOLUTIONS.start} to {RESOLUTIONS.stop - 1}", param_hint="--resolution")
    with platform_for(data_dir) as platform, platform.db.session() as session:
        report = hotspots_for(session=session, principal=system_principal(role=Role.ADMIN), region_code=region,
                              date_since=first, date_until=last, params=HotspotParams(resolution=resolution))
    if fmt is HotspotFormat.JSON:
        print_json(hotspot_export.to_json(report))
        return
    _print_hotspots(report)


def _print_hotspots(report: HotspotReport) -> None:
    result = report.result
    typer.echo(f"热点 / hotspots: {report.region_name} ({report.region_code}), {report.date_since} – "
               f"{report.date_until}（不含 excluded）")
    if result.hotspots:
        table = Table(*hotspot_export.TABLE_HEADER)
        for row in hotspot_export.table_rows(report):
            table.add_row(*row)
        # Piped into a file or another program, a table as wide as its content reads better than one wrapped at 80.
        Console(width=None if sys.stdout.isatty() else WIDE).print(table)
    else:
        typer.echo("未发现热点 / no hotspots")
    typer.echo(f"本期诉求 {result.reports} 件，基线 {result.baseline_reports} 件，未定位 {result.unlocated.count} 件；"
               f"热点 {result.found} 个 / reports {result.reports}, baseline {result.baseline_reports}, "
               f"unlocated {result.unlocated.count}; hotspots found {result.found}")


@app.command("monthly-topic")
@handles_domain_errors
def monthly_topic(month: str = typer.Option(..., "--month", help="月份 / month: YYYY-MM"),
                  region: str | None = typer.Option(None, "--region", help="区划代码 / region code (default: city)"),
                  level: str | None = typer.Option(None, "--level", help="分区层级 / grouped by: district, street, "
                                                                         "community or grid (default: one below)"),
                  out: Path = typer.Option(Path("."), "--out", help="输出目录 / folder for the .md and .xlsx"),
                  data_dir: Path | None = DataDirOption) -> None:
    """每月一题 / monthly topic: the month's topics by volume, growth and repeat rate, as Markdown and XLSX."""
    chosen = parse_month(month)
    grouped = parse_level(level) if level else None
    with platform_for(data_dir) as platform, platform.db.session() as session:
        result = monthly_topic_for(session=session, principal=system_principal(role=Role.ADMIN), region_code=region,
                                   month=chosen, level=grouped)
    out.mkdir(parents=True, exist_ok=True)
    markdown, workbook = out / topic_report.filename(result, "md"), out / topic_report.filename(result, "xlsx")
    markdown.write_text(topic_report.render_markdown(result), encoding="utf-8")
    topic_report.write_xlsx(result, workbook)
    typer.echo(f"已写入 / written: {markdown}")
    typer.echo(f"已写入 / written: {workbook}")


def parse_month(value: str) -> Month:
    try:
        return Month.parse(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} 不是月份 YYYY-MM / is not a month YYYY-MM", param_hint="--month") from None


def parse_level(value: str) -> Level:
    for level in LEVELS:
        if level == value:
            return level
    raise typer.BadParameter(f"{value!r} 不是区划层级 / is not a level: {', '.join(LEVELS)}", param_hint="--level")
