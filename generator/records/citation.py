"""A record's citation metadata in four formats: DataCite JSON, BibTeX, RIS and CSL-JSON.

Pure functions of a ``Citable``: the folded manifest (corrections applied, so a corrected title is the
title cited), its provenance, its status and the publisher's configured identity. Every format says the
same things: title, creators, publisher, year, resource type, identifiers (the DOI when registered, else
the record's page), the target paper and sources (DataCite ``References``), earlier and later versions
(``IsNewVersionOf`` / ``IsPreviousVersionOf``), rights, descriptions and the correction status.

A retracted, withdrawn or removed record is cited as such, as COPE and Crossref ask: its title starts
with "RETRACTED: " (or "WITHDRAWN: ", "REMOVED: ") and the reason is in a description (DataCite
``Other``), the BibTeX and RIS note and the CSL note, with CSL ``status``.

Record text is untrusted: each format escapes it for its own syntax (``bibtex_text`` for BibTeX, one
line per RIS tag, JSON for the rest), never as markup or commands.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import quote

from generator.escape import clean, strip_bidi
from generator.fsio import dump_json
from generator.records import corrections as corr
from generator.records.layout import folder_name
from generator.records.publisher import Person, Publisher

RESOURCE_TYPE = "Machine-generated literature synthesis"
LANGUAGE = "en"
DATACITE_SCHEMA_VERSION = "http://datacite.org/schema/kernel-4"
ARXIV_DOI_PREFIX = "10.48550/arXiv."
# The statuses a citation must announce in its title (COPE / Crossref: "RETRACTED: <title>").
TITLE_PREFIXES = {corr.RETRACTED: "RETRACTED", corr.WITHDRAWN: "WITHDRAWN", corr.REMOVED: "REMOVED"}
_ARXIV_ID = re.compile(r"([0-9]{4}\.[0-9]{4,5}|[a-z-]+(\.[A-Z]{2})?/[0-9]{7})", re.ASCII)
_VERSION = re.compile(r"v[0-9]+", re.ASCII)
DOI_PATTERN = re.compile(r"10[.][0-9]{4,9}/\S+")


@dataclass(frozen=True)
class Citable:
    """What a citation of one record is made from (see ``generator.website.citing.citable``)."""

    record_id: str
    url: str  # the record's page, its landing page
    values: dict  # the folded manifest: corrections applied
    recorded: str  # the manifest's dates.recorded (never corrected)
    status: str = corr.CURRENT
    status_changed_at: str | None = None
    status_reason: str | None = None
    corrections: tuple[dict, ...] = ()
    provenance: dict = field(default_factory=dict)
    doi: str | None = None  # registered DOI (from the log), e.g. 10.5281/zenodo.123
    previous_url: str | None = None  # the page of the record this one is a new version of
    newer_url: str | None = None  # the page of the record that is a new version of this one
    publisher: Publisher = Publisher()


@dataclass(frozen=True)
class Creator:
    name: str  # "Family, Given" for a person, the name for an organisation
    given: str | None = None
    family: str | None = None
    orcid: str | None = None
    ror: str | None = None

    @property
    def organisational(self) -> bool:
        return self.family is None


# ---------------------------------------------------------------------------------------------------
# What every format shares


def _line(text) -> str:
    """Record text on one line: control characters and bidi controls out, whitespace collapsed."""
    return " ".join(strip_bidi(clean(text)).split())


def publisher_name(c: Citable) -> str:
    return _line(c.values.get("publisher")) or c.publisher.name or "Unknown publisher"


def creators(c: Citable) -> list[Creator]:
    """The configured people, else the publisher (an organisation) as the creator of a machine-generated record."""
    if c.publisher.creators:
        return [_person(p) for p in c.publisher.creators]
    name = publisher_name(c)
    return [Creator(name, ror=c.publisher.ror_for(c.values.get("publisher")))]


def _person(person: Person) -> Creator:
    return Creator(person.name, person.given or None, person.family, person.orcid)


def title(c: Citable) -> str:
    """The title as cited: the folded title, announced as retracted, withdrawn or removed when it is."""
    text = _line(c.values.get("title")) or c.record_id
    prefix = TITLE_PREFIXES.get(c.status)
    return f"{prefix}: {text}" if prefix else text


def year(c: Citable) -> str:
    return c.recorded[:4]


def _date(stamp: str | None) -> str:
    return (stamp or "")[:10]


def doi_url(doi: str) -> str:
    """https://doi.org/ + the DOI, percent-encoded where a URL needs it."""
    return "https://doi.org/" + quote(doi, safe="/:;()._-")


