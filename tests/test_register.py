"""`register ID --zenodo`: deposit a record on Zenodo, publish it, append its DOI to the log; against a stand-in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import respx
from click.testing import CliRunner

from conftest import REPO, copy_records
from generator.cli import cli
from generator.errors import InputError
from generator.pipeline.retry import RetryPolicy
from generator.records import corrections as corr
from generator.records import registration
from generator.records.corrections import load_folded
from generator.records.layout import read_record
from generator.records.publisher import License, Person, Publisher, load_publisher
from generator.registries.zenodo import (SANDBOX_URL, ZENODO_URL, RegistrationIncomplete, ZenodoApi, ZenodoError,
                                         register)
from generator.registries.zenodo_metadata import from_datacite, zenodo_metadata
from generator.website.citing import export_record, record_citable
from zenodo_standin import ZenodoStandIn

TOKEN = "s3cr3t-zenodo-token-value"
RECORD = "SRCH-170CA349"
RECORD_ID = "SRCH:170CA349"
PAGE = f"https://sovereign-publish.github.io/registry/records/{RECORD}/"
FAST = RetryPolicy(max_retries=2, backoff_base=0.0, backoff_max=0.0)
SITE_PUBLISHER = load_publisher(REPO / "mkdocs.yml")  # what `register` and `export` read


@pytest.fixture
def records(tmp_path, later_epoch):
    return copy_records(tmp_path / "records", RECORD)


@pytest.fixture
def zenodo():
    with respx.mock(assert_all_called=False) as router:
        standin = ZenodoStandIn(ZENODO_URL, TOKEN)
        standin.mount(router)
        yield standin


def metadata_of(records: Path, license_id: str | None = "cc-by-4.0", publisher: Publisher = SITE_PUBLISHER):
    """What the CLI passes to ``register``: the record's citation in Zenodo's fields."""
    return lambda record: zenodo_metadata(record_citable(records, record, publisher), license_id)


def run_register(records, tmp_path, base=ZENODO_URL, **options):
    api = ZenodoApi(base, TOKEN, retry=FAST, sleep=lambda s: None)
    try:
        return register(records, RECORD_ID, api, metadata=metadata_of(records), state_dir=tmp_path / "state", **options)
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
        register(records, RECORD_ID, api, metadata=metadata_of(records), state_dir=tmp_path / "state")
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
    c = record_citable(records, read_record(records / RECORD), SITE_PUBLISHER)
    c.values["research_question"] = "<script>alert(1)</script>?"
    described = zenodo_metadata(c, "cc-by-4.0")["description"]
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


# --- the deposit's metadata is the record's DataCite metadata ---------------------------------------------

ORCID = "https://orcid.org/0000-0002-1825-0097"  # Josiah Carberry, ORCID's test person
PEOPLE = Publisher("Assignee Research", "https://ror.org/05dxps055",
                   License("https://creativecommons.org/licenses/by/4.0/", "CC BY 4.0", "CC-BY-4.0"),
                   (Person("Josiah", "Carberry", ORCID), Person("", "Research Bot")))


def assert_deposit_agrees(deposit: dict, datacite: dict) -> None:
    """Title, creators, related identifiers and correction status: Zenodo's fields say what DataCite's say.
    Zenodo's relation names are DataCite's with a lower-case initial; its schemes are the identifier types'."""
    from generator.escape import html

    assert deposit["title"] == datacite["titles"][0]["title"]
    people = [(c["name"], [i["nameIdentifier"] for i in c.get("nameIdentifiers", []) if i["nameIdentifierScheme"] == "ORCID"])
              for c in datacite["creators"]]
    assert [(c["name"], ["https://orcid.org/" + c["orcid"]] if "orcid" in c else []) for c in deposit["creators"]] == people
    related = [(r["relatedIdentifier"], r["relationType"][0].lower() + r["relationType"][1:], r["relatedIdentifierType"].lower())
               for r in datacite["relatedIdentifiers"]]
    assert [(r["identifier"], r["relation"], r["scheme"]) for r in deposit["related_identifiers"]] == \
        [(datacite["url"], "isIdenticalTo", "url")] + related
    [status] = [d["description"] for d in datacite["descriptions"] if d["descriptionType"] == "Other"]
    assert f"<p>{html(status)}</p>" in deposit["description"]
    assert deposit["publication_date"] == next(d["date"] for d in datacite["dates"] if d["dateType"] == "Issued")


def test_the_deposit_says_what_export_datacite_says_for_the_same_corrected_record(records, tmp_path, zenodo, monkeypatch):
    question = "Does <b>SMoES</b> & soft routing change MMMU accuracy?"
    corr.append_correction(records, RECORD_ID, "correction", "The question was misquoted.", "Assignee Research",
                           [("/research_question", json.dumps(question))])
    runner = CliRunner()
    datacite = json.loads(runner.invoke(cli, ["export", RECORD_ID, "--format", "datacite", "--records", str(records)]).stdout)
    monkeypatch.setenv("ZENODO_TOKEN", TOKEN)

    result = runner.invoke(cli, ["register", RECORD_ID, "--zenodo", "--records", str(records), "--state", str(tmp_path / "state")])

    assert result.exit_code == 0, result.output
    deposit = zenodo.depositions[123].metadata
    assert_deposit_agrees(deposit, datacite)
    assert deposit["title"] == load_folded(records / RECORD).values["title"] and "SMoES" in deposit["title"]
    assert "Correction status: Corrected since " in deposit["description"]
    assert [r["relation"] for r in deposit["related_identifiers"]] == ["isIdenticalTo", "references", "references", "references", "references"]
    assert [r["scheme"] for r in deposit["related_identifiers"][1:]] == ["doi", "arxiv", "arxiv", "arxiv"]
    # no --license: the licence mkdocs.yml states (extra.publisher.license.spdx CC-BY-4.0), as Zenodo's id
    assert deposit["license"] == "cc-by-4.0" == datacite["rightsList"][0]["rightsIdentifier"].lower()
    assert (deposit["upload_type"], deposit["publication_type"], deposit["imprint_publisher"]) == \
        ("publication", "other", datacite["publisher"]["name"])
    assert deposit["version"] == f"{RECORD_ID} (1 correction)" and deposit["keywords"] == ["sovereign-publish", RECORD_ID]


