"""A built site shared by the site tests: the five example records, a hostile record, and corrections.

Built once per test session (``built_site``) into a temporary folder, with SOURCE_DATE_EPOCH fixed.
Import the fixture into a test module with ``from site_fixtures import built_site``; the build is
cached at module level so every module that imports it shares the one build.
"""

from __future__ import annotations

import contextlib
import dataclasses
import http.server
import json
import os
import shutil
import threading
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BUILD_EPOCH = "1795348800"  # 2026-11-22T12:00:00Z, after the example records were recorded (and not in the future)

HOSTILE_TITLE = "<img src=x onerror=alert(1)>"
HOSTILE_ABSTRACT = ("[x](javascript:alert(1)) <script>alert(2)</script> </title><svg onload=alert(3)> "
                    "| not | a | table | **not bold** \x02wzxhzdk:0\x03 ~~~ &amp; hostile-abstract-marker")
HOSTILE_QUESTION = "Does <b>markup</b> in a question stay text? [y](javascript:alert(4)) # not a heading"
HOSTILE_REASON = "</script><script>alert('reason')</script> <img src=y onerror=alert(5)> retraction-reason-marker"
HOSTILE_BY = "<i>Mallory</i> | *someone*"
RETRACTED_ID = "SRCH:93BD3EF3"  # the public record page of seed 004
CORRECTED_ID = "SRCH:170CA349"


def write_hostile_record(records_dir: Path, report_name: str = "report.txt") -> str:
    """A schema-valid record whose every free-text field is an injection attempt; returns its id."""
    from generator.corpus import shipped_corpus
    from generator.records.compose import Artifact, Synthesis, compose_record
    from generator.records.store import write_new_record

    corpus = shipped_corpus()
    pipeline = json.loads((REPO / "records" / "SRCH-170CA349" / "provenance.json").read_text())["pipeline"]
    pipeline["search"]["queries"] = ["<script>alert(6)</script>", "moe routing"]
    paper = dataclasses.replace(corpus.papers[0], abstract=HOSTILE_ABSTRACT, record={})
    report = f"Pipeline report for {HOSTILE_TITLE}\n{HOSTILE_ABSTRACT}\n".encode("utf-8")
    synthesis = Synthesis(
        research_question=HOSTILE_QUESTION,
        target=paper,
        title=HOSTILE_TITLE,
        origin_format="pipeline-run",
        origin_file="hostile-run.json",
        origin_bytes=report,
        claims_extracted=3,
        claims_source_grounded=3,
        claims_verified=1,
        claim_confidences=[0.2, 0.5, 0.9],
        papers_retrieved=4,
        review_score=7.0,
        review_verdict="ACCEPT",
        revision_round=0,
        policy_decision="PUBLISH",
        policy_basis="<u>policy</u> basis",
        uncertainties=["<marquee>uncertain</marquee>", "1. not a list"],
        pipeline=pipeline,
        report=Artifact("report", report_name, "text/plain; charset=utf-8", report),
    )
    files = compose_record(synthesis)
    record_id = json.loads(files["manifest.json"])["record_id"]
    write_new_record(records_dir, record_id, files)
    return record_id


@dataclass
class BuiltSite:
    site: Path
    records: Path
    work: Path
    hostile_id: str
    result: object

    def page(self, record_id: str) -> Path:
        return self.site / "records" / record_id.replace(":", "-") / "index.html"

    def generated(self, record_id: str) -> Path:
        return self.work / "docs" / "records" / (record_id.replace(":", "-") + ".md")


@contextlib.contextmanager
def source_date_epoch(value: str):
    before = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        else:
            os.environ["SOURCE_DATE_EPOCH"] = before


def prepare_records(target: Path) -> str:
    """Copy the example records, add the hostile one, retract 004 and correct another; returns the hostile id."""
    from generator.records.corrections import append_correction

    shutil.copytree(REPO / "records", target)
    hostile = write_hostile_record(target)
    append_correction(target, RETRACTED_ID, "expression_of_concern", "Benchmarks named in the question are not in the paper.", "Assignee Research", [])
    append_correction(target, RETRACTED_ID, "retraction", HOSTILE_REASON, HOSTILE_BY, [])
    append_correction(target, CORRECTED_ID, "correction", "The policy basis was <em>misquoted</em>.", "Assignee Research",
                      [("/policy/basis", '"Stated in the draft\'s results section (corrected)."')])
    append_correction(target, hostile, "expression_of_concern", HOSTILE_REASON, HOSTILE_BY, [])
    return hostile


_CACHE: dict[str, BuiltSite] = {}


def build_into(base: Path, records: Path | None = None, hostile: str = "") -> BuiltSite:
    """Build ``records`` (default: ``prepare_records``) into ``base``."""
    from generator.website.build import build_site

    with source_date_epoch(BUILD_EPOCH):
        if records is None:
            records = base / "records"
            hostile = prepare_records(records)
        result = build_site(records, base / "site", work_dir=base / "build")
    return BuiltSite(base / "site", records, base / "build", hostile, result)


@pytest.fixture(scope="session")
def built_site(tmp_path_factory) -> BuiltSite:
    if "site" not in _CACHE:
        _CACHE["site"] = build_into(tmp_path_factory.mktemp("built"))
    return _CACHE["site"]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def end_headers(self):
        # LinkChecker honours maxrequestspersecond above 10 only for servers that send this header.
        self.send_header("LinkChecker", "linkchecker")
        super().end_headers()

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


@contextlib.contextmanager
def serve_site(site: Path):
    """Serve ``site`` on 127.0.0.1 (a free port) in a thread; yields the base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def site_url(built_site):
    with serve_site(built_site.site) as url:
        yield url
