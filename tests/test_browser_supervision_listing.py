"""挂牌督办's form (/demands/<n>/list-publicly/) in Debian's Chromium at 1280 px with a mouse and at 390 px with
touch: the reasons are a plain vertical list, each radio at the start of its line with its label right after
it (demands.css stretches a .demand-form's inputs to the full width: a radio floated mid-column, its label
wrapped to the right edge). Listing with a chosen reason still works."""

import datetime as dt

import pytest

from gongzhi.core import clock
from gongzhi.demands.models import ListedSupervision
from gongzhi.org.models import Organisation
from gongzhi.org.tests.factories import official

from .conftest import sign_in

pytestmark = [pytest.mark.browser]
SHOTS_PREFIX = "supervision-listing"

DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


@pytest.mark.parametrize("device,name", [(DESKTOP, "1280"), (PHONE, "390")])
def test_the_reasons_are_a_vertical_list_of_radio_and_label(demand_world, browser, live_server, shots, device, name):
    dw = demand_world
    committee = Organisation.objects.create(name="和平街道党工委", kind="party_working_committee",
                                            region=dw.world.street)
    secretary = official(committee, "secretary", f"street_sec_{name}")
    demand = dw.dispatched(at=clock.now() - dt.timedelta(days=10))
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", **device)
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        sign_in(page, secretary.username)
        page.goto(f"/demands/{demand.number}/list-publicly/")
        choices = page.locator("form.supervision-form label.choice")
        choices.first.wait_for()
        assert choices.count() == 3
        fieldset = page.locator("form.supervision-form fieldset.choices").bounding_box()
        boxes = []
        for i in range(choices.count()):
            label = choices.nth(i)
            radio = label.locator("input[type=radio]").bounding_box()
            text = label.locator("span").bounding_box()
            boxes.append((radio, text))
            assert radio["width"] < 40  # a radio, not a full-width input
            assert radio["x"] - fieldset["x"] < 16  # at the start of the line, not mid-column
            assert 0 <= text["x"] - (radio["x"] + radio["width"]) < 24  # its label right after it
            assert abs((text["y"] + text["height"] / 2) - (radio["y"] + radio["height"] / 2)) < 12  # same line
        tops = [radio["y"] for radio, _ in boxes]
        assert tops == sorted(tops) and all(b - a >= 16 for a, b in zip(tops, tops[1:]))  # one under another
        shots(page, f"form-{name}")
        choices.nth(1).click()
        page.locator("form.supervision-form button[type=submit]").click()
        page.wait_for_url(f"**/demands/{demand.number}/**")
        assert ListedSupervision.objects.filter(demand=demand).exists()
    finally:
        context.close()
