"""Site build at scale: N synthetic, schema-valid records through `build_site`, against a bare MkDocs build.

For each N (default 1,000 and 10,000):

1. writes N records with the real compose path (``compose_record(Synthesis(...))`` over the shipped
   arXiv corpus), about 5% of them with corrections appended by ``append_correction``; not timed;
2. in a child process, runs ``build_site`` without a cache (as the deploy workflow builds), then in
   another with an empty cache (a cold build that fills it), and reports their
   own timings of validation, page generation and the MkDocs run, plus the child's peak RSS
   (``os.wait4`` rusage);
3. appends one correction and builds again in another child with the cache of step 2, twice (a warm
   rebuild; the second is reported: it is the steady state, in which a build also deletes, in the
   background, the site before last that the previous build set aside in ``build/previous-site``);
4. in another child, builds a bare MkDocs Material site of N one-table pages (not in nav, same
   theme and search plugin) and reports the MkDocs time and peak RSS;
5. prints one table: phases, totals, the ratio to the bare build, growth from the smallest N, the
   warm rebuild, and the site's size on disk (GitHub Pages caps a site at 1 GB).

Goals: 10,000 records within 2.0x the bare build (1.5x beyond that), growth 1k -> 10k at most 11x,
peak RSS under 1 GB, a warm rebuild in less than half the cold build.

    python benchmarks/bench_site.py                 # both sizes (the 10k run takes a few minutes)
    python benchmarks/bench_site.py --sizes 1000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

EPOCH = "1795348800"  # 2026-11-22T12:00:00Z: records may not be dated in the future
CORRECTED_SHARE = 0.05


def write_records(records_dir: Path, n: int, seed: int = 7) -> int:
    """N valid records via compose_record; returns the number of corrections appended."""
    from generator.corpus import shipped_corpus
    from generator.records.compose import Artifact, SourceRef, Synthesis, compose_record
    from generator.records.corrections import append_correction
    from generator.records import rules
    from generator.records.store import write_new_record

    rng = random.Random(seed)
    papers = shipped_corpus().papers
    pipeline = json.loads((REPO / "records" / "SRCH-170CA349" / "provenance.json").read_text())["pipeline"]
    topics = ["robustness", "latency", "calibration", "sample efficiency", "scaling", "memory use", "accuracy"]
    corrected = []
    for i in range(n):
        target = papers[i % len(papers)]
        cited = [papers[(i * 7 + k) % len(papers)] for k in (1, 2)]
        question = (f"Study {i}: how does {target.title.rstrip('.')} affect {rng.choice(topics)} "
                    f"compared to {cited[0].title.rstrip('.')}?")
        claims = rng.randint(3, 12)
        verified = rng.randint(0, claims)
        score = round(rng.uniform(0.5, 9.8), 1)

        report = (f"Synthetic pipeline report {i}\n\nResearch goal: {question}\n\n"
                  + "\n".join(f"Claim {c}: statement {c} about {target.title}" for c in range(claims))).encode()
        synthesis = Synthesis(
            research_question=question,
            target=target,
            origin_format="pipeline-run",
            origin_file=f"run-{i:05d}.json",
            origin_bytes=report,
            claims_extracted=claims,
            claims_source_grounded=claims,
            claims_verified=verified,
            claim_confidences=[round(rng.random(), 2) for _ in range(claims)],
            papers_retrieved=rng.randint(5, 20),
            sources=[SourceRef(target.arxiv_id, target.version, "target", target)]
                    + [SourceRef(p.arxiv_id, p.version, "cited", p) for p in cited if p.arxiv_id != target.arxiv_id],
            review_score=score,
            review_verdict=rules.derive_verdict(score),
            revision_round=0 if score >= rules.REVISION_THRESHOLD else 1,
            policy_decision="ESCALATE_TO_OWNER" if score < rules.REJECT_BELOW else "PUBLISH",
            policy_basis="Synthetic benchmark record.",
            uncertainties=["TF-IDF verification is a weak signal.", "Tribunal consensus is LLM-based."],
            pipeline=pipeline,
            report=Artifact("report", "report.txt", "text/plain; charset=utf-8", report),
        )
        files = compose_record(synthesis)
        record_id = json.loads(files["manifest.json"])["record_id"]
        while (records_dir / record_id.replace(":", "-")).exists():
            # Record ids are 32 bits of a digest: at 10,000 records two questions share one about 1% of
            # the time (birthday bound), and the store refuses the second. Reword and retry.
            synthesis.research_question += " (reworded)"
            files = compose_record(synthesis)
            record_id = json.loads(files["manifest.json"])["record_id"]
        write_new_record(records_dir, record_id, files)
        if rng.random() < CORRECTED_SHARE:
            corrected.append(record_id)
    count = 0
    for k, record_id in enumerate(corrected):
        if k % 3 == 0:
            append_correction(records_dir, record_id, "retraction", f"Synthetic retraction {k}.", "Benchmark", [])
            count += 1
        else:
            append_correction(records_dir, record_id, "expression_of_concern", f"Synthetic concern {k}.", "Benchmark", [])
            append_correction(records_dir, record_id, "correction", f"Synthetic correction {k}.", "Benchmark",
                              [("/policy/basis", json.dumps(f"Corrected basis {k}."))])
            count += 2
    return count


BUILD_CHILD = """
import json, sys
from pathlib import Path
from generator.website.build import build_site
r = build_site(Path(sys.argv[1]), Path(sys.argv[2]), work_dir=Path(sys.argv[3]), cache_dir=Path(sys.argv[4]) if sys.argv[4] else None)
print(json.dumps({**r.timings, "pages_reused": r.pages_reused, "records_reused": r.records_reused}))
"""

BARE_CHILD = """
import json, sys, time, logging
from pathlib import Path
from mkdocs.commands.build import build
from mkdocs.config import load_config
base, n = Path(sys.argv[1]), int(sys.argv[2])
docs = base / "docs"
(docs / "pages").mkdir(parents=True)
(docs / "index.md").write_text("# Bare\\n\\nA bare site.\\n")
for i in range(n):
    (docs / "pages" / f"p{i:05d}.md").write_text(f"# Page {i}\\n\\n| Field | Value |\\n|---|---|\\n| Number | {i} |\\n| Name | page {i} |\\n")
