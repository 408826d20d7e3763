"""`cityops indicators …`: import, list and export the indicator catalogue and its thresholds."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

from cityops.cli.common import (
    ActorOption,
    DataDirOption,
    default_actor,
    fail,
    handles_domain_errors,
    platform_for,
    print_json,
)
from cityops.indicators import catalogue, flows, service

app = typer.Typer(help="城市体征指标 / indicators", no_args_is_help=True)
DEMO_DIR = Path(__file__).parent / "data"


class ExportChoice(StrEnum):
    csv = "csv"
    xlsx = "xlsx"


@app.command("import")
@handles_domain_errors
def import_catalogue(
    file: Path | None = typer.Argument(None, exists=True, dir_okay=False, help="指标 CSV/XLSX / indicators file"),
    thresholds: Path | None = typer.Option(None, "--thresholds", exists=True, dir_okay=False,
                                           help="阈值 CSV/XLSX / thresholds file"),
    demo: bool = typer.Option(False, "--demo", help="导入示范城市（淄博）目录 / load the demo city's catalogue"),
    actor: str | None = ActorOption,
    data_dir: Path | None = DataDirOption,
) -> None:
    """导入指标目录与阈值（全部或全不）。Import indicators and thresholds, all or nothing."""
    if demo:
        file, thresholds = DEMO_DIR / "indicators_zibo.csv", DEMO_DIR / "thresholds_zibo.csv"
    if file is None and thresholds is None:
        fail("请给出指标文件、--thresholds 或 --demo / give a file, --thresholds or --demo")
    with platform_for(data_dir) as platform:
        counts, written = flows.import_catalogue(
            platform, indicators=file.read_bytes() if file else None,
            thresholds=thresholds.read_bytes() if thresholds else None, actor=actor or default_actor())
    print_json({"created": counts.created, "updated": counts.updated, "unchanged": counts.unchanged,
                "thresholds": written})


@app.command("list")
@handles_domain_errors
def list_indicators(domain: str | None = typer.Option(None, "--domain", help="领域 / domain"),
                    data_dir: Path | None = DataDirOption) -> None:
    """指标列表。List indicators as JSON."""
    with platform_for(data_dir) as platform, platform.db.session() as session:
        print_json([{"code": i.code, "name": i.name, "unit": i.unit, "domain": i.domain,
                     "source_kind": i.source_kind, "department_code": i.department_code}
                    for i in service.all_indicators(session=session, domain=domain)])


@app.command("export")
@handles_domain_errors
def export_catalogue(format: ExportChoice = typer.Option(ExportChoice.csv, "--format", help="csv | xlsx"),
                     output: Path = typer.Option(..., "--output", dir_okay=False, help="指标文件 / indicators file"),
                     thresholds: Path | None = typer.Option(None, "--thresholds", dir_okay=False,
                                                            help="阈值文件 / thresholds file"),
                     data_dir: Path | None = DataDirOption) -> None:
    """导出指标目录与阈值（可再导入）。Export indicators (and thresholds), ready to import again."""
    with platform_for(data_dir) as platform, platform.db.session() as session:
        indicators = [service.as_input(i) for i in service.all_indicators(session=session)]
        rules = [service.threshold_input(t) for t in service.all_thresholds(session=session)]
    output.write_bytes(catalogue.export_table(indicators, catalogue.INDICATOR_COLUMNS, format.value,
                                              title="indicators"))
    if thresholds is not None:
        thresholds.write_bytes(catalogue.export_table(rules, catalogue.THRESHOLD_COLUMNS, format.value,
                                                      title="thresholds"))
    print_json({"output": str(output), "indicators": len(indicators),
                "thresholds": len(rules) if thresholds is not None else 0})
