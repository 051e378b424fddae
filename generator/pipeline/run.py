"""`sovereign-publish run`: question + target paper -> one record, through every pipeline stage.

Stages: resolve the target paper, search (derived queries), extract and select the claims that answer
the question (from the abstract, or the full text), index the independent sources and verify every
claim against them, state uncertainties, tribunal (a revision round gathers new evidence), policy,
report; then compose the record with ``compose_record`` and publish it with ``publish_version`` (a rerun that differs becomes a new version).

Which implementation serves each stage is decided once, from the configuration, by the ``make_*``
factories; the run itself only composes the stages through their small interfaces
(``generator.pipeline.stages``, ``tribunal.Reviewer``). Every network and model call happens before
anything is written, and the record folder is written atomically, so an error at any stage leaves the
records folder as it was. Times come from ``generator.clock``, so the same inputs under the same
SOURCE_DATE_EPOCH give a byte-identical record.
"""

from __future__ import annotations

import json
import threading
from contextlib import ExitStack
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

from generator import clock
from generator.corpus import Corpus, Paper, shipped_corpus, split_arxiv_id
from generator.digests import canonical_json
from generator.errors import InputError
from generator.pipeline.chat import ChatClient
from generator.pipeline.claims import CLAIM_RULE, CheckedClaim, extract_claims, select_claims, split_sentences
from generator.pipeline.config import PipelineConfig
from generator.pipeline.embeddings import HashingEmbeddings, NimEmbeddings
from generator.pipeline.evidence import Evidence
from generator.pipeline.fulltext import AbstractText, ArxivHtmlText, TargetText
from generator.pipeline.policy import PolicyDecision, PolicyFacts, decide
from generator.pipeline.progress import NullProgress, Progress
from generator.pipeline.report import (REPORT_FILE, REPORT_MEDIA_TYPE, ReportData, measurement_summary, render_report,
                                      results_line)
from generator.pipeline.retry import RetryPolicy
from generator.pipeline.search import ArxivApiSearch, CorpusSearch, derive_queries, run_queries
from generator.pipeline.stages import Embedder, SearchBackend, TargetTextSource, Verifier
from generator.pipeline.tribunal import TRIBUNAL_VERSION, Draft, LlmReviewer, OfflineReviewer, Reviewer, TribunalResult, run_tribunal
from generator.pipeline.verification import make_verifier
from generator.records import rules
from generator.records.compose import Artifact, SourceRef, Synthesis, compose_record
from generator.records.store import publish_version

ORIGIN_FILE = "pipeline"
PARAMETERS_SOURCE = "Pipeline configuration of this run."


@dataclass(frozen=True)
class RunResult:
    record_id: str
    folder: Path
    written: bool
    papers_retrieved: int
    claims_extracted: int
    claims_verified: int
    score: float
    verdict: str
    revision_round: int
    decision: str
    policy_rule: str
    claims: tuple[CheckedClaim, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)
    tribunal: TribunalResult | None = field(default=None, compare=False, repr=False)  # every round, for benchmarks

    @property
    def review_line(self) -> str:
        """The kernel's results sentence for this run."""
        return results_line(self.papers_retrieved, self.claims_extracted, self.claims_verified, self.score, self.verdict,
                            self.revision_round, self.decision)

    def summary(self) -> dict:
        """The machine summary `run --json` prints."""
        return {
            "record_id": self.record_id,
            "folder": str(self.folder),
            "written": self.written,
            "papers_retrieved": self.papers_retrieved,
            "claims_extracted": self.claims_extracted,
            "claims_verified": self.claims_verified,
            "review": {"score": self.score, "verdict": self.verdict, "revision_round": self.revision_round},
            "policy": {"decision": self.decision, "rule": self.policy_rule},
        }


# ---------------------------------------------------------------------------------------------------
# The stages, chosen once from the configuration


