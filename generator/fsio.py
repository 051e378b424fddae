"""Files in and out: written so that a crash never leaves a half-written one behind, and read so that
no input can follow a link, block, exhaust memory or end in a traceback.

Every read of a file under ``records/`` or of a built site goes through this module:

* ``read_regular_file(path, limit)``: the bytes of a regular file, never through a symlink, never a
  device, FIFO, socket or folder, never more than ``limit`` bytes. The path is checked with ``lstat``
  (a device or FIFO is never even opened), then opened with ``O_NOFOLLOW | O_NONBLOCK`` (a symlink
  swapped in after the check fails with ELOOP; nothing can block) and ``fstat`` of the open
  descriptor must be that same regular file, so there is no check-then-open race. A refusal
  (``UnreadableFile``) names the path and what it is; never a link's target, nor the target's size
  or digest.
* ``parse_json(data)``: strict JSON (RFC 8259 as restricted by I-JSON, RFC 7493): UTF-8 only; no
  NaN or Infinity; no number that overflows a double (``1e400``); no integer beyond
  +-``MAX_JSON_INTEGER`` (what RFC 8785 can canonicalise: a 5000-digit integer is refused by its
  length, before Python converts it); no duplicate key; no lone surrogate (``"\\ud800"``); nesting at
  most ``MAX_JSON_DEPTH`` deep. Anything else raises ``StrictJSONError`` saying what was expected.
* ``read_json_object(path, problems)``: both, for a file that must hold one JSON object; whatever
  is wrong becomes a Problem naming the file, never an exception.

Size limits, by what is read (a larger file is refused, not buffered):

=========================  =====================  ==============================================
``MAX_DOCUMENT_BYTES``     4 MiB                  manifest.json, provenance.json, a correction,
                                                  and the site's per-record JSON and checkpoint
``MAX_ARTIFACT_BYTES``     64 MiB                 an artifact a manifest lists (report, ...)
``MAX_LOG_BYTES``          256 MiB                records/log.jsonl and the site's copy
``MAX_SITE_FILE_BYTES``    256 MiB                any other file of a built site (its manifest,
                                                  checkpoint history, pages)
=========================  =====================  ==============================================
"""

from __future__ import annotations

import errno
import shutil
import json
import os
import re
import stat
import tempfile
from pathlib import Path
from typing import Any

import orjson

from generator.errors import InputError, Problem

MiB = 1024 * 1024
MAX_DOCUMENT_BYTES = 4 * MiB
MAX_ARTIFACT_BYTES = 64 * MiB
MAX_LOG_BYTES = 256 * MiB
MAX_SITE_FILE_BYTES = 256 * MiB
MAX_JSON_DEPTH = 64
MAX_JSON_INTEGER = 2**53 - 1  # I-JSON's interoperable range, and RFC 8785's
_MAX_INTEGER_DIGITS = len(str(MAX_JSON_INTEGER))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temporary file in the same folder, then rename it over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o644)  # mkstemp makes 0600; a published file is world-readable like any other
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def dump_json(value: Any) -> str:
    """The one JSON layout of every file we publish: sorted keys, two-space indent, final newline.

    The layout is Python's ``json.dumps(indent=2, sort_keys=True, ensure_ascii=False)``, whose indent
    turns the C encoder off; orjson writes the same text several times faster, so it writes whatever
    ``orjson_text_is_pythons`` vouches for, and Python the rest (and every error)."""
    try:
        _C_CHECK(value)  # raises where json.dumps would (NaN, which orjson writes as null; an unknown type)
        data = orjson.dumps(value, option=ORJSON_LAYOUT)
    except (TypeError, ValueError, RecursionError, orjson.JSONEncodeError):
        data = None
    if data is not None and orjson_text_is_pythons(data):
        return data.decode("utf-8") + "\n"
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# orjson, told to refuse what Python's encoder would not take as is (str, int, float and dict
# subclasses, dates, dataclasses; keys that are not strings), writes what ``dump_json``'s Python
# encoder writes, but for three kinds of number: one with an exponent (orjson 1e-7, Python 1e-07),
# one of 16 digits or more (the strict reader stops at 2**53 - 1), and a decimal that is not
# Python's repr of its double (orjson 0.00001, Python 1e-05). In the indented layout a number stands
# after ": " or after an indent, so those are the places looked at; a string holding ": 1e-5" only
# costs the slower path.
ORJSON_LAYOUT = (orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_SUBCLASS
                    | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS)
