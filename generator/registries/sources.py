"""check-sources: whether a paper a record relies on was withdrawn (arXiv) or has an update notice (Crossref).

The sources checked are the record's target paper and its cited sources (provenance roles ``target`` and
``cited``; a paper retrieved but not cited is not relied on). In live mode arXiv is asked for each paper's
entry as it is now: its newest version carrying a withdrawal comment (or an abstract saying it was
withdrawn) is a finding. Where arXiv names the paper's journal DOI, Crossref is asked for the notices
that update it (``updated-by``).

A finding is appended to the record's log with an ``evidence`` property naming the source, the kind and
the URL of the evidence: a withdrawal, retraction, partial retraction, removal or expression of concern
as an ``expression_of_concern`` (the page's banner shows it), a correction-like notice (correction,
corrigendum, erratum, addendum, clarification) as an ``editorial_note`` (it does not put the synthesis
under concern, but it is logged and shown). A record in a terminal status gets editorial notes only. A
finding already in the log (same source, kind and evidence URL) is not appended again.

Offline (the default, as for `run`: live only with ``search.backend: arxiv``) nothing is asked and
every source is reported "not checked". Live, every lookup is made before anything is appended: if one
fails, the command fails and appends nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, Sequence

from generator.errors import ValidationFailed
from generator.records import corrections as corr
from generator.records.layout import folder_name, record_folders
from generator.records.store import find_record
from generator.records.validate import validate_record
from generator.registries.crossref import CrossrefClient, Notice

CHECKED_ROLES = ("target", "cited")
# Crossref update types that put a synthesis relying on the work under concern, and those only worth a note.
CONCERNS = ("retraction", "partial_retraction", "withdrawal", "removal", "expression_of_concern")
NOTES = ("correction", "corrigendum", "erratum", "addendum", "clarification")
WITHDRAWN = "withdrawn"

_WITHDRAWAL_COMMENT = re.compile(r"\bwithdr[ae]w(?:n|al|ing)?\b", re.IGNORECASE)
_WITHDRAWAL_ABSTRACT = re.compile(r"\s*(?:this|the) (?:paper|article|manuscript|submission|preprint|work) (?:has been|is|was) withdrawn",
                                  re.IGNORECASE)
_ENTRY_ID = re.compile(r"https?://arxiv\.org/abs/(?P<id>.+?)(?P<version>v[0-9]+)?")
_DOI = re.compile(r"10\.[0-9]{4,9}/[^\s]+")


class ArxivEntries(Protocol):
    """What check-sources needs of arXiv: the current API entries of some ids (``ArxivApiSearch.entries``)."""

    def entries(self, base_ids: Sequence[str]) -> list: ...


@dataclass(frozen=True)
class Finding:
    kind: str  # "withdrawn" or a Crossref update type
    url: str  # where a reader sees the evidence
    reason: str  # the sentence logged and shown
    doi: str | None = None

    def evidence(self, source: str) -> dict:
        return {"source": source, "kind": self.kind, "url": self.url, **({"doi": self.doi} if self.doi else {})}


@dataclass
class SourceCheck:
    """One source of one record: what was asked and found, and what was appended."""

    record_id: str
    source: str  # arXiv:IDvN as the provenance names it
    arxiv_id: str
    checked: bool = False
    note: str = ""  # why not checked, or what was asked
    findings: list[Finding] | None = None
    appended: list[str] | None = None  # log entries written for the findings
    already_logged: list[Finding] | None = None

    def line(self) -> str:
        head = f"{self.record_id}  {self.source}"
        if not self.checked:
            return f"{head}  not checked ({self.note})"
        if not self.findings:
            return f"{head}  clean ({self.note})"
        parts = [f"{f.kind} ({f.url}): {'appended ' + a if a else 'already logged'}"
                 for f, a in zip(self.findings, self._outcomes())]
        return f"{head}  " + "; ".join(parts)

    def _outcomes(self) -> list[str | None]:
        appended = iter(self.appended or [])
        return [None if f in (self.already_logged or []) else next(appended, None) for f in self.findings]


def source_label(source: dict) -> str:
    return f"arXiv:{source['arxiv_id']}{source.get('version') or ''}"


def checked_sources(provenance: dict) -> list[dict]:
    """The target and cited sources, each once (by versioned id), in the provenance's order."""
    seen, out = set(), []
    for source in provenance.get("sources") or []:
        if source.get("role") in CHECKED_ROLES and source_label(source) not in seen:
            seen.add(source_label(source))
            out.append(source)
    return out


