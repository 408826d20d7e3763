"""`cityops cases …`: history import and export, KPIs, the deadline job by hand."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from cityops.cases import export as case_export
from cityops.cases import history
from cityops.cases.jobs import sweep_deadlines
from cityops.cli.common import DataDirOption, handles_domain_errors, platform_for, print_json
from cityops.core.clock import CHINA_TZ
from cityops.insight import cli as insight_cli
from cityops.triage import worker as triage

app = typer.Typer(no_args_is_help=True)
app.command("kpis")(insight_cli.kpis)


@app.command("import-history")
@handles_domain_errors
def import_history(file: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV 或 XLSX / CSV or XLSX"),
                   mapping: Path = typer.Option(..., "--mapping", exists=True, dir_okay=False,
                                                help="列与取值映射 JSON / column and value mapping"),
                   data_dir: Path | None = DataDirOption) -> None:
    """Import case history from the old system, all or nothing. 导入历史案件。"""
    rules = history.Mapping.load(mapping.read_text(encoding="utf-8"))
    with platform_for(data_dir) as platform, Progress(
            TextColumn("导入 importing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()) as bar:
        task = bar.add_task("import", total=None)
        summary = history.import_history(platform, content=file.read_bytes(), mapping=rules,
                                         progress=lambda done, total: bar.update(task, completed=done, total=total))
    print_json(summary.__dict__)


@app.command("export")
@handles_domain_errors
def export(format: str = typer.Option("csv", "--format", help="csv | xlsx"),
           since: str | None = typer.Option(None, "--since", help="只导出此后更新的 / updated since (ISO date)"),
           output: Path | None = typer.Option(None, "--output", "-o", help="输出文件 / output file"),
           data_dir: Path | None = DataDirOption) -> None:
    """Export cases with their reports, states and state times. 导出案件。"""
    if format not in ("csv", "xlsx"):
        raise typer.BadParameter("csv or xlsx", param_hint="--format")
    start = _since(since)
    with platform_for(data_dir) as platform, platform.db.session() as session:
        content = case_export.export(session, fmt=format, since=start)
    target = output or Path(f"cases.{format}")
    target.write_bytes(content)
    typer.echo(f"已导出 written: {target}")


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"not a date: {value!r}", param_hint="--since") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=CHINA_TZ)


@app.command("sweep-deadlines")
@handles_domain_errors
def sweep(data_dir: Path | None = DataDirOption) -> None:
    """Run the deadline job once: warnings, overdue marks, escalations. 执行一次时限检查。"""
    with platform_for(data_dir) as platform:
        result = sweep_deadlines(platform)
    print_json(asdict(result))


@app.command("triage")
@handles_domain_errors
def run_triage(data_dir: Path | None = DataDirOption) -> None:
    """Turn every waiting report into a case now. 处理待分拨上报。"""
    with platform_for(data_dir) as platform:
        result = triage.drain(platform)
    print_json({"cases": result.cases, "dispatched": result.dispatched, "waiting": result.waiting,
                "fused": result.fused, "failed": result.failed})
