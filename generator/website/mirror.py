"""The machine-readable side of the site: folded views, the records index JSON and the corrections feed."""

from __future__ import annotations

from datetime import datetime

from feedgen.feed import FeedGenerator

from generator.records import rules
from generator.escape import feed_text
from generator.records.layout import FEED_FILE, entry_file
from generator.website.pages import SITE_URL, RecordView, index_row

INDEX_FORMAT = "sovereign-publish-records-index-v1"
FOLDED_FORMAT = "sovereign-publish-folded-record-v1"


def folded_view(view: RecordView) -> dict:
    """The record as readers should see it now: status, correction count and every value with corrections applied."""
    folded = view.folded
    corrected = sorted({change["field"] for entry in view.corrections for change in entry.get("changes", [])})
    return {
        "format": FOLDED_FORMAT,
        "record_id": view.record_id,
        "status": folded.status,
        "status_changed_at": folded.status_changed_at,
        "status_reason": folded.status_reason,
        "correction_count": folded.correction_count,
        "corrected_fields": corrected,
        "newer_version": view.newer_version,  # derived at build time; the record's own link is in its values
        "values": folded.values,
    }


def records_index(views: list[RecordView]) -> dict:
    return {"format": INDEX_FORMAT, "count": len(views), "records": [index_row(v) for v in views]}


def _instant(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def corrections_feed(views: list[RecordView], fallback_updated: str) -> bytes:
    """Atom feed of every correction, newest first.

    Deterministic: the feed's <updated> is the newest correction's date (``fallback_updated``, a date
    taken from the records or SOURCE_DATE_EPOCH, when there is none), every entry's dates are the
    correction's own, and ties are ordered by record id and sequence. Text fields are Atom type
    "text", escaped by lxml; characters XML cannot carry are replaced, and bidi controls are removed
    (plain text cannot isolate them, and an override in a title would make "evil" read "live").
    """
    items = sorted(((entry, view) for view in views for entry in view.corrections),
                   key=lambda item: (item[0]["at"], item[1].record_id, item[0]["sequence"]), reverse=True)
    feed = FeedGenerator()
    feed.id(f"{SITE_URL}{FEED_FILE}")
    feed.title("Corrections to Sovereign Publish records")
    feed.subtitle("Every correction, expression of concern, retraction and note appended to a published record.")
    feed.author({"name": rules.PUBLISHER})
    feed.link(href=f"{SITE_URL}{FEED_FILE}", rel="self")
    feed.link(href=SITE_URL, rel="alternate")
    feed.language("en")
    feed.generator("sovereign-publish")
    feed.updated(_instant(items[0][0]["at"] if items else fallback_updated))
    for entry, view in items:
        item = feed.add_entry(order="append")
        item.id(f"{view.url}{entry_file(entry['sequence'])}")
        item.title(feed_text(f"{view.record_id} {entry['type']}: {view.values.get('short_title')}"))
        item.link(href=view.url, rel="alternate")
        item.author({"name": feed_text(entry["by"])})
        item.published(_instant(entry["at"]))
        item.updated(_instant(entry["at"]))
        item.summary(feed_text(f"Status {entry['status_before']} -> {entry['status_after']}. Record: {view.values.get('title')}"), type="text")
        item.content(feed_text(entry["reason"]), type="text")
        item.category(term=entry["type"])
    return feed.atom_str(pretty=True)
