"""Web UI benchmark: the workflows list page with 10,000 workflows in one team, beside OFFSET paging.

Run against a migrated benchmark database, never the development one:

    make bench            # every area, or: bash scripts/bench.sh web
    python -m bench.web   # inside a shell where DATABASE_URL points at a migrated benchmark database

The rows (team `bench-web-list`) are kept between runs and made again only when the requested size
changes. Each figure is the whole page as a signed-in editor's browser gets it (Django's test
client: middleware, the keyset query, the tag filter's list, the template): the first page, a page
deep in the list (reached by following "Next page" cursors), the list sorted by name, and a search.
The baseline is the same page's rows fetched with OFFSET at the same depth, in the same run.
"""

from __future__ import annotations

from bench.web.list_page import run

__all__ = ["run"]
