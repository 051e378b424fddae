"""The public website: record pages, index, quality guide, JSON mirror, feed and checkpoint, built with MkDocs Material."""
