"""`register ID --zenodo`: deposit a record on Zenodo, publish it, append its DOI to the log; against a stand-in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import respx
from click.testing import CliRunner

from conftest import copy_records
from generator.cli import cli
from generator.pipeline.retry import RetryPolicy
from generator.records import registration
from generator.records.corrections import load_folded
from generator.records.layout import read_record
from generator.registries.zenodo import (SANDBOX_URL, ZENODO_URL, RegistrationIncomplete, ZenodoApi, ZenodoError,
                                         register)
from generator.registries.zenodo_metadata import zenodo_metadata
from zenodo_standin import ZenodoStandIn

TOKEN = "s3cr3t-zenodo-token-value"
RECORD = "SRCH-170CA349"
RECORD_ID = "SRCH:170CA349"
PAGE = f"https://sovereign-publish.github.io/registry/records/{RECORD}/"
FAST = RetryPolicy(max_retries=2, backoff_base=0.0, backoff_max=0.0)


@pytest.fixture
def records(tmp_path, later_epoch):
    return copy_records(tmp_path / "records", RECORD)


@pytest.fixture
def zenodo():
    with respx.mock(assert_all_called=False) as router:
        standin = ZenodoStandIn(ZENODO_URL, TOKEN)
        standin.mount(router)
        yield standin


def metadata(folded, provenance):
    return zenodo_metadata(folded, provenance, PAGE, "cc-by-4.0")


def run_register(records, tmp_path, base=ZENODO_URL, **options):
    api = ZenodoApi(base, TOKEN, retry=FAST, sleep=lambda s: None)
    try:
        return register(records, RECORD_ID, api, metadata=metadata, state_dir=tmp_path / "state", **options)
    finally:
        api.close()


def log_lines(records: Path) -> list[str]:
    return (records / "log.jsonl").read_text().splitlines()


def all_bytes(*folders: Path) -> bytes:
    return b"".join(p.read_bytes() for folder in folders if folder.exists() for p in sorted(folder.rglob("*")) if p.is_file())


def test_a_round_trip_deposits_the_files_publishes_and_appends_one_registration(records, tmp_path, zenodo):
    before = log_lines(records)

    done = run_register(records, tmp_path)

    assert (done.doi, done.deposition, done.record_url) == ("10.5281/zenodo.123", 123, "https://zenodo.org/records/123")
    deposition = zenodo.depositions[123]
    assert deposition.submitted
    assert deposition.files == {name: (records / RECORD / name).read_bytes() for name in ("manifest.json", "provenance.json", "report.txt")}
    assert deposition.metadata["title"] == load_folded(records / RECORD).values["title"]
    assert deposition.metadata["keywords"] == ["sovereign-publish", RECORD_ID]
    assert zenodo.calls == ["create", "upload", "upload", "upload", "metadata", "publish"]
    assert len(log_lines(records)) == len(before) + 1 and log_lines(records)[:-1] == before
    entry = read_record(records / RECORD).correction_entries[-1]
    assert (entry["type"], entry["changes"], entry["status_before"], entry["status_after"]) == ("editorial_note", [], "CURRENT", "CURRENT")
    assert entry["identifier"] == {"scheme": "doi", "value": "10.5281/zenodo.123", "registrar": "Zenodo",
                                   "url": "https://doi.org/10.5281/zenodo.123", "deposition": "https://zenodo.org/records/123"}
    assert registration.registered_doi(read_record(records / RECORD).correction_entries) == "10.5281/zenodo.123"
    assert not list((tmp_path / "state").iterdir())  # nothing left to resume


def test_the_cli_round_trip_passes_validate_build_and_verify_and_the_page_shows_the_doi(records, tmp_path, zenodo, monkeypatch):
    from generator.website.build import build_site

    monkeypatch.setenv("ZENODO_TOKEN", TOKEN)
    runner = CliRunner()
    result = runner.invoke(cli, ["register", RECORD_ID, "--zenodo", "--license", "cc-by-4.0", "--records", str(records),
                                 "--state", str(tmp_path / "state")])
    assert result.exit_code == 0, result.output
    assert "registered DOI 10.5281/zenodo.123" in result.output

    assert runner.invoke(cli, ["validate", str(records)]).exit_code == 0
    build_site(records, tmp_path / "site", work_dir=tmp_path / "build")
    verified = runner.invoke(cli, ["verify", str(tmp_path / "site")])
    assert verified.exit_code == 0, verified.output
    page = (tmp_path / "site" / "records" / RECORD / "index.html").read_text()
    assert '<td>External record</td><td>DOI <a href="https://doi.org/10.5281/zenodo.123">10.5281/zenodo.123</a>, registered with Zenodo' in page
    assert TOKEN.encode() not in all_bytes(records, tmp_path / "site", tmp_path / "state", tmp_path / "build")


def test_publish_failing_half_way_appends_nothing_and_says_how_to_resume(records, tmp_path, zenodo):
    before = (records / "log.jsonl").read_bytes()
    zenodo.fail("publish", 500, 500, 500)  # every attempt the retry policy allows

    with pytest.raises(RegistrationIncomplete) as failed:
        run_register(records, tmp_path)

    message = str(failed.value)
    assert "HTTP 500" in message and "after 3 attempts" in message
    assert f"Nothing was appended to {RECORD_ID}'s log. Zenodo deposition 123 is kept" in message
    assert f"resume it with: sovereign-publish register {RECORD_ID} --zenodo --resume 123" in message
    assert TOKEN not in message
    assert (records / "log.jsonl").read_bytes() == before
    assert not (records / RECORD / "corrections").exists()
    assert zenodo.depositions[123].files and not zenodo.depositions[123].submitted


def test_resuming_completes_the_same_deposition_without_creating_another(records, tmp_path, zenodo):
    zenodo.fail("publish", 500, 500, 500)
    with pytest.raises(RegistrationIncomplete):
        run_register(records, tmp_path)

    done = run_register(records, tmp_path, resume=123)

    assert done.deposition == 123 and list(zenodo.depositions) == [123]
    assert zenodo.calls.count("create") == 1
    assert zenodo.calls[-3:] == ["get", "metadata", "publish"]  # the uploaded files are not sent again
    assert registration.registered_doi(read_record(records / RECORD).correction_entries) == "10.5281/zenodo.123"


def test_a_plain_rerun_resumes_from_the_state_file(records, tmp_path, zenodo):
    zenodo.fail("upload", 400)  # not retried: the run stops after creating the deposition
    with pytest.raises(RegistrationIncomplete, match="deposition 123"):
        run_register(records, tmp_path)
    assert json.loads((tmp_path / "state" / f"zenodo.org-{RECORD}.json").read_text())["deposition"] == 123

    done = run_register(records, tmp_path)

    assert done.deposition == 123 and zenodo.calls.count("create") == 1


def test_a_deposition_published_but_not_logged_is_only_logged_on_resume(records, tmp_path, zenodo):
    with pytest.raises(RegistrationIncomplete):
        run_register(records, tmp_path, by="")  # an empty --by is refused by the log append, after publishing
    assert zenodo.depositions[123].submitted
    assert read_record(records / RECORD).correction_entries == []

    done = run_register(records, tmp_path)

    assert done.doi == "10.5281/zenodo.123" and zenodo.calls[-1] == "get"


def test_resume_refuses_a_deposition_of_other_files(records, tmp_path, zenodo):
    zenodo.depositions[7] = stranger = __import__("zenodo_standin").Deposition(7, f"{ZENODO_URL}/api/files/bucket-7")
    stranger.files["thesis.pdf"] = b"%PDF"

    with pytest.raises(Exception, match="holds files that are not SRCH:170CA349's"):
        run_register(records, tmp_path, resume=7)
    assert stranger.files == {"thesis.pdf": b"%PDF"}


def test_a_registered_record_is_not_registered_twice(records, tmp_path, zenodo):
    run_register(records, tmp_path)
    with pytest.raises(Exception, match="already registered with Zenodo as DOI 10.5281/zenodo.123"):
        run_register(records, tmp_path)
    assert zenodo.calls.count("create") == 1


def test_a_create_that_times_out_is_not_sent_again(records, tmp_path, zenodo):
    import httpx

    zenodo.fail("create", httpx.ReadTimeout("no answer"))
    with pytest.raises(ZenodoError, match="it may have been carried out, not retried"):
        run_register(records, tmp_path)
    assert zenodo.calls == ["create"]


def test_rate_limited_calls_are_retried(records, tmp_path, zenodo):
    zenodo.fail("create", 429)
    zenodo.fail("upload", 503, 502)

    assert run_register(records, tmp_path).doi == "10.5281/zenodo.123"
    assert zenodo.calls.count("create") == 2


def test_a_wrong_token_is_an_error_that_does_not_show_it(records, tmp_path, zenodo):
    api = ZenodoApi(ZENODO_URL, "wrong-token", retry=FAST, sleep=lambda s: None)
    with pytest.raises(ZenodoError) as failed:
        register(records, RECORD_ID, api, metadata=metadata, state_dir=tmp_path / "state")
    assert "HTTP 401" in str(failed.value) and "wrong-token" not in str(failed.value)


def test_the_sandbox_registers_a_test_doi_the_page_marks_and_that_is_not_the_records_doi(records, tmp_path):
    from generator.website.pages import record_view
    from generator.website.record_page import record_html

    with respx.mock(assert_all_called=False) as router:
        ZenodoStandIn(SANDBOX_URL, TOKEN).mount(router)
        done = run_register(records, tmp_path, base=SANDBOX_URL)
    assert (done.doi, done.record_url) == ("10.5072/zenodo.123", "https://sandbox.zenodo.org/records/123")
    record = read_record(records / RECORD)
    view = record_view(record.manifest, record.provenance, record.correction_entries)
    assert view.doi is None
    assert "Zenodo Sandbox: it does not resolve and does not identify this record" in record_html(view)


def test_the_cli_needs_a_token_and_names_the_variable(records, monkeypatch):
    monkeypatch.delenv("ZENODO_TOKEN", raising=False)
    result = CliRunner().invoke(cli, ["register", RECORD_ID, "--zenodo", "--license", "cc-by-4.0", "--records", str(records)])
    assert result.exit_code == 2 and "set ZENODO_TOKEN" in result.output


def test_the_cli_reports_an_unpublished_deposition_and_the_resume_command(records, tmp_path, zenodo, monkeypatch):
    monkeypatch.setenv("ZENODO_TOKEN", TOKEN)
    zenodo.fail("publish", 400)
    result = CliRunner().invoke(cli, ["register", RECORD_ID, "--zenodo", "--license", "cc-by-4.0", "--records", str(records),
                                      "--state", str(tmp_path / "state")])
    assert result.exit_code == 1
    assert "Zenodo answered HTTP 400 to POST /api/deposit/depositions/123/actions/publish: stand-in publish failure" in result.output
    assert f"resume it with: sovereign-publish register {RECORD_ID} --zenodo --resume 123" in result.output


def test_the_deposit_metadata_escapes_the_records_text_as_html(records):
    folded = load_folded(records / RECORD)
    folded.values["research_question"] = "<script>alert(1)</script>?"
    described = zenodo_metadata(folded, {}, PAGE, "cc-by-4.0")["description"]
    assert "<script>" not in described and "&lt;script&gt;alert(1)&lt;/script&gt;?" in described


def test_the_schema_takes_an_identifier_only_on_an_editorial_note_that_changes_nothing():
    from generator.records import rules
    from generator.records.schemas import load_schema, schema_problems

    entry = dict(load_schema(rules.CORRECTION_CONTRACT)["examples"][0])
    entry["identifier"] = registration.identifier("10.5281/zenodo.123", "Zenodo", "https://zenodo.org/records/123")
    assert [p.pointer for p in schema_problems(entry, rules.CORRECTION_CONTRACT, "0001.json")] == ["/changes", "/type"]
    entry.update(type="editorial_note", changes=[])
    assert schema_problems(entry, rules.CORRECTION_CONTRACT, "0001.json") == []
    entry["identifier"] = {**entry["identifier"], "url": "javascript:alert(1)"}
    assert [p.pointer for p in schema_problems(entry, rules.CORRECTION_CONTRACT, "0001.json")] == ["/identifier/url"]
