"""One gate for every write: nothing is written that `validate` would reject.

`import`, `run` and `correct` all pass what they are about to publish through the same checks, and
`validate` runs them again on every state a record's corrections fold to:

* the manifest's JSON Schema (a correction cannot write a score of "high", -3 or null);
* the derivation rules: a field derived from another (tier and verdict from the score, the level's
  label from the level, the short title from the title, the title from the question where the record
  took its title from it) always equals what its rule gives. `correct` recomputes derived fields from
  the inputs it changes and records them in the correction, marked ``derived_by`` with the rule's
  name; correcting a derived field directly is refused with that name;
* a new version's link (``version_problems``, before a write; ``versions.tree_problems`` in `validate`):
  the record it names is published, as the link's digest says, about the same question, paper and origin.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from generator.digests import sha256_bytes
from generator.errors import Problem
from generator.fsio import read_json_object
from generator.records import rules, versions
from generator.records.compose import derive_record_id, shorten_title
from generator.records.layout import MANIFEST_FILE, PROVENANCE_FILE, folder_name
from generator.records.schemas import schema_problems


def _get(values: dict, *path: str) -> Any:
    for key in path:
        values = values.get(key) if isinstance(values, dict) else None
    return values


@dataclass(frozen=True)
class Derivation:
    """``outputs`` are computed from ``inputs`` by ``derive`` whenever ``applies`` holds for the record."""

    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    applies: Callable[[dict, dict], bool]  # (published manifest, current values)
    derive: Callable[[dict], tuple]  # current values -> one value per output
    explain: str


def _tier(values: dict) -> tuple:
    tier = rules.derive_quality_tier(_get(values, "review", "score"))
    return tier.name, tier.basis


DERIVATIONS: tuple[Derivation, ...] = (
    Derivation("tier-by-score", ("/review/score",), ("/quality_tier/tier", "/quality_tier/basis"),
               lambda published, values: _get(published, "quality_tier", "derivation") == "rule", _tier,
               "the quality tier and its basis follow from the review score"),
    Derivation("verdict-by-score", ("/review/score",), ("/review/verdict",),
               lambda published, values: isinstance(_get(values, "review", "score"), (int, float)),
               lambda values: (rules.derive_verdict(values["review"]["score"]),),
               "the verdict follows from the review score"),
    Derivation("label-by-level", ("/verification/level",), ("/verification/label",),
               lambda published, values: _get(values, "verification", "level") in rules.LEVELS_BY_CODE,
               lambda values: (rules.level(values["verification"]["level"]).label,),
               "the verification label is the level's name"),
    Derivation("title-by-question", ("/research_question",), ("/title",),
               lambda published, values: published.get("title") == published.get("research_question"),
               lambda values: (values.get("research_question"),),
               "this record's title is its research question"),
    Derivation("short-title-by-title", ("/title",), ("/short_title",),
               lambda published, values: isinstance(values.get("title"), str),
               lambda values: (shorten_title(values["title"]),),
               "the short title is the title cut at a word boundary"),
)

# Derived from the facts of the provenance record (claim counts, sources), which a correction of the
# manifest cannot change: correct them by publishing a new version.
DERIVED_FROM_FACTS = {
    "/verification": "verification-by-claims: the level, its label and basis follow from the claim counts",
    "/quality_dimensions": "dimensions-by-rule: the ratings follow from the claim counts and recorded facts",
    "/quality_tier/derivation": "tier-derivation: whether the tier was stated or derived is part of the record",
}


def _covers(parent: str, pointer: str) -> bool:
    return pointer == parent or pointer.startswith(parent + "/")


def derived_rule(pointer: str, published: dict) -> str | None:
    """Why ``pointer`` may not be corrected directly (the rule's name and what it derives), or None."""
    for prefix, why in DERIVED_FROM_FACTS.items():
        if _covers(prefix, pointer) and (prefix != "/quality_dimensions" or _get(published, "quality_dimensions", "derivation") == "rule"):
            return why
    for rule in DERIVATIONS:
        if rule.applies(published, published) and any(_covers(pointer, out) or _covers(out, pointer) for out in rule.outputs):
            return f"{rule.name}: {rule.explain}; correct {', '.join(rule.inputs)} instead"
    return None


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def _at(values: dict, pointer: str) -> Any:
    for token in pointer.split("/")[1:]:
        values = values.get(_unescape(token)) if isinstance(values, dict) else None
    return values


def _set(values: dict, pointer: str, new: Any) -> None:
    tokens = [_unescape(t) for t in pointer.split("/")[1:]]
    for token in tokens[:-1]:
        values = values[token]
    values[tokens[-1]] = new


def derived_changes(published: dict, values: dict) -> list[dict]:
    """The changes that bring every derived field of ``values`` in line with its rule, applied in place."""
    changes = []
    for rule in DERIVATIONS:
        if not rule.applies(published, values):
            continue
        for pointer, new in zip(rule.outputs, rule.derive(values)):
            old = _at(values, pointer)
            if old != new:
                changes.append({"field": pointer, "old": old, "new": new, "derived_by": rule.name})
                _set(values, pointer, new)
    return changes


def rule_problems(file: str, values: dict, published: dict | None = None) -> list[Problem]:
    """Every derived field that does not equal what its rule gives. ``published`` is the manifest as
    first published (for a folded state): its record id was derived from the question as it was then."""
    published = published if published is not None else values
    problems = []
    for rule in DERIVATIONS:
        if not rule.applies(published, values):
            continue
        for pointer, expected in zip(rule.outputs, rule.derive(values)):
            if _at(values, pointer) != expected:
                inputs = ", ".join(f"{p} = {json.dumps(_at(values, p), ensure_ascii=False)}" for p in rule.inputs)
                problems.append(Problem(file, pointer, f"{inputs} gives {json.dumps(expected, ensure_ascii=False)} by rule {rule.name}, "
                                                       f"record says {json.dumps(_at(values, pointer), ensure_ascii=False)}"))
    origin = _get(published, "origin", "format")
    target = _get(published, "target_paper", "arxiv_id")
    question = published.get("research_question")
    previous = versions.previous_id(published)
    if origin != "public-record-page" and isinstance(target, str) and isinstance(question, str) and isinstance(origin, str):
        expected_id = derive_record_id(question, target, origin, previous)
        if published.get("record_id") != expected_id:
            basis = " and the record it is a new version of" if previous else ""
            problems.append(Problem(file, "/record_id", f"id is derived from the research question, target paper, origin{basis}: expected {expected_id}"))
    if _get(values, "target_paper", "arxiv_id") != target:
        problems.append(Problem(file, "/target_paper/arxiv_id", f"the target paper identifies the record: it stays {target}; "
                                                                "publish a new record for another paper"))
    return problems


def manifest_problems(file: str, values: dict, published: dict | None = None) -> list[Problem]:
    """The schema, then (only on a schema-valid manifest, whose types the rules can trust) the rules."""
    problems = schema_problems(values, rules.MANIFEST_CONTRACT, file)
    return problems or rule_problems(file, values, published)


def version_problems(records_dir: Path, manifest: dict, file: str) -> list[Problem]:
    """Before a new version is written: the record it names is published in ``records_dir`` and the link
    is sound (``versions.pair_problems``). No other newer version can exist: the id rule gives it this
    record's id, and a published id is never written twice."""
    previous = versions.previous_id(manifest)
    if previous is None:
        return []
    path = Path(records_dir) / folder_name(previous) / MANIFEST_FILE
    found: list[Problem] = []
    published = read_json_object(path, found) if path.is_file() else None
    if published is None:
        return found or [Problem(file, versions.ID_POINTER, f"names {previous}, which is not published in {records_dir}")]
    return versions.pair_problems(file, manifest, published)


def record_problems(files: dict[str, bytes], label: str) -> list[Problem]:
    """What `validate` would say of a record folder about to be written (``files``: name -> bytes)."""
    try:
        manifest = json.loads(files[MANIFEST_FILE])
        provenance = json.loads(files[PROVENANCE_FILE])
    except (KeyError, ValueError) as exc:
        return [Problem(label, "", f"not a record: {exc}")]
    problems = manifest_problems(f"{label} {MANIFEST_FILE}", manifest)
    problems += schema_problems(provenance, rules.PROVENANCE_CONTRACT, f"{label} {PROVENANCE_FILE}")
    for index, artifact in enumerate(manifest.get("artifacts") or []):
        data = files.get(artifact.get("path"))
        if data is None or sha256_bytes(data) != artifact.get("sha256") or len(data) != artifact.get("bytes"):
            problems.append(Problem(f"{label} {MANIFEST_FILE}", f"/artifacts/{index}", f"artifact {artifact.get('path')!r} is missing or differs from its digest"))
    return problems

