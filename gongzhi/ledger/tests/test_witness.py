"""Witnesses: `gongzhi ledger witness-keygen` makes a cosignature/v1 key pair; `gongzhi ledger witness`
cosigns the latest checkpoint only after checking it extends the last one it cosigned, and submits the
line to POST /api/v1/ledger/cosignatures, which accepts configured witness keys only; /ledger/checkpoint
then carries the witness's line."""

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from gongzhi.core import clock
from gongzhi.ledger import note, services
from gongzhi.ledger.models import Cosignature

from .test_verify import SIZE, record, rewrite_history

pytestmark = pytest.mark.usefixtures("ledger")

API = "/api/v1/ledger/cosignatures"


def keygen(folder, name="witness.test/w1"):
    out = io.StringIO()
    call_command("ledger", "witness-keygen", name, "--out", str(folder / "w1.key"), stdout=out, stderr=io.StringIO())
    return folder / "w1.key", out.getvalue().strip()


def witness(url, key, state):
    out, err = io.StringIO(), io.StringIO()
    call_command("ledger", "witness", "--url", url, "--key", str(key), "--state", str(state), stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


@pytest.fixture
def witness_key(tmp_path, settings):
    """A witness key pair the log is configured to accept."""
    skey_path, vkey = keygen(tmp_path)
    settings.GONGZHI_LEDGER_WITNESSES = [vkey]
    return skey_path, vkey


def test_witness_keygen_writes_an_owner_only_signer_key_and_prints_the_verifier_key(tmp_path):
    path, vkey = keygen(tmp_path)
    assert path.stat().st_mode & 0o777 == 0o600
    signer = note.Signer.from_skey(path.read_text().strip())
    assert isinstance(signer, note.CosignatureSigner) and signer.verifier_key() == vkey
    assert isinstance(note.Verifier.from_vkey(vkey), note.CosignatureVerifier)
    assert (tmp_path / "w1.key.vkey").read_text().strip() == vkey
    with pytest.raises(CommandError, match="refusing to overwrite"):
        keygen(tmp_path)


@pytest.mark.django_db(transaction=True)
def test_a_witness_cosigns_checkpoints_that_extend_the_last_one_and_refuses_a_rewritten_history(
        live_server, witness_key, tmp_path, client):
    skey_path, vkey = witness_key
    state = tmp_path / "witness-state.json"
    record(SIZE)
    services.sequence_pending(batch_size=16)

    with clock.frozen_at(dt.datetime(2026, 11, 26, 8, 0, tzinfo=dt.UTC)):
        output = witness(live_server.url, skey_path, state)
    assert f"cosigned test.gongzhi.local/ledger at tree size {SIZE} as witness.test/w1" in output
    assert "trusting the log key" in output
    assert Cosignature.objects.get().timestamp == int(dt.datetime(2026, 11, 26, 8, 0, tzinfo=dt.UTC).timestamp())
    served = client.get("/ledger/checkpoint").content.decode()
    _, signers = note.open_note(served, [note.Verifier.from_vkey(services.verifier_key()), note.Verifier.from_vkey(vkey)])
    assert signers == ["test.gongzhi.local/ledger", "witness.test/w1"]

    # The log grows: the witness checks the consistency proof from 40 to 43, then cosigns 43.
    record(3, start=SIZE)
    services.sequence_pending()
    assert f"at tree size {SIZE + 3}" in witness(live_server.url, skey_path, state)
    assert json.loads(state.read_text())["logs"]["test.gongzhi.local/ledger"]["size"] == SIZE + 3
    out = io.StringIO()
    call_command("ledger", "verify", "--url", live_server.url, "--witness", vkey, "--state", str(tmp_path / "v.json"),
                 stdout=out, stderr=io.StringIO())
    assert "1 witness cosignatures" in out.getvalue()

    rewrite_history()
    with pytest.raises(CommandError) as refused:
        witness(live_server.url, skey_path, state)
    assert refused.value.returncode == 1
    assert str(refused.value) == (f"REFUSED: the tree of size {SIZE + 7} is not consistent with the tree of size "
                                  f"{SIZE + 3} cosigned before: the log's history was rewritten")
    assert list(Cosignature.objects.values_list("size", flat=True)) == [SIZE, SIZE + 3]


@pytest.mark.django_db(transaction=True)
def test_the_same_size_with_another_root_is_a_fork_the_witness_refuses(live_server, witness_key, tmp_path):
    skey_path, _ = witness_key
    record(5)
    services.sequence_pending()
    state = tmp_path / "witness-state.json"
    witness(live_server.url, skey_path, state)
    state.write_text(state.read_text().replace(json.loads(state.read_text())["logs"]["test.gongzhi.local/ledger"]["root"],
                                               "00" * 32))
    with pytest.raises(CommandError, match="the log forked"):
        witness(live_server.url, skey_path, state)


@pytest.fixture
def checkpoint_body(db):
    record(5)
    services.sequence_pending()
    text, _ = note.open_note(services.ensure_checkpoint(), [note.Verifier.from_vkey(services.verifier_key())])
    return text


def post(client, size, line):
    return client.post(API, {"size": size, "cosignature": line}, content_type="application/json")


def test_the_api_keeps_a_valid_cosignature_by_a_configured_witness_once(client, witness_key, checkpoint_body):
    signer = note.Signer.from_skey(witness_key[0].read_text().strip())
    line = signer.sign(checkpoint_body, timestamp=1_800_000_000)
    response = post(client, 5, line)
    assert response.status_code == 201
    assert response.json() == {"size": 5, "witness": "witness.test/w1", "key_id": signer.key_id.hex(),
                               "timestamp": 1_800_000_000}
    assert post(client, 5, line).status_code == 201
    assert Cosignature.objects.count() == 1
    assert client.get("/api/v1/ledger/checkpoint").json()["note"].endswith(line)


@pytest.mark.parametrize("case,status,code", [
    ("unknown", 403, "unknown_witness"),
    ("other-body", 400, "bad_cosignature"),
    ("malformed", 400, "malformed_cosignature"),
    ("no-such-size", 404, "not_found"),
])
def test_the_api_refuses_what_it_cannot_verify(client, witness_key, checkpoint_body, case, status, code):
    signer = note.Signer.from_skey(witness_key[0].read_text().strip())
    size, line = 5, signer.sign(checkpoint_body)
    if case == "unknown":
        line = note.CosignatureSigner.generate("witness.test/w1").sign(checkpoint_body)
    elif case == "other-body":
        line = signer.sign(checkpoint_body.replace("\n5\n", "\n6\n"))
        size = 5
    elif case == "malformed":
        line = "— witness.test/w1 not-base64"
    else:
        size = 6
    response = post(client, size, line)
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert Cosignature.objects.count() == 0
