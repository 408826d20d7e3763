"""`cityops intake …`: feed batches of messages through the same pipeline as live intake."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer

from cityops.cli.common import DataDirOption, handles_domain_errors, platform_for, print_json, progress_bar
from cityops.core.tabular import read_table
from cityops.intake import bulk, flows
from cityops.intake import service as reports
from cityops.intake.channels import Channel
from cityops.org.access import system_principal
from cityops.triage import worker

app = typer.Typer(no_args_is_help=True)


@app.command("import")
@handles_domain_errors
def import_messages(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV (UTF-8/GB18030) 或 XLSX"),
    channel: Channel = typer.Option(..., "--channel", help="来源渠道 / channel, e.g. hotline"),
    id_column: str = typer.Option(..., "--id-column", help="渠道编号列 / the channel's own id"),
    text_columns: list[str] = typer.Option(..., "--text-column", help="内容列，可多个（主题、详情）/ text, repeatable"),
    time_column: str = typer.Option(..., "--time-column", help="时间列 / when the message was sent"),
    address_column: str | None = typer.Option(None, "--address-column", help="地址列 / address"),
    lng_column: str | None = typer.Option(None, "--lng-column", help="经度列 / longitude"),
    lat_column: str | None = typer.Option(None, "--lat-column", help="纬度列 / latitude"),
    category_column: str | None = typer.Option(None, "--category-column", help="分类编码列 / category code"),
    crs: str = typer.Option("wgs84", "--crs", help="坐标系 / coordinates: wgs84 | gcj02"),
    timezone: str = typer.Option("Asia/Shanghai", "--timezone", help="无时区时间的时区 / zone of local times"),
    data_dir: Path | None = DataDirOption,
) -> None:
    """批量导入留言，经与在线受理相同的流程（定位、分类、合并、派遣）。Import messages through the live pipeline.

    The whole file is checked first: one bad row and nothing is imported. Messages go in time order;
    importing the same file again changes nothing.
    """
    if crs not in ("wgs84", "gcj02"):
        raise typer.BadParameter("wgs84 | gcj02", param_hint="--crs")
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise typer.BadParameter(f"unknown time zone {timezone!r} / 未知时区", param_hint="--timezone") from None
    columns = bulk.BulkColumns(id=id_column, texts=tuple(text_columns), time=time_column, address=address_column,
                               lng=lng_column, lat=lat_column, category=category_column)
    parsed = bulk.parse(read_table(file.read_bytes()), columns, channel=channel, zone=zone, crs=crs)
    with platform_for(data_dir) as platform:
        with progress_bar("受理 / storing") as progress:
            receipts = flows.receive_many(platform, reports=parsed.reports, at_reported_time=True,
                                          submitted_by=system_principal(f"import:{file.name}"), progress=progress)
        with progress_bar("分拨 / triage") as progress:
            worker.drain(platform, progress=progress)
        with platform.db.session() as session:
            outcome = reports.outcome_of(session=session, public_ids=[r.public_id for r in receipts])
    print_json({
        "rows": len(parsed.reports) + parsed.duplicate_rows,
        "duplicate_rows_in_file": parsed.duplicate_rows,
        "reports": sum(not r.duplicate for r in receipts),
        "already_imported": sum(r.duplicate for r in receipts),
        **outcome.as_dict(),
    })
