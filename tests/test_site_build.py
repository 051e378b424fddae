"""`build` and `verify`: record pages with the 004 sections, banners, escaping, mirror, feed, checkpoint.

The site is built once per session (tests/site_fixtures.py) from the five example records, a hostile
record whose every free-text field is an injection attempt, and corrections appended with
``append_correction`` (an expression of concern then a retraction of 004, a field correction of
SRCH:170CA349, an expression of concern on the hostile record).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from xml.etree import ElementTree

import lxml.html
import markdown
import pytest
from click.testing import CliRunner

from generator.cli import cli
from generator.errors import ValidationFailed
from generator import escape
from generator.website import pages
from generator.website.build import BuildFailed, build_site
from site_fixtures import (BUILD_EPOCH, CORRECTED_ID, HOSTILE_ABSTRACT, HOSTILE_BY, HOSTILE_QUESTION, HOSTILE_REASON,
                           HOSTILE_TITLE, REPO, RETRACTED_ID, built_site, source_date_epoch,  # noqa: F401 - fixture
                           write_hostile_record)

SEED_004 = REPO / "examples" / "seeds" / "004_c1b9ed4b4f30bee1.txt"
SECTIONS_004 = ["Research Question", "Verification Level", "Quality Tier", "Quality Dimensions", "Correction Record", "Provenance"]
ATOM = "{http://www.w3.org/2005/Atom}"


def _seed_rows() -> list[tuple[str, str]]:
    """(label, value) of every table row of the public record page 004."""
    rows = []
    for line in SEED_004.read_text(encoding="utf-8").splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            rows.append((cells[0], cells[1]))
    return rows


def _seed_sentences() -> list[str]:
    lines = SEED_004.read_text(encoding="utf-8").splitlines()
    return [l.strip() for l in lines if l.strip().endswith(".") and not l.startswith("|") and not l.startswith("Abstract")]


def _html(path: Path):
    return lxml.html.fromstring(path.read_bytes())


def _text(el) -> str:
    return " ".join(el.text_content().split())


def _rows(doc) -> dict[str, str]:
    out = {}
    for tr in doc.xpath("//article//table//tr[td]"):
        cells = tr.xpath("./td")
        out.setdefault(_text(cells[0]), _text(cells[1]))
    return out


# --- the record page --------------------------------------------------------------------------------


def test_record_page_has_every_004_section_label_and_sentence_in_order(built_site):
    doc = _html(built_site.page(RETRACTED_ID))
    headings = [_text(h) for h in doc.xpath("//article//h2")]
    positions = [headings.index(name) for name in SECTIONS_004]
    assert positions == sorted(positions), f"sections out of 004's order: {headings}"
    rows = _rows(doc)
    for label, value in _seed_rows():
        assert label in rows, f"row label {label!r} missing"
        if label not in ("Status", "Correction count"):  # 004 is retracted in this build
            assert value in rows[label], f"{label}: expected {value!r} in {rows[label]!r}"
    body = _text(doc.xpath("//article")[0])
    for sentence in _seed_sentences():
        assert sentence in body, f"explanatory sentence missing: {sentence}"
    assert rows["Status"] == "Retracted" and rows["Correction count"] == "2"
    guide = doc.xpath("//article//a[normalize-space()=$t]", t="How to read scores, claims, manifests, and evidence links")
    assert guide and guide[0].get("href") == "../../quality-guide/"


def test_record_page_h1_is_the_full_title_and_shows_id_abstract_and_target_link(built_site):
    doc = _html(built_site.page(CORRECTED_ID))
    manifest = json.loads((built_site.records / "SRCH-170CA349" / "manifest.json").read_text())
    assert _text(doc.xpath("//article//h1")[0]) == manifest["title"]
    body = _text(doc.xpath("//article")[0])
    assert CORRECTED_ID in body and " ".join(manifest["target_paper"]["abstract"].split()) in body
    assert doc.xpath("//article//a[@href='https://arxiv.org/abs/2604.23996v1']")


def test_retraction_banner_is_the_first_thing_after_the_title(built_site):
    doc = _html(built_site.page(RETRACTED_ID))
    article = doc.xpath("//article")[0]
    children = [c for c in article if c.tag in ("h1", "div", "table", "h2", "p")]
    h1 = next(i for i, c in enumerate(children) if c.tag == "h1")
    banner = children[h1 + 1]
    assert "admonition" in banner.get("class") and "danger" in banner.get("class")
    assert _text(banner.xpath(".//p[contains(@class,'admonition-title')]")[0]) == "Retracted on 2026-11-22"
    assert HOSTILE_REASON in _text(banner), "the reason is shown as text"


def test_current_record_has_no_banner_and_corrected_record_shows_folded_values(built_site):
    current = _html(built_site.page("SRCH:7AEAE763"))
    assert not current.xpath("//article//div[contains(@class,'admonition')]")
    corrected = _html(built_site.page(CORRECTED_ID))
    banner = corrected.xpath("//article//div[contains(@class,'admonition')]")[0]
    assert "info" in banner.get("class")
    rows = _rows(corrected)
    assert rows["Status"] == "Corrected" and rows["Correction count"] == "1"
    log = _text(corrected.xpath("//article")[0])
    assert "Policy basis: Stated in the draft's results section (corrected)." in log
    assert '"Stated in the draft\'s results section." → "Stated in the draft\'s results section (corrected)."' in log


def test_correction_log_is_newest_first(built_site):
    doc = _html(built_site.page(RETRACTED_ID))
    entries = [_text(h) for h in doc.xpath("//article//h3")]
    assert entries[0].startswith("0002 Retraction") and entries[1].startswith("0001 Expression of concern")


# --- escaping ---------------------------------------------------------------------------------------


def test_hostile_record_renders_every_payload_as_visible_text(built_site):
    raw = built_site.page(built_site.hostile_id).read_text(encoding="utf-8")
    for payload in ("<img src=x", "<script>alert", "<svg onload", "<b>markup", "<i>Mallory", "<marquee>", "<u>policy"):
        assert payload not in raw.replace('<script type="application/ld+json">', ""), payload
    doc = lxml.html.fromstring(raw)
    article = doc.xpath("//article")[0]
    assert not article.xpath(".//img | .//svg | .//marquee | .//b | .//i | .//u")
    assert not doc.xpath("//a[starts-with(normalize-space(@href), 'javascript')]")
    # The only inline scripts are the theme's own (the same on every record page) and our JSON-LD.
    theirs = lxml.html.fromstring(built_site.page("SRCH:7AEAE763").read_bytes())
    inline = lambda d: [(s.get("type"), s.text if s.get("type") != "application/ld+json" else "") for s in d.xpath("//script[not(@src)]")]
    assert inline(doc) == inline(theirs)
    assert _text(article.xpath(".//h1")[0]) == HOSTILE_TITLE
    assert doc.xpath("//title")[0].text == f"{HOSTILE_TITLE} - Sovereign Publish registry"
    body = _text(article)
    expected_abstract = " ".join(HOSTILE_ABSTRACT.replace("\x02", "\ufffd").replace("\x03", "\ufffd").split())
    assert expected_abstract in body
    assert HOSTILE_QUESTION in body and HOSTILE_REASON in body and HOSTILE_BY in body


def test_json_ld_is_a_scholarly_article_with_escaped_angle_brackets(built_site):
    raw = built_site.page(RETRACTED_ID).read_text(encoding="utf-8")
    hostile = built_site.page(built_site.hostile_id).read_text(encoding="utf-8")
    for text in (raw, hostile):
        block = text.split('<script type="application/ld+json">', 1)[1].split("</script>", 1)[0]
        assert "<" not in block and ">" not in block
    data = json.loads(lxml.html.fromstring(raw).xpath("//script[@type='application/ld+json']")[0].text)
    assert data["@type"] == "ScholarlyArticle" and data["identifier"] == RETRACTED_ID
    assert data["creativeWorkStatus"] == "RETRACTED"
    assert data["about"]["url"] == "https://arxiv.org/abs/2604.23996v1"
    assert [c["@type"] for c in data["correction"]] == ["CorrectionComment", "CorrectionComment"]
    assert data["correction"][1]["text"] == HOSTILE_REASON
    for key in ("name", "abstract", "publisher", "datePublished"):
        assert data[key]
    hostile_data = json.loads(lxml.html.fromstring(hostile).xpath("//script[@type='application/ld+json']")[0].text)
    assert hostile_data["name"] == HOSTILE_TITLE


@pytest.mark.parametrize("payload", [
    "<img src=x onerror=alert(1)>", "[x](javascript:alert(1))", "# heading", "1. list", "- list", "> quote",
    "| a | b |", "**bold** _em_ `code`", "~~~\ncode\n~~~", "!!! danger \"x\"", "{: .cls}", "&amp; &lt;",
    "\\*escaped\\*", "line\n===", "\x02wzxhzdk:0\x03", "<!-- comment -->", "    indented code",
])
def test_md_inline_renders_exactly_the_text(payload):
    md = markdown.Markdown(extensions=["tables", "admonition", "toc", "attr_list"])
    rendered = md.convert(escape.md_inline(payload))
    doc = lxml.html.fragment_fromstring(rendered, create_parent="div")
    assert [el.tag for el in doc] == ["p"], rendered
    assert doc.text_content() == " ".join(payload.replace("\x02", "\ufffd").replace("\x03", "\ufffd").split())
    cell = md.reset().convert(f"| h |\n|---|\n| {escape.md_inline(payload)} |")
    assert lxml.html.fragment_fromstring(cell, create_parent="div").xpath("count(//td)") == 1


def _index_rows(n: int) -> list[dict]:
    return [{"record_id": f"SRCH:0000000{i}", "title": f"Title {i}", "level": "L2", "tier": "Standard",
             "status": "CURRENT", "review_score": 7.0, "recorded": "2026-11-22T00:00:00Z"} for i in range(n)]


def test_index_pages_link_every_record_once_in_order_with_a_pager():
    rows = _index_rows(5)

    index_pages = pages.records_index_pages(rows, page_size=2)

    assert [name for name, _ in index_pages] == ["index.md", "page-2.md", "page-3.md"]
    linked = re.findall(r'href="(?:\.\./)?(SRCH-[0-9A-F]{8})/"', "".join(text for _, text in index_pages))
    assert linked == [f"SRCH-0000000{i}" for i in range(5)]
    first, second, last = (text for _, text in index_pages)
    # Final URLs relative to each page's own URL: records/ for page 1, records/page-N/ for the others.
    assert '<a href="page-2/">Older</a>' in first and 'href="SRCH-00000000/"' in first
    assert '<a href="../">Newer</a>' in second and '<a href="../page-3/">Older</a>' in second
    assert 'href="../SRCH-00000002/"' in second and 'href="../../corrections.xml"' in second
    assert "This page shows 3-4, newest first." in second and '<h1 id="records-index">Records index, page 2 of 3</h1>' in second
    assert 'data-total="5" data-index="index.json" data-records=""' in first
    assert 'data-total="5" data-index="../index.json" data-records="../"' in last


def test_index_pages_are_ready_made_html_with_escaped_record_text():
    rows = _index_rows(1)
    rows[0]["title"] = '<script>alert(1)</script> & "quoted"'

    [(_, text)] = pages.records_index_pages(rows)

    front, body = text.split("\n---\n", 1)
    meta = json.loads(front.removeprefix("---\n"))
    assert meta[pages.HTML_PAGE_KEY] is True and meta["search"] == {"exclude": True}
    assert "<script>" not in body and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;quoted&#34;" in body
    table = lxml.html.fragment_fromstring(body, create_parent="div").xpath("//table")[0]
    assert [th.text for th in table.xpath(".//th")] == list(pages.INDEX_COLUMNS)
    assert len(table.xpath(".//tbody/tr/td")) == len(pages.INDEX_COLUMNS)


def test_a_small_registry_has_one_index_page_without_a_pager():
    [(name, text)] = pages.records_index_pages(_index_rows(3), page_size=500)
    assert name == "index.md" and "Pages:" not in text and "3 records. Newest first." in text


def test_links_never_take_an_untrusted_url():
    assert escape.md_link("x", "javascript:alert(1)") == "x"
    assert escape.md_link("x", "https://arxiv.org/abs/1 onclick=") == "x"
    assert escape.md_link("x", "https://arxiv.org/abs/2604.23996v1") == "[x](https://arxiv.org/abs/2604.23996v1)"
    assert escape.html_link("<b>x</b>", "javascript:alert(1)") == "&lt;b&gt;x&lt;/b&gt;"
    assert escape.html_link("x", 'report.md" onclick="alert(1)') == "x"
    assert escape.html_link("<i>", "corrections/0001.json") == '<a href="corrections/0001.json">&lt;i&gt;</a>'
    assert pages.arxiv_url("2604.23996", "v1") == "https://arxiv.org/abs/2604.23996v1"
    assert pages.arxiv_url("javascript:alert(1)", None) is None


# --- index, mirror, feed ----------------------------------------------------------------------------


def test_index_page_lists_every_record_with_its_columns(built_site):
    doc = _html(built_site.site / "records" / "index.html")
    header = [_text(th) for th in doc.xpath("//article//table//th")]
    assert header == ["Record", "Title", "Level", "Tier", "Status", "Verdict", "Score", "Recorded"]
    rows = doc.xpath("//article//table//tbody/tr")
    assert len(rows) == 6
    by_id = {_text(r.xpath("./td")[0]): [_text(td) for td in r.xpath("./td")] for r in rows}
    assert by_id[RETRACTED_ID][4] == "Retracted" and by_id[CORRECTED_ID][4] == "Corrected"
    assert by_id[CORRECTED_ID][5:7] == ["Reject", "3.4"] and by_id[built_site.hostile_id][1] == HOSTILE_TITLE
    assert by_id[RETRACTED_ID][5:7] == ["Not recorded", "Not recorded"]
    link = doc.xpath("//article//table//a[normalize-space()=$id]", id=RETRACTED_ID)[0]
    assert link.get("href") == "SRCH-93BD3EF3/"
    assert doc.xpath("//*[@id='sp-records-filter']//select[@id='sp-records-tier']/option[@value='Quarantine candidate']")
    assert not doc.xpath("//article//img")
    index = json.loads((built_site.site / "records" / "index.json").read_text())
    assert index["count"] == 6 and {r["record_id"] for r in index["records"]} == set(by_id)


def test_record_pages_are_not_in_the_nav(built_site):
    doc = _html(built_site.site / "index.html")
    nav = [_text(a) for a in doc.xpath("//nav[contains(@class,'md-nav--primary')]//a[contains(@class,'md-nav__link')]")]
    assert not any("SRCH" in n for n in nav)
    assert {"Records index", "Quality guide", "Schemas", "How to correct a record"} <= set(nav)


def test_json_mirror_holds_the_published_files_byte_for_byte(built_site):
    assert (built_site.site / "log.jsonl").read_bytes() == (built_site.records / "log.jsonl").read_bytes()
    for folder in sorted(p for p in built_site.records.iterdir() if p.is_dir()):
        mirrored = built_site.site / "records" / folder.name
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                assert (mirrored / path.relative_to(folder)).read_bytes() == path.read_bytes(), path
        folded = json.loads((mirrored / "folded.json").read_text())
        assert folded["record_id"] == folder.name.replace("-", ":", 1)
    folded = json.loads((built_site.site / "records" / "SRCH-93BD3EF3" / "folded.json").read_text())
    assert folded["status"] == "RETRACTED" and folded["correction_count"] == 2
    folded = json.loads((built_site.site / "records" / "SRCH-170CA349" / "folded.json").read_text())
    assert folded["values"]["policy"]["basis"] == "Stated in the draft's results section (corrected)."
    assert folded["corrected_fields"] == ["/policy/basis"]


def test_schemas_are_served_at_their_ids(built_site):
    for path in sorted((REPO / "schemas").glob("*.json")):
        schema = json.loads(path.read_text())
        assert schema["$id"] == f"{pages.SITE_URL}schemas/{path.name}"
        assert (built_site.site / "schemas" / path.name).read_bytes() == path.read_bytes()
    assert (built_site.site / "schemas" / "index.html").is_file()


def test_corrections_feed_holds_the_retraction_as_text(built_site):
    root = ElementTree.parse(built_site.site / "corrections.xml").getroot()
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 4
    retraction = next(e for e in entries if e.find(f"{ATOM}id").text.endswith("SRCH-93BD3EF3/corrections/0002.json"))
    assert retraction.find(f"{ATOM}category").get("term") == "retraction"
    content = retraction.find(f"{ATOM}content")
    assert content.get("type") == "text" and content.text == HOSTILE_REASON
    assert retraction.find(f"{ATOM}title").text.startswith(f"{RETRACTED_ID} retraction: ")
    assert retraction.find(f"{ATOM}updated").text == "2026-11-22T12:00:00+00:00"
    assert root.find(f"{ATOM}updated").text == "2026-11-22T12:00:00+00:00"


def test_quality_guide_is_generated_from_the_rule_tables_and_the_verifier_evaluation(built_site):
    from generator.records import corrections, rules

    body = _text(_html(built_site.site / "quality-guide" / "index.html").xpath("//article")[0])
    assert rules.QUALITY_GUIDE_TITLE in body
    for item in (*[l.meaning for l in rules.LEVELS], *[t.basis for t in rules.TIERS], *[d.high for d in rules.DIMENSIONS],
                 *[d.low for d in rules.DIMENSIONS], *[t.meaning for t in corrections.UPDATE_TYPES]):
        assert item in body, item
    unmeasured = pages.quality_guide_page(None)
    assert "has not been measured" in unmeasured
    measured = pages.quality_guide_page({"dataset": "SciFact", "split": "train", "evaluated_at": "2026-01-01T00:00:00Z",
                                         "verifiers": [{"name": "tfidf-cosine", "settings": {"threshold": 0.15},
                                                        "pair_task": {"precision": 0.1234, "recall": 0.5678, "f1": 0.9012},
                                                        "contradict_called_verified": 0.4321}]})
    assert "0\\.1234" in measured and "0\\.5678" in measured and "0\\.4321" in measured
    assert "has not been measured" not in measured


def test_quality_guide_says_which_verifier_each_record_used_and_what_the_figures_mean(built_site):
    doc = _html(built_site.site / "quality-guide" / "index.html")
    body = _text(doc.xpath("//article")[0])
    evaluation = json.loads((REPO / "generator" / "data" / "verifier_eval.json").read_text())
    for task in evaluation["tasks"].values():  # each task defined in one sentence
        assert task in body
    assert "VeriSci" in body and "0.47-0.51" in body
    assert "Contradicting pairs called verified" in body and "Cross-validated" not in body
    used = {}
    for provenance in built_site.records.glob("*/provenance.json"):
        pipeline = json.loads(provenance.read_text())["pipeline"] or {}  # null when a page disclosed none (004)
        method = (pipeline.get("verification") or {}).get("method")
        if method:
            used[method] = used.get(method, 0) + 1
    assert used  # the example records do name their verifier
    table = next(t for t in doc.xpath("//article//table") if "Records using it" in _text(t))
    names = [_text(th) for th in table.xpath(".//thead//th")][1:]  # one column per verifier
    counts = next([_text(td) for td in tr.xpath("td")] for tr in table.xpath(".//tbody/tr") if _text(tr.xpath("td")[0]) == "Records using it")
    for verifier in evaluation["verifiers"]:
        assert counts[1 + names.index(verifier["name"])] == str(used.get(verifier["name"], 0))


# --- refusing to publish, reproducibility -----------------------------------------------------------


def test_an_invalid_record_refuses_to_build_naming_the_file(tmp_path):
    records = tmp_path / "records"
    shutil.copytree(REPO / "records", records)
    report = records / "SRCH-170CA349" / "report.txt"
    report.write_bytes(report.read_bytes() + b"tampered")
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "keep.txt").write_text("previous site")
    with pytest.raises(ValidationFailed) as caught:
        build_site(records, tmp_path / "site", work_dir=tmp_path / "build")
    assert any("SRCH-170CA349/manifest.json" in p.file and "/artifacts/" in p.pointer for p in caught.value.problems)
    assert (tmp_path / "site" / "keep.txt").read_text() == "previous site", "a failed build leaves the old site alone"
    result = CliRunner().invoke(cli, ["build", "--records", str(records), "--out", str(tmp_path / "site"),
                                      "--work", str(tmp_path / "build")])
    assert result.exit_code != 0 and "SRCH-170CA349" in result.output


def test_an_empty_registry_builds_a_site_that_says_so(tmp_path):
    (tmp_path / "records").mkdir()
    result = build_site(tmp_path / "records", tmp_path / "site", work_dir=tmp_path / "build")
    assert result.records == 0 and result.tree_size == 0
    assert "No records yet." in (tmp_path / "site" / "records" / "index.html").read_text()


def test_a_record_file_never_replaces_a_page_of_the_site(tmp_path, later_epoch, monkeypatch):
    from generator.records import gate

    records = tmp_path / "records"
    monkeypatch.setattr(gate, "record_problems", lambda files, label: [])  # as a hand-written pull request would add it
    write_hostile_record(records, report_name="index.html")  # the page's own file name
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "keep.txt").write_text("previous site")
    with pytest.raises(ValidationFailed, match="artifact name 'index.html' is reserved"):
        build_site(records, tmp_path / "site", work_dir=tmp_path / "build")
    assert (tmp_path / "site" / "keep.txt").read_text() == "previous site"


def _files(site: Path) -> dict[str, bytes]:
    return {str(p.relative_to(site)): p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file()}


def test_building_twice_gives_a_byte_identical_site(built_site, tmp_path, monkeypatch):
    # MkDocs itself writes only one time-dependent thing: the build date, as <lastmod> in
    # sitemap.xml and as the mtime in the gzip header of sitemap.xml.gz. It takes that date from
    # SOURCE_DATE_EPOCH, and build_site pins SOURCE_DATE_EPOCH to the newest record or correction
    # date when it is unset, so the site is a function of the records alone. search_index.json,
    # the theme assets and every page come out identical (checked here file by file).
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    build_site(built_site.records, tmp_path / "again", work_dir=tmp_path / "build")
    first, second = _files(built_site.site), _files(tmp_path / "again")
    assert sorted(first) == sorted(second)
    assert [name for name in first if first[name] != second[name]] == []
    with source_date_epoch(str(int(BUILD_EPOCH) + 86400)):
        build_site(built_site.records, tmp_path / "next-day", work_dir=tmp_path / "build")
    third = _files(tmp_path / "next-day")
    # ... and the site manifest lists their digests, so it, the checkpoint naming it and the history change too.
    changed = ["checkpoint", "checkpoints.json", "site-manifest.json", "sitemap.xml", "sitemap.xml.gz"]
    assert sorted(name for name in first if first[name] != third[name]) == changed


def test_the_process_pool_changes_no_byte_of_the_site(built_site, tmp_path, monkeypatch):
    import generator.parallel

    monkeypatch.setattr(generator.parallel, "MIN_ITEMS", 1)  # pool even these few records
    with source_date_epoch(BUILD_EPOCH):
        monkeypatch.setenv("SOVEREIGN_WORKERS", "2")
        build_site(built_site.records, tmp_path / "pooled", work_dir=tmp_path / "build")
        monkeypatch.setenv("SOVEREIGN_WORKERS", "1")
        build_site(built_site.records, tmp_path / "serial", work_dir=tmp_path / "build")
    pooled, serial = _files(tmp_path / "pooled"), _files(tmp_path / "serial")
    assert sorted(pooled) == sorted(serial) == sorted(_files(built_site.site))
    assert [name for name in pooled if pooled[name] != serial[name]] == []


def test_a_warm_rebuild_after_a_correction_renders_only_that_record_and_gives_the_cold_bytes(built_site, tmp_path):
    from generator.records.corrections import append_correction

    records, cache = tmp_path / "records", tmp_path / "cache"
    shutil.copytree(built_site.records, records)
    with source_date_epoch(BUILD_EPOCH):
        cold = build_site(records, tmp_path / "cold", work_dir=tmp_path / "build", cache_dir=cache)
        assert cold.pages_reused == 0
        append_correction(records, CORRECTED_ID, "expression_of_concern", "Figures are being checked.", "Assignee Research", [])
        warm = build_site(records, tmp_path / "warm", work_dir=tmp_path / "build", cache_dir=cache)
        uncached = build_site(records, tmp_path / "uncached", work_dir=tmp_path / "build")
    assert warm.pages_reused == warm.records - 1, "every record page but the corrected one came from the cache"
    assert warm.records_reused == warm.records - 1, "every record but the corrected one was validated by the cold build"
    warm_files, uncached_files = _files(tmp_path / "warm"), _files(tmp_path / "uncached")
    assert sorted(warm_files) == sorted(uncached_files)
    assert [name for name in warm_files if warm_files[name] != uncached_files[name]] == []
    page = tmp_path / "warm" / "records" / CORRECTED_ID.replace(":", "-") / "index.html"
    assert "Figures are being checked." in page.read_text(encoding="utf-8")
    # One entry per page of the last build: the corrected page's old rendering is gone.
    [toolchain] = list(cache.iterdir())
    assert len(list((toolchain / "pages").iterdir())) == warm.records


def test_a_site_recycled_from_the_build_before_last_has_the_bytes_of_a_build_from_scratch(built_site, tmp_path):
    from generator.records.corrections import append_correction

    records, cache, site, work = tmp_path / "records", tmp_path / "cache", tmp_path / "site", tmp_path / "build"
    shutil.copytree(built_site.records, records)
    fewer = tmp_path / "fewer"  # the same registry without one record (and its log lines): its folder must go
    shutil.copytree(built_site.records, fewer)
    gone = sorted(p.name for p in fewer.iterdir() if p.is_dir())[0]
    shutil.rmtree(fewer / gone)
    log = fewer / "log.jsonl"
    kept = [line for line in log.read_text().splitlines() if f'"record_id":"{gone.replace("-", ":")}"' not in line]
    log.write_text("".join(json.dumps({**json.loads(line), "index": i}, separators=(",", ":"), sort_keys=True) + "\n"
                           for i, line in enumerate(kept)))
    with source_date_epoch(BUILD_EPOCH):
        steps = [records, records, fewer, records, records]
        for number, source in enumerate(steps):
            if number == 3:
                append_correction(records, CORRECTED_ID, "expression_of_concern", "Figures are being checked.", "Assignee Research", [])
            recycled = (work / "previous-site").is_dir()
            build_site(source, site, work_dir=work, cache_dir=cache)
            build_site(source, tmp_path / "scratch", work_dir=tmp_path / "scratch-build")
            built, scratch = _files(site), _files(tmp_path / "scratch")
            assert sorted(built) == sorted(scratch), (number, sorted(set(built) ^ set(scratch))[:5])
            assert [name for name in built if built[name] != scratch[name]] == [], number
            assert recycled == (number >= 2), "from the third build on, the site before last is recycled"


def test_the_record_cache_never_hides_a_changed_byte(built_site, tmp_path):
    records, cache = tmp_path / "records", tmp_path / "cache"
    shutil.copytree(built_site.records, records)
    with source_date_epoch(BUILD_EPOCH):
        build_site(records, tmp_path / "site", work_dir=tmp_path / "build", cache_dir=cache)
        report = next(records.glob("*/report.txt"))
        report.write_bytes(report.read_bytes() + b" ")
        with pytest.raises(ValidationFailed) as failure:
            build_site(records, tmp_path / "site", work_dir=tmp_path / "build", cache_dir=cache)
    manifest = str(report.parent / "manifest.json")
    assert any(problem.file == manifest and "digest does not match report.txt" in problem.message
               for problem in failure.value.problems)


def test_the_record_cache_follows_records_to_another_folder_and_gives_the_same_bytes(built_site, tmp_path):
    cache = tmp_path / "cache"
    shutil.copytree(built_site.records, tmp_path / "a" / "records")
    shutil.copytree(built_site.records, tmp_path / "b" / "records")
    with source_date_epoch(BUILD_EPOCH):
        first = build_site(tmp_path / "a" / "records", tmp_path / "a" / "site", work_dir=tmp_path / "build", cache_dir=cache)
        moved = build_site(tmp_path / "b" / "records", tmp_path / "b" / "site", work_dir=tmp_path / "build", cache_dir=cache)
    assert first.records_reused == 0 and moved.records_reused == moved.records
    built, rebuilt = _files(tmp_path / "a" / "site"), _files(tmp_path / "b" / "site")
    assert sorted(built) == sorted(rebuilt) and [n for n in built if built[n] != rebuilt[n]] == []
    # The cached records point at the folder they are in now: the site links its files from there.
    linked = next((tmp_path / "b" / "site" / "records").glob("*/manifest.json"))
    source = tmp_path / "b" / "records" / linked.parent.name / "manifest.json"
    assert linked.stat().st_ino == source.stat().st_ino or linked.read_bytes() == source.read_bytes()


def test_the_page_cache_never_serves_a_page_rendered_by_another_toolchain(tmp_path):
    from generator.website.page_cache import PageCache

    config = tmp_path / "mkdocs.yml"
    config.write_text("site_name: A\n")
    first = PageCache.open(tmp_path / "cache", config, tmp_path / "docs")
    (first.folder / "k.html").write_text("rendered by A")
    config.write_text("site_name: B\n")
    second = PageCache.open(tmp_path / "cache", config, tmp_path / "docs")
    assert second.folder != first.folder and not first.folder.exists()
    assert second.place_hits({"records/SRCH-00000000.md": "k"}, tmp_path / "site") == frozenset()


def _fail_with_a_build_error() -> None:
    raise BuildFailed("written in the child")


def test_work_in_a_child_process_raises_its_error_in_the_parent_and_an_early_exit_is_an_error(monkeypatch):
    import os

    from generator.parallel import Pending, in_child

    monkeypatch.setenv("SOVEREIGN_WORKERS", "2")
    pending = in_child(_fail_with_a_build_error)
    assert isinstance(pending, Pending)
    with pytest.raises(BuildFailed, match="written in the child"):
        pending.wait()
    with pytest.raises(RuntimeError, match="exit code 3"):
        in_child(lambda: os._exit(3)).wait()
    monkeypatch.setenv("SOVEREIGN_WORKERS", "1")  # no pool, no child: the work is done on the spot
    with pytest.raises(BuildFailed, match="written in the child"):
        in_child(_fail_with_a_build_error)


def test_a_child_and_its_parent_share_tasks_so_that_each_index_is_done_exactly_once(monkeypatch, tmp_path):
    import os

    from generator.parallel import Tasks, in_child

    monkeypatch.setenv("SOVEREIGN_WORKERS", "2")
    tasks = Tasks(200, chunk=3)

    def mark(number: int) -> None:
        with open(tmp_path / str(number), "a") as handle:
            handle.write(f"{os.getpid()}\n")

    pending = in_child(lambda: tasks.run(mark))
    tasks.run(mark)
    pending.wait()
    done = {int(path.name): path.read_text().split() for path in tmp_path.iterdir()}
    assert sorted(done) == list(range(200)) and all(len(pids) == 1 for pids in done.values())


def test_a_worker_count_that_is_not_a_positive_integer_is_refused(monkeypatch):
    from generator.errors import InputError
    from generator.parallel import worker_count

    monkeypatch.setenv("SOVEREIGN_WORKERS", "0")
    with pytest.raises(InputError, match="SOVEREIGN_WORKERS='0': expected a positive integer"):
        worker_count()


# --- checkpoint and verify --------------------------------------------------------------------------


def test_checkpoint_is_a_signed_note_format_tree_head_over_the_log_in_publication_order(built_site):
    from generator.transparency.note import parse_checkpoint

    checkpoint = parse_checkpoint((built_site.site / "checkpoint").read_text())
    assert (checkpoint.origin, checkpoint.size, checkpoint.root.hex()) == ("sovereign-publish.github.io/registry", 6 + 4, built_site.result.root)
    log = [json.loads(line) for line in (built_site.site / "log.jsonl").read_text().splitlines()]
    assert [e["index"] for e in log] == list(range(10))
    assert [e["record_id"] for e in log[:5]] == sorted(e["record_id"] for e in log[:5]), "the shipped records, migrated in id order"
    assert log[5]["record_id"] == built_site.hostile_id, "then each event in the order it was published"
    proofs = json.loads((built_site.site / "records" / "SRCH-93BD3EF3" / "proofs.json").read_text())
    assert [e["sequence"] for e in proofs["entries"]] == [0, 1, 2]
    assert [e["file"] for e in proofs["entries"]] == ["manifest.json", "corrections/0001.json", "corrections/0002.json"]
    assert [e["leaf_index"] for e in proofs["entries"]] == [2, 6, 7]


def _copy(built_site, tmp_path) -> Path:
    site = tmp_path / "site"
    shutil.copytree(built_site.site, site)
    return site


def _flip(path: Path, old: bytes, new: bytes) -> None:
    data = path.read_bytes()
    assert old in data
    path.write_bytes(data.replace(old, new, 1))


def test_verify_passes_on_the_built_site(built_site):
    result = CliRunner().invoke(cli, ["verify", str(built_site.site)])
    assert result.exit_code == 0, result.output
    assert "6 records and 10 log entries verified against the checkpoint of size 10" in result.output
    assert "UNSIGNED" in result.output


def test_verify_fails_after_a_byte_of_a_mirrored_correction_changes(built_site, tmp_path):
    site = _copy(built_site, tmp_path)
    correction = site / "records" / "SRCH-93BD3EF3" / "corrections" / "0002.json"
    _flip(correction, b"retraction-reason-marker", b"retraction-reason-markes")
    result = CliRunner().invoke(cli, ["verify", str(site)])
    assert result.exit_code != 0
    assert "SRCH-93BD3EF3/corrections/0002.json: changed" in result.output
    assert "it was edited after publication" in result.output, "the log's digest of the file no longer matches"


def test_verify_fails_after_a_byte_of_a_proof_changes(built_site, tmp_path):
    site = _copy(built_site, tmp_path)
    proofs_path = site / "records" / "SRCH-170CA349" / "proofs.json"
    proofs = json.loads(proofs_path.read_text())
    digest = proofs["entries"][0]["inclusion_proof"][0]
    flipped = ("0" if digest[0] != "0" else "1") + digest[1:]
    _flip(proofs_path, digest.encode(), flipped.encode())
    result = CliRunner().invoke(cli, ["verify", str(site)])
    assert result.exit_code != 0
    assert "SRCH-170CA349/proofs.json#/entries/0/inclusion_proof" in result.output


def test_verify_fails_when_a_mirrored_report_or_the_root_changes(built_site, tmp_path):
    site = _copy(built_site, tmp_path)
    report = site / "records" / "SRCH-7AEAE763" / "report.txt"
    report.write_bytes(report.read_bytes().replace(b"Tribunal", b"Tribunai", 1))
    result = CliRunner().invoke(cli, ["verify", str(site)])
    assert result.exit_code != 0 and "SRCH-7AEAE763/report.txt: changed" in result.output
    site = _copy(built_site, tmp_path / "second")
    checkpoint = site / "checkpoint"
    root = checkpoint.read_text().splitlines()[2]
    _flip(checkpoint, root.encode(), (("A" if root[0] != "A" else "B") + root[1:]).encode())
    result = CliRunner().invoke(cli, ["verify", str(site)])
    assert result.exit_code != 0 and "checkpoint: says size 10 root" in result.output


def test_search_index_has_one_small_entry_per_record(built_site):
    index = json.loads((built_site.site / "search" / "search_index.json").read_text())
    records = [d for d in index["docs"] if d["location"].startswith("records/SRCH-")]
    assert sorted(d["location"] for d in records) == sorted(f"records/{p.name}/" for p in built_site.records.iterdir() if p.is_dir())
    # The index pages would repeat every title in one entry; records are found through their own entries.
    assert [d["location"] for d in index["docs"] if d["location"].startswith("records/") and d not in records] == []
    hostile = next(d for d in records if d["location"] == f"records/{built_site.hostile_id.replace(':', '-')}/")
    assert hostile["title"] == "&lt;img src=x onerror=alert(1)&gt;", "Material renders search titles as HTML"
    assert "&lt;b&gt;markup&lt;/b&gt;" in hostile["text"]
