"""The rule tables that turn a record's facts into its public levels, tier, verdict and dimensions.

One source of truth: the importer, the pipeline and the quality guide page all read these tables, so
the guide can never disagree with the records it explains.
"""

from __future__ import annotations

from dataclasses import dataclass

MANIFEST_CONTRACT = "paper-manifest-v1.1"
PROVENANCE_CONTRACT = "source-provenance-v1"
CORRECTION_CONTRACT = "correction-record-v1"
CONTRACTS = {"manifest": MANIFEST_CONTRACT, "provenance": PROVENANCE_CONTRACT, "correction": CORRECTION_CONTRACT}

PUBLISHER = "Assignee Research"
NOTE = "Machine-generated synthesis of existing literature. Not primary research."
REVIEW_METHOD = "Automated multi-reviewer assessment"
TRIBUNAL_ROLES = ("SKEPTIC", "VALIDATOR", "SYNTHESIZER")
CLAIM_RECORD_SOURCE = "parsed source sections"
QUALITY_GUIDE_TITLE = "How to read scores, claims, manifests, and evidence links"

REJECT_BELOW = 5.0
REVISION_THRESHOLD = 6.5


@dataclass(frozen=True)
class Level:
    code: str
    label: str
    meaning: str


# One ladder, applied twice: to the synthesis ("paper level": what its claims rest on) and to its
# provenance record ("public provenance": what a reader can check about those claims).
LEVELS: tuple[Level, ...] = (
    Level("L0", "Unverified draft", "No claim is tied to a source and no source is identified."),
    Level("L1", "Cited sources", "Sources are identified by arXiv id and version, but no claim is tied to a source section."),
    Level("L2", "Source-grounded claims", "Claims were extracted from parsed sections of the target paper, each tied to the section it came from."),
    Level("L3", "Claim aggregate record", "A public record gives claim aggregates (extracted, verified, confidence summary), claim lineage and the pipeline's parameters; individual claim records are not exposed."),
    Level("L4", "Claim-level record", "Every individual claim is public with its source section, verification score and best independent source."),
)
LEVELS_BY_CODE = {level.code: level for level in LEVELS}


def level(code: str) -> Level:
    return LEVELS_BY_CODE[code]


def derive_paper_level(*, source_grounded_claims: int, sources_identified: int) -> Level:
    """A synthesis reaches L2 by grounding at least one claim in a parsed source section."""
    if source_grounded_claims > 0:
        return level("L2")
    if sources_identified > 0:
        return level("L1")
    return level("L0")


def derive_provenance_level(*, sources_identified: int, claim_aggregates: bool, claim_records: bool) -> Level:
    """What the provenance record exposes decides its level, not how good the synthesis is."""
    if claim_records:
        return level("L4")
    if claim_aggregates:
        return level("L3")
    if sources_identified > 0:
        return level("L1")
    return level("L0")


@dataclass(frozen=True)
class Tier:
    name: str
    lower: float | None  # inclusive lower bound of the review score; None for "no score"
    upper: float | None  # exclusive upper bound
    basis: str


TIERS: tuple[Tier, ...] = (
    Tier("Quarantine candidate", 0.0, REJECT_BELOW,
         "Review score is below 5.0; source-level inspection is required before relying on the synthesis."),
    Tier("Revision candidate", REJECT_BELOW, REVISION_THRESHOLD,
         "Review score is at least 5.0 but below the 6.5 revision threshold; read it with its stated uncertainties."),
    Tier("Standard", REVISION_THRESHOLD, 8.5,
         "Review score meets the 6.5 acceptance threshold; claims still need checking against their sources."),
    Tier("High confidence", 8.5, None,
         "Review score is 8.5 or above; the reviewers found few problems, which is not independent validation."),
    Tier("Unscored", None, None,
         "No review score is recorded; treat the synthesis as unreviewed."),
)
TIERS_BY_NAME = {tier.name: tier for tier in TIERS}


def derive_quality_tier(review_score: float | None) -> Tier:
    if review_score is None:
        return TIERS_BY_NAME["Unscored"]
    for tier in TIERS:
        if tier.lower is not None and review_score >= tier.lower and (tier.upper is None or review_score < tier.upper):
            return tier
    raise ValueError(f"review score out of range: {review_score}")


VERDICTS = ("REJECT", "REVISE", "ACCEPT")


