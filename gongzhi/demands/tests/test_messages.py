"""Messages to residents (issue #16 item 7): each change of their demand (dispatched, replied, reopened, closed
and asked to rate) reaches them in the message centre, with an unread badge, and by text message to the phone
they gave, through the pluggable SMS backend."""

import re

import pytest
from django.urls import reverse

from gongzhi.core import clock
from gongzhi.core.models import OutgoingSms
from gongzhi.demands import services
from gongzhi.demands.models import Notification
from gongzhi.org.tests.factories import World

from .factories import THURSDAY_9AM, DemandWorld

pytestmark = pytest.mark.django_db


class BrokenGateway:
    name = "broken"

    def send(self, phone, text):
        raise ConnectionError("the gateway is down")


@pytest.fixture
def dw():
    return DemandWorld(World())


def walk_to_closed(dw, demand):
    steps = [lambda d: services.dispatch(dw.dispatcher, d, unit=dw.city_management, category="environment.garbage"),
             lambda d: services.accept(dw.handler, d),
             lambda d: services.reply(dw.handler, d, text="已安排清运，现场已清理干净"),
             lambda d: services.verify(dw.grid_worker, d),
             lambda d: services.close(dw.dispatcher, d)]
    at = THURSDAY_9AM
    for step in steps:
        at = at.replace(hour=at.hour + 1)
        with clock.frozen_at(at):
            demand = step(demand).demand
    return demand


def test_the_resident_hears_of_dispatch_reply_and_close_in_the_message_centre_and_by_text(
        client, dw, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        demand = dw.file()  # with 张三 / 13900001111 as the contact
        demand = walk_to_closed(dw, demand)
    mine = list(Notification.objects.filter(recipient_user=dw.resident).order_by("id"))
    assert [n.kind for n in mine] == ["dispatch", "reply", "close"]
    assert "区城管委" in mine[0].text and demand.number in mine[0].text
    texts = list(OutgoingSms.objects.order_by("id"))
    assert [t.phone for t in texts] == ["13900001111"] * 3 and all(t.status == "sent" for t in texts)
    assert all(demand.number in t.text and "张三" not in t.text for t in texts)
    assert "已办结" in texts[-1].text and texts[-1].text.startswith("【共治】")

    client.force_login(dw.resident)
    home = client.get(reverse("web:home")).content.decode()
    assert 'class="badge unread-count"' in home and ">3</span>" in home
    page = client.get(reverse("demands:messages")).content.decode()
    assert page.count('class="unread"') == 3
    assert reverse("demands:detail", args=[demand.number]) in page
    client.post(reverse("demands:messages"))
    assert not Notification.objects.filter(recipient_user=dw.resident, read_at__isnull=True).exists()
    assert "unread-count" not in client.get(reverse("web:home")).content.decode()


def test_a_guest_with_a_phone_gets_the_texts_too(dw, django_capture_on_commit_callbacks):
    from gongzhi.demands import guests

    from gongzhi.core import phone_codes

    with django_capture_on_commit_callbacks(execute=True), clock.frozen_at(THURSDAY_9AM):
        phone_codes.send("13700002222", "guest")  # the guest confirms the number first
    code = re.search(r"\d{6}", OutgoingSms.objects.get().text)[0]
    with django_capture_on_commit_callbacks(execute=True), clock.frozen_at(THURSDAY_9AM):
        step, _code = guests.file(text="小区门口垃圾堆了三天没人清运", longitude=116.005, latitude=39.905,
                                  contact_phone="13700002222", phone_code=code)
        services.dispatch(dw.dispatcher, step.demand, unit=dw.city_management, category="environment.garbage")
    told = list(OutgoingSms.objects.order_by("id").values_list("phone", "text"))
    assert [phone for phone, _ in told] == ["13700002222", "13700002222"]  # the code, then the dispatch
    assert step.demand.number in told[1][1]


def test_a_failing_gateway_is_recorded_and_does_not_undo_the_step(settings, dw, django_capture_on_commit_callbacks):
    settings.GONGZHI_SMS_BACKEND = "gongzhi.demands.tests.test_messages.BrokenGateway"
    with django_capture_on_commit_callbacks(execute=True):
        demand = dw.dispatched()
    demand.refresh_from_db()
    assert demand.state == "dispatched"
    assert OutgoingSms.objects.get().status == "failed"


def test_the_log_backends_outbox_is_a_page_only_with_debug(client, settings, dw, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        dw.dispatched()
    assert client.get(reverse("web:dev_sms")).status_code == 404
    settings.DEBUG = True
    page = client.get(reverse("web:dev_sms"))
    assert page.status_code == 200 and "13900001111" in page.content.decode()
