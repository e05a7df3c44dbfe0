"""Browsers ask every site for /favicon.ico; it leads to the app's icon instead of a 404 in every log."""

import pytest


@pytest.mark.django_db
def test_the_favicon_is_the_apps_icon(client):
    answer = client.get("/favicon.ico")
    assert answer.status_code == 301 and answer["Location"].endswith("web/icons/gongzhi-192.png")
