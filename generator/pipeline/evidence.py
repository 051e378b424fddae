"""The independent evidence of a run: sources other than the target, indexed and verified against.

``Evidence`` holds the retrieved papers (the target is never evidence for its own claims), their
passages (title and abstract) in the semantic index, and the verifier fitted on them. It checks each
claim against its nearest sources first (``max_sources_per_claim`` of them, or all), and counts how
many distinct sources each verify the claim on their own: after the best source, the claim is
verified again without it, and so on, up to ``AGREEMENT_CAP`` sources.

In a tribunal revision round it is the ``EvidenceRecheck``: for each claim not yet supported it runs
new searches from the claim's own words (``derive_queries`` on the claim text), adds the new papers,
and re-verifies the claim against every source, and its narrower clause (``claims.narrow``) too; the
narrower claim is kept only when it is better supported. Nothing else changes a claim.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import replace

from generator.corpus import Paper
from generator.errors import InputError
from generator.pipeline.claims import AGREEMENT_CAP, CheckedClaim, Claim, narrow, published_confidence, support_of
from generator.pipeline.embeddings import SemanticIndex
from generator.pipeline.search import derive_queries, run_queries
from generator.pipeline.stages import Embedder, SearchBackend, Verifier
from generator.pipeline.tribunal import Draft, Recheck
from generator.pipeline.verification import SUPPORT, Verification

QUESTION_NEIGHBOURS = 3


def passage(paper: Paper) -> str:
    """What a source contributes as evidence: its title and abstract."""
    return f"{paper.title}. {paper.abstract}"


class Evidence:
    def __init__(self, target: Paper, papers: Sequence[Paper], *, embedder: Embedder, verifier: Verifier,
                 search: SearchBackend, max_sources_per_claim: int | None = None, revision_queries: int = 2,
                 max_results_per_query: int = 10):
        self.target = target
        self.papers: list[Paper] = []
        self.index = SemanticIndex(embedder)
        self.verifier = verifier
        self.search = search
        self.max_sources_per_claim = max_sources_per_claim
        self.revision_queries = revision_queries
        self.max_results_per_query = max_results_per_query
        self._texts: dict[str, str] = {}
        self.add(papers)

    @property
    def threshold(self) -> float:
        return self.verifier.settings.threshold

    @property
    def independent(self) -> list[Paper]:
        return [p for p in self.papers if p.arxiv_id != self.target.arxiv_id]

    @property
    def source_texts(self) -> tuple[tuple[str, str], ...]:
        return tuple(self._texts.items())

    def add(self, papers: Sequence[Paper]) -> int:
        """Add the papers not yet known (by arXiv id); index the independent ones; refit the verifier. Returns how many were new."""
        known = {p.arxiv_id for p in self.papers}
        new = [p for p in papers if p.arxiv_id not in known]
        self.papers += new
        fresh = [p for p in new if p.arxiv_id != self.target.arxiv_id]
        self.index.add([p.versioned_id for p in fresh], [passage(p) for p in fresh])
        self._texts.update((p.versioned_id, passage(p)) for p in fresh)
        self.verifier.fit([passage(p) for p in self.papers])
        return len(fresh)

    def question_relevance(self, question: str) -> float:
        """Mean cosine of the question to its nearest sources in the semantic index (0 without sources)."""
        neighbours = self.index.query(question, k=QUESTION_NEIGHBOURS)
        return statistics.fmean(score for _, score in neighbours) if neighbours else 0.0

    def check(self, claim: Claim, *, limit: int | None = None, revision_round: int = 0) -> CheckedClaim:
        """Verify ``claim`` against its nearest sources (``limit`` of them; None: all)."""
        ranking = self.index.query(claim.text, k=len(self.index))
        order = [doc_id for doc_id, _ in ranking][: limit if limit is not None else None]
        sources = [(doc_id, self._texts[doc_id]) for doc_id in order]
        verdict = self.verifier.verify(claim.text, sources)
        nearest, similarity = ranking[0] if ranking else (None, 0.0)
        return CheckedClaim(
            claim=claim, verified=verdict.verified, best_source=verdict.best_source,
            best_score=verdict.best_score, nearest_source=nearest, nearest_similarity=similarity,
            support=support_of(verdict.best_score, self.threshold),
            confidence=published_confidence(claim, verdict.best_score, self.threshold), label=verdict.label,
            contradicted_by=verdict.contradicted_by, contradiction_score=verdict.contradiction_score,
            agreeing_sources=self._agreeing(claim.text, sources, verdict), sources_compared=len(sources),
            revision_round=revision_round,
        )

    def _agreeing(self, text: str, sources: list[tuple[str, str]], verdict: Verification) -> int:
        count = 0
        while verdict.label == SUPPORT and count < AGREEMENT_CAP:
            count += 1
            sources = [s for s in sources if s[0] != verdict.best_source]
            if not sources:
                break
            verdict = self.verifier.verify(text, sources)
        return count

    def check_all(self, claims: Sequence[Claim]) -> tuple[CheckedClaim, ...]:
        return tuple(self.check(c, limit=self.max_sources_per_claim) for c in claims)

    # -- EvidenceRecheck -------------------------------------------------------------------------

    def recheck(self, draft: Draft, revision_round: int) -> Recheck:
        """New evidence for the unsupported claims: more sources, every source, a narrower claim."""
        open_claims = [c for c in draft.claims if not c.verified and not c.withdrawn]
        queries: list[str] = []
        for c in open_claims:
            try:
                found = derive_queries(c.text, self.target, n=self.revision_queries)
            except InputError:  # a claim without key phrases gives no query; it is still re-verified
                found = []
            queries += [q for q in found if q not in queries]
        new = self.add(run_queries(self.search, queries, self.max_results_per_query)) if queries else 0
        rechecked, changed, narrowed = [], 0, 0
        for c in draft.claims:
            if c.verified or c.withdrawn:
                rechecked.append(c)
                continue
            best = self.check(c.claim, revision_round=revision_round)
            narrower = narrow(c.claim)
            if narrower is not None:
                candidate = self.check(narrower, revision_round=revision_round)
                if (candidate.verified, candidate.support) > (best.verified, best.support):
                    best, narrowed = candidate, narrowed + 1
            if (best.label, best.best_source, best.best_score) != (c.label, c.best_source, c.best_score):
                changed += 1
            rechecked.append(replace(best, withdrawn=c.withdrawn))
        now_supported = sum(1 for c in rechecked if c.verified) - sum(1 for c in draft.claims if c.verified)
        summary = (f"{len(open_claims)} unsupported claim{'s' if len(open_claims) != 1 else ''} re-verified against all "
                   f"{len(self.index)} independent sources, {new} of them new from {len(queries)} searches on the claims' "
                   f"own words; {narrowed} narrowed to the clause stating the result; {now_supported} now supported, "
                   f"{changed} with changed evidence.")
        return Recheck(tuple(rechecked), len(self.independent), self.source_texts, summary)