def identifier_url(c: Citable) -> str:
    """Where a citation points: the DOI's resolver URL when registered, else the record's page."""
    return doi_url(c.doi) if c.doi else c.url


def _status_label(status: str) -> str:
    return status.replace("_", " ").capitalize()


def status_text(c: Citable) -> str:
    """The correction status in one sentence (the retraction and its reason for a retracted record)."""
    count = len(c.corrections)
    counted = f"{count} correction{'s' if count != 1 else ''}" if count else "no corrections"
    if c.status in TITLE_PREFIXES:
        return (f"{TITLE_PREFIXES[c.status]} on {_date(c.status_changed_at)}. Reason: {_line(c.status_reason)} "
                f"The record stays online, marked; its correction log: {c.url}#correction-log")
    if c.status == corr.CURRENT:
        return f"Correction status: Current ({counted})."
    since = f" since {_date(c.status_changed_at)}" if c.status_changed_at else ""
    reason = f" Reason: {_line(c.status_reason)}" if c.status_reason else ""
    return (f"Correction status: {_status_label(c.status)}{since} ({counted}).{reason} "
            f"Every correction: {c.url}#correction-log")


def _target(c: Citable) -> tuple[str | None, str | None]:
    """The target paper's arXiv id and version, when they are well-formed."""
    target = c.values.get("target_paper") or {}
    arxiv_id, version = target.get("arxiv_id"), target.get("version")
    if not isinstance(arxiv_id, str) or not _ARXIV_ID.fullmatch(arxiv_id):
        return None, None
    return arxiv_id, version if isinstance(version, str) and _VERSION.fullmatch(version) else None


def abstract(c: Citable) -> str:
    """What the record is, in words: the question it answers about which paper."""
    target = c.values.get("target_paper") or {}
    arxiv_id, version = _target(c)
    paper = _line(target.get("title")) or "the target paper"
    if arxiv_id:
        paper += f" (arXiv:{arxiv_id}{version or ''})"
    return (f"{RESOURCE_TYPE} about {paper}. Research question: {_line(c.values.get('research_question'))} "
            f"{_line(c.values.get('note'))}").strip()


def technical_info(c: Citable) -> str:
    values = c.values
    level = (values.get("verification") or {}).get("level")
    tier = (values.get("quality_tier") or {}).get("tier")
    score = (values.get("review") or {}).get("score")
    parts = [f"Record {c.record_id}."]
    if level:
        parts.append(f"Paper level {_line(level)}.")
    if tier:
        parts.append(f"Quality tier: {_line(tier)}.")
    parts.append(f"Automated review score: {score} / 10 (not human peer review)." if score is not None
                 else "No review score recorded.")
    parts.append(f"Manifest, provenance and corrections: {c.url}")
    return " ".join(parts)


def cited_sources(c: Citable) -> list[str]:
    """The versioned arXiv ids of the record's sources other than its target, in provenance order, once each."""
    target_id, _ = _target(c)
    out: list[str] = []
    for source in c.provenance.get("sources") or []:
        arxiv_id, version = source.get("arxiv_id"), source.get("version")
        if source.get("role") == "target" or arxiv_id == target_id or not isinstance(arxiv_id, str) \
                or not _ARXIV_ID.fullmatch(arxiv_id):
            continue
        versioned = arxiv_id + (version if isinstance(version, str) and _VERSION.fullmatch(version) else "")
        if versioned not in out:
            out.append(versioned)
    return out