class _TimedSearch:
    """Wraps a search backend to note when each paper was first retrieved (clock time, so reproducible)."""

    def __init__(self, backend):
        self.backend = backend
        self.retrieved_at: dict[str, str] = {}
        self._lock = threading.Lock()

    def search(self, query: str, max_results: int) -> list[Paper]:
        papers = self.backend.search(query, max_results)
        stamp = clock.now_iso()
        with self._lock:
            for paper in papers:
                known = self.retrieved_at.get(paper.arxiv_id)
                if known is None or stamp < known:
                    self.retrieved_at[paper.arxiv_id] = stamp
        return papers


def make_search_backend(config: PipelineConfig, corpus: Corpus) -> SearchBackend:
    s = config.search
    if s.backend == "offline":
        return CorpusSearch(corpus)
    a = s.arxiv
    return ArxivApiSearch(
        base_url=a.base_url,
        delay_seconds=a.delay_seconds,
        page_size=a.page_size,
        timeout=a.timeout_seconds,
        retry=RetryPolicy(max_retries=a.max_retries, backoff_base=a.backoff_seconds,
                          backoff_max=max(60.0, a.backoff_seconds)),
        empty_page_retries=a.empty_page_retries,
        cache_path=Path(a.cache_path) if a.cache_path else None,
    )


def uses_full_text(config: PipelineConfig) -> bool:
    """``claims.source``: auto reads the full text when the search is live (offline has only abstracts)."""
    source = config.claims.source
    return source == "full-text" or (source == "auto" and config.search.backend == "arxiv")


def make_text_source(config: PipelineConfig) -> TargetTextSource:
    if not uses_full_text(config):
        return AbstractText()
    f = config.claims.full_text
    return ArxivHtmlText(base_url=f.base_url, delay=f.delay_seconds, timeout=f.timeout_seconds,
                         retry=RetryPolicy(max_retries=f.max_retries, backoff_base=f.backoff_seconds,
                                           backoff_max=max(60.0, f.backoff_seconds)),
                         max_body_bytes=f.max_body_bytes, cache_dir=Path(f.cache_path) if f.cache_path else None,
                         on_failure=f.on_failure)


def make_embeddings(config: PipelineConfig) -> Embedder:
    e = config.embedding
    if e.backend == "local":
        return HashingEmbeddings(dimension=e.dimension)
    return NimEmbeddings(base_url=e.base_url, model=e.model, dimension=e.dimension, api_key_env=e.api_key_env,
                         timeout=e.timeout_seconds, max_retries=e.max_retries, backoff_base=e.backoff_seconds,
                         backoff_max=max(30.0, e.backoff_seconds))


def make_verifier_from(config: PipelineConfig) -> Verifier:
    v = config.verification
    return make_verifier(v.verifier, **({"threshold": v.threshold} if v.threshold is not None else {}))


def _safe_endpoint(url: str) -> str:
    """scheme://host[:port]/path of an endpoint, without any user info or query (which might hold a key)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return f"{parts.scheme}://{host}{parts.path}".rstrip("/")


def make_reviewer(config: PipelineConfig) -> tuple[Reviewer, str]:
    """The reviewer and how the record names it."""
    t = config.tribunal
    if t.backend == "offline":
        reviewer = OfflineReviewer()
        return reviewer, reviewer.description
    client = ChatClient(t.base_url, t.model, api_key_env=t.api_key_env, timeout=t.timeout_seconds,
                        max_retries=t.max_retries, backoff_base=t.backoff_seconds,
                        backoff_max=max(30.0, t.backoff_seconds))
    reviewer = LlmReviewer(client, temperature=t.temperature)
    return reviewer, f"{reviewer.description} at {_safe_endpoint(t.base_url)}"


@dataclass
class Stages:
    """One implementation per stage; ``close`` closes each (in reverse order of creation)."""

    search: SearchBackend
    text: TargetTextSource
    embedder: Embedder
    verifier: Verifier
    reviewer: Reviewer
    reviewer_description: str

    @classmethod
    def from_config(cls, config: PipelineConfig, corpus: Corpus) -> "Stages":
        reviewer, description = make_reviewer(config)
        return cls(make_search_backend(config, corpus), make_text_source(config), make_embeddings(config),
                   make_verifier_from(config), reviewer, description)

    def close(self) -> None:
        for stage in (self.reviewer, self.embedder, self.text, self.search):
            stage.close()


def resolve_target(paper_id: str, corpus: Corpus, backend: SearchBackend) -> Paper:
    """The target's metadata: from the shipped corpus when it is there, else from the backend by id."""
    base, version = split_arxiv_id(paper_id)
    paper = corpus.get(base) or backend.lookup(base)
    if paper is None:
        raise InputError(f"paper {paper_id} was not found in {backend.not_found_hint}")
    if version and paper.version and version != paper.version:
        raise InputError(f"paper {paper_id} was asked for, but the available metadata is version "
                         f"{paper.versioned_id}; ask for {paper.versioned_id} or {base}")
    return paper


