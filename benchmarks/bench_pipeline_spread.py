"""Does the offline review vary with the evidence? Runs the pipeline over many papers and questions.

For each paper of the shipped corpus (or ``--papers`` N of them: every (36 // N)-th from the first), two questions:

1. an *own-words* question (``questions_for``): the title's first key phrase paired with the abstract's
   first other key phrase, "Does X improve Y?";
2. a *shared-statement* question (``shared_question``): "Is it true that S?", where S is the claim
   sentence of the paper's abstract whose words another abstract of the corpus holds most of (claim
   coverage, word overlap only; the verifier's label plays no part in the choice).

Why the second question: the shipped corpus is 36 papers that each report their own results; a result
sentence of one abstract is rarely restated by another, so own-words questions alone measure mostly an
absence of evidence (over the 20 runs of ``--papers 10`` with own-words questions only: 20 REJECT, one
claim in ten supported at most). The shared-statement question asks about something the corpus may
state, so the runs include cases with real evidence for the verifier to find or not. This is a choice of
input, said here and in the output, not a change of the review.

Each question is run offline into a temporary records folder, and the script prints the verdict and
policy distribution, the min / max / number of distinct values of every role score and every evidence
figure the offline reviewer uses (first review), the mean score by how many claims were supported, how
often the two questions about one paper selected different claims, and whether any dimension was
constant.

    python benchmarks/bench_pipeline_spread.py              # all 36 papers x 2 questions = 72 runs
    python benchmarks/bench_pipeline_spread.py --papers 10  # 20 runs, every third paper
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from generator.corpus import Paper, shipped_corpus  # noqa: E402
from generator.pipeline.claims import extract_claims  # noqa: E402
from generator.pipeline.config import PipelineConfig  # noqa: E402
from generator.pipeline.run import run_pipeline  # noqa: E402
from generator.pipeline.search import key_phrases  # noqa: E402
from generator.pipeline.tribunal import ROLES, EvidenceFigures  # noqa: E402
from generator.pipeline.verification import ClaimCoverageVerifier  # noqa: E402


def questions_for(paper: Paper) -> tuple[str, str] | None:
    """Two questions about ``paper`` in its own words; None when its title and abstract give too few phrases."""
    anchors = key_phrases(paper.title, paper.title)
    aspects = [p for p in key_phrases(paper.abstract, paper.abstract) if p.casefold() not in
               {a.casefold() for a in anchors}]
    if not anchors or len(aspects) < 2:
        return None
    return (f"Does {anchors[0]} improve {aspects[0]}?", f"How does {anchors[0]} affect {aspects[1]}?")


def shared_question(paper: Paper, corpus: list[Paper], coverage: ClaimCoverageVerifier) -> str | None:
    """ "Is it true that S?" for the claim sentence S of ``paper``'s abstract that another paper's title and
    abstract cover best (claim coverage: shared words, weighted by IDF); None when the abstract has no claim."""
    others = [f"{p.title}. {p.abstract}" for p in corpus if p.arxiv_id != paper.arxiv_id]
    candidates = [c for c in extract_claims([("abstract", paper.abstract)]) if c.part is None]
    if not candidates or not others:
        return None
    best = max(candidates, key=lambda c: (max(coverage._coverages(c.text, others)), -c.sentence))
    statement = best.text.rstrip(".!")
    return f"Is it true that {statement[0].lower()}{statement[1:]}?"


def spread(papers: int | None = None, config: PipelineConfig | None = None) -> dict:
    """Run the offline pipeline over the corpus; return every figure the report prints."""
    config = config or PipelineConfig()
    rows, pairs = [], []
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1780000000")
    with tempfile.TemporaryDirectory() as tmp:
        corpus = shipped_corpus().papers
        coverage = ClaimCoverageVerifier().fit([f"{p.title}. {p.abstract}" for p in corpus])
        step = max(1, len(corpus) // papers) if papers else 1
        for paper in corpus[::step][:papers]:
            own, shared = questions_for(paper), shared_question(paper, list(corpus), coverage)
            if own is None or shared is None:
                continue
            kept = []
            for kind, question in (("own words", own[0]), ("shared statement", shared)):
                result = run_pipeline(question, paper.arxiv_id, config, Path(tmp) / "records")
                first = result_first_round(result)
                rows.append({"paper": paper.arxiv_id, "kind": kind, "question": question, "verdict": result.verdict,
                             "decision": result.decision, "score": result.score,
                             "revision_round": result.revision_round, **first})
                kept.append(tuple(c.claim.location for c in result.claims))
            pairs.append(kept[0] != kept[1])
    return {"rows": rows, "pairs_differing": sum(pairs), "pairs": len(pairs)}


def result_first_round(result) -> dict:
    """The first review's role scores, and the evidence figures of the draft as finally reviewed."""
    first = result.tribunal.rounds[0]
    return {**{r.role: r.score for r in first.reviews}, **EvidenceFigures.of(result.tribunal.draft).as_dict()}


