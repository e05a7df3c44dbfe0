"""The public ledger pages (/ledger/, /ledger/receipt/) and the receipt check API
(POST /api/v1/ledger/receipts/verify): no login, one check shared by both."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from gongzhi.core.models import Event
from gongzhi.ledger import queries, services

from .test_verify import SIZE, record, rewrite_history

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ledger")]

VERIFY_API = "/api/v1/ledger/receipts/verify"
ALL_CHECKS = ["format", "entry_hash", "signature", "inclusion", "consistency"]


@pytest.fixture
def log():
    record(SIZE)
    services.sequence_pending(batch_size=16)


def tampered(receipt, old, new):
    changed = dict(receipt, entry=receipt["entry"].replace(old, new, 1))
    assert changed["entry"] != receipt["entry"]
    return changed


def check_api(client, receipt):
    response = client.post(VERIFY_API, receipt, content_type="application/json")
    assert response.status_code == 200
    body = response.json()
    return body["ok"], {check["code"]: check["ok"] for check in body["checks"]}


def check_page(client, **data):
    html = client.post("/ledger/receipt/", data).content.decode()
    results = {code: ok == "true" for code, ok in
               ((part.split('"')[1], part.split('data-ok="')[1].split('"')[0]) for part in html.split("data-check=")[1:])}
    return html, results


# --- /ledger/ --------------------------------------------------------------------------------------------


def test_the_ledger_page_shows_the_current_checkpoint_the_key_and_where_to_read_more(client, log):
    response = client.get("/ledger/")
    assert response.status_code == 200
    html = response.content.decode()
    head = queries.head()
    assert 'lang="zh-hans"' in html
    assert f'data-field="size">{SIZE}<' in html and bytes(head.root).hex() in html
    assert services.verifier_key() in html and "— test.gongzhi.local/ledger " in html  # the signed note
    for link in ("/ledger/receipt/", "/ledger/checkpoint", "/ledger/tile/0/000.p/40", "/ledger/tile/entries/000.p/40"):
        assert f'href="{link}"' in html
    assert "gongzhi ledger verify --url http://testserver" in html


def test_the_ledger_page_before_the_first_checkpoint_says_so(client):
    response = client.get("/ledger/")
    assert response.status_code == 200 and 'data-field="size"' not in response.content.decode()


# --- /ledger/receipt/ ------------------------------------------------------------------------------------


def test_the_receipt_page_offers_a_form_to_paste_or_upload(client):
    html = client.get("/ledger/receipt/").content.decode()
    assert 'name="receipt"' in html and 'type="file"' in html and "data-result" not in html


def test_a_pasted_valid_receipt_is_shown_green_with_every_check_passed(client, log):
    receipt = queries.receipt(21)
    html, checks = check_page(client, receipt=json.dumps(receipt))
    assert 'data-result="ok"' in html
    assert checks == dict.fromkeys(ALL_CHECKS, True)
    assert "demand.step" in html and "str:D-21" in html


def test_a_receipt_with_one_character_changed_is_shown_red_naming_the_failed_checks(client, log):
    html, checks = check_page(client, receipt=json.dumps(tampered(queries.receipt(21), '"step":21', '"step":22')))
    assert 'data-result="fail"' in html
    assert checks == {"format": True, "entry_hash": False, "signature": True, "inclusion": False, "consistency": True}


def test_an_uploaded_receipt_file_is_checked_like_a_pasted_one(client, log):
    upload = SimpleUploadedFile("receipt.json", json.dumps(queries.receipt(3)).encode(), "application/json")
    html = client.post("/ledger/receipt/", {"file": upload}).content.decode()
    assert 'data-result="ok"' in html


def test_text_that_is_not_a_receipt_fails_the_format_check_and_is_kept_in_the_form(client, log):
    html, checks = check_page(client, receipt="{not json")
    assert checks == {"format": False} and 'data-result="fail"' in html and "{not json</textarea>" in html


def test_the_receipt_page_before_the_first_checkpoint_explains_there_is_nothing_to_check_against(client):
    response = client.post("/ledger/receipt/", {"receipt": "{}"})
    assert response.status_code == 200 and 'id="receipt-error"' in response.content.decode()


# --- POST /api/v1/ledger/receipts/verify ---------------------------------------------------------------------


def test_the_api_checks_a_receipt_like_the_page(client, log):
    assert check_api(client, queries.receipt(0)) == (True, dict.fromkeys(ALL_CHECKS, True))
    ok, checks = check_api(client, tampered(queries.receipt(0), "demand.step", "demand.stop"))
    assert not ok and not checks["entry_hash"] and not checks["inclusion"]


def test_an_older_receipt_is_proven_consistent_with_the_grown_log(client, log):
    receipt = queries.receipt(5)
    record(30, start=SIZE)
    services.sequence_pending()
    response = client.post(VERIFY_API, receipt, content_type="application/json").json()
    assert response["ok"] and (response["tree_size"], response["current_size"]) == (SIZE, SIZE + 30)


def test_a_receipt_from_before_a_rewritten_history_fails_consistency(client, log):
    receipt = queries.receipt(5)
    rewrite_history()
    ok, checks = check_api(client, receipt)
    assert not ok and checks == {**dict.fromkeys(ALL_CHECKS, True), "consistency": False}


def test_a_receipt_whose_checkpoint_was_altered_fails_the_signature_check(client, log):
    receipt = queries.receipt(5)
    receipt["checkpoint"] = receipt["checkpoint"].replace(f"\n{SIZE}\n", f"\n{SIZE - 1}\n")
    ok, checks = check_api(client, receipt)
    assert not ok and checks == {"format": True, "entry_hash": True, "signature": False}


def test_openings_in_a_receipt_prove_the_committed_values(client, log):
    receipt = services.receipt_for(Event.objects.get(subject_id="D-10"), with_openings=True)
    ok, checks = check_api(client, receipt)
    assert ok and checks["opening:phone"]
    receipt["openings"]["phone"]["value"] = "13999999999"
    ok, checks = check_api(client, receipt)
    assert not ok and checks["opening:phone"] is False


def test_the_api_refuses_a_body_that_is_not_an_object(client, log):
    response = client.post(VERIFY_API, "[1, 2]", content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "invalid"


def test_the_api_has_nothing_to_check_against_before_the_first_checkpoint(client):
    response = client.post(VERIFY_API, {"index": 0}, content_type="application/json")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
