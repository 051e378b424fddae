"""C2SP signed notes, checkpoints and witness cosignatures, with Ed25519.

A signed checkpoint lets anyone holding the log's verifier key check the tree head offline, and
witness cosignatures let them check that independent parties saw the same tree head, so the log
cannot show different histories to different readers. The formats are the public ones, so that
Go tooling (``golang.org/x/mod/sumdb/note``, ``transparency-dev/formats``, witnesses) can read ours
and we can read theirs:

* signed note (https://c2sp.org/signed-note): the text, an empty line, then one line per signature,
  ``"— " name " " base64(key ID || signature) "\\n"``;
* key ID = first 4 bytes (big-endian) of SHA-256(name || "\\n" || type byte || 32-byte public key),
  type 0x01 for a note signature (the log's key), 0x04 for a cosignature/v1 (a witness's key);
* verifier key ``<name>+<8 lower-case hex key ID>+<base64(type || public key)>``; signer key
  ``PRIVATE+KEY+<name>+<8 hex key ID>+<base64(type || 32-byte seed)>`` (Go's ``note.GenerateKey``);
* checkpoint (https://c2sp.org/tlog-checkpoint): ``origin\\nsize\\nbase64(root)\\n`` plus optional
  non-empty extension lines;
* cosignature/v1 (https://c2sp.org/tlog-cosignature): the signature is
  ``u64 big-endian timestamp || Ed25519 signature`` over
  ``"cosignature/v1\\ntime <timestamp>\\n" || checkpoint body``.

Parsing is strict (canonical base64, lower-case hex, no control characters, size limits) because a
note is security-relevant input: anything this module does not understand exactly is rejected
with a :class:`NoteError` that says what was expected.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

SIG_ED25519 = 0x01
"""Signature type byte of a plain Ed25519 note signature (signed-note, "Signature types")."""
SIG_COSIGNATURE_V1 = 0x04
"""Signature type byte of a timestamped Ed25519 checkpoint cosignature (tlog-cosignature)."""

MAX_NOTE_BYTES = 1 << 20
"""Largest note accepted: bounds the work an untrusted note can cause."""
MAX_SIGNATURES = 100
"""Most signature lines accepted (the spec requires accepting at least 16; Go allows 100)."""
MAX_TIMESTAMP = (1 << 63) - 1
"""tlog-cosignature: the timestamp MUST NOT exceed 2^63 - 1."""
MAX_TREE_SIZE = (1 << 64) - 1
"""Go's checkpoint parser reads the size as uint64; larger sizes would not interoperate."""

_EM_DASH_PREFIX = "\u2014 "
_PRIVATE_PREFIX = "PRIVATE+KEY+"
_COSIGNATURE_HEADER = "cosignature/v1\n"
_SEED_SIZE = 32
_PUBLIC_KEY_SIZE = 32
_ED25519_SIGNATURE_SIZE = 64
_TYPE_NAMES = {SIG_ED25519: "Ed25519 note signature", SIG_COSIGNATURE_V1: "Ed25519 cosignature/v1"}

_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")
_HEX8 = re.compile(r"[0-9a-f]{8}")
_DECIMAL = re.compile(r"0|[1-9][0-9]*")


class NoteError(ValueError):
    """A note, checkpoint or key text that is malformed, unsigned or wrongly signed."""


# --- small strict codecs ---------------------------------------------------------------------


def _b64decode(text: str, what: str, secret: bool = False) -> bytes:
    """Decode canonical standard base64 (RFC 4648 section 4, padded), so one value has one spelling."""
    got = "(a secret, not shown)" if secret else _show(text)
    if not text or not text.isascii():
        raise NoteError(f"{what}: expected standard base64, got {got}")
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise NoteError(f"{what}: expected standard base64 (A-Z a-z 0-9 + /, '=' padding), got {got}") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise NoteError(f"{what}: expected canonical base64 (padded, zero trailing bits), got {got}")
    return raw


def _b64encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _show(text: str, limit: int = 60) -> str:
    """Quote a piece of untrusted input for an error message without flooding it."""
    return repr(text if len(text) <= limit else text[:limit] + "...")


