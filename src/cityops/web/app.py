"""The ASGI application: API routers, Open311, pages, health, metrics, errors in one place."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import structlog
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from cityops import __version__, workers
from cityops.audit import views as audit_views
from cityops.cases import views as case_views
from cityops.catalog import views as catalog_views
from cityops.core.errors import ConfigurationError
from cityops.datahub import views as datahub_views
from cityops.indicators import views as indicator_views
from cityops.insight import cockpit as cockpit_figures
from cityops.insight import views as insight_views
from cityops.intake import open311
from cityops.intake import views as intake_views
from cityops.intake.batcher import IntakeBatcher
from cityops.intake.fast_lane import IntakeFastLane
from cityops.org import views as org_views
from cityops.platform import Platform
from cityops.regions import views as regions_views
from cityops.sensing import views as sensing_views
from cityops.web import cockpit, errors, health, hub_pages, mobile_pages, pages, portal, sensing_pages, workbench_pages

log = structlog.get_logger(__name__)


def _warm_cockpit(platform: Platform) -> None:
    try:
        cockpit_figures.warm_up(platform)
    except Exception:  # a cold cockpit is slower, not broken: the first viewer computes what is missing
        log.exception("cockpit.warm_up_failed")


def create_app(platform: Platform, *, start_bus: bool = True) -> FastAPI:
    secret = platform.settings.secret_key
    if secret is None or len(secret.get_secret_value()) < 32:
        raise ConfigurationError("CITYOPS_SECRET_KEY must be set to at least 32 characters",
                                 field="CITYOPS_SECRET_KEY")

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if platform.settings.cockpit_warm_up:
            threading.Thread(target=_warm_cockpit, args=(platform,), name="cockpit-warm-up", daemon=True).start()
        background = None
        if start_bus:
            await platform.start_bus(relay=platform.api_relays())
            if platform.settings.run_workers:
                background = await workers.start(platform)
        try:
            yield
        finally:
            await batcher.close()
            if background is not None:
                await background.stop()
            if start_bus:
                await platform.stop_bus()

    batcher = IntakeBatcher(platform)
    app = FastAPI(title="CityOps 城市运行管理平台", version=__version__, lifespan=lifespan,
                  description="一网统管 · 数字底座 · 一网通办 — city operations, data hub, one-stop services")
    app.state.platform = platform
    app.state.intake_batcher = batcher
    app.state.metrics = health.HttpMetrics()
    app.add_middleware(IntakeFastLane)  # the innermost: metrics and session see its requests as any other
    app.add_middleware(health.MetricsMiddleware, metrics=app.state.metrics)
    app.add_middleware(SessionMiddleware, secret_key=secret.get_secret_value(), session_cookie="cityops_session",
                       same_site="lax", https_only=False, max_age=12 * 3600)
    errors.install(app)
    # Routes are matched in order: intake's POST /api/v1/reports, the busiest, comes right after the probes.
    for module in (health, intake_views, org_views, regions_views, audit_views, case_views, pages):
        app.include_router(module.router)
    app.include_router(insight_views.router)
    app.include_router(catalog_views.router)
    app.include_router(sensing_views.router)
    app.include_router(indicator_views.router)
    app.include_router(datahub_views.router)
    for module in (cockpit, workbench_pages, mobile_pages, portal, hub_pages, sensing_pages):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    app.mount(open311.PREFIX, open311.create_open311_app(platform))
    return app
