"""The three JSON Schemas, compiled once by jsonschema-rs (Draft 2020-12) with every ``format`` checked.

The schemas are registered by their ``$id`` in a jsonschema-rs ``Registry`` and the validators are
built ``offline``: a ``$ref`` between them resolves from this folder, and validation never touches the
network. ``format`` is an assertion here, not an annotation (``validate_formats=True``): a
``date-time`` of 2026-13-01T00:00:00Z or a ``date`` of 2026-02-30 is refused, and a format the
validator does not know is an error when the schemas are compiled (``ignore_unknown_formats=False``),
never a check silently skipped.

Every violation becomes a ``Problem``: the JSON pointer of the value, what the schema expected there
(worded as the Python ``jsonschema`` package words it, with the keyword's value read from the schema),
and the schema location.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema_rs

from generator.errors import Problem
from generator.records.rules import CORRECTION_CONTRACT, MANIFEST_CONTRACT, PROVENANCE_CONTRACT

# The schemas live at the top of the repository (schemas/), next to this package's source tree.
SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"
SCHEMA_FILES = {
    MANIFEST_CONTRACT: "paper-manifest-v1.1.json",
    PROVENANCE_CONTRACT: "source-provenance-v1.json",
    CORRECTION_CONTRACT: "correction-record-v1.json",
}


@lru_cache(maxsize=None)
def load_schema(contract: str) -> dict:
    return json.loads((SCHEMA_DIR / SCHEMA_FILES[contract]).read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def registry() -> jsonschema_rs.Registry:
    """The three schemas under their ``$id``, so a ``$ref`` from one to another resolves offline."""
    return jsonschema_rs.Registry([(load_schema(c)["$id"], load_schema(c)) for c in SCHEMA_FILES],
                                  draft=jsonschema_rs.Draft202012)


@lru_cache(maxsize=None)
def validator(contract: str) -> jsonschema_rs.Draft202012Validator:
    return jsonschema_rs.Draft202012Validator(
        load_schema(contract),
        registry=registry(),
        validate_formats=True,
        ignore_unknown_formats=False,
        offline=True,
    )


def json_pointer(parts) -> str:
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def _schema_value(contract: str, schema_path) -> Any:
    """The value of the keyword at ``schema_path`` (a list of keys and indexes) in the contract's schema."""
    value: Any = load_schema(contract)
    for part in schema_path:
        value = value[part] if isinstance(value, dict) else value[int(part)]
    return value


def _plural(count: int) -> str:
    return "was" if count == 1 else "were"


# What a keyword with value ``expected`` wanted of a value shown as ``shown``, in the Python jsonschema's words.
_MESSAGES = {
    "enum": "{shown} is not one of {expected!r}",
    "const": "{expected!r} was expected",
    "pattern": "{shown} does not match {expected!r}",
    "format": "{shown} is not a {expected!r}",
    "minimum": "{shown} is less than the minimum of {expected!r}",
    "maximum": "{shown} is greater than the maximum of {expected!r}",
    "exclusiveMinimum": "{shown} is less than or equal to the minimum of {expected!r}",
    "exclusiveMaximum": "{shown} is greater than or equal to the maximum of {expected!r}",
    "multipleOf": "{shown} is not a multiple of {expected!r}",
    "uniqueItems": "{shown} has non-unique elements",
    "not": "{shown} should not be valid under {expected!r}",
}
# Size bounds: (the bound whose message is about emptiness, that message, the message for any other bound).
_BOUNDS = {
    "maxLength": (0, "{shown} is expected to be empty", "{shown} is too long (at most {expected} characters)"),
    "maxItems": (0, "{shown} is expected to be empty", "{shown} is too long (at most {expected} items)"),
    "maxProperties": (0, "{shown} is expected to be empty", "{shown} has too many properties (at most {expected})"),
    "minLength": (1, "{shown} should be non-empty", "{shown} is too short (at least {expected} characters)"),
    "minItems": (1, "{shown} should be non-empty", "{shown} is too short (at least {expected} items)"),
    "minProperties": (1, "{shown} should be non-empty", "{shown} does not have enough properties (at least {expected})"),
}


def _message(keyword: str, expected: Any, instance: Any, error: jsonschema_rs.ValidationError) -> str:
    """What ``keyword`` (with its value ``expected``) wanted of ``instance``, in the Python jsonschema's words."""
    kind = error.kind
    shown = _shorten(repr(instance), 200)  # a 1 MB title would print 1 MB: its ends and its length are enough
    if keyword in _MESSAGES:
        return _MESSAGES[keyword].format(shown=shown, expected=expected)
    if keyword in _BOUNDS:
        empty_at, empty, other = _BOUNDS[keyword]
        return (empty if expected == empty_at else other).format(shown=shown, expected=expected)
    if keyword == "type":
        types = [expected] if isinstance(expected, str) else expected
        return f"{shown} is not of type {', '.join(repr(t) for t in types)}"
    if keyword == "required":
        return f"{kind.property!r} is a required property"
    if keyword == "additionalProperties":
        extras = sorted(kind.unexpected)
        return f"Additional properties are not allowed ({_shorten(', '.join(map(repr, extras)), 200)} {_plural(len(extras))} unexpected)"
    return _shorten(error.message)  # a keyword the schemas do not use today: jsonschema-rs's own words


def _describe(error: jsonschema_rs.ValidationError, contract: str) -> tuple[str, str]:
    """The pointer a user should look at, and what the schema expected there."""
    pointer = json_pointer(error.instance_path)
    keyword = error.kind.name
    schema_path = list(error.schema_path)
    try:
        message = _message(keyword, _schema_value(contract, schema_path), error.instance, error)
    except (LookupError, ValueError, TypeError):  # a location not in our schemas (never seen): jsonschema-rs's words
        message = _shorten(error.message)
    schema_at = "/".join(str(p) for p in schema_path)
    if keyword == "required":  # the pointer of the missing property itself
        return f"{pointer}/{json_pointer([error.kind.property])[1:]}", f"required property is missing ({message}) (schema: {schema_at})"
    if keyword == "additionalProperties":
        return pointer or "/", f"unexpected property ({message}) (schema: {schema_at})"
    return pointer or "/", f"{message} (schema: {schema_at})"


def _shorten(message: str, limit: int = 300) -> str:
    """``message`` cut in the middle to about ``limit`` characters, with its length."""
    return message if len(message) <= limit else f"{message[:limit // 2]} … {message[-limit // 2:]} ({len(message)} characters)"


def schema_problems(instance: object, contract: str, file: str) -> list[Problem]:
    """Every schema violation of ``instance`` against ``contract``, in a stable order."""
    check = validator(contract)
    try:
        if check.is_valid(instance):  # the common case: one pass in Rust, no error objects built
            return []
        errors = list(check.iter_errors(instance))
    except (ValueError, TypeError, OverflowError) as exc:  # not a JSON value: a lone surrogate, a non-string key
        return [Problem(file, "", f"not a JSON value the schema can check: {_shorten(str(exc))}")]
    described = [(list(map(str, error.instance_path)), *_describe(error, contract)) for error in errors]
    return [Problem(file, pointer, message) for _, pointer, message in sorted(described)]
