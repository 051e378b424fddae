"""Does rendering the record pages in two MkDocs processes pay? Measured on a generated docs folder.

Takes the ``build/docs`` folder a 10,000-record ``bench_site.py --keep`` run left behind and times,
on this machine:

1. one MkDocs build of all of it (as ``sovereign-publish build`` runs it, cold);
2. two MkDocs builds at once, each of the docs without the other half's record pages (what two
   shards would render; links into the other half are then not found, so these run non-strict),
   and the wall time until both are done;
3. the dirty build that would then assemble the site from the two halves' record pages
   (every record page reused through the page cache's hook, everything else rendered).

Sharding pays if (2) + (3) is clearly below (1).

    python benchmarks/bench_mkdocs_shards.py benchmarks/out/n10000/build/docs
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

CHILD = """
import json, sys, time, logging
from pathlib import Path
from mkdocs.commands.build import build
from mkdocs.config import load_config
from generator.website import mkdocs_hooks
docs, site, strict, reuse = sys.argv[1], sys.argv[2], sys.argv[3] == "strict", sys.argv[4:]
logging.getLogger("mkdocs").setLevel(logging.ERROR)
mkdocs_hooks.UNCHANGED_PAGES = frozenset(reuse)
start = time.perf_counter()
config = load_config(config_file=%(config)r, docs_dir=docs, site_dir=site, strict=strict)
build(config, dirty=bool(reuse))
print(json.dumps({"seconds": time.perf_counter() - start}))
"""


def child(docs: Path, site: Path, strict: bool, reuse: list[str] = ()) -> subprocess.Popen:
    code = CHILD % {"config": str(REPO / "mkdocs.yml")}
    args = [sys.executable, "-c", code, str(docs), str(site), "strict" if strict else "loose"]
    if reuse:
        listing = site.parent / f"{site.name}.reuse.json"
        listing.write_text(json.dumps(list(reuse)))
        args = [sys.executable, "-c", code.replace("sys.argv[4:]", f"json.load(open({str(listing)!r}))"), *args[2:]]
    return subprocess.Popen(args, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})


def seconds(proc: subprocess.Popen) -> float:
    out, _ = proc.communicate()
    if proc.returncode:
        raise SystemExit(f"MkDocs child failed ({proc.returncode})")
    return json.loads(out.strip().splitlines()[-1])["seconds"]


def linked_copy(source: Path, target: Path, skip: set[str]) -> None:
    for path in source.rglob("*"):
        rel = path.relative_to(source).as_posix()
        if path.is_dir() or rel in skip:
            continue
        (target / rel).parent.mkdir(parents=True, exist_ok=True)
        os.link(path, target / rel)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("docs", type=Path)
    args = parser.parse_args()
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1795348800")
    pages = sorted(p.relative_to(args.docs).as_posix() for p in (args.docs / "records").glob("SRCH-*.md"))
    with tempfile.TemporaryDirectory(dir=args.docs.parent) as scratch:
        scratch = Path(scratch)
        start = time.perf_counter()
        one = seconds(child(args.docs, scratch / "one", strict=True))
        print(f"one MkDocs build of {len(pages):,} record pages: {one:.1f} s (wall {time.perf_counter() - start:.1f} s)", flush=True)

        halves = [pages[: len(pages) // 2], pages[len(pages) // 2:]]
        for k, half in enumerate(halves):
            linked_copy(args.docs, scratch / f"docs{k}", set(halves[1 - k]))
        start = time.perf_counter()
        procs = [child(scratch / f"docs{k}", scratch / f"half{k}", strict=False) for k in range(2)]
        both = [seconds(p) for p in procs]
        wall = time.perf_counter() - start
        print(f"two MkDocs builds at once, half the record pages each: {both[0]:.1f} s and {both[1]:.1f} s, wall {wall:.1f} s", flush=True)

        site = scratch / "assembled"
        for k, half in enumerate(halves):
            for page in half:
                dest = site / page.removesuffix(".md") / "index.html"
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.link(scratch / f"half{k}" / page.removesuffix(".md") / "index.html", dest)
        start = time.perf_counter()
        assemble = seconds(child(args.docs, site, strict=True, reuse=pages))
        print(f"assembling dirty build, every record page reused: {assemble:.1f} s", flush=True)
        print(f"sharded total {wall + assemble:.1f} s against {one:.1f} s: {'pays' if wall + assemble < 0.85 * one else 'does not pay'}")
        same = all((site / p.removesuffix('.md') / 'index.html').read_bytes() == (scratch / 'one' / p.removesuffix('.md') / 'index.html').read_bytes()
                   for p in pages[:: max(1, len(pages) // 200)])
        print(f"sampled record pages byte-identical to the single build: {same}")


if __name__ == "__main__":
    main()
