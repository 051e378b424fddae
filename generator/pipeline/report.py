"""The report artifact: ``report.md``, a kernel draft written as Markdown (``generator.records.draft_format``).

Title, Abstract, 1 Introduction, 2 Methodology, 3 Results, 4 Uncertainties, 5 Extracted Claims
(table: Claim | Verified | Confidence, then each claim's evidence, with its stance -- supported,
contradicted by a named source, or not enough information), References: the title prefix, headings,
date line, results sentence, claims header, marks and confidences are written by ``draft_format``,
the module the importer reads drafts with. Nothing is shortened:
the title is the whole research question and the abstract the whole abstract. Every text that did not
come from this module (question, titles, abstracts, claims, queries, model reasons) is untrusted and
goes through ``generator.escape`` (``md_inline``/``md_code``), so it renders as the text it is,
never as Markdown or HTML. The results line is the kernel's (numbers and enum names only), so
``3 Results`` reads the same to a person and to ``draft_format.parse_results``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from generator.corpus import Paper
from generator.pipeline.claims import CLAIM_RULE, CheckedClaim
from generator.pipeline.policy import PolicyDecision
from generator.pipeline.tribunal import TribunalResult
from generator.records import draft_format
from generator.records.compose import SourceRef
from generator.escape import md_code, md_inline
from generator.pipeline.verification import CONTRADICT, SUPPORT

REPORT_FILE = "report.md"
REPORT_MEDIA_TYPE = "text/markdown; charset=utf-8"


@dataclass(frozen=True)
class ReportData:
    question: str
    target: Paper
    drafted: datetime
    methodology: tuple[str, ...]  # plain sentences, escaped here
    queries: tuple[str, ...]
    papers_retrieved: int
    claims: tuple[CheckedClaim, ...]
    verifier: str
    threshold: float
    tribunal: TribunalResult
    policy: PolicyDecision
    uncertainties: tuple[str, ...]
    references: tuple[SourceRef, ...]
    measurement: dict[str, Any] | None = None  # the shipped SciFact figures of exactly this verifier, if any

    @property
    def claims_verified(self) -> int:
        return sum(1 for c in self.claims if c.verified)


def results_line(papers: int, claims: int, verified: int, score: float, verdict: str, revision_round: int,
                 decision: str) -> str:
    """The kernel's results sentence (``draft_format.format_results``)."""
    return draft_format.format_results(draft_format.Results(papers, claims, verified, score, verdict, revision_round, decision))


def _heading(name: str) -> str:
    return draft_format.heading(name, level=2) + "\n"


def measurement_summary(measurement: dict[str, Any]) -> str:
    """One sentence: the measured figures of the verifier in use, at its threshold (verifier_eval.json entry)."""
    pair = measurement["pair_task"]
    return (f"Measured on {measurement['dataset']} {measurement['split']} ({pair['pairs']} claim-abstract pairs, "
            f"{measurement['figures'].split(' (')[0]}), this verifier at threshold {measurement['settings']['threshold']:g} "
            f"verified {pair['recall']:.0%} of supported pairs with precision {pair['precision']:.2f} (balanced accuracy "
            f"{pair['balanced_accuracy']:.2f}, AUROC {_or_na(pair['auroc'])}), called {measurement['contradict_called_verified']:.0%} "
            f"of contradicted pairs verified, and verified {measurement['pipeline']['false_verification_rate']:.0%} of "
            f"claims whose {measurement['pipeline']['sources_per_claim']} retrieved sources held no evidence.")


