"""The built site in headless Chromium: index and filters, a record page, hostile text, search, no errors.

Serves the session's built site (tests/site_fixtures.py) on 127.0.0.1 and drives Debian's Chromium
through Playwright. Every page load records console errors, page errors and dialogs; a dialog would
mean an injected script ran.
"""

from __future__ import annotations

import json
import os

import pytest

from site_fixtures import (CORRECTED_ID, HOSTILE_BY, HOSTILE_QUESTION, HOSTILE_REASON, HOSTILE_TITLE, RETRACTED_ID,
                           built_site, site_url)  # noqa: F401 - fixtures
from test_site_build import SECTIONS_004, _seed_rows

from generator.website import pages

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        # On CI (.ci/run installs Chromium) a missing browser is a failure, not a silent skip.
        (pytest.fail if os.environ.get("CI") else pytest.skip)(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


class Watched:
    """A page plus everything suspicious it did: console errors, uncaught errors, dialogs."""

    def __init__(self, page):
        self.page = page
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        page.on("console", lambda msg: self.errors.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)
        page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        page.on("dialog", self._dialog)

    def _dialog(self, dialog):
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def goto(self, url: str):
        response = self.page.goto(url, wait_until="load")
        assert response is not None and response.ok, f"{url}: {response.status if response else 'no response'}"
        return self.page

    def assert_clean(self):
        assert self.dialogs == [], "a dialog opened: injected script ran"
        assert self.errors == []


@pytest.fixture
def watched(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(15000)
    yield Watched(page)
    context.close()


def _record_url(base: str, record_id: str) -> str:
    return f"{base}records/{record_id.replace(':', '-')}/"


def _count_is(page, text: str) -> None:
    """Filtering is asynchronous (it loads index.json once): wait for the count to say ``text``."""
    page.wait_for_function("t => document.querySelector('#sp-records-count').textContent === t", arg=text)


def test_index_lists_the_records_and_filters_them(watched, site_url, built_site):
    page = watched.goto(f"{site_url}records/")
    rows = page.locator("article table tbody tr")
    assert rows.count() == 6
    assert page.locator("#sp-records-count").inner_text() == "6 records"
    page.select_option("#sp-records-status", "RETRACTED")
    _count_is(page, "1 of 6 records")
    assert page.locator("article table tbody tr:visible").count() == 1
    assert RETRACTED_ID in page.locator("article table tbody tr:visible").inner_text()
    assert "status=RETRACTED" in page.url
    page.select_option("#sp-records-status", "")
    _count_is(page, "6 records")
    assert page.locator("article table tbody tr:visible").count() == 6
    index = json.loads((built_site.site / "records" / "index.json").read_text())
    quarantine = sum(1 for r in index["records"] if r["tier"] == "Quarantine candidate")
    page.select_option("#sp-records-tier", "Quarantine candidate")
    _count_is(page, f"{quarantine} of 6 records")
    assert page.locator("article table tbody tr:visible").count() == quarantine
    page.select_option("#sp-records-tier", "")
    page.fill("#sp-records-search", "cloaking")
    _count_is(page, "1 of 6 records")
    assert CORRECTED_ID in page.locator("article table tbody tr:visible").inner_text()
    page.locator("article table tbody tr:visible a").click()  # a result row links to its record page
    page.wait_for_url(_record_url(site_url, CORRECTED_ID))
    watched.goto(f"{site_url}records/?status=CORRECTED")
    _count_is(page, "1 of 6 records")
    assert page.locator("article table tbody tr:visible").count() == 1
    watched.assert_clean()


def test_record_page_shows_every_004_field_and_the_banner(watched, site_url):
    page = watched.goto(_record_url(site_url, RETRACTED_ID))
    banner = page.locator("article .admonition.danger").first
    assert banner.is_visible()
    assert banner.locator(".admonition-title").inner_text() == "Retracted on 2026-11-22"
    assert HOSTILE_REASON in banner.inner_text()
    banner_top = banner.bounding_box()["y"]
    for section in SECTIONS_004:
        heading = page.get_by_role("heading", name=section, exact=True)
        assert heading.is_visible()
        assert heading.bounding_box()["y"] > banner_top
    for label, _ in _seed_rows():
        assert page.locator("article td").filter(has_text=label).first.is_visible(), label
    assert page.get_by_role("link", name="How to read scores, claims, manifests, and evidence links").is_visible()
    watched.assert_clean()


def test_hostile_payloads_show_as_text_and_never_run(watched, site_url, built_site):
    page = watched.goto(_record_url(site_url, built_site.hostile_id))
    page.wait_for_timeout(300)  # give an onerror / onload handler the chance to fire
    assert page.locator("article h1").inner_text() == HOSTILE_TITLE
    assert page.title() == f"{HOSTILE_TITLE} - Sovereign Publish registry"
    article = page.locator("article")
    for text in ("[x](javascript:alert(1))", "<script>alert(2)</script>", HOSTILE_QUESTION, HOSTILE_REASON, HOSTILE_BY):
        assert text in article.inner_text(), text
    assert article.locator("img, svg, script:not([type='application/ld+json']), marquee, b, i, u").count() == 0
    assert page.locator("a[href^='javascript']").count() == 0
    # The index shows the hostile title as text too.
    page = watched.goto(f"{site_url}records/")
    page.wait_for_timeout(300)
    assert page.locator("article table").get_by_text(HOSTILE_TITLE, exact=True).is_visible()
    assert page.locator("article img").count() == 0
    # And so do the rows the filter script builds from index.json.
    page.fill("#sp-records-search", built_site.hostile_id)
    _count_is(page, "1 of 6 records")
    page.wait_for_timeout(300)
    assert page.locator("article table tbody tr:visible").get_by_text(HOSTILE_TITLE, exact=True).is_visible()
    assert page.locator("article img, article script:not([type='application/ld+json'])").count() == 0
    watched.assert_clean()


def test_without_index_json_the_filters_apply_to_the_rows_of_the_page(watched, site_url):
    page = watched.page
    page.route("**/records/index.json", lambda route: route.abort())
    watched.goto(f"{site_url}records/")
    page.select_option("#sp-records-status", "RETRACTED")
    _count_is(page, "1 of 6 records on this page")
    assert RETRACTED_ID in page.locator("article table tbody tr:visible").inner_text()
    assert watched.dialogs == []


@pytest.fixture(scope="module")
def paged_site_url(built_site, tmp_path_factory):
    """The same records with two records per index page: records/, records/page-2/, records/page-3/."""
    from site_fixtures import build_into, serve_site

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pages, "INDEX_PAGE_SIZE", 2)
        site = build_into(tmp_path_factory.mktemp("paged"), built_site.records, built_site.hostile_id)
    with serve_site(site.site) as url:
        yield url


def test_index_pages_together_link_every_record_and_the_filters_search_all_of_them(watched, paged_site_url, built_site):
    index = json.loads((built_site.site / "records" / "index.json").read_text())
    seen = []
    url = f"{paged_site_url}records/"
    for number in (1, 2, 3):
        page = watched.goto(url)
        assert page.locator("#sp-records-count").inner_text() == "6 records"
        seen += [a.inner_text() for a in page.locator("article table tbody tr a").all()]
        if number < 3:
            page.get_by_role("link", name="Older").first.click()
            url = page.url
    assert seen == [r["record_id"] for r in index["records"]]  # every record once, newest first
    assert url == f"{paged_site_url}records/page-3/"

    on_page_one = index["records"][1]["record_id"]
    assert on_page_one not in seen[4:]
    page.fill("#sp-records-search", on_page_one)
    _count_is(page, "1 of 6 records")
    page.locator("article table tbody tr:visible a").click()
    page.wait_for_url(_record_url(paged_site_url, on_page_one))
    watched.assert_clean()


def _search(page, query: str):
    box = page.locator("input.md-search__input")
    box.click()
    box.press_sequentially(query)  # Material listens to key events; fill() alone does not search
    page.wait_for_selector(".md-search-result__item")
    return page.locator(".md-search-result__item")


def test_material_search_finds_a_record_by_a_word_of_its_title(watched, site_url):
    page = watched.goto(site_url)
    results = _search(page, "cloaking")
    hrefs = [results.nth(i).locator("a").first.get_attribute("href") for i in range(results.count())]
    assert any("records/SRCH-170CA349/" in h for h in hrefs), hrefs
    watched.assert_clean()


def test_search_results_show_hostile_text_without_running_it(watched, site_url, built_site):
    page = watched.goto(site_url)
    results = _search(page, "onerror")
    page.wait_for_timeout(300)
    assert any(built_site.hostile_id.replace(":", "-") in (results.nth(i).locator("a").first.get_attribute("href") or "")
               for i in range(results.count()))
    assert page.locator(".md-search-result img, .md-search-result svg[onload]").count() == 0
    watched.assert_clean()


def test_every_generated_page_loads_without_console_errors(watched, site_url, built_site):
    for path in ("", "records/", "quality-guide/", "schemas/", "correcting/", "records/SRCH-170CA349/"):
        watched.goto(site_url + path)
    watched.assert_clean()
