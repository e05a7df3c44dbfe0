"""The case file page (案卷) over HTTP, on a case built the whole way by the real services (conftest's loop):
what the public reads, the "verify the whole case" check (and a changed ledger entry failing it), the receipts'
file, and what a resident who raised the problem, the responsible unit and an officer of the place do there."""

import datetime as dt
import io
import json
import re

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from PIL import Image

from gongzhi.cases import services
from gongzhi.cases.models import Case, ProgressPhoto, Verdict
from gongzhi.core import clock
from gongzhi.core.models import Event
from gongzhi.deliberation.models import Topic
from gongzhi.duties import services as duties
from gongzhi.ledger import services as ledger
from gongzhi.ledger.models import Entry

pytestmark = pytest.mark.django_db

HEX = re.compile(r"\b[0-9a-f]{32,}\b")


@pytest.fixture
def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def decided(loop):
    """Complaints → topic → 四议两公开 → decision with a project of two milestones."""
    loop.complain()
    loop.open_topic()
    loop.later = loop.decide()
    ledger.sequence_pending()  # what the commit of a real request triggers (tests run inside one transaction)
    return loop


def _url(case, suffix=""):
    return f"/cases/{case.pk}/{suffix}"


def _finish_milestones(loop):
    staff = loop.staff()
    with clock.frozen_at(loop.later + dt.timedelta(days=5)):
        for task in loop.project.tasks.order_by("deadline"):
            services.report_progress(staff, loop.case, task, note="已完成", done=True)


def _asked(loop):
    _finish_milestones(loop)
    with clock.frozen_at(loop.later + dt.timedelta(days=6)):
        duties.record_project_outcome(loop.v.officer, loop.project, "管道已更换，路面恢复")
    loop.case.refresh_from_db()
    ledger.sequence_pending()
    return loop.case


def _jpeg_with_exif() -> bytes:
    image = Image.new("RGB", (320, 240), (180, 60, 40))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x0131] = "gps-and-all"  # Software
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def test_the_public_reads_the_whole_chain_with_receipts_and_nothing_personal(decided, english):
    case = decided.case
    listed = english.get("/cases/")
    assert listed.status_code == 200 and _url(case) in listed.content.decode()
    assert "4 demands" in listed.content.decode()
    page = english.get(_url(case))
    text = page.content.decode()
    assert page.status_code == 200
    for anchor in ("complaints", "deliberation", "vote", "decision", "project", "verdict", "verify"):
        assert f'id="{anchor}"' in text
    assert "<b>4</b> demands" in text and "<b>4</b> residents reporting" in text
    assert "桃源一组" in text  # the grid, the finest place shown
    assert "王先生" not in text and "13800138000" not in text  # the guest's name and phone
    assert not HEX.search(text)  # no hash, no tracker, no raw id
    # The vote: quorum and the motion's count, with the published ballot list.
    assert "quorum met" in text and f"/deliberation/motions/{decided.motion.pk}/#ballots" in text
    # The decision under the power list, with its legal basis and the check's words.
    assert "更换村西片供水管道" in text and "各地村级小微权力清单" in text
    # The project: unit, budget, milestones with deadlines.
    assert "桃源村供水站" in text and "300,000 yuan" in text
    assert "采购管材" in text and "更换管道并恢复路面" in text and "0 of 2 milestones done" in text
    # Every step with its ledger entry and a receipt to download.
    assert "ledger entry" in text and f"/cases/{case.pk}/receipts/" in text
    # Nobody may act here without signing in.
    assert 'action="/cases/%d/verdict"' % case.pk not in text and "progress-" not in text


def test_every_receipt_of_the_case_verifies_against_the_current_checkpoint(decided, english):
    case = decided.case
    answer = english.post(_url(case, "verify/"))
    text = answer.content.decode()
    assert answer.status_code == 200
    assert 'class="check-result good"' in text
    filed = Event.objects.filter(kind="demands.file", subject_id__in=[
        str(pk) for pk in case.demands.values_list("pk", flat=True)]).count()
    assert filed == 4
    count = int(re.search(r"All (\d+) receipts verified", text).group(1))
    # the 4 filings, the case's opening, the topic, the stages, meetings, motions, the decision, the project …
    assert count > 20
    assert "failed" not in text


