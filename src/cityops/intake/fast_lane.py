"""POST /api/v1/reports for the common case without the framework's per-request machinery.

The route in views.py stays the definition: its OpenAPI entry and every refusal. Routing, dependency solving,
body parsing and the response chain cost more CPU per report than storing it, so this ASGI middleware answers a
request itself only when it can answer exactly as the route would: an API key the principal cache remembers and
whose role may create reports, a JSON body that validates as `ReportIn`. Everything else (a browser session,
an unknown or invalid key, a body that fails validation, another content type, dependency overrides in tests)
goes on to the route with the body replayed, so each refusal keeps its single implementation.

It sits inside the session and metrics middleware, which therefore see these requests as they see any other.
"""

from __future__ import annotations

import orjson
from fastapi.routing import APIRoute
from pydantic import ValidationError
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cityops.core.errors import DomainError
from cityops.intake import views
from cityops.intake.batcher import IntakeBatcher
from cityops.intake.schemas import ReportIn
from cityops.org.access import Principal
from cityops.org.roles import allowed
from cityops.web import errors
from cityops.web.deps import bearer_token, remembered_key

PATH = "/api/v1/reports"


class IntakeFastLane:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.route = next(r for r in views.router.routes
                          if isinstance(r, APIRoute) and r.path == PATH and "POST" in (r.methods or ()))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        principal = self._caller(scope) if scope["type"] == "http" and scope["path"] == PATH else None
        if principal is None:
            await self.app(scope, receive, send)
            return
        body, received = await _read_body(receive)
        report = _parse(body)
        if report is None:  # the route names the field (or refuses the body) in its usual words
            await self.app(scope, _replay(received, receive), send)
            return
        scope["route"] = self.route  # the metrics label, as when the router matched it
        batcher: IntakeBatcher = scope["app"].state.intake_batcher
        response: Response
        try:
            receipt = await batcher.submit(report, principal)
        except DomainError as exc:  # e.g. an unknown photo: the same handler the route's errors go to
            response = await errors.domain_error_handler(Request(scope, receive), exc)
        else:
            response = views.receipt_response(receipt)
        await response(scope, receive, send)

    def _caller(self, scope: Scope) -> Principal | None:
        """Who sends this report, when this lane may answer for the route; None hands it to the route."""
        if scope["method"] != "POST" or scope.get("root_path") or scope["app"].dependency_overrides:
            return None
        headers = Headers(scope=scope)
        media_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        token = bearer_token(headers) if media_type == "application/json" else None
        principal = remembered_key(scope["app"].state.platform, token) if token else None
        return principal if principal is not None and allowed(principal.role, "reports.create") else None


async def _read_body(receive: Receive) -> tuple[bytes | None, list[Message]]:
    """The whole body (None if the client went away first) and the messages read, to replay them."""
    received: list[Message] = []
    chunks: list[bytes] = []
    while True:
        message = await receive()
        received.append(message)
        if message["type"] != "http.request":
            return None, received
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), received


def _parse(body: bytes | None) -> ReportIn | None:
    """The report, or None when the route should judge the body. orjson accepts strictly less than the json
    module (no NaN, no lone surrogates, UTF-8 only), so what it reads the route would read the same way."""
    if not body:
        return None
    try:
        return ReportIn.model_validate(orjson.loads(body))
    except (orjson.JSONDecodeError, ValidationError):
        return None


def _replay(received: list[Message], receive: Receive) -> Receive:
    async def replayed() -> Message:
        return received.pop(0) if received else await receive()

    return replayed
