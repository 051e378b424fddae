"""Bounded HTTP exchanges: the one place where the bytes of arXiv, NIM and chat answers arrive.

Every answer from an external service passes through ``exchange``, which fails closed:

* **Redirects** are followed only to the same origin (scheme, host and port) as the URL asked, at most
  ``max_redirects`` times; a redirect anywhere else (another host, ``file://``, http↔https) or one too
  many is ``Refused``, before anything is sent there.
* **Size**: the body is streamed and counted as it arrives (after decoding gzip/deflate, with bounded
  output per step, so a compression bomb cannot inflate past the cap either); one byte more than
  ``max_body_bytes`` and the connection is dropped with ``Refused``. A Content-Length over the cap is
  refused before the body is read.
* **Time**: an attempt may take ``timeout`` seconds in all (connect, headers and body: wall clock, not
  per read), and never runs past the caller's ``Deadline``. Clients made by ``bounded_client`` clamp
  every socket connect, read and write to the time left, so a server dribbling one byte at a time (in
  the headers or the body) is cut off at the deadline, not merely between reads.

What a usable answer *is* (an Atom feed, an embeddings list, a chat completion) stays with each client;
``json_body`` is the shared first check for the JSON services.
"""

from __future__ import annotations

import json
import logging
import threading
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

from generator.pipeline.retry import RETRY_STATUSES, Deadline, DeadlinePassed, Retryable, retry_after_seconds

logger = logging.getLogger(__name__)

MIB = 1024 * 1024
DEFAULT_MAX_REDIRECTS = 5
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_BODY_KEEPING_REDIRECTS = frozenset({307, 308})  # the only ones that may repeat a POST with its body
_WRITE_PIECE = 64 * 1024


class Refused(Exception):
    """An answer this client will not use (off-origin redirect, too large, wrong type); never retried."""

    def __init__(self, problem: str):
        super().__init__(problem)
        self.problem = problem


@dataclass(frozen=True)
class Answer:
    """A complete, size-checked HTTP answer (the body already decoded and in memory)."""

    status_code: int
    reason: str
    headers: httpx.Headers
    content: bytes
    url: str

    @property
    def media_type(self) -> str:
        return self.headers.get("Content-Type", "").split(";")[0].strip().lower()

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.content)


# ---------------------------------------------------------------------------------------------------
# Socket-level clamp: every connect, read and write waits at most until the current thread's deadline

_current = threading.local()


@contextmanager
def _bounded_by(deadline: Deadline) -> Iterator[None]:
    previous = getattr(_current, "deadline", None)
    _current.deadline = deadline
    try:
        yield
    finally:
        _current.deadline = previous


def _clamp(timeout: float | None, expired: type[Exception]) -> float | None:
    deadline: Deadline | None = getattr(_current, "deadline", None)
    if deadline is None:
        return timeout
    remaining = deadline.remaining()
    if remaining <= 0:
        raise expired(f"{deadline} passed")
    return remaining if timeout is None else min(timeout, remaining)


