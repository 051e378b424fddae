"""Reading the research kernel's drafts (seeds 000-003) and public record pages (seed 004) into records.

Every value comes from the input text or from the shipped arXiv corpus; levels, tier and dimensions
are derived by `rules`, except where a public record page states them, which are kept as stated.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from generator.corpus import Corpus, Paper, shipped_corpus, split_arxiv_id
from generator.errors import InputError, ValidationFailed
from generator.fsio import read_json_object
from generator.records import gate, rules
from generator.records.compose import Artifact, SourceRef, Stated, Synthesis, Truncation, compose_record
from generator.records.layout import MANIFEST_FILE, folder_name
from generator.records.store import write_new_record

DRAFT_SECTIONS = ("Abstract", "1 Introduction", "2 Methodology", "3 Results", "4 Uncertainties",
                  "5 Extracted Claims", "References")
PAGE_SECTIONS = ("Abstract", "Research Question", "Verification Level", "Quality Tier", "Quality Dimensions",
                 "Correction Record", "Provenance")
KERNEL_TITLE_PREFIX = "SOVEREIGN: "


@dataclass(frozen=True)
class Line:
    number: int
    text: str


class ParseError(InputError):
    def __init__(self, file: str, line: int | None, message: str):
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where}: {message}")


def _lines(text: str) -> list[Line]:
    return [Line(n, raw.rstrip("\r")) for n, raw in enumerate(text.split("\n"), start=1)]


def _sections(lines: list[Line], names: tuple[str, ...], file: str) -> tuple[list[Line], dict[str, list[Line]]]:
    """Split into the preamble and the named sections, which must all appear, once, in order."""
    found: dict[str, int] = {}
    for index, line in enumerate(lines):
        if line.text.strip() in names and line.text.strip() not in found:
            found[line.text.strip()] = index
    for name in names:
        if name not in found:
            raise ParseError(file, None, f"missing section heading {name!r} (expected sections in this order: {', '.join(names)})")
    order = [found[name] for name in names]
    if order != sorted(order):
        heading = next(lines[i] for a, i in zip(order, order[1:]) if i < a)
        raise ParseError(file, heading.number, f"section {heading.text.strip()!r} is out of order (expected: {', '.join(names)})")
    bounds = order + [len(lines)]
    sections = {name: [l for l in lines[bounds[i] + 1: bounds[i + 1]] if l.text.strip()] for i, name in enumerate(names)}
    return [l for l in lines[: order[0]] if l.text.strip()], sections


def _one(section: list[Line], name: str, file: str, heading_line: int | None = None) -> Line:
    if not section:
        raise ParseError(file, heading_line, f"section {name!r} is empty")
    return section[0]


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


# Numbers are ASCII digits only: ``\d``, ``int()``, ``float()`` and ``str.isdigit()`` also take other
# scripts' digits ("١٢" would become 12) and ``isdigit()`` takes superscripts ("²", which ``int()`` then
# refuses with a traceback). A count is a whole token, never the tail of another ("10^23 papers" is not
# 23 papers, nor "-5" five), and at most MAX_COUNT.
MAX_COUNT = 10**9
_N = r"(?<![^\s(=])[0-9]+"  # a count: ASCII digits that start a token (after a space, "(" or "=")
_X = r"[0-9]+(?:\.[0-9]+)?"  # a decimal number in ASCII digits
_ASCII_COUNT = re.compile(r"[0-9]+", re.ASCII)
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
_RESULTS = re.compile(
    rf"(?P<retrieved>{_N}) papers retrieved\. (?P<extracted>{_N}) claims extracted, (?P<verified>{_N}) verified\. "
    rf"Tribunal: (?P<score>{_X})/10 → (?P<verdict>[A-Z]+) \(revision_round=(?P<round>{_N})\)\. "
    r"Policy: (?P<policy>[A-Z_]+)\."
)


def _digits_hint(text: str) -> str:
    """A note for an error message when ``text`` holds a digit that is not 0-9 (another script's, a superscript)."""
    other = next((char for char in text if not char.isascii() and char.isdigit()), None)
    return f"; numbers must be written with the digits 0-9, found {other!r}" if other else ""


def _count(text: str, file: str, line: int | None, what: str) -> int:
    """A count as the input writes it: ASCII digits, at most MAX_COUNT; anything else names the file and line."""
    if not _ASCII_COUNT.fullmatch(text):
        raise ParseError(file, line, f"{what} must be a whole number written with the digits 0-9, found {text!r}")
    if len(text.lstrip("0")) > len(str(MAX_COUNT)) or int(text) > MAX_COUNT:  # no int() of a huge string
        raise ParseError(file, line, f"{what} must be at most {MAX_COUNT:,}, found {text[:20]}{'...' if len(text) > 20 else ''}")
    return int(text)
_GOAL = re.compile(r"^Analysis of: (?P<title>.+?)\. Research goal: (?P<question>.+?)\.?$")
_REFERENCE = re.compile(r"^- <?(?P<url>https?://arxiv\.org/abs/(?P<id>[^>\s]+?))>?$")
_VERIFIED_MARKS = {"×": False, "✗": False, "x": False, "✓": True, "✔": True}


def _methodology(section: list[Line], file: str) -> dict:
    text = " ".join(l.text for l in section)
    found = {}
    for name, pattern in _METHOD_PATTERNS.items():
        match = pattern.search(text)
        if not match:
            raise ParseError(file, section[0].number if section else None,
                             f"methodology does not state the {name} (expected text like {_METHOD_EXAMPLES[name]!r})"
                             + _digits_hint(text))
        found[name] = match
    line = section[0].number if section else None
    bigrams = "bigram" in text.lower()
    version, _, roles, revision = found["tribunal"].groups()
    return {
        "parameters_source": "Stated in the draft's methodology section.",
        "search": {"service": "arXiv API", "query_count": _count(found["query count"][1], file, line, "query count"), "queries": None,
                   "sort": {"relevance": "relevance", "submitteddate": "submittedDate",
                            "lastupdateddate": "lastUpdatedDate"}[found["sort"][1].lower()],
                   "max_results_per_query": None},
        "verification": {"method": "tfidf-cosine", "analyzer": "word", "ngram_range": [1, 2] if bigrams else [1, 1],
                         "threshold": float(found["threshold"][1])},
        "embedding": {"provider": "NVIDIA NIM", "model": found["embedding"][1],
                      "dimension": _count(found["embedding"][2], file, line, "embedding dimension")},
        "tribunal": {"version": version, "roles": roles.split("/"), "revision_threshold": float(revision)},
    }


_DECIMAL = re.compile(r"[0-9]{1,3}(\.[0-9]{1,12})?", re.ASCII)


def _claims(section: list[Line], file: str) -> list[tuple[str, bool, float]]:
    if not section or [c.strip() for c in section[0].text.split("\t")] != ["Claim", "Verified", "Confidence"]:
        line = section[0].number if section else None
        raise ParseError(file, line, "claims table must start with the header 'Claim<TAB>Verified<TAB>Confidence'")
    rows = []
    for line in section[1:]:
        cells = line.text.split("\t")
        if len(cells) != 3:
            raise ParseError(file, line.number, f"claims table row needs 3 tab-separated cells, found {len(cells)}")
        claim, mark, confidence = (c.strip() for c in cells)
        if mark not in _VERIFIED_MARKS:
            raise ParseError(file, line.number, f"verified mark must be one of {' '.join(_VERIFIED_MARKS)}, found {mark!r}")
        if not _DECIMAL.fullmatch(confidence):  # float() would also take '٠.٥', '1_0', 'nan' and '1e-3'
            raise ParseError(file, line.number, f"confidence must be a number in [0, 1] written in ASCII digits, found {confidence!r}")
        value = float(confidence)
        if not 0.0 <= value <= 1.0:
            raise ParseError(file, line.number, f"confidence must be in [0, 1], found {value}")
        rows.append((claim, _VERIFIED_MARKS[mark], value))
    return rows


def _references(section: list[Line], file: str, corpus: Corpus, target: Paper) -> list[SourceRef]:
    refs: dict[str, SourceRef] = {}
    for line in section:
        match = _REFERENCE.match(line.text.strip())
        if not match:
            raise ParseError(file, line.number, f"reference must be '- <http://arxiv.org/abs/ID>', found {line.text.strip()!r}")
        base, version = split_arxiv_id(match["id"])
        role = "target" if base == target.arxiv_id else "cited"
        refs.setdefault(base, SourceRef(base, version, role, corpus.get(base)))
    if target.arxiv_id not in refs:
        refs[target.arxiv_id] = SourceRef(target.arxiv_id, target.version, "target", target)
    return sorted(refs.values(), key=lambda r: (r.role != "target", r.arxiv_id))


def parse_kernel_draft(text: str, file: str, corpus: Corpus) -> Synthesis:
    lines = _lines(text)
    preamble, sections = _sections(lines, DRAFT_SECTIONS, file)
    if not preamble or not preamble[0].text.startswith(KERNEL_TITLE_PREFIX):
        raise ParseError(file, preamble[0].number if preamble else 1, f"a kernel draft starts with a title line '{KERNEL_TITLE_PREFIX}...'")
    title_line = preamble[0]
    drafted = None
    for line in preamble[1:]:
        try:
            drafted = datetime.strptime(line.text.strip(), "%B %d, %Y").date().isoformat()
        except ValueError:
            continue
    intro = _one(sections["1 Introduction"], "1 Introduction", file)
    goal = _GOAL.match(" ".join(l.text.strip() for l in sections["1 Introduction"]))
    if not goal:
        raise ParseError(file, intro.number, "introduction must read 'Analysis of: <paper title>. Research goal: <question>.'")
    question = goal["question"].strip()
    if not question.endswith("?"):
        question = question.rstrip(".")
    target = _target_from_corpus(corpus, file, intro, title=goal["title"])

    results_line = _one(sections["3 Results"], "3 Results", file)
    results_text = " ".join(l.text.strip() for l in sections["3 Results"])
    results = _RESULTS.search(results_text)
    if not results:
        raise ParseError(file, results_line.number, "results must read like 'N papers retrieved. N claims extracted, N verified. "
                                                     "Tribunal: X/10 → VERDICT (revision_round=N). Policy: DECISION.'"
                                                     + _digits_hint(results_text))
    counts = {key: _count(results[key], file, results_line.number, what) for key, what in (
        ("retrieved", "papers retrieved"), ("extracted", "claims extracted"), ("verified", "claims verified"),
        ("round", "revision round"))}
    score = float(results["score"])
    if not 0 <= score <= 10:
        raise ParseError(file, results_line.number, f"tribunal score must be in [0, 10], found {score}")
    if results["verdict"] not in rules.VERDICTS:
        raise ParseError(file, results_line.number, f"verdict must be one of {', '.join(rules.VERDICTS)}, found {results['verdict']!r}")

    claims = _claims(sections["5 Extracted Claims"], file)
    if len(claims) != counts["extracted"]:
        raise ParseError(file, results_line.number, f"results state {results['extracted']} claims extracted but the claims table has {len(claims)} rows")
    verified = sum(1 for _, ok, _ in claims if ok)
    if verified != counts["verified"]:
        raise ParseError(file, results_line.number, f"results state {results['verified']} verified but the claims table marks {verified}")

    truncations = []
    drafted_title = title_line.text[len(KERNEL_TITLE_PREFIX):].strip()
    if drafted_title != question and question.startswith(drafted_title):
        truncations.append(Truncation("/title", title_line.text.strip(), "the draft's research goal (1 Introduction)"))
    elif not question.startswith(drafted_title):
        raise ParseError(file, title_line.number, "title does not match the research goal stated in the introduction")
    abstract = " ".join(l.text.strip() for l in sections["Abstract"])
    truncations += _abstract_truncation(abstract, target)
    uncertainties = [s.strip() + "." for s in " ".join(l.text.strip() for l in sections["4 Uncertainties"]).split(".") if s.strip()]

    return Synthesis(
        research_question=question,
        target=target,
        origin_format="kernel-draft",
        origin_file=Path(file).name,
        origin_bytes=text.encode("utf-8"),
        drafted=drafted,
        claims_extracted=len(claims),
        claims_source_grounded=len(claims),
        claims_verified=verified,
        claim_confidences=[c for _, _, c in claims],
        papers_retrieved=counts["retrieved"],
        sources=_references(sections["References"], file, corpus, target),
        review_score=score,
        review_verdict=results["verdict"],
        revision_round=counts["round"],
        policy_decision=results["policy"],
        policy_basis="Stated in the draft's results section.",
        uncertainties=uncertainties,
        pipeline=_methodology(sections["2 Methodology"], file),
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
    lines = _lines(text)
    preamble, sections = _sections(lines, PAGE_SECTIONS, file)
    headings = {l.text.strip(): l for l in lines if l.text.strip() in PAGE_SECTIONS}
    if len(preamble) < 1 or not re.fullmatch(r"SRCH:[0-9A-F]{8}", preamble[0].text.strip()):
        raise ParseError(file, preamble[0].number if preamble else 1, "a public record page starts with its id 'SRCH:' + 8 upper-case hex digits")
    record_id = preamble[0].text.strip()
    _one(sections["Research Question"], "Research Question", file, headings["Research Question"].number)
    question = " ".join(l.text.strip() for l in sections["Research Question"])
    abstract_line = _one(sections["Abstract"], "Abstract", file, headings["Abstract"].number)
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
    grounded = _count(grounded_line.text, file, grounded_line.number, "source-grounded claims")
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
    if first.startswith(KERNEL_TITLE_PREFIX):
        return parse_kernel_draft(text, str(path), corpus)
    if first.startswith("SRCH:"):
        return parse_public_record_page(text, str(path), corpus)
    raise ParseError(str(path), 1, f"unknown format: expected a kernel draft ('{KERNEL_TITLE_PREFIX}...') or a public record page ('SRCH:XXXXXXXX')")


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
