"""MkDocs hook used by `sovereign-publish serve`: regenerate the docs before every (re)build.

MkDocs loads this file by path, as a module of its own, so the callback lives on the normally
imported module ``generator.website.serve_hooks`` and is looked up there.
"""

from __future__ import annotations

from collections.abc import Callable

REGENERATE: Callable[[], None] | None = None


def on_pre_build(config, **kwargs) -> None:
    import generator.website.serve_hooks as shared

    if shared.REGENERATE is not None:
        shared.REGENERATE()
