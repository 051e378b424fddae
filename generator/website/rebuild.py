"""`verify --rebuild`: rebuild a site from the records it mirrors and compare every file byte for byte.

The build is deterministic, so a page edited after the build (a banner removed, a script added)
differs from the rebuilt one even when its digest was re-listed. The signed checkpoint is compared by
its body (the signature needs the key), and the history is carried from earlier deploys, not built.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from generator.errors import Problem
from generator.records import layout
from generator.transparency import note
from generator.transparency.checkpoint import site_files


def records_from_site(site_dir: Path, records_dir: Path) -> None:
    """Lay the mirrored records and the log out as a records folder."""
    records_dir.mkdir(parents=True)
    shutil.copyfile(site_dir / layout.LOG_FILE, records_dir / layout.LOG_FILE)
    for folder in sorted((site_dir / layout.SITE_RECORDS_DIR).glob("SRCH-*")):
        record = layout.read_record(folder)
        if record.manifest is None:
            continue
        for name in layout.published_files(record.manifest, record.correction_entries):
            (records_dir / folder.name / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(folder / name, records_dir / folder.name / name)


def _body(path: Path) -> str:
    text = path.read_text(encoding="utf-8", errors="replace")
    return note.body_of(text)


def rebuild_problems(site_dir: Path) -> list[Problem]:
    from generator.website.build import build_site

    site_dir = Path(site_dir)
    with tempfile.TemporaryDirectory(prefix="sovereign-rebuild-") as scratch:
        work = Path(scratch)
        records_from_site(site_dir, work / "records")
        build_site(work / "records", work / "site", work_dir=work / "build")
        ours, _ = site_files(site_dir)
        theirs, _ = site_files(work / "site")
        problems = []
        for rel in sorted(set(ours) | set(theirs)):
            if rel not in theirs:
                problems.append(Problem(str(site_dir / rel), "", "added: a rebuild from the mirrored records does not produce this file"))
            elif rel not in ours:
                problems.append(Problem(str(site_dir / rel), "", "missing: a rebuild from the mirrored records produces this file"))
            elif ours[rel] != theirs[rel]:
                problems.append(Problem(str(site_dir / rel), "", "differs from a rebuild from the mirrored records"))
        if _body(site_dir / layout.CHECKPOINT_FILE) != _body(work / "site" / layout.CHECKPOINT_FILE):
            problems.append(Problem(str(site_dir / layout.CHECKPOINT_FILE), "", "differs from the rebuilt checkpoint"))
        return problems
