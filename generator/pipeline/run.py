"""`sovereign-publish run`: question + target paper -> one record, through every pipeline stage.

Stages: resolve the target paper, search (derived queries, offline corpus or arXiv API), extract
claims, embed the independent sources into the semantic index, verify every claim against them,
state uncertainties, tribunal (with at most the configured revision rounds), policy, report; then
compose the record with ``compose_record`` and publish it with ``write_new_record``.

Every network and model call happens before anything is written, and the record folder is written
atomically, so an error at any stage leaves the records folder as it was. Times come from
``generator.clock``, so the same inputs under the same SOURCE_DATE_EPOCH give a byte-identical record.
"""

from __future__ import annotations

import json
import statistics
import threading
from contextlib import ExitStack
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

import arxiv

from generator import clock
from generator.corpus import Corpus, Paper, shipped_corpus, split_arxiv_id
from generator.digests import canonical_json
from generator.errors import InputError
from generator.pipeline.chat import ChatClient
from generator.pipeline.claims import CheckedClaim, extract_claims, published_confidence, split_sentences, support_of
from generator.pipeline.config import PipelineConfig
from generator.pipeline.embeddings import HashingEmbeddings, NimEmbeddings, SemanticIndex
from generator.pipeline.policy import PolicyDecision, PolicyFacts, decide
from generator.pipeline.progress import NullProgress, Progress
from generator.pipeline.report import (REPORT_FILE, REPORT_MEDIA_TYPE, ReportData, measurement_summary, render_report,
                                      results_line)
from generator.pipeline.retry import RetryPolicy
from generator.pipeline.search import ArxivApiSearch, CorpusSearch, SearchError, derive_queries, paper_from_result, run_queries
from generator.pipeline.tribunal import TRIBUNAL_VERSION, Draft, LlmReviewer, OfflineReviewer, Reviewer, TribunalResult, run_tribunal
from generator.pipeline.verification import Verifier, make_verifier
from generator.records import rules
from generator.records.layout import MANIFEST_FILE
from generator.records.compose import Artifact, SourceRef, Synthesis, compose_record
from generator.records.store import write_new_record

ORIGIN_FILE = "pipeline"
PARAMETERS_SOURCE = "Pipeline configuration of this run."
QUESTION_NEIGHBOURS = 3


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
# Stage helpers


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


def make_search_backend(config: PipelineConfig, corpus: Corpus):
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


def search_service(config: PipelineConfig, corpus: Corpus) -> str:
    if config.search.backend == "offline":
        return f"offline arXiv corpus ({len(corpus.papers)} records shipped with sovereign-publish)"
    return "arXiv API"


def _lookup_live(backend: ArxivApiSearch, base_id: str) -> Paper | None:
    try:
        results = list(backend.client.results(arxiv.Search(id_list=[base_id], max_results=1)))
    except arxiv.UnexpectedEmptyPageError:
        return None
    except arxiv.HTTPError as exc:
        raise SearchError(f"arXiv answered HTTP {exc.status} looking up {base_id}", url=exc.url, status=exc.status) from exc
    for result in results:
        paper = paper_from_result(result)
        if paper.arxiv_id == base_id:
            return paper
    return None


def resolve_target(paper_id: str, corpus: Corpus, backend) -> Paper:
    """The target's metadata: from the shipped corpus when it is there, else (arxiv backend) from the API by id."""
    base, version = split_arxiv_id(paper_id)
    paper = corpus.get(base)
    if paper is None and isinstance(backend, ArxivApiSearch):
        paper = _lookup_live(backend, base)
    if paper is None:
        where = "the arXiv API" if isinstance(backend, ArxivApiSearch) else (
            f"the offline arXiv corpus ({len(corpus.papers)} records); use the arxiv search backend "
            "(--set search.backend=arxiv) to look it up live")
        raise InputError(f"paper {paper_id} was not found in {where}")
    if version and paper.version and version != paper.version:
        raise InputError(f"paper {paper_id} was asked for, but the available metadata is version "
                         f"{paper.versioned_id}; ask for {paper.versioned_id} or {base}")
    return paper


def passage(paper: Paper) -> str:
    """What a source contributes as evidence: its title and abstract."""
    return f"{paper.title}. {paper.abstract}"


