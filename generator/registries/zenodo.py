"""Register a record's DOI on Zenodo: deposit its files through the REST deposit API, publish, then log the DOI.

The round trip: create a deposition, upload the record's files (manifest, artifacts, corrections, byte for
byte) into its bucket, set its metadata, publish; only then is the registration appended to the record's
log (an ``editorial_note`` with an ``identifier``, see ``generator.records.registration``). The published
files are never edited.

A failure anywhere before the log append appends nothing. Once a deposition exists its id is kept in a
state file (written atomically) and named in the error with the command that resumes it; resuming reads
the deposition back from Zenodo and does only what is left (a published one is just logged), so a
deposition is never created twice. Creating is the one call that is not idempotent: it is retried only
when Zenodo refused it outright (HTTP 429/503); any other failure says to look for a stray draft.

Every call goes through ``generator.pipeline.bounded`` (same-origin redirects only, a body cap, a wall-clock
timeout) with ``generator.pipeline.retry``'s backoff. The token is read from an environment variable and
only ever sent in the Authorization header: it is never written, logged or put in a message.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from generator.errors import InputError, SovereignError, ValidationFailed
from generator.fsio import MAX_ARTIFACT_BYTES, MAX_DOCUMENT_BYTES, MissingFile, atomic_write_json, parse_json, read_regular_file
from generator.pipeline.bounded import MIB, Refused, bounded_client, describe_origin, exchange, json_body
from generator.pipeline.retry import (RETRY_STATUSES, Deadline, DeadlinePassed, RetriesExhausted, Retryable, RetryPolicy,
                                      retry_after_seconds, with_retries)
from generator.records import corrections as corr
from generator.records import registration
from generator.records.layout import RecordFiles, folder_name, published_files
from generator.records.store import find_record
from generator.records.validate import validate_record

ZENODO_URL = "https://zenodo.org"
SANDBOX_URL = "https://sandbox.zenodo.org"
TOKEN_ENV = "ZENODO_TOKEN"
DEFAULT_STATE_DIR = Path(".cache/zenodo")
MAX_ANSWER_BYTES = 8 * MIB
CALL_DEADLINE = 900.0  # seconds for one call with all its retries (an upload of a large report included)
# Statuses that mean the server did not act on the request, so even a create may be sent again.
REFUSED_STATUSES = frozenset({429, 503})
UNREGISTERABLE = (corr.RETRACTED, corr.WITHDRAWN, corr.REMOVED)


class ZenodoError(SovereignError):
    """Zenodo answered with an error, or not at all; the message says which call and why (never the token)."""


class RegistrationIncomplete(SovereignError):
    """A deposition exists but was not published and logged; the message says how to resume it."""

    def __init__(self, message: str, deposition: int):
        super().__init__(message)
        self.deposition = deposition


@dataclass(frozen=True)
class Registered:
    record_id: str
    doi: str
    deposition: int
    record_url: str
    correction: Path  # the appended log entry


class ZenodoApi:
    """The few calls of Zenodo's deposit API this tool makes, bounded and retried; ``base_url`` is the host."""

    def __init__(self, base_url: str, token: str, *, timeout: float = 60.0, retry: RetryPolicy = RetryPolicy(),
                 call_deadline: float = CALL_DEADLINE, sleep: Callable[[float], None] = time.sleep):
        if not token.strip():
            raise InputError("the Zenodo token is empty")
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.timeout = timeout
        self.retry = retry
        self.call_deadline = call_deadline
        self._sleep = sleep
        self._client = bounded_client(timeout)

    @property
    def is_sandbox(self) -> bool:
        return httpx.URL(self.base_url).host.startswith("sandbox.")

    @property
    def registrar(self) -> str:
        return registration.ZENODO_SANDBOX if self.is_sandbox else registration.ZENODO

    def close(self) -> None:
        self._client.close()

    def call(self, method: str, url: str, *, json: Any = None, content: bytes | None = None, idempotent: bool = True) -> dict:
        """One API call's JSON answer (2xx), retrying 429/5xx and lost connections; ``ZenodoError`` otherwise.

        A call that is not ``idempotent`` is retried only when Zenodo refused it outright (429/503).
        """
        url = url if url.startswith(("http://", "https://")) else f"{self.base_url}{url}"
        shown = f"{method} {httpx.URL(url).path}"
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}
        if content is not None:
            headers["Content-Type"] = "application/octet-stream"
        retry_on = RETRY_STATUSES if idempotent else REFUSED_STATUSES

        def once() -> dict:
            try:
                answer = exchange(self._client, method, url, headers=headers, json_body=json, content=content,
                                  timeout=self.timeout, deadline=deadline, max_body_bytes=MAX_ANSWER_BYTES)
            except Retryable as failure:
                if idempotent:
                    raise
                raise ZenodoError(f"Zenodo: {shown}: {failure.problem}; it may have been carried out, not retried") from None
            if 200 <= answer.status_code < 300:
                value = json_body(answer)
                if not isinstance(value, dict):
                    raise Refused("answered with JSON that is not an object")
                return value
            if answer.status_code in retry_on:
                raise Retryable(f"HTTP {answer.status_code}", retry_after_seconds(answer.headers.get("Retry-After")))
            raise ZenodoError(f"Zenodo answered HTTP {answer.status_code} to {shown}{_error_detail(answer)}")

        deadline = Deadline(self.call_deadline, "Zenodo call deadline")
        try:
            return with_retries(once, self.retry, sleep=self._sleep, what=f"Zenodo {shown}", deadline=deadline)
        except RetriesExhausted as exc:
            raise ZenodoError(f"Zenodo: {shown} failed: {exc}") from None
        except DeadlinePassed as exc:
            raise ZenodoError(f"Zenodo: {shown}: {exc}") from None
        except Refused as exc:
            raise ZenodoError(f"Zenodo ({describe_origin(httpx.URL(url))}) {exc.problem} to {shown}; refused") from None

    def create(self) -> dict:
        return self.call("POST", "/api/deposit/depositions", json={}, idempotent=False)

    def get(self, deposition: int) -> dict:
        return self.call("GET", f"/api/deposit/depositions/{deposition}")

    def upload(self, deposition: dict, name: str, data: bytes) -> dict:
        bucket = (deposition.get("links") or {}).get("bucket")
        if not isinstance(bucket, str) or httpx.URL(bucket).host != httpx.URL(self.base_url).host:
            raise ZenodoError(f"Zenodo deposition {deposition.get('id')} has no file bucket on {self.base_url}")
        return self.call("PUT", f"{bucket}/{name}", content=data)

    def set_metadata(self, deposition: int, metadata: dict) -> dict:
        return self.call("PUT", f"/api/deposit/depositions/{deposition}", json={"metadata": metadata})

    def publish(self, deposition: int) -> dict:
        # Publishing twice is refused by Zenodo, never done twice: a lost answer is retried, and a retry
        # that finds it done is read back by ``register`` (resume), so this counts as idempotent.
        return self.call("POST", f"/api/deposit/depositions/{deposition}/actions/publish")


