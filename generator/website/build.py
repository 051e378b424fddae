"""`sovereign-publish build`: validated records -> generated Markdown + JSON mirror -> MkDocs Material -> site/.

1. ``validate_tree``: an invalid record or log stops the build (``ValidationFailed`` names each
   problem). With ``--previous``, the live site's checkpoints are checked against the new tree
   first: a smaller or inconsistent tree is refused before anything is built.
2. Generate the docs MkDocs needs into a scratch folder (default ``build/docs``, git-ignored): first a
   copy of the hand-written ``docs/``, then one page per record, the records index, the quality
   guide, the schemas page, and the site-wide files whose links MkDocs validates
   (``records/index.json``, ``schemas/*.json``, ``corrections.xml``). Each record's own files (byte
   for byte as published, plus ``folded.json``, ``proofs.json`` and ``cite/``) and ``log.jsonl`` go
   straight into a staging folder next to ``--out`` instead: MkDocs would render an artifact named
   ``*.md`` as a page rather than publish its bytes, so it never sees them.
3. Run MkDocs (strict) into the staging folder, around those files, then seal it:
   ``site-manifest.json`` (the digest of every file), the signed ``checkpoint`` naming it, and
   ``checkpoints.json``. Rename it into place, so a failed build never leaves a half-written site.

With a cache folder (``--cache``, default ``.cache/sovereign-publish``), an unchanged record is neither
validated nor generated again (``record_cache``) and its page is not rendered again (``page_cache``);
what every build redoes is the checks across records, the log's proofs, the index, the feed, MkDocs
for the other pages, and the seal. The site replaced goes to ``build/previous-site``; the next build
with a cache recycles it as its staging site (``recycle_site``) and writes only the files that differ,
and a build without one deletes it in the background (deleting 100,000 files takes longer than a warm build).

Record pages are not nav entries (``not_in_nav``): with every page in the nav, MkDocs Material
renders the whole nav into every page, which is quadratic in the number of records.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from generator.digests import sha256_bytes
from generator.errors import SovereignError, ValidationFailed
from generator.fsio import Trash, dump_json, link_or_copy, place_link, same_bytes
from generator.parallel import Done, Tasks, in_child, parallel_map
from generator.records import layout, versions
from generator.records.layout import RecordFiles
from generator.records.log import LogEntry, log_bytes, read_log
from generator.records.schemas import SCHEMA_DIR, SCHEMA_FILES
from generator.transparency import checkpoint as cp
from generator.transparency.note import Signer, Verifier
from generator.records.publisher import Publisher, load_publisher
from generator.website import citing, mirror, pages, record_cache, record_page
from generator.website.page_cache import PageCache, page_key, toolchain_digest
from generator.website.record_cache import RecordCache, files_digest
from generator.website.pages import RecordView, record_view

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG = ROOT / "mkdocs.yml"
DEFAULT_DOCS = ROOT / "docs"
DEFAULT_EVAL = ROOT / "generator" / "data" / "verifier_eval.json"
GENERATED = ("records", "quality-guide.md", "schemas.md", "schemas", layout.FEED_FILE, layout.LOG_FILE,
             *layout.UNLISTED_SITE_FILES)


PREVIOUS_SITE = "previous-site"  # in the work folder: the site this build replaced, deleted by the next build


class BuildFailed(SovereignError):
    """MkDocs refused the generated docs (strict mode): a broken link, a missing anchor, a bad config."""


@dataclass
class BuildResult:
    out_dir: Path
    records: int
    corrections: int
    tree_size: int
    root: str
    signed_by: str | None = None
    history: int = 1
    timings: dict[str, float] = field(default_factory=dict)
    pages_reused: int = 0  # record pages taken from the page cache instead of rendered
    records_reused: int = 0  # records taken from the record cache instead of validated and folded


def _view_of(record) -> RecordView:
    """A valid record's view (in the worker that validated it): folded values and the claims of its report."""
    return record_view(record.manifest, record.provenance, record.correction_entries,
                       report=pages.read_report(record.folder, record.provenance))


def _checked_or_cached(folder: Path, cache: RecordCache):
    """``validate_record`` and ``_view_of`` for one folder, or the record as validated before when every
    byte of the folder is unchanged (``record_cache``)."""
    from generator.records.validate import checked_record

    key = files_digest(folder)
    if key is not None:
        entry = cache.load(key, folder)
        if entry is not None:
            return entry.record, []
    record, problems = checked_record(folder, _view_of)
    if not problems:
        record.files_digest = key
    return record, problems


