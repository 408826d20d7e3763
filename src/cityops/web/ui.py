"""What every page shares: the templates, the language (zh-CN first, English on request), the large-text mode
(适老化), role-based navigation, and the guard that sends a signed-out visitor to the sign-in page.

Templates say each string in both languages, `{{ t("派遣工作台", "Dispatcher workbench") }}`, so a page and its
translation are written (and reviewed) together; `t` picks one by the visitor's choice, kept in a cookie.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from cityops.org.access import Principal
from cityops.org.roles import ROLE_LABELS, Role

LANG_COOKIE: Final = "cityops_lang"
LARGE_COOKIE: Final = "cityops_large"  # "1": large text and high contrast on every page
LANGUAGES: Final = ("zh-CN", "en")
COOKIE_AGE: Final = 365 * 24 * 3600

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


@dataclass(frozen=True)
class NavItem:
    href: str
    zh: str
    en: str
    roles: frozenset[Role]


_STAFF = frozenset({Role.ADMIN, Role.LEADER, Role.DISPATCHER, Role.HANDLER, Role.GRID_WORKER, Role.DATA_OFFICER})
NAV: Final = (
    NavItem("/cockpit", "领导驾驶舱", "Cockpit", frozenset({Role.ADMIN, Role.LEADER, Role.DISPATCHER})),
    NavItem("/workbench", "派遣工作台", "Dispatcher workbench", frozenset({Role.ADMIN, Role.DISPATCHER})),
    NavItem("/tasks", "我的任务", "My tasks", frozenset({Role.ADMIN, Role.HANDLER})),
    NavItem("/m", "网格员", "Grid worker", frozenset({Role.ADMIN, Role.GRID_WORKER})),
    NavItem("/sensing", "物联感知", "Sensing", frozenset({Role.ADMIN, Role.LEADER, Role.DISPATCHER})),
    NavItem("/hub", "数据目录", "Data catalogue", _STAFF),
    NavItem("/hub/lists", "共享申请", "Sharing", frozenset({Role.ADMIN, Role.DATA_OFFICER})),
)
HOME_BY_ROLE: Final = {Role.LEADER: "/cockpit", Role.DISPATCHER: "/workbench", Role.HANDLER: "/tasks",
                       Role.GRID_WORKER: "/m", Role.DATA_OFFICER: "/hub", Role.ADMIN: "/cockpit"}


def language(request: Request) -> str:
    chosen = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    platform = getattr(request.app.state, "platform", None)
    default = platform.settings.language if platform is not None else "zh-CN"
    return default if default in LANGUAGES else "zh-CN"


def translator(lang: str) -> Callable[[str, str], str]:
    english = lang == "en"
    return lambda zh, en: en if english else zh


def large_text(request: Request) -> bool:
    return request.cookies.get(LARGE_COOKIE) == "1"


def nav_for(principal: Principal | None) -> list[NavItem]:
    if principal is None:
        return []
    return [item for item in NAV if principal.role in item.roles]


def role_label(principal: Principal | None, lang: str) -> str:
    if principal is None:
        return ""
    zh, en = ROLE_LABELS.get(principal.role, (principal.role.value, principal.role.value))
    return en if lang == "en" else zh


def page(request: Request, template: str, principal: Principal | None, context: Mapping[str, Any] | None = None,
         *, status_code: int = 200) -> HTMLResponse:
    lang = language(request)
    nav = nav_for(principal)
    path = request.url.path
    # The one item for this page: the longest link the path starts with (/hub/lists is not also /hub).
    current = max((item.href for item in nav if path == item.href or path.startswith(item.href + "/")),
                  key=len, default=None)
    values = {"principal": principal, "t": translator(lang), "lang": lang, "large": large_text(request),
              "nav": nav, "current": current, "role_label": role_label(principal, lang), "path": path,
              **(context or {})}
    response = templates.TemplateResponse(request, template, values, status_code=status_code)
    if request.query_params.get("lang") in LANGUAGES:  # ?lang=en switches, and the choice is remembered
        response.set_cookie(LANG_COOKIE, lang, max_age=COOKIE_AGE, samesite="lax")
    return response


def guard(request: Request, principal: Principal | None, roles: frozenset[Role] | None = None) -> Response | None:
    """None when the visitor may see the page; otherwise the sign-in redirect or a 403 page to return."""
    if principal is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
    if roles is not None and principal.role not in roles:
        return page(request, "forbidden.html", principal, status_code=403)
    return None
