"""`cityops serve` (production: settings from the environment) and `cityops demo` (everything embedded)."""

from __future__ import annotations

from pathlib import Path

import typer
import uvicorn
from pydantic import SecretStr

from cityops.cli.common import DataDirOption, handles_domain_errors, settings_for
from cityops.core import migrate
from cityops.core.logging import configure_logging
from cityops.core.runtime import tune_garbage_collector
from cityops.demo import zibo_org
from cityops.demo.loader import load_demo, load_or_create_secret_key
from cityops.platform import build_platform
from cityops.web.app import create_app


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("demo")(demo)
    app.command("worker")(worker)


@handles_domain_errors
def worker() -> None:
    """Run the triage worker and the deadline job without the web server. 后台处理进程。"""
    import asyncio

    from cityops import workers

    settings = settings_for(None)
    configure_logging(settings.log_level, json_lines=settings.log_json)
    platform = build_platform(settings)

    async def run() -> None:
        background = await workers.start(platform)
        tune_garbage_collector()
        try:
            await asyncio.Event().wait()
        finally:
            await background.stop()
            await platform.stop_bus()

    asyncio.run(run())


@handles_domain_errors
def serve(host: str = "127.0.0.1", port: int = 8000,
          workers: int = typer.Option(1, help="进程数 / worker processes")) -> None:
    """Serve the platform with settings from CITYOPS_* variables. 启动平台服务。"""
    settings = settings_for(None)
    configure_logging(settings.log_level, json_lines=settings.log_json)
    if workers > 1:
        uvicorn.run("cityops.web.asgi:app", host=host, port=port, workers=workers, log_level="warning")
        return
    platform = build_platform(settings)
    app = create_app(platform)
    tune_garbage_collector()
    uvicorn.run(app, host=host, port=port, log_level="warning")


@handles_domain_errors
def demo(port: int = typer.Option(8000, help="端口 / port"),
         host: str = typer.Option("127.0.0.1", help="监听地址 / address"),
         data_dir: Path | None = DataDirOption,
         no_serve: bool = typer.Option(False, "--no-serve", help="只准备数据，不启动 / prepare only")) -> None:
    """Create or reuse the demo city (淄博市) in DATA_DIR and serve it. 启动演示城市。"""
    settings = settings_for(data_dir)
    configure_logging(settings.log_level, json_lines=settings.log_json)
    if settings.secret_key is None:
        key = load_or_create_secret_key(settings.data_dir)
        settings = settings.model_copy(update={"secret_key": SecretStr(key)})
    platform = build_platform(settings)
    typer.echo("正在准备演示城市（淄博市）… preparing the demo city (Zibo)…")
    migrate.upgrade(platform.db.engine)
    creds = load_demo(platform,
                      admin_password=_secret(settings.demo_admin_password),
                      open311_key=_secret(settings.demo_open311_key))
    url = f"http://{host}:{port}"
    others = [s.username for s in zibo_org.DEMO_STAFF if s.username != creds.admin_username]
    typer.echo(
        f"\nCityOps 演示城市已就绪 / demo city ready\n"
        f"  地址 URL:              {url}\n"
        f"  管理员 admin login:    {creds.admin_username} / {creds.admin_password}\n"
        f"  Open311 API key:       {creds.open311_key}\n"
        f"  其他演示账号 other demo users (same password): {', '.join(others)}\n"
        f"  数据目录 data folder:  {settings.data_dir.resolve()}\n"
    )
    if no_serve:
        return
    app = create_app(platform)
    tune_garbage_collector()
    uvicorn.run(app, host=host, port=port, log_level="warning")


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None
