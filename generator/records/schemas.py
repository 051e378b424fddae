"""The three JSON Schemas, resolved through a `referencing` registry so validation never touches the network."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from jsonschema import Draft202012Validator, ValidationError
from referencing import Registry, Resource

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
def registry() -> Registry:
    resources = [(load_schema(c)["$id"], Resource.from_contents(load_schema(c))) for c in SCHEMA_FILES]
    return Registry().with_resources(resources)


@lru_cache(maxsize=None)
def validator(contract: str) -> Draft202012Validator:
    return Draft202012Validator(
        load_schema(contract),
        registry=registry(),
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def json_pointer(parts) -> str:
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def _describe(error: ValidationError) -> tuple[str, str]:
    """The pointer a user should look at, and what the schema expected there."""
    pointer = json_pointer(error.absolute_path)
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else ""
        return f"{pointer}/{missing}", f"required property is missing ({error.message})"
    if error.validator == "additionalProperties":
        return pointer or "/", f"unexpected property ({error.message})"
    schema_at = "/".join(str(p) for p in error.absolute_schema_path)
    return pointer or "/", f"{_shorten(error.message)} (schema: {schema_at})"


def _shorten(message: str, limit: int = 300) -> str:
    """jsonschema quotes the whole value: a 1 MB title would print 1 MB."""
    return message if len(message) <= limit else f"{message[:limit // 2]} … {message[-limit // 2:]} ({len(message)} characters)"


def schema_problems(instance: object, contract: str, file: str) -> list[Problem]:
    """Every schema violation of ``instance`` against ``contract``, in a stable order."""
    errors = sorted(validator(contract).iter_errors(instance), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    return [Problem(file, *_describe(error)) for error in errors]