# ---------------------------------------------------------------------------------------------------
# What the record says about the run


def load_verifier_measurement(settings: dict) -> dict | None:
    """The shipped SciFact measurement of exactly these verifier settings, if there is one."""
    try:
        data = json.loads((resources.files("generator") / "data" / "verifier_eval.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, OSError, ValueError):
        return None
    for entry in data.get("verifiers", []):
        if entry.get("settings") == settings:
            return {**entry, "dataset": data.get("dataset", "SciFact"), "split": data.get("split", "train"),
                    "tasks": data.get("tasks"), "reference": data.get("reference")}
    return None


def verification_provenance(settings: dict, config: PipelineConfig) -> dict:
    named = {key: settings[key] for key in ("method", "analyzer", "ngram_range", "threshold")}
    parameters = {key: value for key, value in settings.items() if key not in named}
    parameters["sources"] = "retrieved papers other than the target (title and abstract), nearest by embedding first"
    parameters["max_sources_per_claim"] = config.verification.max_sources_per_claim
    return {**named, "parameters": parameters}


@dataclass(frozen=True)
class ClaimSelection:
    """The claims stage's outcome: the text read, how many sentences and candidates it had, the claims kept."""

    text: TargetText
    sentences: int
    candidates: int
    claims: tuple


def select_for(question: str, text: TargetText, max_claims: int) -> ClaimSelection:
    sentences = [s for _, body in text.sections for s in split_sentences(body)]
    candidates = extract_claims(text.sections)
    claims = select_claims(candidates, question, sentences, max_claims)
    return ClaimSelection(text, len(sentences), len(candidates), tuple(claims))


def state_uncertainties(config: PipelineConfig, *, verifier: Verifier, measurement: dict | None,
                        selection: ClaimSelection, verified: int, corpus_size: int, embedding_model: str) -> list[str]:
    """The limitations the report states, each by a fixed rule (see docs/pipeline.md)."""
    out = []
    method = verifier.settings.method
    if method == "tfidf-cosine":
        out.append("TF-IDF verification is a weak signal: it measures shared words and bigrams, not whether a "
                   "source supports the claim.")
    elif method == "coverage-stance":
        out.append("coverage-stance verification reads shared words and lexical cues of agreement (negation, increase "
                   "or decrease, antonyms, numbers), not meaning; its stance model was trained on biomedical abstracts.")
    elif method == "stance-lr":
        out.append("stance-lr verification reads shared words and lexical cues of agreement (negation, increase or "
                   "decrease, antonyms, numbers), not meaning; it was trained on biomedical abstracts.")
    else:
        out.append(f"{method} verification measures shared words, not whether a source supports the claim.")
    if measurement:
        out.append(measurement_summary(measurement))
    else:
        out.append(f"The accuracy of the {method} verifier at these settings has not been measured.")
    if config.search.backend == "offline":
        out.append(f"Search ran over the offline corpus of {corpus_size} arXiv records shipped with the tool, not the "
                   "live arXiv index; relevant papers outside it were not seen.")
    else:
        out.append("arXiv Relevance ranking is query-dependent.")
    claims = len(selection.claims)
    if selection.text.note:
        out.append(selection.text.note)
    if selection.text.origin == "abstract":
        out.append(f"Claims were selected from the target paper's abstract only ({selection.sentences} sentences, "
                   f"{selection.candidates} candidates, {claims} kept) by shared words with the question; results "
                   "stated only in the full text are missing.")
    else:
        out.append(f"Claims were selected from the target paper's full text ({len(selection.text.sections)} sections, "
                   f"{selection.sentences} sentences, {selection.candidates} candidates, {claims} kept) by shared "
                   "words with the question, not by meaning.")
    if selection.candidates and not claims:
        out.append("No candidate claim of the target's text shares a term with the research question.")
    if claims and verified == 0:
        out.append("No selected claim was verified by an independent retrieved source.")
    if config.embedding.backend == "local":
        out.append("The semantic index uses hashed word n-grams (local), which match words, not meaning.")
    else:
        out.append(f"The semantic index depends on the NIM model {embedding_model}; NIM latency and availability vary.")
    if config.tribunal.backend == "offline":
        out.append("Tribunal scores are computed by fixed formulas from the claims' verification labels, scores, "
                   "agreeing sources and question relevance, not by reading the paper.")
    else:
        out.append("Tribunal consensus is LLM-based and prompt-sensitive.")
    return out


@dataclass(frozen=True)
class Findings:
    """Everything the record states about one run."""

    question: str
    paper_id: str
    config: PipelineConfig
    target: Paper
    target_at: str
    papers: tuple[Paper, ...]
    retrieved_at: dict
    queries: tuple[str, ...]
    service: str
    selection: ClaimSelection
    tribunal: TribunalResult
    tribunal_backend: str
    policy: PolicyDecision
    settings: dict
    measurement: dict | None  # the shipped SciFact figures of exactly this verifier, if any
    embedder: Embedder

    @property
    def claims(self) -> tuple[CheckedClaim, ...]:
        return self.tribunal.draft.claims


def pipeline_provenance(f: Findings) -> dict:
    c = f.config
    return {
        "parameters_source": PARAMETERS_SOURCE,
        "search": {"service": f.service, "query_count": len(f.queries), "queries": list(f.queries), "sort": "relevance",
                   "max_results_per_query": c.search.max_results_per_query},
        "verification": verification_provenance(f.settings, c),
        "embedding": {"provider": f.embedder.provider, "model": f.embedder.model, "dimension": f.embedder.dimension},
        "tribunal": {"version": TRIBUNAL_VERSION, "roles": list(rules.TRIBUNAL_ROLES),
                     "revision_threshold": c.tribunal.revision_threshold, "backend": f.tribunal_backend},
    }


def methodology(f: Findings) -> tuple[str, ...]:
    c, s, sel = f.config, f.settings, f.selection
    text = (f"the target's full text ({f.selection.text.url})" if sel.text.origin == "full text"
            else "the target's abstract")
    return (
        f"Multi-query arXiv search ({len(f.queries)} parallel queries, Relevance-sorted, up to "
        f"{c.search.max_results_per_query} results each) over the {f.service}; the target paper is excluded "
        "from the evidence.",
        f"Claims selected from {text} by {CLAIM_RULE} ({sel.sentences} sentences, {sel.candidates} candidates): "
        f"ranked by the share of the question's terms they contain, stated results first, best {c.claims.max_claims} kept."
        + (f" {sel.text.note}" if sel.text.note else ""),
        f"{s['method']} verification (analyzer {s['analyzer']}, n-grams "
        f"{s['ngram_range'][0]}-{s['ngram_range'][1]}, threshold={s['threshold']:g}) against "
        "independent sources, counting the sources that each verify a claim on their own.",
        f"{'NIM' if f.embedder.provider == 'NVIDIA NIM' else 'Local hashing'} {f.embedder.model} "
        f"(dim={f.embedder.dimension}) for semantic indexing: each claim is compared "
        "with its nearest sources first, and the question's nearest sources measure relevance.",
        f"Tribunal {TRIBUNAL_VERSION}: 3-role parallel review (SKEPTIC/VALIDATOR/SYNTHESIZER) by the "
        f"{f.tribunal_backend}, with revision round if score < {c.tribunal.revision_threshold:g} "
        f"and at least {c.tribunal.reject_below:g}; a revision re-verifies unsupported claims against new "
        "sources and narrower clauses, and withdrawn claims still count.",
    )


def synthesis_of(f: Findings) -> Synthesis:
    claims = f.claims
    cited = list(dict.fromkeys(c.best_source for c in claims if c.best_source and c.best_score > 0))
    cited_bases = {split_arxiv_id(v)[0] for v in cited}
    sources = [SourceRef(f.target.arxiv_id, f.target.version, "target", f.target, f.target_at)]
    for paper in f.papers:
        if paper.arxiv_id == f.target.arxiv_id:
            continue
        role = "cited" if paper.arxiv_id in cited_bases else "retrieved"
        sources.append(SourceRef(paper.arxiv_id, paper.version, role, paper, f.retrieved_at.get(paper.arxiv_id)))
    references = [s for s in sources if s.role == "target"] + sorted(
        (s for s in sources if s.role == "cited"), key=lambda s: cited.index(s.paper.versioned_id))
    now = clock.now()
    t = f.tribunal
    report = render_report(ReportData(
        question=f.question, target=f.target, drafted=now, methodology=methodology(f), queries=f.queries,
        papers_retrieved=len(f.papers), claims=claims, verifier=f.settings["method"], threshold=f.settings["threshold"],
        tribunal=t, policy=f.policy, uncertainties=t.draft.uncertainties, references=tuple(references),
        measurement=f.measurement,
    ))
    inputs = {"question": f.question, "paper": f.paper_id, "config": f.config.as_dict()}
    return Synthesis(
        research_question=f.question,
        target=f.target,
        origin_format="pipeline-run",
        origin_file=ORIGIN_FILE,
        origin_bytes=canonical_json(inputs),
        drafted=now.date().isoformat(),
        claims_extracted=len(claims),
        claims_source_grounded=len(claims),
        claims_verified=sum(1 for c in claims if c.verified),
        claim_confidences=[c.confidence for c in claims],
        papers_retrieved=len(f.papers),
        sources=sources,
        review_score=t.score,
        review_verdict=t.verdict,
        revision_round=t.revision_round,
        policy_decision=f.policy.decision,
        policy_basis=f.policy.basis,
        uncertainties=list(t.draft.uncertainties),
        pipeline=pipeline_provenance(f),
        verifier_measured=f.measurement is not None,
        claim_records_public=True,
        report=Artifact("report", REPORT_FILE, REPORT_MEDIA_TYPE, report),
    )


# ---------------------------------------------------------------------------------------------------
# The run


def run_pipeline(question: str, paper_id: str, config: PipelineConfig, records_dir: Path,
                 progress: Progress | None = None, *, corpus: Corpus | None = None,
                 stages: Stages | None = None) -> RunResult:
    progress = progress or NullProgress()
    question = " ".join(question.split())
    if not question:
        raise InputError("the research question is empty")
    paper_id = paper_id.strip()
    split_arxiv_id(paper_id)
    corpus = corpus if corpus is not None else shipped_corpus()

    with ExitStack() as stack:
        stages = stages or Stages.from_config(config, corpus)
        stack.callback(stages.close)
        findings = _investigate(question, paper_id, config, corpus, stages, progress)

    progress.start("report", REPORT_FILE)
    synthesis = synthesis_of(findings)
    files = compose_record(synthesis)
    progress.done("report", ", ".join(sorted(files)))

    progress.start("write", str(records_dir))
    published = publish_version(records_dir, synthesis)  # a rerun that differs becomes a new version
    record_id, folder, written = published.record_id, published.folder, published.written
    version = f"; a new version of {published.new_version_of}" if published.new_version_of else ""
    progress.done("write", f"{record_id} {folder} ({'written' if written else 'already published, unchanged'}{version})")

    claims = findings.claims
    t = findings.tribunal
    return RunResult(
        record_id=record_id, folder=folder, written=written, papers_retrieved=len(findings.papers),
        claims_extracted=len(claims), claims_verified=sum(1 for c in claims if c.verified), score=t.score,
        verdict=t.verdict, revision_round=t.revision_round, decision=findings.policy.decision,
        policy_rule=findings.policy.rule, claims=claims, timings=dict(getattr(progress, "timings", {})), tribunal=t,
    )


def _investigate(question: str, paper_id: str, config: PipelineConfig, corpus: Corpus, stages: Stages,
                 progress: Progress) -> Findings:
    """Every stage up to the policy decision: all network and model work of the run."""
    progress.start("target", paper_id)
    target = resolve_target(paper_id, corpus, stages.search)
    target_at = clock.now_iso()
    progress.done("target", f"{target.versioned_id} {target.title}")

    queries = derive_queries(question, target, n=config.search.query_count)
    progress.start("search", f"{len(queries)} queries via {stages.search.description}")
    timed = _TimedSearch(stages.search)
    papers = run_queries(timed, queries, config.search.max_results_per_query)
    independent = sum(1 for p in papers if p.arxiv_id != target.arxiv_id)
    progress.done("search", f"{len(papers)} papers retrieved ({independent} independent of the target)")

    progress.start("claims", stages.text.description)
    selection = select_for(question, stages.text.text_of(target), config.claims.max_claims)
    progress.done("claims", f"{len(selection.claims)} claims kept of {selection.candidates} candidates in "
                            f"{selection.sentences} sentences of the {selection.text.origin}")

    embedder = stages.embedder
    progress.start("index", f"{independent} sources with {embedder.model}")
    evidence = Evidence(target, papers, embedder=embedder, verifier=stages.verifier, search=timed,
                        max_sources_per_claim=config.verification.max_sources_per_claim,
                        revision_queries=config.tribunal.revision_queries_per_claim,
                        max_results_per_query=config.search.max_results_per_query)
    relevance = evidence.question_relevance(question)
    progress.done("index", f"{len(evidence.index)} passages, {embedder.provider} embeddings {embedder.model} "
                           f"(dimension {embedder.dimension})")

    verifier = stages.verifier
    progress.start("verify", f"{len(selection.claims)} claims with {verifier.settings.method}")
    checked = evidence.check_all(selection.claims)
    verified = sum(1 for c in checked if c.verified)
    settings = verifier.settings.as_provenance()
    measurement = load_verifier_measurement(settings)
    progress.done("verify", f"{verified} of {len(checked)} claims verified (threshold {evidence.threshold:g})")

    uncertainties = state_uncertainties(config, verifier=verifier, measurement=measurement, selection=selection,
                                        verified=verified, corpus_size=len(corpus.papers), embedding_model=embedder.model)
    t = config.tribunal
    progress.start("tribunal", stages.reviewer_description)
    draft = Draft(question=question, target=target, claims=checked, independent_sources=len(evidence.independent),
                  question_relevance=relevance, uncertainties=tuple(uncertainties), source_texts=evidence.source_texts)
    tribunal = run_tribunal(draft, stages.reviewer, revision_threshold=t.revision_threshold, reject_below=t.reject_below,
                            max_revision_rounds=t.max_revision_rounds, revision_min_confidence=t.revision_min_confidence,
                            evidence=evidence)
    progress.done("tribunal", f"{tribunal.score:.1f}/10 → {tribunal.verdict} (revision_round={tribunal.revision_round})")

    final = tribunal.draft.claims
    progress.start("policy", ", ".join(config.policy.rules))
    policy = decide(PolicyFacts(tribunal.verdict, len(final), sum(1 for c in final if c.verified),
                                sum(1 for c in final if c.contradicted)), config.policy)
    progress.done("policy", f"{policy.decision} (rule {policy.rule})")

    return Findings(question=question, paper_id=paper_id, config=config, target=target, target_at=target_at,
                    papers=tuple(evidence.papers), retrieved_at=dict(timed.retrieved_at), queries=tuple(queries),
                    service=stages.search.description, selection=selection, tribunal=tribunal,
                    tribunal_backend=stages.reviewer_description, policy=policy, settings=settings,
                    measurement=measurement, embedder=embedder)
