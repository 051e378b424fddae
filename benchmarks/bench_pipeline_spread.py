"""Does the offline review vary with the evidence? Runs the pipeline over many papers and questions.

For each paper of the shipped corpus (or ``--papers`` of them, evenly spread), two questions are made from its own
words (``questions_for``): one pairing the title's first key phrase with the abstract's first other key
phrase ("Does X improve Y?"), one with the second ("How does X affect Z?"). Each is run offline into a
temporary records folder, and the script prints the verdict and policy distribution, the min / max /
number of distinct values of every role score and every evidence figure the offline reviewer uses
(first review), how often the two questions about one paper selected different claims, and whether
any dimension was constant.

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
from generator.pipeline.config import PipelineConfig  # noqa: E402
from generator.pipeline.run import run_pipeline  # noqa: E402
from generator.pipeline.search import key_phrases  # noqa: E402
from generator.pipeline.tribunal import ROLES, EvidenceFigures  # noqa: E402


def questions_for(paper: Paper) -> tuple[str, str] | None:
    """Two questions about ``paper`` in its own words; None when its title and abstract give too few phrases."""
    anchors = key_phrases(paper.title, paper.title)
    aspects = [p for p in key_phrases(paper.abstract, paper.abstract) if p.casefold() not in
               {a.casefold() for a in anchors}]
    if not anchors or len(aspects) < 2:
        return None
    return (f"Does {anchors[0]} improve {aspects[0]}?", f"How does {anchors[0]} affect {aspects[1]}?")


def spread(papers: int | None = None, config: PipelineConfig | None = None) -> dict:
    """Run the offline pipeline over the corpus; return every figure the report prints."""
    config = config or PipelineConfig()
    rows, pairs = [], []
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1780000000")
    with tempfile.TemporaryDirectory() as tmp:
        corpus = shipped_corpus().papers
        step = max(1, len(corpus) // papers) if papers else 1
        for paper in corpus[::step][:papers]:
            questions = questions_for(paper)
            if questions is None:
                continue
            kept = []
            for question in questions:
                result = run_pipeline(question, paper.arxiv_id, config, Path(tmp) / "records")
                first = result_first_round(result)
                rows.append({"paper": paper.arxiv_id, "question": question, "verdict": result.verdict,
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
    lines = [f"{len(rows)} offline runs ({data['pairs']} papers x 2 questions)"]
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
    return "\n".join(lines), constant




def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--papers", type=int, default=None, help="only N papers, evenly spread over the corpus")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                        help="a pipeline configuration override, as for run (repeatable)")
    args = parser.parse_args()
    from generator.pipeline.config import load_config

    text, constant = summary(spread(args.papers, load_config(None, args.set, default_file=None)))
    print(text)
    return 1 if constant else 0


if __name__ == "__main__":
    raise SystemExit(main())
