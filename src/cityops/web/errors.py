"""The one place where errors become HTTP responses: {"error": {"code", "message", "field", ...}}."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from cityops.core.errors import DomainError
from cityops.core.messages import render

log = structlog.get_logger(__name__)


def request_language(request: Request) -> str:
    header = request.headers.get("accept-language", "")
    if header.lower().startswith("en"):
        return "en"
    if header.lower().startswith("zh"):
        return "zh-CN"
    platform = getattr(request.app.state, "platform", None)
    return platform.settings.language if platform is not None else "zh-CN"


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "form")]
    return ".".join(parts) or ".".join(str(p) for p in loc)


async def domain_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return JSONResponse({"error": exc.to_dict(request_language(request))}, status_code=exc.status)


async def validation_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    language = request_language(request)
    errors = [{"field": _field_name(tuple(e.get("loc", ()))), "message": e.get("msg", "")} for e in exc.errors()]
    first = errors[0] if errors else {"field": "", "message": ""}
    body = {"code": "validation.invalid",
            "message": render("validation.invalid", language, field=first["field"], detail=first["message"]),
            "field": first["field"], "errors": errors}
    return JSONResponse({"error": body}, status_code=422)


async def http_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 401: "auth.unauthenticated", 403: "auth.forbidden"}.get(exc.status_code, "error")
    message = render(code, request_language(request), detail=str(exc.detail))
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=exc.status_code,
                        headers=getattr(exc, "headers", None))


async def unexpected_error_handler(request: Request, exc: Exception) -> JSONResponse:
    log.exception("http.unhandled", path=request.url.path)
    message = render("error", request_language(request), detail="internal error / 内部错误")
    return JSONResponse({"error": {"code": "internal", "message": message}}, status_code=500)


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, domain_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    app.add_exception_handler(Exception, unexpected_error_handler)
