"""Writing files so that a crash or an error never leaves a half-written one behind."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from generator.errors import Problem


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temporary file in the same folder, then rename it over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o644)  # mkstemp makes 0600; a published file is world-readable like any other
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def dump_json(value: Any) -> str:
    """The one JSON layout of every file we publish: sorted keys, two-space indent, final newline."""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def atomic_write_json(path: Path, value: Any) -> None:
    atomic_write_text(path, dump_json(value))


def read_json_object(path: Path, problems: list[Problem], *, altered: str | None = None) -> dict | None:
    """Parse a JSON object from ``path``, or add a Problem saying why not and return None.

    With ``altered`` (what to tell the reader), the file must also be in the ``dump_json`` layout,
    checked on the same bytes.
    """
    try:
        data = Path(path).read_bytes()
        value = json.loads(data)
    except FileNotFoundError:
        problems.append(Problem(str(path), "", "file is missing"))
        return None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        problems.append(Problem(str(path), "", f"not valid JSON: {exc}"))
        return None
    if not isinstance(value, dict):
        problems.append(Problem(str(path), "", "expected a JSON object at the top level"))
        return None
    if altered is not None and data != dump_json(value).encode("utf-8"):
        problems.append(Problem(str(path), "", f"file is not in the canonical layout (sorted keys, 2-space indent, final newline): {altered}"))
    return value
