"""The interface is Chinese first: the compiled catalogue is current and pages render in zh-hans."""

import shutil
import subprocess
from pathlib import Path

import pytest
from django.utils import translation

LOCALE = Path(__file__).resolve().parents[2] / "locale" / "zh_Hans" / "LC_MESSAGES"


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext's msgfmt is not installed")
def test_committed_catalogue_is_compiled_from_the_po_file(tmp_path):
    fresh = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check", "-o", str(fresh), str(LOCALE / "django.po")], check=True)
    assert fresh.read_bytes() == (LOCALE / "django.mo").read_bytes(), "run: make messages"


def test_every_message_is_translated():
    po = (LOCALE / "django.po").read_text(encoding="utf-8")
    entries = po.split("\n\n")[1:]  # after the header
    untranslated = [e for e in entries if 'msgstr ""' in e and "msgstr \"\"\n\"" not in e and "msgid_plural" not in e
                    and not e.startswith("#~")]
    assert untranslated == []


def test_ui_strings_are_chinese_by_default_and_english_on_request():
    with translation.override("zh-hans"):
        assert translation.gettext("Sign in") == "登录"
    with translation.override("en"):
        assert translation.gettext("Sign in") == "Sign in"


@pytest.mark.django_db
def test_login_page_is_chinese_first(client):
    html = client.get("/accounts/login/").content.decode()
    assert 'lang="zh-hans"' in html and "登录" in html


@pytest.mark.django_db
def test_browser_language_does_not_override_chinese_but_the_switch_does(client):
    html = client.get("/accounts/login/", headers={"Accept-Language": "en-US,en;q=0.9"}).content.decode()
    assert 'lang="zh-hans"' in html
    client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    html = client.get("/accounts/login/").content.decode()
    assert 'lang="en"' in html and "Sign in" in html
