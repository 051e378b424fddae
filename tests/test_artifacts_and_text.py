"""Artifacts are data, never pages; every text field is bounded; bidi controls never reorder our text;
counts in drafts are ASCII digits.

* The manifest schema allows an artifact only with an extension of an explicit list (.md, .txt, .json,
  .jsonl, .pdf, .csv) and the media type of that extension, never a name the build writes itself; the
  record page links its files as downloads.
* Every string in the three schemas has a maxLength and every list a maxItems.
* A title with a right-to-left override (U+202E) shows isolated (in ``<bdi>``) on its record page, and
  without the override in the records index, index.json, the search index and the Atom feed.
* ``import`` refuses counts written with other digits than 0-9 (``²``, ``١٢``), or as ``10^23``, or
  above 10**9, naming the file and line.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from pathlib import Path
from xml.etree import ElementTree

import lxml.html
import markdown
import pytest
from click.testing import CliRunner

from conftest import REPO, SEEDS, copy_records
from generator.cli import cli
from generator.errors import InputError, ValidationFailed
from generator.fsio import dump_json
from generator.pipeline.report import REPORT_FILE, REPORT_MEDIA_TYPE
from generator.records import gate, rules
from generator.records.importer import import_files
from generator.records.layout import RESERVED_NAMES
from generator.records.schemas import SCHEMA_FILES, load_schema, schema_problems
from generator.records.validate import manifest_digest, validate_tree
from generator import escape
from generator.website.build import build_site
from site_fixtures import BUILD_EPOCH, serve_site, source_date_epoch, write_hostile_record

RECORD_000 = "SRCH-7AEAE763"
ATOM = "{http://www.w3.org/2005/Atom}"
RLO, PDF, PDI = "\u202e", "\u202c", "\u2069"


def _rewrite(path: Path, value: dict) -> None:
    path.write_text(dump_json(value), encoding="utf-8")


def _problems(records: Path) -> list[str]:
    return [str(p) for p in validate_tree(records)[1]]


def _shipped_manifest() -> dict:
    return json.loads((REPO / "records" / RECORD_000 / "manifest.json").read_text(encoding="utf-8"))


# --- artifacts ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["report.html", "evil.svg"])
def test_an_html_or_svg_artifact_is_refused_by_validate_and_build_naming_the_file(tmp_path, later_epoch, monkeypatch, name):
    records = copy_records(tmp_path / "records")
    # The way a hostile pull request would add it: files written by hand, past the store's own check.
    monkeypatch.setattr(gate, "record_problems", lambda files, label: [])
    record_id = write_hostile_record(records, report_name=name)
    manifest = records / record_id.replace(":", "-") / "manifest.json"

    result = CliRunner().invoke(cli, ["validate", str(records)])

    assert result.exit_code == 1, result.output
    assert f"{manifest}#/artifacts/" in result.output and f"'{name}' does not match" in result.output
    with pytest.raises(ValidationFailed, match=name.replace(".", r"\.")):
        build_site(records, tmp_path / "site", work_dir=tmp_path / "build")
    assert not (tmp_path / "site").exists()


@pytest.mark.parametrize("name", sorted(RESERVED_NAMES))
def test_a_name_the_build_writes_is_refused_by_the_schema(tmp_path, name):
    records = copy_records(tmp_path / "records", RECORD_000)
    folder = records / RECORD_000
    manifest = json.loads((folder / "manifest.json").read_text())
    index = next(i for i, a in enumerate(manifest["artifacts"]) if a["path"] == "report.txt")
    manifest["artifacts"][index]["path"] = name
    manifest["sha256"] = manifest_digest(manifest)
    _rewrite(folder / "manifest.json", manifest)

    problems = _problems(records)

    pointer = f"{folder / 'manifest.json'}#/artifacts/{index}/path: "
    # A schema error (the PR check and `validate` both report it), besides the folder check's own.
    assert any(p.startswith(pointer) and "(schema: properties/artifacts/items/properties/path/" in p for p in problems), problems


@pytest.mark.parametrize("path, allowed, refused", [
    ("report.txt", "text/plain; charset=utf-8", "text/html"),
    ("report.txt", "text/plain; charset=utf-8", "image/svg+xml"),
    ("report.txt", "text/plain; charset=utf-8", "application/json"),  # in the list, but another extension's
    (REPORT_FILE, REPORT_MEDIA_TYPE, "text/plain; charset=utf-8"),  # what `run` writes
    ("claims.json", "application/json", "text/html; charset=utf-8"),
    ("claims.jsonl", "application/jsonl", "application/json"),
    ("claims.jsonl", "application/x-ndjson", "application/xhtml+xml"),
    ("paper.pdf", "application/pdf", "text/plain; charset=utf-8"),
    ("table.csv", "text/csv; charset=utf-8", "text/html"),
])
def test_the_media_type_is_the_one_of_the_files_extension(path, allowed, refused):
    manifest = _shipped_manifest()
    manifest["artifacts"][1].update(path=path, media_type=allowed)
    assert schema_problems(manifest, rules.MANIFEST_CONTRACT, "manifest.json") == []

    manifest["artifacts"][1]["media_type"] = refused
    problems = schema_problems(manifest, rules.MANIFEST_CONTRACT, "manifest.json")

    assert problems and {p.pointer for p in problems} == {"/artifacts/1/media_type"}, problems


# --- bounded text ------------------------------------------------------------------------------------


def _subschemas(schema, pointer="#"):
    """Every schema that describes part of an instance (properties, items, prefixItems), with its pointer."""
    if not isinstance(schema, dict):
        return
    yield pointer, schema
    for name, sub in schema.get("properties", {}).items():
        yield from _subschemas(sub, f"{pointer}/properties/{name}")
    if isinstance(schema.get("items"), dict):
        yield from _subschemas(schema["items"], f"{pointer}/items")
    for i, sub in enumerate(schema.get("prefixItems", [])):
        yield from _subschemas(sub, f"{pointer}/prefixItems/{i}")


def _types(schema: dict) -> list:
    kind = schema.get("type")
    return kind if isinstance(kind, list) else [kind]


@pytest.mark.parametrize("contract", SCHEMA_FILES)
def test_every_string_has_a_max_length_and_every_list_a_max_items(contract):
    strings = lists = 0
    for pointer, sub in _subschemas(load_schema(contract)):
        if "string" in _types(sub):
            strings += 1
            bounded = "maxLength" in sub or "enum" in sub or "const" in sub or sub.get("format") == "date-time"
            assert bounded, f"{contract}.json {pointer}: a string without maxLength"
            assert "maxLength" not in sub or 1 <= sub["maxLength"] <= 20_000, pointer
        if "array" in _types(sub):
            lists += 1
            closed = sub.get("items") is False and "prefixItems" in sub
            assert "maxItems" in sub or closed, f"{contract}.json {pointer}: a list without maxItems"
    assert strings >= 7 and lists >= 1


def test_the_schemas_bound_the_fields_the_issue_names():
    manifest = load_schema(rules.MANIFEST_CONTRACT)["properties"]
    assert manifest["title"]["maxLength"] == 1000
    assert manifest["short_title"]["maxLength"] <= 200
    assert manifest["research_question"]["maxLength"] == 1000
    assert manifest["target_paper"]["properties"]["abstract"]["maxLength"] == 20_000
    assert manifest["target_paper"]["properties"]["authors"]["maxItems"] == 1000
    assert manifest["artifacts"]["maxItems"] == 50
    provenance = load_schema(rules.PROVENANCE_CONTRACT)["properties"]
    assert provenance["sources"]["maxItems"] == 1000
    assert provenance["uncertainties"]["items"]["maxLength"] == 2000
    correction = load_schema(rules.CORRECTION_CONTRACT)["properties"]
    assert correction["reason"]["maxLength"] == 5000 and correction["changes"]["maxItems"] == 100


def test_a_title_of_1001_characters_is_refused_and_1000_are_valid(tmp_path):
    manifest = _shipped_manifest()
    manifest["title"] = "t" * 1000
    assert [p for p in schema_problems(manifest, rules.MANIFEST_CONTRACT, "m") if p.pointer == "/title"] == []
    manifest["title"] = "t" * 1001
    assert [p.pointer for p in schema_problems(manifest, rules.MANIFEST_CONTRACT, "m")] == ["/title"]

    records = copy_records(tmp_path / "records", RECORD_000)
    path = records / RECORD_000 / "manifest.json"
    manifest["sha256"] = manifest_digest(manifest)
    _rewrite(path, manifest)
    assert any(p.startswith(f"{path}#/title: ") and "is too long" in p for p in _problems(records))


# --- bidi -------------------------------------------------------------------------------------------


def test_a_value_cannot_leave_an_embedding_open_or_close_an_isolate_around_it():
    assert escape.clean(f"{RLO}evil") == f"{RLO}evil{PDF}"
    assert escape.clean(f"{PDI}{RLO}evil{PDF}{PDF}") == f"{RLO}evil{PDF}"  # stray PDI and PDF dropped
    assert escape.clean("a\u2067b\u202bc\u2069d") == "a\u2067b\u202bc\u2069d"  # a PDI closes the RLE inside its isolate
    assert escape.clean("\u2068x\u202dy") == f"\u2068x\u202dy{PDF}{PDI}"
    assert escape.md_inline(f"{RLO}evil") == f"<bdi>{RLO}evil{PDF}</bdi>"
    assert escape.md_inline("\u05e9\u05dc\u05d5\u05dd") == "<bdi>\u05e9\u05dc\u05d5\u05dd</bdi>"  # right-to-left letters
    assert escape.md_inline("plain <b>") == "plain &lt;b&gt;"
    assert escape.strip_bidi(f"\u200e{RLO}ev\u2066il\u061c{PDI}") == "evil"
    assert escape.front_matter_title(f"{RLO}evil") == 'title: "evil"'


@pytest.mark.parametrize("payload", [
    "<img src=x onerror=alert(1)>", "[x](javascript:alert(1))", "# heading", "1. list", "> quote", "| a | b |",
    "**bold** _em_ `code`", "~~~ code ~~~", "!!! danger \"x\"", "&amp; &lt;", "\\*escaped\\*", "\x02wzxhzdk:0\x03",
    "<!-- comment -->", "</p><script>alert(1)</script>", f"{RLO}evil",
])
def test_html_blocks_render_exactly_the_text(payload):
    rendered = markdown.Markdown(extensions=["tables", "admonition", "toc"]).convert(escape.html_blocks(payload))
    doc = lxml.html.fragment_fromstring(rendered, create_parent="div")
    assert [el.tag for el in doc] == ["p"], rendered
    assert doc.text_content() == escape.clean(" ".join(payload.split())).replace("\x02", "\ufffd").replace("\x03", "\ufffd")


def _write_bidi_record(records: Path) -> str:
    """A valid record whose title, an author and a correction's author carry bidi controls; returns its id."""
    from generator.corpus import shipped_corpus
    from generator.records.compose import Artifact, Synthesis, compose_record
    from generator.records.corrections import append_correction
    from generator.records.store import write_new_record

    paper = shipped_corpus().papers[0]
    paper = dataclasses.replace(paper, authors=(f"{RLO}Ada", *paper.authors[:2]), record={})
    pipeline = json.loads((REPO / "records" / "SRCH-170CA349" / "provenance.json").read_text())["pipeline"]
    report = b"A report.\n"
    files = compose_record(Synthesis(
        research_question="Does a right-to-left override stay inside its title?", target=paper, title=f"{RLO}evil",
        origin_format="pipeline-run", origin_file="bidi-run.json", origin_bytes=report, claims_extracted=1,
        claims_source_grounded=1, claims_verified=0, claim_confidences=[0.5], papers_retrieved=2, review_score=7.0,
        review_verdict="ACCEPT", revision_round=0, policy_decision="PUBLISH", policy_basis=f"{RLO}basis",
        uncertainties=[f"{RLO}uncertain"], pipeline=pipeline,
        report=Artifact("report", "report.md", "text/markdown; charset=utf-8", report),
    ))
    record_id = json.loads(files["manifest.json"])["record_id"]
    write_new_record(records, record_id, files)
    append_correction(records, record_id, "expression_of_concern", f"Reason {RLO}reversed", f"{PDI}{RLO}mallory", [])
    return record_id


