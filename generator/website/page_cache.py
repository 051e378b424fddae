"""An incremental build: record pages MkDocs already rendered are reused, not rendered again.

A record page's final HTML is a function of its generated page file (front matter + ``record_html``),
its path, and the toolchain: MkDocs, Material and the other packages that render it, ``mkdocs.yml``
(nav, theme, site URL), the hand-written docs and the generator's own code. So the cache is
content-addressed: ``<cache>/<toolchain digest>/pages/<page key>.html``, where the page key is the
SHA-256 of the page's path and bytes. A changed toolchain is a different folder (the old one is
removed); a changed record is a different key. Nothing is ever looked up by record id alone, so a
stale entry cannot be served for a changed record.

How a hit is used: the cached file is hard-linked into the staging site at the page's URL before
MkDocs runs, and the MkDocs hook marks that page unmodified, so MkDocs' own dirty mode skips
reading and rendering it. Everything else (the other pages, theme files, sitemap, search index)
MkDocs builds as in a clean build. Cache files are written once (link, then rename) and never
modified, and MkDocs never writes over a linked file (the hook unlinks a page before MkDocs writes
it), so a site and the cache can share their files.

The cache holds only what this build could have rendered itself, so the site is byte-identical
with and without it (a test builds both). A cache restored from elsewhere is trusted to hold what
its keys say: the deploy workflow builds without one, and ``verify --rebuild`` rebuilds a served
site from its records without a cache and compares every byte.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from generator import __file__ as _generator_init
from generator.fsio import place_link
from generator.records.schemas import SCHEMA_DIR

PACKAGES = ("mkdocs", "mkdocs-material", "markdown", "jinja2", "pymdown-extensions", "markupsafe", "pyyaml")
GENERATOR_DIR = Path(_generator_init).parent


def _digest_files(digest, root: Path, pattern: str) -> None:
    for path in sorted(p for p in Path(root).rglob(pattern) if p.is_file() and "__pycache__" not in p.parts):
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())


def toolchain_digest(config_file: Path, docs_dir: Path) -> str:
    """What every page's HTML, and every record's validation and generated files, depend on besides the
    record's own files."""
    digest = hashlib.sha256(b"sovereign-publish page cache v1\0")
    digest.update(f"python {sys.version}\0".encode())
    for name in PACKAGES:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "absent"
        digest.update(f"{name}=={version}\0".encode())
    digest.update(hashlib.sha256(Path(config_file).read_bytes()).digest())
    if Path(docs_dir).is_dir():
        _digest_files(digest, Path(docs_dir), "*")
    _digest_files(digest, GENERATOR_DIR, "*.py")
    _digest_files(digest, SCHEMA_DIR, "*.json")  # what `validate` checks a record against (the record cache)
    return digest.hexdigest()


def page_key(src_uri: str, document: bytes) -> str:
    """The cache key of one generated page: its path in the docs and its bytes."""
    return hashlib.sha256(src_uri.encode() + b"\0" + document).hexdigest()


def dest_of(src_uri: str) -> str:
    """Where MkDocs writes a page (directory URLs): records/SRCH-X.md -> records/SRCH-X/index.html."""
    return f"{src_uri.removesuffix('.md')}/index.html"


@dataclass
class PageCache:
    """The rendered record pages of one toolchain; ``keys`` maps each page of this build to its key."""

    folder: Path
    keys: dict[str, str] = field(default_factory=dict)
    hits: set[str] = field(default_factory=set)

    @classmethod
    def open(cls, root: Path, config_file: Path, docs_dir: Path, *, toolchain: str | None = None) -> "PageCache":
        root = Path(root)
        toolchain = toolchain or toolchain_digest(config_file, docs_dir)
        if root.is_dir():  # another toolchain's pages can never be used again
            for other in root.iterdir():
                if other.name != toolchain and other.is_dir() and len(other.name) == 64:
                    shutil.rmtree(other, ignore_errors=True)
        folder = root / toolchain / "pages"
        folder.mkdir(parents=True, exist_ok=True)
        return cls(folder)

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}.html"

    def place_hits(self, keys: dict[str, str], site_dir: Path) -> frozenset[str]:
        """Link every cached page of ``keys`` (src_uri -> key) into ``site_dir``; returns the src_uris placed."""
        self.keys = dict(keys)
        for src_uri, key in keys.items():
            cached = self._path(key)
            if cached.is_file():
                target = Path(site_dir) / dest_of(src_uri)
                target.parent.mkdir(parents=True, exist_ok=True)
                place_link(cached, target)
                self.hits.add(src_uri)
        return frozenset(self.hits)

    def store_misses(self, site_dir: Path) -> int:
        """Keep each page MkDocs rendered this time; drop entries this build did not use. Returns the
        number of pages stored."""
        stored = 0
        for src_uri, key in self.keys.items():
            if src_uri in self.hits:
                continue
            rendered = Path(site_dir) / dest_of(src_uri)
            if rendered.is_file():
                temporary = self.folder / f".{key}.{os.getpid()}.tmp"
                place_link(rendered, temporary)
                os.replace(temporary, self._path(key))
                stored += 1
        used = {f"{key}.html" for key in self.keys.values()}
        for entry in os.scandir(self.folder):
            if entry.name not in used:
                os.unlink(entry.path)
        return stored


