"""The MkDocs hooks of the site (``hooks:`` in mkdocs.yml), for `build` and `serve` alike.

* Record pages are ready-made HTML (``record_page.record_document``): their front matter is one line
  of JSON carrying ``sovereign_html: true``. ``on_pre_page`` has MkDocs read such a page without YAML,
  and ``on_page_markdown`` has it take the HTML and its table of contents as they are, without
  Python-Markdown (whose per-page setup alone was a fifth of a 10,000-page build). Material's template
  still wraps it.
* A record page's Signposting links (front matter ``sovereign_head``, written and escaped by
  ``record_page``) go into its ``<head>`` (``on_post_page``).
* Under `serve`, ``on_pre_build`` regenerates the docs before every (re)build and ``on_post_build``
  copies the records' own files in and adds their search entries, as `build` does after MkDocs.
* Under an incremental `build`, ``on_files`` marks the record pages whose rendered page is already in
  the cache as unmodified, so MkDocs' dirty mode skips them (see ``build.py``).

MkDocs loads this file by path, as a module of its own, so the state lives on the normally imported
module ``generator.website.mkdocs_hooks`` and is looked up there.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from functools import partial
from pathlib import Path

REGENERATE: Callable[[], tuple[list[dict], Path]] | None = None
SEARCH_ENTRIES: list[dict] = []
MIRROR: Path | None = None
# Under an incremental build: the docs paths (records/SRCH-X.md) whose rendered page is already in place.
UNCHANGED_PAGES: frozenset[str] = frozenset()
_JSON_FRONT = "---\n{"


def _shared():
    import generator.website.mkdocs_hooks as shared

    return shared


def on_pre_build(config, **kwargs) -> None:
    shared = _shared()
    if shared.REGENERATE is not None:
        shared.SEARCH_ENTRIES, shared.MIRROR = shared.REGENERATE()


def on_files(files, config, **kwargs):
    unchanged = _shared().UNCHANGED_PAGES
    for file in files:
        # Everything else counts as modified, so a dirty build redoes it exactly as a clean one would.
        modified = file.src_uri not in unchanged
        file.is_modified = (lambda value: lambda: value)(modified)
    return files


def on_pre_page(page, config, files, **kwargs):
    # A page MkDocs writes gets a file of its own: the one in place may be a hard link to the cache.
    path = page.file.abs_dest_path
    if os.path.lexists(path):
        os.unlink(path)
    page.read_source = partial(_read_source, page, page.read_source)
    return page


def _read_source(page, read_with_yaml, config) -> None:
    """``Page.read_source`` for a page whose front matter is one line of JSON marking ready-made HTML;
    any other page is read by MkDocs' own method (YAML)."""
    from generator.website.record_page import HTML_PAGE_KEY

    source = config.plugins.on_page_read_source(page=page, config=config)
    if source is None:
        source = page.file.content_string
    if source.startswith(_JSON_FRONT):
        end = source.find("\n---\n", 4)
        meta = json.loads(source[4:end]) if end > 0 else None
        if isinstance(meta, dict) and meta.get(HTML_PAGE_KEY) is True:
            page.markdown, page.meta = source[end + 5:], meta
            return
    read_with_yaml(config)


def on_page_markdown(markdown: str, page, config, files, **kwargs) -> str:
    from generator.website.record_page import HTML_PAGE_KEY

    if page.meta.get(HTML_PAGE_KEY) is True:
        page.render = partial(_render_html, page)
    return markdown


def _render_html(page, config, files) -> None:
    """``Page.render`` for ready-made HTML: the body is the content, its headings the table of contents."""
    from mkdocs.structure.toc import get_toc

    from generator.website.record_page import toc_tokens

    tokens = toc_tokens(page.markdown)
    page.content = page.markdown
    page.toc = get_toc(tokens)
    page.present_anchor_ids = {heading["id"] for heading in _walk(tokens)}
    page.links_to_anchors = {}


def on_post_page(output: str, page, config, **kwargs) -> str:
    from generator.website.record_page import HEAD_KEY, HTML_PAGE_KEY

    head = page.meta.get(HEAD_KEY)
    if page.meta.get(HTML_PAGE_KEY) is not True or not isinstance(head, str) or not head:
        return output
    # The first </head> is the head's own end: everything before it is the theme's, and the page title in
    # it is escaped, so no record text can hold the string.
    before, found, after = output.partition("</head>")
    return f"{before}{head}\n{found}{after}" if found else output


def _walk(tokens: list[dict]):
    for token in tokens:
        yield token
        yield from _walk(token["children"])


def on_post_build(config, **kwargs) -> None:
    shared = _shared()
    from generator.website.build import add_search_entries, copy_mirror

    if shared.MIRROR is not None:
        copy_mirror(shared.MIRROR, config.site_dir)
        add_search_entries(config.site_dir, shared.SEARCH_ENTRIES)
