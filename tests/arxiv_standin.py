"""A stand-in for the arXiv query API on 127.0.0.1: serves a Corpus as Atom feeds, with injectable faults.

Relevance is the offline CorpusSearch (BM25), so different queries give different, sensible answers.
Every request is recorded (arrival time, query parameters, what was answered) for tests to assert on.

Hostile faults (any body with any Content-Type, redirects, an endless body, a body or headers dribbled
one byte at a time) also answer POST, so the same server stands in for a NIM or chat endpoint. Every
endless or dribbled answer stops on its own (when the client goes away, at ``HARD_LIMIT_BYTES`` or
``HARD_LIMIT_SECONDS``, or when the server stops) and notes why in ``StandIn.streams``.
"""

from __future__ import annotations

import itertools
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
    body: bytes | None = None  # answer 200 with exactly this body ...
    content_type: str = "application/atom+xml; charset=utf-8"  # ... served as this
    redirect: str | None = None  # answer a redirect to this Location ("{origin}": http://127.0.0.1:PORT, "{path}": as asked)
    redirect_status: int = 302
    endless: bool = False  # answer 200 with a body that never ends
    dribble: float = 0.0  # answer 200 with one body byte every this many seconds, without end
    dribble_headers: float = 0.0  # send the status line and headers one byte every this many seconds, without end


HARD_LIMIT_BYTES = 256 * 1024 * 1024
HARD_LIMIT_SECONDS = 30.0


@dataclass(frozen=True)
class Stream:
    """How an endless or dribbled answer ended: bytes sent, seconds taken, and why it stopped."""

    kind: str
    sent: int
    seconds: float
    ended: str  # "client went away", "hard limit", "server stopped"


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
    streams: list[Stream] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)
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

    @property
    def origin(self) -> str:
        return self.url.split("/api/", 1)[0]

    def wait_for_streams(self, n: int = 1, timeout: float = 10.0) -> list[Stream]:
        """The first ``n`` ended streams, waiting at most ``timeout`` seconds for them to end."""
        deadline = time.monotonic() + timeout
        while len(self.streams) < n and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.streams)


def _handler(state: StandIn, search: CorpusSearch):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep test output quiet
            pass

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            fault = state.next_fault() or Fault(status=404)
            self.answer(fault, time.monotonic(), "", 0, 0, feed=None)

        def do_GET(self):
            arrived = time.monotonic()
            params = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query, keep_blank_values=True).items()}
            query = params.get("search_query", "")
            start = int(params.get("start", "0"))
            page = int(params.get("max_results", "10"))
            fault = state.next_fault() or Fault()
            self.answer(fault, arrived, query, start, page, feed=lambda: self.feed(fault, query, start, page))

        def feed(self, fault: Fault, query: str, start: int, page: int) -> tuple[bytes, str]:
            if fault.empty:
                return render_feed([], total=0, query=query), "empty"
            ranked = search.search(query, len(state.corpus.papers))
            return render_feed(ranked[start : start + page], total=len(ranked), start=start, query=query), "feed"

        def answer(self, fault: Fault, arrived: float, query: str, start: int, page: int, feed) -> None:
            def seen(answered: str) -> None:
                state.record(Seen(arrived, query, start, page, answered))

            if fault.delay:
                time.sleep(fault.delay)
            if fault.status:
                seen(f"HTTP {fault.status}")
                self.send_response(fault.status)
                if fault.retry_after is not None:
                    self.send_header("Retry-After", fault.retry_after)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if fault.redirect is not None:
                seen("redirect")
                self.send_response(fault.redirect_status)
                self.send_header("Location", fault.redirect.replace("{origin}", state.origin).replace("{path}", self.path))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if fault.dribble_headers:
                seen("dribbled headers")
                head = b"HTTP/1.1 200 OK\r\nX-Pad: "
                pieces = itertools.chain((head[i : i + 1] for i in range(len(head))), itertools.repeat(b"a"))
                self.stream("dribbled headers", pieces, fault.dribble_headers)
                return
            if fault.endless or fault.dribble:
                kind = "endless" if fault.endless else "dribbled body"
                seen(kind)
                self.send_response(200)
                self.send_header("Content-Type", fault.content_type)
                self.send_header("Connection", "close")
                self.end_headers()
                piece = b"<" * 65536 if fault.endless else b"<"
                self.stream(kind, itertools.repeat(piece), fault.dribble)
                return
            if fault.body is not None:
                body, content_type = fault.body, fault.content_type
                seen("body")
            else:
                body, answered = feed()
                content_type = "application/atom+xml; charset=utf-8"
                seen("slow feed" if fault.delay else answered)
            try:
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting (timeout tests)
                pass

        def stream(self, kind: str, pieces, interval: float) -> None:
            self.close_connection = True
            began, sent, ended = time.monotonic(), 0, "hard limit"
            try:
                for piece in pieces:
                    if state.stopping.is_set():
                        ended = "server stopped"
                        break
                    if sent >= HARD_LIMIT_BYTES or time.monotonic() - began > HARD_LIMIT_SECONDS:
                        break
                    self.wfile.write(piece)
                    self.wfile.flush()
                    sent += len(piece)
                    if interval:
                        time.sleep(interval)
            except OSError:  # BrokenPipeError, ConnectionResetError: the client stopped reading
                ended = "client went away"
            with state.lock:
                state.streams.append(Stream(kind, sent, time.monotonic() - began, ended))

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
        state.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return state, stop
