"""The masked preview: while typing a published text, its author is shown what the public will not see;
after posting, the notice says what was masked (by kind only)."""

import pytest
from django.conf import settings
from django.urls import reverse

from gongzhi.deliberation.tests.conftest import MONDAY_9AM, Village
from gongzhi.core import clock
from gongzhi.demands.tests.conftest import ledger_keys  # noqa: F401 (the fixture)

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


@pytest.fixture
def village(world, ledger_keys):
    with clock.frozen_at(MONDAY_9AM):
        yield Village(world)


def test_the_preview_lists_each_masked_piece_of_the_field_being_typed(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.post(reverse("web:masked_preview"),
                           {"title": "不相干 13900001111", "description": "电话 138 1234 5678，住幸福路12号3栋201室"},
                           headers={**HTMX, "HX-Trigger-Name": "description"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "138 1234 5678" in body and "138****5678" in body and "<del>12号3栋201室</del>" in body
    assert "13900001111" not in body  # another field, not the one being typed
    assert "mobile number" in body and "house number" in body


def test_the_preview_is_empty_when_nothing_would_be_masked(client):
    response = client.post(reverse("web:masked_preview"), {"text": "2026年预算120000元，3号楼电梯"},
                           headers={**HTMX, "HX-Trigger-Name": "text"})
    assert response.status_code == 200 and response.content.decode().strip() == ""


def test_the_preview_takes_no_get_so_the_text_stays_out_of_urls(client):
    assert client.get(reverse("web:masked_preview"), {"text": "13800001111"}).status_code == 405


def test_the_forms_of_published_text_ask_for_the_preview_without_inline_script(client, village):
    client.force_login(village.adults[6].user)
    body = client.get(reverse("deliberation:topics")).content.decode()
    assert f'hx-post="{reverse("web:masked_preview")}"' in body and 'class="masked-preview"' in body
    assert "hx-on" not in body and "js:" not in body


def test_after_posting_the_notice_says_what_was_masked(client, village):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(village.adults[6].user)
    response = client.post(reverse("deliberation:propose"), {
        "region": village.village.pk, "title": "修路", "description": "有事打 138-1234-5678，身份证 110101199003071234"},
        follow=True)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Masked when published" in body and "mobile number × 1" in body and "ID number × 1" in body
    assert "138-1234-5678" not in body and "110101199003071234" not in body
