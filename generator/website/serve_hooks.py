"""MkDocs hooks used by `sovereign-publish serve`: regenerate the docs before every (re)build, then copy
the records' own files in and add their search entries after it, as `sovereign-publish build` does.

MkDocs loads this file by path, as a module of its own, so the state lives on the normally imported
module ``generator.website.serve_hooks`` and is looked up there.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

REGENERATE: Callable[[], tuple[list[dict], Path]] | None = None
SEARCH_ENTRIES: list[dict] = []
MIRROR: Path | None = None


def on_pre_build(config, **kwargs) -> None:
    import generator.website.serve_hooks as shared

    if shared.REGENERATE is not None:
        shared.SEARCH_ENTRIES, shared.MIRROR = shared.REGENERATE()


def on_post_build(config, **kwargs) -> None:
    import generator.website.serve_hooks as shared
    from generator.website.build import add_search_entries, copy_mirror

    if shared.MIRROR is not None:
        copy_mirror(shared.MIRROR, config.site_dir)
    add_search_entries(config.site_dir, shared.SEARCH_ENTRIES)