_C_CHECK = json.JSONEncoder(ensure_ascii=False, allow_nan=False, sort_keys=True).encode
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_NOT_PYTHONS_NUMBERS = (b"0e-0", b"0e+0", b" " + b"0" * 16, b"-" + b"0" * 16)  # with every digit as 0


def orjson_text_is_pythons(data: bytes) -> bool:
    """Whether orjson's indented text ``data`` holds no number that ``dump_json``'s Python encoder
    would write otherwise (see above)."""
    shape = data.translate(_DIGITS_AS_ZERO)
    if any(pattern in shape for pattern in _NOT_PYTHONS_NUMBERS):
        return False
    try:
        return all(float.__repr__(float(number)).encode() == number for number in _value_decimals(data, shape))
    except ValueError:  # float() of "1.2.3" in a string
        return False


def _value_decimals(data: bytes, shape: bytes) -> list[bytes]:
    """Each decimal number (digits, a point, digits) that stands as a value in the indented text: after
    ": " or an indent, before "," or a line end. Found with ``bytes.find`` on ``shape`` (every digit a
    0) from one point between digits to the next: a regular expression over every byte took longer
    than the rest of reading the file. A token of digits and points around a point inside a string is
    taken only where it looks like a value too (``"a: 1.5,"``), and then costs the slow path at most."""
    numbers, end = [], 0
    while (point := shape.find(b"0.0", end)) != -1:
        start, end = point, point + 2
        while start > 0 and shape[start - 1] in b"0.":
            start -= 1
        while end < len(shape) and shape[end] in b"0.":
            end += 1
        if start > 0 and shape[start - 1] == 0x2D:  # "-"
            start -= 1
        if end < len(shape) and shape[end] in b",\n" and (data[start - 2:start] == b": " or _after_indent(data, start)):
            numbers.append(data[start:end])
    return numbers


def _after_indent(data: bytes, start: int) -> bool:
    """Whether ``data`` has only spaces, at least one, between the last line end and ``start``."""
    line = data.rfind(b"\n", 0, start)
    return line != -1 and start - line > 1 and data[line + 1:start] == b" " * (start - line - 1)


def atomic_write_json(path: Path, value: Any) -> None:
    atomic_write_text(path, dump_json(value))


# --- reading -------------------------------------------------------------------------------------


class UnreadableFile(InputError):
    """A file that is not read: not a regular file, too large, or the system refused. The message names
    the path and why; never a symlink's target or anything about it."""

    def __init__(self, path: Path | str, reason: str):
        self.path, self.reason = str(path), reason
        super().__init__(f"{path}: {reason}")

    def __reduce__(self):  # back from a worker process whole, path and reason
        return type(self), (self.path, self.reason)

    def problem(self) -> Problem:
        return Problem(self.path, "", self.reason)


class MissingFile(UnreadableFile):
    """Nothing at the path (not even a dangling symlink)."""


