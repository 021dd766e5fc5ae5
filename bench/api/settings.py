"""Settings for the API load benchmark's server: the real settings, plus a bare JSON view.

The bare view (`/bench/bare/`) is the baseline each API endpoint is compared with: a plain
Django view answering a constant JSON document, served by the same server processes through
the same middleware. It exists only under these settings (`bench.api.urls`), never in
production URLs.
"""

from symphony_site.settings import *  # noqa: F403

ROOT_URLCONF = "bench.api.urls"
# Measured as deployed: no per-query debug recording.
DEBUG = False
