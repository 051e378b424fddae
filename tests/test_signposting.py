"""FAIR Signposting, "Cite this" and the identifiers in the JSON-LD of record pages.

* Every record page's head carries the Signposting links (https://signposting.org/FAIR/): ``cite-as``
  (the DOI when registered, else the page), ``describedby`` (the manifest as application/json and the
  DataCite file as application/vnd.datacite.datacite+json, with the other citation files), ``item`` (the
  record's published files), ``type`` (ScholarlyArticle, AboutPage), ``license``, and ``author`` per
  configured ORCID iD. Served on 127.0.0.1, every link into the site leads to a real file (200).
* The page's "Cite this" section links the four citation files; they are files of the site (listed in
  ``site-manifest.json``, checked by ``verify``) and the DataCite one validates.
* The JSON-LD names the DOI, the publisher's ROR id and the creators' ORCID iDs when configured.
* Every href is escaped; the links are in the page file, so the page cache's key covers them.
"""

from __future__ import annotations

import dataclasses
import json
import urllib.request

import lxml.html
import pytest
from datacite import schema45

from conftest import REPO
from generator.records.publisher import License, Person, Publisher, load_publisher
from generator.website import pages, record_page, signposting
from generator.website.signposting import Link
from site_fixtures import built_site, serve_site  # noqa: F401 - fixture

SITE_PUBLISHER = load_publisher(REPO / "mkdocs.yml")
ORCID = "https://orcid.org/0000-0002-1825-0097"
ROR = "https://ror.org/05dxps055"
DATACITE_TYPE = "application/vnd.datacite.datacite+json"


def head_links(page) -> list[dict]:
    doc = lxml.html.fromstring(page.read_bytes())
    rels = ("cite-as", "describedby", "item", "type", "license", "author")
    return [{"rel": link.get("rel"), "href": link.get("href"), "type": link.get("type")}
            for link in doc.xpath("/html/head/link") if link.get("rel") in rels]


def record_pages(site) -> list:
    return sorted((site / "records").glob("SRCH-*/index.html"))


def test_every_record_page_carries_every_signposting_link(built_site):
    assert len(record_pages(built_site.site)) == 6  # the five shipped records and the hostile one
    for page in record_pages(built_site.site):
        url = f"{pages.SITE_URL}records/{page.parent.name}/"
        links = head_links(page)
        rels = [link["rel"] for link in links]
        assert {"rel": "cite-as", "href": url, "type": None} in links, page
        assert rels.count("cite-as") == 1
        assert {"rel": "describedby", "href": url + "manifest.json", "type": "application/json"} in links
        assert {"rel": "describedby", "href": url + "cite/datacite.json", "type": DATACITE_TYPE} in links
        assert {"rel": "describedby", "href": url + "cite/record.bib", "type": "application/x-bibtex"} in links
        assert {"rel": "item", "href": url + "manifest.json", "type": "application/json"} in links
        assert {"rel": "item", "href": url + "provenance.json", "type": "application/json"} in links
        assert [link["href"] for link in links if link["rel"] == "type"] == ["https://schema.org/ScholarlyArticle",
                                                                           "https://schema.org/AboutPage"]
        assert [link["href"] for link in links if link["rel"] == "license"] == [SITE_PUBLISHER.license.url]
        manifest = json.loads((page.parent / "manifest.json").read_text(encoding="utf-8"))
        items = [link["href"].removeprefix(url) for link in links if link["rel"] == "item"]
        corrections = sorted(p.name for p in (page.parent / "corrections").glob("*.json")) if (page.parent / "corrections").is_dir() else []
        assert items == ["manifest.json", *(a["path"] for a in manifest["artifacts"]), *(f"corrections/{c}" for c in corrections)]


def test_every_signposting_link_into_the_site_leads_to_a_real_file_over_http(built_site):
    followed, expected = 0, 0
    with serve_site(built_site.site) as base:
        for page in record_pages(built_site.site):
            manifest = json.loads((page.parent / "manifest.json").read_text(encoding="utf-8"))
            corrections = list((page.parent / "corrections").glob("*.json"))
            expected += 1 + 5 + 1 + len(manifest["artifacts"]) + len(corrections)  # cite-as, describedby, items
            for link in head_links(page):
                href = link["href"]
                if link["rel"] in ("type", "license", "author"):
                    assert href.startswith("https://") and not href.startswith(pages.SITE_URL)
                    continue
                assert href.startswith(pages.SITE_URL), href  # nothing else is ours to follow; no DOI registered here
                with urllib.request.urlopen(base + href.removeprefix(pages.SITE_URL), timeout=10) as response:
                    assert response.status == 200
                    body = response.read()
                local = built_site.site / href.removeprefix(pages.SITE_URL)
                assert body == (local / "index.html" if href.endswith("/") else local).read_bytes()
                followed += 1
    assert followed == expected == 58  # six pages: 6 cite-as, 30 describedby, 22 items


