"""Hypothesis profiles for the graph core: a fast default and a thorough one.

``HYPOTHESIS_PROFILE=thorough`` (``make test-thorough``) runs 1,000+ examples
per property; the default keeps tests/graph well under a minute on 2 cores.
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "graph-default",
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "thorough",
    max_examples=1_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(
    "thorough" if os.environ.get("HYPOTHESIS_PROFILE") == "thorough" else "graph-default"
)