def derive_verdict(review_score: float) -> str:
    """The tribunal's verdict: REJECT below 5.0, REVISE below 6.5, ACCEPT at or above 6.5."""
    if review_score < REJECT_BELOW:
        return "REJECT"
    if review_score < REVISION_THRESHOLD:
        return "REVISE"
    return "ACCEPT"


RATINGS = ("LOW", "MEDIUM", "HIGH")


@dataclass(frozen=True)
class Evidence:
    """The public facts the quality dimensions are derived from."""

    claims_extracted: int
    claims_source_grounded: int
    claims_verified: int
    sources_identified: int
    uncertainties_stated: int
    per_claim_confidence: bool
    verifier_measured: bool
    parameters_recorded: bool
    queries_recorded: bool
    source_digests_recorded: bool


@dataclass(frozen=True)
class DimensionRule:
    key: str
    label: str
    question: str
    high: str
    medium: str
    low: str


DIMENSIONS: tuple[DimensionRule, ...] = (
    DimensionRule(
        "evidence_strength", "Evidence strength",
        "How many claims did an independent retrieved source support?",
        "At least half of the extracted claims were verified against an independent source.",
        "At least one in five extracted claims was verified against an independent source.",
        "Fewer than one in five extracted claims was verified against an independent source.",
    ),
    DimensionRule(
        "citation_grounding", "Citation grounding",
        "Are claims tied to sources a reader can open?",
        "Claims are tied to source sections and at least one is corroborated by another identified source.",
        "Claims are tied to parsed sections of the target paper, but no other source corroborates them.",
        "No claim is tied to a source section.",
    ),
    DimensionRule(
        "uncertainty_disclosure", "Uncertainty disclosure",
        "Does the synthesis say how far to trust it?",
        "Uncertainties are stated, every claim carries a confidence, and the verifier's measured accuracy is disclosed.",
        "Uncertainties are stated or claims carry confidences, but the verifier's accuracy is not disclosed.",
        "No uncertainty is stated and claims carry no confidence.",
    ),
    DimensionRule(
        "reproducibility_status", "Reproducibility status",
        "Could someone rerun the pipeline and get the same inputs?",
        "Pipeline parameters, the exact search queries and a digest of every source are recorded.",
        "Pipeline parameters and versioned source identifiers are recorded, but not the exact queries or source digests.",
        "The pipeline's parameters are not recorded.",
    ),
)
DIMENSIONS_BY_KEY = {rule.key: rule for rule in DIMENSIONS}


def _rating(rule: DimensionRule, rating: str) -> dict:
    return {"rating": rating, "basis": {"HIGH": rule.high, "MEDIUM": rule.medium, "LOW": rule.low}[rating]}


def derive_quality_dimensions(evidence: Evidence) -> dict[str, dict]:
    """The four LOW / MEDIUM / HIGH triage signals, each with the rule text that produced it."""
    verified_share = evidence.claims_verified / evidence.claims_extracted if evidence.claims_extracted else 0.0
    if verified_share >= 0.5:
        strength = "HIGH"
    elif verified_share >= 0.2:
        strength = "MEDIUM"
    else:
        strength = "LOW"

    if evidence.claims_source_grounded == 0:
        grounding = "LOW"
    elif evidence.claims_verified > 0 and evidence.sources_identified > 1:
        grounding = "HIGH"
    else:
        grounding = "MEDIUM"

    disclosed = evidence.uncertainties_stated > 0 or evidence.per_claim_confidence
    if evidence.uncertainties_stated > 0 and evidence.per_claim_confidence and evidence.verifier_measured:
        uncertainty = "HIGH"
    elif disclosed:
        uncertainty = "MEDIUM"
    else:
        uncertainty = "LOW"

    if not evidence.parameters_recorded:
        reproducibility = "LOW"
    elif evidence.queries_recorded and evidence.source_digests_recorded:
        reproducibility = "HIGH"
    else:
        reproducibility = "MEDIUM"

    ratings = {
        "evidence_strength": strength,
        "citation_grounding": grounding,
        "uncertainty_disclosure": uncertainty,
        "reproducibility_status": reproducibility,
    }
    return {key: _rating(DIMENSIONS_BY_KEY[key], value) for key, value in ratings.items()}


def claim_lineage_summary(source_grounded_claims: int) -> str:
    noun = "claim" if source_grounded_claims == 1 else "claims"
    return f"{source_grounded_claims} aggregate source-grounded {noun}"
