"""`run` on a fresh machine with no network: the five seed questions against the shipped corpus."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

import shutil

from conftest import REPO, SEEDS
from generator.cli import cli
from generator.errors import InputError
from generator.pipeline.config import PipelineConfig, config_from_dict
from generator.corpus import shipped_corpus
from generator.pipeline.run import Stages, run_pipeline
from generator.pipeline.verification import CONTRADICT, NOT_ENOUGH_INFO, Verification, VerifierSettings
from generator.records.importer import parse_file
from generator.records.validate import validate_tree

TARGET = "2604.23996"
QUESTIONS = {seed.name[:3]: parse_file(seed).research_question for seed in SEEDS}


def files_under(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("seed", sorted(QUESTIONS))
def test_each_seed_question_gives_a_valid_record(seed, tmp_path, fixed_epoch):
    records = tmp_path / "records"

    result = run_pipeline(QUESTIONS[seed], TARGET, PipelineConfig(), records)

    found, problems = validate_tree(records)
    assert problems == [] and len(found) == 1
    manifest = json.loads((result.folder / "manifest.json").read_bytes())
    provenance = json.loads((result.folder / "provenance.json").read_bytes())
    assert manifest["research_question"] == QUESTIONS[seed]
    assert manifest["origin"]["format"] == "pipeline-run" and manifest["origin"]["file"] == "pipeline"
    assert manifest["review"] == {"score": result.score, "verdict": result.verdict, "revision_round": result.revision_round,
                                  "method": "Automated multi-reviewer assessment",
                                  "roles": ["SKEPTIC", "VALIDATOR", "SYNTHESIZER"]}
    assert manifest["policy"]["decision"] == result.decision
    assert [a["path"] for a in manifest["artifacts"]] == ["provenance.json", "report.md"]
    report = next(a for a in manifest["artifacts"] if a["path"] == "report.md")
    assert report["media_type"] == "text/markdown; charset=utf-8"

    pipeline = provenance["pipeline"]
    assert pipeline["parameters_source"] == "Pipeline configuration of this run."
    assert pipeline["search"]["query_count"] == len(pipeline["search"]["queries"]) == 4
    assert pipeline["verification"]["method"] == "coverage-stance" and 0 < pipeline["verification"]["threshold"] < 1
    assert "training_data_sha256" in pipeline["verification"]["parameters"]
    assert pipeline["embedding"] == {"provider": "local", "model": "local-hashing-v1", "dimension": 1024}
    assert pipeline["tribunal"]["backend"].startswith("offline evidence reviewer")
    sources = provenance["sources"]
    assert sources[0]["role"] == "target" and sources[0]["arxiv_id"] == TARGET
    assert all(s["retrieved_at"] == "2026-05-28T20:26:40Z" and s["sha256"] for s in sources)
    assert provenance["retrieval"]["papers_retrieved"] == result.papers_retrieved >= len(sources) - 1
    assert provenance["claims"]["extracted"] == result.claims_extracted > 0
    assert provenance["claims"]["source_grounded"] == result.claims_extracted
    assert provenance["uncertainties"][0].startswith("coverage-stance verification reads shared words")
    assert provenance["uncertainties"][1].startswith("Measured on SciFact train (919 claim-abstract pairs, out-of-fold)")
    assert "of contradicted pairs verified" in provenance["uncertainties"][1]
    assert manifest["quality_dimensions"]["uncertainty_disclosure"]["rating"] == "HIGH"  # verifier measured
    assert manifest["quality_dimensions"]["reproducibility_status"]["rating"] == "HIGH"
    # Independent sources only: the target is never the evidence for its own claims.
    assert all(c.best_source and not c.best_source.startswith(TARGET) for c in result.claims)
    assert all(c.nearest_source for c in result.claims)


@pytest.mark.slow
def test_runs_of_the_seed_questions_sit_beside_the_imported_drafts_and_are_published(tmp_path, later_epoch):
    from generator.transparency.verify import verify_site
    from generator.website.build import build_site

    records = tmp_path / "records"
    shutil.copytree(REPO / "records", records)
    imported = {p.name for p in records.iterdir() if p.is_dir()}

    runs = [run_pipeline(QUESTIONS[seed], TARGET, PipelineConfig(), records) for seed in sorted(QUESTIONS)]

    assert all(r.written for r in runs)
    assert not {r.folder.name for r in runs} & imported  # a run is a new synthesis, never the imported draft's id
    site = tmp_path / "site"
    result = build_site(records, site, work_dir=tmp_path / "build")
    assert result.records == len(imported) + len(runs)
    for run in runs:
        assert (site / "records" / run.folder.name / "index.html").is_file()
        # The Markdown report is published byte for byte, never rendered as a page of its own.
        assert (site / "records" / run.folder.name / "report.md").read_bytes() == (run.folder / "report.md").read_bytes()
        assert not (site / "records" / run.folder.name / "report").exists()
    report = verify_site(site)
    assert report.problems == [] and report.entries == result.tree_size


def test_same_inputs_and_epoch_give_byte_identical_records(tmp_path, fixed_epoch):
    question = QUESTIONS["004"]
    first = run_pipeline(question, TARGET, PipelineConfig(), tmp_path / "a")
    second = run_pipeline(question, TARGET, PipelineConfig(), tmp_path / "b")

    assert first.record_id == second.record_id
    assert files_under(first.folder) == files_under(second.folder)

    again = run_pipeline(question, TARGET, PipelineConfig(), tmp_path / "a")  # rerun into the same folder
    assert again.written is False and files_under(again.folder) == files_under(first.folder)


def test_a_different_config_is_a_new_version_and_never_overwrites(tmp_path, fixed_epoch):
    records = tmp_path / "records"
    first = run_pipeline(QUESTIONS["000"], TARGET, PipelineConfig(), records)
    before = files_under(first.folder)
    other = config_from_dict({"search": {"max_results_per_query": 3}})

    second = run_pipeline(QUESTIONS["000"], TARGET, other, records)

    assert second.written and second.record_id != first.record_id
    assert json.loads((second.folder / "manifest.json").read_bytes())["is_new_version_of"]["record_id"] == first.record_id
    assert files_under(first.folder) == before


def test_the_semantic_index_chooses_which_sources_a_claim_is_compared_with(tmp_path, fixed_epoch):
    config = config_from_dict({"verification": {"max_sources_per_claim": 1}})

    result = run_pipeline(QUESTIONS["001"], TARGET, config, tmp_path / "records")

    assert all(c.best_source == c.nearest_source for c in result.claims)
    provenance = json.loads((result.folder / "provenance.json").read_bytes())
    assert provenance["pipeline"]["verification"]["parameters"]["max_sources_per_claim"] == 1


def test_another_verifier_is_recorded_and_its_accuracy_not_claimed(tmp_path, fixed_epoch):
    config = config_from_dict({"verification": {"verifier": "claim-coverage", "threshold": None}})

    result = run_pipeline(QUESTIONS["002"], TARGET, config, tmp_path / "records")

    provenance = json.loads((result.folder / "provenance.json").read_bytes())
    manifest = json.loads((result.folder / "manifest.json").read_bytes())
    verification = provenance["pipeline"]["verification"]
    assert verification["method"] == "claim-coverage" and verification["threshold"] == 0.3777
    assert verification["parameters"]["idf_fitted_on"].startswith("background corpus of")
    assert "The accuracy of the claim-coverage verifier at these settings has not been measured." in provenance["uncertainties"]
    assert manifest["quality_dimensions"]["uncertainty_disclosure"]["rating"] == "MEDIUM"
    assert validate_tree(tmp_path / "records")[1] == []


class OneLabelVerifier:
    """Labels every claim the same, against its nearest source: what a direction-aware verifier says, fixed."""

    name = "one-label"
    settings = VerifierSettings("one-label", (1, 1), 0.5)

    def __init__(self, label: str):
        self.label = label

    def fit(self, texts) -> None:
        pass

    def verify(self, claim: str, sources) -> Verification:
        if not sources:
            return Verification(NOT_ENOUGH_INFO, None, 0.0)
        against = sources[0][0] if self.label == CONTRADICT else None
        return Verification(self.label, sources[0][0], 0.2, contradicted_by=against, contradiction_score=0.9 if against else 0.0)


def test_a_verifier_that_finds_contradictions_lowers_the_review_against_one_that_finds_nothing(tmp_path, fixed_epoch):
    config = PipelineConfig()
    results = {}
    for label in (NOT_ENOUGH_INFO, CONTRADICT):
        stages = replace(Stages.from_config(config, shipped_corpus()), verifier=OneLabelVerifier(label))
        results[label] = run_pipeline(QUESTIONS["001"], TARGET, config, tmp_path / label, stages=stages)

    neither, contradicted = results[NOT_ENOUGH_INFO], results[CONTRADICT]
    assert all(c.label == CONTRADICT and c.contradicted_by == c.nearest_source for c in contradicted.claims)
    first = {label: {r.role: r.score for r in results[label].tribunal.rounds[0].reviews} for label in results}
    assert all(first[CONTRADICT][role] < first[NOT_ENOUGH_INFO][role] for role in first[CONTRADICT]), first
    assert contradicted.score < neither.score
    report = (contradicted.folder / "report.md").read_text(encoding="utf-8")
    assert report.count("; stance: contradicted by <code>") == len(contradicted.claims) > 0
    assert "; stance: not enough information;" in (neither.folder / "report.md").read_text(encoding="utf-8")


def test_a_revision_round_is_recorded_when_the_first_score_is_in_the_revision_window(tmp_path, fixed_epoch):
    # Lowering the window to the offline reviewer's first score forces the revision path end to end.
    first = run_pipeline(QUESTIONS["003"], TARGET, config_from_dict({"tribunal": {"max_revision_rounds": 0}}),
                         tmp_path / "probe")
    config = config_from_dict({"tribunal": {"reject_below": first.score, "revision_threshold": 10.0}})

    result = run_pipeline(QUESTIONS["003"], TARGET, config, tmp_path / "records")

    assert result.revision_round == 1
    report = (result.folder / "report.md").read_text(encoding="utf-8")
    assert "After revision round 1: combined score" in report
    assert "(revision_round=1)" in report
    assert any(c.withdrawn for c in result.claims) == ("withdrawn from the synthesis in revision" in report)
    assert validate_tree(tmp_path / "records")[1] == []


def test_cli_run_offline_prints_a_json_summary_and_progress(tmp_path, fixed_epoch):
    records = tmp_path / "records"
    result = CliRunner().invoke(cli, ["run", QUESTIONS["000"], "--paper", TARGET, "--offline",
                                      "--records", str(records), "--json"])

    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert set(summary) == {"record_id", "folder", "written", "papers_retrieved", "claims_extracted",
                            "claims_verified", "review", "policy"}
    assert summary["written"] is True and Path(summary["folder"]).is_dir()
    assert summary["policy"]["decision"] == "ESCALATE_TO_OWNER"
    assert "[1/9] target" in result.stderr and "[9/9] write" in result.stderr
    assert validate_tree(records)[1] == []


def test_cli_run_without_json_prints_the_results_line(tmp_path, fixed_epoch):
    result = CliRunner().invoke(cli, ["run", QUESTIONS["001"], "--paper", TARGET, "--records", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    assert "papers retrieved." in result.stdout and "Policy: ESCALATE_TO_OWNER." in result.stdout


@pytest.mark.parametrize("args, message", [
    (["--paper", "9999.99999"], "paper 9999.99999 was not found in the offline arXiv corpus"),
    (["--paper", "not-an-id"], "not an arXiv identifier"),
    (["--paper", "2604.23996v7"], "available metadata is version 2604.23996v1"),
    (["--paper", TARGET, "--set", "search.max_result=3"], "unknown key 'search.max_result'"),
])
def test_cli_errors_are_clean_and_write_nothing(tmp_path, args, message):
    records = tmp_path / "records"
    result = CliRunner().invoke(cli, ["run", QUESTIONS["000"], *args, "--records", str(records)])

    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.output
    assert not records.exists()


def test_an_empty_question_is_an_error(tmp_path):
    with pytest.raises(InputError, match="question is empty"):
        run_pipeline("  ", TARGET, PipelineConfig(), tmp_path)