DIMENSIONS = (*ROLES, "score", "supported", "strength", "contradicted", "agreement", "overstatement", "relevance",
              "coverage", "sources")


def summary(data: dict) -> tuple[str, list[str]]:
    """The printed report and the list of dimensions that never changed."""
    rows = data["rows"]
    lines = [f"{len(rows)} offline runs ({data['pairs']} papers x 2 questions: one in the paper's own words, one asking "
             "whether the sentence of its abstract that another corpus abstract shares most words with holds)"]
    lines.append("verdicts: " + ", ".join(f"{k} {v}" for k, v in sorted(Counter(r["verdict"] for r in rows).items())))
    lines.append("policy:   " + ", ".join(f"{k} {v}" for k, v in sorted(Counter(r["decision"] for r in rows).items())))
    lines.append("revision rounds: " + ", ".join(f"{k}: {v}" for k, v in sorted(Counter(r["revision_round"] for r in rows).items())))
    lines.append(f"papers whose two questions selected different claims: {data['pairs_differing']} of {data['pairs']}")
    lines.append(f"{'dimension':<14} {'min':>6} {'max':>6} {'distinct':>8}")
    constant = []
    for name in DIMENSIONS:
        values = [round(r[name], 4) for r in rows]
        distinct = len(set(values))
        if distinct < 2:
            constant.append(name)
        lines.append(f"{name:<14} {min(values):>6.2f} {max(values):>6.2f} {distinct:>8}")
    lines.append("constant dimensions: " + (", ".join(constant) if constant else "none"))
    lines.append("does the score follow the evidence? mean score (runs) by claims supported:")
    for label, test in (("none supported", lambda r: r["supported"] == 0),
                        ("some, under half", lambda r: 0 < r["supported"] < 0.5),
                        ("half or more", lambda r: r["supported"] >= 0.5),
                        ("any contradicted", lambda r: r["contradicted"] > 0)):
        group = [r["score"] for r in rows if test(r)]
        lines.append(f"  {label:<17} " + (f"{sum(group) / len(group):.2f} ({len(group)})" if group else "- (0)"))
    for kind in sorted({r["kind"] for r in rows}):
        group = [r for r in rows if r["kind"] == kind]
        lines.append(f"{kind} questions: " + ", ".join(f"{k} {v}" for k, v in sorted(Counter(r["verdict"] for r in group).items()))
                     + f"; claims supported in {sum(1 for r in group if r['supported'] > 0)} of {len(group)} runs")
    return "\n".join(lines), constant




def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--papers", type=int, default=None, help="only N papers: every (corpus size // N)-th from the first (10: papers 0, 3, ... 27 of 36)")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                        help="a pipeline configuration override, as for run (repeatable)")
    args = parser.parse_args()
    from generator.pipeline.config import load_config

    text, constant = summary(spread(args.papers, load_config(None, args.set, default_file=None)))
    print(text)
    return 1 if constant else 0


if __name__ == "__main__":
    raise SystemExit(main())
