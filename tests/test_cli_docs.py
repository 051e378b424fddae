"""The README's command table is checked against the click commands, so the two cannot drift; and
`serve` says where it serves, or why it cannot."""

from __future__ import annotations

import re
import socket

import click
from click.testing import CliRunner

from conftest import REPO
from generator.cli import cli


def _table_rows() -> dict[str, str]:
    rows = {}
    for line in (REPO / "README.md").read_text(encoding="utf-8").splitlines():
        if match := re.match(r"\| `sovereign-publish ([a-z-]+)([^`]*)`", line):
            rows[match.group(1)] = match.group(2)
    return rows


def test_the_readme_lists_every_command_and_no_other():
    assert sorted(_table_rows()) == sorted(cli.commands)


def test_each_readme_row_names_every_option_of_its_command():
    rows = _table_rows()
    for name, command in cli.commands.items():
        options = [opt for param in command.params if isinstance(param, click.Option)
                   for opt in param.opts if opt.startswith("--")]
        missing = [opt for opt in options if opt not in rows[name]]
        assert not missing, f"README row of `{name}` does not name {missing}"


def test_serve_on_a_busy_port_is_a_clean_error():
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        result = CliRunner().invoke(cli, ["serve", "--dev-addr", f"127.0.0.1:{port}"])
    assert result.exit_code == 1
    assert f"error: cannot serve on 127.0.0.1:{port}: Address already in use" in result.output
    assert "Traceback" not in result.output


def test_serve_rejects_a_malformed_address():
    result = CliRunner().invoke(cli, ["serve", "--dev-addr", "localhost"])
    assert result.exit_code == 2 and "expected HOST:PORT" in result.output


def test_serve_names_the_url_under_the_sites_base_path():
    from generator.website.build import serve_url

    assert serve_url("127.0.0.1:8000") == "http://127.0.0.1:8000/registry/"