def make_embeddings(config: PipelineConfig):
    e = config.embedding
    if e.backend == "local":
        return HashingEmbeddings(dimension=e.dimension), "local"
    return NimEmbeddings(base_url=e.base_url, model=e.model, dimension=e.dimension, api_key_env=e.api_key_env,
                         timeout=e.timeout_seconds, max_retries=e.max_retries, backoff_base=e.backoff_seconds,
                         backoff_max=max(30.0, e.backoff_seconds)), "NVIDIA NIM"


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


def make_reviewer(config: PipelineConfig) -> tuple[Reviewer, str, ChatClient | None]:
    t = config.tribunal
    if t.backend == "offline":
        reviewer = OfflineReviewer()
        return reviewer, reviewer.description, None
    client = ChatClient(t.base_url, t.model, api_key_env=t.api_key_env, timeout=t.timeout_seconds,
                        max_retries=t.max_retries, backoff_base=t.backoff_seconds,
                        backoff_max=max(30.0, t.backoff_seconds))
    reviewer = LlmReviewer(client, temperature=t.temperature)
    return reviewer, f"{reviewer.description} at {_safe_endpoint(t.base_url)}", client


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


def state_uncertainties(config: PipelineConfig, *, verifier: Verifier, measurement: dict | None, sentences: int,
                        claims: int, verified: int, corpus_size: int, embedding_model: str) -> list[str]:
    """The limitations the report states, each by a fixed rule (see docs/pipeline.md)."""
    out = []
    method = verifier.settings.method
    if method == "tfidf-cosine":
        out.append("TF-IDF verification is a weak signal: it measures shared words and bigrams, not whether a "
                   "source supports the claim.")
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
    out.append(f"Claims were extracted from the target paper's abstract only ({sentences} sentences, {claims} claims) "
               "by a keyword rule; results stated only in the full text are missing.")
    if claims and verified == 0:
        out.append("No extracted claim was verified by an independent retrieved source.")
    if config.embedding.backend == "local":
        out.append("The semantic index uses hashed word n-grams (local), which match words, not meaning.")
    else:
        out.append(f"The semantic index depends on the NIM model {embedding_model}; NIM latency and availability vary.")
    if config.tribunal.backend == "offline":
        out.append("Tribunal scores are computed from the evidence figures by fixed formulas, not by reading the paper.")
    else:
        out.append("Tribunal consensus is LLM-based and prompt-sensitive.")
    return out


# ---------------------------------------------------------------------------------------------------
# The run


