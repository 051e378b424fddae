"""User-facing errors: the CLI prints their message and exits non-zero, never a traceback."""

from __future__ import annotations

from dataclasses import dataclass


class SovereignError(Exception):
    """A problem the user can act on; the message says what and where."""

    exit_code = 1


class InputError(SovereignError):
    """Input that cannot be used (malformed draft, unknown record, bad option value)."""

    exit_code = 2


@dataclass(frozen=True)
class Problem:
    """One finding of validation: the file, the JSON pointer inside it, and what was expected."""

    file: str
    pointer: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}#{self.pointer}" if self.pointer else self.file
        return f"{where}: {self.message}"


class ValidationFailed(SovereignError):
    """One or more records are invalid; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