def test_cite_this_links_the_citation_files_which_are_site_files_and_validate(built_site):
    listed = json.loads((built_site.site / "site-manifest.json").read_text(encoding="utf-8"))
    listed_paths = json.dumps(listed)
    for page in record_pages(built_site.site):
        doc = lxml.html.fromstring(page.read_bytes())
        heading = doc.xpath("//article//h2[@id='cite-this']")
        assert heading and heading[0].text_content() == "Cite this"
        links = doc.xpath("//article//h2[@id='cite-this']/following-sibling::p[2]//a")
        assert [(a.get("href"), a.text_content(), a.get("download")) for a in links] == [
            ("cite/record.bib", "BibTeX", ""), ("cite/record.ris", "RIS", ""), ("cite/record.csl.json", "CSL-JSON", ""),
            ("cite/datacite.json", "DataCite JSON", "")]
        for a in links:
            assert (page.parent / a.get("href")).is_file()
            assert f"records/{page.parent.name}/{a.get('href')}" in listed_paths
        data = json.loads((page.parent / "cite" / "datacite.json").read_text(encoding="utf-8"))
        assert schema45.validate(data), page


def test_the_retracted_page_cites_the_retraction(built_site):
    doc = lxml.html.fromstring(built_site.page("SRCH:93BD3EF3").read_bytes())
    text = doc.xpath("//article//h2[@id='cite-this']/following-sibling::p[1]")[0].text_content()
    assert text.startswith("Assignee Research (2026). RETRACTED: ")
    note = doc.xpath("//article//h2[@id='cite-this']/following-sibling::p[3]")[0].text_content()
    assert "The citation says that the record was retracted, with the reason." in note
    bib = (built_site.site / "records" / "SRCH-93BD3EF3" / "cite" / "record.bib").read_text(encoding="utf-8")
    assert "retraction-reason-marker" in bib and "title = {RETRACTED: " in bib


def view_of(record_id: str = "SRCH:170CA349"):
    from generator.website.build import load_views

    [view] = [v for v in load_views(REPO / "records")[0] if v.record_id == record_id]
    return view


def test_a_registered_doi_is_what_the_page_is_cited_as_and_the_json_ld_names_it():
    view = dataclasses.replace(view_of(), doi="10.5281/zenodo.1234567")
    [cite_as] = [link for link in signposting.links(view, SITE_PUBLISHER) if link.rel == "cite-as"]
    assert cite_as == Link("cite-as", "https://doi.org/10.5281/zenodo.1234567")
    data = record_page.json_ld(view, SITE_PUBLISHER)
    assert data["sameAs"] == "https://doi.org/10.5281/zenodo.1234567"
    assert {"@type": "PropertyValue", "propertyID": "DOI", "value": "10.5281/zenodo.1234567",
            "url": "https://doi.org/10.5281/zenodo.1234567"} in data["identifier"]
    assert "Cite the DOI." in record_page.record_html(view, SITE_PUBLISHER)


def test_configured_ror_and_orcid_go_into_the_json_ld_and_the_author_links():
    publisher = Publisher("Assignee Research", ROR, License("https://creativecommons.org/licenses/by/4.0/"),
                          (Person("Josiah", "Carberry", ORCID),))
    view = view_of()
    data = record_page.json_ld(view, publisher)
    assert data["publisher"] == {"@type": "Organization", "name": "Assignee Research", "@id": ROR, "identifier": ROR}
    assert data["author"] == [{"@type": "Person", "name": "Josiah Carberry", "familyName": "Carberry", "givenName": "Josiah",
                               "@id": ORCID, "identifier": ORCID}]
    assert data["license"] == "https://creativecommons.org/licenses/by/4.0/"
    assert Link("author", ORCID) in signposting.links(view, publisher)
    unconfigured = record_page.json_ld(view, Publisher())
    assert unconfigured["publisher"] == {"@type": "Organization", "name": "Assignee Research"}
    assert "author" not in unconfigured and "license" not in unconfigured and "sameAs" not in unconfigured


def test_every_href_and_type_is_escaped():
    link = Link("item", 'https://x.example/"><script>alert(1)</script>', 'text/plain"onload="x')
    assert link.html() == ('<link rel="item" href="https://x.example/&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" '
                           'type="text/plain&#34;onload=&#34;x">')


def test_the_head_links_are_in_the_page_file_so_the_page_cache_key_covers_them():
    view = view_of()
    document = record_page.record_document(view, SITE_PUBLISHER)
    front = document.split("\n---\n", 1)[0].removeprefix("---\n")
    import yaml

    assert json.loads(front)[record_page.HEAD_KEY] == signposting.head_html(view, SITE_PUBLISHER)
    assert yaml.safe_load(front) == json.loads(front)  # the same front matter to MkDocs' own reader
    other = record_page.record_document(view, dataclasses.replace(SITE_PUBLISHER, license=License("https://example.org/l")))
    assert other != document  # another licence is another page file, so another cache key


def test_the_hook_puts_the_links_in_the_head_only_of_record_pages():
    from types import SimpleNamespace

    from generator.website.mkdocs_hooks import on_post_page

    output = "<html><head><title>&lt;/head&gt;</title></head><body></head></body></html>"
    record = SimpleNamespace(meta={record_page.HTML_PAGE_KEY: True, record_page.HEAD_KEY: '<link rel="cite-as" href="u">'})
    assert on_post_page(output, record, None) == ('<html><head><title>&lt;/head&gt;</title><link rel="cite-as" href="u">\n'
                                                  "</head><body></head></body></html>")
    other = SimpleNamespace(meta={record_page.HEAD_KEY: '<link rel="cite-as" href="u">'})
    assert on_post_page(output, other, None) == output
