"""The metadata a Zenodo deposition of one record carries (Zenodo's deposit API fields).

One small function from the folded record, so it can later be derived from the DataCite mapping
(``generator/records/citation.py``) instead. Text from the record is data: Zenodo renders
``description`` as HTML, so every value there is escaped.
"""

from __future__ import annotations

from generator.escape import html
from generator.records.corrections import FoldedRecord
from generator.records.versions import previous_id

SOFTWARE = "sovereign-publish"


def zenodo_metadata(folded: FoldedRecord, provenance: dict, page_url: str, license_id: str,
                    previous_page_url: str | None = None) -> dict:
    """Title, type, description, creators, date, related identifiers, license and version of a deposition."""
    values, manifest = folded.values, folded.manifest
    record_id = manifest["record_id"]
    target = values.get("target_paper") or {}
    related = [{"identifier": page_url, "relation": "isIdenticalTo", "resource_type": "publication-other"}]
    cited = [target] + [s for s in provenance.get("sources") or [] if s.get("role") != "target"]
    for paper in cited:
        if paper.get("arxiv_id"):
            related.append({"identifier": f"arXiv:{paper['arxiv_id']}{paper.get('version') or ''}", "relation": "references",
                            "scheme": "arxiv"})
    if previous_id(manifest) and previous_page_url:
        related.append({"identifier": previous_page_url, "relation": "isNewVersionOf", "resource_type": "publication-other"})
    description = (f"<p>{html(values.get('research_question'))}</p>"
                   f"<p>{html(values.get('note'))}</p>"
                   f"<p>Record {html(record_id)}, status {html(folded.status)} with {folded.correction_count} correction(s) "
                   f"when deposited; its current status and correction log: {html(page_url)}</p>")
    return {
        "upload_type": "publication",
        "publication_type": "other",
        "title": values.get("title"),
        "description": description,
        "creators": [{"name": values.get("publisher")}],
        "publication_date": manifest["dates"]["recorded"][:10],
        "access_right": "open",
        "license": license_id,
        "related_identifiers": related,
        "keywords": [SOFTWARE, record_id],
        "version": f"{record_id} ({folded.correction_count} correction(s))",
        "notes": f"Deposited by {SOFTWARE}: the record's manifest, artifacts and corrections, byte for byte as published.",
    }
