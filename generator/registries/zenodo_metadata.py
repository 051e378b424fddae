"""The metadata a Zenodo deposition of one record carries, derived from the record's DataCite document.

``generator.records.citation.datacite`` is the one description of a record for registrars: `export
--format datacite` writes it and the record page links it. A deposit built separately from the manifest
would drift from it (other relations, titles, creators, retraction wording), so ``from_datacite`` only
translates that document into the fields of Zenodo's legacy deposit API (``PUT
/api/deposit/depositions/:id``, ``{"metadata": {...}}``). Text is data: Zenodo renders ``description`` as
HTML, so every value put there is escaped.
"""

from __future__ import annotations

from generator.errors import InputError, SovereignError
from generator.escape import html
from generator.records import citation
from generator.records.citation import Citable

SOFTWARE = "sovereign-publish"

# DataCite relationType -> Zenodo's ``related_identifiers[].relation``. Only the relations both know;
# any other is refused rather than dropped or approximated.
RELATIONS = {
    "IsCitedBy": "isCitedBy", "Cites": "cites", "IsSupplementTo": "isSupplementTo", "IsSupplementedBy": "isSupplementedBy",
    "IsContinuedBy": "isContinuedBy", "Continues": "continues", "IsDescribedBy": "isDescribedBy", "Describes": "describes",
    "IsNewVersionOf": "isNewVersionOf", "IsPreviousVersionOf": "isPreviousVersionOf", "IsPartOf": "isPartOf",
    "HasPart": "hasPart", "IsPublishedIn": "isPublishedIn", "IsReferencedBy": "isReferencedBy", "References": "references",
    "IsDocumentedBy": "isDocumentedBy", "Documents": "documents", "IsCompiledBy": "isCompiledBy", "Compiles": "compiles",
    "IsIdenticalTo": "isIdenticalTo", "IsReviewedBy": "isReviewedBy", "Reviews": "reviews", "IsDerivedFrom": "isDerivedFrom",
    "IsSourceOf": "isSourceOf", "IsRequiredBy": "isRequiredBy", "Requires": "requires", "IsObsoletedBy": "isObsoletedBy",
    "Obsoletes": "obsoletes",
}
# DataCite relatedIdentifierType -> Zenodo's identifier ``scheme``.
SCHEMES = {"DOI": "doi", "arXiv": "arxiv", "URL": "url", "Handle": "handle", "ARK": "ark", "PURL": "purl", "URN": "urn",
           "ISBN": "isbn", "ISSN": "issn", "PMID": "pmid", "LSID": "lsid", "EAN13": "ean13", "ISTC": "istc", "bibcode": "ads"}
# DataCite resourceTypeGeneral -> Zenodo's resource type ("upload_type-publication_type" for publications).
RESOURCE_TYPES = {"Text": "publication-other", "Preprint": "publication-preprint", "Report": "publication-report",
                  "JournalArticle": "publication-article", "Dataset": "dataset", "Software": "software"}
# DataCite's ISO 639-1 language -> the ISO 639-2 code Zenodo's ``language`` takes.
LANGUAGES = {"en": "eng"}
ORCID_URL = "https://orcid.org/"


def zenodo_metadata(c: Citable, license_id: str | None = None) -> dict:
    """The deposit metadata of a record: its DataCite document (checked against the DataCite 4.5 schema,
    as `export` checks it) translated by ``from_datacite``."""
    document = citation.datacite(c)
    if problems := citation.datacite_problems(document):
        raise SovereignError(f"the DataCite metadata of {c.record_id} breaks the DataCite 4.5 schema: " + "; ".join(problems))
    count = len(c.corrections)
    return from_datacite(document, license_id, version=f"{c.record_id} ({count} correction{'s' if count != 1 else ''})")


def from_datacite(document: dict, license_id: str | None = None, *, version: str | None = None) -> dict:
    """Zenodo legacy deposit API metadata from a DataCite 4.5 JSON document.

    Fields set: ``upload_type``/``publication_type`` (from ``types``), ``title`` (``titles[0]``, a
    "RETRACTED: " prefix included), ``creators`` (``name``, ``affiliation``, ``orcid`` as the bare iD),
    ``description`` (every DataCite description, one escaped HTML paragraph each, the correction status
    among them), ``publication_date`` (the ``Issued`` date), ``imprint_publisher`` (``publisher``),
    ``license`` (see ``zenodo_license``), ``access_right`` "open", ``related_identifiers`` (``url`` and any
    ``doi`` as ``isIdenticalTo``, then each ``relatedIdentifiers`` entry with its ``relation``, ``scheme``
    and ``resource_type``), ``dates`` (a ``Withdrawn`` date), ``language``, ``keywords`` (this tool and
    the record id, DataCite's ``Local`` alternate identifier, by which a resumed deposit is recognised),
    ``version`` and ``notes``. Zenodo's legacy API has no field for ROR ids, so they are not deposited.
    """
    record_id = _local_id(document)
    upload_type, _, publication_type = _resource_type(document["types"]["resourceTypeGeneral"], "/types").partition("-")
    url = document["url"]
    out = {"upload_type": upload_type}
    if publication_type:
        out["publication_type"] = publication_type
    out.update(
        title=document["titles"][0]["title"],
        creators=[_creator(creator) for creator in document["creators"]],
        description="".join(f"<p>{html(d['description'])}</p>" for d in document.get("descriptions") or []),
        publication_date=_issued(document),
        imprint_publisher=document["publisher"]["name"],
        access_right="open",
        license=zenodo_license(document, license_id),
        related_identifiers=related_identifiers(document),
    )
    withdrawn = [d for d in document.get("dates") or [] if d.get("dateType") == "Withdrawn"]
    if withdrawn:
        out["dates"] = [{"type": "Withdrawn", "start": d["date"], "end": d["date"], "description": d.get("dateInformation", "")}
                        for d in withdrawn]
    if language := LANGUAGES.get(document.get("language")):
        out["language"] = language
    out["keywords"] = [SOFTWARE, record_id]
    if version:
        out["version"] = version
    out["notes"] = (f"Deposited by {SOFTWARE}: the record's manifest, artifacts and corrections, byte for byte as published "
                    f"when deposited. Its current status and every correction: {url}#correction-log")
    return out


