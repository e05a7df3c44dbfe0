"""The Content-Security-Policy in a real Chromium: it refuses inline script (and the tests' watch sees the
refusal), and the main pages, with their maps and charts, run without a single violation. Every other
browser test fails on a violation as well (tests/conftest.py, csp_clean)."""

import pytest
from django.urls import reverse

from .conftest import CSP_VIOLATIONS, sign_in

pytestmark = [pytest.mark.browser]

PUBLIC = ["/", "/accounts/login/", "/ledger/", "/deliberation/", "/deliberation/disclosures/", "/duties/",
          "/admin/login/"]


def test_an_inline_script_is_refused_and_the_watch_reports_it(page, live_world):
    page.goto("/")
    with page.expect_console_message(lambda message: "Content Security Policy" in message.text):
        page.evaluate("""() => { const s = document.createElement("script");
                                 s.textContent = "window.inlineRan = true"; document.body.appendChild(s); }""")
    assert page.evaluate("() => window.inlineRan === undefined")
    assert any("script-src" in violation for violation in CSP_VIOLATIONS)
    CSP_VIOLATIONS.clear()  # expected here; any other test fails on one


def test_the_main_pages_run_without_a_policy_violation(page, live_world):
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    for url in PUBLIC:
        response = page.goto(url)
        assert response.status == 200, url
        assert "script-src 'self'" in response.headers["content-security-policy"]
        page.wait_for_load_state("networkidle")
    page.goto("/api/v1/docs")
    page.wait_for_selector("#swagger-ui .info")  # swagger-ui's own script ran under the policy
    sign_in(page, live_world.secretary_a.username)
    for url in [reverse("demands:new"), reverse("demands:mine"), reverse("demands:dashboard"),
                reverse("org:region", args=[live_world.community_a.pk]), reverse("org:coverage"),
                reverse("org:person", args=[live_world.resident_a.pk]), reverse("insight:cockpit")]:
        response = page.goto(url)
        assert response.status == 200, url
        page.wait_for_load_state("networkidle")
    page.goto(reverse("org:region", args=[live_world.community_a.pk]))
    page.wait_for_selector("#map[data-ready=true]")  # Leaflet drew the map under the policy
    assert errors == []


def test_the_admin_runs_without_a_policy_violation(page, live_world):
    from django.contrib.auth import get_user_model

    from .conftest import PASSWORD

    get_user_model().objects.create_superuser("root", "root@example.org", PASSWORD)
    page.goto("/admin/login/")
    page.fill("input[name=username]", "root")
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_load_state()
    for url in ["/admin/", "/admin/org/region/", f"/admin/org/region/{live_world.grid_a1.pk}/change/",
                "/admin/auth/user/add/"]:
        response = page.goto(url)
        assert response.status == 200 and "/login/" not in page.url, url
        page.wait_for_load_state("networkidle")
