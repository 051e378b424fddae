"""A record's registered DOI, as its correction log states it.

Registering a DOI never edits the published files (their ``external_record`` stays as published): the
registration is an ``editorial_note`` whose ``identifier`` names the DOI, its resolver URL, the registrar
and the deposited record (correction-record-v1). The newest registration is the record's DOI; a Zenodo
Sandbox registration is shown as what it is, a test DOI that does not resolve, and is never the record's DOI.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DOI = re.compile(r"10\.[0-9]{4,9}/[^\s]+")
ZENODO, ZENODO_SANDBOX = "Zenodo", "Zenodo Sandbox"


@dataclass(frozen=True)
class Registration:
    doi: str
    url: str  # https://doi.org/<doi>
    registrar: str
    deposition: str  # the registrar's page of the deposited files
    sequence: int  # the correction entry that logged it

    @property
    def is_test(self) -> bool:
        return self.registrar == ZENODO_SANDBOX


def identifier(doi: str, registrar: str, deposition: str) -> dict:
    """The ``identifier`` property of a registration event."""
    if not DOI.fullmatch(doi):
        raise ValueError(f"not a DOI: {doi!r}")
    return {"scheme": "doi", "value": doi, "registrar": registrar, "url": f"https://doi.org/{doi}", "deposition": deposition}


def registrations(corrections: list[dict]) -> list[Registration]:
    """Every DOI registration in the log, oldest first."""
    found = []
    for entry in corrections:
        ident = entry.get("identifier")
        if isinstance(ident, dict) and ident.get("scheme") == "doi" and DOI.fullmatch(str(ident.get("value", ""))):
            found.append(Registration(ident["value"], ident["url"], ident["registrar"], ident["deposition"], entry["sequence"]))
    return found


def latest_registration(corrections: list[dict]) -> Registration | None:
    """The newest registration, test registrations included (what the page's provenance shows)."""
    found = registrations(corrections)
    return found[-1] if found else None


def registered_doi(corrections: list[dict]) -> str | None:
    """The record's DOI: the newest registration that is not a test DOI."""
    real = [r for r in registrations(corrections) if not r.is_test]
    return real[-1].doi if real else None
