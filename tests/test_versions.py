"""Reruns as linked new versions: a differing rerun is a new record naming the one before it; an identical
rerun is a no-op; the earlier record is never edited; validate refuses an unsound link by file and pointer."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import SEEDS
from generator.cli import cli
from generator.corpus import shipped_corpus
from generator.errors import ValidationFailed
from generator.pipeline.config import PipelineConfig, config_from_dict
from generator.pipeline.run import run_pipeline
from generator.records import log, versions
from generator.records.compose import Artifact, Synthesis, VersionRef, compose_record, derive_record_id
from generator.records.corrections import IllegalCorrection, append_correction
from generator.records.importer import parse_file
from generator.records.layout import MANIFEST_FILE, folder_name
from generator.records.store import write_new_record
from generator.records.validate import validate_tree

TARGET = "2604.23996"
QUESTION = parse_file(SEEDS[0]).research_question
OTHER_VERIFIER = config_from_dict({"verification": {"verifier": "claim-coverage", "threshold": None}})
POINTER = "/is_new_version_of/record_id"


def files_under(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def manifest_of(folder: Path) -> dict:
    return json.loads((folder / MANIFEST_FILE).read_bytes())


def log_lines(records: Path) -> list[str]:
    return (records / "log.jsonl").read_text(encoding="utf-8").splitlines()


# --- reruns through `run` ------------------------------------------------------------------------------


def test_a_rerun_with_another_verifier_is_a_new_version_and_the_first_record_is_untouched(tmp_path, fixed_epoch):
    records = tmp_path / "records"
    first = run_pipeline(QUESTION, TARGET, PipelineConfig(), records)
    before = files_under(first.folder)

    second = run_pipeline(QUESTION, TARGET, OTHER_VERIFIER, records)

    assert second.written and second.folder != first.folder
    old, new = manifest_of(first.folder), manifest_of(second.folder)
    assert new["is_new_version_of"] == {"record_id": first.record_id, "sha256": old["sha256"]}
    assert new["record_id"] == derive_record_id(QUESTION, TARGET, "pipeline-run", first.record_id) == versions.next_version_id(old)
    assert "is_new_version_of" not in old
    assert files_under(first.folder) == before
    assert [json.loads(line)["record_id"] for line in log_lines(records)] == [first.record_id, second.record_id]
    assert validate_tree(records)[1] == []


def test_an_identical_rerun_is_a_no_op_for_any_published_version(tmp_path, fixed_epoch):
    records = tmp_path / "records"
    first = run_pipeline(QUESTION, TARGET, PipelineConfig(), records)
    second = run_pipeline(QUESTION, TARGET, OTHER_VERIFIER, records)
    published, lines = files_under(records), log_lines(records)

    again_second = run_pipeline(QUESTION, TARGET, OTHER_VERIFIER, records)
    again_first = run_pipeline(QUESTION, TARGET, PipelineConfig(), records)

    assert (again_second.written, again_second.record_id) == (False, second.record_id)
    assert (again_first.written, again_first.record_id) == (False, first.record_id)
    assert files_under(records) == published and log_lines(records) == lines


def test_a_third_run_continues_the_latest_version(tmp_path, fixed_epoch):
    records = tmp_path / "records"
    first = run_pipeline(QUESTION, TARGET, PipelineConfig(), records)
    second = run_pipeline(QUESTION, TARGET, OTHER_VERIFIER, records)

    third = run_pipeline(QUESTION, TARGET, config_from_dict({"search": {"max_results_per_query": 3}}), records)

    assert third.written
    assert manifest_of(third.folder)["is_new_version_of"]["record_id"] == second.record_id
    assert [m["record_id"] for m in versions.latest_versions(records, first.record_id)] == [
        first.record_id, second.record_id, third.record_id]
    assert validate_tree(records)[1] == []


def test_the_same_reruns_under_the_same_epoch_give_byte_identical_trees(tmp_path, fixed_epoch):
    for name in ("a", "b"):
        run_pipeline(QUESTION, TARGET, PipelineConfig(), tmp_path / name)
        run_pipeline(QUESTION, TARGET, OTHER_VERIFIER, tmp_path / name)

    assert files_under(tmp_path / "a") == files_under(tmp_path / "b")


def test_the_link_cannot_be_corrected(tmp_path, fixed_epoch):
    records = tmp_path / "records"
    first = run_pipeline(QUESTION, TARGET, PipelineConfig(), records)
    second = run_pipeline(QUESTION, TARGET, OTHER_VERIFIER, records)

    with pytest.raises(IllegalCorrection, match="field /is_new_version_of/record_id identifies the record"):
        append_correction(records, second.record_id, "correction", "point elsewhere", "tester",
                          [("/is_new_version_of/record_id", json.dumps("SRCH:00000000"))])


# --- hostile links: written past the gate (as a pull request could), refused by validate ----------------


def synthesis(question: str = QUESTION, **changes) -> Synthesis:
    """A small synthesis of the given question (what a kernel draft would state), as a pipeline run."""
    corpus = shipped_corpus()
    base = Synthesis(research_question=question, target=corpus.get(TARGET), origin_format="pipeline-run",
                     origin_file="pipeline", origin_bytes=b"inputs", claims_extracted=1, claims_source_grounded=1,
                     claims_verified=0, claim_confidences=[0.5], review_score=4.0, review_verdict="REJECT",
                     revision_round=0, policy_decision="ESCALATE_TO_OWNER", policy_basis="test",
                     report=Artifact("report", "report.md", "text/markdown; charset=utf-8", b"# report\n"))
    return dataclasses.replace(base, **changes)


def plant(records: Path, files: dict[str, bytes]) -> Path:
    """Write a record folder and its log line without the gate."""
    manifest = json.loads(files[MANIFEST_FILE])
    folder = records / folder_name(manifest["record_id"])
    folder.mkdir(parents=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    log.append_events(records, [(manifest["record_id"], 0, manifest)])
    return folder / MANIFEST_FILE


def ref(files: dict[str, bytes]) -> VersionRef:
    return versions.reference(json.loads(files[MANIFEST_FILE]))


def problems_at(records: Path, file: Path) -> list[str]:
    _, problems = validate_tree(records)
    return [p.message for p in problems if p.file == str(file) and p.pointer == POINTER]


def test_a_dangling_link_is_refused(tmp_path, fixed_epoch):
    records = tmp_path / "records"
    file = plant(records, compose_record(synthesis(new_version_of=VersionRef("SRCH:0BADF00D", "0" * 64))))

    assert problems_at(records, file) == ["names SRCH:0BADF00D as the record this is a new version of, but no such record is published"]
    with pytest.raises(ValidationFailed, match="SRCH:0BADF00D, which is not published"):  # and the gate refuses to write it
        files = compose_record(synthesis(new_version_of=VersionRef("SRCH:0BADF00D", "0" * 64), origin_bytes=b"other"))
        write_new_record(tmp_path / "other", json.loads(files[MANIFEST_FILE])["record_id"], files)


def test_a_link_to_a_record_published_later_is_refused(tmp_path, fixed_epoch):
    records = tmp_path / "records"
    first = compose_record(synthesis())
    second = compose_record(synthesis(new_version_of=ref(first), origin_bytes=b"rerun"))
    second_file = plant(records, second)
    first_id = json.loads(first[MANIFEST_FILE])["record_id"]
    plant(records, first)

    assert problems_at(records, second_file) == [
        f"{first_id} is published after this record (log line 2, this record line 1): a new version follows the record it replaces"]


def test_a_cycle_of_links_is_refused(tmp_path, fixed_epoch):
    records = tmp_path / "records"
    a = compose_record(synthesis(record_id="SRCH:AAAAAAAA", new_version_of=VersionRef("SRCH:BBBBBBBB", "0" * 64)))
    b = compose_record(synthesis(record_id="SRCH:BBBBBBBB", new_version_of=ref(a), origin_bytes=b"b"))
    a_file = plant(records, a)
    plant(records, b)

    assert "version links form a cycle: SRCH:AAAAAAAA -> SRCH:BBBBBBBB -> SRCH:AAAAAAAA" in problems_at(records, a_file)


def test_two_newer_versions_of_one_record_are_refused(tmp_path, fixed_epoch):
    records = tmp_path / "records"
    first = compose_record(synthesis())
    plant(records, first)
    plant(records, compose_record(synthesis(new_version_of=ref(first), origin_bytes=b"rerun 1")))
    first_newer = versions.next_version_id(json.loads(first[MANIFEST_FILE]))
    # A second newer version can only be planted under a forged id (the id rule gives it the first one's).
    forged = plant(records, compose_record(synthesis(record_id="SRCH:0000FACE", new_version_of=ref(first), origin_bytes=b"rerun 2")))

    assert problems_at(records, forged) == [
        f"{json.loads(first[MANIFEST_FILE])['record_id']} already has a newer version, {first_newer}; a new version continues the latest version"]
    assert any(p.pointer == "/record_id" for p in validate_tree(records)[1] if p.file == str(forged))


def test_a_new_version_of_another_question_or_a_changed_record_is_refused(tmp_path, fixed_epoch):
    records = tmp_path / "records"
    first = compose_record(synthesis())
    plant(records, first)
    other = plant(records, compose_record(synthesis("Another question?", new_version_of=dataclasses.replace(ref(first), sha256="1" * 64))))

    _, problems = validate_tree(records)
    messages = {p.pointer: p.message for p in problems if p.file == str(other)}
    first_id = ref(first).record_id
    assert messages["/research_question"] == f"a new version answers the same research question as {first_id}, which asks {QUESTION!r}"
    assert messages["/is_new_version_of/sha256"] == (f"{first_id}'s manifest has sha256 {ref(first).sha256}: "
                                                     "the link must name the record exactly as published")


def test_validate_names_the_file_and_pointer(tmp_path, fixed_epoch):
    records = tmp_path / "records"
    file = plant(records, compose_record(synthesis(new_version_of=VersionRef("SRCH:0BADF00D", "0" * 64))))

    result = CliRunner().invoke(cli, ["validate", str(records)])

    assert result.exit_code != 0
    assert f"{file}#{POINTER}: names SRCH:0BADF00D" in result.output


# --- the site: both pages link, the index and mirror carry the relation, verify passes ------------------


@pytest.mark.slow
def test_the_built_site_links_both_versions_and_verifies(tmp_path, fixed_epoch):
    from generator.transparency.verify import verify_site
    from generator.website.build import build_site

    records = tmp_path / "records"
    first = run_pipeline(QUESTION, TARGET, PipelineConfig(), records)
    second = run_pipeline(QUESTION, TARGET, OTHER_VERIFIER, records)
    site = tmp_path / "site"

    build_site(records, site, work_dir=tmp_path / "build")

    old_page = (site / "records" / first.folder.name / "index.html").read_text(encoding="utf-8")
    new_page = (site / "records" / second.folder.name / "index.html").read_text(encoding="utf-8")
    assert "A newer version of this record exists" in old_page
    assert f'href="../{second.folder.name}/">{second.record_id}</a>' in old_page
    assert "This record is a new version of" in new_page
    assert f'href="../{first.folder.name}/">{first.record_id}</a>' in new_page
    assert "A newer version of this record exists" not in new_page
    rows = {row["record_id"]: row for row in json.loads((site / "records" / "index.json").read_bytes())["records"]}
    assert (rows[first.record_id]["is_new_version_of"], rows[first.record_id]["newer_version"]) == (None, second.record_id)
    assert (rows[second.record_id]["is_new_version_of"], rows[second.record_id]["newer_version"]) == (first.record_id, None)
    assert json.loads((site / "records" / first.folder.name / "folded.json").read_bytes())["newer_version"] == second.record_id
    assert (site / "records" / first.folder.name / MANIFEST_FILE).read_bytes() == (first.folder / MANIFEST_FILE).read_bytes()
    report = verify_site(site)
    assert report.problems == []