def _utf8(text: str, what: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise NoteError(f"{what}: expected valid UTF-8 text (it contains a lone surrogate)") from None


def _check_name(name: object, what: str = "key name", secret: bool = False) -> str:
    """signed-note: names are non-empty and contain neither Unicode spaces nor '+'."""
    if not isinstance(name, str) or not name:
        raise NoteError(f"{what}: expected a non-empty string, got {name!r}")
    _utf8(name, what)
    bad = next((ch for ch in name if ch == "+" or ch.isspace() or _CONTROL.match(ch)), None)
    if bad is not None:
        where = "" if secret else f" in {_show(name)}"
        raise NoteError(f"{what}: expected no '+', whitespace or control characters, found {bad!r}{where}")
    return name


def _check_text(text: str, what: str) -> bytes:
    """signed-note: valid UTF-8, at most 1 MiB here, no ASCII control characters except newline."""
    if len(text) > MAX_NOTE_BYTES:
        raise NoteError(f"{what}: expected at most {MAX_NOTE_BYTES} bytes, got at least {len(text)}")
    raw = _utf8(text, what)
    if len(raw) > MAX_NOTE_BYTES:
        raise NoteError(f"{what}: expected at most {MAX_NOTE_BYTES} bytes, got {len(raw)}")
    bad = _CONTROL.search(text)
    if bad:
        raise NoteError(
            f"{what}: expected no control characters other than newline, found {bad.group()!r} at offset {bad.start()}"
        )
    return raw


def _check_body(body: object) -> bytes:
    if not isinstance(body, str):
        raise NoteError(f"note text: expected str, got {type(body).__name__}")
    raw = _check_text(body, "note text")
    if not body.endswith("\n"):
        raise NoteError("note text: expected it to end with a newline")
    return raw


def key_id(name: str, sig_type: int, public_key: bytes) -> int:
    """SHA-256(name || "\\n" || type || public key)[:4] as a big-endian uint32 (signed-note, tlog-cosignature)."""
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([sig_type]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


# --- checkpoints -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """A tlog-checkpoint note text: the log's identity, tree size and RFC 6962 root hash."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Validate here so that body() can only ever produce text that parse_checkpoint accepts.
        try:
            if isinstance(self.extensions, (str, bytes)):
                raise TypeError
            object.__setattr__(self, "extensions", tuple(self.extensions))
        except TypeError:
            raise NoteError(f"checkpoint extensions: expected a sequence of lines, got {self.extensions!r}") from None
        for what, line in [("checkpoint origin", self.origin), *(("checkpoint extension line", e) for e in self.extensions)]:
            if not isinstance(line, str) or not line:
                raise NoteError(f"{what}: expected a non-empty line, got {line!r}")
            if "\n" in line:
                raise NoteError(f"{what}: expected a single line, got {_show(line)}")
            _check_text(line, what)
        if isinstance(self.size, bool) or not isinstance(self.size, int) or not 0 <= self.size <= MAX_TREE_SIZE:
            raise NoteError(f"checkpoint size: expected an integer from 0 to 2^64-1, got {self.size!r}")
        if not isinstance(self.root, bytes) or len(self.root) != 32:
            raise NoteError(f"checkpoint root: expected 32 bytes (a SHA-256 root hash), got {self.root!r}")

    def body(self) -> str:
        """The note text exactly as it is signed."""
        lines = [self.origin, str(self.size), _b64encode(self.root), *self.extensions]
        return "".join(line + "\n" for line in lines)


def parse_checkpoint(body: str) -> Checkpoint:
    """Read a checkpoint note text strictly, so a checkpoint has exactly one spelling."""
    if not isinstance(body, str):
        raise NoteError(f"checkpoint: expected str, got {type(body).__name__}")
    _check_text(body, "checkpoint")
    if not body.endswith("\n"):
        raise NoteError("checkpoint: expected the text to end with a newline")
    lines = body[:-1].split("\n")
    if len(lines) < 3:
        raise NoteError(f"checkpoint: expected at least 3 lines (origin, size, root hash), got {len(lines)}")
    if any(line == "" for line in lines):
        raise NoteError(f"checkpoint: expected no empty lines, line {lines.index('') + 1} is empty")
    origin, size_text, root_text, *extensions = lines
    if not _DECIMAL.fullmatch(size_text):
        raise NoteError(f"checkpoint size: expected an ASCII decimal without leading zeros, got {_show(size_text)}")
    # The length test comes first: int() refuses (ValueError) strings of more than 4300 digits.
    if len(size_text) > len(str(MAX_TREE_SIZE)) or int(size_text) > MAX_TREE_SIZE:
        raise NoteError(f"checkpoint size: expected at most 2^64-1, got {_show(size_text)}")
    size = int(size_text)
    root = _b64decode(root_text, "checkpoint root hash")
    if len(root) != 32:
        raise NoteError(f"checkpoint root hash: expected 32 bytes, got {len(root)}")
    return Checkpoint(origin, size, root, tuple(extensions))


# --- keys --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signer:
    """A private key with its name and key ID; sig_type says whether it signs notes or cosigns."""

    name: str
    key_id: int
    sig_type: int
    private_key: Ed25519PrivateKey = field(repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_name(self.name)
        if self.sig_type not in _TYPE_NAMES:
            raise NoteError(f"signer: expected signature type 0x01 or 0x04, got {_type_label(self.sig_type)}")
        if not isinstance(self.private_key, Ed25519PrivateKey):
            raise NoteError(f"signer: expected an Ed25519PrivateKey, got {type(self.private_key).__name__}")
        expected = key_id(self.name, self.sig_type, self.private_key.public_key().public_bytes_raw())
        if self.key_id != expected:
            raise NoteError(f"signer {self.name}: key ID {self.key_id!r} does not match the key, expected {expected:08x}")

    def verifier(self) -> Verifier:
        """The matching public key, to hand to whoever checks our signatures."""
        return Verifier(self.name, self.key_id, self.sig_type, self.private_key.public_key())


@dataclass(frozen=True)
class Verifier:
    """A public key with its name and key ID; signatures are looked up by (name, key ID)."""

    name: str
    key_id: int
    sig_type: int
    public_key: Ed25519PublicKey = field(repr=False, hash=False)

    def __post_init__(self) -> None:
        _check_name(self.name)
        if self.sig_type not in _TYPE_NAMES:
            raise NoteError(f"verifier: expected signature type 0x01 or 0x04, got {_type_label(self.sig_type)}")
        if not isinstance(self.public_key, Ed25519PublicKey):
            raise NoteError(f"verifier: expected an Ed25519PublicKey, got {type(self.public_key).__name__}")
        expected = key_id(self.name, self.sig_type, self.public_key.public_bytes_raw())
        if self.key_id != expected:
            raise NoteError(f"verifier {self.name}: key ID {self.key_id!r} does not match the key, expected {expected:08x}")

    def key_text(self) -> str:
        """The verifier key text, ``<name>+<hex key ID>+<base64(type || public key)>``."""
        material = bytes([self.sig_type]) + self.public_key.public_bytes_raw()
        return f"{self.name}+{self.key_id:08x}+{_b64encode(material)}"


def _seed(seed: bytes | None) -> Ed25519PrivateKey:
    if seed is None:
        return Ed25519PrivateKey.generate()
    if not isinstance(seed, bytes) or len(seed) != _SEED_SIZE:
        raise NoteError(f"seed: expected {_SEED_SIZE} bytes, got {seed!r}")
    return Ed25519PrivateKey.from_private_bytes(seed)


def _generate(name: str, sig_type: int, seed: bytes | None) -> tuple[str, str]:
    _check_name(name)
    private = _seed(seed)
    signer = Signer(name, key_id(name, sig_type, private.public_key().public_bytes_raw()), sig_type, private)
    seed_bytes = private.private_bytes_raw()
    signer_text = f"{_PRIVATE_PREFIX}{name}+{signer.key_id:08x}+{_b64encode(bytes([sig_type]) + seed_bytes)}"
    return signer_text, signer.verifier().key_text()


def generate_key(name: str, *, seed: bytes | None = None) -> tuple[str, str]:
    """A new log key as (signer key text, verifier key text), in Go's note.GenerateKey formats.

    ``seed`` (32 bytes) makes the key reproducible, for tests or to derive it from an existing secret.
    """
    return _generate(name, SIG_ED25519, seed)


def generate_witness_key(name: str, *, seed: bytes | None = None) -> tuple[str, str]:
    """A new witness key: the same text formats, with type byte 0x04 in the key and its key ID."""
    return _generate(name, SIG_COSIGNATURE_V1, seed)


def _split_key(text: str, what: str, secret: bool) -> tuple[str, int, int, bytes]:
    """``name+hex+base64(type || key)`` -> (name, key ID, type, key). Base64 may itself contain '+'.

    With ``secret`` the key material is never quoted in an error message, so logs do not leak it.
    """
    name, sep1, rest = text.partition("+")
    hex_id, sep2, material_text = rest.partition("+")
    if not (sep1 and sep2):
        got = "" if secret else f", got {_show(text)}"
        raise NoteError(f"{what}: expected '<name>+<8 hex digits>+<base64 key>'{got}")
    _check_name(name, f"{what} name", secret)
    if not _HEX8.fullmatch(hex_id):
        got = "" if secret else f", got {_show(hex_id)}"
        raise NoteError(f"{what}: expected the key ID as 8 lower-case hex digits{got}")
    material = _b64decode(material_text, f"{what} key material", secret)
    if len(material) != 1 + _PUBLIC_KEY_SIZE:
        raise NoteError(f"{what}: expected 33 bytes of key material (type byte + 32-byte Ed25519 key), got {len(material)}")
    return name, int(hex_id, 16), material[0], material[1:]


def _type_label(sig_type: object) -> str:
    if not isinstance(sig_type, int):
        return repr(sig_type)
    return f"0x{sig_type:02x} ({_TYPE_NAMES.get(sig_type, 'unsupported')})"


def _expect_type(got: int, want: int, what: str) -> None:
    if got != want:
        raise NoteError(f"{what}: expected signature type {_type_label(want)}, got {_type_label(got)}")


def _load_signer(text: object, sig_type: int, what: str) -> Signer:
    if not isinstance(text, str):
        raise NoteError(f"{what}: expected str, got {type(text).__name__}")
    if not text.startswith(_PRIVATE_PREFIX):
        raise NoteError(f"{what}: expected text starting with 'PRIVATE+KEY+'")
    name, kid, got_type, seed = _split_key(text[len(_PRIVATE_PREFIX) :], what, secret=True)
    _expect_type(got_type, sig_type, what)
    private = Ed25519PrivateKey.from_private_bytes(seed)
    expected = key_id(name, sig_type, private.public_key().public_bytes_raw())
    if kid != expected:
        raise NoteError(f"{what}: key ID {kid:08x} does not match name and key, expected {expected:08x}")
    return Signer(name, kid, sig_type, private)


def _load_verifier(text: object, sig_type: int, what: str) -> Verifier:
    if not isinstance(text, str):
        raise NoteError(f"{what}: expected str, got {type(text).__name__}")
    name, kid, got_type, public = _split_key(text, what, secret=False)
    _expect_type(got_type, sig_type, what)
    expected = key_id(name, sig_type, public)
    if kid != expected:
        raise NoteError(f"{what}: key ID {kid:08x} does not match name and key, expected {expected:08x}")
    try:
        public_key = Ed25519PublicKey.from_public_bytes(public)
    except ValueError as exc:
        raise NoteError(f"{what}: expected a valid Ed25519 public key ({exc})") from None
    return Verifier(name, kid, sig_type, public_key)


def load_signer(text: str) -> Signer:
    """Read a ``PRIVATE+KEY+...`` log signer key (type 0x01), checking its key ID."""
    return _load_signer(text, SIG_ED25519, "signer key")


def load_verifier(text: str) -> Verifier:
    """Read a log verifier key (type 0x01), checking its key ID."""
    return _load_verifier(text, SIG_ED25519, "verifier key")


def load_witness_signer(text: str) -> Signer:
    """Read a witness signer key (type 0x04); a log key is refused so one key has one role."""
    return _load_signer(text, SIG_COSIGNATURE_V1, "witness signer key")


def load_witness_verifier(text: str) -> Verifier:
    """Read a witness verifier key (type 0x04), checking the cosignature key ID rule."""
    return _load_verifier(text, SIG_COSIGNATURE_V1, "witness verifier key")


# --- notes -------------------------------------------------------------------------------------


def _signature_line(name: str, kid: int, signature: bytes) -> str:
    return f"{_EM_DASH_PREFIX}{name} {_b64encode(kid.to_bytes(4, 'big') + signature)}\n"


def sign_note(body: str, signer: Signer) -> str:
    """Sign a note text: ``body + "\\n" + "— name base64(key ID || signature)\\n"``.

    Ed25519 is deterministic, so the same body and key always give the same bytes.
    """
    if signer.sig_type != SIG_ED25519:
        raise NoteError(
            f"sign_note: expected a signer of type {_type_label(SIG_ED25519)}, got {_type_label(signer.sig_type)}"
            " (witness keys sign with cosign)"
        )
    raw = _check_body(body)
    note = body + "\n" + _signature_line(signer.name, signer.key_id, signer.private_key.sign(raw))
    if len(note.encode("utf-8")) > MAX_NOTE_BYTES:
        raise NoteError(f"note: expected at most {MAX_NOTE_BYTES} bytes once signed")
    return note


def split_note(text: str | bytes) -> tuple[str, list[tuple[str, int, bytes]]]:
    """Take a signed note apart without verifying: (text, [(name, key ID, signature bytes), ...]).

    The signature bytes exclude the 4-byte key ID. Everything syntactic is checked here.
    """
    if isinstance(text, bytes):
        if len(text) > MAX_NOTE_BYTES:
            raise NoteError(f"note: expected at most {MAX_NOTE_BYTES} bytes, got {len(text)}")
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NoteError(f"note: expected valid UTF-8 ({exc.reason} at byte {exc.start})") from None
    if not isinstance(text, str):
        raise NoteError(f"note: expected str or bytes, got {type(text).__name__}")
    _check_text(text, "note")
    split = text.rfind("\n\n")
    if split < 0:
        raise NoteError("note: expected the text, an empty line, then signature lines; found no empty line")
    body, block = text[: split + 1], text[split + 2 :]
    if not block:
        raise NoteError("note: expected at least one signature line after the empty line")
    if not block.endswith("\n"):
        raise NoteError("note: expected the last signature line to end with a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"note: expected at most {MAX_SIGNATURES} signature lines, got {len(lines)}")
    signatures = []
    for number, line in enumerate(lines, 1):
        what = f"note signature line {number}"
        if not line.startswith(_EM_DASH_PREFIX):
            raise NoteError(f"{what}: expected it to start with an em dash (U+2014) and a space, got {_show(line)}")
        name, space, encoded = line[len(_EM_DASH_PREFIX) :].partition(" ")
        if not space:
            raise NoteError(f"{what}: expected '— <name> <base64 signature>', got {_show(line)}")
        _check_name(name, f"{what} key name")
        raw = _b64decode(encoded, f"{what} signature")
        if len(raw) < 5:
            raise NoteError(f"{what}: expected a 4-byte key ID and a signature, got {len(raw)} bytes")
        signatures.append((name, int.from_bytes(raw[:4], "big"), raw[4:]))
    return body, signatures


def body_of(text: str) -> str:
    """A note's body, without checking any signature; an unsigned checkpoint is served as its bare body."""
    return split_note(text)[0] if "\n\n" in text else text


def _cosigned_message(body_raw: bytes, timestamp: int) -> bytes:
    return f"{_COSIGNATURE_HEADER}time {timestamp}\n".encode("ascii") + body_raw


def _verifies(verifier: Verifier, body_raw: bytes, signature: bytes) -> bool:
    """Check one signature with the algorithm the verifier's type byte names."""
    if verifier.sig_type == SIG_COSIGNATURE_V1:
        if len(signature) != 8 + _ED25519_SIGNATURE_SIZE:
            return False
        timestamp = int.from_bytes(signature[:8], "big")
        if timestamp > MAX_TIMESTAMP:
            return False
        message, signature = _cosigned_message(body_raw, timestamp), signature[8:]
    else:
        if len(signature) != _ED25519_SIGNATURE_SIZE:
            return False
        message = body_raw
    try:
        verifier.public_key.verify(signature, message)
    except InvalidSignature:
        return False
    return True


def _index(verifiers: list[Verifier]) -> dict[tuple[str, int], Verifier]:
    known: dict[tuple[str, int], Verifier] = {}
    for verifier in verifiers:
        if not isinstance(verifier, Verifier):
            raise NoteError(f"verifiers: expected Verifier objects, got {type(verifier).__name__}")
        other = known.setdefault((verifier.name, verifier.key_id), verifier)
        if other != verifier:
            raise NoteError(f"verifiers: two different keys share the name and key ID {verifier.name}+{verifier.key_id:08x}")
    return known


def open_note(text: str | bytes, verifiers: list[Verifier]) -> tuple[str, list[Verifier]]:
    """Verify a signed note against known keys and return (text, the verifiers that signed it).

    Lines from unknown keys are ignored (signed-note); a line claiming a known name and key ID
    must verify, and at least one known key must have signed, otherwise NoteError.
    """
    known = _index(verifiers)
    body, signatures = split_note(text)
    body_raw = body.encode("utf-8")
    verified: list[Verifier] = []
    for name, kid, signature in signatures:
        verifier = known.get((name, kid))
        if verifier is None:
            continue
        if not _verifies(verifier, body_raw, signature):
            raise NoteError(f"note: the signature of known key {name}+{kid:08x} does not verify (altered text or wrong key)")
        if verifier not in verified:
            verified.append(verifier)
    if not verified:
        expected = ", ".join(f"{v.name}+{v.key_id:08x}" for v in known.values()) or "none given"
        found = ", ".join(f"{name}+{kid:08x}" for name, kid, _ in signatures)
        raise NoteError(f"note: expected a signature by a known key ({expected}), found only {found}")
    return body, verified


# --- cosignatures ------------------------------------------------------------------------------


def cosign(checkpoint_body: str, witness: Signer, timestamp: int) -> str:
    """A witness's cosignature/v1 line for a checkpoint, to append to the signed note.

    The returned line ends with a newline, so ``signed_note + cosign(...)`` is again a signed note.
    """
    if witness.sig_type != SIG_COSIGNATURE_V1:
        raise NoteError(
            f"cosign: expected a witness signer of type {_type_label(SIG_COSIGNATURE_V1)}, got {_type_label(witness.sig_type)}"
        )
    if isinstance(timestamp, bool) or not isinstance(timestamp, int) or not 0 <= timestamp <= MAX_TIMESTAMP:
        raise NoteError(f"cosign: expected a POSIX timestamp from 0 to 2^63-1, got {timestamp!r}")
    parse_checkpoint(checkpoint_body)
    raw = _check_body(checkpoint_body)
    signature = witness.private_key.sign(_cosigned_message(raw, timestamp))
    return _signature_line(witness.name, witness.key_id, timestamp.to_bytes(8, "big") + signature)


def verify_cosignature(note_text: str | bytes, witness_verifier: Verifier) -> int:
    """The timestamp of the witness's valid cosignature on a signed checkpoint, else NoteError.

    Only the witness's lines are checked (use open_note for the log's own signature). If the
    witness cosigned more than once, every one of its lines must verify and the latest time is returned.
    """
    if not isinstance(witness_verifier, Verifier) or witness_verifier.sig_type != SIG_COSIGNATURE_V1:
        raise NoteError(f"verify_cosignature: expected a witness verifier of type {_type_label(SIG_COSIGNATURE_V1)}")
    body, signatures = split_note(note_text)
    parse_checkpoint(body)
    body_raw = body.encode("utf-8")
    wanted = (witness_verifier.name, witness_verifier.key_id)
    timestamps = []
    for name, kid, signature in signatures:
        if (name, kid) != wanted:
            continue
        if not _verifies(witness_verifier, body_raw, signature):
            raise NoteError(f"cosignature of {name}+{kid:08x} does not verify (altered checkpoint, time or wrong key)")
        timestamps.append(int.from_bytes(signature[:8], "big"))
    if not timestamps:
        raise NoteError(f"note: expected a cosignature by {wanted[0]}+{wanted[1]:08x}, found none")
    return max(timestamps)


__all__ = [
    "body_of",
    "MAX_NOTE_BYTES",
    "MAX_SIGNATURES",
    "SIG_COSIGNATURE_V1",
    "SIG_ED25519",
    "Checkpoint",
    "NoteError",
    "Signer",
    "Verifier",
    "cosign",
    "generate_key",
    "generate_witness_key",
    "key_id",
    "load_signer",
    "load_verifier",
    "load_witness_signer",
    "load_witness_verifier",
    "open_note",
    "parse_checkpoint",
    "sign_note",
    "split_note",
    "verify_cosignature",
]