def _load(records_dir: Path, cache: RecordCache | None) -> tuple[list[RecordFiles], list[RecordView], list[LogEntry]]:
    from generator.records.validate import validate_tree

    check = partial(_checked_or_cached, cache=cache) if cache is not None else None
    records, problems = validate_tree(Path(records_dir), then=_view_of, check=check)
    if problems:
        raise ValidationFailed(problems)
    entries, problems = read_log(records_dir) if records else ([], [])
    if problems:
        raise ValidationFailed(problems)
    newer = versions.newer_versions(record.outline for record in records)  # each earlier version links to its newer one
    views = [dataclasses.replace(record.derived, newer_version=newer.get(record.record_id)) if record.record_id in newer
             else record.derived for record in records]
    return records, views, entries


def load_views(records_dir: Path) -> tuple[list[RecordView], dict[str, Path], list[LogEntry]]:
    """Validate every record and the log; refuse to go on if any is invalid. Returns the views, their
    folders and the publication log. Records are read, checked and folded on every core."""
    records, views, entries = _load(records_dir, None)
    return views, {view.record_id: record.folder for view, record in zip(views, records)}, entries


def load_evaluation(path: Path | None) -> dict | None:
    if path is None or not Path(path).is_file():
        return None
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SovereignError(f"{path}: not valid JSON ({exc}); fix or remove it to build") from None


def _schemas() -> list[tuple[str, dict]]:
    out = []
    for contract, name in SCHEMA_FILES.items():
        schema = json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))
        expected = f"{pages.SITE_URL}schemas/{name}"
        if schema.get("$id") != expected:
            raise SovereignError(f"{SCHEMA_DIR / name}: $id is {schema.get('$id')!r}; the site serves it at {expected}")
        out.append((name, schema))
    return out


def _newest(views: list[RecordView]) -> str | None:
    return max((v.latest_at for v in views), default=None)


def generate_docs(views: list[RecordView], folders: dict[str, Path], entries: list[LogEntry], dest: Path, mirror_dest: Path, *,
                  docs_dir: Path = DEFAULT_DOCS, evaluation: dict | None = None, tree=None,
                  publisher: Publisher = Publisher(), trash: Trash | None = None,
                  records: dict[str, RecordFiles] | None = None, cache: RecordCache | None = None,
                  files_in_background: bool = False, recycled: bool = False) -> tuple[dict[str, str], _FilesWriter]:
    """Write everything MkDocs needs into ``dest`` (replaced), and the records' own files and the log
    into ``mirror_dest`` (empty or absent: `build` passes the staging site itself, `serve` a folder it
    copies in after each MkDocs run).

    Returns each record page's cache key by its path in ``dest``, and the writer of the records' own
    files: with ``files_in_background`` a child process is writing them (while MkDocs renders on the
    other core) and the caller must ``finish`` (or ``cancel``) it; else they are written already. ``tree`` is the Merkle tree of ``entries``
    when the caller has it already (``cp.log_tree``); ``publisher`` the identity the citations and
    Signposting links name (mkdocs.yml ``extra.publisher``); ``trash`` deletes the old ``dest`` in the
    background (else it goes first); with ``cache`` and the validated ``records`` (by id), a record's
    generated files are reused when made from the same inputs. ``recycled``: ``mirror_dest`` is an
    earlier build's site (``recycle_site``), whose files are replaced only where they differ."""
    dest, mirror_dest = Path(dest), Path(mirror_dest)
    if trash is not None:
        trash.discard(dest)
    elif dest.exists():
        shutil.rmtree(dest)
    mirror_dest.mkdir(parents=True, exist_ok=True)
    if Path(docs_dir).is_dir():
        for name in GENERATED:
            if (Path(docs_dir) / name).exists():
                raise SovereignError(f"{Path(docs_dir) / name}: this name is generated by the build; hand-written docs must not use it")
        shutil.copytree(docs_dir, dest)
    dest.mkdir(parents=True, exist_ok=True)
    records_out = dest / pages.RECORDS_DIR
    records_out.mkdir()

    views = sorted(views, key=lambda v: v.record_id)
    newest = _newest(views)

    global _JOB
    job = _RecordJob(views, folders, tree if tree is not None else cp.log_tree(entries), entries, records_out,
                     mirror_dest, publisher, records or {}, cache, recycled)
    _JOB = job
    try:
        keys = parallel_map(_write_page, range(len(views)))
    finally:
        _JOB = None
    files = _FilesWriter(job, background=files_in_background)
    if not files_in_background:
        files.finish()

    by_date = sorted(views, key=lambda v: (v.manifest["dates"]["recorded"], v.record_id), reverse=True)
    index = mirror.records_index(by_date)
    for name, text in pages.records_index_pages(index["records"], pages.INDEX_PAGE_SIZE):
        (records_out / name).write_text(text, encoding="utf-8")
    (records_out / layout.INDEX_JSON).write_text(dump_json(index), encoding="utf-8")

    (dest / pages.QUALITY_GUIDE_PAGE).write_text(pages.quality_guide_page(evaluation, pages.verifiers_in_use(views)),
                                                 encoding="utf-8")
    schemas = _schemas()
    (dest / pages.SCHEMAS_PAGE).write_text(pages.schemas_page(schemas), encoding="utf-8")
    (dest / "schemas").mkdir()
    for name, _ in schemas:
        shutil.copyfile(SCHEMA_DIR / name, dest / "schemas" / name)

    fallback = newest or _epoch_iso()
    (dest / layout.FEED_FILE).write_bytes(mirror.corrections_feed(views, fallback))
    return {f"{pages.RECORDS_DIR}/{view.folder_name}.md": key for view, key in zip(views, keys)}, files