# ---------------------------------------------------------------------------------------------------
# DataCite Metadata Schema 4.5 (JSON, as the ``datacite`` package's schema describes it)


def _datacite_creator(creator: Creator) -> dict:
    if creator.organisational:
        out = {"name": creator.name, "nameType": "Organizational"}
        if creator.ror:
            out["nameIdentifiers"] = [{"nameIdentifier": creator.ror, "nameIdentifierScheme": "ROR", "schemeUri": "https://ror.org/"}]
        return out
    out = {"name": creator.name, "nameType": "Personal", "familyName": creator.family}
    if creator.given:
        out["givenName"] = creator.given
    if creator.orcid:
        out["nameIdentifiers"] = [{"nameIdentifier": creator.orcid, "nameIdentifierScheme": "ORCID", "schemeUri": "https://orcid.org/"}]
    return out


def related_identifiers(c: Citable) -> list[dict]:
    """The target paper (its arXiv DOI and versioned arXiv id), the sources, and the versions before and after."""
    out = []
    arxiv_id, version = _target(c)
    if arxiv_id:
        out.append({"relatedIdentifier": ARXIV_DOI_PREFIX + arxiv_id, "relatedIdentifierType": "DOI",
                    "relationType": "References", "resourceTypeGeneral": "Preprint"})
        out.append({"relatedIdentifier": f"arXiv:{arxiv_id}{version or ''}", "relatedIdentifierType": "arXiv",
                    "relationType": "References", "resourceTypeGeneral": "Preprint"})
    for versioned in cited_sources(c):
        out.append({"relatedIdentifier": f"arXiv:{versioned}", "relatedIdentifierType": "arXiv",
                    "relationType": "References", "resourceTypeGeneral": "Preprint"})
    if c.previous_url:
        out.append({"relatedIdentifier": c.previous_url, "relatedIdentifierType": "URL", "relationType": "IsNewVersionOf",
                    "resourceTypeGeneral": "Text"})
    if c.newer_url:
        out.append({"relatedIdentifier": c.newer_url, "relatedIdentifierType": "URL", "relationType": "IsPreviousVersionOf",
                    "resourceTypeGeneral": "Text"})
    return out


def _rights(c: Citable) -> list[dict]:
    license_ = c.publisher.license
    if license_ is None:
        return []
    out = {"rightsUri": license_.url}
    if license_.name:
        out["rights"] = license_.name
    if license_.spdx:
        out.update(rightsIdentifier=license_.spdx, rightsIdentifierScheme="SPDX", schemeUri="https://spdx.org/licenses/")
    return [out]


def _dates(c: Citable) -> list[dict]:
    out = [{"date": _date(c.recorded), "dateType": "Created"}, {"date": _date(c.recorded), "dateType": "Issued"}]
    if c.corrections:
        out.append({"date": _date(c.corrections[-1].get("at")), "dateType": "Updated"})
    if c.status in (corr.RETRACTED, corr.WITHDRAWN) and c.status_changed_at:
        out.append({"date": _date(c.status_changed_at), "dateType": "Withdrawn",
                    "dateInformation": f"{_status_label(c.status)}: {_line(c.status_reason)}"})
    return out


def datacite(c: Citable) -> dict:
    """The record as DataCite Metadata Schema 4.5 JSON (validate it with ``datacite_problems``)."""
    publisher = {"name": publisher_name(c)}
    if ror := c.publisher.ror_for(c.values.get("publisher")):
        publisher.update(publisherIdentifier=ror, publisherIdentifierScheme="ROR", schemeUri="https://ror.org/")
    data = {
        "schemaVersion": DATACITE_SCHEMA_VERSION,
        "types": {"resourceTypeGeneral": "Text", "resourceType": RESOURCE_TYPE},
        "creators": [_datacite_creator(creator) for creator in creators(c)],
        "titles": [{"title": title(c), "lang": LANGUAGE}],
        "publisher": publisher,
        "publicationYear": year(c),
        "language": LANGUAGE,
        "url": c.url,
        "alternateIdentifiers": [{"alternateIdentifier": c.record_id, "alternateIdentifierType": "Local"}],
        "dates": _dates(c),
        "relatedIdentifiers": related_identifiers(c),
        "descriptions": [{"description": abstract(c), "descriptionType": "Abstract", "lang": LANGUAGE},
                         {"description": technical_info(c), "descriptionType": "TechnicalInfo", "lang": LANGUAGE},
                         {"description": status_text(c), "descriptionType": "Other", "lang": LANGUAGE}],
    }
    if c.doi:
        data["doi"] = c.doi
    else:
        data["alternateIdentifiers"].insert(0, {"alternateIdentifier": c.url, "alternateIdentifierType": "URL"})
    if rights := _rights(c):
        data["rightsList"] = rights
    return data


