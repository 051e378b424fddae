"""The publication log: one canonical line per event, appended in publication order."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import copy_records
from generator.errors import InputError
from generator.records import log
from generator.records.corrections import append_correction
from generator.records.validate import validate_tree


def test_each_append_adds_the_next_index_as_one_canonical_line(tmp_path, later_epoch):
    records = copy_records(tmp_path / "records")
    append_correction(records, "SRCH:93BD3EF3", "expression_of_concern", "Checking.", "Editor", [])
    append_correction(records, "SRCH:93BD3EF3", "retraction", "Wrong.", "Editor", [])
    lines = (records / "log.jsonl").read_bytes().splitlines()
    entries = [json.loads(line) for line in lines]
    assert [e["index"] for e in entries] == list(range(7))
    assert [(e["record_id"], e["sequence"]) for e in entries[5:]] == [("SRCH:93BD3EF3", 1), ("SRCH:93BD3EF3", 2)]
    assert all(line == json.dumps(e, sort_keys=True, separators=(",", ":")).encode() for line, e in zip(lines, entries))
    assert validate_tree(records)[1] == []


def test_a_torn_last_line_stops_every_later_append_and_fails_validate(tmp_path, later_epoch):
    records = copy_records(tmp_path / "records")
    path = records / "log.jsonl"
    path.write_bytes(path.read_bytes()[:-20])  # a crash half-way through writing the last line
    with pytest.raises(InputError, match="interrupted write"):
        append_correction(records, "SRCH:93BD3EF3", "retraction", "Wrong.", "Editor", [])
    assert not (records / "SRCH-93BD3EF3" / "corrections").exists()
    assert any("no newline" in str(p) for p in validate_tree(records)[1])


@pytest.mark.parametrize("edit, message", [
    (lambda lines: [lines[0], lines[2], lines[1], *lines[3:]], "index 2, expected 1"),
    (lambda lines: [*lines, lines[-1]], "index 4, expected 5"),
    (lambda lines: [lines[0].replace(b'"at"', b'"at" '), *lines[1:]], "not in RFC 8785 canonical form"),
    (lambda lines: lines[:-1], "not in the publication log"),
], ids=["reordered", "duplicated", "reformatted", "truncated"])
def test_an_edited_log_fails_validate(tmp_path, edit, message):
    records = copy_records(tmp_path / "records")
    path = records / "log.jsonl"
    path.write_bytes(b"\n".join(edit(path.read_bytes().splitlines())) + b"\n")
    assert any(message in str(p) for p in validate_tree(records)[1]), validate_tree(records)[1]


def test_time_never_decreasing_is_checked_against_the_entry_before(tmp_path):
    entries = [log.LogEntry(0, "2026-11-22T10:00:00Z", "SRCH:00000000", 0, "0" * 64),
               log.LogEntry(1, "2026-11-22T09:00:00Z", "SRCH:00000001", 0, "0" * 64),
               log.LogEntry(2, "2999-01-01T00:00:00Z", "SRCH:00000002", 0, "0" * 64)]
    messages = [str(p) for p in log.time_problems(entries, "log.jsonl")]
    assert len(messages) == 2
    assert "line 2" in messages[0] and "time never decreases" in messages[0]
    assert "line 3" in messages[1] and "in the future" in messages[1]


_LINE_TEXT = st.text(st.sampled_from('0123456789abcdefSRCH:TZ.+-_ "\\é\x00'), max_size=12)
_LINE_NUMBER = st.integers(-3, 30) | st.integers(2**53 - 3, 2**53 + 3) | st.integers(-2**60, 2**60)


@settings(max_examples=500, deadline=None, derandomize=True, database=None)
@given(at=_LINE_TEXT, record_id=_LINE_TEXT, sha256=_LINE_TEXT,
       index=_LINE_NUMBER, sequence=_LINE_NUMBER,
       edit=st.sampled_from([None, b" ", b",", b"0", b"\\u0041", b"\xc3\xa9"]), at_byte=st.integers(0, 200))
def test_the_fast_line_reader_agrees_with_the_strict_one_on_any_line(at, record_id, sha256, index, sequence, edit, at_byte):
    """Lines we write take a regular expression instead of the strict parser: each answer must be the same."""
    line = json.dumps({"at": at, "index": index, "record_id": record_id, "sequence": sequence, "sha256": sha256},
                      sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    if edit is not None:
        at_byte %= len(line) + 1
        line = line[:at_byte] + edit + line[at_byte:]
    assert log.parse_line(line, "line 1", "log.jsonl") == log.parse_line_strictly(line, "line 1", "log.jsonl")


def test_a_line_we_write_takes_the_fast_reader():
    entry = log.LogEntry(12, "2026-11-23T10:00:00.5+01:00", "SRCH:93BD3EF3", 3, "ab" * 32)
    assert log._CANONICAL_LINE.fullmatch(entry.leaf)
    assert log.parse_line(entry.leaf, "line 13", "log.jsonl") == (entry, [])
