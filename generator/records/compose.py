"""Turning what a synthesis states into its three public files, by the written rules.

The importer and the pipeline both call `compose_record`, so a record means the same whatever made it.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from generator import clock
from generator.corpus import Paper, split_arxiv_id
from generator.digests import sha256_bytes, sha256_json
from generator.fsio import dump_json
from generator.records import rules
from generator.records.layout import MANIFEST_FILE, PROVENANCE_FILE



def derive_record_id(research_question: str, target_arxiv_id: str, origin_format: str = "kernel-draft",
                     new_version_of: str | None = None) -> str:
    """Content-derived and stable: the same question about the same paper always gets the same id.

    A record made by ``run`` is a different synthesis from an imported kernel draft of the same
    question, so its id also covers its origin; imported ids keep the original rule (published ids never change).
    A new version's id also covers the id of the record it is a new version of: each version's id follows
    from the one before (checkable from the manifest alone), and two different reruns of the same record
    would take the same id, so versions form a line, never a fork.
    """
    base, _ = split_arxiv_id(target_arxiv_id)
    key = {"research_question": " ".join(research_question.split()), "target": base}
    if origin_format == "pipeline-run":
        key["origin"] = origin_format
    if new_version_of is not None:
        key["new_version_of"] = new_version_of
    digest = sha256_json(key, parsed=all(type(value) is str for value in key.values()))  # strings only: nothing to coerce
    return "SRCH:" + digest[:8].upper()


def shorten_title(title: str, limit: int = 80) -> str:
    """Cut at the last word boundary within ``limit`` characters and mark the cut with an ellipsis."""
    title = " ".join(title.split())
    if len(title) <= limit:
        return title
    cut = title[:limit].rsplit(" ", 1)[0].rstrip(" ,;:-")
    return cut + "…"


@dataclass(frozen=True)
class SourceRef:
    """A source as the synthesis names it: arXiv id and version, and its role."""

    arxiv_id: str
    version: str | None
    role: str  # target | cited | retrieved
    paper: Paper | None = None  # the metadata record, when available
    retrieved_at: str | None = None

    @property
    def url(self) -> str:
        return f"https://arxiv.org/abs/{self.arxiv_id}{self.version or ''}"

    def as_provenance(self) -> dict:
        return {
            "arxiv_id": self.arxiv_id,
            "version": self.version,
            "title": self.paper.title if self.paper else None,
            "url": self.url,
            "role": self.role,
            "retrieved_at": self.retrieved_at,
            "sha256": self.paper.digest if self.paper else None,
        }


@dataclass(frozen=True)
class VersionRef:
    """The published record a new one is a new version of: its id and its manifest's ``sha256``."""

    record_id: str
    sha256: str

    def as_manifest(self) -> dict:
        return {"record_id": self.record_id, "sha256": self.sha256}


@dataclass(frozen=True)
class Truncation:
    field: str
    as_drafted: str
    restored_from: str | None


@dataclass(frozen=True)
class Artifact:
    role: str
    path: str
    media_type: str
    content: bytes

    def as_manifest(self) -> dict:
        return {"role": self.role, "path": self.path, "media_type": self.media_type,
                "bytes": len(self.content), "sha256": sha256_bytes(self.content)}


@dataclass(frozen=True)
class Stated:
    """Values an imported public record states; kept as stated instead of derived."""

    tier: str | None = None
    tier_basis: str | None = None
    dimensions: dict[str, str] | None = None
    paper_level: str | None = None
    provenance_level: str | None = None
    report_available: bool | None = None
    external_record: str | None = None


