"""`kpis`: the KPI report from the command line (meant to be mounted as `cityops cases kpis`).

The CLI acts as the platform itself, city-wide; the region defaults to the (first) city.
"""

from __future__ import annotations

import json
from datetime import date
from enum import StrEnum
from pathlib import Path

import typer

from cityops.cli.common import DataDirOption, handles_domain_errors, platform_for
from cityops.insight import export
from cityops.insight.service import KpiResult, kpis_for
from cityops.org.access import system_principal
from cityops.org.roles import Role

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
