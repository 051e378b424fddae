"""`import`: kernel drafts and public record pages become valid records, by the written rules."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import REPO, SEEDS
from generator.cli import cli
from generator.errors import InputError
from generator.records.importer import import_files, parse_file
from generator.records.validate import validate_tree

GOLDEN = REPO / "tests" / "golden" / "import"


@pytest.mark.parametrize("seed", SEEDS, ids=lambda p: p.stem)
def test_import_matches_golden_files(seed, tmp_path, fixed_epoch, update_golden):
    [result] = import_files([seed], tmp_path)
    golden = GOLDEN / seed.stem
    produced = sorted(p.name for p in result.folder.iterdir())
    if update_golden:
        shutil.rmtree(golden, ignore_errors=True)
        shutil.copytree(result.folder, golden)
    assert produced == sorted(p.name for p in golden.iterdir())
    for name in produced:
        assert (result.folder / name).read_bytes() == (golden / name).read_bytes(), f"{seed.stem}/{name} differs from golden"


def test_importing_twice_gives_byte_identical_records(tmp_path, fixed_epoch):
    first = import_files(SEEDS, tmp_path / "a")
    second = import_files(SEEDS, tmp_path / "b")
    for a, b in zip(first, second):
        for path in a.folder.iterdir():
            assert path.read_bytes() == (b.folder / path.name).read_bytes()


def test_reimport_into_the_same_folder_leaves_published_files_alone(tmp_path, fixed_epoch):
    import_files(SEEDS[:1], tmp_path)
    [again] = import_files(SEEDS[:1], tmp_path)
    assert again.written is False


def test_reimport_of_the_same_source_later_leaves_the_record_alone(tmp_path, fixed_epoch, monkeypatch):
    [first] = import_files(SEEDS[:1], tmp_path)
    before = {p.name: p.read_bytes() for p in first.folder.iterdir()}
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1790000000")  # another recording time

    [again] = import_files(SEEDS[:1], tmp_path)

    assert again.written is False and again.folder == first.folder
    assert {p.name: p.read_bytes() for p in first.folder.iterdir()} == before


def _edited_seed(tmp_path: Path) -> Path:
    """Seed 000 with another claim confidence: same question and paper (so the same id), other source bytes."""
    edited = tmp_path / "edited" / SEEDS[0].name
    edited.parent.mkdir()
    edited.write_text(SEEDS[0].read_text(encoding="utf-8").replace("\t0.13\n", "\t0.14\n", 1), encoding="utf-8")
    return edited


def test_another_source_for_a_published_record_is_refused(tmp_path, fixed_epoch):
    [first] = import_files(SEEDS[:1], tmp_path / "records")
    before = (first.folder / "manifest.json").read_bytes()

    with pytest.raises(InputError, match="another source.*never rewritten"):
        import_files([_edited_seed(tmp_path)], tmp_path / "records")

    assert (first.folder / "manifest.json").read_bytes() == before


def test_a_conflict_anywhere_in_a_batch_writes_nothing(tmp_path, fixed_epoch):
    records = tmp_path / "records"
    [first] = import_files(SEEDS[:1], records)

    with pytest.raises(InputError, match="another source"):
        import_files([*SEEDS[1:], _edited_seed(tmp_path)], records)

    assert sorted(p.name for p in records.iterdir()) == [first.folder.name, "log.jsonl"]
    assert len((records / "log.jsonl").read_bytes().splitlines()) == 1


def test_two_sources_for_one_id_in_one_batch_are_refused(tmp_path, fixed_epoch):
    with pytest.raises(InputError, match="as does"):
        import_files([SEEDS[0], _edited_seed(tmp_path)], tmp_path / "records")
    assert not (tmp_path / "records").exists()


def test_the_five_seeds_import_as_valid_records(imported_records):
    records, problems = validate_tree(imported_records)
    assert problems == []
    assert len(records) == 5


def test_public_record_page_keeps_its_id_and_stated_values(tmp_path, fixed_epoch):
    [result] = import_files([SEEDS[4]], tmp_path)
    manifest = json.loads((result.folder / "manifest.json").read_text())
    provenance = json.loads((result.folder / "provenance.json").read_text())
    assert manifest["record_id"] == "SRCH:93BD3EF3"
    assert result.folder.name == "SRCH-93BD3EF3"
    assert (manifest["verification"]["level"], manifest["verification"]["label"]) == ("L2", "Source-grounded claims")
    assert manifest["verification"]["source_grounded_claims"] == 13
    assert manifest["quality_tier"]["tier"] == "Quarantine candidate"
    assert manifest["quality_tier"]["derivation"] == "stated"
    ratings = {k: v["rating"] for k, v in manifest["quality_dimensions"].items() if k != "derivation"}
    assert ratings == {"evidence_strength": "LOW", "citation_grounding": "MEDIUM",
                       "uncertainty_disclosure": "MEDIUM", "reproducibility_status": "MEDIUM"}
    assert (provenance["public_provenance"]["level"], provenance["public_provenance"]["label"]) == ("L3", "Claim aggregate record")
    assert provenance["claim_lineage"]["summary"] == "13 aggregate source-grounded claims"
    assert provenance["external_record"] == {"status": "Not registered", "doi": None}
    assert manifest["review"]["score"] is None, "004 does not disclose its score, so none is invented"


@pytest.mark.parametrize("seed, score, verdict, revision_round, tier", [
    (0, 1.5, "REJECT", 0, "Quarantine candidate"),
    (1, 2.2, "REJECT", 0, "Quarantine candidate"),
    (2, 3.4, "REJECT", 0, "Quarantine candidate"),
    (3, 5.0, "REVISE", 1, "Revision candidate"),
])
def test_draft_review_and_tier_follow_the_rules(seed, score, verdict, revision_round, tier):
    synthesis = parse_file(SEEDS[seed])
    assert (synthesis.review_score, synthesis.review_verdict, synthesis.revision_round) == (score, verdict, revision_round)
    from generator.records.rules import derive_quality_tier

    assert derive_quality_tier(score).name == tier


def test_draft_dimensions_are_derived_from_its_facts(tmp_path, fixed_epoch):
    [result] = import_files([SEEDS[0]], tmp_path)
    manifest = json.loads((result.folder / "manifest.json").read_text())
    ratings = {k: v["rating"] for k, v in manifest["quality_dimensions"].items() if k != "derivation"}
    # 0 of 8 claims verified; claims grounded in the target paper only; uncertainties and confidences
    # stated but the verifier unmeasured; parameters stated but not the exact queries.
    assert ratings == {"evidence_strength": "LOW", "citation_grounding": "MEDIUM",
                       "uncertainty_disclosure": "MEDIUM", "reproducibility_status": "MEDIUM"}
    assert manifest["quality_dimensions"]["derivation"] == "rule"


def test_truncated_title_and_abstract_are_kept_flagged_and_filled_in():
    synthesis = parse_file(SEEDS[0])
    fields = {t.field: t for t in synthesis.truncations}
    assert fields["/title"].as_drafted.endswith("compared to hard top")
    assert fields["/target_paper/abstract"].as_drafted.endswith("an expert binning mechanism aligne")
    assert fields["/target_paper/abstract"].restored_from == "arXiv record 2604.23996v1"
    assert synthesis.target.abstract.endswith("unlocks MoE-VLM capacity and efficiency.")
    assert synthesis.research_question.endswith("(e.g., style transfer or domain adaptation)?")


def test_record_id_is_content_derived_and_stable():
    from generator.records.compose import derive_record_id

    a = derive_record_id("Does X improve Y?", "2604.23996v1")
    assert a == derive_record_id("Does  X improve Y?", "2604.23996")
    assert a != derive_record_id("Does X improve Z?", "2604.23996")
    assert a.startswith("SRCH:") and len(a) == 13 and a[5:] == a[5:].upper()


def _broken_copy(tmp_path, seed_index, old, new):
    text = SEEDS[seed_index].read_text(encoding="utf-8")
    assert old in text
    bad = tmp_path / "bad.txt"
    bad.write_text(text.replace(old, new, 1), encoding="utf-8")
    return bad


@pytest.mark.parametrize("old, new, message", [
    ("8 claims extracted", "9 claims extracted", r":\d+: results state 9 claims extracted but the claims table has 8 rows"),
    ("\t×\t0.13", "\t×\tlots", r":\d+: confidence must be a number"),
    ("\t×\t0.13", "\t?\t0.13", r":\d+: verified mark must be one of"),
    ("3 Results", "3 Findings", r"missing section heading '3 Results'"),
    ("Tribunal: 1.5/10", "Tribunal: 11.5/10", r":\d+: tribunal score must be in \[0, 10\]"),
    ("- <http://arxiv.org/abs/1803.07724v1>", "- see the paper", r":\d+: reference must be"),
])
def test_malformed_draft_is_refused_naming_the_line_and_writes_nothing(tmp_path, fixed_epoch, old, new, message):
    bad = _broken_copy(tmp_path, 0, old, new)
    records = tmp_path / "records"
    with pytest.raises(InputError, match=message):
        import_files([SEEDS[1], bad], records)
    assert not records.exists(), "a malformed file in the batch means nothing is written"


def test_malformed_page_names_the_line(tmp_path):
    bad = _broken_copy(tmp_path, 4, "| Evidence strength | LOW | |", "| Evidence strength | SOMEWHAT | |")
    with pytest.raises(InputError, match=r"bad.txt:\d+: Evidence strength must be one of LOW, MEDIUM, HIGH"):
        parse_file(bad)


def test_import_cli_reports_each_record_and_errors_cleanly(tmp_path, fixed_epoch):
    runner = CliRunner()
    ok = runner.invoke(cli, ["import", *map(str, SEEDS), "--records", str(tmp_path / "r")])
    assert ok.exit_code == 0, ok.output
    assert "SRCH:93BD3EF3" in ok.output
    bad = _broken_copy(tmp_path, 0, "3 Results", "3 Findings")
    failed = runner.invoke(cli, ["import", str(bad), "--records", str(tmp_path / "r2")])
    assert failed.exit_code == 2
    assert "bad.txt" in failed.output and "missing section heading '3 Results'" in failed.output
    assert not (tmp_path / "r2").exists()


def test_shipped_example_records_are_valid_and_include_the_public_page():
    records, problems = validate_tree(REPO / "records")
    assert problems == []
    assert "SRCH:93BD3EF3" in {r.record_id for r in records}
