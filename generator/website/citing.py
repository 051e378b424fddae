"""A record page's citations: the ``Citable`` of a record view, and its files under ``records/<ID>/cite/``.

The formats themselves are ``generator.records.citation``; this module only says what the site knows
of a record (its page URL, the pages of its other versions, its registered DOI) and where the files go.
"""

from __future__ import annotations

import re
from pathlib import Path

from generator.errors import InputError, ValidationFailed
from generator.fsio import read_json_object
from generator.records import citation, versions
from generator.records.citation import Citable
from generator.records.layout import MANIFEST_FILE, RecordFiles, folder_name, record_folders
from generator.records.publisher import Publisher
from generator.records.store import find_record
from generator.records.validate import validate_record
from generator.website.pages import RECORDS_DIR, SITE_URL, RecordView, record_view

CITE_DIR = "cite"
RECORD_ID = re.compile(r"SRCH[:-][0-9A-F]{8}", re.ASCII)


def record_url(record_id: str) -> str:
    """The page of a record on the site (its landing page)."""
    return f"{SITE_URL}{RECORDS_DIR}/{folder_name(record_id)}/"


def citable(view: RecordView, publisher: Publisher) -> Citable:
    folded = view.folded
    return Citable(
        record_id=view.record_id,
        url=view.url,
        values=view.values,
        recorded=view.manifest["dates"]["recorded"],
        status=folded.status,
        status_changed_at=folded.status_changed_at,
        status_reason=folded.status_reason,
        corrections=tuple(view.corrections),
        provenance=view.provenance or {},
        doi=view.doi,
        previous_url=record_url(view.previous_version) if view.previous_version else None,
        newer_url=record_url(view.newer_version) if view.newer_version else None,
        publisher=publisher,
    )


def cite_path(fmt: citation.Format) -> str:
    """A format's file, relative to the record's folder on the site."""
    return f"{CITE_DIR}/{fmt.file}"


def cite_files(view: RecordView, publisher: Publisher) -> dict[str, bytes]:
    """Every citation file of the record, by its path in the record's folder on the site."""
    c = citable(view, publisher)
    return {cite_path(fmt): fmt.render(c).encode("utf-8") for fmt in citation.FORMATS}


def _newer_version(records_dir: Path, record_id: str) -> str | None:
    """The record that names ``record_id`` as its previous version, read from the manifests beside it."""
    manifests = []
    for folder in record_folders(records_dir):
        manifest = read_json_object(folder / MANIFEST_FILE, [])
        if isinstance(manifest, dict):
            manifests.append(manifest)
    return versions.newer_versions(manifests).get(record_id)


def export_record(records_dir: Path, record_id: str, format_name: str, publisher: Publisher) -> str:
    """One record's citation in ``format_name``, from its folded manifest; the record is validated first
    (an unknown id, an invalid record or an unknown format is an error naming it)."""
    if format_name not in citation.FORMATS_BY_NAME:
        raise InputError(f"unknown format {format_name!r}; known: {', '.join(citation.FORMATS_BY_NAME)}")
    if not RECORD_ID.fullmatch(record_id):
        raise InputError(f"{record_id!r} is not a record id: expected SRCH: and 8 upper-case hex digits, e.g. SRCH:93BD3EF3")
    folder = find_record(records_dir, record_id)
    record, problems = validate_record(folder)
    if problems:
        raise ValidationFailed(problems)
    if record.record_id != record_id.replace("-", ":"):
        raise InputError(f"{folder / MANIFEST_FILE}: holds record {record.record_id}, not {record_id}")
    return citation.render(record_citable(records_dir, record, publisher), format_name)


def record_citable(records_dir: Path, record: RecordFiles, publisher: Publisher) -> Citable:
    """The ``Citable`` of a validated record of ``records_dir``: what `export` cites and `register` deposits,
    so the two describe the record alike."""
    view = record_view(record.manifest, record.provenance, record.correction_entries,
                       newer_version=_newer_version(records_dir, record.record_id))
    return citable(view, publisher)
