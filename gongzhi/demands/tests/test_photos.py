"""Photos of demands (issue #16 item 4): real image files made with Pillow, checked by content, re-encoded
without EXIF, thumbnailed, stored under MEDIA_ROOT, seen only by those who may, published by the desk."""

import io
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from PIL import Image

from gongzhi.core import clock
from gongzhi.core.errors import NotFound
from gongzhi.demands import photos, services
from gongzhi.demands.models import Demand, DemandEvent, Photo
from gongzhi.org.tests.factories import World

from .factories import IN_A1, THURSDAY_9AM, DemandWorld

pytestmark = pytest.mark.django_db

GPS_IFD, ORIENTATION, MAKE, MODEL = 0x8825, 0x0112, 0x010F, 0x0110


def jpeg(width=1200, height=800, *, gps=(116.3975, 39.9087), orientation=None, colour=(200, 60, 40)) -> bytes:
    """A real JPEG with the EXIF a phone writes: camera make and model, GPS, and an orientation."""
    image = Image.new("RGB", (width, height), colour)
    for x in range(0, width, 40):  # some detail, so it is not one flat colour
        image.paste((20, 20, 20), (x, 0, x + 4, height))
    exif = Image.Exif()
    exif[MAKE], exif[MODEL] = "Huawei", "P60"
    if orientation:
        exif[ORIENTATION] = orientation
    if gps:
        lon, lat = gps
        def dms(value):
            d = int(value)
            m = int((value - d) * 60)
            s = round(((value - d) * 60 - m) * 60, 4)
            return (float(d), float(m), float(s))
        exif[GPS_IFD] = {1: "N", 2: dms(lat), 3: "E", 4: dms(lon)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), quality=90)
    return out.getvalue()


def png(width=300, height=200) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (width, height), (0, 128, 255, 128)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def dw():
    return DemandWorld(World())


def stored_files(media: Path) -> list[Path]:
    return sorted(p for p in media.rglob("*") if p.is_file()) if media.exists() else []


# --- checked by content, re-encoded ---------------------------------------------------------------------------

def test_a_phone_photo_is_stored_upright_smaller_and_without_exif():
    original = jpeg(4000, 3000, orientation=6)  # taken sideways: the camera says "rotate 90°"
    assert Image.open(io.BytesIO(original)).getexif()[MAKE] == "Huawei"
    done = photos.process(original)
    stored = Image.open(io.BytesIO(done.image))
    assert stored.format == "JPEG" and (stored.width, stored.height) == (1536, 2048)  # upright, long side 2048
    assert dict(stored.getexif()) == {} and b"Huawei" not in done.image
    thumb = Image.open(io.BytesIO(done.thumbnail))
    assert max(thumb.size) == photos.THUMB_SIDE
    assert done.longitude is None and done.latitude is None  # not shared


def test_the_cameras_position_is_kept_only_when_the_reporter_shares_it():
    done = photos.process(jpeg(gps=(116.3975, 39.9087)), keep_location=True)
    assert done.longitude == pytest.approx(116.3975, abs=1e-4) and done.latitude == pytest.approx(39.9087, abs=1e-4)
    assert dict(Image.open(io.BytesIO(done.image)).getexif()) == {}  # in the record, never in the file


def test_a_transparent_png_becomes_a_jpeg_on_white():
    done = photos.process(png())
    assert Image.open(io.BytesIO(done.image)).mode == "RGB"


@pytest.mark.parametrize(("content", "why"), [
    (b"", "empty"),
    (b"%PDF-1.7 not a picture at all", "not a picture"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "not a picture"),
    (jpeg()[:200], "not a picture"),  # cut off
])
def test_what_is_not_a_photo_is_refused_whatever_its_name(content, why):
    with pytest.raises(photos.PhotoRefused):
        photos.process(content)


def test_a_file_over_the_size_limit_is_refused(settings):
    settings.GONGZHI_PHOTO_MAX_BYTES = 10_000
    with pytest.raises(photos.PhotoRefused) as refused:
        photos.process(jpeg(2000, 2000))
    assert refused.value.message("en") == "The photo cannot be added: the file is larger than 10 KB"
    assert refused.value.message("zh-hans") == "照片无法上传：文件超过 10 KB"


# --- on a demand ------------------------------------------------------------------------------------------------

def test_filing_with_photos_stores_them_with_the_demand_and_a_step_on_its_timeline(client, dw, media):
    client.force_login(dw.resident)
    form = {"text": "路灯坏了，晚上很黑", "longitude": IN_A1[0], "latitude": IN_A1[1],
            "photos": [io.BytesIO(jpeg()), io.BytesIO(png())], "share_location": "on"}
    form["photos"][0].name, form["photos"][1].name = "IMG_0001.jpg", "screenshot.png"
    answer = client.post(reverse("demands:new"), form)
    assert answer.status_code == 302
    demand = Demand.objects.get()
    added = list(demand.photos.order_by("id"))
    assert [p.stage for p in added] == ["report", "report"]
    assert added[0].longitude == pytest.approx(116.3975, abs=1e-4)  # shared
    assert len(stored_files(media)) == 4  # two images, two thumbnails
    step = DemandEvent.objects.filter(demand=demand, action="photo").get()
    assert step.event.data["photos"] == [p.sha256 for p in added]
    page = client.get(reverse("demands:detail", args=[demand.number])).content.decode()
    assert reverse("demands:photo_thumb", args=[demand.number, added[0].pk]) in page
    image = client.get(reverse("demands:photo", args=[demand.number, added[0].pk]))
    assert image.status_code == 200 and image["Content-Type"] == "image/jpeg"
    assert b"".join(image.streaming_content) == default_storage.open(added[0].image.name).read()


