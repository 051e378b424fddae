"""FAIR Signposting (https://signposting.org/FAIR/) for a record page: typed links in the page's head.

A harvester that lands on a record page finds, without parsing the page: what to cite it as
(``cite-as``: the DOI when registered, else the page), its metadata (``describedby``: the manifest and
the citation files), its content (``item``: the record's published files), what kind of thing it is
(``type``), its licence and its authors (ORCID iDs) when configured. Every URL is absolute, under the
site's URL or a resolver's, and every attribute value is HTML-escaped.
"""

from __future__ import annotations

from dataclasses import dataclass

from generator.escape import html
from generator.records import citation
from generator.records.layout import MANIFEST_FILE, entry_file
from generator.records.publisher import Publisher
from generator.website.citing import cite_path
from generator.website.pages import RecordView

JSON = "application/json"
TYPES = ("https://schema.org/ScholarlyArticle", "https://schema.org/AboutPage")


@dataclass(frozen=True)
class Link:
    rel: str
    href: str
    type: str | None = None

    def html(self) -> str:
        media = f' type="{html(self.type)}"' if self.type else ""
        return f'<link rel="{html(self.rel)}" href="{html(self.href)}"{media}>'


def links(view: RecordView, publisher: Publisher) -> list[Link]:
    """The record page's Signposting links, in a fixed order."""
    url = view.url
    out = [Link("cite-as", citation.doi_url(view.doi) if view.doi else url)]
    out.append(Link("describedby", url + MANIFEST_FILE, JSON))
    out += [Link("describedby", url + cite_path(fmt), fmt.media_type) for fmt in citation.FORMATS]
    out.append(Link("item", url + MANIFEST_FILE, JSON))
    for artifact in view.manifest.get("artifacts", []):
        out.append(Link("item", url + artifact["path"], artifact.get("media_type")))
    out += [Link("item", url + entry_file(entry["sequence"]), JSON) for entry in view.corrections]
    out += [Link("type", kind) for kind in TYPES]
    if publisher.license:
        out.append(Link("license", publisher.license.url))
    out += [Link("author", person.orcid) for person in publisher.creators if person.orcid]
    return out


def head_html(view: RecordView, publisher: Publisher) -> str:
    """The links as ``<link>`` elements, one a line, for the page's ``<head>``."""
    return "\n".join(link.html() for link in links(view, publisher))