class _ClampedStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream):
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _clamp(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        for start in range(0, len(buffer), _WRITE_PIECE):  # a slow reader cannot stretch one write past the deadline
            self._inner.write(buffer[start : start + _WRITE_PIECE], _clamp(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None) -> httpcore.NetworkStream:
        return _ClampedStream(self._inner.start_tls(ssl_context, server_hostname, _clamp(timeout, httpcore.ConnectTimeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _ClampedBackend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend):
        self._inner = inner

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        stream = self._inner.connect_tcp(host, port, _clamp(timeout, httpcore.ConnectTimeout), local_address, socket_options)
        return _ClampedStream(stream)

    def connect_unix_socket(self, path, timeout=None, socket_options=None):
        return _ClampedStream(self._inner.connect_unix_socket(path, _clamp(timeout, httpcore.ConnectTimeout), socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def _clamp_transport(transport: Any) -> bool:
    """Wrap the network backend of an httpx HTTPTransport's connection pool (or proxy pool)."""
    pool = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if backend is None:
        return False
    if not isinstance(backend, _ClampedBackend):
        pool._network_backend = _ClampedBackend(backend)
    return True


def bounded_client(timeout: float) -> httpx.Client:
    """An httpx client that follows no redirects itself and whose sockets honour ``exchange``'s deadlines.

    httpx has no public hook for the network backend, so this reaches into the transport's pool; if a
    future httpx moves it, the clamp is skipped with a warning and deadlines are enforced between reads only.
    """
    client = httpx.Client(timeout=timeout, follow_redirects=False)
    transports = [getattr(client, "_transport", None), *getattr(client, "_mounts", {}).values()]
    for transport in transports:
        if transport is not None and not _clamp_transport(transport):
            logger.warning("cannot clamp socket waits of %r to deadlines; they are checked between reads only",
                           transport)
    return client


def clamped(client: httpx.Client) -> bool:
    """Whether ``client``'s default transport clamps socket waits to deadlines (for tests)."""
    pool = getattr(getattr(client, "_transport", None), "_pool", None)
    return isinstance(getattr(pool, "_network_backend", None), _ClampedBackend)


# ---------------------------------------------------------------------------------------------------
# One exchange


def origin(url: httpx.URL) -> tuple[str, str, int | None]:
    """(scheme, host, port) with the scheme's default port filled in."""
    default = {"http": 80, "https": 443}.get(url.scheme)
    return url.scheme, url.host.lower(), url.port or default


def describe_origin(url: httpx.URL) -> str:
    """scheme://host[:port] of a URL, never its user info, path or query."""
    port = f":{url.port}" if url.port else ""
    return f"{url.scheme}://{url.host}{port}" if url.host else f"{url.scheme}:"


def _redirect_target(response: httpx.Response, asked: httpx.URL, method: str) -> httpx.URL:
    location = response.headers.get("Location", "")
    try:
        target = response.url.join(location)
    except (httpx.InvalidURL, ValueError):
        raise Refused(f"answered HTTP {response.status_code} with a redirect to an unusable location") from None
    if origin(target) != origin(asked):
        raise Refused(f"answered HTTP {response.status_code} redirecting to {describe_origin(target)}, which is not "
                      f"{describe_origin(asked)}; redirects are followed only within the configured host")
    if method != "GET" and response.status_code not in _BODY_KEEPING_REDIRECTS:
        raise Refused(f"answered HTTP {response.status_code}, a redirect that would turn the {method} into a GET")
    return target


class _Decoder:
    """Content-Encoding decoding with bounded output per step (identity, gzip, deflate; anything else refused)."""

    def __init__(self, encoding: str):
        encoding = encoding.strip().lower()
        if encoding in ("", "identity"):
            self._z = None
        elif encoding in ("gzip", "x-gzip", "deflate"):
            self._z = zlib.decompressobj(zlib.MAX_WBITS | 32)  # gzip or zlib header, detected
        else:
            raise Refused(f"answered with Content-Encoding {encoding!r}, which this client does not accept")

    def feed(self, data: bytes, room: int) -> Iterator[bytes]:
        """The decoded bytes of ``data``, in pieces of at most ``room + 1`` (enough to notice the cap)."""
        if self._z is None:
            yield data
            return
        try:
            out = self._z.decompress(data, room + 1)
            yield out
            while self._z.unconsumed_tail:
                room -= len(out)
                if room < 0:
                    return
                out = self._z.decompress(self._z.unconsumed_tail, room + 1)
                yield out
        except zlib.error:
            raise Refused("answered with a corrupt compressed body") from None

    def flush(self) -> bytes:
        if self._z is None:
            return b""
        try:
            return self._z.flush()
        except zlib.error:
            raise Refused("answered with a corrupt compressed body") from None


def _read_body(response: httpx.Response, max_body_bytes: int, attempt: Deadline) -> bytes:
    declared = response.headers.get("Content-Length", "")
    if declared.strip().isdigit() and int(declared) > max_body_bytes:
        raise Refused(f"answered with a body of {int(declared)} bytes, more than the limit of {max_body_bytes} bytes")
    decoder = _Decoder(response.headers.get("Content-Encoding", ""))
    parts: list[bytes] = []
    size = 0

    def take(data: bytes) -> None:
        nonlocal size
        size += len(data)
        if size > max_body_bytes:
            raise Refused(f"answered with a body of more than the limit of {max_body_bytes} bytes; stopped reading")
        parts.append(data)

    for raw in response.iter_raw():
        for data in decoder.feed(raw, max_body_bytes - size):
            take(data)
        if attempt.expired:  # also when the socket clamp is not in place (a client from elsewhere)
            raise httpx.ReadTimeout("deadline passed while the body was arriving")
    take(decoder.flush())
    return b"".join(parts)


def exchange(client: httpx.Client, method: str, url: str, *, headers: dict[str, str] | None = None,
             json_body: Any = None, content: bytes | None = None, timeout: float, deadline: Deadline | None = None,
             max_body_bytes: int, max_redirects: int = DEFAULT_MAX_REDIRECTS) -> Answer:
    """One request and its complete answer, within every limit; follows same-origin redirects itself.

    The request body is ``json_body`` (as JSON) or ``content`` (bytes as they are, e.g. a file upload).

    Raises ``Retryable`` when the attempt ran out of ``timeout`` or the connection failed, ``DeadlinePassed``
    when ``deadline`` passed first, ``Refused`` for an answer not to be used. Any final status is returned:
    what a status means is the caller's business.
    """
    deadline = deadline or Deadline(None)
    attempt = Deadline(timeout, "timeout").sooner(deadline)
    asked = httpx.URL(url)
    target = asked
    headers = {**(headers or {}), "Accept-Encoding": "gzip, deflate"}
    try:
        with _bounded_by(attempt):
            for hop in range(max_redirects + 1):
                left = attempt.remaining()
                if left <= 0:
                    raise httpx.ConnectTimeout("deadline passed before the request was sent")
                with client.stream(method, target, headers=headers, json=json_body, content=content, timeout=left,
                                   follow_redirects=False) as response:
                    if response.status_code in _REDIRECT_STATUSES and "Location" in response.headers:
                        target = _redirect_target(response, asked, method)
                        continue
                    body = _read_body(response, max_body_bytes, attempt)
                    return Answer(response.status_code, response.reason_phrase, response.headers, body, str(target))
            raise Refused(f"answered with more than {max_redirects} redirects")
    except httpx.TimeoutException:
        if attempt is deadline:
            raise DeadlinePassed(deadline, f"no complete answer from {describe_origin(asked)}") from None
        raise Retryable(f"no answer within {timeout:g} s") from None
    except httpx.TransportError as exc:
        raise Retryable(f"connection failed ({type(exc).__name__})") from None


def post_once(client: httpx.Client, url: str, body: dict, headers: dict, timeout: float,
              raise_if_fatal: Callable[[Answer], None], *, deadline: Deadline | None = None,
              max_body_bytes: int, max_redirects: int = DEFAULT_MAX_REDIRECTS) -> Answer:
    """One JSON POST: a 2xx answer, or Retryable for timeouts, lost connections and 408/429/5xx.

    ``raise_if_fatal`` is called for any other status and must raise the client's own error.
    """
    answer = exchange(client, "POST", url, headers=headers, json_body=body, timeout=timeout, deadline=deadline,
                      max_body_bytes=max_body_bytes, max_redirects=max_redirects)
    if 200 <= answer.status_code < 300:
        return answer
    if answer.status_code not in RETRY_STATUSES:
        raise_if_fatal(answer)
    raise Retryable(f"HTTP {answer.status_code}", retry_after_seconds(answer.headers.get("Retry-After")))


def is_json_media_type(media_type: str) -> bool:
    return media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json"))


def json_body(answer: Answer) -> Any:
    """The answer's JSON value; ``Refused`` if it is not declared as JSON or does not parse."""
    if not is_json_media_type(answer.media_type):
        shown = answer.media_type or "no Content-Type"
        raise Refused(f"answered with {shown}, not JSON")
    try:
        return answer.json()
    except (ValueError, UnicodeDecodeError):
        raise Refused("answered with a body that is not valid JSON although it says it is") from None


__all__ = [
    "Answer",
    "DEFAULT_MAX_REDIRECTS",
    "Deadline",
    "DeadlinePassed",
    "MIB",
    "Refused",
    "bounded_client",
    "describe_origin",
    "exchange",
    "json_body",
    "post_once",
]