@dataclass
class _RecordJob:
    views: list[RecordView]
    folders: dict[str, Path]
    tree: object  # cp.log_tree(entries)
    entries: list[LogEntry]
    pages_dir: Path
    mirror_dest: Path
    publisher: Publisher
    records: dict[str, RecordFiles]
    cache: RecordCache | None
    recycled: bool = False  # mirror_dest is an earlier build's site (``recycle_site``)
    proofs: dict[str, dict] = field(default_factory=dict)


# Set while the per-record files are written: forked workers inherit it, so only an index crosses to them.
_JOB: _RecordJob | None = None
_PAGE = "page"  # the page file among a record's generated files (the others are paths in its site folder)


def record_outputs(view: RecordView, publisher: Publisher, *, page: bool = True) -> dict[str, bytes]:
    """What the build generates for one record: its page file (unless not ``page``), ``folded.json`` and
    the citation files."""
    outputs = {_PAGE: record_page.record_document(view, publisher).encode("utf-8")} if page else {}
    outputs[layout.FOLDED_FILE] = dump_json(mirror.folded_view(view)).encode("utf-8")
    outputs.update(citing.cite_files(view, publisher))
    return outputs


def _outputs_context(view: RecordView, publisher: Publisher) -> str:
    """The inputs of ``record_outputs`` from outside the record folder."""
    return sha256_bytes(repr((view.newer_version, publisher)).encode("utf-8"))


def _cache_key(job: _RecordJob, view: RecordView) -> str | None:
    record = job.records.get(view.record_id)
    return record.files_digest if job.cache is not None and record is not None else None


def _write_page(number: int) -> str:
    """One record's page file, from the cache or rendered. Returns the page's cache key."""
    job = _JOB
    view = job.views[number]
    key = _cache_key(job, view)
    outputs = job.cache.load_outputs(key, _outputs_context(view, job.publisher)) if key else None
    document = outputs[_PAGE] if outputs else record_page.record_document(view, job.publisher).encode("utf-8")
    (job.pages_dir / f"{view.folder_name}.md").write_bytes(document)
    return page_key(f"{pages.RECORDS_DIR}/{view.folder_name}.md", document)


class _FilesWriter:
    """The records' own files. With ``background``, a forked child starts writing them at once (on a
    build, while MkDocs renders pages on the other core) and ``finish`` has this process join in for
    what is left (on a warm build MkDocs is done long before the files are); else ``finish`` writes them all."""

    def __init__(self, job: _RecordJob, background: bool) -> None:
        self.job = job
        job.proofs = cp.record_proofs(job.tree, job.entries)
        self.tasks = Tasks(len(job.views))
        self.pending = in_child(partial(self.tasks.run, partial(_write_files, job))) if background else Done()

    def cancel(self) -> None:
        self.pending.cancel()

    def finish(self) -> None:
        job = self.job
        try:
            self.tasks.run(partial(_write_files, job))
        except BaseException:
            self.cancel()
            raise
        self.pending.wait()
        (job.mirror_dest / layout.LOG_FILE).write_bytes(log_bytes(job.entries))
        if job.cache is not None:
            job.cache.keep_only({record.files_digest for record in job.records.values() if record.files_digest})


