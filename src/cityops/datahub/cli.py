"""`cityops datahub …`: describe datasets, import files with a progress bar, check quality, build registers."""

from __future__ import annotations

import json
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
    progress_bar,
)
from cityops.datahub import flows, importers, register_flows, service
from cityops.datahub.schemas import DatasetIn

app = typer.Typer(no_args_is_help=True)


@app.command("datasets")
@handles_domain_errors
def list_datasets(search: str = typer.Option(None, "--search", "-q", help="名称或编码 / name or code"),
                  data_dir: Path = DataDirOption) -> None:
    """数据目录 / list the catalogue."""
    with platform_for(data_dir) as platform, platform.db.session() as session:
        rows, total = service.search_datasets(session=session, text=search, limit=1000)
        print_json({"total": total, "datasets": [
            {"code": d.code, "name": d.name, "rows": d.row_count, "version": d.version,
             "frequency": d.update_frequency, "register": d.register} for d in rows]})


@app.command("define")
@handles_domain_errors
def define(file: Path = typer.Argument(..., exists=True, dir_okay=False, help="数据资源描述 JSON / dataset JSON"),
           actor: str = ActorOption, data_dir: Path = DataDirOption) -> None:
    """登记或更新数据资源 / create or update a dataset from its JSON description (with a Table Schema)."""
    try:
        body = DatasetIn.model_validate(json.loads(file.read_text(encoding="utf-8")))
    except (ValueError, json.JSONDecodeError) as exc:
        fail(f"错误 / error: {file}: {exc}")
        return
    with platform_for(data_dir) as platform:
        code, outcome = flows.save_dataset(platform, actor=actor or default_actor(),
                                           values=body.model_dump(by_alias=True))
        print_json({"code": code, "outcome": outcome})


@app.command("import")
@handles_domain_errors
def import_rows(code: str = typer.Argument(..., help="数据资源编码 / dataset code"),
                file: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV / XLSX / JSON"),
                mode: str = typer.Option("upsert", "--mode", help="upsert | replace"),
                errors_xlsx: Path = typer.Option(None, "--errors-xlsx", help="失败时写出错误报告 / error report"),
                actor: str = ActorOption, data_dir: Path = DataDirOption) -> None:
    """导入数据（全部成功或全部不写）/ import a file into a dataset, all or nothing."""
    if mode not in ("upsert", "replace"):
        fail("错误 / error: --mode must be upsert or replace")
    with platform_for(data_dir) as platform, progress_bar("校验 / checking") as progress:
        job = flows.import_file(platform, actor=actor or default_actor(), dataset_code=code,
                                mode="replace" if mode == "replace" else "upsert",
                                file=flows.ImportFile(file.name, file.read_bytes()), progress=progress)
    if job.status == "succeeded":
        print_json({"import": job.id, "status": job.status, **job.summary})
        return
    if errors_xlsx is not None:
        errors_xlsx.write_bytes(importers.error_report_xlsx(job.errors))
    for error in job.errors[:20]:
        typer.echo(f"第 {error['line']} 行 / line {error['line']}  {error['field']}  [{error['rule']}]  "
                   f"{error['message']} / {error['message_en']}", err=True)
    fail(f"导入失败，未写入任何数据 / import failed, nothing written: {job.error_count} error(s)", code=2)


@app.command("quality")
@handles_domain_errors
def quality(code: str = typer.Argument(..., help="数据资源编码 / dataset code"),
            actor: str = ActorOption, data_dir: Path = DataDirOption) -> None:
    """数据质量核查 / check a dataset's quality and print the report."""
    with platform_for(data_dir) as platform:
        check = register_flows.check_quality(platform, actor=actor or default_actor(), dataset_code=code)
        print_json({"dataset": code, "checked_at": check.checked_at.isoformat(), **check.report})


@app.command("build-register")
@handles_domain_errors
def build_register(register: str = typer.Argument(..., help="population | legal_entity | licence"),
                   actor: str = ActorOption, data_dir: Path = DataDirOption) -> None:
    """由数源数据生成基础库 / build a base register from the datasets that feed it."""
    with platform_for(data_dir) as platform:
        summary = register_flows.build_register(platform, actor=actor or default_actor(), register=register)
        print_json({"register": summary.register, "dataset": summary.dataset_code, "rows": summary.rows,
                    "sources": summary.sources, "conflicts": summary.conflict_count,
                    "first_conflicts": summary.conflicts[:10]})