def run_pipeline(question: str, paper_id: str, config: PipelineConfig, records_dir: Path,
                 progress: Progress | None = None, *, corpus: Corpus | None = None) -> RunResult:
    progress = progress or NullProgress()
    question = " ".join(question.split())
    if not question:
        raise InputError("the research question is empty")
    paper_id = paper_id.strip()
    split_arxiv_id(paper_id)
    corpus = corpus if corpus is not None else shipped_corpus()

    with ExitStack() as stack:
        backend = make_search_backend(config, corpus)
        if isinstance(backend, ArxivApiSearch):
            stack.callback(backend.close)

        progress.start("target", paper_id)
        target = resolve_target(paper_id, corpus, backend)
        target_at = clock.now_iso()
        progress.done("target", f"{target.versioned_id} {target.title}")

        service = search_service(config, corpus)
        queries = derive_queries(question, target, n=config.search.query_count)
        progress.start("search", f"{len(queries)} queries via {service}")
        timed = _TimedSearch(backend)
        papers = run_queries(timed, queries, config.search.max_results_per_query)
        independent = [p for p in papers if p.arxiv_id != target.arxiv_id]
        progress.done("search", f"{len(papers)} papers retrieved ({len(independent)} independent of the target)")

        progress.start("claims", "abstract")
        sentences = split_sentences(target.abstract)
        claims = extract_claims([("abstract", target.abstract)])
        progress.done("claims", f"{len(claims)} claims from {len(sentences)} sentences of the abstract")

        embeddings, provider = make_embeddings(config)
        if isinstance(embeddings, NimEmbeddings):
            stack.callback(embeddings.close)
        progress.start("index", f"{len(independent)} sources with {embeddings.model}")
        index = SemanticIndex(embeddings)
        index.add([p.versioned_id for p in independent], [passage(p) for p in independent])
        neighbours = index.query(question, k=QUESTION_NEIGHBOURS)
        relevance = statistics.fmean(score for _, score in neighbours) if neighbours else 0.0
        rankings = [index.query(c.text, k=len(index)) for c in claims]
        progress.done("index", f"{len(index)} passages, {provider} embeddings {embeddings.model} (dimension {embeddings.dimension})")

        verifier = make_verifier_from(config)
        progress.start("verify", f"{len(claims)} claims with {verifier.settings.method}")
        if hasattr(verifier, "fit"):
            verifier.fit([passage(p) for p in papers])
        threshold = verifier.settings.threshold
        texts = {p.versioned_id: passage(p) for p in independent}
        checked: list[CheckedClaim] = []
        verdicts = {}
        for claim, ranking in zip(claims, rankings):
            order = [doc_id for doc_id, _ in ranking]
            if config.verification.max_sources_per_claim is not None:
                order = order[: config.verification.max_sources_per_claim]
            result = verifier.verify(claim.text, [(doc_id, texts[doc_id]) for doc_id in order])
            verdicts[claim] = result
            nearest, similarity = ranking[0] if ranking else (None, 0.0)
            checked.append(CheckedClaim(
                claim=claim, verified=result.verified, best_source=result.best_source, best_score=result.best_score,
                nearest_source=nearest, nearest_similarity=similarity, support=support_of(result.best_score, threshold),
                confidence=published_confidence(claim, result.best_score, threshold),
            ))
        verified = sum(1 for c in checked if c.verified)
        settings = verifier.settings.as_provenance()
        measurement = load_verifier_measurement(settings)
        progress.done("verify", f"{verified} of {len(checked)} claims verified (threshold {threshold:g})")

        uncertainties = state_uncertainties(config, verifier=verifier, measurement=measurement, sentences=len(sentences),
                                            claims=len(checked), verified=verified, corpus_size=len(corpus.papers),
                                            embedding_model=embeddings.model)

        reviewer, tribunal_backend, chat = make_reviewer(config)
        if chat is not None:
            stack.callback(chat.close)
        t = config.tribunal
        progress.start("tribunal", tribunal_backend)
        draft = Draft(question=question, target=target, claims=tuple(checked), independent_sources=len(independent),
                      question_relevance=relevance, uncertainties=tuple(uncertainties))
        tribunal = run_tribunal(draft, reviewer, revision_threshold=t.revision_threshold, reject_below=t.reject_below,
                                max_revision_rounds=t.max_revision_rounds,
                                revision_min_confidence=t.revision_min_confidence)
        progress.done("tribunal", f"{tribunal.score:.1f}/10 → {tribunal.verdict} (revision_round={tribunal.revision_round})")

    progress.start("policy", ", ".join(config.policy.rules))
    policy = decide(PolicyFacts(tribunal.verdict, len(checked), verified), config.policy)
    progress.done("policy", f"{policy.decision} (rule {policy.rule})")

    progress.start("report", REPORT_FILE)
    final_claims = tribunal.draft.claims
    synthesis = _synthesis(question, paper_id, config, target, target_at, papers, timed.retrieved_at, queries, service,
                           final_claims, tribunal, tribunal_backend, policy, settings, measurement is not None,
                           provider, embeddings, verifier, sentences_count=len(sentences), verdicts=verdicts,
                           measurement=measurement)
    files = compose_record(synthesis)
    record_id = json.loads(files[MANIFEST_FILE])["record_id"]
    progress.done("report", f"{record_id}: {', '.join(sorted(files))}")

    progress.start("write", str(records_dir))
    folder, written = write_new_record(records_dir, record_id, files)
    progress.done("write", f"{folder} ({'written' if written else 'already published, unchanged'})")

    return RunResult(
        record_id=record_id, folder=folder, written=written, papers_retrieved=len(papers),
        claims_extracted=len(final_claims), claims_verified=verified, score=tribunal.score,
        verdict=tribunal.verdict, revision_round=tribunal.revision_round, decision=policy.decision,
        policy_rule=policy.rule, claims=final_claims, timings=dict(getattr(progress, "timings", {})),
    )