def test_a_changed_ledger_entry_fails_the_check_and_names_its_step(decided, english):
    case = decided.case
    event = Event.objects.get(kind="duties.record_decision", subject_id=str(case.decision_id))
    entry = Entry.objects.get(event=event)
    Entry.objects.filter(pk=entry.pk).update(text=entry.text.replace("duties.record_decision", "duties.record_dezision"))
    text = english.post(_url(case, "verify/")).content.decode()
    assert 'class="check-result bad"' in text
    assert "decision recorded" in text and f"ledger entry {entry.index}" in text
    assert "1 of " in text


def test_the_file_of_all_receipts_checks_offline_and_a_changed_receipt_does_not(decided, english):
    case = decided.case
    answer = english.get(_url(case, "receipts.json"))
    assert answer.status_code == 200 and "attachment" in answer["Content-Disposition"]
    bundle = json.loads(answer.content)
    assert len(bundle["receipts"]) > 20 and bundle["checkpoint"]
    assert all(ledger.verify_receipt(item["receipt"]).ok for item in bundle["receipts"])
    changed = dict(bundle["receipts"][0]["receipt"])
    changed["entry"] = changed["entry"].replace("demands.file", "demands.fill")
    assert not ledger.verify_receipt(changed).ok
    # One step's receipt, and none for an event that is not a step of this case.
    step = Event.objects.get(kind="cases.open", subject_id=str(case.pk))
    one = english.get(_url(case, f"receipts/{step.pk}.json"))
    assert one.status_code == 200 and json.loads(one.content)["index"] == Entry.objects.get(event=step).index
    other = Event.objects.exclude(subject_type__in=["cases.case", "demands.demand", "deliberation.topic"]).filter(
        kind="org.create_region").first() or Event.objects.filter(kind="duties.adopt_power_list").first()
    assert english.get(_url(case, f"receipts/{other.pk}.json")).status_code == 404


def test_a_resident_who_raised_it_answers_once_and_a_second_answer_is_refused_in_words(decided, client):
    case = _asked(decided)
    assert case.status == Case.Status.ASKING
    reporter = decided.reporters[0]
    client.force_login(reporter)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with clock.frozen_at(decided.later + dt.timedelta(days=7)):
        page = client.get(_url(case)).content.decode()
        assert f'action="/cases/{case.pk}/verdict"' in page
        done = client.post(_url(case, "verdict"), {"solved": "yes", "satisfaction": "basically_satisfied",
                                                    "comment": "修好了，我是王先生电话13912345678"})
        assert done.status_code == 302 and done["Location"].endswith("#verdict")
        again = client.post(_url(case, "verdict"), {"solved": "no", "satisfaction": "not_satisfied"})
        assert again.status_code == 409 and "answered already" in again.content.decode()
        after = client.get(_url(case)).content.decode()
    verdict = Verdict.objects.get(case=case, user=reporter)
    assert verdict.solved is True and verdict.satisfaction == "basically_satisfied"
    assert "You have answered" in after and f'action="/cases/{case.pk}/verdict"' not in after
    assert "13912345678" not in after and "1 answer" in after  # the comment shown scrubbed, no name


def test_someone_who_did_not_raise_it_gets_no_form_and_is_refused(decided, client):
    case = _asked(decided)
    client.force_login(decided.v.adults[10].user)
    with clock.frozen_at(decided.later + dt.timedelta(days=7)):
        assert f'action="/cases/{case.pk}/verdict"' not in client.get(_url(case)).content.decode()
        refused = client.post(_url(case, "verdict"), {"solved": "yes", "satisfaction": "satisfied"})
    assert refused.status_code == 403 and not Verdict.objects.filter(case=case).exists()


