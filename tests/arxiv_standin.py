"""A stand-in for the arXiv query API on 127.0.0.1: serves a Corpus as Atom feeds, with injectable faults.

Relevance is the offline CorpusSearch (BM25), so different queries give different, sensible answers.
Every request is recorded (arrival time, query parameters, what was answered) for tests to assert on.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape, quoteattr

from generator.corpus import Corpus, Paper
from generator.pipeline.search import CorpusSearch


def render_entry(paper: Paper) -> str:
    """One Atom ``<entry>`` as the arXiv API writes it (the fields arxiv's parser reads)."""
    versioned = paper.versioned_id if paper.version else paper.arxiv_id + "v1"
    stamp = f"{paper.published or '2000-01-01'}T00:00:00Z"
    authors = "".join(f"<author><name>{escape(name)}</name></author>" for name in paper.authors)
    categories = paper.categories or ("cs.LG",)
    category_tags = "".join(
        f'<category term={quoteattr(c)} scheme="http://arxiv.org/schemas/atom"/>' for c in categories
    )
    return (
        "<entry>"
        f"<id>http://arxiv.org/abs/{versioned}</id>"
        f"<updated>{stamp}</updated><published>{stamp}</published>"
        f"<title>{escape(paper.title)}</title>"
        f"<summary>{escape(paper.abstract)}</summary>"
        f"{authors}"
        f'<link href="http://arxiv.org/abs/{versioned}" rel="alternate" type="text/html"/>'
        f'<link title="pdf" href="http://arxiv.org/pdf/{versioned}" rel="related" type="application/pdf"/>'
        f'<arxiv:primary_category term={quoteattr(categories[0])} scheme="http://arxiv.org/schemas/atom"/>'
        f"{category_tags}"
        "</entry>"
    )


def render_feed(papers: list[Paper], *, total: int, start: int = 0, query: str = "") -> bytes:
    """A whole arXiv API response page: opensearch header plus entries."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/"'
        ' xmlns:arxiv="http://arxiv.org/schemas/atom">'
        f'<link href="http://arxiv.org/api/query" rel="self" type="application/atom+xml"/>'
        f"<title type=\"html\">ArXiv Query: {escape(query)}</title>"
        "<id>http://arxiv.org/api/standin</id><updated>2026-01-01T00:00:00Z</updated>"
        f"<opensearch:totalResults>{total}</opensearch:totalResults>"
        f"<opensearch:startIndex>{start}</opensearch:startIndex>"
        f"<opensearch:itemsPerPage>{len(papers)}</opensearch:itemsPerPage>"
        + "".join(render_entry(p) for p in papers)
        + "</feed>"
    ).encode("utf-8")


@dataclass(frozen=True)
class Fault:
    """What to do instead of (or before) a normal answer.

    ``status``: answer this HTTP status (with ``retry_after`` as the Retry-After header if given);
    ``delay``: wait this long before answering; ``empty``: answer an empty feed (totalResults 0).
    """

    status: int | None = None
    retry_after: str | None = None
    delay: float = 0.0
    empty: bool = False


@dataclass(frozen=True)
class Seen:
    at: float  # time.monotonic() on arrival
    search_query: str
    start: int
    max_results: int
    answered: str  # "feed", "empty", "HTTP 503", "slow feed"


@dataclass
class StandIn:
    """The server's state: the corpus, queued faults (one per request), a standing fault, the log."""

    corpus: Corpus
    url: str = ""
    faults: deque = field(default_factory=deque)
    always: Fault | None = None
    seen: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def plan(self, *faults: Fault) -> None:
        """The next requests get these faults, in order; later ones are answered normally."""
        self.faults.extend(faults)

    def next_fault(self) -> Fault | None:
        with self.lock:
            if self.faults:
                return self.faults.popleft()
            return self.always

    def record(self, seen: Seen) -> None:
        with self.lock:
            self.seen.append(seen)

    @property
    def count(self) -> int:
        return len(self.seen)


def _handler(state: StandIn, search: CorpusSearch):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep test output quiet
            pass

        def do_GET(self):
            arrived = time.monotonic()
            params = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query, keep_blank_values=True).items()}
            query = params.get("search_query", "")
            start = int(params.get("start", "0"))
            page = int(params.get("max_results", "10"))
            fault = state.next_fault() or Fault()
            answered = "feed"
            if fault.delay:
                time.sleep(fault.delay)
                answered = "slow feed"
            if fault.status:
                state.record(Seen(arrived, query, start, page, f"HTTP {fault.status}"))
                self.send_response(fault.status)
                if fault.retry_after is not None:
                    self.send_header("Retry-After", fault.retry_after)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if fault.empty:
                body, answered = render_feed([], total=0, query=query), "empty"
            else:
                ranked = search.search(query, len(state.corpus.papers))
                body = render_feed(ranked[start : start + page], total=len(ranked), start=start, query=query)
            state.record(Seen(arrived, query, start, page, answered))
            try:
                self.send_response(200)
                self.send_header("Content-Type", "application/atom+xml; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting (timeout tests)
                pass

    return Handler


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):  # a client timing out is expected here
        pass


def serve(corpus: Corpus):
    """Start the stand-in on a random 127.0.0.1 port; returns (state, stop)."""
    state = StandIn(corpus)
    server = _QuietServer(("127.0.0.1", 0), _handler(state, CorpusSearch(corpus)))
    state.url = f"http://127.0.0.1:{server.server_address[1]}/api/query"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return state, stop
