"""In a real headless Chromium: signing in, the grid map (Leaflet) and its clicks, the logged reveal of a
resident's phone, a 404 outside one's scope, and the language switch."""

import re

import pytest
from django.urls import reverse

from gongzhi.org.models import PersonalDataAccess
from gongzhi.org.rules import mask_phone

from .conftest import sign_in

pytestmark = [pytest.mark.browser]


def test_secretary_signs_in_through_the_form_and_lands_on_the_home_page(page, live_world, screenshot):
    sign_in(page, live_world.secretary_a.username)
    assert re.fullmatch(r"https?://[^/]+/", page.url)  # web:home, not the login form again
    assert page.locator(".topbar .who-name").inner_text() == live_world.secretary_a.person.name  # a name, not a login
    assert "东园社区党委" in page.locator(".topbar .who-post").inner_text()  # and the post
    assert page.locator(f"a[href='{reverse('org:regions')}']").first.is_visible()
    screenshot(page, "home")


def test_community_map_draws_one_shape_per_grid_and_a_click_opens_the_grid(signed_in_page, live_world, screenshot):
    page = signed_in_page
    page.goto(reverse("org:region", args=[live_world.community_a.pk]))
    page.wait_for_selector("#map[data-ready=true]")
    shapes = page.locator("#map path.region-link")
    assert shapes.count() == 2  # 东园一网格, 东园二网格, drawn by Leaflet
    labels = page.locator("#map .gz-page-label").all_inner_texts()
    assert {"东园一网格", "东园二网格"} <= set(labels)
    assert not any("A1" in label for label in labels)  # names, not codes
    screenshot(page, "community")

    # A click with the mouse on grid A1's shape opens its page.
    grid_a1 = page.locator(f"#map path[data-url='{reverse('org:region', args=[live_world.grid_a1.pk])}']")
    box = grid_a1.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.7)
    page.wait_for_url(re.compile(re.escape(reverse("org:region", args=[live_world.grid_a1.pk])) + "$"))
    assert page.locator("h1").inner_text() == "东园一网格"
    page.wait_for_selector("#map[data-ready=true]")
    screenshot(page, "grid")


def test_reveal_shows_the_full_phone_after_a_purpose_is_given(signed_in_page, live_world, screenshot):
    page = signed_in_page
    page.goto(reverse("org:person", args=[live_world.resident_a.pk]))
    full = live_world.resident_a.personal_data.phone
    phone = page.locator("#personal-data [data-field=phone]")
    assert phone.inner_text() == mask_phone(full)
    screenshot(page, "person-masked")

    # A blank purpose (spaces pass the browser's `required`) comes back as a 400 with the reason.
    page.fill("#personal-data input[name=purpose]", "   ")
    page.click("#personal-data button[type=submit]")
    page.wait_for_selector("#personal-data .error")
    assert phone.inner_text() == mask_phone(full)

    page.fill("#personal-data input[name=purpose]", "入户走访")
    page.click("#personal-data button[type=submit]")
    page.wait_for_function("full => document.querySelector('#personal-data [data-field=phone]').textContent === full",
                           arg=full)
    assert page.locator("#personal-data .notice.ok").is_visible()
    logged = PersonalDataAccess.objects.filter(person=live_world.resident_a, purpose="入户走访", channel="web")
    assert logged.count() == 1
    screenshot(page, "person-revealed")


def test_the_other_communitys_page_is_not_found(signed_in_page, live_world, screenshot):
    response = signed_in_page.goto(reverse("org:region", args=[live_world.community_b.pk]))
    assert response.status == 404
    assert "西园" not in signed_in_page.content()
    screenshot(signed_in_page, "not-found")


def test_language_switch_to_english(signed_in_page, live_world):
    page = signed_in_page
    page.goto(reverse("org:organisations"))
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    page.click(".lang button[value=en]")
    page.wait_for_function("document.documentElement.lang === 'en'")
    assert page.url.endswith(reverse("org:organisations"))
