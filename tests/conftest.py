"""Fixtures for the browser tests: Debian's Chromium driven by Playwright against pytest-django's
live_server. Playwright never downloads a browser here: without /usr/bin/chromium the browser
tests are skipped, or fail when GONGZHI_REQUIRE_BROWSER=1 (CI)."""

import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make around it
# are ordinary synchronous code, so let Django allow them.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
PASSWORD = "pw-test-123"  # what factories.user() sets


def _need_browser(reason: str):
    if os.environ.get("GONGZHI_REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser tests required (GONGZHI_REQUIRE_BROWSER=1) but {reason}", pytrace=False)
    pytest.skip(f"browser tests skipped: {reason}")


# Every Content-Security-Policy violation any browser test's page reports (console and the DOM's
# securitypolicyviolation event): each test fails if its pages reported one (see csp_clean).
CSP_VIOLATIONS: list[str] = []
_REPORT_VIOLATIONS = """document.addEventListener("securitypolicyviolation", function (e) {
  console.error("CSP violation: " + e.violatedDirective + " blocked " + e.blockedURI + " at " + e.sourceFile + ":" + e.lineNumber);
});"""


def _is_csp_violation(text: str) -> bool:
    return "Content Security Policy" in text or text.startswith("CSP violation")


class CspWatchingBrowser:
    """The Playwright browser, whose every new context records CSP violations in CSP_VIOLATIONS."""

    def __init__(self, browser):
        self._browser = browser

    def new_context(self, *args, **kwargs):
        context = self._browser.new_context(*args, **kwargs)
        context.add_init_script(_REPORT_VIOLATIONS)
        context.on("console", lambda message: _is_csp_violation(message.text)
                   and CSP_VIOLATIONS.append(f"{message.page.url if message.page else '?'}: {message.text}"))
        return context

    def new_page(self, *args, **kwargs):
        return self.new_context(*args, **kwargs).new_page()

    def __getattr__(self, name):
        return getattr(self._browser, name)


@pytest.fixture(autouse=True)
def csp_clean():
    """No page a test opened may report a Content-Security-Policy violation."""
    CSP_VIOLATIONS.clear()
    yield CSP_VIOLATIONS
    found, CSP_VIOLATIONS[:] = list(CSP_VIOLATIONS), []
    assert not found, "Content-Security-Policy violations:\n" + "\n".join(found)


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium per test module."""
    if not CHROMIUM.exists():
        _need_browser(f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _need_browser("the playwright package is not installed (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield CspWatchingBrowser(chromium)
        chromium.close()


@pytest.fixture
def live_world(transactional_db, settings):
    """The factories' World, committed, so the live server's thread sees it."""
    from gongzhi.org.tests.factories import World

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # tests only: fast sign-in
    settings.AXES_ENABLED = True  # sign in through the form with the lock-out on, as in production

    return World()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context (no cookies) per test, with the live server as base URL."""
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    tab = context.new_page()
    yield tab
    context.close()


def sign_in(page, username: str, password: str = PASSWORD):
    """Sign in through the login form, as a person would."""
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form.form button[type=submit]")
    page.wait_for_load_state()


@pytest.fixture
def signed_in_page(page, live_world):
    """A page signed in as community A's party secretary (world.secretary_a)."""
    sign_in(page, live_world.secretary_a.username)
    return page


@pytest.fixture
def screenshot():
    """Save a full-page screenshot when GONGZHI_SCREENSHOT_DIR is set (for looking at the pages)."""
    folder = os.environ.get("GONGZHI_SCREENSHOT_DIR")

    def take(page, name: str):
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)

    return take


@pytest.fixture
def demand_world(live_world, settings, tmp_path):
    """org's World plus the demands actors (DemandWorld), committed for the live server's thread; the ledger's
    keys and the photos in the test's own folder."""
    from gongzhi.demands.tests.factories import DemandWorld

    settings.GONGZHI_LEDGER_KEY = tmp_path / "ledger" / "signing.key"
    settings.GONGZHI_LEDGER_PSEUDONYM_KEY = tmp_path / "ledger" / "pseudonym.key"
    settings.GONGZHI_LEDGER_ORIGIN = "test.gongzhi.local/ledger"
    settings.MEDIA_ROOT = tmp_path / "media"
    return DemandWorld(live_world)


@pytest.fixture
def shots(request, tmp_path_factory):
    """Full-page screenshots, always kept: in GONGZHI_SCREENSHOT_DIR when set, else in a pytest temp folder;
    named "<the module's SHOTS_PREFIX>-<name>.png"."""
    prefix = getattr(request.module, "SHOTS_PREFIX", request.module.__name__.rsplit(".", 1)[-1])
    folder = Path(os.environ.get("GONGZHI_SCREENSHOT_DIR") or tmp_path_factory.mktemp(f"{prefix}-screenshots"))
    folder.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = folder / f"{prefix}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    take.folder = folder
    return take
