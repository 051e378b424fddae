"""Schema checks by jsonschema-rs, and the cheap read path of `validate`.

* Every ``format`` the schemas use is checked: a ``date-time`` that matches the pattern but is no
  instant (2026-13-01T00:00:00Z, 2026-02-29T...) is refused in a manifest, a provenance record and a
  correction, at its JSON pointer, naming ``date-time``.
* A violation reads as it did with the Python jsonschema: the pointer of the value, what was expected
  (in the same words, now with the bound of a too-long string) and the schema location, which the
  messages for a missing or an unexpected property now carry too.
* `validate` reads each file of a record once, and its fast paths (the published-layout reader and the
  RFC 8785 digest through the C encoder) accept exactly what the strict reader and ``rfc8785`` would.
"""

from __future__ import annotations

import copy
import enum
import json
from pathlib import Path

import orjson
import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import REPO, copy_records
from generator import fsio
from generator.digests import canonical_json, sha256_bytes, sha256_json
from generator.fsio import MAX_JSON_DEPTH, StrictJSONError, dump_json, parse_json
from generator.records import layout, log, rules, validate
from generator.records.schemas import load_schema, schema_problems
from generator.records.validate import manifest_digest, validate_tree

RECORD_000 = "SRCH-7AEAE763"
NOT_A_DATE = "2026-13-01T00:00:00Z"  # matches the schemas' pattern; month 13 does not exist
DATE_AT = "(schema: properties/dates/properties/recorded/format)"


def _shipped(name: str) -> dict:
    return json.loads((REPO / "records" / RECORD_000 / name).read_text(encoding="utf-8"))


def _manifest_with_date(recorded: str) -> dict:
    manifest = _shipped("manifest.json")
    manifest["dates"]["recorded"] = recorded
    return manifest


# --- date-time --------------------------------------------------------------------------------------


@pytest.mark.parametrize("recorded, instant", [
    (NOT_A_DATE, "2026-12-01T00:00:00Z"), ("2026-02-29T00:00:00Z", "2024-02-29T00:00:00Z"),
    ("2026-11-31T12:00:00Z", "2026-11-30T12:00:00Z"), ("2026-11-22T24:00:00Z", "2026-11-22T23:59:59Z"),
    ("2026-11-22T12:61:00Z", "2026-11-22T12:59:00Z"),
])
def test_a_recorded_date_that_matches_the_pattern_but_is_no_instant_is_refused(recorded, instant):
    problems = schema_problems(_manifest_with_date(recorded), rules.MANIFEST_CONTRACT, "manifest.json")

    assert [(p.pointer, p.message) for p in problems] == [
        ("/dates/recorded", f"'{recorded}' is not a 'date-time' {DATE_AT}")]
    assert schema_problems(_manifest_with_date(instant), rules.MANIFEST_CONTRACT, "manifest.json") == []


def test_validate_names_the_file_the_pointer_and_date_time(tmp_path):
    records = copy_records(tmp_path / "records", RECORD_000)
    path = records / RECORD_000 / "manifest.json"
    manifest = _manifest_with_date(NOT_A_DATE)
    manifest["sha256"] = manifest_digest(manifest)  # only the date is wrong, not the digest
    path.write_text(dump_json(manifest), encoding="utf-8")

    problems = [str(p) for p in validate_tree(records)[1]]

    assert f"{path}#/dates/recorded: '{NOT_A_DATE}' is not a 'date-time' {DATE_AT}" in problems, problems


def test_date_time_is_checked_in_provenance_and_corrections_too():
    provenance = _shipped("provenance.json")
    provenance["sources"][0]["retrieved_at"] = NOT_A_DATE
    correction = copy.deepcopy(load_schema(rules.CORRECTION_CONTRACT)["examples"][0])
    assert schema_problems(correction, rules.CORRECTION_CONTRACT, "0001.json") == []
    correction["at"] = "2026-02-30T10:00:00Z"

    found = schema_problems(provenance, rules.PROVENANCE_CONTRACT, "provenance.json")
    found += schema_problems(correction, rules.CORRECTION_CONTRACT, "0001.json")

    assert [(p.file, p.pointer, p.message) for p in found] == [
        ("provenance.json", "/sources/0/retrieved_at",
         f"'{NOT_A_DATE}' is not a 'date-time' (schema: properties/sources/items/properties/retrieved_at/format)"),
        ("0001.json", "/at", "'2026-02-30T10:00:00Z' is not a 'date-time' (schema: properties/at/format)"),
    ]


# --- the same words -----------------------------------------------------------------------------------


def _without_target_title(m: dict) -> None:
    del m["target_paper"]["title"]


def _rating(m: dict) -> None:
    m["quality_dimensions"]["evidence_strength"]["rating"] = "VERY LOW"


def _score(m: dict) -> None:
    m["review"]["score"] = "high"


def _extra(m: dict) -> None:
    m["origin"]["extra"] = 1


def _long_title(m: dict) -> None:
    m["title"] = "t" * 1001