def related_identifiers(document: dict) -> list[dict]:
    """The record's own page (and DOI, if it has one) as ``isIdenticalTo``, then its DataCite related identifiers."""
    own_type = _resource_type(document["types"]["resourceTypeGeneral"], "/types")
    out = [{"identifier": document["url"], "relation": "isIdenticalTo", "scheme": "url", "resource_type": own_type}]
    if document.get("doi"):
        out.append({"identifier": document["doi"], "relation": "isIdenticalTo", "scheme": "doi", "resource_type": own_type})
    for index, related in enumerate(document.get("relatedIdentifiers") or []):
        where = f"/relatedIdentifiers/{index}"
        relation = RELATIONS.get(related["relationType"])
        if relation is None:
            raise SovereignError(f"DataCite {where}/relationType: {related['relationType']!r} has no Zenodo relation "
                                 f"(known: {', '.join(RELATIONS)})")
        scheme = SCHEMES.get(related["relatedIdentifierType"])
        if scheme is None:
            raise SovereignError(f"DataCite {where}/relatedIdentifierType: {related['relatedIdentifierType']!r} has no Zenodo "
                                 f"scheme (known: {', '.join(SCHEMES)})")
        entry = {"identifier": related["relatedIdentifier"], "relation": relation, "scheme": scheme}
        if kind := RESOURCE_TYPES.get(related.get("resourceTypeGeneral")):
            entry["resource_type"] = kind
        out.append(entry)
    return out


def zenodo_license(document: dict, given: str | None) -> str:
    """The deposit's Zenodo license id: ``given`` (``--license``), else the SPDX id of the DataCite
    ``rightsList`` lower-cased (Zenodo's license ids are SPDX ids in lower case, e.g. cc-by-4.0).

    When both are there they must name the same licence, or the deposit would contradict the record's
    own citations and page; without either there is no licence to deposit under.
    """
    stated = [r["rightsIdentifier"].lower() for r in document.get("rightsList") or []
              if r.get("rightsIdentifierScheme") == "SPDX" and r.get("rightsIdentifier")]
    if given is not None:
        if not given.strip():
            raise InputError("--license: expected a Zenodo license id such as cc-by-4.0, found an empty value")
        if stated and given.strip().lower() not in stated:
            raise InputError(f"--license {given} differs from the licence the record's citations state ({stated[0]}, "
                             "from extra.publisher.license.spdx in mkdocs.yml); give that one, or change the configured licence")
        return given.strip()
    if not stated:
        raise InputError("no licence for the deposit: give --license ID (a Zenodo license id such as cc-by-4.0), "
                         "or set extra.publisher.license.spdx in mkdocs.yml")
    return stated[0]


def _creator(creator: dict) -> dict:
    out = {"name": creator["name"]}
    if affiliations := creator.get("affiliation"):
        out["affiliation"] = affiliations[0]["name"]
    for ident in creator.get("nameIdentifiers") or []:
        if ident.get("nameIdentifierScheme") == "ORCID":
            out["orcid"] = ident["nameIdentifier"].removeprefix(ORCID_URL)
    return out


def _issued(document: dict) -> str:
    for date in document.get("dates") or []:
        if date.get("dateType") == "Issued":
            return date["date"][:10]
    raise SovereignError("DataCite /dates: no Issued date, so no publication_date for Zenodo")


def _local_id(document: dict) -> str:
    for ident in document.get("alternateIdentifiers") or []:
        if ident.get("alternateIdentifierType") == "Local":
            return ident["alternateIdentifier"]
    raise SovereignError("DataCite /alternateIdentifiers: no Local identifier (the record id)")


def _resource_type(general: str, where: str) -> str:
    kind = RESOURCE_TYPES.get(general)
    if kind is None:
        raise SovereignError(f"DataCite {where}/resourceTypeGeneral: {general!r} has no Zenodo upload type "
                             f"(known: {', '.join(RESOURCE_TYPES)})")
    return kind