def withdrawal(entry) -> Finding | None:
    """A withdrawal stated by an arXiv API entry (the newest version): in its comment, or its abstract's first words."""
    comment = " ".join((getattr(entry, "comment", None) or "").split())
    summary = getattr(entry, "summary", None) or ""
    if not (_WITHDRAWAL_COMMENT.search(comment) or _WITHDRAWAL_ABSTRACT.match(summary)):
        return None
    match = _ENTRY_ID.fullmatch(entry.entry_id or "")
    versioned = f"{match['id']}{match['version'] or ''}" if match else ""
    url = f"https://arxiv.org/abs/{versioned}"
    said = f'its comment says "{comment[:300]}"' if _WITHDRAWAL_COMMENT.search(comment) else "its abstract says it was withdrawn"
    return Finding(WITHDRAWN, url, f"arXiv marks {versioned} withdrawn ({said}): {url}")


def notice_findings(doi: str, notices: list[Notice]) -> list[Finding]:
    """The Crossref notices about ``doi`` that are findings (concerns and correction-like notices), in Crossref's order."""
    found = []
    for notice in notices:
        if notice.kind not in CONCERNS + NOTES:
            continue
        notice_doi = notice.doi if notice.doi and _DOI.fullmatch(notice.doi) else None
        url = f"https://doi.org/{notice_doi or doi}"
        what = notice.kind.replace("_", " ")
        found.append(Finding(notice.kind, url, f"Crossref lists a {what} notice for its DOI {doi}: {url}", doi))
    return found


def _entry_base_id(entry) -> str | None:
    match = _ENTRY_ID.fullmatch(getattr(entry, "entry_id", "") or "")
    return match["id"] if match else None


def _logged_keys(corrections: list[dict]) -> set[tuple]:
    return {(e["evidence"].get("source"), e["evidence"].get("kind"), e["evidence"].get("url"))
            for e in corrections if isinstance(e.get("evidence"), dict)}


def check_sources(records_dir: Path, record_ids: Sequence[str], *, arxiv: ArxivEntries | None,
                  crossref: CrossrefClient | None, by: str = "Assignee Research") -> list[SourceCheck]:
    """Check the sources of ``record_ids`` (all records when empty); live when ``arxiv`` is given, else offline.

    Every lookup is made first; then each new finding is appended (in record, source and finding order).
    """
    folders = [find_record(records_dir, rid) for rid in record_ids] if record_ids else record_folders(records_dir)
    records = []
    for folder in folders:
        record, problems = validate_record(folder)
        if problems:
            raise ValidationFailed(problems)
        records.append(record)
    checks = [SourceCheck(r.record_id, source_label(s), s["arxiv_id"]) for r in records for s in checked_sources(r.provenance or {})]
    if arxiv is None:
        for check in checks:
            check.note = "offline: arXiv and Crossref are asked only with search.backend: arxiv"
        return checks
    ids = sorted({c.arxiv_id for c in checks})
    entries = {}
    for start in range(0, len(ids), 100):
        for entry in arxiv.entries(ids[start:start + 100]):
            if (base := _entry_base_id(entry)) is not None:
                entries[base] = entry
    for check in checks:
        entry = entries.get(check.arxiv_id)
        if entry is None:
            check.note = "arXiv returned no entry for it"
            continue
        check.checked, check.findings = True, []
        if found := withdrawal(entry):
            check.findings.append(found)
        doi = getattr(entry, "doi", None)
        if doi and _DOI.fullmatch(doi) and crossref is not None:
            notices = crossref.notices(doi)
            check.findings += notice_findings(doi, notices or [])
            check.note = f"arXiv: not withdrawn; Crossref: {'no notice' if notices == [] else 'no such work'} for DOI {doi}" if not check.findings else ""
        elif not check.findings:
            check.note = "arXiv: not withdrawn; no journal DOI to ask Crossref about"
    for record in records:
        _append_findings(records_dir, record.record_id, [c for c in checks if c.record_id == record.record_id and c.findings], by)
    return checks


def _append_findings(records_dir: Path, record_id: str, checks: list[SourceCheck], by: str) -> None:
    for check in checks:
        check.appended, check.already_logged = [], []
        for finding in check.findings:
            folded = corr.load_folded(Path(records_dir) / folder_name(record_id))
            if (check.source, finding.kind, finding.url) in _logged_keys(folded.log):
                check.already_logged.append(finding)
                continue
            concern = (finding.kind == WITHDRAWN or finding.kind in CONCERNS) and folded.status in corr.OPEN
            update_type = "expression_of_concern" if concern else corr.NOTE_TYPE
            reason = f"A source this synthesis relies on, {check.source}: {finding.reason}"
            path = corr.append_correction(records_dir, record_id, update_type, reason, by, [],
                                          extra={"evidence": finding.evidence(check.source)})
            check.appended.append(f"{path.parent.name}/{path.name} ({update_type})")


__all__ = ["CONCERNS", "NOTES", "Finding", "SourceCheck", "check_sources", "checked_sources", "notice_findings", "withdrawal"]