WORDING = [
    (_without_target_title, "/target_paper/title",
     "required property is missing ('title' is a required property) (schema: properties/target_paper/required)"),
    (_rating, "/quality_dimensions/evidence_strength/rating",
     "'VERY LOW' is not one of ['LOW', 'MEDIUM', 'HIGH'] "
     "(schema: properties/quality_dimensions/properties/evidence_strength/properties/rating/enum)"),
    (_score, "/review/score", "'high' is not of type 'number', 'null' (schema: properties/review/properties/score/type)"),
    (_extra, "/origin",
     "unexpected property (Additional properties are not allowed ('extra' was unexpected)) (schema: properties/origin/additionalProperties)"),
    # The value is cut to its ends and its length; what was expected stays whole.
    (_long_title, "/title",
     f"'{'t' * 99} … {'t' * 99}' (1003 characters) is too long (at most 1000 characters) (schema: properties/title/maxLength)"),
]


@pytest.mark.parametrize("mutate, pointer, message", WORDING, ids=["required", "enum", "type", "additionalProperties", "maxLength"])
def test_each_violation_keeps_its_pointer_and_wording_next_to_the_date_time_one(mutate, pointer, message):
    manifest = _manifest_with_date(NOT_A_DATE)
    mutate(manifest)

    problems = schema_problems(manifest, rules.MANIFEST_CONTRACT, "manifest.json")

    assert [(p.pointer, p.message) for p in problems] == [
        ("/dates/recorded", f"'{NOT_A_DATE}' is not a 'date-time' {DATE_AT}"),
        (pointer, message),
    ]


def test_a_string_that_is_not_utf8_is_a_problem_never_a_crash():
    """A lone surrogate cannot reach the schema from a file (the strict reader refuses it), but a value
    built in code can: jsonschema-rs cannot turn it into UTF-8 where it matches a pattern or format."""
    manifest = _shipped("manifest.json")
    manifest["dates"]["recorded"] = "\ud800"

    problems = schema_problems(manifest, rules.MANIFEST_CONTRACT, "manifest.json")

    assert len(problems) == 1 and problems[0].pointer == "" and "not a JSON value" in problems[0].message, problems


# --- each file read once ------------------------------------------------------------------------------


def test_validate_reads_each_file_of_a_record_once(tmp_path, monkeypatch):
    records = copy_records(tmp_path / "records", RECORD_000)
    reads: dict[str, int] = {}
    real = fsio.read_regular_file

    def counting(path, limit):
        reads[Path(path).name] = reads.get(Path(path).name, 0) + 1
        return real(path, limit)

    for module in (fsio, layout, log, validate):
        monkeypatch.setattr(module, "read_regular_file", counting, raising=False)

    assert validate_tree(records)[1] == []
    assert reads == {"manifest.json": 1, "provenance.json": 1, "report.txt": 1, "log.jsonl": 1}


# --- the fast paths agree with the strict ones ------------------------------------------------------------

KEYS = st.text(st.characters(blacklist_categories=("Cs",)), max_size=6)
SCALARS = (st.none() | st.booleans() | st.integers(-(2**60), 2**60) | st.floats(allow_nan=False, allow_infinity=False)
           | st.sampled_from([0.0, -0.0, 1.0, 7.0, 1e-7, 1e16, 1e21, 0.1, 2.5, 123456789.125])
           | st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
           | st.sampled_from(["\ue000", "\U0001f600", "a\nb\t\"\\\x00\x1f\x7f", "2.0,", "1e+16", "9" * 16]))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4), max_leaves=30)
OBJECTS = st.dictionaries(KEYS, VALUES, max_size=6)
CHECK = settings(max_examples=400, deadline=None, derandomize=True, database=None)


def _strict(data: bytes):
    """What fsio's strict reader takes from ``data`` in the published layout, or None."""
    try:
        value = parse_json(data)
    except StrictJSONError:
        return None
    return value if isinstance(value, dict) and dump_json(value).encode("utf-8") == data else None


@CHECK
@given(OBJECTS)
def test_the_published_layout_is_dump_json_and_the_fast_reader_takes_what_the_strict_one_takes(value):
    data = dump_json(value).encode("utf-8")
    assert layout._published_text(value) + "\n" == dump_json(value)
    assert layout._published_value(data) == _strict(data)


