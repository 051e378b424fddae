"""The command line: thin click commands, each calling one function of the core.

Errors the user can act on (``SovereignError``) become one clean message and a non-zero exit.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from generator.errors import SovereignError, ValidationFailed


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="sovereign-publish")
def cli() -> None:
    """Publish machine-generated literature syntheses with machine-checkable provenance."""


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except ValidationFailed as exc:
        for problem in exc.problems:
            click.echo(f"error: {problem}", err=True)
        click.echo(f"{len(exc.problems)} problem(s) found.", err=True)
        sys.exit(exc.exit_code)
    except SovereignError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
