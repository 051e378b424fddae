"""Shared fixtures: the example seeds, a fixed SOURCE_DATE_EPOCH, and the --update-golden switch."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SEEDS = sorted((REPO / "examples" / "seeds").glob("*.txt"))
FIXED_EPOCH = "1780000000"  # 2026-05-28T20:26:40Z
# After the shipped records were recorded (2026-11-22T09:06:25Z) and not in the future: the log's time
# never goes back, so anything appended to a copy of the shipped records must be dated after them.
LATER_EPOCH = "1795348800"  # 2026-11-22T12:00:00Z


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", help="Rewrite golden files from current output (review the diff).")


@pytest.fixture
def update_golden(request) -> bool:
    return request.config.getoption("--update-golden")


@pytest.fixture
def fixed_epoch(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", FIXED_EPOCH)
    return FIXED_EPOCH


@pytest.fixture
def later_epoch(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", LATER_EPOCH)
    return LATER_EPOCH


def copy_records(target: Path, *folders: str) -> Path:
    """Copy some of the shipped record folders (all by default) with a publication log of just those."""
    import shutil

    from generator.records import log
    from generator.records.layout import read_record

    names = folders or [p.name for p in sorted((REPO / "records").iterdir()) if p.is_dir()]
    for name in names:
        shutil.copytree(REPO / "records" / name, Path(target) / name)
    log.migrate(Path(target), [read_record(Path(target) / name) for name in names])
    return Path(target)


@pytest.fixture
def imported_records(tmp_path, fixed_epoch) -> Path:
    """The five seeds imported into a fresh records folder."""
    from generator.records.importer import import_files

    records = tmp_path / "records"
    import_files(SEEDS, records)
    return records