(base / "mkdocs.yml").write_text(
    "site_name: Bare\\nsite_url: https://example.org/\\nstrict: true\\n"
    "theme:\\n  name: material\\n  font: false\\n"
    "markdown_extensions:\\n  - tables\\n  - toc\\n"
    "plugins:\\n  - search\\n"
    "nav:\\n  - Home: index.md\\n"
    "not_in_nav: |\\n  /pages/*.md\\n")
start = time.perf_counter()
build(load_config(config_file=str(base / "mkdocs.yml"), site_dir=str(base / "site")))
print(json.dumps({"mkdocs": time.perf_counter() - start}))
"""


def run_child(code: str, *args: str) -> tuple[dict, int]:
    """Run ``code`` in a fresh interpreter; returns its JSON output and its own peak RSS in bytes.

    The child is reaped with ``os.wait4``, whose rusage covers that one child only.
    """
    env = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH, "PYTHONPATH": str(REPO)}
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=out, stderr=err, env=env, text=True)
        _, status, rusage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        raise RuntimeError(f"child failed ({proc.returncode}):\n{stderr[-4000:]}")
    return json.loads(stdout.strip().splitlines()[-1]), rusage.ru_maxrss * 1024


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def correct_one(records: Path, number: int = 0) -> None:
    """Append one correction to record ``number`` (in folder order), as a maintainer would between two builds."""
    from generator.records.corrections import append_correction

    folder = sorted(p for p in records.iterdir() if p.is_dir())[number]
    first = json.loads((folder / "manifest.json").read_text())["record_id"]
    append_correction(records, first, "expression_of_concern", "Benchmark: one correction between two builds.", "Benchmark", [])


def bench(n: int, work: Path, reuse: bool = False) -> dict:
    os.environ["SOURCE_DATE_EPOCH"] = EPOCH
    base = work / f"n{n}"
    records = base / "records"
    for scratch in ("site", "build", "cache", "bare"):
        shutil.rmtree(base / scratch, ignore_errors=True)
    if reuse and records.is_dir():
        corrections = sum(1 for _ in records.glob("*/corrections/*.json"))
        print(f"  N={n}: reusing {records} ({corrections} corrections)", flush=True)
    else:
        shutil.rmtree(base, ignore_errors=True)
        start = time.perf_counter()
        corrections = write_records(records, n)
        print(f"  N={n}: wrote {n} records and {corrections} corrections in {time.perf_counter() - start:.1f} s", flush=True)
    build_args = (str(records), str(base / "site"), str(base / "build"), str(base / "cache"))
    uncached, uncached_rss = run_child(BUILD_CHILD, str(records), str(base / "site"), str(base / "build"), "")
    uncached.pop("pages_reused"), uncached.pop("records_reused")
    print(f"  N={n}: cold build without a cache (as the deploy builds) {uncached}", flush=True)
    timings, rss = run_child(BUILD_CHILD, *build_args)
    timings.pop("pages_reused"), timings.pop("records_reused")
    print(f"  N={n}: cold build filling an empty cache {timings}", flush=True)
    warm_rss = 0
    for attempt in (1, 2):
        correct_one(records, attempt)
        warm, child_rss = run_child(BUILD_CHILD, *build_args)
        warm_rss = max(warm_rss, child_rss)
        reused, records_reused = warm.pop("pages_reused"), warm.pop("records_reused")
        print(f"  N={n}: warm rebuild {attempt} after one correction {warm} ({records_reused} records and {reused} pages "
              "from the cache)", flush=True)
    shutil.rmtree(base / "build" / "previous-site", ignore_errors=True)  # not left to slow the bare build down
    bare, bare_rss = run_child(BARE_CHILD, str(base / "bare"), str(n))
    print(f"  N={n}: bare {bare}", flush=True)
    result = {"n": n, "corrections": corrections, **timings, "total": sum(timings.values()), "rss": max(rss, warm_rss, uncached_rss),
              "uncached": sum(uncached.values()),
              "warm": sum(warm.values()), "warm_reused": reused,
              "bare": bare["mkdocs"], "bare_rss": bare_rss, "site_bytes": _size(base / "site"),
              "files": sum(1 for p in (base / "site").rglob("*") if p.is_file())}
    return result


def print_table(results: list[dict]) -> None:
    first = results[0]
    header = ("N", "validate s", "generate s", "mkdocs s", "total s", "no-cache s", "peak RSS MB", "bare mkdocs s", "bare RSS MB",
              "total/bare", "mkdocs/bare", "growth", "warm s", "warm/cold", "site MB", "files")
    rows = []
    for r in results:
        rows.append((f"{r['n']:,}", f"{r['validate']:.1f}", f"{r['generate']:.1f}", f"{r['mkdocs']:.1f}", f"{r['total']:.1f}",
                     f"{r['uncached']:.1f}", f"{r['rss'] / 2**20:.0f}", f"{r['bare']:.1f}", f"{r['bare_rss'] / 2**20:.0f}",
                     f"{r['total'] / r['bare']:.2f}x", f"{r['mkdocs'] / r['bare']:.2f}x",
                     f"{r['total'] / first['total']:.1f}x" if r is not first else "1.0x",
                     f"{r['warm']:.1f}", f"{r['warm'] / r['total']:.2f}",
                     f"{r['site_bytes'] / 2**20:.0f}", f"{r['files']:,}"))
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]
    print(" | ".join(h.rjust(w) for h, w in zip(header, widths)))
    print("-|-".join("-" * w for w in widths))
    for row in rows:
        print(" | ".join(c.rjust(w) for c, w in zip(row, widths)))
    last = results[-1]
    print()
    for name, total in (("a cold build filling an empty cache", last["total"]), ("a cold build without a cache", last["uncached"])):
        ratio = total / last["bare"]
        print(f"goal: {last['n']:,} records within 2.0x the bare build (beyond: 1.5x), {name}: {total:.1f} s, {ratio:.2f}x "
              f"({'met' if ratio <= 1.5 else 'met 2.0x, not 1.5x' if ratio <= 2.0 else 'MISSED'})")
    print(f"goal: a warm rebuild after one correction in less than half the cold build: {last['warm']:.1f} s of "
          f"{last['total']:.1f} s ({'met' if last['warm'] < last['total'] / 2 else 'MISSED'})")
    if len(results) > 1:
        growth = last["total"] / first["total"]
        print(f"goal: growth {first['n']:,} -> {last['n']:,} at most {last['n'] / first['n'] * 1.1:.0f}x: {growth:.1f}x "
              f"({'met' if growth <= last['n'] / first['n'] * 1.1 else 'MISSED'})")
    peak = max(r["rss"] for r in results)
    print(f"goal: peak RSS under 1 GB: {peak / 2**20:.0f} MB ({'met' if peak < 2**30 else 'MISSED'})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="Comma-separated record counts (default: 1000,10000).")
    parser.add_argument("--work", type=Path, default=REPO / "benchmarks" / "out", help="Scratch folder (default: benchmarks/out, git-ignored).")
    parser.add_argument("--keep", action="store_true", help="Keep the generated records and sites.")
    parser.add_argument("--json", type=Path, help="Also write the results as JSON to this file.")
    parser.add_argument("--reuse", action="store_true", help="Reuse records a kept earlier run wrote (each run adds one correction).")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    args.work.mkdir(parents=True, exist_ok=True)
    results = []
    for n in sizes:
        results.append(bench(n, args.work, reuse=args.reuse))
        if not args.keep:
            shutil.rmtree(args.work / f"n{n}", ignore_errors=True)
    print()
    print_table(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
