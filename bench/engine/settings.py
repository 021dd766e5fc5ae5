"""Settings for the engine benchmark's workers and starters: the real settings, measured as
deployed. `make bench` provisions with DEBUG=1 (development defaults for the local services),
and under DEBUG Django records every query on every connection (CursorDebugWrapper), which a
production worker does not pay."""

from symphony_site.settings import *  # noqa: F403

DEBUG = False
