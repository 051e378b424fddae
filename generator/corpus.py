"""The shipped offline arXiv corpus: real metadata records (CC0) the importer and the pipeline read."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

from generator.digests import sha256_json
from generator.errors import InputError

_VERSIONED_ID = re.compile(r"^(?P<base>(\d{4}\.\d{4,5})|([a-z-]+(\.[A-Z]{2})?/\d{7}))(?P<version>v\d+)?$")


def split_arxiv_id(arxiv_id: str) -> tuple[str, str | None]:
    """``'2604.23996v1'`` -> ``('2604.23996', 'v1')``; raises InputError for something else."""
    match = _VERSIONED_ID.match(arxiv_id.strip())
    if not match:
        raise InputError(f"not an arXiv identifier: {arxiv_id!r} (expected e.g. 2604.23996 or 2604.23996v1)")
    return match["base"], match["version"]


@dataclass(frozen=True)
class Paper:
    """One arXiv paper's metadata as the corpus (or the live API) gives it."""

    arxiv_id: str  # without version
    version: str | None
    title: str
    abstract: str
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    published: str | None = None
    record: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def versioned_id(self) -> str:
        return self.arxiv_id + (self.version or "")

    @property
    def url(self) -> str:
        return f"https://arxiv.org/abs/{self.versioned_id}"

    @property
    def digest(self) -> str:
        """SHA-256 over the RFC 8785 form of the metadata record this paper was read from."""
        return sha256_json(self.record or self.as_record())

    def as_record(self) -> dict:
        return {
            "id": self.versioned_id,
            "title": self.title,
            "authors": list(self.authors),
            "abstract": self.abstract,
            "categories": list(self.categories),
            "published": self.published,
        }

    @classmethod
    def from_record(cls, record: dict) -> "Paper":
        base, version = split_arxiv_id(record["id"])
        return cls(
            arxiv_id=base,
            version=version,
            title=record["title"],
            abstract=record["abstract"],
            authors=tuple(record.get("authors") or ()),
            categories=tuple(record.get("categories") or ()),
            published=record.get("published"),
            record=record,
        )


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


class Corpus:
    """An in-memory list of papers with lookups by id, title and abstract prefix."""

    def __init__(self, papers: list[Paper]):
        self.papers = papers
        self._by_id = {p.arxiv_id: p for p in papers}

    @classmethod
    def from_jsonl(cls, path: Path) -> "Corpus":
        papers = []
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    papers.append(Paper.from_record(json.loads(line)))
                except (json.JSONDecodeError, KeyError, InputError) as exc:
                    raise InputError(f"{path}:{number}: not a corpus record ({exc})") from exc
        return cls(papers)

    def get(self, arxiv_id: str) -> Paper | None:
        base, _ = split_arxiv_id(arxiv_id)
        return self._by_id.get(base)

    def find_by_title(self, title: str) -> Paper | None:
        wanted = _normalise(title)
        return next((p for p in self.papers if _normalise(p.title) == wanted), None)

    def find_by_abstract_prefix(self, text: str, minimum: int = 80) -> Paper | None:
        """The paper whose abstract starts with ``text`` (a truncated copy), if it is long enough to be sure."""
        wanted = _normalise(text)
        if len(wanted) < minimum:
            return None
        matches = [p for p in self.papers if _normalise(p.abstract).startswith(wanted)]
        return matches[0] if len(matches) == 1 else None


@lru_cache(maxsize=1)
def shipped_corpus() -> Corpus:
    """The 36-record corpus inside the package (see generator/data/ARXIV_CORPUS_SOURCE.md)."""
    path = resources.files("generator") / "data" / "arxiv_corpus.jsonl"
    with resources.as_file(path) as real:
        return Corpus.from_jsonl(real)
