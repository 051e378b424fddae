"""The research kernel's draft format, written and read in this one module.

A kernel draft (``examples/seeds/000``-``003``) is plain text: a title line ``SOVEREIGN: <question>``, a
preamble holding the drafting date (``May 28, 2026``), then the sections of ``SECTIONS`` in that order,
each headed by its name on a line of its own. The pipeline's ``report.md`` is the same draft written as
Markdown: ``# `` before the title, ``## `` before each heading, the claims as a Markdown table.

Both sides share the title prefix, the section names and headings, the date line, the results sentence,
the claims table's header, verified marks and confidence digits: ``generator.pipeline.report`` writes
them with the functions here, and ``generator.records.importer`` reads a draft with ``parse_kernel_draft``
(the structure and numbers; the importer then looks the papers up and applies the rules). The line
reading (``lines``, ``split_sections``, ``parse_count``) is shared with the public record page format.

Numbers are ASCII digits only: ``\\d``, ``int()``, ``float()`` and ``str.isdigit()`` also take other
scripts' digits ("١٢" would become 12) and ``isdigit()`` takes superscripts ("²", which ``int()`` then
refuses with a traceback). A count is a whole token, never the tail of another ("10^23 papers" is not
23 papers, nor "-5" five), and at most ``MAX_COUNT``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from generator.errors import InputError

TITLE_PREFIX = "SOVEREIGN: "
SECTIONS = ("Abstract", "1 Introduction", "2 Methodology", "3 Results", "4 Uncertainties", "5 Extracted Claims",
            "References")
CLAIMS_HEADER = ("Claim", "Verified", "Confidence")
VERIFIED_MARK, NOT_VERIFIED_MARK = "✓", "×"  # what the pipeline writes
VERIFIED_MARKS = {"×": False, "✗": False, "x": False, "✓": True, "✔": True}  # what a kernel draft may hold
MAX_COUNT = 10**9


class ParseError(InputError):
    def __init__(self, file: str, line: int | None, message: str):
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Line:
    number: int
    text: str


def lines(text: str) -> list[Line]:
    return [Line(n, raw.rstrip("\r")) for n, raw in enumerate(text.split("\n"), start=1)]


# --- writing --------------------------------------------------------------------------------------------


def heading(name: str, level: int = 0) -> str:
    """A section heading: the bare name in a kernel draft (level 0), ``## name`` in Markdown (level 2)."""
    return f"{'#' * level} {name}" if level else name


def title(question_text: str, level: int = 0) -> str:
    """The title line; ``question_text`` as it goes in the document (escaped already for Markdown)."""
    return heading(TITLE_PREFIX + question_text, level)


def format_date(moment: date) -> str:
    return f"{moment:%B} {moment.day}, {moment.year}"


def verified_mark(verified: bool) -> str:
    return VERIFIED_MARK if verified else NOT_VERIFIED_MARK


def format_confidence(value: float) -> str:
    return f"{value:.2f}"


@dataclass(frozen=True)
class Results:
    """The numbers of the results sentence (the score as written, one decimal place)."""

    papers_retrieved: int
    claims_extracted: int
    claims_verified: int
    score: float
    verdict: str
    revision_round: int
    decision: str


def format_results(r: Results) -> str:
    """The kernel's results sentence, e.g. '10 papers retrieved. 8 claims extracted, 0 verified. Tribunal:
    1.5/10 → REJECT (revision_round=0). Policy: ESCALATE_TO_OWNER.'"""
    return (f"{r.papers_retrieved} papers retrieved. {r.claims_extracted} claims extracted, {r.claims_verified} verified. "
            f"Tribunal: {r.score:.1f}/10 → {r.verdict} (revision_round={r.revision_round}). Policy: {r.decision}.")


# --- reading --------------------------------------------------------------------------------------------

