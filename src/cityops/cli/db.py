from __future__ import annotations

from pathlib import Path

import typer

from cityops.cli.common import DataDirOption, handles_domain_errors, platform_for
from cityops.core import migrate

app = typer.Typer(no_args_is_help=True)


@app.command("upgrade")
@handles_domain_errors
def upgrade(data_dir: Path | None = DataDirOption, revision: str = "head") -> None:
    """Apply the database migrations. 升级数据库结构。"""
    with platform_for(data_dir, require_schema=False) as platform:
        migrate.upgrade(platform.db.engine, revision)
        typer.echo(f"database at {revision}: {platform.db.engine.url.render_as_string(hide_password=True)}")
