"""What every CLI command shares: building the platform, printing JSON, turning errors into exit codes."""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from cityops.core import migrate
from cityops.core.errors import DomainError
from cityops.core.settings import Settings, get_settings
from cityops.platform import Platform, build_platform

P = ParamSpec("P")
R = TypeVar("R")

DataDirOption = typer.Option(None, "--data-dir", help="数据目录 / data folder (default: CITYOPS_DATA_DIR or ./var)")


def settings_for(data_dir: Path | None) -> Settings:
    settings = get_settings()
    if data_dir is not None:
        settings = settings.model_copy(update={"data_dir": data_dir})
    return settings


@contextmanager
def platform_for(data_dir: Path | None = None, *, require_schema: bool = True) -> Iterator[Platform]:
    platform = build_platform(settings_for(data_dir))
    try:
        if require_schema:
            migrate.ensure_current(platform.db.engine)
        yield platform
    finally:
        platform.close()


def print_json(value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def fail(message: str, code: int = 1) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(code)


def handles_domain_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Domain errors become a clear message on stderr and a non-zero exit, never a traceback."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except DomainError as exc:
            language = get_settings().language
            typer.echo(f"错误 [{exc.code}]: {exc.message(language)}", err=True)
            if language != "en":
                typer.echo(f"error [{exc.code}]: {exc.message('en')}", err=True)
            sys.exit(2)

    return wrapper


ActorOption = typer.Option(None, "--actor", help="审计记录中的操作人 / actor for the audit record")
PROGRESS_FROM = 500  # smaller imports finish before a bar would be worth drawing


def default_actor() -> str:
    """Who the audit log names for a command typed at a terminal."""
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):  # containers often run as a uid without a passwd entry
        return "cli"


@contextmanager
def progress_bar(label: str, *, show_from: int = PROGRESS_FROM) -> Iterator[Callable[[int, int], None]]:
    """A (done, total) callback that draws a bar on stderr once a job is large enough to be worth one."""
    bar = Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   console=Console(stderr=True), transient=True)
    task: list[TaskID] = []

    def advance(done: int, total: int) -> None:
        if total < show_from:
            return
        if not task:
            bar.start()
            task.append(bar.add_task(label, total=total))
        bar.update(task[0], completed=done)

    try:
        yield advance
    finally:
        bar.stop()
