"""The command line: thin click commands, each calling one function of the core.

Errors the user can act on (``SovereignError``) become one clean message and a non-zero exit.
"""

from __future__ import annotations

from pathlib import Path

import click

from generator.errors import SovereignError, ValidationFailed


class _Group(click.Group):
    """Turns the errors a user can act on into one clean message and an exit code, never a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except ValidationFailed as exc:
            for problem in exc.problems:
                click.echo(f"error: {problem}", err=True)
            click.echo(f"{len(exc.problems)} problem(s) found.", err=True)
            ctx.exit(exc.exit_code)
        except SovereignError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(exc.exit_code)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="sovereign-publish")
def cli() -> None:
    """Publish machine-generated literature syntheses with machine-checkable provenance."""

RECORDS_OPTION = click.option(
    "--records", "records_dir", type=click.Path(path_type=Path), default=Path("records"), show_default=True,
    help="Folder holding one sub-folder per record.",
)


@cli.command("validate")
@click.argument("path", type=click.Path(path_type=Path), default=Path("records"))
@click.option("--base", "base_ref", metavar="REF", help="Also fail if a file under records/ that exists at this git ref was changed or deleted, "
                                                       "or the log lost, changed or back-dated a line.")
@click.option("--base-records", type=click.Path(path_type=Path), metavar="DIR",
              help="The same check against a records folder instead of a git ref (no git; PATH is only read).")
@click.option("--base-time", metavar="TIME", help="With --base-records: new log entries may not be dated before this instant (the base commit's time).")
def validate_command(path: Path, base_ref: str | None, base_records: Path | None, base_time: str | None) -> None:
    """Check every record against its schema, digests, rules, correction chain and the publication log.

    \b
    Example:
      sovereign-publish validate records/
      sovereign-publish validate --base origin/main
      sovereign-publish validate head/records --base-records base/records --base-time 2026-11-23T10:00:00Z
    """
    from generator.errors import InputError
    from generator.records.history import check_append_only, check_append_only_dirs
    from generator.records.validate import validate_tree

    if base_ref and base_records:
        raise InputError("give --base or --base-records, not both")
    if base_time and not base_records:
        raise InputError("--base-time goes with --base-records (with --base, the base commit's own time is used)")
    records, problems = validate_tree(path)
    if base_ref:
        problems += check_append_only(Path.cwd(), base_ref, records_dir=str(path))
    if base_records:
        problems += check_append_only_dirs(path, base_records, base_time)
    if problems:
        raise ValidationFailed(problems)
    corrections = sum(len(r.corrections) for r in records)
    click.echo(f"{len(records)} record(s) and {corrections} correction(s) valid.")


@cli.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@RECORDS_OPTION
def import_command(files: tuple[Path, ...], records_dir: Path) -> None:
    """Import kernel drafts or public record pages as records; nothing is written if any file is malformed.

    \b
    Example:
      sovereign-publish import drafts/*.txt --records records/
    """
    from generator.records.importer import import_files

    for result in import_files(list(files), records_dir):
        state = "imported" if result.written else "already published, unchanged"
        click.echo(f"{result.record_id}  {result.folder}  ({state}; from {result.source})")


@cli.command("correct")
@click.argument("record_id")
@click.option("--type", "update_type", required=True, help="Crossref update type, e.g. correction, expression_of_concern, retraction, or editorial_note.")
@click.option("--reason", required=True, help="Why; shown to readers as plain text.")
@click.option("--field", "fields", multiple=True, metavar="POINTER", help="JSON pointer of a manifest field to change (repeatable, pairs with --value).")
@click.option("--value", "values", multiple=True, metavar="JSON", help="New value of the matching --field, as JSON.")
@click.option("--by", default="Assignee Research", show_default=True, help="Who makes the correction.")
@RECORDS_OPTION
def correct_command(record_id, update_type, reason, fields, values, by, records_dir) -> None:
    """Append a correction to a published record (the record itself is never edited).

    \b
    Example:
      sovereign-publish correct SRCH:93BD3EF3 --type correction \\
        --reason "Named the wrong benchmark" \\
        --field /research_question --value '"How does SMoES ... on MathVista?"'
    """
    from generator.errors import InputError
    from generator.records.corrections import append_correction

    if len(fields) != len(values):
        raise InputError(f"every --field needs a --value ({len(fields)} fields, {len(values)} values)")
    path = append_correction(records_dir, record_id, update_type, reason, by, list(zip(fields, values)))
    click.echo(f"appended {path}")


@cli.command("register")
@click.argument("record_id")
@click.option("--zenodo", is_flag=True, help="Register with Zenodo (the only registrar today; required).")
@click.option("--sandbox", is_flag=True, help="Use the Zenodo Sandbox (test DOIs that do not resolve; the page says so).")
@click.option("--license", "license_id", metavar="ID",
              help="Zenodo license id of the deposit, e.g. cc-by-4.0; default: extra.publisher.license.spdx in mkdocs.yml, "
                   "which a given id must match.")
@click.option("--resume", type=int, metavar="DEPOSITION_ID", help="Finish a deposition an earlier run left unpublished.")
@click.option("--token-env", default="ZENODO_TOKEN", show_default=True, metavar="NAME",
              help="Environment variable holding the Zenodo token (never written anywhere).")
@click.option("--state", "state_dir", type=click.Path(path_type=Path), default=Path(".cache/zenodo"), show_default=True,
              help="Where an unfinished deposition's id is kept, so a rerun resumes it.")
@click.option("--by", default="Assignee Research", show_default=True, help="Who registers it.")
@RECORDS_OPTION
def register_command(record_id, zenodo, sandbox, license_id, resume, token_env, state_dir, by, records_dir) -> None:
    """Deposit a record on Zenodo, publish it, and append its DOI to the record's log.

    The deposit's metadata is the record's DataCite metadata (as `export --format datacite` writes it)
    in Zenodo's fields. Nothing is appended unless the deposition was published. A deposition left
    unpublished is named, with the command that resumes it (a rerun also resumes it).

    \b
    Example:
      ZENODO_TOKEN=... sovereign-publish register SRCH:93BD3EF3 --zenodo --license cc-by-4.0
    """
    from generator.errors import InputError
    from generator.records.publisher import load_publisher
    from generator.registries.zenodo import SANDBOX_URL, ZENODO_URL, ZenodoApi, register, token_from_env
    from generator.registries.zenodo_metadata import zenodo_metadata
    from generator.website.build import DEFAULT_CONFIG
    from generator.website.citing import record_citable

    publisher = load_publisher(DEFAULT_CONFIG)

    def metadata(record):
        return zenodo_metadata(record_citable(records_dir, record, publisher), license_id)

    if not zenodo:
        raise InputError("name the registrar: --zenodo (the only one today)")
    api = ZenodoApi(SANDBOX_URL if sandbox else ZENODO_URL, token_from_env(token_env))
    try:
        done = register(records_dir, record_id, api, metadata=metadata, state_dir=state_dir, resume=resume, by=by)
    finally:
        api.close()
    click.echo(f"{done.record_id}: registered DOI {done.doi} ({done.record_url}); appended {done.correction}")


@cli.command("check-sources")
@click.argument("record_ids", nargs=-1, metavar="[ID]...")
@click.option("--config", "config_file", type=click.Path(path_type=Path), help="Pipeline config (YAML); default: sovereign.yml if present.")
@click.option("--set", "overrides", multiple=True, metavar="SECTION.KEY=VALUE", help="Override one config value, e.g. --set search.backend=arxiv.")
@click.option("--offline", is_flag=True, help="Ask nothing; report every source as not checked, whatever the config says.")
@click.option("--mailto", metavar="EMAIL", help="Contact address sent to Crossref (its polite pool); not stored.")
@click.option("--cache", "cache_dir", type=click.Path(path_type=Path), default=Path(".cache/source-status"), show_default=True,
              help="Answers are reused for a day; a notice can appear any time, so they are never kept longer.")
@click.option("--by", default="Assignee Research", show_default=True, help="Who appends a finding.")
@RECORDS_OPTION
def check_sources_command(record_ids, config_file, overrides, offline, mailto, cache_dir, by, records_dir) -> None:
    """Ask arXiv and Crossref whether a paper a record relies on was withdrawn or retracted; log each new finding.

    Live only with search.backend: arxiv (as for `run`); offline every source is "not checked".
    A finding is appended once, as an expression of concern (a correction-like notice as an editorial note).

    \b
    Example:
      sovereign-publish check-sources SRCH:170CA349 --set search.backend=arxiv --mailto you@example.org
    """
    from generator.pipeline.config import load_config
    from generator.pipeline.retry import RetryPolicy
    from generator.pipeline.search import ArxivApiSearch
    from generator.registries.crossref import CrossrefClient
    from generator.registries.sources import check_sources

    config = load_config(config_file, overrides, offline=offline)
    arxiv = crossref = None
    if config.search.backend == "arxiv":
        a = config.search.arxiv
        retry = RetryPolicy(max_retries=a.max_retries, backoff_base=a.backoff_seconds, backoff_max=max(60.0, a.backoff_seconds))
        arxiv = ArxivApiSearch(base_url=a.base_url, delay_seconds=a.delay_seconds, timeout=a.timeout_seconds, retry=retry,
                               empty_page_retries=a.empty_page_retries, cache_path=cache_dir / "arxiv", cache_expire_after=86400)
        crossref = CrossrefClient(mailto=mailto, timeout=a.timeout_seconds, retry=retry, cache_dir=cache_dir / "crossref")
    try:
        checks = check_sources(records_dir, list(record_ids), arxiv=arxiv, crossref=crossref, by=by)
    finally:
        for client in (arxiv, crossref):
            if client is not None:
                client.close()
    for check in checks:
        click.echo(check.line())
    found = sum(len(c.findings or []) for c in checks)
    appended = sum(len(c.appended or []) for c in checks)
    unchecked = sum(1 for c in checks if not c.checked)
    click.echo(f"{len(checks)} source(s): {len(checks) - unchecked} checked, {unchecked} not checked; "
               f"{found} finding(s), {appended} appended.")


@cli.command("export")
@click.argument("record_id")
@click.option("--format", "format_name", required=True, type=click.Choice(["datacite", "bibtex", "ris", "csl-json"]),
              help="DataCite 4.5 JSON, BibTeX, RIS or CSL-JSON.")
@click.option("--out", type=click.Path(path_type=Path), help="Write to this file (atomically) instead of standard output.")
@RECORDS_OPTION
def export_command(record_id: str, format_name: str, out: Path | None, records_dir: Path) -> None:
    """Write one record's citation metadata, from its values with every correction applied.

    The publisher, its ROR id, the creators' ORCID iDs and the licence come from mkdocs.yml
    (extra.publisher). A retracted record is exported as retracted, with the reason.

    \b
    Example:
      sovereign-publish export SRCH:93BD3EF3 --format bibtex
      sovereign-publish export SRCH:93BD3EF3 --format datacite --out SRCH-93BD3EF3.datacite.json
    """
    from generator.fsio import atomic_write_text
    from generator.records.publisher import load_publisher
    from generator.website.build import DEFAULT_CONFIG
    from generator.website.citing import export_record

    text = export_record(records_dir, record_id, format_name, load_publisher(DEFAULT_CONFIG))
    if out is None:  # as bytes: RIS lines end in CRLF, which a text stream could translate
        click.echo(text.encode("utf-8"), nl=False)
    else:
        atomic_write_text(out, text)
        click.echo(f"wrote {out}", err=True)


@cli.command("eval-verifier")
@click.argument("data_dir", type=click.Path(path_type=Path))
@click.option("--split", default="train", show_default=True, help="Reads claims_<split>.jsonl from DATA_DIR.")
@click.option("--verifier", "verifiers", multiple=True, metavar="NAME", help="Verifier to measure (repeatable; default: all registered).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON instead of a table.")
@click.option("--out", type=click.Path(path_type=Path), help="Also write the JSON result to this file (atomically).")
def eval_verifier_command(data_dir: Path, split: str, verifiers: tuple[str, ...], as_json: bool, out: Path | None) -> None:
    """Measure claim verifiers (pair task, contradictions, abstract level, pipeline) on SciFact-format data.

    \b
    Example (regenerates the shipped figures):
      sovereign-publish eval-verifier generator/data/scifact \\
        --out generator/data/verifier_eval.json
    """
    from generator.evaluation.scifact import evaluate_scifact, format_table
    from generator.fsio import atomic_write_json, dump_json

    result = evaluate_scifact(data_dir, split, list(verifiers) or None)
    if out is not None:
        atomic_write_json(out, result.to_json())
    if as_json:
        click.echo(dump_json(result.to_json()), nl=False)
    else:
        click.echo(format_table(result))


@cli.command("build")
@RECORDS_OPTION
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("site"), show_default=True,
              help="Folder the site is built into (replaced as a whole, only when the build succeeds).")
@click.option("--work", "work_dir", type=click.Path(path_type=Path), default=Path("build"), show_default=True,
              help="Scratch folder for the generated Markdown (build/docs).")
@click.option("--previous", metavar="SITE_OR_URL",
              help="The live site: refuse a tree smaller than or inconsistent with any checkpoint it served, and keep its history.")
@click.option("--key", "key_files", multiple=True, type=click.Path(path_type=Path), metavar="PUBKEY",
              help="Log public key the --previous checkpoints must be signed with (default: the signing key's own).")
@click.option("--cache", "cache_dir", type=click.Path(path_type=Path), default=Path(".cache/sovereign-publish"), show_default=True,
              help="Reuse what an earlier build validated, generated and rendered for an unchanged record (same bytes, same "
                   "toolchain), and recycle the site before last; the site is the same byte for byte. Trusted like the checkout.")
@click.option("--no-cache", is_flag=True, help="Validate, generate and render everything from scratch (the deploy workflow builds this way).")
def build_command(records_dir: Path, out_dir: Path, work_dir: Path, previous: str | None, key_files: tuple[Path, ...],
                  cache_dir: Path, no_cache: bool) -> None:
    """Validate the records and build the static site (MkDocs Material) with its JSON mirror, feed and signed checkpoint.

    The checkpoint is signed with the key in the SOVEREIGN_LOG_KEY environment variable (made by
    `sovereign-publish keygen`); without it, the build says the checkpoint is unsigned.

    \b
    Example:
      sovereign-publish build
      SOVEREIGN_LOG_KEY="$(cat ~/.config/sovereign-publish/log.key)" \\
        sovereign-publish build --previous https://sovereign-publish.github.io/registry/
    """
    from generator.transparency.checkpoint import SIGNING_KEY_ENV, signer_from_env
    from generator.website.build import build_site

    signer = signer_from_env()
    verifiers = [_load_key(path) for path in key_files] or None
    result = build_site(records_dir, out_dir, work_dir=work_dir, previous=previous, signer=signer, verifiers=verifiers,
                        cache_dir=None if no_cache else cache_dir)
    timings = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in result.timings.items())
    if not no_cache:
        timings += (f"; {result.records_reused} of {result.records} record(s) and {result.pages_reused} page(s) "
                    "from the cache")
    signed = f"signed by {result.signed_by}" if result.signed_by else f"UNSIGNED (set {SIGNING_KEY_ENV} to sign it)"
    click.echo(f"built {result.out_dir}: {result.records} record(s), {result.corrections} correction(s); "
               f"checkpoint size {result.tree_size} root {result.root}, {signed}; {result.history} checkpoint(s) in the history ({timings})")
    if not result.signed_by:
        click.echo(f"warning: the checkpoint is unsigned: readers cannot tell it from one anybody recomputed ({SIGNING_KEY_ENV} is not set)", err=True)


def _load_key(path: Path, *, witness: bool = False):
    """A verifier key (Go note format) from a file."""
    from generator.errors import InputError
    from generator.transparency import note

    try:
        text = Path(path).read_text(encoding="utf-8").strip()
        return note.load_witness_verifier(text) if witness else note.load_verifier(text)
    except OSError as exc:
        raise InputError(f"{path}: cannot read the key: {exc.strerror}") from None
    except (note.NoteError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a public key: {exc}") from None


@cli.command("serve")
@RECORDS_OPTION
@click.option("--work", "work_dir", type=click.Path(path_type=Path), default=Path("build"), show_default=True,
              help="Scratch folder for the generated Markdown (build/docs).")
@click.option("--dev-addr", default="127.0.0.1:8000", show_default=True, help="Address to serve the preview on.")
def serve_command(records_dir: Path, work_dir: Path, dev_addr: str) -> None:
    """Live preview of the site; rebuilds when a record or a hand-written page changes.

    \b
    Example:
      sovereign-publish serve --dev-addr 127.0.0.1:8000
    """
    from generator.website.build import check_port_free, serve, serve_url

    check_port_free(dev_addr)
    click.echo(f"serving {serve_url(dev_addr)} (rebuilds on every change to the records or docs; Ctrl-C to stop)", err=True)
    serve(records_dir, work_dir=work_dir, dev_addr=dev_addr)


@cli.command("verify")
@click.argument("site", metavar="SITE_OR_URL", default="site")
@click.option("--key", "key_files", multiple=True, type=click.Path(path_type=Path), metavar="PUBKEY",
              help="The registry's log public key (e.g. keys/log.pub): the checkpoint must be signed with it.")
@click.option("--since", metavar="CHECKPOINT", help="A checkpoint you saved earlier (file or URL): today's log must extend it.")
@click.option("--witness-key", "witness_key_files", multiple=True, type=click.Path(path_type=Path), metavar="PUBKEY",
              help="A witness's public key: the --since checkpoint must carry its cosignature (repeatable).")
@click.option("--rebuild", is_flag=True, help="Also rebuild every page from the mirrored records and compare byte for byte.")
def verify_command(site: str, key_files: tuple[Path, ...], since: str | None, witness_key_files: tuple[Path, ...], rebuild: bool) -> None:
    """Check every file of a built site against its signed checkpoint, the log, the proofs and the history.

    \b
    Example:
      sovereign-publish verify site/ --key keys/log.pub
      curl -sO https://sovereign-publish.github.io/registry/checkpoint   # save it, then later:
      sovereign-publish verify https://sovereign-publish.github.io/registry/ --key keys/log.pub --since checkpoint
    """
    import tempfile

    from generator.errors import InputError
    from generator.transparency.remote import download_site, fetch, is_url
    from generator.transparency.verify import verify_site

    verifiers = [_load_key(path) for path in key_files]
    witnesses = [_load_key(path, witness=True) for path in witness_key_files]
    if witnesses and not since:
        raise InputError("--witness-key checks the cosignatures of the --since checkpoint: give --since too")
    saved = None
    if since:
        data = fetch(since.rsplit("/", 1)[0], since.rsplit("/", 1)[1]) if is_url(since) else fetch(str(Path(since).parent), Path(since).name)
        saved = (since, data.decode("utf-8", errors="replace"))
    with tempfile.TemporaryDirectory(prefix="sovereign-verify-") as scratch:
        site_dir = download_site(site, Path(scratch)) if is_url(site) else Path(site)
        if not site_dir.is_dir():
            raise InputError(f"{site}: no such site folder")
        report = verify_site(site_dir, verifiers=verifiers, since=saved, witnesses=witnesses)
        if rebuild and not report.problems:
            from generator.website.rebuild import rebuild_problems

            report.problems += rebuild_problems(site_dir)
            report.statements.append("every file matches a rebuild from the mirrored records")
    for statement in report.statements:
        click.echo(f"note: {statement}", err=True)
    if report.problems:
        raise ValidationFailed(report.problems)
    signed = f", signed by {', '.join(report.signed_by)}" if report.signed_by else ""
    click.echo(f"{site}: {report.files} files, {report.records} records and {report.entries} log entries verified "
               f"against the checkpoint of size {report.tree_size}{signed}.")


@cli.command("keygen")
@click.option("--name", default=None, metavar="NAME", help="Key name; default: the site's checkpoint origin.")
@click.option("--private", "private_path", type=click.Path(path_type=Path), required=False, default=None,
              help="Where to write the private key, never inside a repository  [default: ~/.config/sovereign-publish/log.key, or witness.key]")
@click.option("--public", "public_path", type=click.Path(path_type=Path), default=None,
              help="Where to write the public key (commit it)  [default: keys/log.pub, or keys/witness.pub with --witness]")
@click.option("--witness", is_flag=True, help="Make a witness key (tlog-cosignature) instead of the log's signing key.")
def keygen_command(name: str | None, private_path: Path, public_path: Path, witness: bool) -> None:
    """Make an Ed25519 key pair: the private key outside the repository, the public key in it.

    \b
    Example:
      sovereign-publish keygen
      gh secret set SOVEREIGN_LOG_KEY < ~/.config/sovereign-publish/log.key
    """
    from generator.errors import InputError
    from generator.transparency.checkpoint import origin_for
    from generator.transparency.keys import write_key_pair
    from generator.website.pages import SITE_URL

    private_path = private_path or Path("~/.config/sovereign-publish/" + ("witness.key" if witness else "log.key"))
    if witness and name is None:
        raise InputError("--witness needs --name, the witness's own name (e.g. witness.example.org/w1)")
    public_path = public_path or Path("keys/witness.pub" if witness else "keys/log.pub")
    private_path, public_path = write_key_pair(name or origin_for(SITE_URL), private_path.expanduser(), public_path, witness=witness)
    use = "pass it to `sovereign-publish witness --key`" if witness else "e.g. as the SOVEREIGN_LOG_KEY secret"
    click.echo(f"private key: {private_path} (mode 0600; keep it secret; {use})")
    click.echo(f"public key:  {public_path} (publish it; readers check signatures with it)")


@cli.command("witness")
@click.argument("site", metavar="SITE_OR_URL")
@click.option("--log-key", type=click.Path(path_type=Path), required=True, metavar="PUBKEY", help="The registry's log public key.")
@click.option("--key", "witness_key", type=click.Path(path_type=Path), required=True, metavar="PRIVATE_KEY", help="This witness's private key (keygen --witness).")
@click.option("--state", "state_dir", type=click.Path(path_type=Path), required=True, metavar="DIR", help="Where the witness remembers the last checkpoint it cosigned.")
@click.option("--out", type=click.Path(path_type=Path), help="Also write the cosigned checkpoint to this file.")
def witness_command(site: str, log_key: Path, witness_key: Path, state_dir: Path, out: Path | None) -> None:
    """Cosign the site's checkpoint (C2SP tlog-cosignature), only if it extends the last one this witness cosigned.

    \b
    Example:
      sovereign-publish witness https://sovereign-publish.github.io/registry/ \\
        --log-key keys/log.pub --key ~/.config/witness.key --state ~/.local/state/witness
    """
    from generator.errors import InputError
    from generator.fsio import atomic_write_text
    from generator.transparency import note
    from generator.transparency.witness import witness

    try:
        signer = note.load_witness_signer(Path(witness_key).expanduser().read_text(encoding="utf-8").strip())
    except OSError as exc:
        raise InputError(f"{witness_key}: cannot read the key: {exc.strerror}") from None
    except (note.NoteError, UnicodeDecodeError) as exc:
        raise InputError(f"{witness_key}: not a witness private key: {exc}") from None
    cosigned = witness(site, _load_key(log_key), signer, state_dir)
    if out is not None:
        atomic_write_text(out, cosigned)
    click.echo(cosigned, nl=False)


@cli.command("migrate-log")
@RECORDS_OPTION
def migrate_log_command(records_dir: Path) -> None:
    """Create the publication log (records/log.jsonl) of a registry made before it existed.

    Events are ordered by their own time, then record id and sequence. Run once; afterwards
    `import`, `run` and `correct` append to it.
    """
    from generator.records import log
    from generator.records.validate import validate_tree

    records, problems = validate_tree(records_dir)
    problems = [p for p in problems if not p.file.endswith(log.LOG_FILE) and "publication log" not in p.message]
    if problems:
        raise ValidationFailed(problems)
    entries = log.migrate(records_dir, records)
    click.echo(f"wrote {Path(records_dir) / log.LOG_FILE}: {len(entries)} event(s)")


@cli.command("run")
@click.argument("question")
@click.option("--paper", "paper_id", required=True, metavar="ARXIV_ID", help="The target paper, e.g. 2604.23996 or 2604.23996v1.")
@click.option("--config", "config_file", type=click.Path(path_type=Path), help="Pipeline config (YAML); default: sovereign.yml if present.")
@click.option("--set", "overrides", multiple=True, metavar="SECTION.KEY=VALUE", help="Override one config value (repeatable), e.g. --set search.backend=arxiv.")
@click.option("--offline", is_flag=True, help="Search the shipped arXiv corpus, whatever the config says.")
@RECORDS_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print a machine summary (record id, folder, counts, score, verdict, policy) to stdout.")
def run_command(question, paper_id, config_file, overrides, offline, records_dir, as_json) -> None:
    """Run the research pipeline on QUESTION about one paper and write its record (nothing on any error).

    A question already run about this paper gets a new version that names the latest earlier one,
    unless this run gives exactly a published version's files (then nothing is written).

    \b
    Example:
      sovereign-publish run "How does soft modality-guided routing affect expert specialization?" \\
        --paper 2604.23996 --offline
    """
    import json as _json

    from generator.pipeline.config import load_config
    from generator.pipeline.progress import ConsoleProgress
    from generator.pipeline.run import run_pipeline

    config = load_config(config_file, overrides, offline=offline)
    with ConsoleProgress() as progress:
        result = run_pipeline(question, paper_id, config, records_dir, progress)
    if as_json:
        click.echo(_json.dumps(result.summary(), indent=2, sort_keys=True, ensure_ascii=False))
    else:
        state = "written" if result.written else "already published, unchanged"
        click.echo(f"{result.record_id}  {result.folder}  ({state}): {result.review_line}")


def main() -> None:
    cli()