@pytest.fixture(scope="module")
def bidi_site(tmp_path_factory):
    base = tmp_path_factory.mktemp("bidi")
    with source_date_epoch(BUILD_EPOCH):
        records = base / "records"
        shutil.copytree(REPO / "records" / RECORD_000, records / RECORD_000)
        from generator.records import log
        from generator.records.layout import read_record

        log.migrate(records, [read_record(records / RECORD_000)])
        record_id = _write_bidi_record(records)
        build_site(records, base / "site", work_dir=base / "build")
    return base / "site", record_id


def _bidi_text_nodes(doc) -> list:
    """Every text node (outside scripts) that holds a bidi control."""
    return [t for t in doc.xpath("//body//text()[not(ancestor::script)]")
            if any(c in escape.BIDI_CONTROLS for c in t)]


def test_a_bidi_override_is_isolated_on_the_record_page(bidi_site):
    site, record_id = bidi_site
    doc = lxml.html.fromstring((site / "records" / record_id.replace(":", "-") / "index.html").read_bytes())
    h1 = doc.xpath("//article//h1")[0]
    assert [b.text_content() for b in h1.xpath(".//bdi")] == [f"{RLO}evil{PDF}"]
    assert doc.xpath("//title")[0].text == "evil - Sovereign Publish registry"
    nodes = _bidi_text_nodes(doc)
    assert len(nodes) >= 5  # title, author, policy basis, uncertainty, reason, correction author
    for node in nodes:
        assert node.getparent().tag == "bdi" and not node.is_tail, repr(str(node))
    by = doc.xpath("//article//p[starts-with(normalize-space(), 'Sequence 1,')]")[0]
    assert f"{RLO}mallory{PDF}" in [b.text_content() for b in by.xpath(".//bdi")]
    outside = "".join(by.xpath("./text()"))
    assert "Status Current → Under concern." in outside, "our words stay outside the isolate"