def datacite_problems(data: dict) -> list[str]:
    """Where ``data`` breaks the DataCite 4.5 JSON schema the ``datacite`` package ships ([] when valid)."""
    from datacite import schema45

    errors = sorted(schema45.validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    return [f"/{'/'.join(str(p) for p in error.absolute_path)}: {error.message}" for error in errors]


# ---------------------------------------------------------------------------------------------------
# BibTeX

# LaTeX's text-mode commands for the characters that are syntax in BibTeX or LaTeX.
_LATEX = {"\\": r"\textbackslash{}", "%": r"\%", "&": r"\&", "#": r"\#", "_": r"\_", "$": r"\$",
          "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def bibtex_text(text) -> str:
    """Record text as the value of a braced BibTeX field: data, never commands or unbalanced braces.

    BibTeX counts every brace in a field, escaped or not, so braces that pair up within the text become
    ``\\{``/``\\}`` and an unpaired one ``\\textbraceleft{}``/``\\textbraceright{}``; backslashes, ``%``,
    ``&``, ``#``, ``_``, ``$``, ``~`` and ``^`` become their LaTeX text commands.
    """
    line = _line(text)
    paired: set[int] = set()
    opened: list[int] = []
    for index, char in enumerate(line):
        if char == "{":
            opened.append(index)
        elif char == "}" and opened:
            paired.update((opened.pop(), index))
    out = []
    for index, char in enumerate(line):
        if char in "{}":
            out.append(("\\" + char) if index in paired else (r"\textbraceleft{}" if char == "{" else r"\textbraceright{}"))
        else:
            out.append(_LATEX.get(char, char))
    return "".join(out)


_VERBATIM_SAFE = re.compile(r"10\.[0-9]{4,9}/[A-Za-z0-9._;()/:<>-]+", re.ASCII)
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def _bibtex_author(creator: Creator) -> str:
    # An organisation in braces, so BibTeX does not split it into first and last names.
    return "{" + bibtex_text(creator.name) + "}" if creator.organisational else bibtex_text(creator.name)


def bibtex_key(c: Citable) -> str:
    return folder_name(c.record_id)


def bibtex(c: Citable) -> str:
    """One ``@misc`` entry; the retraction (or any other status) in ``note``."""
    fields = [("title", bibtex_text(title(c))),
              ("author", " and ".join(_bibtex_author(creator) for creator in creators(c))),
              ("year", c.recorded[:4]),
              ("publisher", bibtex_text(publisher_name(c))),
              ("howpublished", bibtex_text(f"{RESOURCE_TYPE}, record {c.record_id}")),
              ("url", c.url)]
    if c.doi:
        # biblatex reads doi verbatim: a DOI as registrars issue them goes in as it is, anything else escaped.
        fields.append(("doi", c.doi if _VERBATIM_SAFE.fullmatch(c.doi) else bibtex_text(c.doi)))
    fields.append(("note", bibtex_text(status_text(c))))
    month = int(c.recorded[5:7])
    lines = [f"@misc{{{bibtex_key(c)},"]
    for name, value in fields:
        lines.append(f"  {name} = {{{value}}},")
        if name == "year":
            lines.append(f"  month = {_MONTHS[month - 1]},")
    return "\n".join(lines) + "\n}\n"


# ---------------------------------------------------------------------------------------------------
# RIS


def ris(c: Citable) -> str:
    """RIS tagged lines (``TAG  - value``, CRLF), one value a line, ending with ``ER  - ``."""
    lines = [("TY", "GEN"), ("TI", title(c))]
    lines += [("AU", creator.name) for creator in creators(c)]
    lines += [("PY", year(c)), ("DA", _date(c.recorded).replace("-", "/")), ("PB", publisher_name(c)),
              ("M3", RESOURCE_TYPE), ("ID", c.record_id), ("UR", c.url)]
    if c.doi:
        lines.append(("DO", c.doi))
    lines += [("AB", abstract(c)), ("N1", status_text(c)), ("LA", LANGUAGE)]
    if c.publisher.license:
        lines.append(("N1", f"License: {c.publisher.license.url}"))
    return "".join(f"{tag}  - {_line(value)}\r\n" for tag, value in lines) + "ER  - \r\n"


# ---------------------------------------------------------------------------------------------------
# CSL-JSON


def _csl_name(creator: Creator) -> dict:
    if creator.organisational:
        return {"literal": creator.name}
    return {"family": creator.family, "given": creator.given} if creator.given else {"family": creator.family}


def csl_json(c: Citable) -> list[dict]:
    """CSL-JSON: a list of one item (type ``report``)."""
    recorded = _date(c.recorded)
    item = {
        "id": c.record_id,
        "type": "report",
        "title": title(c),
        "author": [_csl_name(creator) for creator in creators(c)],
        "issued": {"date-parts": [[int(recorded[:4]), int(recorded[5:7]), int(recorded[8:10])]]},
        "publisher": publisher_name(c),
        "genre": RESOURCE_TYPE,
        "number": c.record_id,
        "URL": c.url,
        "abstract": abstract(c),
        "note": status_text(c),
        "language": LANGUAGE,
    }
    if c.doi:
        item["DOI"] = c.doi
    if c.status != corr.CURRENT:
        item["status"] = _status_label(c.status).lower()
    return [item]


# ---------------------------------------------------------------------------------------------------
# Plain text, and the formats by name


def plain_text(c: Citable) -> str:
    """A reference to read or paste: creators (year). Title [type]. Publisher. Identifier."""
    names = "; ".join(creator.name for creator in creators(c))
    return f"{names} ({year(c)}). {title(c)} [{RESOURCE_TYPE}]. {publisher_name(c)}. {identifier_url(c)}"


@dataclass(frozen=True)
class Format:
    name: str  # as `export --format` takes it
    file: str  # its file next to the record's page: cite/<file>
    media_type: str
    label: str  # what a reader sees

    def render(self, c: Citable) -> str:
        return RENDERERS[self.name](c)


RENDERERS = {
    "datacite": lambda c: dump_json(datacite(c)),
    "bibtex": bibtex,
    "ris": ris,
    "csl-json": lambda c: dump_json(csl_json(c)),
}
FORMATS = (
    Format("bibtex", "record.bib", "application/x-bibtex", "BibTeX"),
    Format("ris", "record.ris", "application/x-research-info-systems", "RIS"),
    Format("csl-json", "record.csl.json", "application/vnd.citationstyles.csl+json", "CSL-JSON"),
    Format("datacite", "datacite.json", "application/vnd.datacite.datacite+json", "DataCite JSON"),
)
FORMATS_BY_NAME = {f.name: f for f in FORMATS}


def render(c: Citable, format_name: str) -> str:
    """One format's text; a DataCite record is checked against its schema first (never written invalid)."""
    from generator.errors import InputError, SovereignError

    fmt = FORMATS_BY_NAME.get(format_name)
    if fmt is None:
        raise InputError(f"unknown format {format_name!r}; known: {', '.join(FORMATS_BY_NAME)}")
    if fmt.name == "datacite" and (problems := datacite_problems(datacite(c))):
        raise SovereignError(f"the DataCite metadata of {c.record_id} breaks the DataCite 4.5 schema: " + "; ".join(problems))
    return fmt.render(c)
