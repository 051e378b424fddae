"""Offline `sovereign-publish run` time for each of the five seed questions (goal: under 5 s each).

For every seed question (000-003: the draft's research goal, 004: the page's Research Question),
about the target paper 2604.23996, against the shipped corpus, into a fresh temporary records folder:

* ``cli``: wall time of ``python -m generator run QUESTION --paper 2604.23996 --offline --json`` in a
  new process (interpreter start-up and imports included, as a user sees it);
* ``in-process``: best of ``--repeat`` runs of ``run_pipeline`` in this process (imports and the
  corpus already loaded), with the slowest stage of that run.

    python benchmarks/bench_pipeline.py
    python benchmarks/bench_pipeline.py --repeat 5
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TARGET = "2604.23996"
GOAL_SECONDS = 5.0
EPOCH = "1780000000"


def seed_questions() -> list[tuple[str, str]]:
    from generator.records.importer import parse_file

    return [(path.name[:3], parse_file(path).research_question)
            for path in sorted((REPO / "examples" / "seeds").glob("*.txt"))]


def cli_seconds(question: str) -> tuple[float, dict]:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH}
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "generator", "run", question, "--paper", TARGET, "--offline",
                               "--json", "--records", str(Path(tmp) / "records")],
                              cwd=tmp, env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"run failed ({done.returncode}): {done.stderr}")
    return seconds, json.loads(done.stdout)


def in_process_seconds(question: str, repeat: int) -> tuple[float, str]:
    from generator.pipeline.config import PipelineConfig
    from generator.pipeline.progress import NullProgress
    from generator.pipeline.run import run_pipeline

    best, slowest = float("inf"), ""
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            progress = NullProgress()
            started = time.perf_counter()
            run_pipeline(question, TARGET, PipelineConfig(), Path(tmp) / "records", progress)
            seconds = time.perf_counter() - started
        if seconds < best:
            stage, took = max(progress.timings.items(), key=lambda item: item[1])
            best, slowest = seconds, f"{stage} {took:.3f} s"
    return best, slowest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="in-process runs per question (best is shown)")
    args = parser.parse_args()
    os.environ["SOURCE_DATE_EPOCH"] = EPOCH

    rows = []
    for seed, question in seed_questions():
        cli, summary = cli_seconds(question)
        warm, slowest = in_process_seconds(question, args.repeat)
        rows.append((seed, cli, warm, slowest, summary))

    print(f"Offline run per seed question (target {TARGET}; goal under {GOAL_SECONDS:g} s each)")
    print(f"{'seed':<5} {'cli s':>7} {'in-process s':>13}  {'slowest stage':<22} {'record':<14} result")
    for seed, cli, warm, slowest, s in rows:
        review = s["review"]
        print(f"{seed:<5} {cli:>7.2f} {warm:>13.3f}  {slowest:<22} {s['record_id']:<14} "
              f"{s['papers_retrieved']} papers, {s['claims_extracted']} claims, {s['claims_verified']} verified, "
              f"{review['score']:.1f} {review['verdict']} r{review['revision_round']}, {s['policy']['decision']}")
    worst = max(cli for _, cli, _, _, _ in rows)
    print(f"slowest CLI run {worst:.2f} s: {'within' if worst < GOAL_SECONDS else 'OVER'} the {GOAL_SECONDS:g} s goal")


if __name__ == "__main__":
    main()
