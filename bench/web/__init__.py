"""bench/web: the pages and API reads of every role under load on a large archive (issue 14)."""
