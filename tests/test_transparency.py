"""A log its own maintainers cannot rewrite: signed checkpoints in publication order, their history,
`verify` over every byte, the deploy check and the witness, tried as an attacker would.

The sites here are built from copies of the shipped records with a test key (a fixed seed), so
they are signed exactly as the deployed site is.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import copy_records
from generator.cli import cli
from generator.errors import InputError
from generator.records import log
from generator.records.compose import derive_record_id
from generator.records.corrections import append_correction
from generator.records.layout import read_record
from generator.records.validate import validate_tree
from generator.transparency import note
from generator.transparency.remote import InconsistentTree
from generator.transparency.verify import verify_site
from generator.website.build import build_site, seal_site
from site_fixtures import serve_site, source_date_epoch

ORIGIN = "sovereign-publish.github.io/registry"
SIGNER_TEXT, VERIFIER_TEXT = note.generate_key(ORIGIN, seed=bytes(range(32)))
SIGNER, VERIFIER = note.load_signer(SIGNER_TEXT), note.load_verifier(VERIFIER_TEXT)
TARGET = "2604.23996"
T0 = 1795348800  # 2026-11-22T12:00:00Z, after the shipped records; every later event is a minute on


def _first_sorting_question() -> str:
    """A research question whose record id sorts before every shipped one: the case that broke the old,
    id-sorted tree."""
    for i in range(1000):
        question = f"Does soft modality-guided routing variant {i} change expert load balance?"
        if derive_record_id(question, TARGET, "pipeline-run") < "SRCH:1":
            return question
    raise AssertionError("no first-sorting question found")


def _grow(records: Path, minute: int) -> str:
    """Publish a first-sorting record, correct it twice and correct a shipped record; returns its id."""
    from generator.pipeline.config import PipelineConfig
    from generator.pipeline.run import run_pipeline

    with source_date_epoch(str(T0 + 60 * minute)):
        result = run_pipeline(_first_sorting_question(), TARGET, PipelineConfig(), records)
        append_correction(records, result.record_id, "expression_of_concern", "Checking the sources.", "Editor", [])
    with source_date_epoch(str(T0 + 60 * (minute + 1))):
        append_correction(records, result.record_id, "retraction", "The sources do not hold.", "Editor", [])
        append_correction(records, "SRCH:170CA349", "correction", "Publisher misspelt.", "Editor", [("/publisher", '"Assignee Research Lab"')])
    return result.record_id


def _build(records: Path, out: Path, *, previous: str | None = None, signer=SIGNER):
    with source_date_epoch(str(T0 + 3600)):
        return build_site(records, out / "site", work_dir=out / "build", previous=previous, signer=signer)


@dataclass
class Registry:
    """Two deploys: site0 (the five shipped records), then site1 (a first-sorting record and corrections)."""

    root: Path
    records0: Path
    records1: Path
    site0: Path
    site1: Path
    new_id: str


@pytest.fixture(scope="module")
def registry(tmp_path_factory) -> Registry:
    root = tmp_path_factory.mktemp("registry")
    records0 = copy_records(root / "records0")
    _build(records0, root / "deploy0")
    records1 = root / "records1"
    shutil.copytree(records0, records1)
    new_id = _grow(records1, 1)
    _build(records1, root / "deploy1", previous=str(root / "deploy0" / "site"))
    return Registry(root, records0, records1, root / "deploy0" / "site", root / "deploy1" / "site", new_id)


def _verify(*args: str):
    return CliRunner().invoke(cli, ["verify", *map(str, args)])


def _copy(site: Path, tmp_path: Path, name: str = "copy") -> Path:
    target = tmp_path / name
    shutil.copytree(site, target)
    return target


def _key_file(tmp_path: Path) -> Path:
    path = tmp_path / "log.pub"
    path.write_text(VERIFIER_TEXT + "\n")
    return path


# --- an append-order log ----------------------------------------------------------------------------


def test_adding_a_record_that_sorts_first_and_corrections_keeps_the_old_checkpoint_provable(registry, tmp_path):
    assert registry.new_id < "SRCH:170CA349"
    saved = tmp_path / "saved-checkpoint"
    shutil.copyfile(registry.site0 / "checkpoint", saved)
    result = _verify(registry.site1, "--key", _key_file(tmp_path), "--since", saved)
    assert result.exit_code == 0, result.output
    assert "consistent with the saved checkpoint of size 5" in result.output
    assert "signed by sovereign-publish.github.io/registry" in result.output
    history = json.loads((registry.site1 / "checkpoints.json").read_text())
    assert [c["size"] for c in history["checkpoints"]] == [5, 9]
    assert history["checkpoints"][-1]["note"] == (registry.site1 / "checkpoint").read_text()


def _without_log_lines(records: Path, drop) -> None:
    """Rewrite the log without the entries ``drop`` selects, reindexed: what an owner who wants an entry
    gone would have to do for `validate` and `build` to pass."""
    entries, _ = log.read_log(records)
    kept = [e for e in entries if not drop(e)]
    renumbered = [log.LogEntry(i, e.at, e.record_id, e.sequence, e.sha256) for i, e in enumerate(kept)]
    (records / "log.jsonl").write_bytes(log.log_bytes(renumbered))


def _drop_correction(records: Path, new_id: str) -> None:
    folder = records / new_id.replace(":", "-")
    (folder / "corrections" / "0002.json").unlink()
    _without_log_lines(records, lambda e: e.record_id == new_id and e.sequence == 2)


def _drop_record(records: Path, new_id: str) -> None:
    shutil.rmtree(records / new_id.replace(":", "-"))
    _without_log_lines(records, lambda e: e.record_id == new_id)


def _reorder(records: Path, new_id: str) -> None:
    entries, _ = log.read_log(records)
    first, second = entries[0], entries[1]  # two records published in the same second
    swapped = [second, first, *entries[2:]]
    renumbered = [log.LogEntry(i, e.at, e.record_id, e.sequence, e.sha256) for i, e in enumerate(swapped)]
    (records / "log.jsonl").write_bytes(log.log_bytes(renumbered))


@pytest.mark.parametrize("rewrite", [_drop_correction, _drop_record, _reorder], ids=["drop-correction", "drop-record", "reorder"])
def test_a_rewritten_log_rebuilt_and_re_signed_by_the_owner_fails_verify_since(registry, tmp_path, rewrite):
    records = tmp_path / "records"
    shutil.copytree(registry.records1, records)
    rewrite(records, registry.new_id)
    assert validate_tree(records)[1] == [], "the rewritten registry is self-consistent: only history shows the rewrite"
    _build(records, tmp_path / "rewritten")  # signed with the real key: the owner is the attacker here
    saved = tmp_path / "saved"
    shutil.copyfile(registry.site1 / "checkpoint", saved)
    result = _verify(tmp_path / "rewritten" / "site", "--key", _key_file(tmp_path), "--since", saved)
    assert result.exit_code == 1, result.output
    assert ("entries published before it were changed, removed or reordered" in result.output
            or "published entries were removed" in result.output), result.output


def test_the_deploy_check_refuses_a_tree_inconsistent_with_the_live_checkpoint_served_on_127_0_0_1(registry, tmp_path):
    reordered, dropped = tmp_path / "reordered", tmp_path / "dropped"
    for records, rewrite in ((reordered, _reorder), (dropped, _drop_correction)):
        shutil.copytree(registry.records1, records)
        rewrite(records, registry.new_id)
    with serve_site(registry.site1) as live:
        with pytest.raises(InconsistentTree, match="not consistent with the checkpoint of size 5"):
            _build(reordered, tmp_path / "inconsistent", previous=live)
        with pytest.raises(InconsistentTree, match="already published 9 log entries, this tree has only 8"):
            _build(dropped, tmp_path / "inconsistent", previous=live)
        with pytest.raises(InconsistentTree, match="already published 9 log entries, this tree has only 5"):
            _build(registry.records0, tmp_path / "smaller", previous=live)
        assert not (tmp_path / "inconsistent" / "site").exists() and not (tmp_path / "smaller" / "site").exists()

        grown = tmp_path / "grown"
        shutil.copytree(registry.records1, grown)
        with source_date_epoch(str(T0 + 600)):
            append_correction(grown, "SRCH:7AEAE763", "editorial_note", "Checked again.", "Editor", [])
        result = _build(grown, tmp_path / "next", previous=live)
    assert result.history == 3
    sizes = [c["size"] for c in json.loads((tmp_path / "next" / "site" / "checkpoints.json").read_text())["checkpoints"]]
    assert sizes == [5, 9, 10]
    assert _verify(tmp_path / "next" / "site", "--key", _key_file(tmp_path)).exit_code == 0


def test_a_live_checkpoint_signed_by_another_key_is_refused(registry, tmp_path):
    other = note.load_signer(note.generate_key(ORIGIN, seed=bytes(32))[0])
    with pytest.raises(InconsistentTree, match="does not verify"):
        _build(registry.records1, tmp_path / "x", previous=str(registry.site1), signer=other)


# --- signed checkpoints --------------------------------------------------------------------------------


def test_a_signed_checkpoint_verifies_only_with_its_key_and_unaltered(registry, tmp_path):
    assert _verify(registry.site1, "--key", _key_file(tmp_path)).exit_code == 0
    text = (registry.site1 / "checkpoint").read_text()
    body, signatures = text.split("\n\n")
    flipped_body = body.replace("\n9\n", "\n8\n")
    signature_line = signatures.rstrip("\n")
    flipped_signature = signature_line[:-3] + ("A" if signature_line[-3] != "A" else "B") + signature_line[-2:]
    for name, altered in [("body", flipped_body + "\n\n" + signatures), ("signature", body + "\n\n" + flipped_signature + "\n")]:
        site = _copy(registry.site1, tmp_path, name)
        (site / "checkpoint").write_text(altered)
        result = _verify(site, "--key", _key_file(tmp_path))
        assert result.exit_code == 1 and "checkpoint: checkpoint does not verify" in result.output, (name, result.output)
    other = tmp_path / "other.pub"
    other.write_text(note.generate_key(ORIGIN, seed=bytes(32))[1] + "\n")
    result = _verify(registry.site1, "--key", other)
    assert result.exit_code == 1 and "expected a signature by a known key" in result.output


def test_an_unsigned_build_says_so_and_fails_verify_with_a_key(registry, tmp_path):
    result = CliRunner().invoke(cli, ["build", "--records", str(registry.records0), "--out", str(tmp_path / "site"),
                                      "--work", str(tmp_path / "build")], env={"SOVEREIGN_LOG_KEY": ""})
    assert result.exit_code == 0, result.output
    assert "UNSIGNED" in result.output and "the checkpoint is unsigned" in result.output
    assert "UNSIGNED" in _verify(tmp_path / "site").output
    assert _verify(tmp_path / "site", "--key", _key_file(tmp_path)).exit_code == 1


def test_build_signs_with_the_key_from_the_environment(registry, tmp_path):
    result = CliRunner().invoke(cli, ["build", "--records", str(registry.records0), "--out", str(tmp_path / "site"),
                                      "--work", str(tmp_path / "build")], env={"SOVEREIGN_LOG_KEY": SIGNER_TEXT})
    assert result.exit_code == 0, result.output
    assert SIGNER_TEXT not in result.output
    assert (tmp_path / "site" / "checkpoint").read_bytes() == (registry.site0 / "checkpoint").read_bytes(), "Ed25519 is deterministic"


# --- verify covers every byte -----------------------------------------------------------------------------


def test_any_one_byte_changed_in_any_file_fails_verify_and_names_the_path(registry, tmp_path):
    site = _copy(registry.site1, tmp_path)
    files = sorted(p for p in site.rglob("*") if p.is_file())
    assert len(files) > 90
    for path in files:
        original = path.read_bytes()
        position = len(original) // 2
        path.write_bytes(original[:position] + bytes([original[position] ^ 0x01]) + original[position + 1:])
        problems = verify_site(site, verifiers=[VERIFIER]).problems
        path.write_bytes(original)
        assert any(p.file.startswith(str(path)) for p in problems), f"{path.relative_to(site)}: {problems[:3]}"
    assert verify_site(site, verifiers=[VERIFIER]).problems == []


def test_an_added_file_a_removed_file_and_a_script_injected_into_every_page_fail_verify(registry, tmp_path):
    site = _copy(registry.site1, tmp_path)
    (site / "records" / "extra.html").write_text("<script>alert(1)</script>")
    (site / "records" / "SRCH-7AEAE763" / "folded.json").unlink()
    result = _verify(site, "--key", _key_file(tmp_path))
    assert result.exit_code == 1
    assert "records/extra.html: added" in result.output
    assert "SRCH-7AEAE763/folded.json: missing" in result.output

    site = _copy(registry.site1, tmp_path, "injected")
    pages = list(site.rglob("*.html"))
    for page in pages:
        page.write_text(page.read_text().replace("</body>", "<script>steal()</script></body>"))
    result = _verify(site, "--key", _key_file(tmp_path))
    assert result.output.count(": changed:") == len(pages)


def test_two_swapped_record_folders_fail_verify(registry, tmp_path):
    site = _copy(registry.site1, tmp_path)
    a, b = site / "records" / "SRCH-7AEAE763", site / "records" / "SRCH-B45010EB"
    a.rename(site / "swap")
    b.rename(a)
    (site / "swap").rename(b)
    result = _verify(site, "--key", _key_file(tmp_path))
    assert result.exit_code == 1
    assert "SRCH-7AEAE763/index.html: changed" in result.output
    assert "record 'SRCH:B45010EB' is served at SRCH-7AEAE763/: a record folder was moved or swapped" in result.output


def test_a_symlink_in_the_site_fails_verify(registry, tmp_path):
    site = _copy(registry.site1, tmp_path)
    (site / "records" / "SRCH-7AEAE763" / "report.txt").unlink()
    os.symlink("/etc/hostname", site / "records" / "SRCH-7AEAE763" / "report.txt")
    result = _verify(site)
    assert "SRCH-7AEAE763/report.txt: not a regular file" in result.output


def test_verify_rebuild_passes_on_a_fresh_build_and_catches_an_edited_page_re_listed_and_re_signed(registry, tmp_path):
    result = _verify(registry.site1, "--key", _key_file(tmp_path), "--rebuild")
    assert result.exit_code == 0, result.output
    assert "every file matches a rebuild" in result.output

    # The key holder removes the RETRACTED banner, re-lists the page's digest and re-signs: only a
    # rebuild from the mirrored records shows the page is not what the records say.
    site = _copy(registry.site1, tmp_path)
    page = site / "records" / registry.new_id.replace(":", "-") / "index.html"
    html = page.read_text()
    assert "Retracted on" in html
    page.write_text(html.replace("Retracted on", "Current since"))
    history = json.loads((site / "checkpoints.json").read_text())
    previous = [__import__("generator.transparency.checkpoint", fromlist=["HistoryItem"]).HistoryItem(
        item["note"], note.parse_checkpoint(note.split_note(item["note"])[0])) for item in history["checkpoints"][:-1]]
    for name in ("checkpoint", "checkpoints.json", "site-manifest.json"):
        (site / name).unlink()
    from generator.transparency.checkpoint import log_tree

    entries, _ = log.parse_log_bytes((site / "log.jsonl").read_bytes(), "log.jsonl")
    seal_site(site, log_tree(entries), SIGNER, previous)
    assert _verify(site, "--key", _key_file(tmp_path)).exit_code == 0, "re-listed and re-signed: the digests alone agree"
    result = _verify(site, "--key", _key_file(tmp_path), "--rebuild")
    assert result.exit_code == 1
    assert f"{page}: differs from a rebuild from the mirrored records" in result.output


def test_verify_reads_a_live_site_over_http(registry, tmp_path):
    saved = tmp_path / "saved"
    shutil.copyfile(registry.site0 / "checkpoint", saved)
    with serve_site(registry.site1) as url:
        result = _verify(url, "--key", _key_file(tmp_path), "--since", saved)
        assert result.exit_code == 0, result.output
        assert "consistent with the saved checkpoint of size 5" in result.output
        result = _verify(url + "missing/", "--key", _key_file(tmp_path))
    assert result.exit_code == 2 and "HTTP 404" in result.output and "Traceback" not in result.output


# --- the witness ------------------------------------------------------------------------------------------


def test_the_witness_cosigns_only_a_tree_consistent_with_the_last_one_it_cosigned(registry, tmp_path):
    from generator.transparency.witness import WitnessRefused, witness

    witness_signer = note.load_witness_signer(note.generate_witness_key("witness.example/w1", seed=b"w" * 32)[0])
    state = tmp_path / "state"
    with source_date_epoch(str(T0 + 7200)):
        first = witness(str(registry.site0), VERIFIER, witness_signer, state)
        assert note.verify_cosignature(first, witness_signer.verifier()) == T0 + 7200
        second = witness(str(registry.site1), VERIFIER, witness_signer, state)
    assert note.parse_checkpoint(note.split_note(second)[0]).size == 9
    saved_state = (next(state.iterdir())).read_bytes()

    for rewrite, refusal in ((_drop_record, "shrank from 9 to 6"), (_reorder, "two different trees of size 9")):
        records = tmp_path / rewrite.__name__
        shutil.copytree(registry.records1, records)
        rewrite(records, registry.new_id)
        _build(records, tmp_path / f"{rewrite.__name__}-site")  # re-signed with the log key
        with pytest.raises(WitnessRefused, match=refusal):
            witness(str(tmp_path / f"{rewrite.__name__}-site" / "site"), VERIFIER, witness_signer, state)
        assert next(state.iterdir()).read_bytes() == saved_state, "a refusal leaves the witness's state as it was"


# --- time --------------------------------------------------------------------------------------------------


def _snapshot(records: Path) -> dict[str, bytes]:
    return {str(p.relative_to(records)): p.read_bytes() for p in sorted(records.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("epoch, message", [
    ("978307200", "before the record was recorded"),  # 2001-01-01
    ("32503680000", "in the future"),  # 3000-01-01
], ids=["back-dated", "future-dated"])
def test_a_back_dated_or_future_dated_correction_is_refused_with_nothing_written(tmp_path, monkeypatch, epoch, message):
    records = copy_records(tmp_path / "records")
    before = _snapshot(records)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
    result = CliRunner().invoke(cli, ["correct", "SRCH:93BD3EF3", "--records", str(records), "--type", "retraction", "--reason", "x"])
    assert result.exit_code == 2 and message in result.output, result.output
    assert _snapshot(records) == before


def test_a_correction_dated_before_the_last_published_event_is_refused(tmp_path, monkeypatch):
    records = copy_records(tmp_path / "records")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(T0 + 600))
    append_correction(records, "SRCH:7AEAE763", "editorial_note", "Later note.", "Editor", [])
    before = _snapshot(records)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(T0))
    with pytest.raises(InputError, match="before the last published event"):
        append_correction(records, "SRCH:93BD3EF3", "retraction", "Earlier retraction.", "Editor", [])
    assert _snapshot(records) == before


def test_a_committed_out_of_order_correction_fails_validate(tmp_path, monkeypatch):
    records = copy_records(tmp_path / "records")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(T0))
    append_correction(records, "SRCH:93BD3EF3", "expression_of_concern", "Checking.", "Editor", [])
    path = records / "SRCH-93BD3EF3" / "corrections" / "0001.json"
    entry = json.loads(path.read_text())
    entry["at"] = "2001-01-01T00:00:00Z"  # hand-edited, digest and log line recomputed to match
    from generator.fsio import dump_json
    from generator.records.corrections import entry_digest

    entry["sha256"] = entry_digest(entry)
    path.write_text(dump_json(entry))
    entries, _ = log.read_log(records)
    last = entries[-1]
    from generator.digests import sha256_json

    entries[-1] = log.LogEntry(last.index, entry["at"], last.record_id, last.sequence, sha256_json(entry))
    (records / "log.jsonl").write_bytes(log.log_bytes(entries))
    messages = [str(p) for p in validate_tree(records)[1]]
    assert any("0001.json#/at: dated 2001-01-01T00:00:00Z, before the record was recorded" in m for m in messages), messages
    assert any("time never decreases along the log" in m for m in messages), messages


def test_a_new_record_recorded_in_2001_is_refused(tmp_path, monkeypatch):
    from conftest import SEEDS
    from generator.records.importer import import_files

    records = copy_records(tmp_path / "records", "SRCH-93BD3EF3")
    before = _snapshot(records)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "978307200")
    with pytest.raises(InputError, match="before the last published event"):
        import_files(SEEDS[:1], records)
    assert _snapshot(records) == before


def test_corrections_show_their_author_as_stated(registry):
    page = (registry.site1 / "records" / registry.new_id.replace(":", "-") / "index.html").read_text()
    assert "stated by Editor" in page


# --- keys ---------------------------------------------------------------------------------------------------


def test_keygen_writes_the_private_key_outside_the_repository_only(tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    monkeypatch.chdir(repo)
    result = CliRunner().invoke(cli, ["keygen", "--private", str(repo / "log.key"), "--public", "keys/log.pub"])
    assert result.exit_code == 2 and "inside the git work tree" in result.output
    assert not (repo / "log.key").exists() and not (repo / "keys").exists()
    result = CliRunner().invoke(cli, ["keygen", "--private", str(tmp_path / "secret" / "log.key"), "--public", "keys/log.pub"])
    assert result.exit_code == 0, result.output
    private = tmp_path / "secret" / "log.key"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    signer = note.load_signer(private.read_text().strip())
    assert note.load_verifier((repo / "keys" / "log.pub").read_text().strip()) == signer.verifier()
    assert private.read_text().strip() not in result.output
    again = CliRunner().invoke(cli, ["keygen", "--private", str(private), "--public", "keys/other.pub"])
    assert again.exit_code == 2 and "never overwritten" in again.output


def test_migrate_log_orders_a_legacy_registry_by_time_and_refuses_to_run_twice(tmp_path):
    records = copy_records(tmp_path / "records")
    expected = (records / "log.jsonl").read_bytes()
    (records / "log.jsonl").unlink()
    assert "publication log is missing" in str(validate_tree(records)[1])
    result = CliRunner().invoke(cli, ["migrate-log", "--records", str(records)])
    assert result.exit_code == 0, result.output
    assert (records / "log.jsonl").read_bytes() == expected
    assert [e.record_id for e in log.read_log(records)[0]] == sorted(r.record_id for r in map(read_record, sorted(p for p in records.iterdir() if p.is_dir())))
    assert CliRunner().invoke(cli, ["migrate-log", "--records", str(records)]).exit_code == 2


def test_a_reader_checks_the_site_against_a_checkpoint_a_witness_cosigned(registry, tmp_path):
    from generator.transparency.witness import witness

    witness_signer_text, witness_verifier_text = note.generate_witness_key("witness.example/w1", seed=b"v" * 32)
    other_text = note.generate_witness_key("witness.example/w1", seed=b"o" * 32)[1]
    (tmp_path / "witness.pub").write_text(witness_verifier_text + "\n")
    (tmp_path / "other.pub").write_text(other_text + "\n")
    with source_date_epoch(str(T0 + 7200)):
        cosigned = witness(str(registry.site0), VERIFIER, note.load_witness_signer(witness_signer_text), tmp_path / "state")
    (tmp_path / "cosigned").write_text(cosigned)

    result = _verify(registry.site1, "--key", _key_file(tmp_path), "--since", tmp_path / "cosigned", "--witness-key", tmp_path / "witness.pub")
    assert result.exit_code == 0, result.output
    assert "cosigned by witness witness.example/w1" in result.output

    result = _verify(registry.site1, "--key", _key_file(tmp_path), "--since", tmp_path / "cosigned", "--witness-key", tmp_path / "other.pub")
    assert result.exit_code == 1 and "no valid cosignature by witness witness.example/w1" in result.output
    uncosigned = tmp_path / "plain"
    shutil.copyfile(registry.site0 / "checkpoint", uncosigned)
    result = _verify(registry.site1, "--since", uncosigned, "--witness-key", tmp_path / "witness.pub")
    assert result.exit_code == 1 and "expected a cosignature by witness.example/w1" in result.output
