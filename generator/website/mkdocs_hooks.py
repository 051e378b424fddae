"""The MkDocs hooks of the site (``hooks:`` in mkdocs.yml), for `build` and `serve` alike.

* Record pages are ready-made HTML (``record_page.record_document``): their front matter carries
  ``sovereign_html: true``, and ``on_page_markdown``/``on_page_content`` hand the HTML and its table
  of contents to MkDocs instead of letting Python-Markdown parse it. Material's template still wraps it.
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

import os
from collections.abc import Callable
from pathlib import Path

REGENERATE: Callable[[], tuple[list[dict], Path]] | None = None
SEARCH_ENTRIES: list[dict] = []
MIRROR: Path | None = None
# Under an incremental build: the docs paths (records/SRCH-X.md) whose rendered page is already in place.
UNCHANGED_PAGES: frozenset[str] = frozenset()
_BODIES: dict[str, str] = {}


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
    return page


def on_page_markdown(markdown: str, page, config, files, **kwargs) -> str:
    from generator.website.record_page import HTML_PAGE_KEY

    if page.meta.get(HTML_PAGE_KEY) is True:
        _shared()._BODIES[page.file.src_uri] = markdown
        return ""
    return markdown


def on_page_content(html: str, page, config, files, **kwargs) -> str:
    from mkdocs.structure.toc import get_toc

    from generator.website.record_page import toc_tokens

    body = _shared()._BODIES.pop(page.file.src_uri, None)
    if body is None:
        return html
    tokens = toc_tokens(body)
    page.toc = get_toc(tokens)
    page.present_anchor_ids = {heading["id"] for heading in _walk(tokens)}
    return body


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
