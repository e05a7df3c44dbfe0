"""Photos of demands (issue #16): checked by content, re-encoded without EXIF, thumbnailed, stored through
Django's storage API (a folder under var/ by default), and shown only to those who may see them.

- What comes in is opened by Pillow, whatever its name says: JPEG, PNG, WebP or GIF (its first frame); a
  file Pillow cannot read, or larger than GONGZHI_PHOTO_MAX_BYTES, or of more than MAX_PIXELS, is refused.
- It is turned upright (the EXIF orientation), scaled to at most LONG_SIDE pixels and saved as a new JPEG:
  nothing of the original file is kept, so neither EXIF (camera, time, GPS) nor anything hidden after the
  image data. When the reporter chose to share where the photo was taken, the GPS position is read first
  and kept as the photo's longitude and latitude (not in the file).
- At most MAX_PER_STAGE photos as reported and as many after handling. Each addition is one transaction
  and one step on the demand's timeline (the ledger gets the stored files' SHA-256, never the pictures).
- Seen by the reporter, the units handling it and the dispatch desk; by anyone once the desk publishes it.
"""

import hashlib
import io
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from PIL import Image, ImageOps, UnidentifiedImageError

from gongzhi.core import clock, events, policy
from gongzhi.core.errors import NotFound, ValidationFailed
from gongzhi.core.i18n import gettext_lazy as _

from . import rules
from .models import Demand, Photo

logger = logging.getLogger(__name__)

MAX_PER_STAGE = 6
LONG_SIDE = 2048
THUMB_SIDE = 360
MAX_PIXELS = 50_000_000  # a decompression bomb is refused before it is decoded
FORMATS = {"JPEG", "MPO", "PNG", "WEBP", "GIF"}
ADD_ACTION = {Photo.Stage.REPORT: "demands.add_photo", Photo.Stage.REPLY: "demands.add_reply_photo"}


def max_bytes() -> int:
    return getattr(settings, "GONGZHI_PHOTO_MAX_BYTES", 10 * 1024 * 1024)


class PhotoRefused(ValidationFailed):
    code = "photo_refused"
    base_message = _("The photo cannot be added")


@dataclass
class Processed:
    image: bytes
    thumbnail: bytes
    width: int
    height: int
    longitude: float | None = None
    latitude: float | None = None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.image).hexdigest()


def _gps(exif) -> tuple[float, float] | None:
    """(longitude, latitude) from EXIF's GPS directory, or None."""
    try:
        gps = exif.get_ifd(0x8825)
    except (KeyError, AttributeError, TypeError):
        return None
    if not gps or 2 not in gps or 4 not in gps:
        return None

    def degrees(value, ref) -> float:
        d, m, s = (float(x) for x in value)
        sign = -1 if ref in ("S", "W", b"S", b"W") else 1
        return sign * (d + m / 60 + s / 3600)

    try:
        return degrees(gps[4], gps.get(3, "E")), degrees(gps[2], gps.get(1, "N"))
    except (TypeError, ValueError, ZeroDivisionError):
        return None


def process(content: bytes, *, keep_location: bool = False) -> Processed:
    """Check one uploaded file by its content and make the stored image and thumbnail (JPEG, no EXIF)."""
    if not content:
        raise PhotoRefused(_("the file is empty"))
    if len(content) > max_bytes():
        limit = _size(max_bytes())
        raise PhotoRefused(_("the file is larger than %(limit)s") % {"limit": limit})
    try:
        with Image.open(io.BytesIO(content)) as probe:
            kind = probe.format
            probe.verify()
        image = Image.open(io.BytesIO(content))
        if kind not in FORMATS:
            raise PhotoRefused(_("%(kind)s is not a photo format (JPEG, PNG, WebP, GIF)") % {"kind": kind})
        if image.width * image.height > MAX_PIXELS:
            raise PhotoRefused(_("the picture has too many pixels"))
        location = _gps(image.getexif()) if keep_location else None
        image = ImageOps.exif_transpose(image)
        image.load()
    except PhotoRefused:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise PhotoRefused(_("the file is not a picture that can be read")) from None
    if image.mode not in ("RGB", "L"):
        background = Image.new("RGB", image.size, (255, 255, 255))
        rgba = image.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        image = background
    image.thumbnail((LONG_SIDE, LONG_SIDE), Image.Resampling.LANCZOS)
    stored = io.BytesIO()
    image.save(stored, "JPEG", quality=85, optimize=True)  # a new file: no EXIF, nothing appended
    thumb = image.copy()
    thumb.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
    small = io.BytesIO()
    thumb.save(small, "JPEG", quality=80, optimize=True)
    longitude, latitude = location if location else (None, None)
    return Processed(stored.getvalue(), small.getvalue(), image.width, image.height, longitude, latitude)


def _size(count: int) -> str:
    return f"{count / (1024 * 1024):g} MB" if count >= 1024 * 1024 else f"{count / 1024:.0f} KB"


def read_upload(upload) -> bytes:
    """The bytes of an uploaded file, reading at most one byte more than allowed (so a huge one is refused
    without being read whole)."""
    return upload.read(max_bytes() + 1)


