"""Signed notes, checkpoints and witness cosignatures: reference vectors, round trips, refusals."""

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gongzhi.ledger.merkle import leaf_hash
from gongzhi.ledger.note import (
    Checkpoint,
    CosignatureSigner,
    CosignatureVerifier,
    InvalidSignature,
    MalformedNote,
    NoteError,
    Signer,
    UnverifiedNote,
    Verifier,
    format_checkpoint,
    key_id,
    open_note,
    parse_checkpoint,
    parse_note,
    sign_note,
)

# Published vectors: the example in the documentation of Go's golang.org/x/mod/sumdb/note, and the
# example vkey and note of the C2SP signed-note specification.
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_LINE = (
    "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n\n"
    "\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)

# Our own worked example (module docstring of gongzhi.ledger.note, docs/ledger.md).
LOG_NAME = "gongzhi.example/ledger"
WITNESS_NAME = "witness.example/w1"
ROOT_8 = bytes.fromhex("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")
EXAMPLE_BODY = "gongzhi.example/ledger\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n"
EXAMPLE_LOG_LINE = (
    "\u2014 gongzhi.example/ledger "
    "3BwL9ObRrU9NG62QgD8vYCy9yOI3Xe+KNDuz/puPd/kp9rgdLm08IzzfHC0BhYwXcUTuPhNEajaAIG9nsSrn85o3iwo=\n"
)
EXAMPLE_WITNESS_LINE = (
    "\u2014 witness.example/w1 "
    "IDJKvgAAAABlU/EAvj7EYpE2oYqnNm84LQnoQJPhgLVzLblqt9zk2Px6IZlPPzhtl5JnX6k8YNN3KQAr1UjeWu03FjBsCStDe1HTBA==\n"
)


def example_log():
    return Signer.from_seed(LOG_NAME, bytes(range(32)))


def example_witness():
    return CosignatureSigner.from_seed(WITNESS_NAME, bytes(range(32, 64)), now=lambda: 1700000000)


# --- reference vectors -------------------------------------------------------------------------


def test_go_reference_signer_reproduces_its_published_signature():
    signer = Signer.from_skey(GO_SKEY)
    assert signer.verifier_key() == GO_VKEY
    assert signer.key_id.hex() == "c74f20a3"
    assert signer.sign(GO_TEXT) == GO_LINE
    assert signer.to_skey() == GO_SKEY


def test_spec_example_note_opens_with_spec_example_key():
    assert open_note(SPEC_NOTE, [Verifier.from_vkey(SPEC_VKEY)]) == ("This is an example message.\n", ["example.com/foo"])


def test_worked_example_key_ids_and_lines_are_exact():
    log, witness = example_log(), example_witness()
    assert log.key_id.hex() == "dc1c0bf4"
    assert log.key_id == key_id(LOG_NAME, 0x01, log.public_key)
    assert log.to_skey() == "PRIVATE+KEY+gongzhi.example/ledger+dc1c0bf4+AQABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f"
    assert log.verifier_key() == "gongzhi.example/ledger+dc1c0bf4+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4"
    assert witness.key_id.hex() == "20324abe"
    assert witness.verifier_key() == "witness.example/w1+20324abe+BCmsuuFBvMrwsi4alNNNC8c2HlJtC/4SyJeUvJMilm3X"

    body = format_checkpoint(LOG_NAME, 8, ROOT_8)
    assert body == EXAMPLE_BODY
    assert sign_note(body, [log]) == EXAMPLE_BODY + "\n" + EXAMPLE_LOG_LINE
    assert witness.sign(body) == EXAMPLE_WITNESS_LINE
    raw = base64.b64decode(EXAMPLE_WITNESS_LINE.split()[-1])
    assert raw[:4].hex() == "20324abe" and int.from_bytes(raw[4:12], "big") == 1700000000 and len(raw) == 76


def test_worked_example_is_quoted_verbatim_in_module_docstring():
    from gongzhi.ledger import note

    for value in (EXAMPLE_LOG_LINE.strip(), EXAMPLE_WITNESS_LINE.strip(), example_log().verifier_key()):
        assert value in note.__doc__


# --- round trips -------------------------------------------------------------------------------


def test_log_and_witness_signatures_open_together():
    log, witness = example_log(), example_witness()
    body = format_checkpoint(LOG_NAME, 8, ROOT_8)
    note = sign_note(body, [log]) + witness.sign(body)
    text, names = open_note(note, [log.verifier(), witness.verifier()])
    assert text == body and names == [LOG_NAME, WITNESS_NAME]
    assert parse_checkpoint(text) == Checkpoint(LOG_NAME, 8, ROOT_8)
    _, signatures = parse_note(note)
    assert CosignatureVerifier.timestamp(signatures[1].signature) == 1700000000


@given(text=st.text(alphabet=st.characters(blacklist_categories=("Cs",), min_codepoint=0x20), max_size=80))
def test_any_printable_text_round_trips(text):
    text = text + "\n"
    signer = example_log()
    assert open_note(sign_note(text, [signer]), [signer.verifier()]) == (text, [LOG_NAME])


def test_text_with_empty_lines_splits_at_the_last_one():
    signer = example_log()
    text = "第一段\n\n第二段\n\n"
    assert open_note(sign_note(text, [signer]), [signer.verifier()])[0] == text


def test_generated_keys_survive_skey_and_vkey_strings():
    for cls in (Signer, CosignatureSigner):
        signer = cls.generate("gongzhi.example/k")
        again = Signer.from_skey(signer.to_skey())
        assert type(again) is cls and again.verifier_key() == signer.verifier_key()
        assert type(Verifier.from_vkey(signer.verifier_key())) is type(signer.verifier())


# --- refusals ----------------------------------------------------------------------------------


def test_tampered_text_is_rejected_as_invalid_signature():
    signer = example_log()
    note = sign_note(format_checkpoint(LOG_NAME, 8, ROOT_8), [signer])
    with pytest.raises(InvalidSignature):
        open_note(note.replace("\n8\n", "\n9\n"), [signer.verifier()])


def test_tampered_cosignature_timestamp_is_rejected():
    witness = example_witness()
    body = format_checkpoint(LOG_NAME, 8, ROOT_8)
    raw = bytearray(base64.b64decode(witness.sign(body).split()[-1]))
    raw[11] ^= 1
    forged = body + "\n\u2014 " + WITNESS_NAME + " " + base64.b64encode(bytes(raw)).decode() + "\n"
    with pytest.raises(InvalidSignature):
        open_note(forged, [witness.verifier()])


def test_key_with_same_name_but_other_key_id_is_ignored_then_note_is_unverified():
    signer, impostor = example_log(), Signer.generate(LOG_NAME)
    note = sign_note("hello\n", [impostor])
    with pytest.raises(UnverifiedNote):
        open_note(note, [signer.verifier()])


def test_unknown_signatures_are_ignored_when_a_known_one_verifies():
    signer, stranger = example_log(), Signer.generate("stranger.example/x")
    note = sign_note("hello\n", [stranger, signer])
    assert open_note(note, [signer.verifier()]) == ("hello\n", [LOG_NAME])


def test_note_without_any_trusted_signature_is_unverified():
    with pytest.raises(UnverifiedNote):
        open_note(sign_note("hello\n", [example_log()]), [])


def test_repeated_signature_line_counts_once():
    signer = example_log()
    note = sign_note("hello\n", [signer, signer])
    assert open_note(note, [signer.verifier()])[1] == [LOG_NAME]


def test_plain_signature_is_not_accepted_as_cosignature_for_same_key_and_name():
    seed = bytes(range(32, 64))
    plain = Signer.from_seed(WITNESS_NAME, seed)
    body = format_checkpoint(LOG_NAME, 8, ROOT_8)
    with pytest.raises(UnverifiedNote):  # different type byte → different key ID → unknown key
        open_note(sign_note(body, [plain]), [example_witness().verifier()])


@pytest.mark.parametrize(
    "note",
    [
        "hello\n",  # no signature block
        "hello\n\n",  # empty signature block
        "hello\n\n\u2014 name AAAAAAA=",  # no final newline
        "hello\n\n- name AAAAAAAA\n",  # hyphen instead of em dash
        "hello\n\n\u2014 name\n",  # no signature
        "hello\n\n\u2014 name AAAA\n",  # fewer than 5 bytes
        "hello\n\n\u2014 na+me AAAAAAAA\n",  # plus in name
        "hello\n\n\u2014 name AAAAAAAA!\n",  # not base64
        "hel\tlo\n\n\u2014 name AAAAAAAA\n",  # control character
        "hello\n\n\u2014 name AAAAAAAA\n\n",  # trailing blank line
    ],
)
def test_malformed_notes_are_refused(note):
    with pytest.raises(MalformedNote):
        open_note(note, [example_log().verifier()])


@pytest.mark.parametrize("text", ["no newline", "tab\tinside\n", "", "bell\x07\n"])
def test_signing_refuses_text_the_format_cannot_carry(text):
    with pytest.raises(NoteError):
        sign_note(text, [example_log()])


@pytest.mark.parametrize("name", ["", "with space", "plus+sign", "tab\tname", "ideographic\u3000space"])
def test_key_names_refuse_spaces_and_plus(name):
    with pytest.raises(NoteError):
        Signer.generate(name)


@pytest.mark.parametrize(
    "vkey",
    [
        GO_VKEY.replace("c74f20a3", "c74f20a4"),  # key ID does not match
        GO_VKEY[:-1],  # truncated base64
        "PeterNeumann+c74f20a3",  # missing key
        "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # upper-case hex
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # unknown algorithm
    ],
)
def test_malformed_verifier_keys_are_refused(vkey):
    with pytest.raises(NoteError):
        Verifier.from_vkey(vkey)


def test_skey_and_vkey_are_not_interchangeable():
    with pytest.raises(NoteError):
        Signer.from_skey(GO_VKEY)
    with pytest.raises(NoteError):
        Verifier.from_vkey(GO_SKEY)
    with pytest.raises(NoteError):
        CosignatureVerifier.from_vkey(GO_VKEY)


# --- checkpoints -------------------------------------------------------------------------------


def test_checkpoint_round_trips_with_extension_lines():
    body = format_checkpoint("gongzhi.example/街道", 0, leaf_hash(b""), ["ext one", "ext two"])
    assert body.splitlines()[1] == "0"
    checkpoint = parse_checkpoint(body)
    assert checkpoint.extensions == ("ext one", "ext two") and checkpoint.body() == body


@given(size=st.integers(min_value=0, max_value=2**64 - 1), root=st.binary(min_size=32, max_size=32))
def test_any_size_and_root_round_trip(size, root):
    assert parse_checkpoint(format_checkpoint("o", size, root)) == Checkpoint("o", size, root)


@pytest.mark.parametrize(
    "text",
    [
        "origin\n8\n",  # two lines
        "origin\n08\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",  # leading zero
        "origin\n-1\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",
        "origin\n８\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",  # full-width digit
        "origin\n18446744073709551616\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",  # 2**64
        "origin\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQ=\n",  # 31-byte root
        "origin\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg\n",  # unpadded
        "origin\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=",  # no final newline
        "origin\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n\n",  # empty extension line
        "\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",  # empty origin
    ],
)
def test_parse_checkpoint_refuses_malformed_bodies(text):
    with pytest.raises(ValueError):
        parse_checkpoint(text)


@pytest.mark.parametrize(
    "origin,size,root,extensions",
    [("", 1, ROOT_8, ()), ("a\nb", 1, ROOT_8, ()), ("o", -1, ROOT_8, ()), ("o", 1, ROOT_8[:31], ()), ("o", 1, ROOT_8, ("",))],
)
def test_format_checkpoint_refuses_what_parse_would_refuse(origin, size, root, extensions):
    with pytest.raises(ValueError):
        format_checkpoint(origin, size, root, extensions)


def test_witness_refuses_to_cosign_text_that_is_not_a_checkpoint():
    with pytest.raises(NoteError):
        example_witness().sign("just some text\n")