def test_a_bad_photo_files_nothing_and_keeps_nothing(client, dw, media):
    client.force_login(dw.resident)
    good, bad = io.BytesIO(jpeg()), io.BytesIO(b"MZ\x90\x00 an executable named as a photo")
    good.name, bad.name = "a.jpg", "b.jpg"
    answer = client.post(reverse("demands:new"), {"text": "路灯坏了", "longitude": IN_A1[0],
                                                  "latitude": IN_A1[1], "photos": [good, bad]})
    assert answer.status_code == 400
    assert "照片无法上传" in answer.content.decode() or "cannot be added" in answer.content.decode()
    assert not Demand.objects.exists() and not Photo.objects.exists()
    assert stored_files(media) == []


def test_at_most_six_photos_as_reported(dw):
    demand = dw.file()
    photos.add(dw.resident, demand, [jpeg(colour=(i * 30, 0, 0)) for i in range(4)])
    with pytest.raises(photos.PhotoRefused) as refused:
        photos.add(dw.resident, demand, [jpeg(), jpeg(), jpeg()])
    assert refused.value.message("en") == "The photo cannot be added: at most 6 photos (4 already)"
    assert demand.photos.count() == 4


def test_only_those_who_act_on_the_demand_see_its_photos_until_the_desk_publishes_one(client, dw):
    demand = dw.dispatched()
    added = photos.add(dw.resident, demand, [jpeg()])[0]
    url = reverse("demands:photo", args=[demand.number, added.pk])
    for who, status in ((dw.resident, 200), (dw.handler, 200), (dw.dispatcher, 200), (dw.grid_worker, 200),
                        (dw.other_resident, 404), (dw.property_staff, 404)):
        client.force_login(who)
        assert client.get(url).status_code == status, who.username
    client.logout()
    assert client.get(url).status_code == 404
    with pytest.raises(Exception):
        photos.publish(dw.handler, added)  # the unit may not publish
    client.force_login(dw.dispatcher)
    assert client.post(reverse("demands:publish_photo", args=[demand.number, added.pk])).status_code == 302
    added.refresh_from_db()
    assert added.published_at is not None and added.published_by == dw.dispatcher
    client.logout()
    assert client.get(url).status_code == 200  # public now
    assert client.get(reverse("demands:photo", args=[demand.number, added.pk + 999])).status_code == 404


def test_the_unit_replies_with_an_after_photo_in_one_step(client, dw):
    demand = dw.dispatched()
    with clock.frozen_at(THURSDAY_9AM.replace(hour=11)):
        demand = services.accept(dw.handler, demand).demand
    client.force_login(dw.handler)
    after = io.BytesIO(jpeg(colour=(40, 160, 60)))
    after.name = "after.jpg"
    answer = client.post(reverse("demands:act", args=[demand.number, "reply"]),
                         {"text": "已清运完毕，现场已恢复整洁", "photos": [after]})
    assert answer.status_code == 302
    demand.refresh_from_db()
    assert demand.state == "replied"
    assert [p.stage for p in demand.photos.all()] == ["reply"]
    # A refused photo leaves the demand unreplied.
    other = dw.dispatched()
    with clock.frozen_at(THURSDAY_9AM.replace(hour=11)):
        services.accept(dw.handler, other)
    bad = io.BytesIO(b"not a photo")
    bad.name = "x.jpg"
    client.post(reverse("demands:act", args=[other.number, "reply"]), {"text": "已处理完毕", "photos": [bad]})
    other.refresh_from_db()
    assert other.state != "replied" and not other.photos.exists()


def test_the_reporter_adds_photos_later_and_others_may_not(client, dw):
    demand = dw.file()
    client.force_login(dw.resident)
    more = io.BytesIO(jpeg())
    more.name = "more.jpg"
    assert client.post(reverse("demands:add_photos", args=[demand.number]), {"photos": [more]}).status_code == 302
    assert demand.photos.count() == 1
    client.force_login(dw.other_resident)
    more.seek(0)
    assert client.post(reverse("demands:add_photos", args=[demand.number]), {"photos": [more]}).status_code == 404
    assert demand.photos.count() == 1


def test_get_visible_answers_not_found_for_a_photo_of_another_demand(dw):
    first, second = dw.file(), dw.file()
    added = photos.add(dw.resident, first, [jpeg()])[0]
    with pytest.raises(NotFound):
        photos.get_visible(dw.resident, second, added.pk)