def _error_detail(answer) -> str:
    """Zenodo's own message of an error answer (its JSON ``message`` and field errors), shortened."""
    try:
        value = answer.json()
    except (ValueError, UnicodeDecodeError):
        return ""
    if not isinstance(value, dict):
        return ""
    parts = [str(value.get("message") or "")]
    parts += [f"{e.get('field')}: {e.get('message')}" for e in value.get("errors") or [] if isinstance(e, dict)]
    text = "; ".join(p for p in parts if p)
    return f": {text[:500]}" if text else ""


def token_from_env(name: str = TOKEN_ENV) -> str:
    token = os.environ.get(name, "").strip()
    if not token:
        raise InputError(f"set {name} to a Zenodo personal access token (scopes deposit:write and deposit:actions); "
                         "it is read from the environment only and never written")
    return token


# ---------------------------------------------------------------------------------------------------
# The record's files and the state file


def deposit_files(folder: Path, manifest: dict, corrections: list[dict]) -> dict[str, bytes]:
    """The record's published files by their name in the deposition (Zenodo has no folders: corrections/0001.json
    is deposited as corrections-0001.json)."""
    files = {}
    for name in published_files(manifest, corrections):
        limit = MAX_ARTIFACT_BYTES if name in {a["path"] for a in manifest.get("artifacts", [])} else MAX_DOCUMENT_BYTES
        files[name.replace("/", "-")] = read_regular_file(folder / name, limit)
    return files


def md5_checksum(data: bytes) -> str:
    """A file's checksum as Zenodo states it (``md5:<hex>``): it proves an upload arrived intact, nothing more."""
    return "md5:" + hashlib.md5(data, usedforsecurity=False).hexdigest()


def state_file(state_dir: Path, api: ZenodoApi, record_id: str) -> Path:
    host = httpx.URL(api.base_url).host
    return Path(state_dir) / f"{host}-{folder_name(record_id)}.json"


def read_state(path: Path) -> int | None:
    """The deposition id an earlier, unfinished run left, if any."""
    try:
        value = parse_json(read_regular_file(path, 4096))
    except MissingFile:
        return None
    except ValueError:
        raise InputError(f"{path}: not a registration state file; delete it and resume with --resume DEPOSITION_ID") from None
    deposition = value.get("deposition") if isinstance(value, dict) else None
    if type(deposition) is not int:
        raise InputError(f"{path}: names no deposition id; delete it and resume with --resume DEPOSITION_ID")
    return deposition


# ---------------------------------------------------------------------------------------------------
# The round trip


def resume_command(record_id: str, api: ZenodoApi, deposition: int) -> str:
    return f"sovereign-publish register {record_id} --zenodo{' --sandbox' if api.is_sandbox else ''} --resume {deposition}"


