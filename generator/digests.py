"""Content digests: SHA-256 over raw bytes, or over RFC 8785 canonical JSON for structured values."""

from __future__ import annotations

import hashlib
from typing import Any

import rfc8785


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical_json(value: Any) -> bytes:
    """RFC 8785 (JCS) bytes: the same value always hashes the same, whatever the file layout."""
    return rfc8785.dumps(value)


def sha256_json(value: Any) -> str:
    return sha256_bytes(canonical_json(value))