_N = r"(?<![^\s(=])[0-9]+"  # a count: ASCII digits that start a token (after a space, "(" or "=")
_X = r"[0-9]+(?:\.[0-9]+)?"  # a decimal number in ASCII digits
NUMBER = _X
COUNT = _N
_ASCII_COUNT = re.compile(r"[0-9]+", re.ASCII)
_DECIMAL = re.compile(r"[0-9]{1,3}(\.[0-9]{1,12})?", re.ASCII)
_RESULTS = re.compile(
    rf"(?P<retrieved>{_N}) papers retrieved\. (?P<extracted>{_N}) claims extracted, (?P<verified>{_N}) verified\. "
    rf"Tribunal: (?P<score>{_X})/10 → (?P<verdict>[A-Z]+) \(revision_round=(?P<round>{_N})\)\. "
    r"Policy: (?P<policy>[A-Z_]+)\."
)
_GOAL = re.compile(r"^Analysis of: (?P<title>.+?)\. Research goal: (?P<question>.+?)\.?$")
_REFERENCE = re.compile(r"^- <?(?P<url>https?://arxiv\.org/abs/(?P<id>[^>\s]+?))>?$")


def digits_hint(text: str) -> str:
    """A note for an error message when ``text`` holds a digit that is not 0-9 (another script's, a superscript)."""
    other = next((char for char in text if not char.isascii() and char.isdigit()), None)
    return f"; numbers must be written with the digits 0-9, found {other!r}" if other else ""


def parse_count(text: str, file: str, line: int | None, what: str) -> int:
    """A count as the input writes it: ASCII digits, at most MAX_COUNT; anything else names the file and line."""
    if not _ASCII_COUNT.fullmatch(text):
        raise ParseError(file, line, f"{what} must be a whole number written with the digits 0-9, found {text!r}")
    if len(text.lstrip("0")) > len(str(MAX_COUNT)) or int(text) > MAX_COUNT:  # no int() of a huge string
        raise ParseError(file, line, f"{what} must be at most {MAX_COUNT:,}, found {text[:20]}{'...' if len(text) > 20 else ''}")
    return int(text)


def split_sections(all_lines: list[Line], names: tuple[str, ...], file: str,
                   level: int = 0) -> tuple[list[Line], dict[str, list[Line]]]:
    """Split into the preamble and the named sections (headed by ``heading(name, level)``), which must all
    appear, once, in order. Blank lines are dropped."""
    headings = {heading(name, level): name for name in names}
    found: dict[str, int] = {}
    for index, line in enumerate(all_lines):
        name = headings.get(line.text.strip())
        if name is not None and name not in found:
            found[name] = index
    for name in names:
        if name not in found:
            raise ParseError(file, None, f"missing section heading {heading(name, level)!r} (expected sections in this order: "
                                         f"{', '.join(names)})")
    order = [found[name] for name in names]
    if order != sorted(order):
        line = next(all_lines[i] for a, i in zip(order, order[1:]) if i < a)
        raise ParseError(file, line.number, f"section {line.text.strip()!r} is out of order (expected: {', '.join(names)})")
    bounds = order + [len(all_lines)]
    sections = {name: [l for l in all_lines[bounds[i] + 1: bounds[i + 1]] if l.text.strip()] for i, name in enumerate(names)}
    return [l for l in all_lines[: order[0]] if l.text.strip()], sections


def first_line(section: list[Line], name: str, file: str, heading_line: int | None = None) -> Line:
    if not section:
        raise ParseError(file, heading_line, f"section {name!r} is empty")
    return section[0]


def parse_date(text: str) -> date | None:
    """The date a ``format_date`` line holds, or None when the line is not one."""
    try:
        return datetime.strptime(text.strip(), "%B %d, %Y").date()
    except ValueError:
        return None


def parse_results(text: str, file: str, line: int | None) -> Results:
    """The results sentence somewhere in ``text``; a clear error naming the line when there is none."""
    found = _RESULTS.search(text)
    if not found:
        raise ParseError(file, line, "results must read like 'N papers retrieved. N claims extracted, N verified. "
                                     "Tribunal: X/10 → VERDICT (revision_round=N). Policy: DECISION.'" + digits_hint(text))
    counts = {key: parse_count(found[key], file, line, what) for key, what in (
        ("retrieved", "papers retrieved"), ("extracted", "claims extracted"), ("verified", "claims verified"),
        ("round", "revision round"))}
    score = float(found["score"])
    if not 0 <= score <= 10:
        raise ParseError(file, line, f"tribunal score must be in [0, 10], found {score}")
    return Results(counts["retrieved"], counts["extracted"], counts["verified"], score, found["verdict"], counts["round"],
                   found["policy"])