def test_a_retracted_record_maps_as_its_datacite_says_and_is_not_deposited(records, tmp_path, zenodo):
    reason = "The benchmarks it names are not in the paper."
    corr.append_correction(records, RECORD_ID, "retraction", reason, "Assignee Research", [])
    datacite = json.loads(export_record(records, RECORD_ID, "datacite", PEOPLE))

    deposit = zenodo_metadata(record_citable(records, read_record(records / RECORD), PEOPLE))

    assert_deposit_agrees(deposit, datacite)
    assert deposit["title"].startswith("RETRACTED: ") and f"Reason: {reason}" in deposit["description"]
    assert deposit["dates"] == [{"type": "Withdrawn", "start": datacite["dates"][-1]["date"], "end": datacite["dates"][-1]["date"],
                                 "description": f"Retracted: {reason}"}]
    assert deposit["creators"] == [{"name": "Carberry, Josiah", "orcid": "0000-0002-1825-0097"}, {"name": "Research Bot"}]
    with pytest.raises(InputError, match="is RETRACTED: a DOI is registered for a record readers may rely on"):
        run_register(records, tmp_path)
    assert zenodo.calls == []


def test_versions_before_and_after_map_to_zenodos_relation_names():
    from generator.records.citation import Citable, datacite

    manifest = json.loads((REPO / "records" / RECORD / "manifest.json").read_text(encoding="utf-8"))
    earlier, later = PAGE.replace("170CA349", "00000001"), PAGE.replace("170CA349", "00000002")
    c = Citable(RECORD_ID, PAGE, manifest, manifest["dates"]["recorded"], previous_url=earlier, newer_url=later,
                doi="10.5281/zenodo.99", publisher=PEOPLE)

    deposit = zenodo_metadata(c)

    assert_deposit_agrees({**deposit, "related_identifiers": [deposit["related_identifiers"][0]] + deposit["related_identifiers"][2:]},
                          datacite(c))
    assert deposit["related_identifiers"][1] == {"identifier": "10.5281/zenodo.99", "relation": "isIdenticalTo", "scheme": "doi",
                                                 "resource_type": "publication-other"}
    assert deposit["related_identifiers"][-2:] == [
        {"identifier": earlier, "relation": "isNewVersionOf", "scheme": "url", "resource_type": "publication-other"},
        {"identifier": later, "relation": "isPreviousVersionOf", "scheme": "url", "resource_type": "publication-other"}]
    assert "doi" not in deposit  # Zenodo's own "doi" field would ask it to reuse that DOI, not mint one


def test_a_license_that_contradicts_the_configured_one_is_refused_before_zenodo_is_asked(records, tmp_path, zenodo, monkeypatch):
    monkeypatch.setenv("ZENODO_TOKEN", TOKEN)
    result = CliRunner().invoke(cli, ["register", RECORD_ID, "--zenodo", "--license", "cc0-1.0", "--records", str(records),
                                      "--state", str(tmp_path / "state")])
    assert result.exit_code == 2
    assert "--license cc0-1.0 differs from the licence the record's citations state (cc-by-4.0" in result.output
    assert zenodo.calls == [] and not (tmp_path / "state").exists()


def test_without_a_license_given_or_configured_nothing_is_deposited(records, tmp_path, zenodo):
    api = ZenodoApi(ZENODO_URL, TOKEN, retry=FAST, sleep=lambda s: None)
    with pytest.raises(InputError, match=r"no licence for the deposit: give --license ID .* or set extra.publisher.license.spdx"):
        register(records, RECORD_ID, api, metadata=metadata_of(records, None, Publisher()), state_dir=tmp_path / "state")
    assert zenodo.calls == []
    # a given id is used as given when nothing is configured to contradict it
    assert metadata_of(records, "cc-by-sa-4.0", Publisher())(read_record(records / RECORD))["license"] == "cc-by-sa-4.0"


def test_a_datacite_relation_zenodo_has_no_name_for_is_refused_naming_where():
    from generator.errors import SovereignError
    from generator.records.citation import Citable, datacite

    manifest = json.loads((REPO / "records" / RECORD / "manifest.json").read_text(encoding="utf-8"))
    document = datacite(Citable(RECORD_ID, PAGE, manifest, manifest["dates"]["recorded"], publisher=SITE_PUBLISHER))
    document["relatedIdentifiers"][0]["relationType"] = "HasVersion"
    with pytest.raises(SovereignError, match="DataCite /relatedIdentifiers/0/relationType: 'HasVersion' has no Zenodo relation"):
        from_datacite(document, "cc-by-4.0")
