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

Why a second input, SciFact (``--scifact N``, default 7 per gold label): no abstract of the arXiv corpus
is known to contradict a claim of another (the verifier's few CONTRADICT labels there are errors, see
docs/pipeline.md), so whether the review follows contradiction, and whether any of it follows the truth,
can only be measured where gold labels say which sources support or contradict. Each such run asks
whether one held-out SciFact claim holds, with the claim as a stand-in target's abstract and the SciFact
corpus as the papers searched, and a verifier retrained without the claim's fold (``scifact_spread``).

Each question is run offline into a temporary records folder, and the script prints, per input and for
all runs, the verdict and policy distribution and the min / max / number of distinct values of every
role score and every evidence figure the offline reviewer uses (first review); for the arXiv corpus the
mean score by how many claims were supported and how often the two questions about one paper selected
different claims; for SciFact the mean score, verdicts, and supported / contradicted runs by gold label
(and whether through the gold abstract). It exits 1 when a dimension is constant over all the runs it made.

    python benchmarks/bench_pipeline_spread.py              # 35 papers x 2 questions + 21 SciFact claims
    python benchmarks/bench_pipeline_spread.py --papers 10  # 20 arXiv runs, every third paper, + 21 SciFact
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from generator.corpus import Corpus, Paper, shipped_corpus  # noqa: E402
from generator.pipeline.claims import extract_claims  # noqa: E402
from generator.pipeline.config import PipelineConfig  # noqa: E402
from generator.pipeline.run import Stages, run_pipeline  # noqa: E402
from generator.pipeline.search import CorpusSearch, key_phrases  # noqa: E402
from generator.pipeline.tribunal import ROLES, EvidenceFigures  # noqa: E402
from generator.pipeline.verification import (CONTRADICT, NOT_ENOUGH_INFO, SUPPORT, TRAINED,  # noqa: E402
                                             ClaimCoverageVerifier, make_trained_verifier, train_verifiers)
from generator.scifact import grouped_folds, load_scifact, shipped_dir  # noqa: E402


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


# --- runs whose evidence has gold labels: SciFact ----------------------------------------------------

HELD_OUT_FOLD = 0  # of scifact.grouped_folds: the claims asked about; the verifier is trained on the other four
PER_LABEL = 7  # claims per gold label, so 21 runs
GOLD_LABELS = (SUPPORT, CONTRADICT, NOT_ENOUGH_INFO)


def gold_of(claim) -> str:
    """A SciFact claim's label over its cited abstracts: CONTRADICT if one contradicts it, else SUPPORT if
    one supports it, else NOT_ENOUGH_INFO."""
    labels = set(claim.evidence.values())
    return CONTRADICT if CONTRADICT in labels else SUPPORT if SUPPORT in labels else NOT_ENOUGH_INFO


def scifact_claims(dataset, per_label: int = PER_LABEL) -> list:
    """The first ``per_label`` claims of each gold label, in file order, among the held-out fold's claims the
    claim rule takes as a claim; interleaved SUPPORT, CONTRADICT, NOT_ENOUGH_INFO. Chosen by label and
    position only, before any run."""
    fold_of = grouped_folds(dataset.claims)
    by_label: dict[str, list] = {label: [] for label in GOLD_LABELS}
    for claim in dataset.claims:
        if fold_of[claim.claim_id] == HELD_OUT_FOLD and extract_claims([("abstract", claim.text)]):
            by_label[gold_of(claim)].append(claim)
    return [claim for trio in zip(*(by_label[label][:per_label] for label in GOLD_LABELS)) for claim in trio]