def _write_files(job: _RecordJob, number: int) -> None:
    """Record ``number``'s own files in the site: the published ones linked byte for byte (so their digests
    still verify on the site), then ``folded.json``, ``proofs.json`` and the citation files (``cite/``)."""
    view = job.views[number]
    key = _cache_key(job, view)
    context = _outputs_context(view, job.publisher) if key else None
    outputs = job.cache.load_outputs(key, context) if key else None
    if outputs is None:
        outputs = record_outputs(view, job.publisher, page=False)
        if key:  # the page was rendered by ``_write_page`` a moment ago: cache it with the rest
            outputs[_PAGE] = (job.pages_dir / f"{view.folder_name}.md").read_bytes()
            job.cache.store(key, record_cache.Entry(job.records[view.record_id], context, outputs))
    source, target = job.folders[view.record_id], job.mirror_dest / pages.RECORDS_DIR / view.folder_name
    target.mkdir(parents=True, exist_ok=True)  # MkDocs, writing the page, may have made it already
    wanted = {"index.html", layout.PROOFS_FILE}  # the page (MkDocs') and the proofs
    for name in layout.published_files(view.manifest, view.corrections):
        if name == "index.html":  # validation refuses this artifact name: MkDocs writes the record's page there
            raise BuildFailed(f"{source / name}: a record's file would replace a file of the built site")
        (target / name).parent.mkdir(exist_ok=True)
        place_link(source / name, target / name)
        wanted.add(name)
    _place_bytes(target / layout.PROOFS_FILE, dump_json(job.proofs[view.record_id]).encode("utf-8"))
    (target / citing.CITE_DIR).mkdir(exist_ok=True)
    for name, data in outputs.items():
        if name != _PAGE:
            _place_bytes(target / name, data)
            wanted.add(name)
    if job.recycled:  # the folder may hold what an older build put there: only this build's files stay
        _remove_unwanted(target, wanted)


# A build recycles the site before last (``build/previous-site``) as its staging site: it then writes only
# the files that differ, instead of creating (and later deleting) some 100,000 files. Either way a file
# ends up with exactly the bytes a build from scratch gives it; files are replaced, never written in
# place (a site file may be a hard link to a record's file or a cached page).

def _place_bytes(target: Path, data: bytes) -> None:
    """``target`` with exactly ``data``, unless it has it already."""
    if same_bytes(target, data):
        return
    with contextlib.suppress(FileNotFoundError):
        os.unlink(target)
    target.write_bytes(data)


def _remove_unwanted(folder: Path, wanted: set[str], prefix: str = "") -> None:
    with os.scandir(folder) as entries:
        for entry in entries:
            name = f"{prefix}{entry.name}"
            if entry.is_dir(follow_symlinks=False):
                if any(w.startswith(f"{name}/") for w in wanted):
                    _remove_unwanted(Path(entry.path), wanted, f"{name}/")
                else:
                    shutil.rmtree(entry.path)
            elif name not in wanted:
                os.unlink(entry.path)


def recycle_site(previous: Path, staging: Path, record_folders: set[str]) -> bool:
    """Make ``previous`` (an earlier build's site) the staging site, keeping only the record folders this
    build publishes (their files are then brought up to date one by one); everything else, which
    MkDocs writes again, goes. False (and no staging site) when there is none or it cannot be moved."""
    if not previous.is_dir() or previous.is_symlink():
        return False
    try:
        os.replace(previous, staging)
    except OSError:  # on another file system: build from scratch
        return False
    for entry in os.scandir(staging):
        if entry.name != pages.RECORDS_DIR or not entry.is_dir(follow_symlinks=False):
            _remove(entry)
    records = staging / pages.RECORDS_DIR
    if records.is_dir():
        for entry in os.scandir(records):
            if entry.name not in record_folders or not entry.is_dir(follow_symlinks=False):
                _remove(entry)
    return True


def _remove(entry: os.DirEntry) -> None:
    if entry.is_dir(follow_symlinks=False):
        shutil.rmtree(entry.path)
    else:
        os.unlink(entry.path)