def parse_claims(section: list[Line], file: str) -> list[tuple[str, bool, float]]:
    """A kernel draft's tab-separated claims table: (claim, verified, confidence) per row."""
    if not section or [c.strip() for c in section[0].text.split("\t")] != list(CLAIMS_HEADER):
        line = section[0].number if section else None
        raise ParseError(file, line, "claims table must start with the header 'Claim<TAB>Verified<TAB>Confidence'")
    rows = []
    for line in section[1:]:
        cells = line.text.split("\t")
        if len(cells) != 3:
            raise ParseError(file, line.number, f"claims table row needs 3 tab-separated cells, found {len(cells)}")
        claim, mark, confidence = (c.strip() for c in cells)
        if mark not in VERIFIED_MARKS:
            raise ParseError(file, line.number, f"verified mark must be one of {' '.join(VERIFIED_MARKS)}, found {mark!r}")
        if not _DECIMAL.fullmatch(confidence):  # float() would also take '٠.٥', '1_0', 'nan' and '1e-3'
            raise ParseError(file, line.number, f"confidence must be a number in [0, 1] written in ASCII digits, found {confidence!r}")
        value = float(confidence)
        if not 0.0 <= value <= 1.0:
            raise ParseError(file, line.number, f"confidence must be in [0, 1], found {value}")
        rows.append((claim, VERIFIED_MARKS[mark], value))
    return rows


@dataclass(frozen=True)
class KernelDraft:
    """What a kernel draft states, as written (no paper looked up, no rule applied)."""

    title: Line  # the title line, prefix included
    drafted: date | None
    paper_title: str  # from "Analysis of: <paper title>. Research goal: <question>."
    question: str
    introduction: Line
    abstract: str
    methodology: list[Line]
    results: Results
    results_line: Line
    uncertainties: list[str]
    claims: list[tuple[str, bool, float]]
    references: list[tuple[Line, str]]  # (line, arXiv id as written, with any version)


def parse_kernel_draft(text: str, file: str) -> KernelDraft:
    """Read a kernel draft's structure; every error names the file and line and what was expected."""
    all_lines = lines(text)
    preamble, sections = split_sections(all_lines, SECTIONS, file)
    if not preamble or not preamble[0].text.startswith(TITLE_PREFIX):
        raise ParseError(file, preamble[0].number if preamble else 1, f"a kernel draft starts with a title line '{TITLE_PREFIX}...'")
    drafted = None
    for line in preamble[1:]:
        drafted = parse_date(line.text) or drafted
    intro = first_line(sections["1 Introduction"], "1 Introduction", file)
    goal = _GOAL.match(" ".join(l.text.strip() for l in sections["1 Introduction"]))
    if not goal:
        raise ParseError(file, intro.number, "introduction must read 'Analysis of: <paper title>. Research goal: <question>.'")
    question = goal["question"].strip()
    if not question.endswith("?"):
        question = question.rstrip(".")
    results_line = first_line(sections["3 Results"], "3 Results", file)
    results = parse_results(" ".join(l.text.strip() for l in sections["3 Results"]), file, results_line.number)
    references = []
    for line in sections["References"]:
        match = _REFERENCE.match(line.text.strip())
        if not match:
            raise ParseError(file, line.number, f"reference must be '- <http://arxiv.org/abs/ID>', found {line.text.strip()!r}")
        references.append((line, match["id"]))
    return KernelDraft(
        title=preamble[0],
        drafted=drafted,
        paper_title=goal["title"],
        question=question,
        introduction=intro,
        abstract=" ".join(l.text.strip() for l in sections["Abstract"]),
        methodology=sections["2 Methodology"],
        results=results,
        results_line=results_line,
        uncertainties=[s.strip() + "." for s in " ".join(l.text.strip() for l in sections["4 Uncertainties"]).split(".") if s.strip()],
        claims=parse_claims(sections["5 Extracted Claims"], file),
        references=references,
    )
