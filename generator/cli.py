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
@click.option("--base", "base_ref", metavar="REF", help="Also fail if a file under records/ that exists at this git ref was changed or deleted.")
def validate_command(path: Path, base_ref: str | None) -> None:
    """Check every record against its schema, digests, rules and correction chain.

    \b
    Example:
      sovereign-publish validate records/
      sovereign-publish validate --base origin/main
    """
    from generator.records.history import check_append_only
    from generator.records.validate import validate_tree

    records, problems = validate_tree(path)
    if base_ref:
        problems += check_append_only(Path.cwd(), base_ref, records_dir=str(path))
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


@cli.command("eval-verifier")
@click.argument("data_dir", type=click.Path(path_type=Path))
@click.option("--split", default="train", show_default=True, help="Reads claims_<split>.jsonl from DATA_DIR.")
@click.option("--verifier", "verifiers", multiple=True, metavar="NAME", help="Verifier to measure (repeatable; default: all registered).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON instead of a table.")
@click.option("--out", type=click.Path(path_type=Path), help="Also write the JSON result to this file (atomically).")
def eval_verifier_command(data_dir: Path, split: str, verifiers: tuple[str, ...], as_json: bool, out: Path | None) -> None:
    """Measure claim verifiers and BM25 retrieval on SciFact-format data.

    \b
    Example:
      sovereign-publish eval-verifier data/scifact --verifier tfidf-cosine \\
        --verifier claim-coverage --out generator/data/verifier_eval.json
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
def build_command(records_dir: Path, out_dir: Path, work_dir: Path) -> None:
    """Validate the records and build the static site (MkDocs Material) with its JSON mirror, feed and checkpoint.

    \b
    Example:
      sovereign-publish build
      sovereign-publish build --records records/ --out site/
    """
    from generator.website.build import build_site

    result = build_site(records_dir, out_dir, work_dir=work_dir)
    timings = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in result.timings.items())
    click.echo(f"built {result.out_dir}: {result.records} record(s), {result.corrections} correction(s); "
               f"checkpoint tree_size {result.tree_size} root {result.root} ({timings})")


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
    from generator.website.build import serve

    serve(records_dir, work_dir=work_dir, dev_addr=dev_addr)


@cli.command("verify")
@click.argument("site_dir", type=click.Path(path_type=Path), default=Path("site"))
def verify_command(site_dir: Path) -> None:
    """Recompute the checkpoint of a built site from its mirrored JSON; check the root and every inclusion proof.

    \b
    Example:
      sovereign-publish verify site/
    """
    from generator.errors import InputError
    from generator.transparency.checkpoint import verify_site

    if not Path(site_dir).is_dir():
        raise InputError(f"{site_dir}: no such site folder")
    checked, problems = verify_site(site_dir)
    if problems:
        raise ValidationFailed(problems)
    click.echo(f"{checked} checkpoint entries verified against {Path(site_dir) / 'checkpoint.json'}.")


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