def _epoch_iso() -> str:
    from generator import clock

    return clock.now_iso()


@contextlib.contextmanager
def reproducible_time(newest: str | None):
    """Pin SOURCE_DATE_EPOCH (MkDocs' sitemap dates and gzip header) to ``newest``, the time of the
    newest record or correction.

    An explicit SOURCE_DATE_EPOCH wins. Without one the site is still a function of the records alone.
    """
    if os.environ.get("SOURCE_DATE_EPOCH") or not newest:
        yield
        return
    from datetime import datetime

    stamp = datetime.fromisoformat(newest.replace("Z", "+00:00"))
    os.environ["SOURCE_DATE_EPOCH"] = str(int(stamp.timestamp()))
    try:
        yield
    finally:
        os.environ.pop("SOURCE_DATE_EPOCH", None)


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


class _NotTheDirtyWarning(logging.Filter):
    """MkDocs warns on every dirty build that navigation may be stale; ours reuses only record pages,
    which are not in the nav, and rebuilds every other page, so the warning does not apply (and strict
    mode would count it as a failure)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "'dirty' build" not in record.getMessage()


def run_mkdocs(config_file: Path, docs_dir: Path, site_dir: Path, *, reuse: frozenset[str] = frozenset()) -> None:
    """MkDocs build (strict, as mkdocs.yml says) of ``docs_dir`` into ``site_dir``.

    ``reuse``: record pages (paths in ``docs_dir``) already rendered into ``site_dir`` by the page cache;
    MkDocs' dirty mode skips them and builds everything else (``mkdocs_hooks.on_files``)."""
    from generator.website import mkdocs_hooks

    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    collect = _Collect()
    logger = logging.getLogger("mkdocs")
    logger.addHandler(collect)
    quiet = _NotTheDirtyWarning()
    logging.getLogger("mkdocs.commands.build").addFilter(quiet)
    mkdocs_hooks.UNCHANGED_PAGES = reuse
    try:
        config = load_config(config_file=str(config_file), docs_dir=str(Path(docs_dir).resolve()),
                             site_dir=str(Path(site_dir).resolve()))
        # Always "dirty": the staging site already holds the records' own files and the cached pages, and
        # the hook marks every other file modified, so MkDocs writes all of them as a clean build would.
        build(config, dirty=True)
    except MkDocsException as exc:
        details = "\n".join(f"  {m}" for m in collect.messages)
        raise BuildFailed(f"MkDocs refused the site: {exc}" + (f"\n{details}" if details else "")) from None
    finally:
        logger.removeHandler(collect)
        logging.getLogger("mkdocs.commands.build").removeFilter(quiet)
        mkdocs_hooks.UNCHANGED_PAGES = frozenset()


def _link_new_file(source: str, target: str) -> None:
    if os.path.lexists(target):
        raise BuildFailed(f"{target}: a record's file would replace a file of the built site (e.g. an artifact named like a page)")
    link_or_copy(source, target)


def copy_mirror(mirror_dir: Path, site_dir: Path) -> None:
    """Link the records' own files into a built site (``link_or_copy``), never over a file MkDocs wrote."""
    shutil.copytree(mirror_dir, site_dir, dirs_exist_ok=True, copy_function=_link_new_file)


def search_entries(views: list[RecordView]) -> list[dict]:
    """One entry per record for Material's search index, in record id order."""
    return [pages.search_entry(view) for view in sorted(views, key=lambda v: v.record_id)]


def add_search_entries(site_dir: Path, entries: list[dict]) -> None:
    """Append the records' entries to Material's search index (record pages are excluded from its parse)."""
    path = Path(site_dir) / "search" / "search_index.json"
    if not path.is_file():
        return
    index = json.loads(path.read_text(encoding="utf-8"))
    index["docs"] += entries
    path.write_text(json.dumps(index, separators=(",", ":")), encoding="utf-8")


def _replace_dir(staging: Path, out_dir: Path, previous: Path, trash: Trash) -> None:
    """Put the new site in place in one rename. The old one is moved to ``previous`` (in the work folder),
    which the next build deletes in the background while it works; across file systems, it is deleted now."""
    if out_dir.exists():
        trash.discard(previous)
        try:
            previous.parent.mkdir(parents=True, exist_ok=True)
            os.replace(out_dir, previous)
        except OSError:  # another file system: set it aside beside the site and delete it with this build
            old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
            os.replace(out_dir, old)
            trash.discard(old)
    os.replace(staging, out_dir)


