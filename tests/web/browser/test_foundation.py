"""The shared layout in a real browser: language switch, large-text mode, sign-in that lands on the role's home."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.browser.conftest import LiveSite, Watch, _watch, axe_violations, shoot, sign_in


def test_the_landing_page_switches_to_english_and_to_large_text(new_context: Any) -> None:
    page = new_context().new_page()
    page.goto("/")
    assert page.locator("h1").inner_text() == "城市运行管理平台"
    page.click("text=English")
    assert page.locator("h1").inner_text() == "City operations platform"
    page.click("button:has-text('Large text')")
    assert "large" in (page.locator("html").get_attribute("class") or "")
    assert page.locator("h1").inner_text() == "City operations platform"  # the language stays chosen
    assert axe_violations(page) == []


def test_signing_in_lands_on_the_role_home_and_a_wrong_password_says_so(new_context: Any) -> None:
    page = new_context().new_page()
    page.goto("/login")
    page.fill("#username", "dispatcher")
    page.fill("#password", "wrong-password")
    page.click("#login-form button[type=submit]")
    page.wait_for_selector(".error:not(:empty)")
    assert "用户名或密码" in page.locator(".error").inner_text()
    shoot(page, "login")
    sign_in(page, "data_officer")
    assert page.url.endswith("/hub")


def test_the_watch_catches_a_javascript_error_and_a_request_leaving_the_machine(browser: Any,
                                                                               live_site: LiveSite) -> None:
    """The guard every browser test relies on, shown to fail when it should."""
    watch = Watch()
    context = browser.new_context(base_url=live_site.url)
    _watch(context, watch)
    page = context.new_page()
    page.goto("/login")
    page.evaluate("() => { setTimeout(() => { throw new Error('boom from a page'); }, 0); }")
    page.evaluate("() => fetch('http://example.com/tracker.js').catch(() => null)")
    page.wait_for_timeout(300)
    context.close()
    assert any("boom from a page" in e for e in watch.errors)
    assert watch.outside == ["http://example.com/tracker.js"]
    with pytest.raises(AssertionError):
        watch.check()
