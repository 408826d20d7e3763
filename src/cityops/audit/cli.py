from __future__ import annotations

from pathlib import Path

import typer

from cityops.audit import service
from cityops.cli.common import DataDirOption, handles_domain_errors, platform_for, print_json

app = typer.Typer(no_args_is_help=True)


@app.command("verify")
@handles_domain_errors
def verify(data_dir: Path | None = DataDirOption) -> None:
    """Check the audit log's hash chain; exits 1 naming the first broken record. 校验审计日志。"""
    with platform_for(data_dir) as platform, platform.db.session() as session:
        report = service.verify(session=session)
    if report.ok:
        print_json({"ok": True, "records": report.checked})
        return
    print_json({"ok": False, "records_checked": report.checked, "broken_seq": report.broken_seq,
                "reason": report.reason})
    typer.echo(f"审计日志在第 {report.broken_seq} 条记录处断裂：{report.reason}\n"
               f"audit log broken at record {report.broken_seq}: {report.reason}", err=True)
    raise typer.Exit(1)