def seal_site(site_dir: Path, tree, signer: Signer | None, history: list[cp.HistoryItem]) -> list[cp.HistoryItem]:
    """Write the site manifest, then the checkpoint that names it (signed when there is a key), then the
    history with it appended. Called last: the site manifest lists every file already written."""
    files, special = cp.site_files(site_dir)
    if special:
        raise BuildFailed(f"{site_dir}: {special[0]} is not a regular file; a site holds only files")
    manifest = cp.site_manifest_bytes(files)
    (Path(site_dir) / layout.SITE_MANIFEST_FILE).write_bytes(manifest)
    body = cp.checkpoint_body(cp.origin_for(pages.SITE_URL), tree, sha256_bytes(manifest))
    note_text = cp.sign(body, signer)
    history = cp.extend_history(history, note_text, tree)
    (Path(site_dir) / layout.CHECKPOINT_FILE).write_text(note_text, encoding="utf-8")
    document = cp.history_document(cp.origin_for(pages.SITE_URL), history)
    (Path(site_dir) / layout.HISTORY_FILE).write_text(dump_json(document), encoding="utf-8")
    return history


def build_site(records_dir: Path, out_dir: Path, *, work_dir: Path | None = None, docs_dir: Path = DEFAULT_DOCS,
               config_file: Path = DEFAULT_CONFIG, verifier_eval: Path | None = DEFAULT_EVAL,
               previous: str | None = None, signer: Signer | None = None,
               verifiers: list[Verifier] | None = None, cache_dir: Path | None = None) -> BuildResult:
    """Validate, generate and build the site into ``out_dir`` (replaced as a whole only on success).

    ``previous`` is the live site (URL or folder): its checkpoints are checked against the new tree
    (a smaller or inconsistent tree is refused before anything is built) and carried into the new
    site's history. Checkpoints are checked with ``verifiers``, or the signer's own public key.
    ``cache_dir`` holds what an earlier build validated, generated and rendered (``record_cache``,
    ``page_cache``); the site is byte-identical with and without it.
    """
    from generator.transparency.remote import previous_history

    out_dir = Path(out_dir).resolve()
    work_dir = Path(work_dir or "build").resolve()
    publisher = load_publisher(config_file)  # a bad identifier in it stops the build before any work
    timings: dict[str, float] = {}

    # The old docs and the site before last are deleted in the background while the build goes on.
    with Trash() as trash:
        start = time.perf_counter()
        toolchain = toolchain_digest(config_file, docs_dir) if cache_dir is not None else None
        records_cache = RecordCache.open(cache_dir, toolchain) if cache_dir is not None else None
        records, views, log_entries = _load(records_dir, records_cache)
        tree = cp.log_tree(log_entries)
        if verifiers is None:
            verifiers = [signer.verifier()] if signer is not None else []
        history = previous_history(previous, tree, verifiers) if previous else []
        timings["validate"] = time.perf_counter() - start

        start = time.perf_counter()
        evaluation = load_evaluation(verifier_eval)
        generated = work_dir / "docs"
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = out_dir.with_name(f".{out_dir.name}.staging-{os.getpid()}")
        shutil.rmtree(staging, ignore_errors=True)
        # With a cache, the site before last becomes the staging site and only what differs is written.
        recycled = cache_dir is not None and recycle_site(work_dir / PREVIOUS_SITE, staging, {v.folder_name for v in views})
        trash.discard(work_dir / PREVIOUS_SITE)
        try:
            with reproducible_time(_newest(views)):
                # The records' own files go straight into the staging site; MkDocs adds its pages around them.
                page_keys, files = generate_docs(views, {v.record_id: r.folder for v, r in zip(views, records)}, log_entries,
                                                  generated, staging, docs_dir=docs_dir, evaluation=evaluation, tree=tree,
                                                  publisher=publisher, trash=trash, records={r.record_id: r for r in records},
                                                  cache=records_cache, files_in_background=True, recycled=recycled)
                entries = search_entries(views)
                record_count, correction_count = len(views), sum(len(v.corrections) for v in views)
                records_reused = sum(1 for record in records if record.from_cache)
                # MkDocs holds every page in memory; release the parsed records first so the two peaks do not add up.
                del views, records
                timings["generate"] = time.perf_counter() - start

                start = time.perf_counter()
                pages_cache = PageCache.open(cache_dir, config_file, docs_dir, toolchain=toolchain) if cache_dir is not None else None
                reuse = pages_cache.place_hits(page_keys, staging) if pages_cache else frozenset()
                try:
                    run_mkdocs(config_file, generated, staging, reuse=reuse)
                except BaseException:
                    files.cancel()
                    raise
                files.finish()  # the records' own files, written meanwhile by a child process, which this one now helps
                if pages_cache:
                    pages_cache.store_misses(staging)
                add_search_entries(staging, entries)
                history = seal_site(staging, tree, signer, history)
                _replace_dir(staging, out_dir, work_dir / PREVIOUS_SITE, trash)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        timings["mkdocs"] = time.perf_counter() - start
    return BuildResult(out_dir, record_count, correction_count, tree.size, tree.root.hex(),
                       signer.name if signer else None, len(history), timings, pages_reused=len(reuse),
                       records_reused=records_reused)