@dataclass
class Synthesis:
    """Everything a synthesis states or a pipeline run computed, before rules are applied."""

    research_question: str
    target: Paper
    origin_format: str
    origin_file: str
    origin_bytes: bytes
    title: str | None = None
    record_id: str | None = None
    drafted: str | None = None
    claims_extracted: int | None = None
    claims_source_grounded: int = 0
    claims_verified: int | None = None
    claim_confidences: list[float] = field(default_factory=list)
    papers_retrieved: int | None = None
    sources: list[SourceRef] = field(default_factory=list)
    review_score: float | None = None
    review_verdict: str | None = None
    revision_round: int | None = None
    review_roles: tuple[str, ...] = rules.TRIBUNAL_ROLES
    policy_decision: str | None = None
    policy_basis: str = ""
    uncertainties: list[str] = field(default_factory=list)
    pipeline: dict | None = None
    verifier_measured: bool = False
    claim_records_public: bool = False
    truncations: list[Truncation] = field(default_factory=list)
    report: Artifact | None = None
    stated: Stated = field(default_factory=Stated)
    publisher: str = rules.PUBLISHER
    note: str = rules.NOTE
    new_version_of: VersionRef | None = None

    def evidence(self) -> rules.Evidence:
        pipeline = self.pipeline or {}
        return rules.Evidence(
            claims_extracted=self.claims_extracted or 0,
            claims_source_grounded=self.claims_source_grounded,
            claims_verified=self.claims_verified or 0,
            sources_identified=len(self.sources),
            uncertainties_stated=len(self.uncertainties),
            per_claim_confidence=bool(self.claim_confidences),
            verifier_measured=self.verifier_measured,
            parameters_recorded=bool(pipeline),
            queries_recorded=bool(pipeline.get("search", {}).get("queries")),
            source_digests_recorded=bool(self.sources) and all(s.paper for s in self.sources),
        )


def _confidence_summary(values: list[float]) -> dict | None:
    if not values:
        return None
    return {
        "min": round(min(values), 4),
        "max": round(max(values), 4),
        "mean": round(statistics.fmean(values), 4),
        "median": round(statistics.median(values), 4),
    }


def _paper_level(s: Synthesis) -> tuple[rules.Level, str]:
    if s.stated.paper_level:
        return rules.level(s.stated.paper_level), "Stated by the imported public record."
    lvl = rules.derive_paper_level(source_grounded_claims=s.claims_source_grounded, sources_identified=len(s.sources))
    return lvl, f"Rule: {lvl.meaning}"


def _provenance_level(s: Synthesis) -> tuple[rules.Level, str]:
    if s.stated.provenance_level:
        return rules.level(s.stated.provenance_level), "Stated by the imported public record."
    lvl = rules.derive_provenance_level(
        sources_identified=len(s.sources),
        claim_aggregates=s.claims_extracted is not None or s.claims_source_grounded > 0,
        claim_records=s.claim_records_public,
    )
    return lvl, f"Rule: {lvl.meaning}"


def _quality_tier(s: Synthesis) -> dict:
    if s.stated.tier:
        return {"tier": s.stated.tier, "basis": s.stated.tier_basis or rules.TIERS_BY_NAME[s.stated.tier].basis,
                "derivation": "stated"}
    tier = rules.derive_quality_tier(s.review_score)
    return {"tier": tier.name, "basis": tier.basis, "derivation": "rule"}


def _quality_dimensions(s: Synthesis) -> dict:
    if s.stated.dimensions:
        out = {key: {"rating": rating, "basis": "Stated by the imported public record."}
               for key, rating in s.stated.dimensions.items()}
        return {**out, "derivation": "stated"}
    return {**rules.derive_quality_dimensions(s.evidence()), "derivation": "rule"}


