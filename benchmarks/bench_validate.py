"""`validate` at scale: N synthetic, schema-valid records through ``validate_tree``.

1. writes N records once (``bench_site.write_records``: the real compose path, about 5% of them with
   corrections, and the publication log) into a scratch folder, reused by later runs of the same N
   and seed unless ``--fresh``; not timed;
2. times ``validate_tree`` over the folder, best of ``--repeat`` runs (default 3) in this process, and
   checks that it found no problem;
3. prints documents/s (manifests, provenance records and corrections) and the total seconds.

Goal: 10,000 records well under 5 s (aim: 3 s).

    python benchmarks/bench_validate.py                   # 10,000 records
    python benchmarks/bench_validate.py -n 1000 --repeat 5
    python benchmarks/bench_validate.py --profile         # one more run under cProfile, top 25 by total time
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_site import EPOCH, write_records  # noqa: E402


def prepare(work: Path, n: int, fresh: bool) -> Path:
    """The records folder of N records, written once (a ``.complete`` marker says the write finished)."""
    base = work / f"validate-n{n}"
    records, done = base / "records", base / ".complete"
    if fresh or not done.exists():
        shutil.rmtree(base, ignore_errors=True)
        base.mkdir(parents=True)
        start = time.perf_counter()
        corrections = write_records(records, n)
        done.write_text(f"{corrections}\n")
        print(f"wrote {n:,} records and {corrections:,} corrections in {time.perf_counter() - start:.1f} s", flush=True)
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--records", type=int, default=10_000, help="Number of records (default: 10,000).")
    parser.add_argument("--repeat", type=int, default=3, help="Timed runs; the best is reported (default: 3).")
    parser.add_argument("--work", type=Path, default=REPO / "benchmarks" / "out", help="Scratch folder (default: benchmarks/out, git-ignored).")
    parser.add_argument("--fresh", action="store_true", help="Rewrite the records even if the scratch folder has them.")
    parser.add_argument("--profile", action="store_true", help="Profile one more run with cProfile and print the top functions.")
    args = parser.parse_args()
    os.environ["SOURCE_DATE_EPOCH"] = EPOCH
    records = prepare(args.work, args.records, args.fresh)

    from generator.records.validate import validate_tree

    runs = []  # (wall seconds, CPU seconds of this process)
    for run in range(args.repeat):
        start, cpu = time.perf_counter(), time.process_time()
        found, problems = validate_tree(records)
        runs.append((time.perf_counter() - start, time.process_time() - cpu))
        if problems:
            raise SystemExit(f"validate found {len(problems)} problems, expected none; first: {problems[0]}")
        print(f"  run {run + 1}: {runs[-1][0]:.2f} s ({runs[-1][1]:.2f} s CPU)", flush=True)
    # validate_tree's records come back without their provenance document; every valid record has one
    documents = sum(2 + len(r.corrections) for r in found)
    best, cpu = min(runs)
    print(f"validate_tree: {len(found):,} records, {documents:,} documents: best of {args.repeat} {best:.2f} s "
          f"({cpu:.2f} s CPU), {documents / best:,.0f} documents/s, {len(found) / best:,.0f} records/s")
    if args.profile:
        profile = cProfile.Profile()
        profile.runcall(validate_tree, records)
        pstats.Stats(profile).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