def serve(records_dir: Path, *, work_dir: Path | None = None, docs_dir: Path = DEFAULT_DOCS,
          config_file: Path = DEFAULT_CONFIG, verifier_eval: Path | None = DEFAULT_EVAL,
          dev_addr: str = "127.0.0.1:8000") -> None:
    """Live preview: regenerate the docs, then `mkdocs serve` them, regenerating on each change to
    the records or the hand-written docs (a pre-build hook re-runs the generation)."""
    from mkdocs.commands.serve import serve as mkdocs_serve

    from generator.website import mkdocs_hooks

    check_port_free(dev_addr)
    generated = Path(work_dir or "build").resolve() / "docs"
    mirror_dir = generated.with_name("mirror")

    def regenerate() -> tuple[list[dict], Path]:
        views, folders, log_entries = load_views(records_dir)
        scratch = generated.with_name("docs.next")
        shutil.rmtree(mirror_dir, ignore_errors=True)
        generate_docs(views, folders, log_entries, scratch, mirror_dir, docs_dir=docs_dir, evaluation=load_evaluation(verifier_eval),
                      publisher=load_publisher(config_file))
        sync_tree(scratch, generated)
        shutil.rmtree(scratch, ignore_errors=True)
        return search_entries(views), mirror_dir

    regenerate()
    mkdocs_hooks.REGENERATE = regenerate
    try:
        mkdocs_serve(config_file=str(config_file), docs_dir=str(generated), dev_addr=dev_addr, strict=False,
                     watch=[str(Path(records_dir).resolve()), str(Path(docs_dir).resolve())])
    except OSError as exc:  # the port was taken between the check and MkDocs' own bind
        raise SovereignError(f"cannot serve on {dev_addr}: {exc.strerror or exc}") from None


def serve_url(dev_addr: str) -> str:
    """Where `serve` shows the site: MkDocs mounts it at the path of site_url (/registry/), not at /."""
    from urllib.parse import urlsplit

    return f"http://{dev_addr}{urlsplit(pages.SITE_URL).path}"


def check_port_free(dev_addr: str) -> None:
    """A clean error for a busy port or a malformed address, before any work is done."""
    import socket

    from generator.errors import InputError

    host, _, port = dev_addr.rpartition(":")
    if not host or not port.isascii() or not port.isdigit() or not 0 < int(port) < 65536:
        raise InputError(f"--dev-addr {dev_addr!r}: expected HOST:PORT, e.g. 127.0.0.1:8000")
    try:
        with socket.create_server((host, int(port))):
            pass
    except OSError as exc:
        raise SovereignError(f"cannot serve on {dev_addr}: {exc.strerror or exc} (another server may be running there; "
                             "choose another port with --dev-addr 127.0.0.1:PORT)") from None


def sync_tree(source: Path, target: Path) -> None:
    """Make ``target`` equal ``source`` touching only files that differ (so the live-reload watcher,
    which also watches ``target``, sees no change when nothing changed)."""
    target.mkdir(parents=True, exist_ok=True)
    wanted = {p.relative_to(source) for p in source.rglob("*") if p.is_file()}
    for path in sorted(p for p in target.rglob("*") if p.is_file()):
        if path.relative_to(target) not in wanted:
            path.unlink()
    for rel in sorted(wanted):
        src, dst = source / rel, target / rel
        data = src.read_bytes()
        if not dst.is_file() or dst.read_bytes() != data:
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.write_bytes(data)
