"""Each demo login opens gongzhi onto its own day's work (issue #17 item 1): on the demo district, each of the nine
people signs in through the form (a phone with touch for the grid worker, the building lead and the resident; a
desktop with a mouse for officials and staff), lands on a home page that shows only what their posts give them,
and every link of their menu and of their work opens (none answers "no access")."""

import pytest
from django.test import override_settings


pytestmark = [pytest.mark.browser]

SHOTS_PREFIX = "workbench"
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True, "device_scale_factor": 2}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}

# For each login: the device, menu entries it must have, menu entries it must not have, work-item groups it must
# show (empty: no 今日工作 page, the residents' front door).
EXPECTED = {
    "district": (DESKTOP, {"home", "insight", "rates", "supervision", "monthly"}, {"patrol", "building", "report"},
                 {"supervision"}),
    "street_secretary": (DESKTOP, {"home", "insight", "rates", "supervision", "monthly"},
                         {"patrol", "building", "report"}, {"supervision"}),
    "community_secretary": (DESKTOP, {"home", "queue", "triage", "org", "claims"}, {"patrol", "building", "report"},
                            {"demands"}),
    "village_secretary": (DESKTOP, {"home", "queue", "triage", "org"}, {"patrol", "building", "report"}, {"demands"}),
    "grid_worker": (PHONE, {"home", "patrol", "care", "queue", "claims"},
                    {"triage", "rates", "insight", "monthly", "supervision", "org", "report"}, {"patrol", "care"}),
    "building_lead": (PHONE, {"home", "building"},
                      {"triage", "rates", "insight", "monthly", "supervision", "org", "queue", "report"}, {"building"}),
    "property_staff": (DESKTOP, {"home", "queue"},
                       {"triage", "insight", "monthly", "supervision", "org", "claims", "patrol", "report"},
                       {"demands"}),
    "data_officer": (DESKTOP, {"home", "access_log"}, {"triage", "queue", "patrol", "building", "report"}, set()),
    "resident": (PHONE, {"report", "mine", "where"}, {"home", "queue", "triage", "insight", "rates", "org"}, None),
}


def _password(username: str) -> str:
    return f"gongzhi-demo-{username.replace('_', '-')}"


@pytest.fixture
def demo_world(transactional_db, settings, tmp_path):
    """The whole demo district, committed so the live server's thread sees it (flushed after the test)."""
    from gongzhi.org import demo

    settings.GONGZHI_LEDGER_KEY = tmp_path / "ledger" / "signing.key"
    settings.GONGZHI_LEDGER_PSEUDONYM_KEY = tmp_path / "ledger" / "pseudonym.key"
    settings.GONGZHI_LEDGER_ORIGIN = "test.gongzhi.local/ledger"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = FAST_HASHERS
    with override_settings(PASSWORD_HASHERS=FAST_HASHERS):
        return demo.build_demo()


def test_each_demo_login_opens_onto_its_own_work(browser, live_server, demo_world, shots):
    for username, (device, has, has_not, groups) in EXPECTED.items():
        context = browser.new_context(base_url=live_server.url, locale="zh-CN", **device)
        context.set_default_timeout(20_000)
        page = context.new_page()
        page.goto("/accounts/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", _password(username))
        page.press("input[name=password]", "Enter")
        page.wait_for_load_state()
        page.goto("/")
        menu = {a.get_attribute("data-menu"): a.get_attribute("href")
                for a in page.locator(".topbar nav a[data-menu]").all()}
        assert has <= set(menu), (username, sorted(menu))
        assert not (has_not & set(menu)), (username, sorted(has_not & set(menu)))
        if groups is None:
            assert page.locator(".workbench:not(.resident-work)").count() == 0, username
            assert page.locator(".topbar .who-post").count() == 0, username  # a resident holds no post
        else:
            shown = set(page.locator(".workbench").evaluate_all("els => els.map(e => e.dataset.group)"))
            assert groups <= shown, (username, sorted(shown))
            if username in ("community_secretary", "village_secretary"):  # 一肩挑: two posts, and the switch
                assert page.locator(".topbar .post-switch option").count() == 3, username  # all, and each post
            else:
                assert page.locator(".topbar .who-post").inner_text().strip(), username  # the post by the name
        shots(page, username)
        work = [a.get_attribute("href") for a in page.locator(".workbench a").all()]
        for href in [*menu.values(), *work]:
            answer = page.request.get(href)
            assert answer.status == 200, (username, href, answer.status)
        context.close()