def _or_na(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def measurement_sentences(measurement: dict[str, Any]) -> list[str]:
    """The figures of the verifier in use, each task defined in one sentence (for the methodology)."""
    tasks = measurement.get("tasks") or {}
    abstract, reference = measurement["abstract_level"], measurement.get("reference") or {}
    low, high = reference.get("abstract_label_only_f1", [None, None])
    out = [measurement_summary(measurement)]
    out += [f"Pair task: {tasks['pair']}" if tasks.get("pair") else "",
            f"Contradiction: {tasks['contradiction']}" if tasks.get("contradiction") else "",
            f"Pipeline setting: {tasks['pipeline']}" if tasks.get("pipeline") else ""]
    if tasks.get("abstract_level"):
        out.append(f"Abstract level: {tasks['abstract_level']} This verifier: F1 {abstract['f1']:.2f}"
                   + (f" (VeriSci, a trained neural system, reports {low:.2f}-{high:.2f} on the dev split)." if low else "."))
    return [sentence for sentence in out if sentence]


_STANCE = {SUPPORT: "supported", CONTRADICT: "contradicted"}


def _stance(claim: CheckedClaim) -> str:
    """'; stance: ...' for the evidence line: the label, and the source that contradicts the claim, if any."""
    against = (f"contradicted by {_source_label(claim.contradicted_by)} (score {claim.contradiction_score:.4f})"
               if claim.contradicted_by else "")
    if claim.label == CONTRADICT and against:
        return f"; stance: {against}"
    word = _STANCE.get(claim.label, "not enough information")
    return f"; stance: {word}" + (f", also {against}" if against else "")


def _source_label(source: str | None) -> str:
    return md_code(source) if source else "none"


def render_report(data: ReportData) -> bytes:
    t = data.tribunal
    out: list[str] = []
    out.append(draft_format.title(md_inline(data.question), level=1) + "\n")
    out.append("SOVEREIGN research pipeline\n")
    out.append("Autonomous draft — Owner review required before publication\n")
    out.append(f"{draft_format.format_date(data.drafted)}\n")

    out.append(_heading("Abstract"))
    out.append(md_inline(data.target.abstract) + "\n")

    out.append(_heading("1 Introduction"))
    out.append(f"Analysis of: {md_inline(data.target.title)} ({md_code(data.target.versioned_id)}). "
               f"Research goal: {md_inline(data.question)}\n")

    out.append(_heading("2 Methodology"))
    out.append(" ".join(md_inline(sentence) for sentence in data.methodology) + "\n")
    if data.measurement:
        out.append(" ".join(md_inline(sentence) for sentence in measurement_sentences(data.measurement)) + "\n")
    if data.queries:
        out.append("Search queries, as sent:\n")
        out.append("\n".join(f"{i}. {md_code(q)}" for i, q in enumerate(data.queries, start=1)) + "\n")

    out.append(_heading("3 Results"))
    out.append(results_line(data.papers_retrieved, len(data.claims), data.claims_verified, t.score, t.verdict,
                            t.revision_round, data.policy.decision) + "\n")
    for round_ in t.rounds:
        label = "First review" if round_.revision_round == 0 else f"After revision round {round_.revision_round}"
        out.append(f"{label}: combined score {round_.combined:.1f}/10.\n")
        out.append("\n".join(f"- {review.role} {review.score:.1f}/10: " + "; ".join(md_inline(r) for r in review.reasons)
                             for review in round_.reviews) + "\n")
    out.append(f"Policy {md_code(data.policy.rule)}: {md_inline(data.policy.basis)}\n")

    out.append(_heading("4 Uncertainties"))
    out.append("\n".join(f"- {md_inline(u)}" for u in data.uncertainties) + "\n" if data.uncertainties
               else "None stated.\n")

    out.append(_heading("5 Extracted Claims"))
    if data.claims:
        rows = ["| " + " | ".join(draft_format.CLAIMS_HEADER) + " |", "| --- | --- | --- |"]
        rows += [f"| {md_inline(c.text)} | {draft_format.verified_mark(c.verified)} | {draft_format.format_confidence(c.confidence)} |"
                 for c in data.claims]
        out.append("\n".join(rows) + "\n")
        out.append(f"Evidence per claim (extraction rule {CLAIM_RULE}; verification {md_inline(data.verifier)} "
                   f"against independent sources only, threshold {data.threshold:g}):\n")
        lines = []
        for i, c in enumerate(data.claims, start=1):
            line = (f"{i}. {md_inline(c.claim.location)}; {md_inline(c.claim.rule)}; extraction confidence "
                    f"{c.claim.confidence:.2f}; best independent source {_source_label(c.best_source)} "
                    f"(score {c.best_score:.4f}, {'verified' if c.verified else 'not verified'})"
                    f"{_stance(c)}; nearest source by "
                    f"embedding {_source_label(c.nearest_source)} (cosine {c.nearest_similarity:.4f})")
            if c.withdrawn:
                line += "; withdrawn from the synthesis in revision"
            lines.append(line + ".")
        out.append("\n".join(lines) + "\n")
    else:
        out.append("No sentence of the target paper met the claim rule.\n")

    out.append(_heading("References"))
    refs = []
    for ref in data.references:
        title = ref.paper.title if ref.paper else ref.arxiv_id
        refs.append(f"- <{ref.url}> — {md_inline(title)} ({ref.role})")
    out.append("\n".join(refs) + "\n")
    return "\n".join(out).encode("utf-8")
