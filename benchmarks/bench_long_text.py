"""Long text through the site build: a one-record site with a normal abstract against the longest one allowed.

The manifest schema caps the target paper's abstract at 20,000 characters (and the title at 1,000).
This builds five one-record sites with ``build_site``, each in a child process (no warm caches shared):

1. ``normal``: an abstract of about 1,300 characters (the shipped records' size);
2. ``long abstract``: an abstract of 20,000 characters made of words (the schema's maximum);
3. ``long everything``: a title (the research question) and the target's title of 1,000 characters,
   the 20,000-character abstract, 100 authors of 200 characters and 20 uncertainties of 2,000;
4. ``long, no spaces``: the 20,000-character abstract as one word;
5. ``long, markup``: the 20,000-character abstract made of Markdown and HTML syntax characters, each of
   which the escaping turns into an entity (when record pages went through Python-Markdown, its
   inline processor rebuilt the text once per escape, so this case was quadratic).

It prints, for each, the three phases ``build_site`` times (validate, generate, mkdocs), the total
and its ratio to ``normal``, and, measured apart from the noise of a whole MkDocs run, the time the
record's page takes to write (it is HTML MkDocs takes as it is; fastest of 5).
Goal: every long case within 2x of ``normal``.

    python benchmarks/bench_long_text.py
    python benchmarks/bench_long_text.py --repeat 5
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

EPOCH = "1795348800"  # 2026-11-22T12:00:00Z: records may not be dated in the future
WORDS = ("mixture experts routing modality vision language model benchmark gating token specialization "
         "latency throughput deployment evaluation ablation baseline regularization calibration").split()


MARKUP = "*_[]`|{}#<>&~\\ "  # characters the escaping turns into a backslash escape or an entity anywhere, and a space


def _text(length: int, rng: random.Random, spaces: bool = True, markup: bool = False) -> str:
    """``length`` characters of words (with sentence punctuation), of Markdown syntax characters, or
    (without spaces) one long word."""
    if markup:
        return "".join(rng.choice(MARKUP) for _ in range(length)).strip() or "x"
    if not spaces:
        return ("x" * length)[:length]
    out, size = [], 0
    while size < length:
        word = rng.choice(WORDS)
        if rng.random() < 0.08:
            word += "."
        out.append(word)
        size += len(word) + 1
    return " ".join(out)[:length].rstrip() or "x"


def write_record(records_dir: Path, case: str) -> str:
    from generator.corpus import shipped_corpus
    from generator.records.compose import Artifact, Synthesis, compose_record
    from generator.records.store import write_new_record

    rng = random.Random(11)
    corpus = shipped_corpus()
    pipeline = json.loads((REPO / "records" / "SRCH-170CA349" / "provenance.json").read_text())["pipeline"]
    paper = corpus.papers[0]
    question = "Does soft routing improve accuracy under distribution shift?"
    title = None
    uncertainties = ["TF-IDF verification is a weak signal."]
    if case == "long abstract":
        paper = dataclasses.replace(paper, abstract=_text(20_000, rng), record={})
    elif case == "long, markup":
        paper = dataclasses.replace(paper, abstract=_text(20_000, rng, markup=True), record={})
    elif case == "long, no spaces":
        paper = dataclasses.replace(paper, abstract=_text(20_000, rng, spaces=False), record={})
    elif case == "long everything":
        question = _text(999, rng).rstrip(".") + "?"  # the title is the question, so at most 1,000
        paper = dataclasses.replace(paper, abstract=_text(20_000, rng), title=_text(1_000, rng),
                                    authors=tuple(_text(200, rng) for _ in range(100)), record={})
        uncertainties = [_text(2_000, rng) for _ in range(20)]
    report = f"Report on: {question}\n\n{paper.abstract}\n".encode("utf-8")
    synthesis = Synthesis(
        research_question=question, target=paper, title=title, origin_format="pipeline-run",
        origin_file="bench-run.json", origin_bytes=report, claims_extracted=3, claims_source_grounded=3,
        claims_verified=1, claim_confidences=[0.2, 0.5, 0.9], papers_retrieved=4, review_score=7.0,
        review_verdict="ACCEPT", revision_round=0, policy_decision="PUBLISH", policy_basis="Benchmark record.",
        uncertainties=uncertainties, pipeline=pipeline,
        report=Artifact("report", "report.txt", "text/plain; charset=utf-8", report),
    )
    files = compose_record(synthesis)
    record_id = json.loads(files["manifest.json"])["record_id"]
    write_new_record(records_dir, record_id, files)
    return record_id


CHILD = """
import json, sys
from pathlib import Path
from generator.website.build import build_site
r = build_site(Path(sys.argv[1]), Path(sys.argv[2]), work_dir=Path(sys.argv[3]))
print(json.dumps(r.timings))
"""

CASES = ("normal", "long abstract", "long everything", "long, no spaces", "long, markup")


def page_time(records: Path, runs: int = 5) -> float:
    """Fastest of ``runs`` renderings of the record's page (``record_page.record_document``: the HTML
    MkDocs receives as it is, with no Markdown pass) plus the table of contents the hook reads from it."""
    import time

    from generator.website import record_page
    from generator.website.build import load_views

    [view] = load_views(records)[0]
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        record_page.toc_tokens(record_page.record_document(view))
        best = min(best, time.perf_counter() - start)
    return best


def build_once(records: Path, scratch: Path) -> dict[str, float]:
    env = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH, "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", CHILD, str(records), str(scratch / "site"), str(scratch / "build")],
                         capture_output=True, text=True, env=env, check=False)
    if out.returncode != 0:
        raise SystemExit(f"build failed:\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="builds per case; the fastest is reported")
    args = parser.parse_args()
    os.environ["SOURCE_DATE_EPOCH"] = EPOCH
    results: dict[str, dict[str, float]] = {}
    pages: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-long-text-") as tmp:
        for case in CASES:
            records = Path(tmp) / case.replace(" ", "-").replace(",", "") / "records"
            write_record(records, case)
            runs = []
            for _ in range(args.repeat):
                scratch = records.parent / "out"
                shutil.rmtree(scratch, ignore_errors=True)
                runs.append(build_once(records, scratch))
            results[case] = min(runs, key=lambda t: sum(t.values()))
            pages[case] = page_time(records)
    base = sum(results["normal"].values())
    print(f"{'case':<18} {'validate':>9} {'generate':>9} {'mkdocs':>9} {'total':>9} {'ratio':>7} {'page':>9}")
    for case, timings in results.items():
        total = sum(timings.values())
        print(f"{case:<18} {timings.get('validate', 0):>8.3f}s {timings.get('generate', 0):>8.3f}s "
              f"{timings.get('mkdocs', 0):>8.3f}s {total:>8.3f}s {total / base:>6.2f}x {pages[case] * 1000:>7.1f}ms")
    worst = max(sum(t.values()) / base for t in results.values())
    print(f"worst ratio to normal: {worst:.2f}x (goal: at most 2x)")


if __name__ == "__main__":
    main()