def store(processed: list[Processed], folder: str) -> list[tuple[str, str]]:
    """Save processed photos under `folder/YYYY/MM/` (named by their digest): [(image name, thumbnail name)].
    For other apps' photos (visits, a case's progress); the caller deletes them (`delete_stored`) when the
    transaction storing their rows fails."""
    names, now = [], clock.now()
    for item in processed:
        stem = f"{folder}/{now:%Y/%m}/{item.sha256[:32]}"
        image = default_storage.save(f"{stem}.jpg", ContentFile(item.image))
        names.append((image, default_storage.save(f"{stem}-thumb.jpg", ContentFile(item.thumbnail))))
    return names


def delete_stored(names: list[tuple[str, str]]) -> None:
    """Delete files `store` saved, after the rows that would have named them were rolled back."""
    for pair in names:
        for name in pair:
            try:
                default_storage.delete(name)
            except OSError:
                logger.warning("could not delete %s after a refused upload", name)


def add(user, demand: Demand, contents: list[bytes], *, stage: str = Photo.Stage.REPORT,
        keep_location: bool = False, record_step: bool = True, guest: bool = False,
        checked: bool = False) -> list[Photo]:
    """Add photos to `demand` as `user`, all or none: every file is checked before any is stored. Inside the
    caller's transaction when there is one (the reply and its photos are one step). `guest`: the reporter
    without an account, whose 查询码 the caller checked (guests.py)."""
    if not contents:
        return []
    if guest:
        user = None
        if stage != Photo.Stage.REPORT or demand.state in rules.FINAL_STATES:
            raise PhotoRefused(_("a guest adds photos of the problem only, to an open demand"))
    elif not checked:  # checked: the calling service proved the right (services.verify_with_photos, 随手办)
        policy.require(user, ADD_ACTION[stage], demand)
    processed = [process(content, keep_location=keep_location and stage == Photo.Stage.REPORT)
                 for content in contents]
    saved_names: list[str] = []
    try:
        with transaction.atomic():
            demand = Demand.objects.select_for_update(of=("self",)).get(pk=demand.pk)
            already = Photo.objects.filter(demand=demand, stage=stage).count()
            if already + len(processed) > MAX_PER_STAGE:
                raise PhotoRefused(_("at most %(max_per_stage)s photos (%(already)s already)")
                                   % {"max_per_stage": MAX_PER_STAGE, "already": already})
            now = clock.now()
            photos = []
            for item in processed:
                digest = item.sha256
                image_name = default_storage.save(f"demands/photos/{now:%Y/%m}/{digest[:32]}.jpg",
                                                  ContentFile(item.image))
                saved_names.append(image_name)
                thumb_name = default_storage.save(f"demands/photos/{now:%Y/%m}/{digest[:32]}-thumb.jpg",
                                                  ContentFile(item.thumbnail))
                saved_names.append(thumb_name)
                photos.append(Photo.objects.create(
                    demand=demand, stage=stage, image=image_name, thumbnail=thumb_name, width=item.width,
                    height=item.height, sha256=digest,
                    uploaded_by=user if getattr(user, "is_authenticated", False) else None,
                    uploaded_at=now, longitude=item.longitude, latitude=item.latitude))
            if record_step:
                from .services import _record  # services imports this module

                _record(demand, "photo", user, demand.state, stage=stage, photos=[p.sha256 for p in photos])
            else:
                events.record("demands.photo", demand, actor=user, number=demand.number, stage=stage,
                              photos=[p.sha256 for p in photos])
            return photos
    except Exception:
        for name in saved_names:  # the rows were rolled back: their files go too
            try:
                default_storage.delete(name)
            except OSError:
                logger.warning("could not delete %s after a refused upload", name)
        raise


def may_view(user, photo: Photo) -> bool:
    if photo.published_at is not None:
        return True
    demand = photo.demand
    return policy.can(user, "demands.view_photo", demand)


def visible(user, demand: Demand) -> list[Photo]:
    photos = list(Photo.objects.filter(demand=demand))
    if policy.can(user, "demands.view_photo", demand):
        return photos
    return [p for p in photos if p.published_at is not None]


def get_visible(user, demand: Demand, photo_id: int) -> Photo:
    photo = Photo.objects.filter(demand=demand, pk=photo_id).select_related("demand__grid").first()
    if photo is None or not may_view(user, photo):
        raise NotFound(_("photo %(photo_id)s") % {"photo_id": photo_id})
    return photo


@transaction.atomic
def publish(user, photo: Photo, *, published: bool = True) -> Photo:
    """The dispatch desk makes a photo public (or private again); an event either way."""
    policy.require(user, "demands.publish_photo", photo.demand)
    photo = Photo.objects.select_for_update().get(pk=photo.pk)
    photo.published_at, photo.published_by = (clock.now(), user) if published else (None, None)
    photo.save(update_fields=["published_at", "published_by"])
    events.record("demands.photo_publish" if published else "demands.photo_unpublish", photo.demand, actor=user,
                  number=photo.demand.number, photo=photo.sha256)
    return photo