def test_the_unit_reports_progress_with_a_photo_stored_without_exif_and_shown_to_all(decided, client):
    case = decided.case
    staff = decided.staff()
    task = decided.project.tasks.order_by("deadline").first()
    client.force_login(staff)
    page = client.get(_url(case)).content.decode()
    assert f'action="/cases/{case.pk}/milestones/{task.pk}/progress"' in page
    prefix = f"progress-{task.pk}"
    photo = io.BytesIO(_jpeg_with_exif())
    photo.name = "work.jpg"
    done = client.post(_url(case, f"milestones/{task.pk}/progress"),
                       {f"{prefix}-note": "管材已到货", f"{prefix}-photos": [photo], f"{prefix}-done": "on"})
    assert done.status_code == 302, done.content.decode()[:500]
    stored = ProgressPhoto.objects.get(case=case, task=task)
    with default_storage.open(stored.image.name) as f:
        data = f.read()
    assert b"SecretCam" not in data and not Image.open(io.BytesIO(data)).getexif()
    task.refresh_from_db()
    assert task.completed_at is not None
    client.logout()
    public_page = client.get(_url(case)).content.decode()
    assert f"/cases/{case.pk}/photos/{stored.pk}-thumb.jpg" in public_page and "管材已到货" in public_page
    image = client.get(_url(case, f"photos/{stored.pk}.jpg"))
    assert image.status_code == 200 and image["Content-Type"] == "image/jpeg"


def test_a_bad_photo_is_refused_in_words_and_nothing_is_stored(decided, client):
    case = decided.case
    task = decided.project.tasks.order_by("deadline").first()
    client.force_login(decided.staff())
    bad = io.BytesIO(b"not an image at all")
    bad.name = "x.jpg"
    prefix = f"progress-{task.pk}"
    refused = client.post(_url(case, f"milestones/{task.pk}/progress"),
                          {f"{prefix}-note": "进展", f"{prefix}-photos": [bad]})
    assert refused.status_code == 400 and 'class="error-box"' in refused.content.decode()
    assert not ProgressPhoto.objects.filter(case=case).exists() and not task.reports.exists()


def test_an_officer_records_the_project_done_once_every_milestone_is_done(decided, client):
    case = decided.case
    client.force_login(decided.v.officer)
    with clock.frozen_at(decided.later + dt.timedelta(days=5)):
        assert f'action="/cases/{case.pk}/outcome"' not in client.get(_url(case)).content.decode()
    _finish_milestones(decided)
    with clock.frozen_at(decided.later + dt.timedelta(days=6)):
        assert f'action="/cases/{case.pk}/outcome"' in client.get(_url(case)).content.decode()
        done = client.post(_url(case, "outcome"), {"outcome": "管道已更换"})
        assert done.status_code == 302
        again = client.post(_url(case, "outcome"), {"outcome": "再来一次"})
        assert again.status_code == 409
    case.refresh_from_db()
    assert case.status == Case.Status.ASKING and case.verdict_round == 1


def test_a_case_whose_topic_is_not_public_is_not_found_by_the_public_but_seen_by_its_officer(decided, client):
    case = decided.case
    Topic.objects.filter(pk=case.topic_id).update(hidden_at=clock.now())
    assert client.get(_url(case)).status_code == 404
    assert client.get(_url(case, "receipts.json")).status_code == 404
    assert client.post(_url(case, "verify/")).status_code == 404
    assert _url(case) not in client.get("/cases/").content.decode()
    client.force_login(decided.v.officer)
    assert client.get(_url(case)).status_code == 200
    assert _url(case) in client.get("/cases/").content.decode()


def test_the_case_file_prints_as_a_pdf(decided, client):
    pytest.importorskip("weasyprint")
    answer = client.get(_url(decided.case, "case-file.pdf"))
    assert answer.status_code == 200 and answer.content.startswith(b"%PDF")


