"""Browser tests: the demo city served by a real uvicorn on 127.0.0.1, driven by Debian's chromium through
Playwright (never a downloaded browser).

Every page a test opens is watched: a JavaScript error or console error fails the test, and a request to any
host but 127.0.0.1 is blocked and fails it too. `shoot(page, name)` saves a screenshot under
test-artifacts/screenshots/ (CI keeps that folder); a later run overwrites it.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import uvicorn
from pydantic import SecretStr

from cityops.core import migrate
from cityops.core.settings import Settings
from cityops.demo.loader import load_demo
from cityops.platform import Platform, build_platform
from cityops.web.app import create_app
from tests.conftest import REQUIRE_SERVICES, TEST_SECRET

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "screenshots"
DEMO_PASSWORD = "demo-password-for-browser-tests"
PHONE = {"width": 390, "height": 844}

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveSite:
    url: str
    platform: Platform
    password: str = DEMO_PASSWORD
    open311_key: str = ""


@pytest.fixture(scope="session")
def live_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveSite]:
    """The demo city with its workers running (triage turns reports into cases), on a free loopback port."""
    if not Path(CHROMIUM).exists():
        if REQUIRE_SERVICES:
            pytest.fail("Debian's chromium is not installed (apt-get install chromium)")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    folder = tmp_path_factory.mktemp("browser-site")
    settings = Settings(data_dir=folder, database_url=f"sqlite:///{folder / 'cityops.db'}",  # type: ignore[call-arg]
                        secret_key=SecretStr(TEST_SECRET), bus_url="memory://", run_workers=True,
                        triage_poll_s=0.3)
    platform = build_platform(settings)
    migrate.upgrade(platform.db.engine)
    creds = load_demo(platform, admin_password=DEMO_PASSWORD)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(platform), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started:
        if time.time() > deadline:
            raise RuntimeError("the live server did not start")
        time.sleep(0.05)
    try:
        yield LiveSite(f"http://127.0.0.1:{port}", platform, open311_key=creds.open311_key)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        platform.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@dataclass
class Watch:
    """What went wrong in the pages of one test."""

    errors: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)

    def check(self) -> None:
        assert not self.outside, f"requests left 127.0.0.1: {self.outside}"
        assert not self.errors, f"JavaScript errors: {self.errors}"


def _watch(context: Any, watch: Watch) -> None:
    def route(route: Any) -> None:
        host = urlparse(route.request.url).hostname
        if route.request.url.startswith(("data:", "blob:")) or host == "127.0.0.1":
            route.continue_()
        else:
            watch.outside.append(route.request.url)
            route.abort()

    context.route("**/*", route)

    def on_console(page: Any, message: Any) -> None:
        if message.type != "error":
            return
        # An API call answered 4xx is the page's business (it shows the message); the browser still logs it.
        source = (message.location or {}).get("url", "")
        if "/api/" in source and "status of 4" in message.text:
            return
        watch.errors.append(f"{page.url}: {message.text} ({source})")

    def on_page(page: Any) -> None:
        page.on("pageerror", lambda error: watch.errors.append(f"{page.url}: {error}"))
        page.on("console", lambda message: on_console(page, message))

    context.on("page", on_page)


@pytest.fixture
def new_context(browser: Any, live_site: LiveSite) -> Iterator[Any]:
    """new_context(phone=False, large=False, lang=None) → a fresh browser context (its own cookies), watched."""
    watch = Watch()
    contexts: list[Any] = []

    def make(*, phone: bool = False, large: bool = False, lang: str | None = None, geolocation: Any = None) -> Any:
        options: dict[str, Any] = {"base_url": live_site.url, "locale": "en-GB" if lang == "en" else "zh-CN",
                                   "timezone_id": "Asia/Shanghai"}
        if phone:
            options.update(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
        if geolocation is not None:
            options.update(geolocation=geolocation, permissions=["geolocation"])
        context = browser.new_context(**options)
        context.set_default_timeout(15_000)
        cookies = [{"name": "cityops_large", "value": "1", "url": live_site.url}] if large else []
        if lang:
            cookies.append({"name": "cityops_lang", "value": lang, "url": live_site.url})
        if cookies:
            context.add_cookies(cookies)
        _watch(context, watch)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()
    watch.check()


def sign_in(page: Any, username: str, password: str = DEMO_PASSWORD, *, then: str | None = None) -> None:
    page.goto("/login" + (f"?next={then}" if then else ""))
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url, timeout=20_000)  # the page moves on once signed in
    page.wait_for_load_state("networkidle")


def png(width: int = 32, height: int = 24) -> bytes:
    """A real, small PNG (an orange square) made with the standard library, for photo uploads."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + b"\xe0\x66\x1b" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def shoot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def axe_violations(page: Any, *, impacts: tuple[str, ...] = ("serious", "critical")) -> list[dict[str, Any]]:
    """axe-core (from npm, vendored under tests/web/vendor) run inside the page: its serious and critical
    violations."""
    page.add_script_tag(path=str(Path(__file__).resolve().parents[1] / "vendor" / "axe.min.js"))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [v for v in result["violations"] if v.get("impact") in impacts]


