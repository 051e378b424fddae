"""Reading the research kernel's drafts (seeds 000-003) and public record pages (seed 004) into records.

Every value comes from the input text or from the shipped arXiv corpus; levels, tier and dimensions
are derived by `rules`, except where a public record page states them, which are kept as stated.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from generator.corpus import Corpus, Paper, shipped_corpus, split_arxiv_id
from generator.errors import InputError, ValidationFailed
from generator.fsio import read_json_object
from generator.records import draft_format, gate, rules
from generator.records.draft_format import Line, ParseError
from generator.records.compose import Artifact, SourceRef, Stated, Synthesis, Truncation, compose_record
from generator.records.layout import MANIFEST_FILE, folder_name
from generator.records.store import write_new_record

PAGE_SECTIONS = ("Abstract", "Research Question", "Verification Level", "Quality Tier", "Quality Dimensions",
                 "Correction Record", "Provenance")


def _target_from_corpus(corpus: Corpus, file: str, line: Line, *, title: str | None = None, abstract: str | None = None) -> Paper:
    paper = (corpus.find_by_title(title) if title else None) or (corpus.find_by_abstract_prefix(abstract) if abstract else None)
    if paper is None:
        what = f"title {title!r}" if title else "abstract"
        raise ParseError(file, line.number, f"target paper with {what} is not in the arXiv corpus, so its arXiv id is unknown")
    return paper


def _abstract_truncation(as_drafted: str, paper: Paper) -> list[Truncation]:
    drafted = " ".join(as_drafted.split())
    full = " ".join(paper.abstract.split())
    if drafted != full and full.startswith(drafted):
        return [Truncation("/target_paper/abstract", as_drafted, f"arXiv record {paper.versioned_id}")]
    return []


_N, _X = draft_format.COUNT, draft_format.NUMBER
_METHOD_PATTERNS = {
    "query count": re.compile(rf"({_N}) parallel queries"),
    "sort": re.compile(r"(Relevance|SubmittedDate|LastUpdatedDate)-sorted", re.I),
    "threshold": re.compile(rf"threshold\s*=\s*({_X})"),
    "embedding": re.compile(rf"NIM ([\w.-]+) \(dim=({_N})\)"),
    "tribunal": re.compile(rf"Tribunal (v[0-9]+): ({_N})-role parallel review \(([A-Z/]+)\) with revision round if score < ({_X})"),
}
_METHOD_EXAMPLES = {
    "query count": "4 parallel queries",
    "sort": "Relevance-sorted",
    "threshold": "threshold=0.15",
    "embedding": "NIM nv-embedqa-e5-v5 (dim=1024)",
    "tribunal": "Tribunal v2: 3-role parallel review (SKEPTIC/VALIDATOR/SYNTHESIZER) with revision round if score < 6.5",
}


def _methodology(section: list[Line], file: str) -> dict:
    text = " ".join(l.text for l in section)
    found = {}
    for name, pattern in _METHOD_PATTERNS.items():
        match = pattern.search(text)
        if not match:
            raise ParseError(file, section[0].number if section else None,
                             f"methodology does not state the {name} (expected text like {_METHOD_EXAMPLES[name]!r})"
                             + draft_format.digits_hint(text))
        found[name] = match
    line = section[0].number if section else None
    bigrams = "bigram" in text.lower()
    version, _, roles, revision = found["tribunal"].groups()
    return {
        "parameters_source": "Stated in the draft's methodology section.",
        "search": {"service": "arXiv API", "query_count": draft_format.parse_count(found["query count"][1], file, line, "query count"), "queries": None,
                   "sort": {"relevance": "relevance", "submitteddate": "submittedDate",
                            "lastupdateddate": "lastUpdatedDate"}[found["sort"][1].lower()],
                   "max_results_per_query": None},
        "verification": {"method": "tfidf-cosine", "analyzer": "word", "ngram_range": [1, 2] if bigrams else [1, 1],
                         "threshold": float(found["threshold"][1])},
        "embedding": {"provider": "NVIDIA NIM", "model": found["embedding"][1],
                      "dimension": draft_format.parse_count(found["embedding"][2], file, line, "embedding dimension")},
        "tribunal": {"version": version, "roles": roles.split("/"), "revision_threshold": float(revision)},
    }


def _references(draft: draft_format.KernelDraft, corpus: Corpus, target: Paper) -> list[SourceRef]:
    refs: dict[str, SourceRef] = {}
    for _, arxiv_id in draft.references:
        base, version = split_arxiv_id(arxiv_id)
        role = "target" if base == target.arxiv_id else "cited"
        refs.setdefault(base, SourceRef(base, version, role, corpus.get(base)))
    if target.arxiv_id not in refs:
        refs[target.arxiv_id] = SourceRef(target.arxiv_id, target.version, "target", target)
    return sorted(refs.values(), key=lambda r: (r.role != "target", r.arxiv_id))


def parse_kernel_draft(text: str, file: str, corpus: Corpus) -> Synthesis:
    """A kernel draft as a synthesis: its structure read by ``draft_format``, the papers looked up in the corpus."""
    draft = draft_format.parse_kernel_draft(text, file)
    target = _target_from_corpus(corpus, file, draft.introduction, title=draft.paper_title)
    results, line = draft.results, draft.results_line.number
    if results.verdict not in rules.VERDICTS:
        raise ParseError(file, line, f"verdict must be one of {', '.join(rules.VERDICTS)}, found {results.verdict!r}")
    if len(draft.claims) != results.claims_extracted:
        raise ParseError(file, line, f"results state {results.claims_extracted} claims extracted but the claims table has {len(draft.claims)} rows")
    verified = sum(1 for _, ok, _ in draft.claims if ok)
    if verified != results.claims_verified:
        raise ParseError(file, line, f"results state {results.claims_verified} verified but the claims table marks {verified}")

    truncations = []
    question, title_line = draft.question, draft.title
    drafted_title = title_line.text[len(draft_format.TITLE_PREFIX):].strip()
    if drafted_title != question and question.startswith(drafted_title):
        truncations.append(Truncation("/title", title_line.text.strip(), "the draft's research goal (1 Introduction)"))
    elif not question.startswith(drafted_title):
        raise ParseError(file, title_line.number, "title does not match the research goal stated in the introduction")
    truncations += _abstract_truncation(draft.abstract, target)

    return Synthesis(
        research_question=question,
        target=target,
        origin_format="kernel-draft",
        origin_file=Path(file).name,
        origin_bytes=text.encode("utf-8"),
        drafted=draft.drafted.isoformat() if draft.drafted else None,
        claims_extracted=len(draft.claims),
        claims_source_grounded=len(draft.claims),
        claims_verified=verified,
        claim_confidences=[c for _, _, c in draft.claims],
        papers_retrieved=results.papers_retrieved,
        sources=_references(draft, corpus, target),
        review_score=results.score,
        review_verdict=results.verdict,
        revision_round=results.revision_round,
        policy_decision=results.decision,
        policy_basis="Stated in the draft's results section.",
        uncertainties=draft.uncertainties,
        pipeline=_methodology(draft.methodology, file),
        truncations=truncations,
        report=Artifact("report", "report.txt", "text/plain; charset=utf-8", text.encode("utf-8")),
    )


_TABLE_ROW = re.compile(r"^\|(.+)\|\s*$")
_LEVEL_VALUE = re.compile(r"^(L\d), (.+)$")
_PAGE_DIMENSIONS = {"Evidence strength": "evidence_strength", "Citation grounding": "citation_grounding",
                    "Uncertainty disclosure": "uncertainty_disclosure", "Reproducibility status": "reproducibility_status"}


def _table(section: list[Line], file: str) -> dict[str, Line]:
    """``| key | value | |`` rows as {key: Line-with-value}; prose lines below the table are ignored."""
    rows = {}
    for line in section:
        match = _TABLE_ROW.match(line.text.strip())
        if match:
            cells = [c.strip() for c in match[1].split("|")]
            if len(cells) < 2 or not cells[0]:
                raise ParseError(file, line.number, "table row must be '| name | value |'")
            rows[cells[0]] = Line(line.number, cells[1])
    return rows


def _need(rows: dict[str, Line], key: str, section: str, file: str, heading: Line | None) -> Line:
    if key not in rows:
        raise ParseError(file, heading.number if heading else None, f"section {section!r} has no '{key}' row")
    return rows[key]


def _level_code(value: Line, file: str) -> str:
    match = _LEVEL_VALUE.match(value.text)
    if not match or match[1] not in rules.LEVELS_BY_CODE:
        raise ParseError(file, value.number, f"level must read 'L<n>, <label>' with a level of the ladder, found {value.text!r}")
    expected = rules.level(match[1]).label
    if match[2] != expected:
        raise ParseError(file, value.number, f"level {match[1]} is labelled {expected!r} on the ladder, found {match[2]!r}")
    return match[1]


def parse_public_record_page(text: str, file: str, corpus: Corpus) -> Synthesis:
    lines = draft_format.lines(text)
    preamble, sections = draft_format.split_sections(lines, PAGE_SECTIONS, file)
    headings = {l.text.strip(): l for l in lines if l.text.strip() in PAGE_SECTIONS}
    if len(preamble) < 1 or not re.fullmatch(r"SRCH:[0-9A-F]{8}", preamble[0].text.strip()):
        raise ParseError(file, preamble[0].number if preamble else 1, "a public record page starts with its id 'SRCH:' + 8 upper-case hex digits")
    record_id = preamble[0].text.strip()
    draft_format.first_line(sections["Research Question"], "Research Question", file, headings["Research Question"].number)
    question = " ".join(l.text.strip() for l in sections["Research Question"])
    abstract_line = draft_format.first_line(sections["Abstract"], "Abstract", file, headings["Abstract"].number)
    abstract = " ".join(l.text.strip() for l in sections["Abstract"])
    abstract = abstract.removeprefix("Abstract:").strip()
    target = _target_from_corpus(corpus, file, abstract_line, abstract=abstract)

    truncations = []
    if len(preamble) > 1:
        shown = preamble[1].text.strip()
        if shown != question and question.startswith(shown):
            truncations.append(Truncation("/title", shown, "the page's Research Question section"))
        elif shown != question:
            raise ParseError(file, preamble[1].number, "title does not match the Research Question section")
    truncations += _abstract_truncation(abstract, target)

    tables = {name: _table(sections[name], file) for name in PAGE_SECTIONS[2:]}
    need = lambda section, key: _need(tables[section], key, section, file, headings.get(section))  # noqa: E731
    paper_level = _level_code(need("Verification Level", "Paper level"), file)
    grounded_line = need("Verification Level", "Source-grounded claims")
    grounded = draft_format.parse_count(grounded_line.text, file, grounded_line.number, "source-grounded claims")
    tier_line = need("Quality Tier", "Tier")
    if tier_line.text not in rules.TIERS_BY_NAME:
        raise ParseError(file, tier_line.number, f"tier must be one of {', '.join(rules.TIERS_BY_NAME)}, found {tier_line.text!r}")
    dimensions = {}
    for label, key in _PAGE_DIMENSIONS.items():
        value = need("Quality Dimensions", label)
        if value.text not in rules.RATINGS:
            raise ParseError(file, value.number, f"{label} must be one of {', '.join(rules.RATINGS)}, found {value.text!r}")
        dimensions[key] = value.text
    status = need("Correction Record", "Status")
    count = need("Correction Record", "Correction count")
    if status.text != "CURRENT" or count.text != "0":
        raise ParseError(file, status.number, "only records with no corrections can be imported from a page (status CURRENT, count 0); "
                                              "corrections are appended with `sovereign-publish correct`")
    for key, contract in (("Manifest contract", rules.MANIFEST_CONTRACT), ("Correction contract", rules.CORRECTION_CONTRACT)):
        value = need("Correction Record", key)
        if value.text != contract:
            raise ParseError(file, value.number, f"{key.lower()} must be {contract!r}, found {value.text!r}")
    provenance_contract = need("Provenance", "Provenance contract")
    if provenance_contract.text != rules.PROVENANCE_CONTRACT:
        raise ParseError(file, provenance_contract.number, f"provenance contract must be {rules.PROVENANCE_CONTRACT!r}, found {provenance_contract.text!r}")
    report = need("Provenance", "Report artifact")
    if report.text not in ("Available", "Not available"):
        raise ParseError(file, report.number, f"report artifact must be 'Available' or 'Not available', found {report.text!r}")
    external = need("Provenance", "External record")
    if external.text != "Not registered":
        raise ParseError(file, external.number, f"only unregistered records can be imported (external record 'Not registered'), found {external.text!r}")

    return Synthesis(
        research_question=question,
        target=target,
        record_id=record_id,
        origin_format="public-record-page",
        origin_file=Path(file).name,
        origin_bytes=text.encode("utf-8"),
        claims_source_grounded=grounded,
        sources=[SourceRef(target.arxiv_id, target.version, "target", target)],
        review_roles=(),
        policy_basis="Not disclosed by the imported public record.",
        truncations=truncations,
        publisher=need("Provenance", "Publisher").text,
        note=need("Provenance", "Note").text,
        stated=Stated(
            tier=tier_line.text,
            tier_basis=need("Quality Tier", "Basis").text,
            dimensions=dimensions,
            paper_level=paper_level,
            provenance_level=_level_code(need("Provenance", "Public provenance"), file),
            report_available=report.text == "Available",
            external_record=external.text,
        ),
    )


def parse_file(path: Path, corpus: Corpus | None = None) -> Synthesis:
    """Recognise the format by its first line and parse it."""
    corpus = corpus or shipped_corpus()
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise ParseError(str(path), None, f"not UTF-8 text ({exc})") from None
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if first.startswith(draft_format.TITLE_PREFIX):
        return parse_kernel_draft(text, str(path), corpus)
    if first.startswith("SRCH:"):
        return parse_public_record_page(text, str(path), corpus)
    raise ParseError(str(path), 1, f"unknown format: expected a kernel draft ('{draft_format.TITLE_PREFIX}...') or a public record page ('SRCH:XXXXXXXX')")


@dataclass(frozen=True)
class ImportResult:
    source: Path
    record_id: str
    folder: Path
    written: bool


def _origin_digest(manifest: dict) -> str | None:
    origin = manifest.get("origin")
    return origin.get("sha256") if isinstance(origin, dict) else None


def import_files(paths: list[Path], records_dir: Path) -> list[ImportResult]:
    """Parse and check every file first, then write; one bad file means nothing is written.

    A file whose record was already imported from the same source bytes is left as published (its
    recording time would differ, so comparing whole files would refuse a harmless second import).
    """
    planned: dict[str, tuple[Path, str | None]] = {}
    composed = []
    for path in map(Path, paths):
        files = compose_record(parse_file(path))
        if problems := gate.record_problems(files, str(path)):
            raise InputError(f"{path}: the draft gives a record that validate would reject:\n" + "\n".join(f"  {p}" for p in problems))
        manifest = json.loads(files[MANIFEST_FILE])
        record_id, origin = manifest["record_id"], _origin_digest(manifest)
        existing = Path(records_dir) / folder_name(record_id) / MANIFEST_FILE
        found: list = []
        current = read_json_object(existing, found) if os.path.lexists(existing) else None
        if found:
            raise ValidationFailed(found)
        published = current is not None and _origin_digest(current) == origin
        if os.path.lexists(existing) and not published:
            raise InputError(f"{path}: record {record_id} is already published at {existing.parent} from another source; "
                             "published files are never rewritten (append a correction with `sovereign-publish correct`)")
        if record_id in planned and planned[record_id][1] != origin:
            raise InputError(f"{path}: gives record {record_id}, as does {planned[record_id][0]}, from another source")
        planned[record_id] = (path, origin)
        composed.append((path, record_id, files, published))
    results = []
    for path, record_id, files, published in composed:
        if published:
            results.append(ImportResult(path, record_id, Path(records_dir) / folder_name(record_id), False))
            continue
        folder, written = write_new_record(records_dir, record_id, files)
        results.append(ImportResult(path, record_id, folder, written))
    return results
