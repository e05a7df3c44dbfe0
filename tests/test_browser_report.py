"""The monthly report (月报) in Debian's Chromium: a street director opens it at desktop width with a mouse,
reads the month's worst-ranked unit at the top, and downloads the PDF, which is a real PDF naming that unit's
font-drawn report; the page is also looked at on a phone. Screenshots: GONGZHI_SCREENSHOT_DIR, or the test's
temporary folder; with pdftoppm installed, the PDF's first page too."""

import shutil
import subprocess

import pytest
from django.urls import reverse

from gongzhi.core import clock
from gongzhi.web.tests.report_data import REPORT_TIME, WORST_UNIT, ReportMonth, inflated

from .conftest import sign_in

pytestmark = [pytest.mark.browser]
SHOTS_PREFIX = "report"  # screenshots: tests/conftest.py shots


@pytest.fixture
def month(demand_world, settings):
    settings.GONGZHI_RANKING_MIN_CASES = 1
    return ReportMonth(demand_world)


def test_the_report_names_the_worst_unit_and_its_pdf_downloads(month, browser, live_server, shots, tmp_path):
    with clock.frozen_at(REPORT_TIME):
        context = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport={"width": 1280, "height": 900},
                                      accept_downloads=True)
        context.set_default_timeout(30_000)
        tab = context.new_page()
        sign_in(tab, month.world.street_official.username)
        tab.goto(reverse("web:report"))
        summary = tab.locator("#report-summary .worst-unit")
        assert WORST_UNIT in summary.inner_text()
        assert tab.locator("#table-units tr.worst").inner_text().count(WORST_UNIT) == 1
        assert "张三" not in tab.content() and "13900001111" not in tab.content()
        shots(tab, "desktop-1280")

        with tab.expect_download() as downloaded:
            tab.locator("#report-pdf").click()
        pdf = tmp_path / downloaded.value.suggested_filename
        downloaded.value.save_as(pdf)
        data = pdf.read_bytes()
        assert pdf.name.endswith(".pdf") and data.startswith(b"%PDF-") and b"%%EOF" in data[-1024:]
        assert len(data) > 10_000 and (b"NotoSansCJK" in inflated(data) or b"WenQuanYi" in inflated(data))
        if shutil.which("pdftoppm"):
            subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", str(pdf),
                            str(shots.folder / "report-pdf-page")], check=True, timeout=60)
        context.close()
        _look_at_the_pdf(browser, pdf, shots)

        phone = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport={"width": 390, "height": 844},
                                    has_touch=True, is_mobile=True)
        phone.set_default_timeout(30_000)
        tab = phone.new_page()
        sign_in(tab, month.world.street_official.username)
        tab.goto(reverse("web:report"))
        assert WORST_UNIT in tab.locator("#report-summary .worst-unit").inner_text()
        width = tab.evaluate("document.documentElement.scrollWidth")
        assert width <= 390 + 1, f"the page is {width}px wide on a 390px phone"
        shots(tab, "phone-390")
        phone.close()


def _look_at_the_pdf(browser, pdf, shots) -> None:
    """A screenshot of the PDF as Chromium's own viewer shows it (its first page), when this Chromium has one."""
    viewer = browser.new_context(viewport={"width": 900, "height": 1250})
    try:
        tab = viewer.new_page()
        tab.goto(pdf.as_uri())
        for _ in range(40):  # the viewer is an extension's frame inside the page
            if len(tab.frames) > 1:
                break
            tab.wait_for_timeout(250)
        else:
            print("no screenshot of the PDF: this Chromium shows no PDF viewer")
            return
        tab.wait_for_timeout(2000)  # it draws the page after its frame loads; nothing is asserted on this picture
        shots(tab, "pdf-first-page")
    except Exception as no_viewer:  # a Chromium without its PDF viewer downloads the file instead: no picture
        print(f"no screenshot of the PDF: {no_viewer}")
    finally:
        viewer.close()
