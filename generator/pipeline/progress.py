"""Progress of a pipeline run, stage by stage: nothing (library use, tests) or status lines on stderr."""

from __future__ import annotations

import time
from typing import Protocol

from rich.console import Console
from rich.text import Text

STAGES = ("target", "search", "claims", "index", "verify", "tribunal", "policy", "report", "write")


class Progress(Protocol):
    def start(self, stage: str, message: str) -> None: ...

    def done(self, stage: str, message: str) -> None: ...


class NullProgress:
    """Records stage durations and says nothing."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self._started: dict[str, float] = {}

    def start(self, stage: str, message: str) -> None:
        self._started[stage] = time.perf_counter()

    def done(self, stage: str, message: str) -> None:
        began = self._started.pop(stage, None)
        if began is not None:
            self.timings[stage] = time.perf_counter() - began


class ConsoleProgress(NullProgress):
    """One spinner while a stage runs and one line when it ends, on stderr (stdout stays for --json).

    Messages may contain text from papers or the user, so they are printed as plain text, never as
    rich markup.
    """

    def __init__(self, console: Console | None = None) -> None:
        super().__init__()
        self.console = console or Console(stderr=True, highlight=False)
        self._status = None

    def _number(self, stage: str) -> str:
        return f"[{STAGES.index(stage) + 1}/{len(STAGES)}]" if stage in STAGES else "[-]"

    def start(self, stage: str, message: str) -> None:
        super().start(stage, message)
        self.close()
        self._status = self.console.status(Text(f"{self._number(stage)} {stage}: {message}"))
        self._status.start()

    def done(self, stage: str, message: str) -> None:
        super().done(stage, message)
        self.close()
        seconds = self.timings.get(stage, 0.0)
        line = Text(f"{self._number(stage)} ", style="dim")
        line.append(stage, style="bold")
        line.append(f": {message} ")
        line.append(f"({seconds:.1f} s)", style="dim")
        self.console.print(line)

    def close(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None

    def __enter__(self) -> "ConsoleProgress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
