"""The one place that reads the time, so that builds are reproducible under SOURCE_DATE_EPOCH."""

from __future__ import annotations

import os
from datetime import datetime, timezone


def now() -> datetime:
    """UTC now, or the instant SOURCE_DATE_EPOCH names when it is set (reproducible builds)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return datetime.fromtimestamp(int(epoch), tz=timezone.utc)
    return datetime.now(tz=timezone.utc).replace(microsecond=0)


def isoformat(moment: datetime) -> str:
    """RFC 3339 with a Z suffix, second precision: the only timestamp format in our records."""
    return moment.astimezone(timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_iso() -> str:
    return isoformat(now())
