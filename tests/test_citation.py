"""Citable records: `export ID --format datacite|bibtex|ris|csl-json` and the citation files of the site.

* Every shipped record exports in every format, and each parses as what it claims to be: DataCite JSON
  validates against the DataCite 4.5 schema the ``datacite`` package ships, BibTeX parses with
  ``bibtexparser``, CSL-JSON renders with ``citeproc-py`` (a style it ships), RIS reads back tag by tag.
* Exports derive from the folded record: a corrected title is the title cited; a retracted record is
  cited as "RETRACTED: ..." with the reason in DataCite, BibTeX, RIS and CSL.
* Record text is data in every format: a title like ``50% {faster} \\input{x}`` reads back as itself
  from BibTeX, never as a command or an unbalanced brace.
* Identifiers: the DOI when registered, else the page; versions before and after; ROR and ORCID iDs
  when configured, checked (check digits included); a wrong one is an error naming the file and key.
* Unknown id or format: a clear error and a non-zero exit. Same record, same bytes.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from pathlib import Path

import bibtexparser
import pytest
from bibtexparser import middlewares
from click.testing import CliRunner
from datacite import schema45

from conftest import REPO, SEEDS
from generator.cli import cli
from generator.errors import InputError
from generator.records import citation
from generator.records import corrections as corr
from generator.records.citation import Citable
from generator.records.publisher import License, Person, Publisher, load_publisher, orcid_problem, parse_publisher, ror_problem
from generator.website import citing

SHIPPED = sorted(json.loads(p.read_text(encoding="utf-8"))["record_id"] for p in (REPO / "records").glob("SRCH-*/manifest.json"))
FORMATS = ["datacite", "bibtex", "ris", "csl-json"]
SITE_PUBLISHER = load_publisher(REPO / "mkdocs.yml")
# Josiah Carberry's ORCID iD (ORCID's own test person) and ROR ids of real organisations, check digits included.
ORCID = "https://orcid.org/0000-0002-1825-0097"
ROR = "https://ror.org/05dxps055"
CONFIGURED = Publisher("Assignee Research", ROR, License("https://creativecommons.org/licenses/by/4.0/", "CC BY 4.0", "CC-BY-4.0"),
                       (Person("Josiah", "Carberry", ORCID), Person("", "Research Bot")))
RIS_LINE = re.compile(r"(?P<tag>[A-Z][A-Z0-9])  - (?P<value>.*)")


@dataclasses.dataclass
class Exported:
    exit_code: int
    output: str  # standard output exactly as written (RIS keeps its CRLF)
    errors: str  # what a user reads: standard output and error together


def export(*args: str, records: Path = REPO / "records") -> Exported:
    result = CliRunner().invoke(cli, ["export", *args, "--records", str(records)])
    return Exported(result.exit_code, result.stdout_bytes.decode("utf-8"), result.output)


def datacite_errors(data: dict) -> list[str]:
    return [error.message for error in schema45.validator.iter_errors(data)]


def read_bibtex(text: str) -> dict:
    """The one entry of ``text``, its fields decoded from LaTeX to the text they stand for."""
    from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db

    # LaTeX's text commands for the characters BibTeX cannot hold as they are (pylatexenc renders
    # \textasciicircum as U+02C6 and drops the brace commands; LaTeX prints ^, { and }).
    context = get_default_latex_context_db()
    context.add_context_category("latex-text-commands", prepend=True, macros=[
        MacroTextSpec("textbraceleft", "{"), MacroTextSpec("textbraceright", "}"), MacroTextSpec("textasciicircum", "^")])
    decoder = LatexNodes2Text(latex_context=context, math_mode="verbatim", keep_braced_groups=False)
    library = bibtexparser.parse_string(text, append_middleware=[middlewares.LatexDecodingMiddleware(decoder=decoder)])
    assert library.failed_blocks == [] and len(library.entries) == 1, library.failed_blocks
    entry = library.entries[0]
    return {"ENTRYTYPE": entry.entry_type, "ID": entry.key, **{field.key: field.value for field in entry.fields}}


def read_ris(text: str) -> list[tuple[str, str]]:
    lines = text.split("\r\n")
    assert lines[-1] == "" and lines[-2] == "ER  - ", "a RIS record ends with ER and CRLF"
    parsed = [RIS_LINE.fullmatch(line) for line in lines[:-1]]
    assert all(parsed), [line for line, match in zip(lines, parsed) if not match]
    return [(m["tag"], m["value"]) for m in parsed]


def render_csl(items: list[dict]) -> str:
    """The bibliography entry citeproc-py renders with the Harvard style it ships."""
    from citeproc import Citation, CitationItem, CitationStylesBibliography, CitationStylesStyle, formatter
    from citeproc.source.json import CiteProcJSON

    source = CiteProcJSON(items)
    style = CitationStylesStyle("harvard-cite-them-right", validate=False)
    bibliography = CitationStylesBibliography(style, source, formatter.plain)
    bibliography.register(Citation([CitationItem(items[0]["id"])]))
    return "".join(str(entry) for entry in bibliography.bibliography())


def citable(**changes) -> Citable:
    manifest = json.loads((REPO / "records" / "SRCH-170CA349" / "manifest.json").read_text(encoding="utf-8"))
    provenance = json.loads((REPO / "records" / "SRCH-170CA349" / "provenance.json").read_text(encoding="utf-8"))
    base = Citable("SRCH:170CA349", "https://sovereign-publish.github.io/registry/records/SRCH-170CA349/", manifest,
                   manifest["dates"]["recorded"], provenance=provenance, publisher=SITE_PUBLISHER)
    return dataclasses.replace(base, **changes)


# --- every shipped record, every format ---------------------------------------------------------------


@pytest.mark.parametrize("record_id", SHIPPED)
def test_every_shipped_record_exports_valid_datacite(record_id):
    result = export(record_id, "--format", "datacite")
    assert result.exit_code == 0, result.errors
    data = json.loads(result.output)
    assert datacite_errors(data) == []
    manifest = json.loads((REPO / "records" / record_id.replace(":", "-") / "manifest.json").read_text(encoding="utf-8"))
    assert data["titles"] == [{"title": manifest["title"], "lang": "en"}]
    assert data["publicationYear"] == manifest["dates"]["recorded"][:4]
    assert data["url"] == f"https://sovereign-publish.github.io/registry/records/{record_id.replace(':', '-')}/"
    assert "doi" not in data  # none is registered: the page is the identifier
    assert {"alternateIdentifier": data["url"], "alternateIdentifierType": "URL"} in data["alternateIdentifiers"]
    related = {(r["relatedIdentifier"], r["relationType"]) for r in data["relatedIdentifiers"]}
    arxiv_id = manifest["target_paper"]["arxiv_id"]
    assert (f"10.48550/arXiv.{arxiv_id}", "References") in related
    assert (f"arXiv:{arxiv_id}{manifest['target_paper']['version']}", "References") in related
    assert data["rightsList"][0]["rightsUri"] == SITE_PUBLISHER.license.url
    assert [d["descriptionType"] for d in data["descriptions"]] == ["Abstract", "TechnicalInfo", "Other"]
    assert data["descriptions"][2]["description"] == "Correction status: Current (no corrections)."


@pytest.mark.parametrize("record_id", SHIPPED)
def test_every_shipped_record_exports_bibtex_that_parses(record_id):
    result = export(record_id, "--format", "bibtex")
    assert result.exit_code == 0, result.errors
    entry = read_bibtex(result.output)
    manifest = json.loads((REPO / "records" / record_id.replace(":", "-") / "manifest.json").read_text(encoding="utf-8"))
    assert (entry["ENTRYTYPE"], entry["ID"]) == ("misc", record_id.replace(":", "-"))
    assert entry["title"] == manifest["title"]
    assert entry["author"] == "Assignee Research"
    assert entry["year"] == manifest["dates"]["recorded"][:4]
    assert entry["url"].endswith(f"/records/{record_id.replace(':', '-')}/")


@pytest.mark.parametrize("record_id", SHIPPED)
def test_every_shipped_record_exports_csl_json_that_citeproc_renders(record_id):
    result = export(record_id, "--format", "csl-json")
    assert result.exit_code == 0, result.errors
    items = json.loads(result.output)
    assert [item["id"] for item in items] == [record_id]
    rendered = render_csl(items)
    assert items[0]["title"][:40] in rendered and "Assignee Research" in rendered and "2026" in rendered


@pytest.mark.parametrize("record_id", SHIPPED)
def test_every_shipped_record_exports_ris_that_reads_back_line_by_line(record_id):
    result = export(record_id, "--format", "ris")
    assert result.exit_code == 0, result.errors
    lines = read_ris(result.output)
    tags = [tag for tag, _ in lines]
    assert tags[0] == "TY" and tags[-1] == "ER"
    values = dict(lines)
    manifest = json.loads((REPO / "records" / record_id.replace(":", "-") / "manifest.json").read_text(encoding="utf-8"))
    assert values["TI"] == manifest["title"]
    assert values["PY"] == manifest["dates"]["recorded"][:4]
    assert values["ID"] == record_id and values["AU"] == "Assignee Research" and values["PB"] == manifest["publisher"]
    assert "DO" not in values  # no DOI registered


def test_the_same_record_exports_the_same_bytes_and_out_writes_them(tmp_path):
    first = export("SRCH:93BD3EF3", "--format", "datacite").output
    assert export("SRCH:93BD3EF3", "--format", "datacite").output == first
    result = export("SRCH:93BD3EF3", "--format", "datacite", "--out", str(tmp_path / "out" / "d.json"))
    assert result.exit_code == 0
    assert (tmp_path / "out" / "d.json").read_text(encoding="utf-8") == first
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["d.json"]  # no temporary file left behind


# --- bad input ----------------------------------------------------------------------------------------


def test_an_unknown_record_is_a_clear_error():
    result = export("SRCH:00000000", "--format", "bibtex")
    assert result.exit_code == 2
    assert "unknown record SRCH:00000000" in result.errors and "Traceback" not in result.errors


def test_a_path_is_not_taken_as_a_record_id():
    result = export("../SRCH-170CA349", "--format", "ris")
    assert result.exit_code == 2 and "is not a record id" in result.errors


def test_an_unknown_format_is_a_clear_error():
    result = export("SRCH:93BD3EF3", "--format", "xml")
    assert result.exit_code == 2 and "'xml' is not one of 'datacite', 'bibtex', 'ris', 'csl-json'" in result.errors
    with pytest.raises(InputError, match="unknown format 'endnote'"):
        citation.render(citable(), "endnote")


def test_an_invalid_record_is_not_exported(tmp_path):
    records = tmp_path / "records"
    shutil.copytree(REPO / "records", records)
    manifest = records / "SRCH-170CA349" / "manifest.json"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace('"score": 3.4', '"score": 9.9'), encoding="utf-8")
    result = export("SRCH:170CA349", "--format", "bibtex", records=records)
    assert result.exit_code != 0 and "manifest.json#/sha256" in result.errors


# --- the folded record: corrections and retraction ------------------------------------------------------


@pytest.fixture
def corrected_records(tmp_path, later_epoch) -> Path:
    records = tmp_path / "records"
    shutil.copytree(REPO / "records", records)
    question = "Does increasing the number of experts in SMOES change MMMU accuracy under 50% {noise} \\input{x}?"
    corr.append_correction(records, "SRCH:170CA349", "correction", "The question was misquoted.", "Assignee Research",
                           [("/research_question", json.dumps(question))])
    corr.append_correction(records, "SRCH:B45010EB", "retraction", "The benchmarks it names are not in the paper.",
                           "Assignee Research", [])
    return records


def test_a_corrected_record_is_cited_with_its_corrected_title(corrected_records):
    data = json.loads(export("SRCH:170CA349", "--format", "datacite", records=corrected_records).output)
    expected = "Does increasing the number of experts in SMOES change MMMU accuracy under 50% {noise} \\input{x}?"
    assert data["titles"][0]["title"] == expected
    assert datacite_errors(data) == []
    assert data["descriptions"][2]["description"].startswith("Correction status: Corrected since ")
    assert "(1 correction). Reason: The question was misquoted." in data["descriptions"][2]["description"]
    assert {"date": data["dates"][-1]["date"], "dateType": "Updated"} == data["dates"][-1]
    assert read_bibtex(export("SRCH:170CA349", "--format", "bibtex", records=corrected_records).output)["title"] == expected
    assert dict(read_ris(export("SRCH:170CA349", "--format", "ris", records=corrected_records).output))["TI"] == expected
    [item] = json.loads(export("SRCH:170CA349", "--format", "csl-json", records=corrected_records).output)
    assert item["title"] == expected and item["status"] == "corrected"


def test_a_retracted_record_exports_its_retraction_in_every_format(corrected_records):
    reason = "The benchmarks it names are not in the paper."
    out = {f: export("SRCH:B45010EB", "--format", f, records=corrected_records).output for f in FORMATS}
    data = json.loads(out["datacite"])
    assert datacite_errors(data) == []
    assert data["titles"][0]["title"].startswith("RETRACTED: ")
    other = [d["description"] for d in data["descriptions"] if d["descriptionType"] == "Other"]
    assert len(other) == 1 and other[0].startswith("RETRACTED on 2026-11-22. Reason: " + reason)
    assert [d["dateType"] for d in data["dates"]][-1] == "Withdrawn"
    entry = read_bibtex(out["bibtex"])
    assert entry["title"].startswith("RETRACTED: ") and reason in entry["note"]
    ris = read_ris(out["ris"])
    assert dict(ris)["TI"].startswith("RETRACTED: ") and any(tag == "N1" and reason in value for tag, value in ris)
    [item] = json.loads(out["csl-json"])
    assert item["title"].startswith("RETRACTED: ") and item["status"] == "retracted" and reason in item["note"]
    assert "RETRACTED: " in render_csl([item])


# --- untrusted text ----------------------------------------------------------------------------------------


HOSTILE_TITLES = [
    "50% {faster} \\input{x}",
    "unbalanced } brace { and \\end{document} @misc{evil, title={x}}",
    "# & _ $ ~ ^ % \\\\ \\textbf{bold} {{nested}}",
    "line\nbreak\r\nand\ttab \x00 control",
]


@pytest.mark.parametrize("hostile", HOSTILE_TITLES)
def test_record_text_reads_back_from_bibtex_as_data(hostile):
    c = citable(values={**citable().values, "title": hostile, "publisher": "Pub {&} Co \\relax"})
    text = citation.bibtex(c)
    entry = read_bibtex(text)
    expected = " ".join(hostile.replace("\x00", "\ufffd").split())
    assert entry["title"] == expected
    assert entry["publisher"] == "Pub {&} Co \\relax"
    # no backslash of the record's survives as a command: each is \textbackslash{}
    assert "\\input" not in text and "\\end{document}" not in text and "\\relax" not in text
    assert text.count("\n@") == 0 and text.startswith("@misc{SRCH-170CA349,")


@pytest.mark.parametrize("hostile", HOSTILE_TITLES)
def test_record_text_stays_on_one_ris_line_and_in_json_as_is(hostile):
    c = citable(values={**citable().values, "title": hostile})
    expected = " ".join(hostile.replace("\x00", "\ufffd").split())
    assert dict(read_ris(citation.ris(c)))["TI"] == expected
    assert citation.datacite(c)["titles"][0]["title"] == expected
    assert datacite_errors(citation.datacite(c)) == []
    assert citation.csl_json(c)[0]["title"] == expected


# --- identifiers ---------------------------------------------------------------------------------------------


def test_a_registered_doi_is_the_identifier_in_every_format():
    c = citable(doi="10.5281/zenodo.1234567")
    data = citation.datacite(c)
    assert data["doi"] == "10.5281/zenodo.1234567" and datacite_errors(data) == []
    assert {"alternateIdentifierType": "URL"} not in [{"alternateIdentifierType": a["alternateIdentifierType"]} for a in data["alternateIdentifiers"]]
    assert read_bibtex(citation.bibtex(c))["doi"] == "10.5281/zenodo.1234567"
    assert "  doi = {10.1000/a_b-(c)},\n" in citation.bibtex(citable(doi="10.1000/a_b-(c)"))  # verbatim in biblatex
    assert dict(read_ris(citation.ris(c)))["DO"] == "10.5281/zenodo.1234567"
    assert citation.csl_json(c)[0]["DOI"] == "10.5281/zenodo.1234567"
    assert citation.plain_text(c).endswith("https://doi.org/10.5281/zenodo.1234567")


def test_versions_are_linked_both_ways(tmp_path, fixed_epoch):
    from generator.corpus import shipped_corpus
    from generator.records import versions
    from generator.records.compose import Artifact, Synthesis, compose_record
    from generator.records.store import write_new_record

    base = Synthesis(research_question="Does soft routing help?", target=shipped_corpus().get("2604.23996"),
                     origin_format="pipeline-run", origin_file="pipeline", origin_bytes=b"inputs", claims_extracted=1,
                     claims_source_grounded=1, claims_verified=0, claim_confidences=[0.5], review_score=4.0,
                     review_verdict="REJECT", revision_round=0, policy_decision="ESCALATE_TO_OWNER", policy_basis="test",
                     report=Artifact("report", "report.md", "text/markdown; charset=utf-8", b"# report\n"))
    records = tmp_path / "records"
    first = compose_record(base)
    first_id = json.loads(first["manifest.json"])["record_id"]
    write_new_record(records, first_id, first)
    second = compose_record(dataclasses.replace(base, origin_bytes=b"rerun",
                                                new_version_of=versions.reference(json.loads(first["manifest.json"]))))
    second_id = json.loads(second["manifest.json"])["record_id"]
    write_new_record(records, second_id, second)
    old = json.loads(export(first_id, "--format", "datacite", records=records).output)
    new = json.loads(export(second_id, "--format", "datacite", records=records).output)
    page = "https://sovereign-publish.github.io/registry/records/{}/"
    assert {"relatedIdentifier": page.format(second_id.replace(":", "-")), "relatedIdentifierType": "URL",
            "relationType": "IsPreviousVersionOf", "resourceTypeGeneral": "Text"} in old["relatedIdentifiers"]
    assert {"relatedIdentifier": page.format(first_id.replace(":", "-")), "relatedIdentifierType": "URL",
            "relationType": "IsNewVersionOf", "resourceTypeGeneral": "Text"} in new["relatedIdentifiers"]
    assert not any(r["relationType"] == "IsNewVersionOf" for r in old["relatedIdentifiers"])
    assert datacite_errors(old) == [] and datacite_errors(new) == []


def test_cited_sources_are_references_once_each_and_the_target_is_not_repeated():
    data = citation.datacite(citable())
    arxiv = [r["relatedIdentifier"] for r in data["relatedIdentifiers"] if r["relatedIdentifierType"] == "arXiv"]
    assert arxiv == ["arXiv:2604.23996v1", "arXiv:2602.09258v1", "arXiv:2603.11114v1"]


def test_configured_people_ror_and_licence_go_into_every_format():
    c = citable(publisher=CONFIGURED)
    data = citation.datacite(c)
    assert datacite_errors(data) == []
    assert data["creators"][0] == {"name": "Carberry, Josiah", "nameType": "Personal", "familyName": "Carberry", "givenName": "Josiah",
                                   "nameIdentifiers": [{"nameIdentifier": ORCID, "nameIdentifierScheme": "ORCID",
                                                        "schemeUri": "https://orcid.org/"}]}
    assert data["creators"][1] == {"name": "Research Bot", "nameType": "Personal", "familyName": "Research Bot"}
    assert data["publisher"] == {"name": "Assignee Research", "publisherIdentifier": ROR, "publisherIdentifierScheme": "ROR",
                                 "schemeUri": "https://ror.org/"}
    assert data["rightsList"] == [{"rights": "CC BY 4.0", "rightsUri": "https://creativecommons.org/licenses/by/4.0/",
                                   "rightsIdentifier": "CC-BY-4.0", "rightsIdentifierScheme": "SPDX", "schemeUri": "https://spdx.org/licenses/"}]
    assert read_bibtex(citation.bibtex(c))["author"] == "Carberry, Josiah and Research Bot"
    assert [v for t, v in read_ris(citation.ris(c)) if t == "AU"] == ["Carberry, Josiah", "Research Bot"]
    assert citation.csl_json(c)[0]["author"] == [{"family": "Carberry", "given": "Josiah"}, {"family": "Research Bot"}]


def test_the_ror_id_is_only_given_to_the_publisher_it_belongs_to():
    values = {**citable().values, "publisher": "Another Lab"}
    data = citation.datacite(citable(values=values, publisher=dataclasses.replace(CONFIGURED, creators=())))
    assert data["publisher"] == {"name": "Another Lab"}
    assert data["creators"] == [{"name": "Another Lab", "nameType": "Organizational"}]


@pytest.mark.parametrize("ror", ["https://ror.org/05dxps055", "https://ror.org/00f54p054", "https://ror.org/042nb2s44"])
def test_real_ror_ids_pass(ror):
    assert ror_problem(ror) is None


@pytest.mark.parametrize("ror, why", [("https://ror.org/05dxps056", "check digits"), ("05dxps055", "as its URL"),
                                      ("https://ror.org/15dxps055", "as its URL"), ("https://ror.org/05dxpl055", "as its URL"),
                                      ("http://ror.org/05dxps055", "as its URL")])
def test_a_mistyped_ror_id_is_refused(ror, why):
    assert why in ror_problem(ror)


@pytest.mark.parametrize("orcid", [ORCID, "https://orcid.org/0000-0001-5109-3700", "https://orcid.org/0000-0002-1694-233X"])
def test_real_orcid_ids_pass(orcid):
    assert orcid_problem(orcid) is None


@pytest.mark.parametrize("orcid, why", [("https://orcid.org/0000-0002-1825-0098", "check character"),
                                        ("0000-0002-1825-0097", "as its URL"), ("https://orcid.org/0000000218250097", "as its URL")])
def test_a_mistyped_orcid_is_refused(orcid, why):
    assert why in orcid_problem(orcid)


def test_a_bad_identifier_in_the_config_names_the_file_and_key(tmp_path):
    config = tmp_path / "mkdocs.yml"
    config.write_text("site_name: x\nextra:\n  publisher:\n    name: Lab\n    creators:\n      - given: A\n        family: B\n"
                      "        orcid: https://orcid.org/0000-0002-1825-0098\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"mkdocs.yml: extra.publisher.creators\[0\].orcid: the check character .* \(expected 7\)"):
        load_publisher(config)
    with pytest.raises(InputError, match=r"where: extra.publisher.ror: the check digits .* \(expected 55\)"):
        parse_publisher({"name": "Lab", "ror": "https://ror.org/05dxps056"}, "where")
    with pytest.raises(InputError, match=r"where: extra.publisher.license.url: expected a plain https URL"):
        parse_publisher({"license": {"url": "javascript:alert(1)"}}, "where")
    with pytest.raises(InputError, match=r"where: extra.publisher.rorr: unknown key"):
        parse_publisher({"rorr": ROR}, "where")


def test_a_bad_identifier_stops_the_build_before_any_work(tmp_path):
    from generator.website.build import build_site

    config = tmp_path / "mkdocs.yml"
    config.write_text((REPO / "mkdocs.yml").read_text(encoding="utf-8").replace(
        "    # ror: https://ror.org/0xxxxxxNN", "    ror: https://ror.org/05dxps056"), encoding="utf-8")
    with pytest.raises(InputError, match="extra.publisher.ror: the check digits of this ROR id are wrong"):
        build_site(REPO / "records", tmp_path / "site", work_dir=tmp_path / "build", config_file=config)
    assert not (tmp_path / "site").exists() and not (tmp_path / "build").exists()


def test_the_shipped_config_is_read():
    assert SITE_PUBLISHER.name == "Assignee Research" and SITE_PUBLISHER.license.spdx == "CC-BY-4.0"


def test_the_site_files_are_what_export_writes(tmp_path):
    from generator.website.build import load_views

    views, _, _ = load_views(REPO / "records")
    for view in views:
        files = citing.cite_files(view, SITE_PUBLISHER)
        for fmt in citation.FORMATS:
            assert files[f"cite/{fmt.file}"].decode("utf-8") == export(view.record_id, "--format", fmt.name).output