def test_record_files_are_linked_as_downloads(bidi_site):
    site, record_id = bidi_site
    doc = lxml.html.fromstring((site / "records" / record_id.replace(":", "-") / "index.html").read_bytes())
    files = doc.xpath("//article//h2[normalize-space()='Files']/following-sibling::p[1]//a")
    assert [a.get("href") for a in files] == ["manifest.json", "provenance.json", "report.md", "corrections/0001.json",
                                              "folded.json", "proofs.json"]
    assert all(a.get("download") is not None for a in files)
    report = doc.xpath("//article//td[normalize-space()='Report artifact']/following-sibling::td//a")
    assert [(a.get("href"), a.get("download")) for a in report] == [("report.md", "")]


def test_a_bidi_override_is_stripped_from_the_index_the_search_index_and_the_feed(bidi_site):
    site, record_id = bidi_site
    index = json.loads((site / "records" / "index.json").read_text(encoding="utf-8"))
    row = next(r for r in index["records"] if r["record_id"] == record_id)
    assert row["title"] == "evil" and row["short_title"] == "evil"
    doc = lxml.html.fromstring((site / "records" / "index.html").read_bytes())
    cells = doc.xpath("//article//table//tr[td[1][normalize-space()=$id]]/td", id=record_id)
    assert cells[1].text_content() == "evil"
    assert _bidi_text_nodes(doc) == []
    search = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    entry = next(d for d in search["docs"] if d["location"] == f"records/{record_id.replace(':', '-')}/")
    assert entry["title"] == "evil"
    feed = (site / "corrections.xml").read_text(encoding="utf-8")
    assert not any(c in escape.BIDI_CONTROLS for c in feed)
    [entry] = ElementTree.fromstring(feed.encode()).findall(f"{ATOM}entry")
    assert entry.find(f"{ATOM}title").text == f"{record_id} expression_of_concern: evil"
    assert entry.find(f"{ATOM}author/{ATOM}name").text == "mallory"


