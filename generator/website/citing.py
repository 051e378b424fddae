"""A record page's citations: the ``Citable`` of a record view, and its files under ``records/<ID>/cite/``.

The formats themselves are ``generator.records.citation``; this module only says what the site knows
of a record (its page URL, the pages of its other versions, its registered DOI) and where the files go.
"""

from __future__ import annotations

from generator.records import citation
from generator.records.citation import Citable
from generator.records.layout import folder_name
from generator.records.publisher import Publisher
from generator.website.pages import RECORDS_DIR, SITE_URL, RecordView

CITE_DIR = "cite"


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
