"""SciFact-format data (Wadden et al., EMNLP 2020): the corpus, one split of claims, and their pairs.

``corpus.jsonl`` holds {doc_id, title, abstract: [sentences]}; ``claims_<split>.jsonl`` holds {id, claim,
evidence: {doc_id: [{sentences, label}]}, cited_doc_ids}. A cited document without evidence is "not
enough info" (NEI) for that claim. The train split ships inside the package (``SHIPPED_DIR``, see its
SOURCE.md), because the stance-lr verifier is trained on it at first use; this module sits below the
pipeline and the evaluation so both read the data the same way. Errors name the file and line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Iterator

from generator.digests import sha256_bytes
from generator.errors import InputError

LABELS = ("SUPPORT", "CONTRADICT")
NEI = "NEI"


def shipped_dir() -> Path:
    """The SciFact folder shipped in the package (train split and corpus), wherever it is installed."""
    return Path(str(resources.files("generator") / "data" / "scifact"))


@dataclass(frozen=True)
class Document:
    doc_id: str
    title: str
    abstract: tuple[str, ...]

    @property
    def text(self) -> str:
        """What a verifier and the search index see: the title, then the abstract's sentences."""
        return " ".join([self.title, *self.abstract])


@dataclass(frozen=True)
class Claim:
    claim_id: str
    text: str
    evidence: dict[str, str]  # doc_id -> SUPPORT | CONTRADICT
    cited_doc_ids: tuple[str, ...]

    def label_for(self, doc_id: str) -> str:
        return self.evidence.get(doc_id, NEI)


@dataclass(frozen=True)
class Pair:
    claim: Claim
    doc_id: str
    label: str

    @property
    def has_evidence(self) -> bool:
        return self.label != NEI


@dataclass(frozen=True)
class SciFact:
    """One split of a SciFact-format folder, with the SHA-256 of each file read."""

    split: str
    corpus: dict[str, Document]
    claims: tuple[Claim, ...]
    data_files: dict[str, str]

    def pairs(self) -> list[Pair]:
        """Every (claim, cited document) pair, in file order; a document cited twice counts once."""
        return [
            Pair(claim, doc_id, claim.label_for(doc_id))
            for claim in self.claims
            for doc_id in dict.fromkeys(claim.cited_doc_ids)
        ]


def _read_jsonl(path: Path) -> tuple[str, Iterator[tuple[int, dict[str, Any]]]]:
    """The file's SHA-256 and its objects with 1-based line numbers; blank lines are skipped."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None

    def objects() -> Iterator[tuple[int, dict[str, Any]]]:
        for number, line in enumerate(data.decode("utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}:{number}: malformed JSON ({exc.msg} at column {exc.colno})") from None
            if not isinstance(value, dict):
                raise InputError(f"{path}:{number}: expected a JSON object, got {type(value).__name__}")
            yield number, value

    return sha256_bytes(data), objects()


def _field(obj: dict[str, Any], name: str, kind: type | tuple[type, ...], where: str) -> Any:
    if name not in obj:
        raise InputError(f"{where}: missing field {name!r}")
    value = obj[name]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise InputError(f"{where}: field {name!r} has the wrong type ({type(value).__name__})")
    return value


def _doc_id(value: Any, where: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise InputError(f"{where}: document id {value!r} is not an integer or string")
    return str(value)


def _parse_document(obj: dict[str, Any], where: str) -> Document:
    abstract = _field(obj, "abstract", list, where)
    if not all(isinstance(sentence, str) for sentence in abstract):
        raise InputError(f"{where}: field 'abstract' must be a list of sentences (strings)")
    return Document(_doc_id(_field(obj, "doc_id", (int, str), where), where), _field(obj, "title", str, where), tuple(abstract))


def _parse_claim(obj: dict[str, Any], where: str, corpus: dict[str, Document]) -> Claim:
    claim_id = str(_field(obj, "id", (int, str), where))
    text = _field(obj, "claim", str, where)
    cited = tuple(_doc_id(value, where) for value in _field(obj, "cited_doc_ids", list, where))
    evidence: dict[str, str] = {}
    for raw_id, rationales in _field(obj, "evidence", dict, where).items():
        doc_id = _doc_id(raw_id, where)
        if not isinstance(rationales, list) or not rationales:
            raise InputError(f"{where}: evidence for document {doc_id} must be a non-empty list")
        labels = {item.get("label") if isinstance(item, dict) else None for item in rationales}
        if len(labels) != 1 or not labels <= set(LABELS):
            raise InputError(f"{where}: evidence for document {doc_id} must have one label, SUPPORT or CONTRADICT; got {sorted(map(str, labels))}")
        evidence[doc_id] = labels.pop()
    for doc_id in (*cited, *evidence):
        if doc_id not in corpus:
            raise InputError(f"{where}: document {doc_id} is not in corpus.jsonl")
    return Claim(claim_id, text, evidence, cited)


def load_scifact(data_dir: Path, split: str = "train") -> SciFact:
    """Read and check ``corpus.jsonl`` and ``claims_<split>.jsonl``; errors name the file and line."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise InputError(f"{data_dir}: not a folder")
    claims_path = data_dir / f"claims_{split}.jsonl"
    if not claims_path.is_file():
        known = sorted(p.name[len("claims_") : -len(".jsonl")] for p in data_dir.glob("claims_*.jsonl"))
        raise InputError(f"{claims_path}: file not found (splits here: {', '.join(known) or 'none'})")
    corpus_path = data_dir / "corpus.jsonl"
    corpus_digest, corpus_lines = _read_jsonl(corpus_path)
    corpus: dict[str, Document] = {}
    for number, obj in corpus_lines:
        document = _parse_document(obj, f"{corpus_path}:{number}")
        if document.doc_id in corpus:
            raise InputError(f"{corpus_path}:{number}: duplicate doc_id {document.doc_id}")
        corpus[document.doc_id] = document
    claims_digest, claim_lines = _read_jsonl(claims_path)
    claims = tuple(_parse_claim(obj, f"{claims_path}:{number}", corpus) for number, obj in claim_lines)
    return SciFact(split, corpus, claims, {corpus_path.name: corpus_digest, claims_path.name: claims_digest})


def grouped_folds(claims: tuple[Claim, ...] | list[Claim], folds: int = 5) -> dict[str, int]:
    """Claim id -> fold, such that claims sharing a cited or evidence document are always in the same fold.

    Groups are the connected components of the claim-document graph. They are dealt, largest first
    (ties by first claim in the file), to the fold with the fewest claims so far (ties to the lower
    fold), so the split is deterministic and about even. A model trained on the other folds has then
    never seen an abstract of the held-out fold's claims.
    """
    parent: dict[str, str] = {}

    def find(node: str) -> str:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for claim in claims:
        for doc_id in (*claim.cited_doc_ids, *claim.evidence):
            parent[find("c" + claim.claim_id)] = find("d" + doc_id)
    members: dict[str, list[int]] = {}
    for position, claim in enumerate(claims):
        members.setdefault(find("c" + claim.claim_id), []).append(position)
    load = [0] * folds
    fold_of: dict[str, int] = {}
    for group in sorted(members.values(), key=lambda positions: (-len(positions), positions[0])):
        fold = min(range(folds), key=lambda f: (load[f], f))
        load[fold] += len(group)
        for position in group:
            fold_of[claims[position].claim_id] = fold
    return fold_of
