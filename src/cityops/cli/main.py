"""The `cityops` command. Each domain contributes its own sub-command group."""

from __future__ import annotations

import typer

from cityops.audit import cli as audit_cli
from cityops.cases import calendar_cli
from cityops.cases import cli as cases_cli
from cityops.catalog import cli as catalog_cli
from cityops.cli import db as db_cli
from cityops.cli import serve as serve_cli
from cityops.datahub import cli as datahub_cli
from cityops.indicators import cli as indicators_cli
from cityops.insight import cli as insight_cli
from cityops.intake import cli as intake_cli
from cityops.org import cli as org_cli
from cityops.regions import cli as regions_cli
from cityops.sensing import cli as sensing_cli
from cityops.triage import cli as triage_cli

app = typer.Typer(help="CityOps 城市运行管理平台", no_args_is_help=True, add_completion=False)
app.add_typer(db_cli.app, name="db", help="数据库 / database")
app.add_typer(regions_cli.app, name="regions", help="行政区划与网格 / regions and grids")
app.add_typer(audit_cli.app, name="audit", help="审计日志 / audit log")
app.add_typer(org_cli.app, name="org", help="部门与人员 / departments and staff")
app.add_typer(cases_cli.app, name="cases", help="案件 / cases")
app.add_typer(calendar_cli.app, name="calendar", help="工作日历 / working calendar")
app.add_typer(intake_cli.app, name="intake", help="受理 / intake")
app.add_typer(triage_cli.app, name="triage", help="智能分拨 / triage: classify, fuse")
app.add_typer(insight_cli.app, name="insight", help="分析研判 / insight: KPIs, hotspots, monthly topic")
app.add_typer(indicators_cli.app, name="indicators", help="城市体征指标 / indicators")
app.add_typer(sensing_cli.app, name="sensing", help="物联感知 / sensing")
app.add_typer(datahub_cli.app, name="datahub", help="数字底座 / data hub: catalogue, imports, sharing, quality")
catalog_cli.register(app)
serve_cli.register(app)


def main() -> None:
    app()