def _check_ours(deposition: dict, record_id: str, files: dict[str, bytes], title: str) -> None:
    """Refuse to touch a deposition that is not a deposit of this record (a wrong --resume id)."""
    number = deposition.get("id")
    metadata = deposition.get("metadata") or {}
    if deposition.get("submitted"):
        if record_id not in (metadata.get("keywords") or []):
            raise InputError(f"Zenodo deposition {number} is published, but not as {record_id} (its keywords do not name it)")
        return
    strangers = sorted({f.get("filename") for f in deposition.get("files") or []} - set(files))
    if strangers:
        raise InputError(f"Zenodo deposition {number} holds files that are not {record_id}'s ({', '.join(map(str, strangers))}); "
                         "give the id of this record's deposition")
    if metadata.get("title") not in (None, "", title):
        raise InputError(f"Zenodo deposition {number} is titled {metadata.get('title')!r}, not as {record_id}")


def _deposition_id(deposition: dict) -> int:
    number = deposition.get("id")
    if type(number) is not int or number <= 0:
        raise ZenodoError("Zenodo answered a deposition without a numeric id")
    return number


def _published(api: ZenodoApi, deposition: dict) -> tuple[str, str]:
    """The DOI and record page of a published deposition, checked."""
    doi = deposition.get("doi") or ""
    record_number = deposition.get("record_id") or deposition.get("id")
    if not registration.DOI.fullmatch(str(doi)) or type(record_number) is not int:
        raise ZenodoError(f"Zenodo published deposition {deposition.get('id')} but answered no usable DOI ({str(doi)[:100]!r})")
    host = "https://sandbox.zenodo.org" if api.is_sandbox else "https://zenodo.org"
    return doi, f"{host}/records/{record_number}"


def _complete(api: ZenodoApi, deposition: dict, files: dict[str, bytes], metadata: dict) -> dict:
    """Upload what is missing or different, set the metadata and publish; a published deposition is returned as is."""
    if deposition.get("submitted"):
        return deposition
    number = _deposition_id(deposition)
    # The deposition lists checksums as bare hex, the bucket answers "md5:<hex>": compare the hex.
    present = {f.get("filename"): str(f.get("checksum") or "").removeprefix("md5:") for f in deposition.get("files") or []}
    for name, data in files.items():
        if present.get(name) == md5_checksum(data).removeprefix("md5:"):
            continue
        stored = api.upload(deposition, name, data)
        if stored.get("checksum") != md5_checksum(data):
            raise ZenodoError(f"Zenodo stored {name} with checksum {stored.get('checksum')!r}, not {md5_checksum(data)}: "
                              "the upload arrived altered")
    api.set_metadata(number, metadata)
    return api.publish(number)


def register(records_dir: Path, record_id: str, api: ZenodoApi, *, metadata: Callable[[RecordFiles], dict],
             state_dir: Path = DEFAULT_STATE_DIR, resume: int | None = None, by: str = "Assignee Research") -> Registered:
    """Deposit ``record_id`` on Zenodo and append its DOI to the record's log; see the module docstring.

    ``metadata`` maps the validated record to the deposition's metadata (``zenodo_metadata`` of the record's
    citation, so the deposit says what `export --format datacite` says). It is called before Zenodo is asked
    anything, so metadata that cannot be made (no licence, say) leaves no deposition behind.
    """
    folder = find_record(records_dir, record_id)
    record, problems = validate_record(folder)
    if problems:
        raise ValidationFailed(problems)
    folded = corr.fold(record.manifest, record.correction_entries)
    if folded.status in UNREGISTERABLE:
        raise InputError(f"{record_id} is {folded.status}: a DOI is registered for a record readers may rely on, not for this one")
    earlier = [r for r in registration.registrations(record.correction_entries) if r.registrar == api.registrar]
    if earlier:
        raise InputError(f"{record_id} is already registered with {api.registrar} as DOI {earlier[-1].doi} "
                         f"(correction {earlier[-1].sequence:04d})")
    files = deposit_files(folder, record.manifest, record.correction_entries)
    wanted = metadata(record)
    state = state_file(state_dir, api, record_id)
    number = resume if resume is not None else read_state(state)
    if number is not None:
        try:
            deposition = api.get(number)
        except ZenodoError as exc:
            hint = f" (named by {state}: delete it to start a new deposition)" if resume is None else ""
            raise ZenodoError(f"cannot resume Zenodo deposition {number}{hint}: {exc}") from None
        _check_ours(deposition, record_id, files, wanted.get("title"))
    else:
        deposition = api.create()
        number = _deposition_id(deposition)
    atomic_write_json(state, {"deposition": number, "record_id": record_id, "zenodo": api.base_url})
    try:
        published = _complete(api, deposition, files, wanted)
        doi, record_url = _published(api, published)
        path = corr.append_correction(
            records_dir, record_id, corr.NOTE_TYPE,
            f"Registered DOI {doi} with {api.registrar}: the record's files as published are deposited at {record_url}.",
            by, [], extra={"identifier": registration.identifier(doi, api.registrar, record_url)})
    except SovereignError as exc:
        raise RegistrationIncomplete(
            f"{exc}\nNothing was appended to {record_id}'s log. Zenodo deposition {number} is kept (not deleted); "
            f"resume it with: {resume_command(record_id, api, number)}", number) from None
    state.unlink(missing_ok=True)
    return Registered(record_id, doi, number, record_url, path)
