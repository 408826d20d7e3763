"""Domain errors with stable codes. The web layer turns them into JSON in one place (web/errors.py).

Each error carries a code (stable, for programs), an HTTP status, and parameters for the message templates
in core/messages.py, so people read the message in their own language.
"""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    code: ClassVar[str] = "error"
    status: ClassVar[int] = 400

    def __init__(self, detail: str | None = None, *, field: str | None = None, **params: Any) -> None:
        self.detail = detail
        self.field = field
        self.params = params
        super().__init__(detail or self.code)

    def message(self, language: str = "zh-CN") -> str:
        from cityops.core.messages import render

        return render(self.code, language, field=self.field, detail=self.detail, **self.params)

    def to_dict(self, language: str = "zh-CN") -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message(language)}
        if self.field:
            body["field"] = self.field
        if self.params:
            body["params"] = {k: v for k, v in self.params.items() if isinstance(v, str | int | float | bool)}
        return body


class NotFound(DomainError):
    code = "not_found"
    status = 404


class Unauthenticated(DomainError):
    code = "auth.unauthenticated"
    status = 401


class BadCredentials(DomainError):
    code = "auth.bad_credentials"
    status = 401


class PermissionDenied(DomainError):
    code = "auth.forbidden"
    status = 403


class ValidationFailed(DomainError):
    code = "validation.invalid"
    status = 422


class Conflict(DomainError):
    code = "conflict"
    status = 409


class InvalidTransition(DomainError):
    code = "case.invalid_transition"
    status = 409


class ConfigurationError(DomainError):
    code = "config.invalid"
    status = 500


class ServiceUnavailable(DomainError):
    code = "service.unavailable"
    status = 503
