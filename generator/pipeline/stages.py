"""The small interfaces the run composes: one Protocol per stage, so ``run.py`` never looks inside a stage.

Each stage says what it is (``description``, for the record), does its one job, and has ``close``
(a no-op offline; live stages close their HTTP clients). Which class implements a stage is decided
once, from the configuration, by the ``make_*`` factories in ``generator.pipeline.run``.
"""

from __future__ import annotations

from typing import Protocol, Sequence

from generator.corpus import Paper
from generator.pipeline.fulltext import TargetText
from generator.pipeline.verification import Verification, VerifierSettings


class SearchBackend(Protocol):
    """Turns one query into papers, best first; looks a paper up by id."""

    description: str  # "arXiv API", "offline arXiv corpus (36 records ...)"
    not_found_hint: str  # completes "paper X was not found in ..."

    def search(self, query: str, max_results: int) -> list[Paper]: ...

    def lookup(self, base_id: str) -> Paper | None: ...

    def close(self) -> None: ...


class TargetTextSource(Protocol):
    """The target paper's text claims are extracted from."""

    description: str

    def text_of(self, paper: Paper) -> TargetText: ...

    def close(self) -> None: ...


class Embedder(Protocol):
    """Turns texts into vectors of length ``dimension``; ``provider`` and ``model`` name it in the record."""

    provider: str
    model: str
    dimension: int

    def embed(self, texts: list[str], input_type: str) -> list[list[float]]: ...

    def close(self) -> None: ...


class Verifier(Protocol):
    """Scores a claim against sources; ``fit`` learns from the background texts (a no-op where it has nothing to learn)."""

    name: str
    settings: VerifierSettings

    def fit(self, texts: Sequence[str]) -> object: ...

    def verify(self, claim: str, sources: Sequence[tuple[str, str]]) -> Verification: ...