def test_the_topic_and_each_demand_link_to_their_case_file(decided, client):
    case = decided.case
    assert f'href="/cases/{case.pk}/"' in client.get(f"/deliberation/topics/{case.topic_id}/").content.decode()
    demand = case.demands.filter(reporter_user=decided.reporters[0]).get()
    client.force_login(decided.reporters[0])
    assert f'href="/cases/{case.pk}/"' in client.get(f"/demands/{demand.number}/").content.decode()


def test_the_list_says_where_each_case_stands(decided, english):
    text = english.get("/cases/").content.decode()
    assert "0 of 2 milestones done" in text and "work under way" in text


def test_the_home_page_counts_lead_to_exactly_their_cases_and_a_late_milestone_shows_on_the_card(decided, client):
    case = decided.case
    with clock.frozen_at(decided.later + dt.timedelta(days=12)):  # the first milestone (10 days) is past
        page = client.get("/cases/").content.decode()
        assert "0 / 2" in page or "0 of 2" in page
        assert "已逾期" in page or "past its deadline" in page
    _asked(decided)
    asked, other = decided.reporters[0], decided.v.adults[10].user
    with clock.frozen_at(decided.later + dt.timedelta(days=7)):
        client.force_login(asked)
        mine = client.get("/cases/?waiting=me").content.decode()
        assert _url(case) in mine
        client.force_login(other)
        assert _url(case) not in client.get("/cases/?waiting=me").content.decode()
        client.logout()
        assert _url(case) not in client.get("/cases/?waiting=me").content.decode()
        assert _url(case) in client.get("/cases/?status=asking").content.decode()
        assert _url(case) not in client.get("/cases/?waiting=mine").content.decode()
        client.force_login(asked)
        assert _url(case) in client.get("/cases/?waiting=mine").content.decode()
        client.logout()
        assert _url(case) not in client.get("/cases/?status=review").content.decode()
        assert client.get("/cases/?status=nonsense").status_code == 200


def test_an_officer_checks_a_milestone_on_the_case_file_and_the_unit_cannot(decided, client):
    case = decided.case
    first = decided.project.tasks.order_by("deadline").first()
    with clock.frozen_at(decided.later + dt.timedelta(days=2)):
        services.report_progress(decided.staff(), case, first, note="管材到货", done=True)
        url = _url(case, f"milestones/{first.pk}/check")
        client.force_login(decided.staff())
        assert f'action="/{url.lstrip("/")}"' not in client.get(_url(case)).content.decode()
        refused = client.post(url, {f"check-{first.pk}-quality_met": "yes", f"check-{first.pk}-note": "自己验收"})
        assert refused.status_code == 403
        client.force_login(decided.v.officer)
        assert f'action="{url}"' in client.get(_url(case)).content.decode()
        bad = client.post(url, {f"check-{first.pk}-note": "没选"})
        assert bad.status_code == 400
        sent_back = client.post(url, {f"check-{first.pk}-quality_met": "no", f"check-{first.pk}-note": "规格不符"})
        assert sent_back.status_code == 302
    first.refresh_from_db()
    assert first.completed_at is None and first.quality_met is None
    assert Event.objects.filter(kind="duties.check_task", subject_id=str(first.pk)).count() == 1


def test_the_unit_answers_its_demands_of_the_case_from_the_case_file(decided, client):
    from gongzhi.demands import services as demands
    from gongzhi.demands.models import Demand

    case = decided.case
    for demand in case.demands.all():
        demands.dispatch(decided.v.officer, demand, unit=decided.company, category="utilities.water")
    client.force_login(decided.staff())
    page = client.get(_url(case)).content.decode()
    assert f'action="{_url(case, "reply")}"' in page
    assert client.post(_url(case, "reply"), {"text": " "}).status_code == 400
    assert not Demand.objects.filter(state="replied").exists()
    sent = client.post(_url(case, "reply"), {"text": "供水管道将整体更换，进展见案卷。"})
    assert sent.status_code == 302
    assert Demand.objects.filter(case_links__case=case, state="replied").count() == case.demands.count()
    client.force_login(decided.reporters[0])
    assert f'action="{_url(case, "reply")}"' not in client.get(_url(case)).content.decode()