@pytest.mark.parametrize("text", [
    '{\n  "a": NaN\n}\n', '{\n  "a": -Infinity\n}\n', '{\n  "a": 9007199254740992\n}\n', '{\n  "a": 1e400\n}\n',
    '{\n  "a": 1,\n  "a": 1\n}\n', '{\n  "a": "\\ud800"\n}\n', '{\n  "a": "\\u00e9"\n}\n', '{\n  "a": 1.50\n}\n',
    '{\n  "b": 1,\n  "a": 2\n}\n', '{"a": 1}\n', '{\n  "a": {\n  }\n}\n', '{\n  "a": 1\n}', '{\n  "a":  1\n}\n',
    '{\n    "a": 1\n}\n', '{\n  "a": [1,\n    2]\n}\n', '[\n  1\n]\n', '\ufeff{\n  "a": 1\n}\n',
    '{\n  "a": 0.00001\n}\n', '{\n  "a": 1e-05\n}\n', '{\n  "a": 1e-5\n}\n', '{\n  "a": 1e+16\n}\n', '{\n  "a": 1e16\n}\n',
    '{\n  "a": 18446744073709551615\n}\n', '{\n  "a": [\n    -1234567890123456\n  ]\n}\n', '{\n  "a": 0.1000\n}\n',
    dump_json(json.loads("[" * (MAX_JSON_DEPTH - 1) + '{"a": 1}' + "]" * (MAX_JSON_DEPTH - 1))),
    dump_json({"a": json.loads("[" * MAX_JSON_DEPTH + "1" + "]" * MAX_JSON_DEPTH)}),
], ids=lambda t: repr(t[:24]))
def test_the_fast_reader_takes_nothing_the_strict_reader_refuses(text):
    data = text.encode("utf-8")
    assert layout._published_value(data) == _strict(data) or layout._published_value(data) is None
    assert _strict(data) is None or layout._published_value(data) is None or layout._published_value(data) == _strict(data)
    if _strict(data) is None:
        assert layout._published_value(data) is None


@CHECK
@given(OBJECTS, st.floats(allow_nan=False, allow_infinity=False))
def test_orjson_vouches_only_for_text_python_would_write(value, number):
    """orjson's own text for a value (0.00001 where Python writes 1e-05) is never taken for the layout."""
    for data in (dump_json(value).encode("utf-8"), orjson.dumps({**value, "n": number}, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"):
        assert layout._orjson_value(data) is None or layout._orjson_value(data) == _strict(data)
        assert layout._published_value(data) == _strict(data)


class _Level(enum.IntEnum):
    HIGH = 3


@CHECK
@given(OBJECTS, st.floats(allow_nan=True, allow_infinity=True))
def test_dump_json_writes_pythons_layout_whichever_encoder_writes_it(value, number):
    """orjson writes the text only where it is byte for byte what Python's encoder writes."""
    for case in (value, {**value, "n": number}, {"t": (1, 2.5), "e": _Level.HIGH, "s": type("S", (str,), {})("x")}, {3: [0.00001, 1e16]}):
        assert dump_json(case) == json.dumps(case, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_the_fast_reader_takes_every_shipped_document():
    for path in sorted((REPO / "records").rglob("*.json")):
        data = path.read_bytes()
        assert layout._published_value(data) == parse_json(data), path
        assert layout._orjson_value(data) == parse_json(data), f"{path}: orjson's path refused it"


def _rfc8785_sha256(value) -> str:
    """The reference: rfc8785's own pure-Python encoder, never the fast path."""
    return sha256_bytes(rfc8785.dumps(value))


@CHECK
@given(VALUES)
def test_the_fast_digest_is_rfc8785(value):
    try:
        expected = _rfc8785_sha256(value)
    except ValueError as exc:  # rfc8785 refuses it (an integer beyond 2**53 - 1): so does the fast path
        with pytest.raises(type(exc)):
            sha256_json(value)
        return
    assert sha256_json(value) == expected


@pytest.mark.parametrize("value", [{1: "a"}, {"a": {2: "b"}}, ("a", 1), {"a": (1, 2)}, [{"a": 7.0}], {"s": 7.0, "t": "x"}])
def test_values_built_in_code_get_rfc8785s_answer_where_the_c_encoder_would_coerce_them(value):
    try:
        expected = rfc8785.dumps(value)
    except ValueError as exc:  # a non-string key: refused, not turned into a string
        with pytest.raises(type(exc)):
            canonical_json(value)
        return
    assert canonical_json(value) == expected


def test_the_fast_digest_of_every_shipped_document_is_rfc8785_and_each_manifest_matches_its_own():
    for path in sorted((REPO / "records").rglob("*.json")):
        value = json.loads(path.read_bytes())
        assert sha256_json(value) == _rfc8785_sha256(value), path
        if path.name == "manifest.json":
            assert sha256_json({k: v for k, v in value.items() if k != "sha256"}) == value["sha256"], path


_HEXES = st.sampled_from(["ab" * 32, "0" * 64, "not hex", "AB" * 32])


@CHECK
@given(OBJECTS, _HEXES, st.sampled_from(["artifacts", "title", "~after", "\u00e9", "s"]), st.booleans())
def test_one_encoding_gives_both_manifest_digests(value, stated, other_key, nested_twin):
    """The digest without the manifest's own ``sha256`` field, spliced from the one with it, is
    rfc8785's, also when a nested object holds the same field and value (a file with the same digest)."""
    manifest = {**value, other_key: [{"a": 1, "sha256": stated}] if nested_twin else 1, "sha256": stated}
    try:
        expected = (_rfc8785_sha256({k: v for k, v in manifest.items() if k != "sha256"}), _rfc8785_sha256(manifest))
    except ValueError as exc:  # an integer beyond 2**53 - 1: refused either way
        with pytest.raises(type(exc)):
            validate.manifest_digests(manifest)
        return
    assert validate.manifest_digests(manifest) == expected