def _synthesis(question: str, paper_id: str, config: PipelineConfig, target: Paper, target_at: str,
               papers: list[Paper], retrieved_at: dict[str, str], queries: list[str], service: str,
               claims: tuple[CheckedClaim, ...], tribunal: TribunalResult, tribunal_backend: str,
               policy: PolicyDecision, settings: dict, measured: bool, provider: str, embeddings,
               verifier: Verifier, *, sentences_count: int, verdicts: dict | None = None,
               measurement: dict | None = None) -> Synthesis:
    cited = list(dict.fromkeys(c.best_source for c in claims if c.best_source and c.best_score > 0))
    cited_bases = {split_arxiv_id(v)[0] for v in cited}
    sources = [SourceRef(target.arxiv_id, target.version, "target", target, target_at)]
    for paper in papers:
        if paper.arxiv_id == target.arxiv_id:
            continue
        role = "cited" if paper.arxiv_id in cited_bases else "retrieved"
        sources.append(SourceRef(paper.arxiv_id, paper.version, role, paper, retrieved_at.get(paper.arxiv_id)))
    references = [s for s in sources if s.role == "target"] + sorted(
        (s for s in sources if s.role == "cited"), key=lambda s: cited.index(s.paper.versioned_id))

    pipeline = {
        "parameters_source": PARAMETERS_SOURCE,
        "search": {"service": service, "query_count": len(queries), "queries": list(queries), "sort": "relevance",
                   "max_results_per_query": config.search.max_results_per_query},
        "verification": verification_provenance(settings, config),
        "embedding": {"provider": provider, "model": embeddings.model, "dimension": embeddings.dimension},
        "tribunal": {"version": TRIBUNAL_VERSION, "roles": list(rules.TRIBUNAL_ROLES),
                     "revision_threshold": config.tribunal.revision_threshold, "backend": tribunal_backend},
    }
    now = clock.now()
    methodology = (
        f"Multi-query arXiv search ({len(queries)} parallel queries, Relevance-sorted, up to "
        f"{config.search.max_results_per_query} results each) over the {service}; the target paper is excluded "
        "from the evidence.",
        f"Claims extracted from the target's abstract by claim-rule-v1 ({sentences_count} sentences).",
        f"{settings['method']} verification (analyzer {settings['analyzer']}, n-grams "
        f"{settings['ngram_range'][0]}-{settings['ngram_range'][1]}, threshold={settings['threshold']:g}) against "
        "independent sources.",
        f"{'NIM' if provider == 'NVIDIA NIM' else 'Local hashing'} {embeddings.model} (dim={embeddings.dimension}) for semantic indexing: each claim is compared "
        "with its nearest sources first, and the question's nearest sources measure relevance.",
        f"Tribunal {TRIBUNAL_VERSION}: 3-role parallel review (SKEPTIC/VALIDATOR/SYNTHESIZER) by the "
        f"{tribunal_backend}, with revision round if score < {config.tribunal.revision_threshold:g} "
        f"and at least {config.tribunal.reject_below:g}.",
    )
    report = render_report(ReportData(
        question=question, target=target, drafted=now, methodology=methodology, queries=tuple(queries),
        papers_retrieved=len(papers), claims=claims, verifier=settings["method"], threshold=settings["threshold"],
        tribunal=tribunal, policy=policy, uncertainties=tribunal.draft.uncertainties, references=tuple(references),
        verdicts=verdicts or {}, measurement=measurement,
    ))
    inputs = {"question": question, "paper": paper_id, "config": config.as_dict()}
    return Synthesis(
        research_question=question,
        target=target,
        origin_format="pipeline-run",
        origin_file=ORIGIN_FILE,
        origin_bytes=canonical_json(inputs),
        drafted=now.date().isoformat(),
        claims_extracted=len(claims),
        claims_source_grounded=len(claims),
        claims_verified=sum(1 for c in claims if c.verified),
        claim_confidences=[c.confidence for c in claims],
        papers_retrieved=len(papers),
        sources=sources,
        review_score=tribunal.score,
        review_verdict=tribunal.verdict,
        revision_round=tribunal.revision_round,
        policy_decision=policy.decision,
        policy_basis=policy.basis,
        uncertainties=list(tribunal.draft.uncertainties),
        pipeline=pipeline,
        verifier_measured=measured,
        claim_records_public=True,
        report=Artifact("report", REPORT_FILE, REPORT_MEDIA_TYPE, report),
    )
