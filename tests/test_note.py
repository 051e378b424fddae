"""C2SP signed notes, checkpoints and cosignatures: published vectors, tampering, strict parsing, fuzz.

Specifications: https://c2sp.org/signed-note, https://c2sp.org/tlog-checkpoint,
https://c2sp.org/tlog-cosignature; key text formats of golang.org/x/mod/sumdb/note.
"""

from __future__ import annotations

import base64
import copy
import hashlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.transparency.note import (
    MAX_NOTE_BYTES,
    SIG_COSIGNATURE_V1,
    SIG_ED25519,
    Checkpoint,
    NoteError,
    cosign,
    generate_key,
    generate_witness_key,
    load_signer,
    load_verifier,
    load_witness_signer,
    load_witness_verifier,
    open_note,
    parse_checkpoint,
    sign_note,
    split_note,
    verify_cosignature,
)

EM = "\u2014"

# --- published vectors -----------------------------------------------------------------------

# golang.org/x/mod/sumdb/note: the package documentation example (note.go) and TestNewSigner /
# TestNewVerifier in note_test.go. Go's own output, so matching it byte for byte proves interop.
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
PETER_NOTE = (
    PETER_TEXT + "\n"
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)

# c2sp.org/signed-note, section "Verifier keys" > "Example" (C2SP/C2SP signed-note.md).
C2SP_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
C2SP_NOTE = (
    "This is an example message.\n\n"
    "— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)

# c2sp.org/tlog-cosignature, the introductory example (C2SP/C2SP tlog-cosignature.md). No keys are
# published for it, but its layout is checkable: the witness line carries the same time,
# 1679315147, as the spec's "Ed25519 signed message" example.
C2SP_COSIGNED = (
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n"
    "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
    "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n"
)

# A real checkpoint of the staging CT log arche2025h1.staging.ct.transparency.dev, signed by the log
# (Ed25519, 0x01, plus an RFC 6962 STH line, 0x05, under the same name) and cosigned by four public
# witnesses running Go code. Copied from florolf/tlog-scales tests/test_signing.py
# (TestCheckpointVerification); the witness key remora.n621.de+da77ade7 also appears in
# transparency-dev/formats note/note_cosigv1_test.go as a "native algEd25519CosignatureV1 verifier".
ARCHE_LOG_VKEY = "arche2025h1.staging.ct.transparency.dev+ba2f06c0+AU0vHmlGCS/PdN8b2OaGmKprLI8HKM+dJ472xgFYh15f"
REMORA_WITNESS_VKEY = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"
ARCHE_BODY = "arche2025h1.staging.ct.transparency.dev\n1432088532\nU7WM79jrzyhGZ5/GUBTpM7NzwdyfFx61t3RovgcC4Ro=\n"
ARCHE_NOTE = (
    ARCHE_BODY + "\n"
    "— arche2025h1.staging.ct.transparency.dev zTM8sQAAAZ5W0WdjBAMARjBEAiBjW5IQf9pvsYLfQFX6hoGREPMHbdQ3urbllzalApkptQIgIpwtEroeW2BXaHAI4kJXFbon5Ch9MNL5zRNZ55lvGt0=\n"
    "— arche2025h1.staging.ct.transparency.dev ui8GwCF1+kWqZrxGdhj4aX3gcw7XUlXQQabg/27lefwhUkzbC3NygNI75MdhL1bfTW9g8Ei59RA23oHP7Ry1k3ZFWwQ=\n"
    "— transparency.dev/DEV:witness-little-garden 2AQqhwAAAABqEiEgzgFIqqhbUoDwjMWE6UP8nd8/KYTzwZ2rhIgcqoXHAwVkjZr4AscylP3v7sEodkRAErumC2q44vdgJY096st5BQ==\n"
    "— witness1.smartit.nu/witness1 pIyCDwAAAABqEiEghIp82KWebrw7/oHQwlTAm3g2RKS4+eebl8eO0WH+/iEcxZ75W3u5hNI7TOQtmJbqmNWVuE0tgh0XwzdZsDsUAQ==\n"
    "— remora.n621.de 2net5wAAAABqEiEgPlfF3V06o0Y+fHM+J5J9s27wgxxcOVSpZ/2g/KSiXCg9DEZI+aVCIobWX9sXTynk5XeU/zZ0WBxtqB0DrAWfBw==\n"
    "— witness.stagemole.eu Z/euoAAAAABqEiEgw0i+7g2ENfDAWHmtRzCfKTHSDwYDJA2NmKeGi9Y8FtEyOUvVr+AJmIY/2TUFucgKi7lI7cUiOvKFYe/TmN9DAg==\n"
)
REMORA_TIME = 1779573024  # 0x6a122120, the 8 bytes after the key ID in remora's line

# --- our own fixed keys (fixed seeds keep every run identical) -------------------------------

LOG = "log.example/sovereign"
WITNESS = "witness.example/w1"
LOG_SKEY, LOG_VKEY = generate_key(LOG, seed=bytes(range(32)))
OTHER_SKEY, OTHER_VKEY = generate_key(LOG, seed=bytes(range(1, 33)))  # same name, different key
WITNESS_SKEY, WITNESS_VKEY = generate_witness_key(WITNESS, seed=bytes(range(2, 34)))
ROOT = hashlib.sha256(b"root").digest()
CHECKPOINT = Checkpoint(LOG, 42, ROOT)
BODY = CHECKPOINT.body()


def signed_body(body: str = BODY) -> str:
    return sign_note(body, load_signer(LOG_SKEY))


def signature_line_of(note: str) -> str:
    return note[note.rindex("\n\n") + 2 :]


def reencode_line(name: str, raw: bytes) -> str:
    return f"{EM} {name} {base64.b64encode(raw).decode()}\n"


# --- round trip ------------------------------------------------------------------------------


def test_a_signed_checkpoint_opens_to_the_same_body_and_the_same_checkpoint():
    skey, vkey = generate_key("log.example/fresh")
    checkpoint = Checkpoint("log.example/fresh", 7, ROOT, ("extension line one", "two"))

    note = sign_note(checkpoint.body(), load_signer(skey))
    body, signed_by = open_note(note, [load_verifier(vkey)])

    assert body == checkpoint.body()
    assert signed_by == [load_verifier(vkey)]
    assert parse_checkpoint(body) == checkpoint


def test_the_checkpoint_body_is_origin_size_root_then_extensions_one_per_line():
    checkpoint = Checkpoint("example.com/log", 0, bytes(32), ("ext",))
    assert checkpoint.body() == "example.com/log\n0\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\next\n"


def test_generated_key_texts_have_gos_shape_and_load_back():
    skey, vkey = generate_key("example.com/log")
    signer, verifier = load_signer(skey), load_verifier(vkey)

    assert skey.startswith("PRIVATE+KEY+example.com/log+")
    assert vkey == verifier.key_text()
    assert signer.verifier() == verifier
    assert (signer.sig_type, verifier.sig_type) == (SIG_ED25519, SIG_ED25519)
    assert base64.b64decode(vkey.split("+", 2)[2])[0] == 0x01


def test_a_signer_never_prints_its_private_key():
    signer = load_signer(PETER_SKEY)
    assert "AYEKFALV" not in repr(signer) and "private" not in repr(signer).lower()


def test_a_body_with_empty_lines_is_split_at_the_last_empty_line():
    body = "first\n\n" + EM + " looks like a signature but is text\n"
    body_back, _ = open_note(signed_body(body), [load_verifier(LOG_VKEY)])
    assert body_back == body


# --- published vectors: interop with Go and with the spec --------------------------------------


def test_go_peterneumann_note_verifies():
    body, signed_by = open_note(PETER_NOTE, [load_verifier(PETER_VKEY)])
    assert body == PETER_TEXT
    assert [(v.name, v.key_id) for v in signed_by] == [("PeterNeumann", 0xC74F20A3)]


def test_signing_with_gos_peterneumann_key_gives_gos_note_byte_for_byte():
    assert sign_note(PETER_TEXT, load_signer(PETER_SKEY)) == PETER_NOTE


def test_generating_from_gos_peterneumann_seed_gives_gos_key_texts():
    seed = base64.b64decode(PETER_SKEY.split("+", 4)[4])[1:]
    assert generate_key("PeterNeumann", seed=seed) == (PETER_SKEY, PETER_VKEY)


def test_c2sp_signed_note_example_verifies():
    verifier = load_verifier(C2SP_VKEY)
    assert verifier.key_id == 0x530D903A
    assert open_note(C2SP_NOTE, [verifier]) == ("This is an example message.\n", [verifier])


def test_c2sp_cosignature_example_has_key_id_then_timestamp_then_64_byte_signature():
    body, signatures = split_note(C2SP_COSIGNED)
    assert parse_checkpoint(body) == Checkpoint(
        "example.com/behind-the-sofa", 20852163, base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    )
    (log_name, _, log_sig), (witness_name, witness_id, witness_sig) = signatures
    assert (log_name, len(log_sig)) == ("example.com/behind-the-sofa", 64)
    assert (witness_name, witness_id, len(witness_sig)) == ("witness.example.com/w1", 0x8D66CF3F, 8 + 64)
    assert int.from_bytes(witness_sig[:8], "big") == 1679315147


def test_real_world_checkpoint_verifies_with_the_logs_key_and_ignores_the_other_lines():
    log = load_verifier(ARCHE_LOG_VKEY)
    body, signed_by = open_note(ARCHE_NOTE, [log])
    assert (body, signed_by) == (ARCHE_BODY, [log])
    assert parse_checkpoint(body).size == 1432088532


def test_real_world_witness_cosignature_verifies_and_gives_its_time():
    assert verify_cosignature(ARCHE_NOTE, load_witness_verifier(REMORA_WITNESS_VKEY)) == REMORA_TIME


def test_real_world_cosignature_fails_on_a_changed_tree_size():
    tampered = ARCHE_NOTE.replace("\n1432088532\n", "\n1432088533\n")
    with pytest.raises(NoteError, match="does not verify"):
        verify_cosignature(tampered, load_witness_verifier(REMORA_WITNESS_VKEY))
    with pytest.raises(NoteError, match="does not verify"):
        open_note(tampered, [load_verifier(ARCHE_LOG_VKEY)])


def test_the_witness_key_id_uses_type_byte_0x04():
    # The published key ID da77ade7 only matches SHA-256(name || "\n" || 0x04 || key)[:4].
    material = base64.b64decode(REMORA_WITNESS_VKEY.split("+", 2)[2])
    assert material[0] == 0x04
    assert hashlib.sha256(b"remora.n621.de\n" + material).digest()[:4] == bytes.fromhex("da77ade7")
    assert load_witness_verifier(REMORA_WITNESS_VKEY).key_id == 0xDA77ADE7


# --- tampering -------------------------------------------------------------------------------


@pytest.mark.parametrize("mask", [0x01, 0x80, 0xFF])
def test_every_single_flipped_byte_in_the_body_fails(mask):
    note = signed_body().encode()
    verifier = load_verifier(LOG_VKEY)
    for i in range(len(BODY.encode()) + 1):  # + 1: the separating newline too
        tampered = bytearray(note)
        tampered[i] ^= mask
        with pytest.raises(NoteError):
            open_note(bytes(tampered), [verifier])


def test_every_single_flipped_byte_of_the_signature_fails():
    note = signed_body()
    _, [(name, kid, signature)] = split_note(note)
    raw = kid.to_bytes(4, "big") + signature
    for i in range(len(raw)):
        flipped = bytearray(raw)
        flipped[i] ^= 0x01
        with pytest.raises(NoteError):
            open_note(BODY + "\n" + reencode_line(name, bytes(flipped)), [load_verifier(LOG_VKEY)])


def test_a_different_key_with_the_same_name_fails():
    with pytest.raises(NoteError, match="expected a signature by a known key"):
        open_note(signed_body(), [load_verifier(OTHER_VKEY)])


def test_the_same_key_under_a_different_name_fails():
    _, renamed_vkey = generate_key("log.example/other", seed=bytes(range(32)))
    with pytest.raises(NoteError, match="expected a signature by a known key"):
        open_note(signed_body(), [load_verifier(renamed_vkey)])


def test_a_line_claiming_a_known_name_and_key_id_but_signed_by_another_key_fails():
    forged_sig = split_note(sign_note(BODY, load_signer(OTHER_SKEY)))[1][0][2]
    forged = BODY + "\n" + reencode_line(LOG, load_verifier(LOG_VKEY).key_id.to_bytes(4, "big") + forged_sig)
    with pytest.raises(NoteError, match="does not verify"):
        open_note(forged, [load_verifier(LOG_VKEY)])


def test_a_bad_signature_of_a_known_key_rejects_the_note_even_next_to_a_good_one():
    good = signed_body()
    bad = signature_line_of(sign_note("another body\n", load_signer(LOG_SKEY)))
    with pytest.raises(NoteError, match="does not verify"):
        open_note(good + bad, [load_verifier(LOG_VKEY)])


def test_signatures_of_unknown_keys_are_ignored():
    note = signed_body() + signature_line_of(sign_note(BODY, load_signer(OTHER_SKEY)))
    assert open_note(note, [load_verifier(LOG_VKEY)]) == (BODY, [load_verifier(LOG_VKEY)])
    assert open_note(note, [load_verifier(OTHER_VKEY), load_verifier(LOG_VKEY)])[1] == [
        load_verifier(LOG_VKEY),
        load_verifier(OTHER_VKEY),
    ]


def test_a_note_with_no_signature_lines_fails():
    with pytest.raises(NoteError, match="expected at least one signature line"):
        open_note(BODY + "\n", [load_verifier(LOG_VKEY)])


def test_an_unsigned_body_fails():
    with pytest.raises(NoteError, match="found no empty line"):
        open_note(BODY, [load_verifier(LOG_VKEY)])


def test_no_verifiers_means_no_note_opens():
    with pytest.raises(NoteError, match="none given"):
        open_note(signed_body(), [])


def test_two_different_keys_under_one_name_and_key_id_are_refused():
    real = load_verifier(LOG_VKEY)
    impostor = copy.copy(real)  # then swap the key behind the key ID check's back, as a corrupted config could
    object.__setattr__(impostor, "public_key", load_verifier(OTHER_VKEY).public_key)
    with pytest.raises(NoteError, match="share the name and key ID"):
        open_note(signed_body(), [real, impostor])


# --- determinism -----------------------------------------------------------------------------


def test_signing_twice_gives_identical_bytes():
    assert sign_note(BODY, load_signer(LOG_SKEY)) == sign_note(BODY, load_signer(LOG_SKEY))
    assert cosign(BODY, load_witness_signer(WITNESS_SKEY), 1) == cosign(BODY, load_witness_signer(WITNESS_SKEY), 1)


# --- cosignatures ----------------------------------------------------------------------------


def cosigned(timestamp: int = 1_780_000_000, body: str = BODY) -> str:
    return signed_body(body) + cosign(body, load_witness_signer(WITNESS_SKEY), timestamp)


def test_a_cosignature_verifies_and_returns_its_timestamp():
    assert verify_cosignature(cosigned(1_780_000_000), load_witness_verifier(WITNESS_VKEY)) == 1_780_000_000


def test_a_cosignature_line_is_key_id_then_big_endian_timestamp_then_signature():
    line = cosign(BODY, load_witness_signer(WITNESS_SKEY), 0x0102030405060708)
    assert line.startswith(f"{EM} {WITNESS} ") and line.endswith("\n")
    raw = base64.b64decode(line.split(" ")[2])
    assert raw[:4] == load_witness_verifier(WITNESS_VKEY).key_id.to_bytes(4, "big")
    assert raw[4:12] == bytes.fromhex("0102030405060708")
    assert len(raw) == 4 + 8 + 64


def test_the_cosigned_message_is_the_header_the_time_line_and_the_body():
    raw = base64.b64decode(cosign(BODY, load_witness_signer(WITNESS_SKEY), 1679315147).split(" ")[2])
    message = b"cosignature/v1\ntime 1679315147\n" + BODY.encode()
    load_witness_verifier(WITNESS_VKEY).public_key.verify(raw[12:], message)  # raises if not


def test_a_cosigned_note_still_opens_with_the_log_key_and_the_witness_key():
    note = cosigned()
    assert open_note(note, [load_verifier(LOG_VKEY)]) == (BODY, [load_verifier(LOG_VKEY)])
    assert open_note(note, [load_witness_verifier(WITNESS_VKEY)])[1] == [load_witness_verifier(WITNESS_VKEY)]


def test_a_cosignature_moved_to_a_different_checkpoint_fails():
    line = cosign(BODY, load_witness_signer(WITNESS_SKEY), 5)
    other = Checkpoint(LOG, 43, ROOT).body()
    with pytest.raises(NoteError, match="does not verify"):
        verify_cosignature(signed_body(other) + line, load_witness_verifier(WITNESS_VKEY))


def test_a_cosignature_with_a_changed_timestamp_fails():
    _, signatures = split_note(cosigned(1000))
    name, kid, signature = signatures[-1]
    changed = kid.to_bytes(4, "big") + (1001).to_bytes(8, "big") + signature[8:]
    with pytest.raises(NoteError, match="does not verify"):
        verify_cosignature(signed_body() + reencode_line(name, changed), load_witness_verifier(WITNESS_VKEY))


def test_a_missing_cosignature_fails():
    with pytest.raises(NoteError, match=f"expected a cosignature by {WITNESS}"):
        verify_cosignature(signed_body(), load_witness_verifier(WITNESS_VKEY))


def test_a_cosignature_needs_a_checkpoint_body():
    with pytest.raises(NoteError, match="checkpoint"):
        cosign("just a line\n", load_witness_signer(WITNESS_SKEY), 1)


@pytest.mark.parametrize("timestamp", [0, 2**63 - 1])
def test_cosignature_timestamps_span_zero_to_two_to_the_63_minus_one(timestamp):
    assert verify_cosignature(cosigned(timestamp), load_witness_verifier(WITNESS_VKEY)) == timestamp


@pytest.mark.parametrize("timestamp", [-1, 2**63, True, 1.5])
def test_out_of_range_cosignature_timestamps_are_refused(timestamp):
    with pytest.raises(NoteError, match="expected a POSIX timestamp"):
        cosign(BODY, load_witness_signer(WITNESS_SKEY), timestamp)


def test_a_log_key_cannot_pass_as_a_witness_key():
    to_witness = r"expected signature type 0x04 \(Ed25519 cosignature/v1\), got 0x01 \(Ed25519 note signature\)"
    to_log = r"expected signature type 0x01 \(Ed25519 note signature\), got 0x04 \(Ed25519 cosignature/v1\)"
    with pytest.raises(NoteError, match=to_witness):
        load_witness_verifier(LOG_VKEY)
    with pytest.raises(NoteError, match=to_witness):
        load_witness_signer(LOG_SKEY)
    with pytest.raises(NoteError, match=to_log):
        load_verifier(WITNESS_VKEY)
    with pytest.raises(NoteError, match=to_log):
        load_signer(WITNESS_SKEY)


def test_one_seed_as_log_key_and_as_witness_key_gets_two_key_ids_and_neither_signature_passes_as_the_other():
    seed = bytes(range(32))
    log_skey, log_vkey = generate_key("dual.example", seed=seed)
    witness_skey, witness_vkey = generate_witness_key("dual.example", seed=seed)
    log, witness = load_verifier(log_vkey), load_witness_verifier(witness_vkey)
    assert log.public_key == witness.public_key and log.key_id != witness.key_id

    log_signed = sign_note(BODY, load_signer(log_skey))
    with pytest.raises(NoteError, match="expected a cosignature by dual.example"):
        verify_cosignature(log_signed, witness)
    only_cosigned = BODY + "\n" + cosign(BODY, load_witness_signer(witness_skey), 1)
    with pytest.raises(NoteError, match="expected a signature by a known key"):
        open_note(only_cosigned, [log])


def test_sign_note_and_cosign_refuse_each_others_keys():
    with pytest.raises(NoteError, match="witness keys sign with cosign"):
        sign_note(BODY, load_witness_signer(WITNESS_SKEY))
    with pytest.raises(NoteError, match=r"expected a witness signer of type 0x04"):
        cosign(BODY, load_signer(LOG_SKEY), 1)
    with pytest.raises(NoteError, match="expected a witness verifier of type 0x04"):
        verify_cosignature(cosigned(), load_verifier(LOG_VKEY))


# --- strict parsing: checkpoints ---------------------------------------------------------------

GOOD_ROOT = base64.b64encode(ROOT).decode()
URLSAFE_ROOT = base64.urlsafe_b64encode(bytes([0xFB]) * 32).decode()  # "-" and "_" instead of "+" and "/"


@pytest.mark.parametrize(
    "body, expected",
    [
        (f"log\n42\n{GOOD_ROOT}", "end with a newline"),
        (f"log\n42\n", "at least 3 lines"),
        (f"\n42\n{GOOD_ROOT}\n", "no empty lines"),
        (f"log\n42\n{GOOD_ROOT}\n\next\n", "no empty lines"),
        (f"log\n042\n{GOOD_ROOT}\n", "without leading zeros"),
        (f"log\n00\n{GOOD_ROOT}\n", "without leading zeros"),
        (f"log\n+42\n{GOOD_ROOT}\n", "ASCII decimal"),
        (f"log\n 42\n{GOOD_ROOT}\n", "ASCII decimal"),
        (f"log\n4_2\n{GOOD_ROOT}\n", "ASCII decimal"),
        (f"log\n\u0664\u0662\n{GOOD_ROOT}\n", "ASCII decimal"),  # Arabic-Indic digits: int() would take them
        (f"log\n{2**64}\n{GOOD_ROOT}\n", "at most 2\\^64-1"),
        (f"log\n{'9' * 5000}\n{GOOD_ROOT}\n", "at most 2\\^64-1"),  # int() itself refuses > 4300 digits
        (f"log\n42\n{base64.b64encode(ROOT[:31]).decode()}\n", "expected 32 bytes"),
        (f"log\n42\n{GOOD_ROOT.rstrip('=')}\n", "base64"),
        (f"log\n42\n{URLSAFE_ROOT}\n", "base64"),
        (f"log\n42\n{GOOD_ROOT[:-2]}1=\n", "canonical base64"),  # non-zero trailing bits
        (f"log\r\n42\n{GOOD_ROOT}\n", "control characters"),
        (f"log\n42\n{GOOD_ROOT}\n\x00\n", "control characters"),
    ],
)
def test_malformed_checkpoints_are_refused_saying_what_was_expected(body, expected):
    with pytest.raises(NoteError, match=expected):
        parse_checkpoint(body)


def test_checkpoint_size_zero_and_the_largest_uint64_are_accepted():
    assert parse_checkpoint(f"log\n0\n{GOOD_ROOT}\n").size == 0
    assert parse_checkpoint(f"log\n{2**64 - 1}\n{GOOD_ROOT}\n").size == 2**64 - 1


@pytest.mark.parametrize(
    "fields",
    [
        ("", 1, ROOT, ()),
        ("two\nlines", 1, ROOT, ()),
        ("log", -1, ROOT, ()),
        ("log", True, ROOT, ()),
        ("log", 1, ROOT[:31], ()),
        ("log", 1, ROOT, ("",)),
        ("log", 1, ROOT, ("a\nb",)),
        ("log", 1, ROOT, "ext"),
        ("log", 1, ROOT, None),
        ("log\r", 1, ROOT, ()),
    ],
)
def test_a_checkpoint_that_could_not_be_parsed_back_cannot_be_built(fields):
    with pytest.raises(NoteError, match="expected"):
        Checkpoint(*fields)


# --- strict parsing: keys ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("PeterNeumann+c74f20a3", "expected '<name>\\+<8 hex digits>\\+<base64 key>'"),
        ("+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "non-empty"),
        ("Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "whitespace"),
        ("Peter\u00a0Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "whitespace"),
        ("PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "8 lower-case hex digits"),
        ("PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "8 lower-case hex digits"),
        ("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "expected c74f20a3"),
        ("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW\n", "standard base64"),
        ("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq_LDE4izWy10TW", "standard base64"),
        ("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWAA==", "33 bytes"),
        ("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "got 0x65 \\(unsupported\\)"),
    ],
)
def test_malformed_verifier_keys_are_refused_saying_what_was_expected(text, expected):
    with pytest.raises(NoteError, match=expected):
        load_verifier(text)


def test_every_truncation_and_every_changed_character_of_a_key_is_refused():
    # The mangling scheme of Go's TestNewVerifier / TestNewSigner.
    for good, load in [(PETER_VKEY, load_verifier), (PETER_SKEY, load_signer)]:
        for i in range(len(good) + 1):
            for j in range(i + 1, len(good) + 1):
                if (i, j) != (0, len(good)):
                    with pytest.raises(NoteError):
                        load(good[i:j])
        for i in range(len(good)):
            with pytest.raises(NoteError):
                load(good[:i] + chr(ord(good[i]) + 1) + good[i + 1 :])


def test_a_signer_key_needs_the_private_prefix_and_a_matching_key_id():
    with pytest.raises(NoteError, match="starting with 'PRIVATE\\+KEY\\+'"):
        load_signer(PETER_SKEY.removeprefix("PRIVATE+KEY+"))
    with pytest.raises(NoteError, match="expected c74f20a3"):
        load_signer(PETER_SKEY.replace("c74f20a3", "c74f20a4"))


@pytest.mark.parametrize(
    "mangled",
    [
        PETER_SKEY.replace("c74f20a3+", "c74f20a3"),  # no '+' before the key material
        PETER_SKEY + "\n",  # not canonical base64
        PETER_SKEY.replace("AYEK", "AYE_"),  # not base64 at all
        "PRIVATE+KEY+AYEKFALVFGyN hPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",  # key material where the name belongs
    ],
)
def test_errors_about_a_signer_key_never_quote_its_secret(mangled):
    with pytest.raises(NoteError) as error:
        load_signer(mangled)
    assert "FALVFGyN" not in str(error.value)


@pytest.mark.parametrize("name", ["", "a+b", "a b", "a\tb", "a\nb", "a\u2003b", "a\x7f\x00"])
def test_key_names_must_be_non_empty_without_plus_spaces_or_controls(name):
    with pytest.raises(NoteError, match="key name"):
        generate_key(name)


# --- strict parsing: notes ---------------------------------------------------------------------


def test_sign_note_refuses_a_body_without_final_newline_or_with_control_characters():
    with pytest.raises(NoteError, match="end with a newline"):
        sign_note(BODY[:-1], load_signer(LOG_SKEY))
    with pytest.raises(NoteError, match="no control characters other than newline, found '\\\\r'"):
        sign_note(BODY.replace("\n", "\r\n"), load_signer(LOG_SKEY))


def test_crlf_line_endings_are_refused_when_opening():
    with pytest.raises(NoteError, match="control characters"):
        open_note(signed_body().replace("\n", "\r\n"), [load_verifier(LOG_VKEY)])


def test_invalid_utf8_is_refused():
    with pytest.raises(NoteError, match="expected valid UTF-8"):
        open_note(signed_body().encode() + b"\xff", [load_verifier(LOG_VKEY)])
    with pytest.raises(NoteError, match="expected valid UTF-8"):
        open_note("\ud800" + signed_body(), [load_verifier(LOG_VKEY)])


def test_notes_larger_than_one_mebibyte_are_refused():
    big_body = "x" * (MAX_NOTE_BYTES - 200) + "\n"
    assert open_note(signed_body(big_body), [load_verifier(LOG_VKEY)])[0] == big_body
    with pytest.raises(NoteError, match=f"at most {MAX_NOTE_BYTES} bytes"):
        sign_note("x" * MAX_NOTE_BYTES + "\n", load_signer(LOG_SKEY))
    with pytest.raises(NoteError, match=f"at most {MAX_NOTE_BYTES} bytes"):
        open_note(("é" * (MAX_NOTE_BYTES // 2)) + signed_body(), [load_verifier(LOG_VKEY)])


def test_up_to_100_signature_lines_are_read_and_101_are_refused():
    unknown = signature_line_of(sign_note(BODY, load_signer(OTHER_SKEY)))
    assert open_note(signed_body() + unknown * 99, [load_verifier(LOG_VKEY)])[0] == BODY
    with pytest.raises(NoteError, match="at most 100 signature lines"):
        open_note(signed_body() + unknown * 100, [load_verifier(LOG_VKEY)])


@pytest.mark.parametrize(
    "mangle, expected",
    [
        (lambda line: line.replace(EM, "-", 1), "em dash"),
        (lambda line: line.replace(EM + " ", EM, 1), "em dash"),
        (lambda line: line.replace(" ", "  ", 1), "non-empty"),
        (lambda line: line.replace(f"{LOG} ", f"{LOG}+x "), "no '\\+'"),
        (lambda line: line.replace(f"{LOG} ", f"{LOG}\u00a0x "), "whitespace"),
        (lambda line: line.replace("=\n", "\n"), "base64"),
        (lambda line: line.replace("=\n", "= \n"), "base64"),
        (lambda line: line[:-1], "end with a newline"),
        (lambda line: f"{EM} {LOG} AAAA\n", "4-byte key ID and a signature"),
    ],
)
def test_malformed_signature_lines_are_refused_saying_what_was_expected(mangle, expected):
    line = signature_line_of(signed_body())
    with pytest.raises(NoteError, match=expected):
        open_note(BODY + "\n" + mangle(line), [load_verifier(LOG_VKEY)])


def test_split_note_returns_name_key_id_and_signature_without_verifying():
    body, [(name, kid, signature)] = split_note(PETER_NOTE)
    assert (body, name, kid, len(signature)) == (PETER_TEXT, "PeterNeumann", 0xC74F20A3, 64)


# --- fuzz: only NoteError may escape ----------------------------------------------------------

NOTE_ALPHABET = st.sampled_from(list("ab+/=0145\n \r\t") + [EM, "\u00a0", "é", "\x00", "\ud800", "c74f20a3", "PRIVATE+KEY+"])
notey_text = st.lists(NOTE_ALPHABET, max_size=60).map("".join)
any_text = st.one_of(st.text(max_size=200), notey_text)
FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def only_note_errors(function, *args) -> None:
    try:
        function(*args)
    except NoteError:
        pass


@FUZZ
@given(any_text)
def test_fuzz_text_parsers_raise_nothing_but_note_error(text):
    verifiers = [load_verifier(LOG_VKEY), load_witness_verifier(WITNESS_VKEY)]
    only_note_errors(open_note, text, verifiers)
    only_note_errors(split_note, text)
    only_note_errors(parse_checkpoint, text)
    only_note_errors(load_verifier, text)
    only_note_errors(load_signer, text)
    only_note_errors(load_witness_verifier, text)
    only_note_errors(load_witness_signer, text)
    only_note_errors(verify_cosignature, text, verifiers[1])
    only_note_errors(sign_note, text, load_signer(LOG_SKEY))
    only_note_errors(cosign, text, load_witness_signer(WITNESS_SKEY), 1)
    only_note_errors(generate_key, text)


@FUZZ
@given(st.binary(max_size=300))
def test_fuzz_bytes_into_open_note_raise_nothing_but_note_error(data):
    only_note_errors(open_note, data, [load_verifier(LOG_VKEY)])


@FUZZ
@given(st.data())
def test_fuzz_an_edited_signed_note_either_fails_or_opens_to_the_original_body(data):
    note = cosigned(7)
    start = data.draw(st.integers(0, len(note)))
    end = data.draw(st.integers(start, min(len(note), start + 4)))
    edited = note[:start] + data.draw(notey_text.filter(lambda s: len(s) <= 4)) + note[end:]
    try:
        body, _ = open_note(edited, [load_verifier(LOG_VKEY), load_witness_verifier(WITNESS_VKEY)])
    except NoteError:
        return
    assert body == BODY
