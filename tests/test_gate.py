"""One gate for every write: `correct`, `import` and `run` write nothing that `validate` would reject,
and `validate` checks every state a record's corrections fold to."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import SEEDS, copy_records
from generator.cli import cli
from generator.records import rules
from generator.records.corrections import load_folded
from generator.records.validate import validate_tree

RECORD, FOLDER = "SRCH:170CA349", "SRCH-170CA349"  # a kernel draft: tier by rule, score 3.4, title = question


@pytest.fixture
def records(tmp_path, later_epoch) -> Path:
    return copy_records(tmp_path / "records")


def _snapshot(records: Path) -> dict[str, bytes]:
    return {str(p.relative_to(records)): p.read_bytes() for p in sorted(records.rglob("*")) if p.is_file()}


def correct(records: Path, *fields: tuple[str, str], kind: str = "correction"):
    args = ["correct", RECORD, "--records", str(records), "--type", kind, "--reason", "Fixing a value."]
    for pointer, value in fields:
        args += ["--field", pointer, "--value", value]
    return CliRunner().invoke(cli, args)


@pytest.mark.parametrize("pointer, value, message", [
    ("/review/score", '"high"', "'high' is not of type 'number'"),
    ("/review/score", "42", "42 is greater than the maximum of 10"),
    ("/review/score", "-3", "-3 is less than the minimum of 0"),
    ("/review/verdict", '"MAYBE"', "is derived (verdict-by-score"),
    ("/title", "null", "is derived (title-by-question"),
    ("/quality_tier", '"x"', "is derived (tier-by-score"),
    ("/quality_tier/tier", '"High confidence"', "is derived (tier-by-score"),
    ("/verification/level", '"L4"', "is derived (verification-by-claims"),
    ("/short_title", '"Short"', "is derived (short-title-by-title"),
    ("/target_paper/arxiv_id", '"2501.00001"', "identifies the record and cannot be corrected"),
    ("/target_paper", '{"arxiv_id": "2501.00001", "title": "Another paper", "authors": []}', "/target_paper"),
], ids=["score-text", "score-42", "score-negative", "verdict", "title-null", "tier-object", "tier-name", "level-L4",
        "short-title", "target-id", "target-object"])
def test_a_correction_the_schema_or_a_rule_forbids_is_refused_with_nothing_written(records, pointer, value, message):
    before = _snapshot(records)
    result = correct(records, (pointer, value))
    assert result.exit_code in (1, 2), result.output
    assert message in result.output, result.output
    assert "Traceback" not in result.output
    assert _snapshot(records) == before


def test_correcting_the_score_recomputes_tier_and_verdict_and_records_them_as_derived(records):
    result = correct(records, ("/review/score", "9.1"))
    assert result.exit_code == 0, result.output
    entry = json.loads((records / FOLDER / "corrections" / "0001.json").read_text())
    tier = rules.derive_quality_tier(9.1)
    assert entry["changes"] == [
        {"field": "/review/score", "old": 3.4, "new": 9.1},
        {"field": "/quality_tier/tier", "old": "Quarantine candidate", "new": tier.name, "derived_by": "tier-by-score"},
        {"field": "/quality_tier/basis", "old": rules.derive_quality_tier(3.4).basis, "new": tier.basis, "derived_by": "tier-by-score"},
        {"field": "/review/verdict", "old": "REJECT", "new": rules.derive_verdict(9.1), "derived_by": "verdict-by-score"},
    ]
    folded = load_folded(records / FOLDER)
    assert folded.values["quality_tier"]["tier"] == tier.name and folded.values["review"]["verdict"] == "ACCEPT"
    assert validate_tree(records)[1] == []


def test_correcting_the_question_retitles_the_record(records):
    question = "Does soft modality-guided routing change expert load balance on ChartQA?"
    result = correct(records, ("/research_question", json.dumps(question)))
    assert result.exit_code == 0, result.output
    folded = load_folded(records / FOLDER)
    assert folded.values["title"] == question
    assert folded.values["short_title"] == "Does soft modality-guided routing change expert load balance on ChartQA?"
    assert folded.record_id == RECORD, "the id stays the one derived from the question as first published"
    assert validate_tree(records)[1] == []


@pytest.mark.slow
def test_a_record_page_shows_the_tier_verdict_and_title_the_rules_give_after_corrections(records, tmp_path):
    from generator.website.build import build_site

    assert correct(records, ("/review/score", "9.1")).exit_code == 0
    question = "Does soft modality-guided routing change expert load balance on ChartQA?"
    assert correct(records, ("/research_question", json.dumps(question))).exit_code == 0
    build_site(records, tmp_path / "site", work_dir=tmp_path / "build")
    page = (tmp_path / "site" / "records" / FOLDER / "index.html").read_text()
    tier = rules.derive_quality_tier(9.1)
    shown = page.split('id="correction-log"')[0]  # the log below keeps the old values, as "old → new"
    assert tier.name in shown and tier.basis in shown and "ACCEPT" in shown
    assert "Quarantine candidate" not in shown and "REJECT" not in shown
    assert f'<h1 id="' in page and question in page.split("</h1>")[0]
    index = json.loads((tmp_path / "site" / "records" / "index.json").read_text())
    row = next(r for r in index["records"] if r["record_id"] == RECORD)
    assert question in json.dumps(row, ensure_ascii=False)


def _hand_written_correction(records: Path, changes: list[dict]) -> Path:
    """Replace the changes of a correction made by `correct` by hand, recomputing its digest and its log
    line as a careful contributor would, so only the gate can object."""
    from generator.digests import sha256_json
    from generator.fsio import dump_json
    from generator.records import log
    from generator.records.corrections import entry_digest

    assert correct(records, ("/policy/basis", '"Corrected basis."')).exit_code == 0
    path = records / FOLDER / "corrections" / "0001.json"
    entry = {**json.loads(path.read_text()), "changes": changes}
    entry["sha256"] = entry_digest(entry)
    path.write_text(dump_json(entry))
    entries, _ = log.read_log(records)
    last = entries[-1]
    entries[-1] = log.LogEntry(last.index, last.at, last.record_id, last.sequence, sha256_json(entry))
    (records / "log.jsonl").write_bytes(log.log_bytes(entries))
    return path


def test_a_committed_correction_that_breaks_the_schema_fails_validate(records):
    path = _hand_written_correction(records, [{"field": "/review/score", "old": 3.4, "new": "high"}])
    messages = [str(p) for p in validate_tree(records)[1]]
    assert any(f"{path}#/review/score: the record as corrected by this entry: 'high' is not of type 'number'" in m for m in messages), messages


def test_a_committed_correction_of_a_derived_field_by_hand_fails_validate(records):
    _hand_written_correction(records, [{"field": "/review/score", "old": 3.4, "new": 9.1}])  # the tier and verdict left behind
    messages = [str(p) for p in validate_tree(records)[1]]
    assert any("/quality_tier/tier: the record as corrected by this entry: /review/score = 9.1 gives" in m for m in messages), messages
    assert any("/review/verdict: the record as corrected by this entry" in m for m in messages), messages


def test_a_draft_whose_verdict_contradicts_its_score_is_not_imported(tmp_path, fixed_epoch):
    draft = tmp_path / SEEDS[0].name
    draft.write_text(SEEDS[0].read_text(encoding="utf-8").replace("Tribunal: 1.5/10 → REJECT", "Tribunal: 7.2/10 → REJECT"),
                     encoding="utf-8")
    result = CliRunner().invoke(cli, ["import", str(draft), "--records", str(tmp_path / "records")])
    assert result.exit_code == 2, result.output
    assert f"error: {draft}: the draft gives a record that validate would reject" in result.output
    assert "/review/verdict" in result.output and "verdict-by-score" in result.output
    assert not (tmp_path / "records").exists()