@pytest.mark.browser
def test_index_rows_built_by_the_script_isolate_titles_without_bidi_controls(bidi_site, tmp_path):
    if not os.path.exists("/usr/bin/chromium"):
        (pytest.fail if os.environ.get("CI") else pytest.skip)("/usr/bin/chromium is not installed")
    from playwright.sync_api import sync_playwright

    site = shutil.copytree(bidi_site[0], tmp_path / "site")
    index = site / "records" / "index.json"
    data = json.loads(index.read_text(encoding="utf-8"))
    row = next(r for r in data["records"] if r["record_id"] == bidi_site[1])
    row["title"] = f"{RLO}evil"  # as in an index.json from before titles lost their bidi controls
    index.write_text(json.dumps(data), encoding="utf-8")
    with serve_site(site) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            page.goto(f"{url}records/?q=evil", wait_until="load")
            page.wait_for_function("() => document.querySelector('#sp-records-count').textContent.startsWith('1 of')")
            titles = page.locator("article table tbody:not([hidden]) tr td:nth-child(2) bdi")
            assert titles.count() == 1 and titles.first.evaluate("b => b.textContent") == "evil"
        finally:
            browser.close()


# --- counts in drafts and pages ------------------------------------------------------------------


@pytest.mark.parametrize("seed, old, new, message", [
    (4, "| Source-grounded claims | 13 | |", "| Source-grounded claims | ² | |", r"digits 0-9, found '²'"),
    (4, "| Source-grounded claims | 13 | |", "| Source-grounded claims | ١٢ | |", r"digits 0-9, found '١٢'"),
    (4, "| Source-grounded claims | 13 | |", f"| Source-grounded claims | {10**23} | |", r"at most 1,000,000,000"),
    (0, "10 papers retrieved", "10^23 papers retrieved", r"results must read like"),
    (0, "10 papers retrieved", "2000000000 papers retrieved", r"papers retrieved must be at most 1,000,000,000"),
    (0, "(4 parallel queries", "(١٢ parallel queries", r"query count .*digits 0-9, found '١'"),
    (0, "(dim=1024)", "(dim=١٠٢٤)", r"embedding .*digits 0-9, found '١'"),
])
def test_a_count_that_is_not_ascii_digits_or_too_large_is_refused_naming_file_and_line(tmp_path, fixed_epoch, seed, old, new,
                                                                                        message):
    text = SEEDS[seed].read_text(encoding="utf-8")
    assert old in text
    bad = tmp_path / "bad.txt"
    bad.write_text(text.replace(old, new, 1), encoding="utf-8")
    records = tmp_path / "records"
    with pytest.raises(InputError, match=rf"bad\.txt:\d+: .*{message}"):
        import_files([bad], records)
    assert not records.exists()
    result = CliRunner().invoke(cli, ["import", str(bad), "--records", str(records)])
    assert result.exit_code == 2 and "bad.txt:" in result.output and "Traceback" not in result.output