def compose_record(s: Synthesis) -> dict[str, bytes]:
    """The files of one record folder (name -> bytes), manifest last because it digests the others."""
    previous = s.new_version_of.record_id if s.new_version_of else None
    record_id = s.record_id or derive_record_id(s.research_question, s.target.arxiv_id, s.origin_format, previous)
    paper_level, paper_basis = _paper_level(s)
    provenance_level, provenance_basis = _provenance_level(s)
    files: dict[str, bytes] = {}
    artifacts: list[Artifact] = []

    if s.report is not None:
        artifacts.append(s.report)
    if s.report is None or s.report.content != s.origin_bytes:
        source_name = "imported-" + ("record.txt" if s.origin_format == "public-record-page" else "draft.txt")
        if s.origin_format != "pipeline-run":
            artifacts.append(Artifact("import-source", source_name, "text/plain; charset=utf-8", s.origin_bytes))

    report_available = s.report is not None or bool(s.stated.report_available)
    report_entry = {
        "availability": "Available" if report_available else "Not available",
        "path": s.report.path if s.report else None,
        "sha256": sha256_bytes(s.report.content) if s.report else None,
    }
    if report_available and s.report is None:
        report_entry["note"] = "Stated as available by the imported public record; the report file is not in this repository."

    grounded = s.claims_source_grounded
    provenance = {
        "contract": rules.PROVENANCE_CONTRACT,
        "record_id": record_id,
        "public_provenance": {"level": provenance_level.code, "label": provenance_level.label, "basis": provenance_basis},
        "pipeline": s.pipeline,
        "sources": [ref.as_provenance() for ref in s.sources],
        "retrieval": {"papers_retrieved": s.papers_retrieved,
                      "sources_cited": sum(1 for ref in s.sources if ref.role in ("cited", "target"))},
        "claims": {
            "extracted": s.claims_extracted,
            "source_grounded": grounded,
            "verified": s.claims_verified,
            "confidence": _confidence_summary(s.claim_confidences),
        },
        "claim_lineage": {
            "summary": rules.claim_lineage_summary(grounded),
            "claim_record_source": rules.CLAIM_RECORD_SOURCE,
            "extracted_from": s.target.versioned_id,
        },
        "uncertainties": list(s.uncertainties),
        "review": {"method": rules.REVIEW_METHOD, "roles": list(s.review_roles)},
        "report_artifact": report_entry,
        "external_record": {"status": s.stated.external_record or "Not registered", "doi": None},
    }
    files[PROVENANCE_FILE] = dump_json(provenance).encode("utf-8")
    artifacts.append(Artifact("provenance", PROVENANCE_FILE, "application/json", files[PROVENANCE_FILE]))
    for artifact in artifacts:
        files[artifact.path] = artifact.content

    title = s.title or s.research_question
    manifest = {
        "contract": rules.MANIFEST_CONTRACT,
        "record_id": record_id,
        "title": title,
        "short_title": shorten_title(title),
        "research_question": s.research_question,
        "target_paper": {
            "arxiv_id": s.target.arxiv_id,
            "version": s.target.version,
            "title": s.target.title,
            "abstract": s.target.abstract,
            "authors": list(s.target.authors),
            "url": s.target.url,
        },
        "truncations": [{"field": t.field, "as_drafted": t.as_drafted, "restored_from": t.restored_from} for t in s.truncations],
        "verification": {
            "level": paper_level.code,
            "label": paper_level.label,
            "source_grounded_claims": grounded,
            "claim_record_source": rules.CLAIM_RECORD_SOURCE,
            "basis": paper_basis,
        },
        "quality_tier": _quality_tier(s),
        "quality_dimensions": _quality_dimensions(s),
        "review": {
            "score": s.review_score,
            "verdict": s.review_verdict,
            "revision_round": s.revision_round,
            "method": rules.REVIEW_METHOD,
            "roles": list(s.review_roles),
        },
        "policy": {"decision": s.policy_decision, "basis": s.policy_basis},
        "publisher": s.publisher,
        "note": s.note,
        "dates": {"drafted": s.drafted, "recorded": clock.now_iso()},
        "contracts": dict(rules.CONTRACTS),
        "artifacts": [a.as_manifest() for a in sorted(artifacts, key=lambda a: a.path)],
        "origin": {"format": s.origin_format, "file": s.origin_file, "sha256": sha256_bytes(s.origin_bytes)},
    }
    if s.new_version_of is not None:  # absent on a first version, so earlier records keep their bytes
        manifest["is_new_version_of"] = s.new_version_of.as_manifest()
    manifest["sha256"] = sha256_json(manifest)
    files[MANIFEST_FILE] = dump_json(manifest).encode("utf-8")
    return files
