"""Content digests: SHA-256 over raw bytes, or over RFC 8785 canonical JSON for structured values.

``canonical_json`` writes RFC 8785 through orjson where it can vouch for the bytes and through
``rfc8785`` (pure Python, tens of times slower) everywhere else. For a JSON value orjson with sorted
keys writes what Python's C encoder writes with sorted keys, no whitespace, non-ASCII as is and no NaN
(shortest round-trip floats, the same escapes), and that is RFC 8785's bytes, except:

* a number Python writes with an exponent (1e-07, 1e+16) or ending in ".0" (RFC 8785 writes
  ECMAScript's 1e-7, 10000000000000000, 2), or an integer of 16 digits or more (RFC 8785 refuses those
  beyond 2**53 - 1);
* keys holding both a character from U+E000 to U+FFFF and one above U+FFFF (RFC 8785 sorts keys by
  UTF-16 code units, Python by code points: the orders differ only between those two);
* a lone surrogate (not UTF-8: RFC 8785 refuses it);
* a value the encoder coerces: a tuple, a dataclass, a date (orjson refuses non-string keys, integers
  beyond 64 bits and subclasses of str, so those reach ``rfc8785`` too).

Any of these anywhere in the output (a digit run or "2.0," inside a string counts too) sends the value
to ``rfc8785``; but a whole-number float (a score of 7.0) is first written as the int RFC 8785 makes
of it and tried again, and an object is then tried member by member, so what is left sends one small
member there, not a whole manifest. The tests are substring searches: a regular expression over every byte
cost more than the encoding.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import orjson
import rfc8785

_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_BEYOND_BMP = (b"\xf0", b"\xf1", b"\xf2", b"\xf3", b"\xf4")
# A number of 16 digits or more: digits after what can stand before a number in compact JSON (a run of
# digits inside a string, as in a hex digest, is not one, but a string holding ",1234567890123456" costs
# the slow path).
_LONG_NUMBERS = tuple(lead + b"0" * 16 for lead in (b":", b",", b"[", b"-"))


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _fast(value: Any, parsed: bool = False) -> bytes | None:
    """RFC 8785 bytes of a JSON object or array through orjson, or None where they might differ.

    ``parsed``: the value came from a strict JSON reader (only dicts with string keys, lists, strings,
    finite numbers, booleans and None), so nothing in it can be coerced and the round-trip check, which
    also catches the NaN orjson would write as null, is skipped."""
    if type(value) not in (dict, list):
        return None
    try:
        data = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except (orjson.JSONEncodeError, TypeError):  # a lone surrogate, a value JSON has no form for: rfc8785 says what
        return None
    shape = data.translate(_DIGITS_AS_ZERO)
    if ((b"0" * 16 in shape and any(run in shape for run in _LONG_NUMBERS)) or b"0e-0" in shape or b"0e+0" in shape
            or b".0," in data or b".0]" in data or b".0}" in data):
        return None  # a number RFC 8785 may write otherwise
    if (b"\xee" in data or b"\xef" in data) and any(lead in data for lead in _BEYOND_BMP):
        return None  # keys may sort otherwise
    if not parsed and json.loads(data) != value:
        return None  # the encoder coerced something (a non-string key, a tuple)
    return data


def _by_member(value: dict, parsed: bool = False) -> bytes | None:
    """RFC 8785 bytes of an object assembled member by member, or None if its keys cannot be vouched for."""
    keys = sorted(value) if all(type(key) is str for key in value) else None
    if keys is None or _fast(keys) is None:  # the keys' own order and escaping test
        return None
    return b"{" + b",".join(orjson.dumps(key) + b":" + canonical_json(value[key], parsed=parsed)
                            for key in keys) + b"}"


def _whole_floats_as_ints(value: Any) -> Any:
    """``value`` with each float that is a whole number below 2**53 as an int (RFC 8785 writes both
    alike: 7.0 as 7, -0.0 as 0), or ``value`` itself, the same object, when it holds none. Only dicts and
    lists are walked; anything else stays as it is, for ``_fast`` to judge."""
    kind = type(value)
    if kind is float:
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    if kind is dict:
        items = {key: _whole_floats_as_ints(item) for key, item in value.items()}
        return value if all(items[key] is item for key, item in value.items()) else items
    if kind is list:
        items = [_whole_floats_as_ints(item) for item in value]
        return value if all(new is old for new, old in zip(items, value)) else items
    return value


def canonical_json(value: Any, *, parsed: bool = False) -> bytes:
    """RFC 8785 (JCS) bytes: the same value always hashes the same, whatever the file layout.

    ``parsed=True`` only for a value exactly as a strict reader returned it (``fsio.read_json_object``,
    ``layout``'s published reader: no NaN), or a dict of its members: it skips a check that only values
    built in code need."""
    data = _fast(value, parsed)
    if data is None and type(value) in (dict, list) and (whole := _whole_floats_as_ints(value)) is not value:
        data = _fast(whole, parsed)  # a score of 7.0, which RFC 8785 writes as 7 (one in eight manifests)
    if data is None and type(value) is dict:
        data = _by_member(value, parsed)
    return data if data is not None else rfc8785.dumps(value)


def sha256_json(value: Any, *, parsed: bool = False) -> str:
    return sha256_bytes(canonical_json(value, parsed=parsed))
