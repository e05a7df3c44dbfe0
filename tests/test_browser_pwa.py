"""Installable on a phone (issue #16 item 9) and drafts that survive (item 5), in a real headless Chromium: the
manifest and its icons, the service worker keeping the app shell so the home page opens offline and other
pages answer with the offline page, and a report being written coming back after the tab is reloaded."""

import json

import pytest
from django.urls import reverse


pytestmark = [pytest.mark.browser]
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone_context(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport=PHONE, is_mobile=True,
                                  has_touch=True, device_scale_factor=2)
    context.set_default_timeout(15_000)
    yield context
    context.close()


def test_the_manifest_names_the_app_and_its_icons_exist(client):
    body = json.loads(client.get(reverse("web:manifest")).content)
    assert body["start_url"] == "/" and body["display"] == "standalone" and body["short_name"]
    for icon in body["icons"]:
        answer = client.get(icon["src"])
        assert answer.status_code == 200 and b"".join(answer.streaming_content)[:8] == b"\x89PNG\r\n\x1a\n"
    sw = client.get(reverse("web:service_worker"))
    assert sw["Content-Type"].startswith("application/javascript") and sw["Service-Worker-Allowed"] == "/"
    assert '"/demands/report/"' in sw.content.decode()


def test_the_home_page_opens_offline_and_other_pages_say_there_is_no_connection(live_world, phone_context):
    page = phone_context.new_page()
    page.goto("/")
    page.wait_for_function("navigator.serviceWorker && navigator.serviceWorker.controller !== null || "
                           "navigator.serviceWorker.ready.then(() => true)")
    page.evaluate("navigator.serviceWorker.ready")
    page.reload()  # now controlled by the worker, which has kept the shell
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    phone_context.set_offline(True)
    try:
        page.goto("/")
        assert page.locator(".front-door").is_visible()  # the home page, from the kept shell
        page.goto(reverse("deliberation:topics"))
        assert page.locator("#offline").is_visible()  # not kept: the offline page
    finally:
        phone_context.set_offline(False)


def test_a_report_being_written_comes_back_after_a_reload(live_world, phone_context):
    page = phone_context.new_page()
    page.goto(reverse("demands:report"))
    page.wait_for_selector("#demand-map[data-ready=true]")
    page.locator("select[name=grid]").select_option(index=1)  # step 1: where (the grid, and the address)
    page.fill("input[name=address]", "东园路12号3单元")
    page.locator("#step-where .step-next").tap()
    page.fill("textarea[name=text]", "楼道灯坏了，晚上看不见台阶")  # step 2: what
    page.reload()
    page.wait_for_selector("form.demand-form[data-draft-restored=true]")
    assert page.input_value("textarea[name=text]") == "楼道灯坏了，晚上看不见台阶"
    assert page.input_value("input[name=address]") == "东园路12号3单元"
    assert page.locator("#draft-restored").is_visible()