def file_kind(mode: int) -> str:
    """What a file of this ``st_mode`` is, in words."""
    for test, name in ((stat.S_ISLNK, "a symlink"), (stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file" if not stat.S_ISREG(mode) else "a regular file"


def _not_regular(path: Path | str, mode: int) -> UnreadableFile:
    return UnreadableFile(path, f"not a regular file ({file_kind(mode)}): records and sites hold only regular files, "
                                "and nothing is read through a link")


_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)


def read_regular_file(path: Path | str, limit: int) -> bytes:
    """The bytes of the regular file at ``path`` (at most ``limit``); ``MissingFile`` when nothing is
    there, ``UnreadableFile`` for a symlink, folder, device, FIFO or socket, a larger file, or an error."""
    try:
        before = os.lstat(path)
    except FileNotFoundError:
        raise MissingFile(path, "file is missing") from None
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
        raise UnreadableFile(path, f"cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    if not stat.S_ISREG(before.st_mode):
        raise _not_regular(path, before.st_mode)
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except FileNotFoundError:
        raise MissingFile(path, "file is missing") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # replaced by a symlink since the lstat
            raise UnreadableFile(path, "not a regular file (a symlink): records and sites hold only regular files, "
                                       "and nothing is read through a link") from None
        raise UnreadableFile(path, f"cannot read: {exc.strerror}") from None
    try:
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode):
            raise _not_regular(path, opened.st_mode)
        if (opened.st_dev, opened.st_ino) != (before.st_dev, before.st_ino):
            raise UnreadableFile(path, "the file was replaced while it was being read")
        if opened.st_size > limit:
            raise UnreadableFile(path, f"larger than {limit} bytes, the most this file may hold")
        chunks, size = [], 0
        while True:
            chunk = os.read(fd, min(1024 * 1024, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise UnreadableFile(path, f"larger than {limit} bytes, the most this file may hold")
        return b"".join(chunks)
    except OSError as exc:
        raise UnreadableFile(path, f"cannot read: {exc.strerror}") from None
    finally:
        os.close(fd)


class StrictJSONError(ValueError):
    """Input that strict JSON refuses; the message says what was expected."""


def _reject_constant(name: str):
    raise StrictJSONError(f"{name} is not a JSON number (expected a finite number)")


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > _MAX_INTEGER_DIGITS:
        raise StrictJSONError(f"an integer of {len(text.lstrip('-'))} digits (expected at most {MAX_JSON_INTEGER} in magnitude)")
    value = int(text)
    if abs(value) > MAX_JSON_INTEGER:
        raise StrictJSONError(f"integer {text} (expected at most {MAX_JSON_INTEGER} in magnitude)")
    return value


def _parse_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise StrictJSONError(f"number {text[:40]}{'...' if len(text) > 40 else ''} overflows a double (expected a finite number)")
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict:
    value = dict(pairs)
    if len(value) != len(pairs):
        seen: set[str] = set()
        duplicate = next(key for key, _ in pairs if key in seen or seen.add(key))
        raise StrictJSONError(f"duplicate key {_shown(duplicate)} (expected each key once per object)")
    return value


def _shown(text: str) -> str:
    return ascii(text[:60] + ("..." if len(text) > 60 else ""))


_DECODER = json.JSONDecoder(parse_float=_parse_float, parse_int=_parse_int, parse_constant=_reject_constant,
                            object_pairs_hook=_unique_keys)
_SURROGATE = re.compile("[\ud800-\udfff]")
# A string, or an unterminated one up to the end: it always matches at a quote, so it never backtracks.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*(?:"|\\?\Z)', re.DOTALL)
_OPENERS, _CLOSERS = frozenset("[{"), frozenset("]}")


def _too_deep(text: str) -> bool:
    """Would the JSON text nest deeper than MAX_JSON_DEPTH? Checked before parsing, so a parser's own
    recursion limit is never reached."""
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:
        return False
    depth = 0
    for char in _STRING.sub("", text):
        if char in _OPENERS:
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return True
        elif char in _CLOSERS:
            depth -= 1
    return False


def _check_value(value: Any) -> None:
    """No lone surrogate in any string or key, and no nesting deeper than MAX_JSON_DEPTH (iteratively)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                raise StrictJSONError(f"a lone UTF-16 surrogate in the string {_shown(item)} (expected Unicode text)")
        elif isinstance(item, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                raise StrictJSONError(f"nested deeper than {MAX_JSON_DEPTH} levels")
            if isinstance(item, dict):
                stack.extend((key, depth) for key in item)
                stack.extend((child, depth + 1) for child in item.values())
            else:
                stack.extend((child, depth + 1) for child in item)


def parse_json(data: bytes | str) -> Any:
    """One JSON value from UTF-8 bytes (or text), strictly; ``StrictJSONError`` says what is wrong."""
    if isinstance(data, (bytes, bytearray)):
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise StrictJSONError(f"not UTF-8 text (byte {exc.start}): expected UTF-8 JSON") from None
    else:
        text = data
    if _too_deep(text):
        raise StrictJSONError(f"nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        value = _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise StrictJSONError(f"{exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:  # not reached after _too_deep; kept so no input can end in a traceback
        raise StrictJSONError(f"nested deeper than {MAX_JSON_DEPTH} levels") from None
    _check_value(value)
    return value


def read_json_object(path: Path, problems: list[Problem], *, altered: str | None = None,
                     limit: int = MAX_DOCUMENT_BYTES) -> dict | None:
    """Parse a JSON object from the regular file ``path`` (strictly, at most ``limit`` bytes), or add a
    Problem saying why not and return None.

    With ``altered`` (what to tell the reader), the file must also be in the ``dump_json`` layout,
    checked on the same bytes.
    """
    try:
        data = read_regular_file(path, limit)
        value = parse_json(data)
    except UnreadableFile as exc:
        problems.append(exc.problem())
        return None
    except StrictJSONError as exc:
        problems.append(Problem(str(path), "", f"not valid JSON: {exc}"))
        return None
    if not isinstance(value, dict):
        problems.append(Problem(str(path), "", "expected a JSON object at the top level"))
        return None
    if altered is not None and data != dump_json(value).encode("utf-8"):
        problems.append(Problem(str(path), "", f"file is not in the canonical layout (sorted keys, 2-space indent, final newline): {altered}"))
    return value


def link_or_copy(source: Path | str, target: Path | str) -> None:
    """A hard link to ``source`` at ``target`` (a new name, never an existing file), or a copy where
    the two are on different file systems or the file system has no hard links.

    Nothing writes into a published file in place (records are appended by writing a temp file and
    renaming it, and the site is replaced as a whole), so a link is as good as a copy, and costs no data.
    """
    try:
        os.link(source, target, follow_symlinks=False)
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP):
            raise
        shutil.copyfile(source, target, follow_symlinks=False)


def same_bytes(path: Path | str, data: bytes) -> bool:
    """``path`` is a regular file (not a symlink) holding exactly ``data``."""
    try:
        status = os.lstat(path)
        if not stat.S_ISREG(status.st_mode) or status.st_size != len(data):
            return False
        return Path(path).read_bytes() == data
    except OSError:
        return False


def place_link(source: Path | str, target: Path | str) -> None:
    """``target`` as a link to (or copy of) ``source`` (``link_or_copy``), unless it is that file, or a
    copy with its bytes, already: a build that reuses an earlier site replaces only what differs."""
    try:
        if (not os.path.islink(target) and os.path.samefile(source, target)) or same_bytes(target, Path(source).read_bytes()):
            return
        os.unlink(target)
    except FileNotFoundError:
        pass
    link_or_copy(source, target)


class Trash:
    """Folders moved out of the way at once and deleted by a child process while the caller goes on.

    Deleting an old build (some 120,000 files at 10,000 records) is kernel work that a single-threaded
    MkDocs run leaves the second core free for. ``discard`` renames the folder to a hidden sibling
    (instant, and the name is free again), ``wait`` (or leaving the ``with`` block) joins the children,
    so nothing outlives the command. Without ``fork`` the folder is deleted on the spot.
    """

    def __init__(self) -> None:
        self._children: list = []
        self._count = 0

    def discard(self, path: Path | str) -> None:
        import multiprocessing

        path = Path(path)
        if not os.path.lexists(path):
            return
        self._count += 1
        hidden = path.with_name(f".{path.name}.trash-{os.getpid()}-{self._count}")
        os.replace(path, hidden)
        if "fork" not in multiprocessing.get_all_start_methods():
            shutil.rmtree(hidden, ignore_errors=True)
            return
        child = multiprocessing.get_context("fork").Process(target=shutil.rmtree, args=(hidden,), kwargs={"ignore_errors": True},
                                                            daemon=True)
        child.start()
        self._children.append((child, hidden))

    def wait(self) -> None:
        for child, hidden in self._children:
            child.join()
            shutil.rmtree(hidden, ignore_errors=True)  # whatever a child could not finish
        self._children.clear()

    def __enter__(self) -> Trash:
        return self

    def __exit__(self, *exc) -> None:
        self.wait()
