"""`cityops catalog …` and `cityops routing …`: import, list and export categories; import and preview rules."""

from __future__ import annotations

from dataclasses import asdict
from enum import StrEnum
from pathlib import Path

import typer

from cityops.catalog import exporters, flows, importers, service
from cityops.catalog.service import UpsertCounts
from cityops.cli.common import (
    ActorOption,
    DataDirOption,
    default_actor,
    handles_domain_errors,
    platform_for,
    print_json,
    progress_bar,
)

catalog_app = typer.Typer(no_args_is_help=True)
routing_app = typer.Typer(no_args_is_help=True)



class FormatChoice(StrEnum):
    native = "native"
    urban = "urban"
    hotline = "hotline"


class KindChoice(StrEnum):
    component = "component"
    matter = "matter"
    hotline = "hotline"
    custom = "custom"


class ExportChoice(StrEnum):
    csv = "csv"
    xlsx = "xlsx"




def register(app: typer.Typer) -> None:
    app.add_typer(catalog_app, name="catalog", help="事项/部件分类目录 / category catalogue")
    app.add_typer(routing_app, name="routing", help="派遣规则 / routing rules")





def _print_summary(counts: UpsertCounts) -> None:
    print_json({**asdict(counts), "total": counts.total})


@catalog_app.command("import")
@handles_domain_errors
def import_categories(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV (UTF-8/GB18030) 或 XLSX"),
    format: FormatChoice = typer.Option(FormatChoice.native, "--format", help="native | urban | hotline"),
    department_map: Path | None = typer.Option(None, "--department-map", exists=True, dir_okay=False,
                                               help='JSON {"部门名称": "部门编码"} (urban format)'),
    actor: str | None = ActorOption,
    data_dir: Path | None = DataDirOption,
) -> None:
    """导入分类目录。Import categories, all or nothing."""
    mapping = importers.parse_department_map(department_map.read_text("utf-8")) if department_map else None
    with platform_for(data_dir) as platform, progress_bar("导入 / importing") as progress:
        counts = flows.import_categories(platform, file, actor=actor or default_actor(), fmt=format.value,
                                         department_map=mapping, progress=progress)
    _print_summary(counts)


@catalog_app.command("list")
@handles_domain_errors
def list_categories(kind: KindChoice | None = typer.Option(None, "--kind", help="分类类型 / kind"),
                    data_dir: Path | None = DataDirOption) -> None:
    """分类列表。List categories as JSON."""
    with platform_for(data_dir) as platform, platform.db.session() as session:
        rows = service.all_categories(session=session, kind=kind.value if kind else None)
        print_json([{"code": c.code, "name": c.name, "kind": c.kind, "parent_code": c.parent_code,
                     "default_department_code": c.default_department_code, "handle_limit": c.handle_limit,
                     "handle_unit": c.handle_unit, "severity": c.severity, "active": c.active} for c in rows])


@catalog_app.command("export")
@handles_domain_errors
def export_categories(format: ExportChoice = typer.Option(..., "--format", help="csv | xlsx"),
                      output: Path = typer.Option(..., "--output", dir_okay=False, help="输出文件 / output file"),
                      kind: KindChoice | None = typer.Option(None, "--kind", help="分类类型 / kind"),
                      data_dir: Path | None = DataDirOption) -> None:
    """导出分类目录（可再导入）。Export categories in the native format, ready to import again."""
    with platform_for(data_dir) as platform, platform.db.session() as session:
        categories = [service.as_input(c) for c in
                      service.all_categories(session=session, kind=kind.value if kind else None)]
    body, _ = exporters.export_categories(categories, format.value)
    output.write_bytes(body)
    print_json({"output": str(output), "count": len(categories)})


@routing_app.command("import")
@handles_domain_errors
def import_rules(
    file: Path = typer.Argument(..., exists=True, dir_okay=False,
                                help="CSV/XLSX: category_code,region_code,department_code"),
    actor: str | None = ActorOption,
    data_dir: Path | None = DataDirOption,
) -> None:
    """导入派遣规则。Import routing rules, all or nothing."""
    with platform_for(data_dir) as platform:
        counts = flows.import_rules(platform, file, actor=actor or default_actor())
    _print_summary(counts)


@routing_app.command("preview")
@handles_domain_errors
def preview(category: str | None = typer.Option(None, "--category", help="分类编码 / category code"),
            region: str = typer.Option(..., "--region", help="区划或网格代码 / region or grid code"),
            data_dir: Path | None = DataDirOption) -> None:
    """预览派遣结果。Show which department a case would go to, and why."""
    with platform_for(data_dir) as platform, platform.db.session() as session:
        if category:
            service.get_category_or_raise(session=session, code=category)
        decision = service.route_for(session=session, category_code=category, region_code=region)
    print_json({"category_code": category, "region_code": region,
                "decision": asdict(decision) if decision is not None else None})