def scifact_spread(per_label: int = PER_LABEL, config: PipelineConfig | None = None) -> dict:
    """Run the offline pipeline on SciFact claims, with the SciFact corpus as what the search finds.

    Each run's target is a stand-in paper whose abstract is one held-out claim (SciFact claims are
    sentences written from citing papers); the question asks whether the claim holds. The sources are
    the corpus's 5,183 real abstracts, searched offline as the arXiv corpus is, so a run may find the
    abstract the annotators judged, or not. A trained verifier is retrained on the other four folds
    (claims grouped by shared documents), so it never saw the claims it checks. Stand-ins and abstracts
    get made-up ids of the form 2998.NNNNN and 2999.NNNNN; the records go to a temporary folder."""
    config = config or PipelineConfig()
    dataset = load_scifact(shipped_dir())
    fold_of = grouped_folds(dataset.claims)
    name = config.verification.verifier
    verifier = None  # a fixed rule: nothing to hold out
    if name in TRAINED:
        trained = train_verifiers(dataset, [c for c in dataset.claims if fold_of[c.claim_id] != HELD_OUT_FOLD])
        threshold = config.verification.threshold
        verifier = make_trained_verifier(name, trained, **({} if threshold is None else {"threshold": threshold}))
    documents = list(dataset.corpus.values())
    paper_of = {d.doc_id: Paper(f"2999.{i:05d}", "v1", d.title, " ".join(d.abstract)) for i, d in enumerate(documents)}
    search = CorpusSearch(Corpus(list(paper_of.values())))
    rows = []
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1780000000")
    with tempfile.TemporaryDirectory() as tmp:
        for number, claim in enumerate(scifact_claims(dataset, per_label)):
            target = Paper(f"2998.{number:05d}", "v1", f"Stand-in for SciFact claim {claim.claim_id}", claim.text)
            stages = Stages.from_config(config, Corpus([target]))
            stages = dataclasses.replace(stages, search=search, verifier=verifier or stages.verifier)
            statement = claim.text.rstrip(".!")
            question = f"Is it true that {statement[0].lower()}{statement[1:]}?"
            result = run_pipeline(question, target.arxiv_id, config, Path(tmp) / "records",
                                  corpus=Corpus([target]), stages=stages)
            gold_sources = {paper_of[d].versioned_id: label for d, label in claim.evidence.items()}
            found = {source for source, _ in result.tribunal.draft.source_texts}
            rows.append({"paper": target.arxiv_id, "claim_id": claim.claim_id, "gold": gold_of(claim),
                         "kind": "SciFact claim", "question": question, "verdict": result.verdict,
                         "decision": result.decision, "score": result.score, "revision_round": result.revision_round,
                         "gold_found": bool(found & set(gold_sources)),
                         "supported_by_gold": any(c.verified and gold_sources.get(c.best_source) == SUPPORT
                                                  for c in result.claims),
                         "contradicted_by_gold": any(gold_sources.get(c.contradicted_by) == CONTRADICT
                                                     for c in result.claims),
                         **result_first_round(result)})
    return {"rows": rows, "verifier": verifier.settings.method if verifier else name,
            "held_out_fold": HELD_OUT_FOLD}


DIMENSIONS = (*ROLES, "score", "supported", "strength", "contradicted", "agreement", "overstatement", "relevance",
              "coverage", "sources")


def verdict_lines(rows: list[dict]) -> list[str]:
    """Verdict, policy and revision-round counts."""
    return ["verdicts: " + ", ".join(f"{k} {v}" for k, v in sorted(Counter(r["verdict"] for r in rows).items())),
            "policy:   " + ", ".join(f"{k} {v}" for k, v in sorted(Counter(r["decision"] for r in rows).items())),
            "revision rounds: " + ", ".join(f"{k}: {v}" for k, v in sorted(Counter(r["revision_round"] for r in rows).items()))]


def dimension_table(rows: list[dict]) -> tuple[list[str], list[str]]:
    """The min / max / distinct values of every dimension, and the dimensions that never changed."""
    lines = [f"{'dimension':<14} {'min':>6} {'max':>6} {'distinct':>8}"]
    constant = []
    for name in DIMENSIONS:
        values = [round(r[name], 4) for r in rows]
        distinct = len(set(values))
        if distinct < 2:
            constant.append(name)
        lines.append(f"{name:<14} {min(values):>6.2f} {max(values):>6.2f} {distinct:>8}")
    lines.append("constant dimensions: " + (", ".join(constant) if constant else "none"))
    return lines, constant


def _mean(values: list[float]) -> str:
    return f"{sum(values) / len(values):.2f} ({len(values)})" if values else "- (0)"


