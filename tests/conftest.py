"""Shared fixtures: the example seeds, a fixed SOURCE_DATE_EPOCH, and the --update-golden switch."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SEEDS = sorted((REPO / "examples" / "seeds").glob("*.txt"))
FIXED_EPOCH = "1780000000"  # 2026-05-28T20:26:40Z


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
def imported_records(tmp_path, fixed_epoch) -> Path:
    """The five seeds imported into a fresh records folder."""
    from generator.records.importer import import_files

    records = tmp_path / "records"
    import_files(SEEDS, records)
    return records
