"""Every internal link of the built site resolves: LinkChecker crawls it over HTTP from the home page.

Only internal links (http://127.0.0.1:<port>/...) are followed; arxiv.org and the public site URL
(used in the feed, sitemap and JSON-LD) are ignored. Anchors (#fragment) are not checked here:
MkDocs already refuses the build on a missing anchor (``validation.links.anchors`` + strict). The server
sends a ``LinkChecker`` header, without which LinkChecker caps itself at 10 requests per second.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from site_fixtures import built_site, serve_site  # noqa: F401 - fixture

CONFIG = """\
[checking]
maxrequestspersecond=100
threads=8
timeout=20

[filtering]
checkextern=0
ignore=
  ^https?://(?!127\\.0\\.0\\.1[:/])
  ^mailto:
"""


def _linkcheck(url: str) -> subprocess.CompletedProcess:
    # LinkChecker drops root privileges to "nobody", so its config lives in a world-readable folder.
    folder = tempfile.mkdtemp(prefix="linkcheck-")
    try:
        os.chmod(folder, 0o755)
        config = Path(folder) / "linkcheckerrc"
        config.write_text(CONFIG)
        config.chmod(0o644)
        return subprocess.run([sys.executable, "-m", "linkcheck", "--config", str(config), "--no-status", "-o", "text", url],
                              capture_output=True, text=True, timeout=600)
    finally:
        for path in Path(folder).iterdir():
            path.unlink()
        os.rmdir(folder)


def _checked(output: str) -> int:
    match = re.search(r"(\d+) links? in (\d+) URLs? checked", output)
    assert match, output[-2000:]
    return int(match.group(2))


def test_no_broken_internal_links(built_site):
    with serve_site(built_site.site) as url:
        result = _linkcheck(url)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
    assert "0 errors found" in result.stdout
    pages = len(list(built_site.site.rglob("index.html")))
    mirrored = len(list((built_site.site / "records").rglob("*.json")))
    assert _checked(result.stdout) >= pages + mirrored, "the crawl reached every page and every mirrored file"


def test_the_checker_does_report_a_broken_link(tmp_path):
    """A control: the same harness fails on a page with a missing target."""
    (tmp_path / "index.html").write_text('<html><body><a href="missing.html">gone</a></body></html>')
    with serve_site(tmp_path) as url:
        result = _linkcheck(url)
    assert result.returncode == 1
    assert "missing.html" in result.stdout