def summary(data: dict) -> tuple[str, list[str]]:
    """The printed report of the arXiv corpus runs and the list of dimensions that never changed."""
    rows = data["rows"]
    lines = [f"{len(rows)} offline runs ({data['pairs']} papers x 2 questions: one in the paper's own words, one asking "
             "whether the sentence of its abstract that another corpus abstract shares most words with holds)"]
    table, constant = dimension_table(rows)
    lines += verdict_lines(rows)
    lines.append(f"papers whose two questions selected different claims: {data['pairs_differing']} of {data['pairs']}")
    lines += table
    lines.append("does the score follow the evidence? mean score (runs) by claims supported:")
    for label, test in (("none supported", lambda r: r["supported"] == 0),
                        ("some, under half", lambda r: 0 < r["supported"] < 0.5),
                        ("half or more", lambda r: r["supported"] >= 0.5),
                        ("any contradicted", lambda r: r["contradicted"] > 0)):
        lines.append(f"  {label:<17} " + _mean([r["score"] for r in rows if test(r)]))
    for kind in sorted({r["kind"] for r in rows}):
        group = [r for r in rows if r["kind"] == kind]
        lines.append(f"{kind} questions: " + ", ".join(f"{k} {v}" for k, v in sorted(Counter(r["verdict"] for r in group).items()))
                     + f"; claims supported in {sum(1 for r in group if r['supported'] > 0)} of {len(group)} runs")
    return "\n".join(lines), constant


def scifact_summary(data: dict) -> tuple[str, list[str]]:
    """The printed report of the SciFact runs, by gold label, and the list of dimensions that never changed."""
    rows = data["rows"]
    lines = [f"{len(rows)} offline runs on held-out SciFact claims (fold {data['held_out_fold']}; {data['verifier']} "
             "trained on the other folds), the SciFact corpus as the searched papers"]
    table, constant = dimension_table(rows)
    lines += verdict_lines(rows) + table
    lines.append("does the run follow the gold evidence? by the claim's gold label (runs):")
    lines.append(f"  {'gold':<16} {'runs':>4} {'mean score':>11} {'verdicts':<28} {'gold found':>10} {'supported':>9} {'via gold':>8} "
                 f"{'contradicted':>12} {'via gold':>8}")
    for gold in GOLD_LABELS:
        group = [r for r in rows if r["gold"] == gold]
        if not group:
            continue
        verdicts = ", ".join(f"{k} {v}" for k, v in sorted(Counter(r["verdict"] for r in group).items()))
        lines.append(f"  {gold:<16} {len(group):>4} {sum(r['score'] for r in group) / len(group):>11.2f} {verdicts:<28} "
                     f"{sum(r['gold_found'] for r in group):>10} {sum(r['supported'] > 0 for r in group):>9} {sum(r['supported_by_gold'] for r in group):>8} "
                     f"{sum(r['contradicted'] > 0 for r in group):>12} {sum(r['contradicted_by_gold'] for r in group):>8}")
    return "\n".join(lines), constant


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--papers", type=int, default=None, help="only N papers: every (corpus size // N)-th from the first (10: papers 0, 3, ... 27 of 36)")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                        help="a pipeline configuration override, as for run (repeatable)")
    parser.add_argument("--scifact", type=int, default=PER_LABEL, metavar="N",
                        help=f"also run N held-out SciFact claims of each gold label (default {PER_LABEL}; 0: none)")
    args = parser.parse_args()
    from generator.pipeline.config import load_config

    config = load_config(None, args.set, default_file=None)
    arxiv = spread(args.papers, config)
    text, constant = summary(arxiv)
    print("== the shipped arXiv corpus ==\n" + text)
    if args.scifact:
        scifact = scifact_spread(args.scifact, config)
        text, constant = scifact_summary(scifact)
        print("\n== SciFact: claims with gold-labelled evidence ==\n" + text)
        rows = arxiv["rows"] + scifact["rows"]
        table, constant = dimension_table(rows)
        print(f"\n== all {len(rows)} runs ==\n" + "\n".join(verdict_lines(rows) + table))
    return 1 if constant else 0


if __name__ == "__main__":
    raise SystemExit(main())
