"""What every CLI command shares: building the platform, printing JSON, turning errors into exit codes."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import typer

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
def platform_for(data_dir: Path | None = None) -> Iterator[Platform]:
    platform = build_platform(settings_for(data_dir))
    try:
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
