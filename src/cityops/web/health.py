"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from sqlalchemy import text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cityops.web.deps import PlatformDep

router = APIRouter(tags=["ops 运维"])


class HttpMetrics:
    """Per-app registry, so several apps in one process (tests) never clash."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("cityops_http_requests_total", "HTTP requests", ["method", "route", "status"],
                                registry=self.registry)
        self.latency = Histogram("cityops_http_request_duration_seconds", "HTTP request latency",
                                 ["method", "route"], registry=self.registry)
        self._children: dict[tuple[str, str, int], tuple[Histogram, Counter]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """One request. The labelled children are kept: looking them up checks labels and takes a lock."""
        children = self._children.get((method, route, status))
        if children is None:
            children = self._children[(method, route, status)] = (
                self.latency.labels(method, route), self.requests.labels(method, route, str(status)))
        children[0].observe(seconds)
        children[1].inc()


class MetricsMiddleware:
    """Plain ASGI (not BaseHTTPMiddleware, which costs a task and a stream copy per request on the hot path)."""

    def __init__(self, app: ASGIApp, metrics: HttpMetrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def send_and_note(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            # Label by the route's template, not the raw path, so ids do not explode the label set.
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            self.metrics.observe(scope.get("method", ""), route, status[0], time.perf_counter() - started)


@router.get("/healthz", include_in_schema=False)
async def healthz() -> dict[str, str]:  # async: a sync route costs two thread hand-offs to return a constant
    return {"status": "ok"}


@router.get("/readyz", include_in_schema=False)
def readyz(platform: PlatformDep) -> JSONResponse:
    checks: dict[str, str] = {}
    try:
        with platform.db.session() as session:
            session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # readiness reports, it does not raise
        checks["database"] = f"error: {exc.__class__.__name__}"
    checks["bus"] = "ok" if platform.bus is not None else "not started"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse({"status": "ready" if ready else "not ready", "checks": checks},
                        status_code=200 if ready else 503)


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    registry = request.app.state.metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
